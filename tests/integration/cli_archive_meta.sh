#!/usr/bin/env bash
# Named streams and security descriptors through archives. A local tree
# keeps each stream as the xattr user.DosStream.NAME:$DATA (its bytes and a
# NUL, as Samba's vfs_streams_xattr) and the descriptor as user.smbcopy.ntsd;
# an archive carries them as SCHILY.xattr pax records of the same names.
# "Identical" below means every user.* xattr of every file, names and values
# byte for byte (compared by SHA-256).
#   a.  smbcopy --acls TREE x.tar.zst: the pax records, read here byte by
#       byte, are the tree's xattrs (names as libarchive writes them: bytes
#       outside '!'..'~', '%' and '=' as %XX), SCHILY.xattr only; GNU tar
#       --xattrs lists them; a file whose streams would pass the 1 MiB pax
#       header (20 x 60 KB) keeps those that fit and one whose stream name is
#       too long for newer readers keeps its other stream, each reported in -v
#       and counted (streams_not_kept 2); the JSON counts the rest.
#   b.  smbcopy --acls x.tar.zst DIR: identical to the tree (but for what a
#       said was not kept); without --acls no descriptor (sds_copied 0); with
#       --no-streams no stream (streams_copied 0); archived with --no-streams
#       or without --acls, the archive holds none of them.
#   c.  GNU tar --xattrs -x of the archive: what smbcopy restores, names as
#       GNU tar reads them (it decodes only %3D and %25).
#   d.  An archive GNU tar made of the tree (tar --xattrs --format=posix),
#       restored by smbcopy --acls: identical to the tree.
#   f.  Directories: a tree whose directories have streams and descriptors
#       (no file has any), archived with --acls: each directory entry's pax
#       records are its xattrs, counted as a file's; restored: the
#       directories' xattrs identical, their times kept; archived with
#       --no-streams: the descriptors only; restored with --no-streams: the
#       same.
#   e.  From the fixture's share "fidelity" (streams_xattr, acl_xattr), files
#       with streams made by smbclient: archived with --acls and restored
#       locally, identical to a direct copy of the share (smbcopy --acls);
#       archived without --acls, the same streams and no descriptor; restored
#       into the share, smbclient allinfo lists the same streams with the
#       same sizes, and get reads the same bytes, for every file and for
#       the directory sub (a stream dz, carried in its entry's records), and
#       a copy of it back is identical again; restored into "data" (no
#       streams module), exit 0, data in place, each file or directory with
#       streams reported not kept.
# Needs a local file system with user xattrs of 64 KB (tmpfs from Linux 6.6,
# xfs, btrfs; ext4 keeps a file's xattrs in one block): $TMPDIR or /dev/shm.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

need_tools tar zstd smbclient python3 sha256sum

cli_test_dirs cli_archive_meta
export XDG_STATE_HOME=$work/state

# The local trees on a file system that holds large user xattrs.
big_xattrs() {
    local probe
    probe=$(mktemp "$1/smbcopy-xattr-probe.XXXXXX" 2>/dev/null) || return 1
    python3 -c 'import os, sys; [os.setxattr(sys.argv[1], b"user.p%d" % i, b"x" * 60000) for i in range(2)]' \
        "$probe" 2>/dev/null
    local ok=$?
    rm -f "$probe"
    return $ok
}
if big_xattrs "$work"; then
    loc=$work/local
elif [ -d /dev/shm ] && big_xattrs /dev/shm; then
    loc=$(mktemp -d /dev/shm/smbcopy-cli_archive_meta.XXXXXX)
    cleanup_dirs+=("$loc")
else
    skip "no local file system here keeps user xattrs of 60 KB (neither ${TMPDIR:-/tmp} nor /dev/shm)"
fi
mkdir -p "$loc"

py=$work/meta.py
cat >"$py" <<'EOF'
import hashlib, os, sys

# A valid self-relative descriptor with owner, group, DACL and SACL (MS-DTYP 2.4.6).
SD = bytes.fromhex(
    "010014b090000000a000000014000000300000000200"
    "1c000100000002801400000000800101000000000001000000000200600004000000"
    "00031800000000a00102000000000005200000002102000000031800000000100102"
    "000000000005200000002002000000031400000000100101000000000005120000000003"
    "14000000001001010000000000030000000001020000000000052000000020020000"
    "01020000000000052000000020020000")

def stream(path, name, value):
    os.setxattr(path, b"user.DosStream." + name + b":$DATA", value + b"\0")

def make(root):
    def f(rel, data):
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as o:
            o.write(data)
        return p
    p = f("a.txt", b"hello\n")
    stream(p, b"Zone.Identifier", b"[ZoneTransfer]\r\nZoneId=3\r\n")
    stream(p, b"empty", b"")
    stream(p, "caf\u00e9 x=%".encode(), bytes(range(256)))
    stream(p, b"\x05SummaryInformation", b"\xfe\xff" + bytes(14))
    os.setxattr(p, b"user.smbcopy.ntsd", SD)
    p = f("big.bin", hashlib.sha256(b"big").digest() * 98305)  # 3 MiB + 32: past the one-step size
    stream(p, b"s1", hashlib.sha256(b"s1").digest() * 1000)
    os.setxattr(p, b"user.smbcopy.ntsd", SD)
    p = f("sub/n.txt", b"n")
    stream(p, b"s", b"\x00\x01\x02")
    f("plain.txt", b"plain\n")
    p = f("sparse.img", b"")
    with open(p, "r+b") as o:  # 64 MiB, 4 KiB of data at 8 MiB: a sparse entry
        o.seek(8 << 20)
        o.write(b"D" * 4096)
        o.truncate(64 << 20)
    stream(p, b"meta", b"m" * 100)
    p = f("huge.bin", b"huge\n")  # 20 x 60 KB: past one pax header
    for i in range(20):
        stream(p, b"h%02d" % i, hashlib.sha256(b"h%d" % i).digest() * 1875)
    p = f("long.txt", b"long\n")  # a name of 131 bytes as an xattr: past what newer libarchive reads
    stream(p, b"L" * 110, b"l")
    stream(p, b"ok", b"k")

def makedirs(root):
    # Streams and descriptors on directories only; the file has none.
    os.makedirs(os.path.join(root, "d", "e"))
    os.makedirs(os.path.join(root, "d", "g"))
    with open(os.path.join(root, "d", "f.txt"), "wb") as o:
        o.write(b"f\n")
    d = os.path.join(root, "d")
    stream(d, b"dz", b"directory stream\n")
    stream(d, "caf\u00e9 x".encode(), bytes(range(256)))
    os.setxattr(d, b"user.smbcopy.ntsd", SD)
    stream(os.path.join(d, "e"), b"e1", b"")
    os.setxattr(os.path.join(d, "g"), b"user.smbcopy.ntsd", SD)
    for p in (os.path.join(d, "e"), os.path.join(d, "g"), d):  # times the restore must keep
        os.utime(p, ns=(1500000000123456700, 1500000000123456700))

def dirs(root, how="plain"):
    # Every directory's streams and descriptor (the root's excepted), as in dump; names as the archive holds them with "libarchive".
    conv = libarchive_name if how == "libarchive" else (lambda b: b)
    out = []
    for d, subdirs, files in os.walk(root):
        for dn in subdirs:
            p = os.path.join(d, dn)
            rel = os.path.relpath(p, root)
            for n in os.listxattr(p):
                b = os.fsencode(n)
                if b.startswith(b"user.DosStream.") or b == b"user.smbcopy.ntsd":
                    out.append(line(rel, conv(b), os.getxattr(p, n)))
            out.append("%s\tmtime %d" % (rel, os.stat(p).st_mtime_ns)) if how == "plain" else None
    print("\n".join(sorted(out)))

def show(name):
    return repr(name)[2:-1]

def line(rel, name, value):
    return "%s\t%s\t%d\t%s" % (rel, show(name), len(value), hashlib.sha256(value).hexdigest())

def dump(root):
    out = []
    for d, dirs, files in os.walk(root):
        for fn in files:
            p = os.path.join(d, fn)
            rel = os.path.relpath(p, root)
            for n in os.listxattr(p):
                b = os.fsencode(n)
                if b.startswith(b"user.DosStream.") or b == b"user.smbcopy.ntsd":
                    out.append(line(rel, b, os.getxattr(p, n)))
    print("\n".join(sorted(out)))

def libarchive_name(b):
    return "".join(chr(c) if 33 <= c <= 126 and c not in b"%=" else "%%%02X" % c for c in b).encode()

def gnu_name(b):
    return libarchive_name(b).replace(b"%3D", b"=").replace(b"%25", b"%")

def renamed(root, how):
    # dump(root) with each xattr name as an archive holds it (libarchive) or GNU tar extracts it (gnu).
    conv = libarchive_name if how == "libarchive" else gnu_name
    out = []
    for d, dirs, files in os.walk(root):
        for fn in files:
            p = os.path.join(d, fn)
            rel = os.path.relpath(p, root)
            for n in os.listxattr(p):
                b = os.fsencode(n)
                if b.startswith(b"user.DosStream.") or b == b"user.smbcopy.ntsd":
                    out.append(line(rel, conv(b), os.getxattr(p, n)))
    print("\n".join(sorted(out)))

def pax(path):
    # Every SCHILY.xattr.user.* record of every file entry of an uncompressed tar, read here byte by byte.
    data = open(path, "rb").read()
    pos, records, out = 0, {}, []
    while pos + 512 <= len(data):
        h = data[pos:pos + 512]
        if h == bytes(512):
            break
        size = int(h[124:136].split(b"\0")[0].strip() or b"0", 8)
        kind = h[156:157]
        body = data[pos + 512:pos + 512 + size]
        pos += 512 + (size + 511) // 512 * 512
        if kind == b"x":
            records = {}
            i = 0
            while i < len(body):
                sp = body.index(b" ", i)
                n = int(body[i:sp])
                key, _, value = body[sp + 1:i + n - 1].partition(b"=")
                records[key] = value
                i += n
            continue
        # A sparse entry (GNU.sparse 1.0) has its real name in GNU.sparse.name.
        name = records.get(b"GNU.sparse.name", records.get(b"path", h[0:100].split(b"\0")[0])).decode()
        for key, value in records.items():
            if key.startswith(b"LIBARCHIVE."):
                out.append("%s\tLIBARCHIVE record %s" % (name, show(key)))
            elif key.startswith(b"SCHILY.xattr.user.DosStream.") or key == b"SCHILY.xattr.user.smbcopy.ntsd":
                out.append(line(name, key[len(b"SCHILY.xattr."):], value))
        records = {}
    print("\n".join(sorted(out)))

{"make": make, "dump": dump, "renamed": renamed, "pax": pax, "makedirs": makedirs, "dirs": dirs}[sys.argv[1]](*sys.argv[2:])
EOF

# xattrs_of TAG DIR: dump of DIR's streams and descriptors into $work/out/TAG.x (read by same_x).
xattrs_of() { python3 "$py" dump "$2" >"$work/out/$1.x"; }
# same_x TAG A B: the dumps A and B (files) are the same, else a failure showing the first differences.
same_x() {
    diff "$2" "$3" >"$work/out/$1.diff" ||
        fail "$1: streams or descriptors differ: $(head -n 8 "$work/out/$1.diff" | cut -c1-160 | tr '\n' ' ')"
}
# without FILE RELS...: FILE's lines but those of the files RELS.
without() {
    local f=$1 pat=''
    shift
    for r in "$@"; do pat+="${pat:+|}^$r"$'\t'; done
    grep -Ev "$pat" "$f" || true
}
# x_lines TAG: how many lines of $work/out/TAG.x name a stream.
x_lines() { grep -c 'user.DosStream' "$work/out/$1.x" || true; }

src=$loc/src
python3 "$py" make "$src"
xattrs_of src "$src"
[ "$(x_lines src)" -eq 29 ] || die "the tree does not hold its 29 streams: $(head -c 300 "$work/out/src.x")"

# --- a. archiving -----------------------------------------------------------------

cli_run arc --acls --json -v "$src" "$work/t.tar.zst"
expect_exit arc 0
zstd -q -dc "$work/t.tar.zst" >"$work/t.tar"
python3 "$py" pax "$work/t.tar" >"$work/out/pax.x"
grep -q 'LIBARCHIVE record' "$work/out/pax.x" && fail "a: LIBARCHIVE.xattr records (GNU tar warns of them)"
python3 "$py" renamed "$src" libarchive >"$work/out/src-as-pax.x"
same_x a-records <(without "$work/out/src-as-pax.x" huge.bin long.txt) <(without "$work/out/pax.x" huge.bin long.txt)
# huge.bin: some of its streams, each whole; long.txt: "ok" only.
huge_kept=$(grep -c '^huge.bin' "$work/out/pax.x" || true)
if [ "$huge_kept" -le 5 ] || [ "$huge_kept" -ge 20 ]; then
    fail "a: huge.bin has $huge_kept of its 20 streams in the archive"
fi
grep '^huge.bin' "$work/out/pax.x" | grep -vxFf "$work/out/src-as-pax.x" >"$work/out/huge-odd" &&
    fail "a: huge.bin's streams are not the tree's: $(head -n 2 "$work/out/huge-odd")"
# shellcheck disable=SC2016 # $DATA is the stream type, not a variable
[ "$(grep '^long.txt' "$work/out/pax.x" | cut -f2)" = 'user.DosStream.ok:$DATA' ] ||
    fail "a: long.txt should keep its stream ok only: $(grep '^long.txt' "$work/out/pax.x" | cut -f2 | tr '\n' ' ')"
expect_field arc streams_not_kept 2
# a.txt 4, big.bin, sub/n.txt, sparse.img, and those of huge.bin and long.txt that fit
expect_field arc streams_copied $((7 + huge_kept + 1))
expect_field arc sds_copied 2
expect_field arc files_copied 7
for f in huge.bin long.txt; do
    grep -q "not kept.*$f\|$f.*not kept" "$work/out/arc.err" "$work/out/arc.out" ||
        fail "a: -v does not say what of $f was not kept: $(grep -h 'not kept' "$work/out/arc.err" | head -n 3)"
done
LC_ALL=C.UTF-8 tar --xattrs -tvvf "$work/t.tar" >"$work/out/tv" 2>"$work/out/tv.err" || fail "a: tar -tvv: $(head -c 300 "$work/out/tv.err")"
[ ! -s "$work/out/tv.err" ] || fail "a: tar -tvv complains: $(head -c 300 "$work/out/tv.err")"
# shellcheck disable=SC2016 # $DATA is the stream type, not a variable
for want in 'x: 27 user.DosStream.Zone.Identifier:$DATA' 'x: 1 user.DosStream.empty:$DATA' 'x: 176 user.smbcopy.ntsd' \
    'x: 32001 user.DosStream.s1:$DATA' 'x: 257 user.DosStream.caf%C3%A9%20x=%:$DATA'; do
    grep -qF "$want" "$work/out/tv" || fail "a: tar --xattrs -tvv does not list '$want'"
done

# Without --acls no descriptor; with --no-streams no stream.
cli_run arc-nosd --json "$src" "$work/nosd.tar"
expect_exit arc-nosd 0
expect_field arc-nosd sds_copied 0
python3 "$py" pax "$work/nosd.tar" >"$work/out/nosd.x"
grep -q 'user.smbcopy.ntsd' "$work/out/nosd.x" && fail "arc-nosd: a descriptor in an archive made without --acls"
[ "$(grep -c 'DosStream' "$work/out/nosd.x")" -eq "$(grep -c 'DosStream' "$work/out/pax.x")" ] ||
    fail "arc-nosd: not the same streams as with --acls"
cli_run arc-nostreams --json --acls --no-streams "$src" "$work/nostreams.tar"
expect_exit arc-nostreams 0
expect_field arc-nostreams streams_copied 0
expect_field arc-nostreams streams_not_kept 0
python3 "$py" pax "$work/nostreams.tar" >"$work/out/nostreams.x"
grep -q 'DosStream' "$work/out/nostreams.x" && fail "arc-nostreams: streams in an archive made with --no-streams"
[ "$(grep -c 'user.smbcopy.ntsd' "$work/out/nostreams.x")" -eq 2 ] || fail "arc-nostreams: the descriptors are missing"

# --- b. restoring ----------------------------------------------------------------------

cli_run res --acls --json "$work/t.tar.zst" "$loc/res"
expect_exit res 0
xattrs_of res "$loc/res"
same_x b-restored <(without "$work/out/src.x" huge.bin long.txt) <(without "$work/out/res.x" huge.bin long.txt)
[ "$(grep -c '^huge.bin' "$work/out/res.x")" -eq "$huge_kept" ] || fail "b: huge.bin's streams from the archive not all restored"
grep '^huge.bin\|^long.txt' "$work/out/res.x" | grep -vxFf "$work/out/src.x" >"$work/out/res-odd" &&
    fail "b: restored streams the tree does not have: $(head -n 2 "$work/out/res-odd")"
expect_field res streams_copied $((7 + huge_kept + 1))
expect_field res sds_copied 2
expect_field res streams_not_kept 0
cmp -s "$src/big.bin" "$loc/res/big.bin" || fail "b: big.bin's data differ"
cmp -s "$src/sparse.img" "$loc/res/sparse.img" || fail "b: sparse.img's data differ"
no_temps res "$loc/res"

cli_run res-nosd --json "$work/t.tar.zst" "$loc/res-nosd"
expect_exit res-nosd 0
expect_field res-nosd sds_copied 0
xattrs_of res-nosd "$loc/res-nosd"
grep -q 'user.smbcopy.ntsd' "$work/out/res-nosd.x" && fail "b: a descriptor restored without --acls"
same_x b-nosd <(grep DosStream "$work/out/res.x") <(grep DosStream "$work/out/res-nosd.x")
cli_run res-nostreams --json --acls --no-streams "$work/t.tar.zst" "$loc/res-nostreams"
expect_exit res-nostreams 0
expect_field res-nostreams streams_copied 0
xattrs_of res-nostreams "$loc/res-nostreams"
grep -q 'DosStream' "$work/out/res-nostreams.x" && fail "b: streams restored with --no-streams"
[ "$(grep -c 'user.smbcopy.ntsd' "$work/out/res-nostreams.x")" -eq 2 ] || fail "b: --no-streams lost the descriptors"

# --- c. GNU tar extracts them -----------------------------------------------------------

mkdir "$loc/gnu-x"
tar --xattrs --xattrs-include='user.*' -xf "$work/t.tar" -C "$loc/gnu-x" 2>"$work/out/gnu-x.err" ||
    fail "c: tar --xattrs -x: $(head -c 300 "$work/out/gnu-x.err")"
xattrs_of gnu-x "$loc/gnu-x"
python3 "$py" renamed "$loc/res" gnu >"$work/out/res-as-gnu.x"
same_x c-gnu-x "$work/out/res-as-gnu.x" "$work/out/gnu-x.x"

# --- d. an archive GNU tar made -----------------------------------------------------------

# Without huge.bin (a pax header past 1 MiB, which this libarchive may refuse) and long.txt.
tar --xattrs --format=posix -C "$src" --exclude=./huge.bin --exclude=./long.txt -cf "$work/gnu.tar" .
cli_run res-gnu --acls --json "$work/gnu.tar" "$loc/res-gnu"
expect_exit res-gnu 0
xattrs_of res-gnu "$loc/res-gnu"
same_x d-gnu-tar <(without "$work/out/src.x" huge.bin long.txt) "$work/out/res-gnu.x"

# --- f. directories -------------------------------------------------------------------

dsrc=$loc/dsrc
python3 "$py" makedirs "$dsrc"
python3 "$py" dirs "$dsrc" >"$work/out/dsrc.d"
[ "$(grep -c 'DosStream' "$work/out/dsrc.d")" -eq 3 ] && [ "$(grep -c 'user.smbcopy.ntsd' "$work/out/dsrc.d")" -eq 2 ] ||
    die "f: the directories do not hold their 3 streams and 2 descriptors: $(head -c 300 "$work/out/dsrc.d")"
cli_run darc --acls --json "$dsrc" "$work/d.tar"
expect_exit darc 0
expect_field darc streams_copied 3
expect_field darc sds_copied 2
# The directory entries' records (tar names them "d/", "d/e/"): the directories' xattrs, byte for byte.
python3 "$py" pax "$work/d.tar" >"$work/out/dpax.x"
grep -P '^[^\t]*/\t' "$work/out/dpax.x" | sed 's|/\t|\t|' >"$work/out/dpax-dirs.x" || true
grep -v '^d/f.txt' "$work/out/dpax.x" | grep -vP '^[^\t]*/\t' >"$work/out/dpax-other.x" &&
    fail "f: records under other names than the directories': $(head -n 3 "$work/out/dpax-other.x")"
python3 "$py" dirs "$dsrc" libarchive >"$work/out/dsrc-as-pax.d"
same_x f-records "$work/out/dsrc-as-pax.d" "$work/out/dpax-dirs.x"
grep -q '^d/f.txt.*user\.' "$work/out/dpax.x" && fail "f: the file got the directory's records"
cli_run dres --acls --json "$work/d.tar" "$loc/dres"
expect_exit dres 0
expect_field dres streams_copied 3
expect_field dres sds_copied 2
python3 "$py" dirs "$loc/dres" >"$work/out/dres.d"
same_x f-restored "$work/out/dsrc.d" "$work/out/dres.d"
no_temps dres "$loc/dres"
# --no-streams: the descriptors only, archiving and restoring.
cli_run darc-nostreams --acls --json --no-streams "$dsrc" "$work/d-nostreams.tar"
expect_exit darc-nostreams 0
expect_field darc-nostreams streams_copied 0
expect_field darc-nostreams sds_copied 2
python3 "$py" pax "$work/d-nostreams.tar" >"$work/out/dpax-nostreams.x"
grep -q 'DosStream' "$work/out/dpax-nostreams.x" && fail "f: streams in an archive made with --no-streams"
same_x f-nostreams-records <(grep -v DosStream "$work/out/dpax.x") "$work/out/dpax-nostreams.x"
cli_run dres-nostreams --acls --json --no-streams "$work/d.tar" "$loc/dres-nostreams"
expect_exit dres-nostreams 0
expect_field dres-nostreams streams_copied 0
python3 "$py" dirs "$loc/dres-nostreams" >"$work/out/dres-nostreams.d"
same_x f-nostreams-restored <(grep -v DosStream "$work/out/dsrc.d") "$work/out/dres-nostreams.d"

# --- e. a share's streams -----------------------------------------------------------------

fshare=${SMBCOPY_TEST_FIDELITY_SHARE:-}
[ -n "$fshare" ] || die "the fixture has no streams share (SMBCOPY_TEST_FIDELITY_SHARE)"
furl=smb://$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT/$fshare/$name
cleanup_dirs+=("$SMBCOPY_TEST_FIDELITY_SHARE_DIR/$name")
# fsmbc COMMANDS: smbclient on the streams share; output in $work/out/smbclient.log, 1 on an NT_STATUS error.
fsmbc() {
    local rc=0
    timeout 120 smbclient "//$SMBCOPY_TEST_HOST/$fshare" -p "$SMBCOPY_TEST_PORT" -A "$auth" -c "$1" \
        >"$work/out/smbclient.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] || grep -q 'NT_STATUS_' "$work/out/smbclient.log"; then
        fail "smbclient -c '$1': $(grep -m 3 'NT_STATUS_\|rror' "$work/out/smbclient.log" | tr '\n' ' ')"
        return 1
    fi
}
mkdir -p "$work/put"
printf 'hello\n' >"$work/put/f1"
printf '[ZoneTransfer]\r\nZoneId=3\r\n' >"$work/put/zone"
python3 -c 'import sys; open(sys.argv[1], "wb").write(bytes(range(256)) * 2)' "$work/put/bin"
: >"$work/put/empty"
head -c 2500000 /dev/urandom >"$work/put/big"
head -c 40000 /dev/urandom >"$work/put/s40k"
printf 'plain\n' >"$work/put/plain"
cafe=$(printf 'caf\303\251 x') # a stream name with a non-ASCII letter and a space
fsmbc "mkdir $name; mkdir $name/src; mkdir $name/src/sub; cd $name/src; put $work/put/f1 f1.txt; \
put $work/put/zone f1.txt:Zone.Identifier; put $work/put/bin \"f1.txt:$cafe\"; put $work/put/empty f1.txt:empty; \
put $work/put/big sub/big.bin; put $work/put/s40k sub/big.bin:s40k; put $work/put/plain plain.txt; \
put $work/put/zone sub:dz" || true
# streams_of DIR: "file<TAB>allinfo's stream lines" of every file under DIR on the streams share.
streams_of() {
    local f
    for f in f1.txt sub/big.bin plain.txt sub; do
        fsmbc "allinfo \"$name/$1/$f\"" || return 0
        grep '^stream:' "$work/out/smbclient.log" | sort | sed "s|^|$f	|"
    done
}
streams_of src >"$work/out/share-src.streams"
grep -q 'f1.txt.*:Zone.Identifier:' "$work/out/share-src.streams" && grep -q 'big.bin.*:s40k:' "$work/out/share-src.streams" &&
    grep -q '^sub.*:dz:' "$work/out/share-src.streams" ||
    die "e: the share's source files lack their streams: $(tr '\n' ' ' <"$work/out/share-src.streams")"

cli_run share-ref --acls "$furl/src" "$loc/share-ref"
expect_exit share-ref 0
xattrs_of share-ref "$loc/share-ref"
[ "$(x_lines share-ref)" -eq 4 ] && [ "$(grep -c 'user.smbcopy.ntsd' "$work/out/share-ref.x")" -eq 3 ] ||
    fail "e: a direct copy of the share should give 4 streams and 3 descriptors: $(cut -f1,2 "$work/out/share-ref.x" | tr '\n' ' ')"
# The directory sub's stream and descriptor count as a file's: 5 streams, 4 descriptors.
cli_run share-arc --acls --json "$furl/src" "$work/share.tar.zst"
expect_exit share-arc 0
expect_field share-arc streams_copied 5
expect_field share-arc sds_copied 4
# Without --acls a small file is read in one round trip, and opened again only when it has streams.
cli_run share-arc-nosd --json "$furl/src" "$work/share-nosd.tar"
expect_exit share-arc-nosd 0
expect_field share-arc-nosd streams_copied 5
expect_field share-arc-nosd sds_copied 0
python3 "$py" pax "$work/share-nosd.tar" >"$work/out/share-nosd-pax.x"
python3 "$py" renamed "$loc/share-ref" libarchive | grep DosStream >"$work/out/share-ref-as-pax.x"
same_x e-no-acls "$work/out/share-ref-as-pax.x" <(grep -vP '^[^\t]*/\t' "$work/out/share-nosd-pax.x")
# shellcheck disable=SC2016 # $DATA is the stream type, not a variable
[ "$(grep -P '^sub/\t' "$work/out/share-nosd-pax.x" | cut -f2-)" = "$(printf 'user.DosStream.dz:$DATA\t%d\t%s' \
    $(($(stat -c %s "$work/put/zone") + 1)) "$( (cat "$work/put/zone"; printf '\0') | sha256sum | cut -d' ' -f1)")" ] ||
    fail "e: the directory sub's entry does not carry its stream dz: $(grep -P '^sub/\t' "$work/out/share-nosd-pax.x" | head -n 2)"
cli_run share-res --acls "$work/share.tar.zst" "$loc/share-res"
expect_exit share-res 0
xattrs_of share-res "$loc/share-res"
same_x e-archived "$work/out/share-ref.x" "$work/out/share-res.x"

cli_run share-back --acls --json "$work/share.tar.zst" "$furl/back"
expect_exit share-back 0
expect_field share-back streams_copied 5
expect_field share-back sds_copied 4
streams_of back >"$work/out/share-back.streams"
same_x e-allinfo "$work/out/share-src.streams" "$work/out/share-back.streams"
mkdir -p "$work/get/src" "$work/get/back"
for d in src back; do
    fsmbc "cd $name/$d; get f1.txt $work/get/$d/f1; get f1.txt:Zone.Identifier $work/get/$d/zone; \
get \"f1.txt:$cafe\" $work/get/$d/bin; get sub/big.bin $work/get/$d/big; get sub/big.bin:s40k $work/get/$d/s40k; \
get sub:dz $work/get/$d/dz" || true
done
for g in f1 zone bin big s40k dz; do
    cmp -s "$work/get/src/$g" "$work/get/back/$g" || fail "e: smbclient reads other bytes for $g from the restored files"
done
cmp -s "$work/get/src/bin" "$work/put/bin" || fail "e: the stream '$cafe' read back is not what was put"
cli_run share-back-copy --acls "$furl/back" "$loc/share-back"
expect_exit share-back-copy 0
xattrs_of share-back "$loc/share-back"
same_x e-back "$work/out/share-ref.x" "$work/out/share-back.x"

# Into a share without streams: the data, and a report for each file that had streams.
cli_run share-plain --json -v "$work/share.tar.zst" "$url/plain"
expect_exit share-plain 0
expect_field share-plain streams_not_kept 3 # f1.txt, big.bin and the directory sub
expect_field share-plain files_copied 3
cmp -s "$work/put/big" "$share/plain/sub/big.bin" || fail "e: big.bin's data not restored into the share without streams"

cli_test_end "archives carry named streams and security descriptors"

#!/usr/bin/env bash
# Windows data fidelity end to end: named streams and security descriptors
# copied by smbcopy between Samba shares and a local tree, checked with
# Samba's own clients. The servers are tests/fixtures/samba-fidelity.sh
# (started and stopped here): port 445 in a private network namespace, where
# smbcopy, smbclient and smbcacls all run (smbcacls cannot use another port).
#
# The source tree (share "fidelity", directory src), made with smbclient
# (put LOCAL FILE:NAME writes a stream) and smbcacls:
#   streams.txt     three streams: empty (0 B), small, big (40 KiB)
#   ace.txt         an added ACE (BUILTIN\Users READ)
#   protected.txt   a whole ACL set, then its DACL protected (-I remove)
#   owner.txt       owner Unix User\nobody, group BUILTIN\Administrators
#   plain.txt       nothing but data
#   sub/nested.txt  one stream, in a subdirectory
# "Same file" below means: smbcacls --numeric prints the same lines (with
# --acls), smbclient allinfo lists the same streams with the same sizes, and
# the data and every stream read back with smbclient get are byte for byte
# what the source holds.
#   a.  SMB to SMB with --acls: fidelity/src -> fidelity2/dst (one server,
#       across shares) and -> //127.0.0.2/fidelity/dst (another server):
#       every file the same.
#   b.  SMB to local to SMB with --acls: the local copy holds each stream as
#       the xattr user.DosStream.NAME:$DATA (its bytes and a NUL, as
#       vfs_streams_xattr keeps them) and the descriptor as user.smbcopy.ntsd,
#       which decodes to what smbcacls prints for the source; copied back to
#       fidelity2/back, every file the same as the source.
#   c.  Without --acls: streams copied, descriptors not (ace.txt gets the
#       ACL of a new file in its directory, sds_copied 0); with --no-streams
#       no stream reaches the share or the local tree (streams_copied 0).
#   d.  To share "plain" (no streams module): exit 0, data copied, no
#       streams there, streams_not_kept > 0 in --json and a "not kept" line
#       in -v for each file that had streams, and none for the others.
#   e.  Share "depot" (streams_depot) with a 3 MiB stream: to local, that
#       stream is reported not kept (a Linux xattr holds at most 64 KiB), the
#       data and the other three streams kept and counted (streams_copied 3,
#       stream_bytes theirs); to another directory of depot, the 3 MiB stream
#       copied exactly.
#   f.  Share "fruit" (catia fruit streams_xattr): AFP_AfpInfo (a valid
#       60-byte AfpInfo; fruit refuses others) and AFP_Resource copied to
#       another directory of fruit, and through a local tree back to fruit.
#   g.  --acls=all, which the user may not have (no SeSecurityPrivilege):
#       to another server and to a local tree, every file's SACL reported
#       not copied once (sds_not_kept, one -v line each), whether its data
#       went in one round trip with the descriptor or through open files,
#       and the rest of the descriptor the same as the source's; from the
#       local tree (no SACL there) nothing reported.
#   h.  A file of 24 MiB with two streams and an added ACE, split between 2
#       shards (--plan-out --shards 2 --acls, both shards, --finish): the
#       finish gives it the source's streams and ACL (the same file).
#
# Skips (exit 77) without root, Samba's tools, python3, jq or network
# namespaces; fails instead when CI=true. SMBCOPY_TEST_KEEP=1 keeps the
# fixture and the test's files (under the fixture's tmpfs).
set -euo pipefail

# shellcheck source=lib/skip.sh
. "$(dirname "$0")/lib/skip.sh"

build=${SMBCOPY_BUILD_DIR:?run through ctest}
source_dir=${SMBCOPY_SOURCE_DIR:?run through ctest}
cli=${SMBCOPY_CLI:?run through ctest}
fixture=$source_dir/tests/fixtures/samba-fidelity.sh

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, port 445, tmpfs)"
for t in smbd smbpasswd smbclient smbcacls ip unshare setsid mountpoint jq cmp timeout; do
    command -v "$t" >/dev/null 2>&1 || skip "'$t' not found (scripts/install-deps.sh installs samba, smbclient, jq)"
done
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3 2>/dev/null) || skip "python3 not found (scripts/install-deps.sh installs it)"
ip netns list >/dev/null 2>&1 || skip "'ip netns' does not work here"
[ -x "$cli" ] || { echo "FAIL: smbcopy binary missing: $cli" >&2; exit 1; }

dir=$build/samba-fidelity
bash "$fixture" stop "$dir" >/dev/null 2>&1 || true
cleanup() {
    if [ "${SMBCOPY_TEST_KEEP:-}" = 1 ]; then
        echo "kept: $dir (stop with: bash $fixture stop $dir)"
    else
        bash "$fixture" stop "$dir" || true
    fi
}
trap cleanup EXIT
bash "$fixture" start "$dir"
set -a
# shellcheck disable=SC1091
. "$dir/env"
set +a
ns=$SMBCOPY_FID_NETNS
conf=$SMBCOPY_FID_CLIENT_CONF
auth=$dir/smbclient.auth
h1=$SMBCOPY_FID_HOST
h2=$SMBCOPY_FID_HOST2
# Local trees on the fixture's tmpfs (xattrs of up to 64 KiB each).
work=$SMBCOPY_FID_LOCAL_DIR
out=$work/out
orig=$work/orig
mkdir -p "$out" "$orig"

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
die() {
    echo "FAIL: $*" >&2
    exit 1
}
ns_run() { ip netns exec "$ns" "$@"; }
indent() { sed 's/^/    /'; }

# smbc HOST SHARE COMMANDS: smbclient -c COMMANDS in the namespace, output
# in $out/smbclient.log; returns 1 (saying why on stderr) when smbclient
# fails or prints an NT_STATUS error.
smbc() {
    local rc=0
    ns_run timeout 60 smbclient -s "$conf" "//$1/$2" -A "$auth" -c "$3" >"$out/smbclient.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ] || grep -q 'NT_STATUS_' "$out/smbclient.log"; then
        echo "smbclient //$1/$2: exit $rc: $(grep -m 3 'NT_STATUS_\|rror' "$out/smbclient.log" | tr '\n' ' ')" >&2
        return 1
    fi
}
# cacls HOST SHARE PATH ARGS...: smbcacls in the namespace.
cacls() {
    local host=$1 share=$2 path=$3
    shift 3
    ns_run timeout 60 smbcacls -s "$conf" "//$host/$share" "$path" -A "$auth" "$@"
}
# acl_of HOST SHARE PATH: owner, group and DACL as smbcacls prints them with
# SIDs and masks as numbers (the same text on every server).
acl_of() { cacls "$1" "$2" "$3" --numeric 2>&1; }
# stream_names FILE: the named streams (not ::$DATA) among allinfo's lines in FILE.
# shellcheck disable=SC2016 # $DATA is literal
stream_names() { sed -n 's/^stream: \[:\([^:]\{1,\}\):\$DATA\].*/\1/p' "$1"; }

# snapshot TAG ACLS HOST SHARE DIR FILE...: what Samba's clients show of
# each FILE under DIR, into $work/snap/TAG/FILE/: "acl" (smbcacls --numeric,
# when ACLS is yes), "streams" (allinfo's stream lines, sorted), "names"
# (the named streams) and data/ (the file's data as "::", each named stream
# by its name, read with smbclient get). One smbclient run lists, one
# reads, one smbcacls per file. Returns 1, saying why, when a client fails.
snapshot() {
    local tag=$1 acls=$2 host=$3 share=$4 sdir=$5 f n cmds=""
    shift 5
    local s=$work/snap/$tag
    rm -rf "$s"
    mkdir -p "$s"
    printf '%s\n' "$@" >"$s/.files"
    for f in "$@"; do
        mkdir -p "$s/$f/data"
        cmds+="allinfo \"$sdir/$f\"; "
    done
    smbc "$host" "$share" "$cmds" || return 1
    # Each allinfo's answer begins with its "altname:" line.
    if [ "$(grep -c '^altname:' "$out/smbclient.log")" -ne $# ]; then
        echo "allinfo on //$host/$share/$sdir answered for $(grep -c '^altname:' "$out/smbclient.log") of $# files" >&2
        return 1
    fi
    awk -v s="$s" -v list="$*" 'BEGIN { split(list, f, " ") }
        /^altname:/ { i++ }
        /^stream:/ { print > (s "/" f[i] "/streams.raw") }' "$out/smbclient.log"
    cmds=""
    for f in "$@"; do
        sort "$s/$f/streams.raw" >"$s/$f/streams" 2>/dev/null || : >"$s/$f/streams"
        stream_names "$s/$f/streams" >"$s/$f/names"
        cmds+="get \"$sdir/$f\" \"$s/$f/data/::\"; "
        while read -r n; do cmds+="get \"$sdir/$f:$n\" \"$s/$f/data/$n\"; "; done <"$s/$f/names"
        if [ "$acls" = yes ]; then
            acl_of "$host" "$share" "$sdir/$f" >"$s/$f/acl" || { echo "smbcacls $sdir/$f: $(cat "$s/$f/acl")" >&2; return 1; }
        fi
    done
    smbc "$host" "$share" "$cmds" || return 1
}
# take TAG ACLS HOST SHARE DIR FILE...: snapshot, or a failure naming TAG
# (returns 1).
take() { snapshot "$@" 2>"$out/snapshot.err" || { fail "$1: reading //$3/$4/$5 back: $(cat "$out/snapshot.err")"; return 1; }; }

# same_snap TAG ACLS SRC DST: every file of snapshot DST is the same as in
# snapshot SRC: ACL (when ACLS is yes), streams and sizes, data and stream
# bytes. Says what it compared.
same_snap() {
    local tag=$1 acls=$2 a=$work/snap/$3 b=$work/snap/$4 f n said bad
    while read -r f; do
        said=""
        if [ "$acls" = yes ]; then
            if ! cmp -s "$a/$f/acl" "$b/$f/acl"; then
                fail "$tag: $f: smbcacls shows another ACL than the source's:"$'\n'"$(diff "$a/$f/acl" "$b/$f/acl" | indent)"
            else
                said="ACL same ($(grep -c '^ACL:' "$b/$f/acl") ACEs, $(grep '^CONTROL:' "$b/$f/acl")), "
            fi
        fi
        if ! cmp -s "$a/$f/streams" "$b/$f/streams"; then
            fail "$tag: $f: allinfo lists other streams than the source's:"$'\n'"$(diff "$a/$f/streams" "$b/$f/streams" | indent)"
            continue
        fi
        bad=""
        for n in :: $(cat "$a/$f/names"); do
            cmp -s "$a/$f/data/$n" "$b/$f/data/$n" || bad+=" ${n/#::/data}"
        done
        if [ -n "$bad" ]; then
            fail "$tag: $f: bytes differ from the source's in:$bad"
            continue
        fi
        n=$(paste -sd, "$b/$f/names")
        echo "  $tag: $f: ${said}streams same (${n:-none}), data and streams byte for byte"
    done <"$a/.files"
}

# run TAG ARGS...: smbcopy -v --json in the namespace; rc, $out/TAG.out
# (JSON), $out/TAG.err (the -v lines), $out/TAG.cmd; the summary's numbers
# in sum[KEY].
declare -A sum
run() {
    local tag=$1 k v
    shift
    echo "smbcopy $*" >"$out/$tag.cmd"
    set +e
    ns_run timeout 120 "$cli" -A "$auth" --no-progress --json -v "$@" </dev/null >"$out/$tag.out" 2>"$out/$tag.err"
    rc=$?
    set -e
    sum=()
    while IFS='=' read -r k v; do sum[$k]=$v; done < <(jq -r 'to_entries[] | select(.value | type == "number") |
        "\(.key)=\(.value)"' "$out/$tag.out" 2>/dev/null)
}
# ran_ok TAG: exit 0 and no file failed, else a failure quoting the run.
ran_ok() {
    if [ "$rc" -ne 0 ] || [ "${sum[files_failed]:-}" != 0 ]; then
        fail "$1: $(cat "$out/$1.cmd"): exit $rc, files_failed ${sum[files_failed]:-?}:"$'\n'"$(tail -n 15 "$out/$1.err" | indent)"
        return 1
    fi
    echo "  $1: exit 0; streams_copied ${sum[streams_copied]:-?}, stream_bytes ${sum[stream_bytes]:-?}," \
        "sds_copied ${sum[sds_copied]:-?}, streams_not_kept ${sum[streams_not_kept]:-?}, sds_not_kept ${sum[sds_not_kept]:-?}"
}
# expect_field TAG KEY OP VALUE: the last run's summary KEY is a number
# and KEY OP VALUE holds (OP: ==, >, >=).
expect_field() {
    local got=${sum[$2]:-} ok=1
    if [[ $got =~ ^[0-9]+$ ]]; then
        case $3 in
        ==) ((got == $4)) || ok=0 ;;
        '>') ((got > $4)) || ok=0 ;;
        '>=') ((got >= $4)) || ok=0 ;;
        esac
    else
        ok=0
    fi
    if ((!ok)); then
        fail "$1: $2 is '$got' in the --json summary, expected $3 $4"
    fi
}

# xattr_checks TAG CHECKS: the checks (lines of tab-separated words, see
# xattr.py) on local files; each FAIL a failure, each INFO printed.
xattr_checks() {
    local tag=$1 kind msg
    while IFS=$'\t' read -r kind msg; do
        case $kind in
        FAIL) fail "$tag: $msg" ;;
        INFO) echo "  $tag: ${msg//$work\//}" ;;
        *) fail "$tag: xattr.py: $kind $msg" ;;
        esac
    done < <("$py" "$work/xattr.py" <<<"$2" 2>&1)
}
cat >"$work/xattr.py" <<'EOF'
"""Checks on local files' xattrs, one a line on stdin, words tab-separated:
  stream PATH NAME FILE   the stream NAME is FILE's bytes and a NUL
  nostream PATH NAME      no stream NAME
  nostreams PATH          no stream at all
  sd PATH FILE            user.smbcopy.ntsd, as smbcacls --numeric prints
                          a descriptor, is FILE's text
  list PATH               says which streams PATH has, with their sizes
Prints FAIL<tab>message or INFO<tab>message lines."""
import os
import struct
import sys

PREFIX, SUFFIX = "user.DosStream.", ":$DATA"


def sid(b, o):
    rev, n = b[o], b[o + 1]
    auth = int.from_bytes(b[o + 2:o + 8], "big")
    subs = struct.unpack_from("<%dI" % n, b, o + 8)
    return "S-%d-%d" % (rev, auth) + "".join("-%d" % s for s in subs)


def sd_text(b):
    """A self-relative descriptor (MS-DTYP 2.4.6) as smbcacls --numeric prints it."""
    rev, _, control, o_owner, o_group, _, o_dacl = struct.unpack_from("<BBHIIII", b, 0)
    lines = ["REVISION:%d" % rev, "CONTROL:0x%x" % control,
             "OWNER:" + (sid(b, o_owner) if o_owner else ""),
             "GROUP:" + (sid(b, o_group) if o_group else "")]
    if o_dacl:
        count = struct.unpack_from("<H", b, o_dacl + 4)[0]
        p = o_dacl + 8
        for _ in range(count):
            typ, flags, size, mask = struct.unpack_from("<BBHI", b, p)
            lines.append("ACL:%s:%d/0x%x/0x%08x" % (sid(b, p + 8), typ, flags, mask))
            p += size
    return "\n".join(lines)


def streams(path):
    return sorted((n[len(PREFIX):-len(SUFFIX)], len(os.getxattr(path, n)) - 1)
                  for n in os.listxattr(path) if n.startswith(PREFIX) and n.endswith(SUFFIX))


def check(cmd, path, *args):
    if cmd == "list":
        return "INFO", "%s: %s" % (path, ", ".join("%s %d B" % s for s in streams(path)) or "no streams")
    if cmd == "nostreams":
        got = streams(path)
        return ("FAIL", "%s: stream xattrs: %s" % (path, got)) if got else None
    if cmd == "sd":
        try:
            got = sd_text(os.getxattr(path, "user.smbcopy.ntsd"))
        except OSError as e:
            return "FAIL", "%s: no user.smbcopy.ntsd (%s)" % (path, e.strerror)
        want = open(args[0]).read().rstrip("\n")
        if got != want:
            return "FAIL", "%s: user.smbcopy.ntsd is not what smbcacls shows for the source: %r, expected %r" % (
                path, got, want)
        return None
    name = PREFIX + args[0] + SUFFIX
    try:
        got = os.getxattr(path, name)
    except OSError as e:
        return None if cmd == "nostream" else ("FAIL", "%s: no xattr %s (%s)" % (path, name, e.strerror))
    if cmd == "nostream":
        return "FAIL", "%s: xattr %s is there (%d bytes)" % (path, name, len(got))
    want = open(args[1], "rb").read() + b"\0"
    if got != want:
        return "FAIL", "%s: xattr %s holds %d bytes, expected the stream's %d and a NUL%s" % (
            path, name, len(got), len(want) - 1, " (other bytes)" if len(got) == len(want) else "")
    return None


for line in sys.stdin:
    if line.strip():
        r = check(*line.rstrip("\n").split("\t"))
        if r:
            print("%s\t%s" % r)
EOF

# ---------------------------------------------------------------- the source
t0=$SECONDS
printf 'the data of streams.txt\n' >"$orig/streams.data"
: >"$orig/empty"
printf 'a small stream\n' >"$orig/small"
head -c 40960 /dev/urandom >"$orig/big"
head -c 3145728 /dev/urandom >"$orig/huge"
printf 'nested stream\n' >"$orig/note"
for f in ace protected owner plain nested; do printf 'the data of %s\n' "$f" >"$orig/$f.data"; done
"$py" - "$orig/afpinfo" <<'EOF'
import struct, sys
# AfpInfo as vfs_fruit checks it (Samba's source3/include/MacExtensions.h):
# "AFP\0", version 0x00000100, reserved, backup time, 32 bytes of FinderInfo
# (type TEXT, creator ttxt, flags), 12 bytes of ProDOS info and padding.
info = b"AFP\0" + struct.pack(">III", 0x100, 0, 0x80000000) + b"TEXTttxt" + b"\x01\x00" + bytes(22) + bytes(12)
assert len(info) == 60
open(sys.argv[1], "wb").write(info)
EOF
head -c 20000 /dev/urandom >"$orig/rsrc"

smbc "$h1" fidelity "mkdir src; mkdir src/sub;
    put $orig/streams.data src/streams.txt; put $orig/empty src/streams.txt:empty;
    put $orig/small src/streams.txt:small; put $orig/big src/streams.txt:big;
    put $orig/ace.data src/ace.txt; put $orig/protected.data src/protected.txt;
    put $orig/owner.data src/owner.txt; put $orig/plain.data src/plain.txt;
    put $orig/nested.data src/sub/nested.txt; put $orig/note src/sub/nested.txt:note;
    put $orig/note src/sub:dirnote" ||
    die "setup: smbclient could not write the source tree"
cacls "$h1" fidelity src/ace.txt -a 'ACL:S-1-5-32-545:ALLOWED/0x0/READ' >/dev/null ||
    die "setup: smbcacls -a on ace.txt failed"
cacls "$h1" fidelity src/protected.txt --numeric \
    -S 'REVISION:1,OWNER:S-1-5-32-544,GROUP:S-1-5-32-545,ACL:S-1-5-32-545:DENIED/0x0/0x00000002,ACL:S-1-5-32-544:ALLOWED/0x0/FULL,ACL:S-1-1-0:ALLOWED/0x0/READ' \
    >/dev/null || die "setup: smbcacls -S on protected.txt failed"
cacls "$h1" fidelity src/protected.txt -I remove >/dev/null || die "setup: smbcacls -I remove on protected.txt failed"
cacls "$h1" fidelity src/owner.txt -C S-1-22-1-65534 >/dev/null || die "setup: smbcacls -C on owner.txt failed"
cacls "$h1" fidelity src/owner.txt -G S-1-5-32-544 >/dev/null || die "setup: smbcacls -G on owner.txt failed"
cacls "$h1" fidelity src/sub -a 'ACL:S-1-5-32-545:ALLOWED/OI|CI/READ' >/dev/null ||
    die "setup: smbcacls -a on the directory sub failed"

# The source is what it should be: streams, their bytes, the ACLs.
files=(streams.txt ace.txt protected.txt owner.txt plain.txt sub/nested.txt)
# Directories get their descriptors too: the root of each copy and sub.
sds=$((${#files[@]} + 2))
snapshot src yes "$h1" fidelity src "${files[@]}" || die "setup: cannot read the source back"
s=$work/snap/src
# shellcheck disable=SC2016 # $DATA is literal
printf 'stream: [::$DATA], 24 bytes\nstream: [:big:$DATA], 40960 bytes\nstream: [:empty:$DATA], 0 bytes\nstream: [:small:$DATA], 15 bytes\n' |
    sort | cmp -s - "$s/streams.txt/streams" || die "setup: src/streams.txt has other streams than put: $(cat "$s/streams.txt/streams")"
for n in empty small big; do
    cmp -s "$s/streams.txt/data/$n" "$orig/$n" || die "setup: stream $n reads back other bytes than put"
done
grep -qx 'ACL:S-1-5-32-545:0/0x0/0x001200a9' "$s/ace.txt/acl" || die "setup: ace.txt lacks the added ACE: $(cat "$s/ace.txt/acl")"
grep -q '^CONTROL:0x9' "$s/protected.txt/acl" || die "setup: protected.txt's DACL is not protected: $(cat "$s/protected.txt/acl")"
grep -qx 'OWNER:S-1-22-1-65534' "$s/owner.txt/acl" || die "setup: owner.txt's owner was not changed: $(cat "$s/owner.txt/acl")"
! cmp -s "$s/ace.txt/acl" "$s/plain.txt/acl" || die "setup: ace.txt and plain.txt have the same ACL"
# The directory sub: its stream and its inheritable ACE, as smbclient and smbcacls show them.
dir_of_src=$work/snap/srcdir
mkdir -p "$dir_of_src"
dir_state() { # dir_state HOST SHARE DIR ACLS OUT: streams (allinfo) and, with ACLS yes, the ACL of DIR/sub
    smbc "$1" "$2" "allinfo \"$3/sub\"" || return 1
    grep '^stream:' "$out/smbclient.log" | sort >"$5.streams"
    if [ "$4" = yes ]; then acl_of "$1" "$2" "$3/sub" >"$5.acl" || return 1; else : >"$5.acl"; fi
}
dir_state "$h1" fidelity src yes "$dir_of_src/sub" || die "setup: cannot read src/sub back"
grep -q '^stream: \[:dirnote:\$DATA\], 14 bytes' "$dir_of_src/sub.streams" ||
    die "setup: src/sub lacks its stream: $(cat "$dir_of_src/sub.streams")"
grep -q '^ACL:S-1-5-32-545:0/0x3/0x001200a9' "$dir_of_src/sub.acl" ||
    die "setup: src/sub lacks its inheritable ACE: $(cat "$dir_of_src/sub.acl")"
# same_dir TAG HOST SHARE DIR ACLS: DIR/sub has the source's stream (and, with ACLS yes, its ACL).
same_dir() {
    local got=$work/snap/$1.dir
    dir_state "$2" "$3" "$4" "$5" "$got" || { fail "$1: cannot read //$2/$3/$4/sub back"; return; }
    cmp -s "$got.streams" "$dir_of_src/sub.streams" ||
        fail "$1: the directory sub has other streams than the source's: $(tr '\n' ' ' <"$got.streams")"
    if [ "$5" = yes ]; then
        cmp -s "$got.acl" "$dir_of_src/sub.acl" ||
            fail "$1: the directory sub has another ACL than the source's:"$'\n'"$(diff "$dir_of_src/sub.acl" "$got.acl" | indent)"
    fi
    echo "  $1: the directory sub: its stream$([ "$5" = yes ] && echo " and its ACL") as the source's"
}
echo "source: ${files[*]} and the directory sub on //$h1/fidelity/src ($((SECONDS - t0)) s)"

# ---------------------------------------------------------------- a. SMB to SMB
echo "a. SMB to SMB with --acls"
run a1 --acls "smb://$h1/fidelity/src" "smb://$h1/fidelity2/dst"
if ran_ok a1; then
    expect_field a1 sds_copied == $sds
    expect_field a1 streams_copied == 5
    expect_field a1 stream_bytes == $((15 + 40960 + 14 + 14))
    take a1 yes "$h1" fidelity2 dst "${files[@]}" && same_snap a1 yes src a1
    same_dir a1 "$h1" fidelity2 dst yes
fi
run a2 --acls "smb://$h1/fidelity/src" "smb://$h2/fidelity/dst"
if ran_ok a2; then
    expect_field a2 sds_copied == $sds
    expect_field a2 streams_copied == 5
    take a2 yes "$h2" fidelity dst "${files[@]}" && same_snap a2 yes src a2
    same_dir a2 "$h2" fidelity dst yes
fi

# A second run copies nothing; after a descriptor changed at the source
# (its data and times as they were), only that descriptor is set again.
# On a tree of its own: the ACL editing below reorders ACEs.
smbc "$h1" fidelity "mkdir aclsrc; put $orig/plain.data aclsrc/one.txt; put $orig/plain.data aclsrc/two.txt" ||
    die "setup: smbclient could not write aclsrc"
run a3 --acls "smb://$h1/fidelity/aclsrc" "smb://$h1/fidelity2/acldst"
ran_ok a3 && expect_field a3 files_copied == 2
run a3-again --acls "smb://$h1/fidelity/aclsrc" "smb://$h1/fidelity2/acldst"
if ran_ok a3-again; then
    expect_field a3-again files_copied == 0
    expect_field a3-again files_meta_updated == 0
    jq -e '.metadata == []' "$out/a3-again.out" >/dev/null || fail "a3-again: metadata notes: $(jq -c .metadata "$out/a3-again.out")"
fi
cacls "$h1" fidelity aclsrc/one.txt -a 'ACL:S-1-5-32-545:ALLOWED/0x0/READ' >/dev/null || die "smbcacls -a on aclsrc/one.txt failed"
acl_of "$h1" fidelity aclsrc/one.txt >"$out/one.acl"
run a3-acl --acls "smb://$h1/fidelity/aclsrc" "smb://$h1/fidelity2/acldst"
if ran_ok a3-acl; then
    expect_field a3-acl files_copied == 0
    expect_field a3-acl files_meta_updated == 1
    grep -q '^updated acl  *one.txt' "$out/a3-acl.err" || fail "a3-acl: no \"updated acl\" line for one.txt in -v"
    # The JSON lists it with the descriptor set, in SDDL: the added entry (BUILTIN\Users, READ: read and execute) among them.
    jq -e '[.metadata[] | select(.path == "one.txt" and .event == "updated" and (.sddl | contains("(A;;0x1200a9;;;BU)")))]
        | length == 1' "$out/a3-acl.out" >/dev/null ||
        fail "a3-acl: no metadata entry for one.txt with its SDDL: $(jq -c .metadata "$out/a3-acl.out")"
    acl_of "$h1" fidelity2 acldst/one.txt | cmp -s - "$out/one.acl" ||
        fail "a3-acl: acldst/one.txt does not have the source's new ACL"
    echo "  a3-acl: a descriptor changed at the source: set again at the destination, no data copied"
fi

# ---------------------------------------------------------------- b. SMB to local to SMB
echo "b. SMB to local to SMB with --acls"
run b1 --acls "smb://$h1/fidelity/src" "$work/local"
if ran_ok b1; then
    expect_field b1 sds_copied == $sds
    expect_field b1 streams_copied == 5
    checks=""
    for f in "${files[@]}"; do
        cmp -s "$work/local/$f" "$s/$f/data/::" || fail "b1: local $f: the data differs"
        checks+="sd"$'\t'"$work/local/$f"$'\t'"$s/$f/acl"$'\n'
    done
    for n in empty small big; do checks+="stream"$'\t'"$work/local/streams.txt"$'\t'"$n"$'\t'"$orig/$n"$'\n'; done
    checks+="stream"$'\t'"$work/local/sub/nested.txt"$'\t'"note"$'\t'"$orig/note"$'\n'
    checks+="stream"$'\t'"$work/local/sub"$'\t'"dirnote"$'\t'"$orig/note"$'\n'
    checks+="sd"$'\t'"$work/local/sub"$'\t'"$dir_of_src/sub.acl"$'\n'
    checks+="nostreams"$'\t'"$work/local/plain.txt"$'\n'
    checks+="list"$'\t'"$work/local/streams.txt"$'\n'
    xattr_checks b1 "$checks"
    echo "  b1: compared: the data and user.smbcopy.ntsd of ${#files[@]} local files (decoded, against smbcacls of the source), 4 stream xattrs"
fi
run b2 --acls "$work/local" "smb://$h1/fidelity2/back"
if ran_ok b2; then
    expect_field b2 sds_copied == $sds
    expect_field b2 streams_copied == 5
    take b2 yes "$h1" fidelity2 back "${files[@]}" && same_snap b2 yes src b2
    same_dir b2 "$h1" fidelity2 back yes
fi

# ---------------------------------------------------------------- c. without --acls, --no-streams
echo "c. without --acls; --no-streams"
run c1 "smb://$h1/fidelity/src" "smb://$h1/fidelity2/noacl"
if ran_ok c1; then
    expect_field c1 sds_copied == 0
    expect_field c1 streams_copied == 5
    take c1 no "$h1" fidelity2 noacl "${files[@]}" && same_snap c1 no src c1
    same_dir c1 "$h1" fidelity2 noacl no
    dst_acl=$(acl_of "$h1" fidelity2 noacl/ace.txt)
    if [ "$dst_acl" = "$(cat "$s/ace.txt/acl")" ]; then
        fail "c1: noacl/ace.txt has the source's ACL although --acls was not given"
    else
        # What the share gives a new file there: that of a file smbclient creates.
        smbc "$h1" fidelity2 "put $orig/plain.data noacl/reference.txt" || fail "c1: smbclient put failed"
        ref_acl=$(acl_of "$h1" fidelity2 noacl/reference.txt)
        [ "$dst_acl" = "$ref_acl" ] ||
            fail "c1: noacl/ace.txt's ACL is neither the source's nor a new file's:"$'\n'"$(diff <(echo "$ref_acl") <(echo "$dst_acl") | indent)"
        echo "  c1: noacl/ace.txt: ACL not copied (that of a file smbclient creates there, without the source's ACE)"
    fi
fi
run c2 --no-streams "smb://$h1/fidelity/src" "smb://$h1/fidelity2/nostreams"
if ran_ok c2; then
    expect_field c2 streams_copied == 0
    if take c2 no "$h1" fidelity2 nostreams streams.txt sub/nested.txt; then
        for f in streams.txt sub/nested.txt; do
            [ ! -s "$work/snap/c2/$f/names" ] || fail "c2: nostreams/$f has streams: $(tr '\n' ' ' <"$work/snap/c2/$f/names")"
            cmp -s "$work/snap/c2/$f/data/::" "$s/$f/data/::" || fail "c2: nostreams/$f: the data differs"
        done
        echo "  c2: nostreams/streams.txt and sub/nested.txt: the data, no stream"
    fi
fi
run c3 --no-streams "smb://$h1/fidelity/src" "$work/nostreams"
if ran_ok c3; then
    expect_field c3 streams_copied == 0
    cmp -s "$work/nostreams/streams.txt" "$orig/streams.data" || fail "c3: the local streams.txt's data differs"
    xattr_checks c3 "nostreams"$'\t'"$work/nostreams/streams.txt"$'\n'"nostreams"$'\t'"$work/nostreams/sub/nested.txt"
    echo "  c3: local streams.txt and sub/nested.txt: the data, no user.DosStream.* xattr"
fi

# ---------------------------------------------------------------- d. a share without streams
echo "d. to a share without streams (plain)"
run d "smb://$h1/fidelity/src" "smb://$h1/plain/dst"
if ran_ok d; then
    expect_field d streams_not_kept '>' 0
    expect_field d streams_copied == 0
    if take d no "$h1" plain dst "${files[@]}"; then
        for f in "${files[@]}"; do
            cmp -s "$work/snap/d/$f/data/::" "$s/$f/data/::" || fail "d: plain/dst/$f: the data differs"
            [ ! -s "$work/snap/d/$f/names" ] || fail "d: plain/dst/$f shows streams: $(tr '\n' ' ' <"$work/snap/d/$f/names")"
        done
    fi
    for f in streams.txt sub/nested.txt; do
        grep -q "^not kept  *$f: " "$out/d.err" || fail "d: no \"not kept\" line for $f in -v:"$'\n'"$(indent <"$out/d.err")"
    done
    for f in ace.txt protected.txt owner.txt plain.txt; do
        ! grep -q "^not kept  *$f" "$out/d.err" || fail "d: a \"not kept\" line for $f, which has no streams"
    done
    echo "  d: the data of ${#files[@]} files; -v: $(grep '^not kept' "$out/d.err" | cut -c1-120 | tr '\n' ';')"
fi

# ---------------------------------------------------------------- e. a stream of 3 MiB
echo "e. streams_depot with a 3 MiB stream"
smbc "$h1" depot "mkdir src; put $orig/streams.data src/huge.txt; put $orig/empty src/huge.txt:empty;
    put $orig/small src/huge.txt:small; put $orig/big src/huge.txt:big; put $orig/huge src/huge.txt:huge" ||
    die "setup: smbclient could not write depot/src"
snapshot depot no "$h1" depot src huge.txt || die "setup: cannot read depot/src back"
cmp -s "$work/snap/depot/huge.txt/data/huge" "$orig/huge" || die "setup: depot/src/huge.txt lacks its 3 MiB stream"
run e1 "smb://$h1/depot/src" "$work/depot"
if ran_ok e1; then
    expect_field e1 streams_not_kept '>=' 1
    expect_field e1 streams_copied == 3
    expect_field e1 stream_bytes == $((15 + 40960))
    cmp -s "$work/depot/huge.txt" "$orig/streams.data" || fail "e1: the local huge.txt's data differs"
    checks=""
    for n in empty small big; do checks+="stream"$'\t'"$work/depot/huge.txt"$'\t'"$n"$'\t'"$orig/$n"$'\n'; done
    checks+="nostream"$'\t'"$work/depot/huge.txt"$'\t'"huge"$'\n'"list"$'\t'"$work/depot/huge.txt"
    xattr_checks e1 "$checks"
    grep -q '^not kept  *huge.txt: ' "$out/e1.err" || fail "e1: no \"not kept\" line for huge.txt in -v:"$'\n'"$(indent <"$out/e1.err")"
    echo "  e1: -v: $(grep '^not kept' "$out/e1.err" | head -n 1)"
fi
run e2 "smb://$h1/depot/src" "smb://$h1/depot/other"
if ran_ok e2; then
    expect_field e2 streams_copied == 4
    expect_field e2 stream_bytes == $((15 + 40960 + 3145728))
    take e2 no "$h1" depot other huge.txt && same_snap e2 no depot e2
fi

# ---------------------------------------------------------------- f. Apple streams
echo "f. fruit: AFP_AfpInfo and AFP_Resource"
smbc "$h1" fruit "mkdir src; put $orig/streams.data src/mac.txt; put $orig/afpinfo src/mac.txt:AFP_AfpInfo;
    put $orig/rsrc src/mac.txt:AFP_Resource; put $orig/small src/mac.txt:small" ||
    die "setup: smbclient could not write fruit/src (AfpInfo refused?)"
snapshot fruit no "$h1" fruit src mac.txt || die "setup: cannot read fruit/src back"
for n in afpinfo:AFP_AfpInfo rsrc:AFP_Resource small:small; do
    cmp -s "$work/snap/fruit/mac.txt/data/${n#*:}" "$orig/${n%%:*}" || die "setup: fruit/src/mac.txt:${n#*:} is not what was put"
done
run f1 "smb://$h1/fruit/src" "smb://$h1/fruit/copy"
if ran_ok f1; then
    expect_field f1 streams_copied == 3
    take f1 no "$h1" fruit copy mac.txt && same_snap f1 no fruit f1
fi
run f2 "smb://$h1/fruit/src" "$work/fruit"
if ran_ok f2; then
    expect_field f2 streams_copied == 3
    checks="stream"$'\t'"$work/fruit/mac.txt"$'\t'"AFP_AfpInfo"$'\t'"$orig/afpinfo"$'\n'
    checks+="stream"$'\t'"$work/fruit/mac.txt"$'\t'"AFP_Resource"$'\t'"$orig/rsrc"$'\n'
    checks+="list"$'\t'"$work/fruit/mac.txt"
    xattr_checks f2 "$checks"
    run f3 "$work/fruit" "smb://$h1/fruit/back"
    if ran_ok f3; then
        expect_field f3 streams_copied == 3
        take f3 no "$h1" fruit back mac.txt && same_snap f3 no fruit f3
    fi
fi

# ---------------------------------------------------------------- g. --acls=all
# The fixture's user lacks SeSecurityPrivilege: the SACL is refused at the
# source, reported once per file, and the rest of each descriptor copied,
# whichever way the file goes (a small one with its data in one round trip,
# one with streams through open files).
echo "g. --acls=all: the SACL refused, the rest copied"
# sacl_lines TAG: one "SACL not copied" line in -v for each file, and no other "not kept".
sacl_lines() {
    local f n
    for f in "${files[@]}"; do
        n=$(grep -c "^not kept  *$f: SACL not copied: .*reading the SACL needs SeSecurityPrivilege" "$out/$1.err" || true)
        [ "$n" = 1 ] || fail "$1: $n \"SACL not copied\" lines for $f in -v, expected 1"
    done
    n=$(grep -c '^not kept ' "$out/$1.err" || true)
    [ "$n" = "$sds" ] || fail "$1: $n \"not kept\" lines in -v, expected $sds (files and directories)"
}
run g1 --acls=all "smb://$h1/fidelity/src" "smb://$h2/fidelity/all"
if ran_ok g1; then
    expect_field g1 sds_copied == $sds
    expect_field g1 sds_not_kept == $sds
    sacl_lines g1
    take g1 yes "$h2" fidelity all "${files[@]}" && same_snap g1 yes src g1
fi
run g2 --acls=all "smb://$h1/fidelity/src" "$work/all"
if ran_ok g2; then
    expect_field g2 sds_copied == $sds
    expect_field g2 sds_not_kept == $sds
    sacl_lines g2
    checks=""
    for f in "${files[@]}"; do checks+="sd"$'\t'"$work/all/$f"$'\t'"$s/$f/acl"$'\n'; done
    xattr_checks g2 "$checks"
    echo "  g2: compared: user.smbcopy.ntsd of ${#files[@]} local files (decoded, against smbcacls of the source)"
fi
# A local descriptor without a SACL (b1's): nothing refused.
run g3 --acls=all "$work/local" "smb://$h1/fidelity2/all"
if ran_ok g3; then
    expect_field g3 sds_copied == $sds
    expect_field g3 sds_not_kept == 0
    take g3 yes "$h1" fidelity2 all "${files[@]}" && same_snap g3 yes src g3
    same_dir g3 "$h1" fidelity2 all yes
fi

# ---------------------------------------------------------------- h. a file split between shards
echo "h. a file split between 2 shards, with --acls: its streams and ACL set by the finish"
head -c $((24 * 1024 * 1024)) /dev/urandom >"$orig/split.data"
smbc "$h1" fidelity "mkdir shsrc; put $orig/split.data shsrc/split.bin; put $orig/small shsrc/split.bin:small;
    put $orig/big shsrc/split.bin:big; put $orig/plain.data shsrc/plain.txt" ||
    die "setup: smbclient could not write shsrc"
cacls "$h1" fidelity shsrc/split.bin -a 'ACL:S-1-5-32-545:ALLOWED/0x0/READ' >/dev/null ||
    die "setup: smbcacls -a on shsrc/split.bin failed"
take shsrc yes "$h1" fidelity shsrc split.bin plain.txt
run h-plan --acls --plan-out "$work/shplan.json" --shards 2 "smb://$h1/fidelity/shsrc" "smb://$h1/fidelity2/shdst"
if [ "$rc" -ne 0 ] || [ "$(jq '.split_files | length' "$work/shplan.json" 2>/dev/null)" != 1 ]; then
    fail "h-plan: exit $rc, or split.bin is not split: $(tail -n 3 "$out/h-plan.err")"
else
    run h-s0 --plan "$work/shplan.json" --shard 0
    ran_ok h-s0
    run h-s1 --plan "$work/shplan.json" --shard 1
    ran_ok h-s1
    run h-finish --plan "$work/shplan.json" --finish
    if ran_ok h-finish; then
        expect_field h-finish streams_copied == 2
        take h yes "$h1" fidelity2 shdst split.bin plain.txt && same_snap h yes shsrc h
    fi
fi

echo "$((SECONDS - t0)) s"
if ((failures)); then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "fidelity: streams and security descriptors kept SMB to SMB (one server, two), through a local tree, Apple streams; reported where not kept"

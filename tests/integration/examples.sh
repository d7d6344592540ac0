#!/usr/bin/env bash
# The example programs of examples/ (the quickstart has quickstart.sh) run
# against the fixture's Samba and do what they say, checked on the
# server's disk and with smbclient:
#   smb2-put    a few MiB of random bytes, from a file and from stdin, are
#               byte for byte on disk and read back by smbclient; an
#               existing file is replaced; an upload killed halfway leaves
#               neither its temporary file nor anything under the final name;
#   smb2-cat    gives the bytes of a file that smbclient put (NULs included);
#   smb2-ls     lists what is on disk (types, names, sizes), a file alone,
#               and the modification time that lowlevel_file set;
#   lowlevel_file  creates (then overwrites) a file, cuts it and dates it,
#               deletes it on close, or keeps it with --keep;
#   lowlevel_dir   creates a directory and three files, matches two with a
#               pattern, removes them all, or keeps them with --keep;
#   failures    a wrong password, a missing share, file or directory, a
#               password in the URL: exit status not 0, one line on stderr.
set -euo pipefail
# shellcheck source=lib/skip.sh
. "$(dirname "$0")/lib/skip.sh"
env_file=${SMBCOPY_TEST_ENV:?run through ctest}
[ -r "$env_file" ] || skip "Samba fixture environment missing: $env_file"
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
command -v smbclient >/dev/null 2>&1 || skip "smbclient not found (scripts/install-deps.sh installs it)"
bin=${SMBCOPY_BUILD_DIR:?run through ctest}
for prog in smb2-ls smb2-cat smb2-put lowlevel_file lowlevel_dir; do
    [ -x "$bin/$prog" ] || { echo "FAIL: example not built: $bin/$prog" >&2; exit 1; }
done

# The test's own directory on the share (disk), its URL, and a local scratch directory.
name=examples.$$.$RANDOM
disk=$SMBCOPY_TEST_SHARE_DIR/$name
server=smb://$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT
url=$server/$SMBCOPY_TEST_SHARE/$name
work=$(mktemp -d "${TMPDIR:-/tmp}/smbcopy-examples.XXXXXX")
writer_open=
cleanup() {
    [ -z "$writer_open" ] || exec 3>&-
    if [ "${SMBCOPY_TEST_KEEP:-}" = 1 ]; then
        echo "kept: $work $disk"
    else
        rm -rf -- "$work" "$disk"
    fi
}
trap cleanup EXIT
mkdir -p -- "$disk"

# The examples take their credentials from the environment only.
export SMB_USERNAME=$SMBCOPY_TEST_USER SMB_PASSWORD=$SMBCOPY_TEST_PASSWORD SMB_DOMAIN=$SMBCOPY_TEST_DOMAIN

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
# smbc COMMANDS: smbclient on the share, in the test's directory, with the fixture's credentials.
smbc() {
    timeout 60 smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" -p "$SMBCOPY_TEST_PORT" \
        -A "$SMBCOPY_TEST_FIXTURE_DIR/smbclient.auth" -D "$name" -c "$1" >"$work/smbclient.log" 2>&1
}
# run TAG PROG ARGS...: an example that must succeed; its output in $work/TAG.out and .err.
run() {
    local tag=$1 prog=$2
    shift 2
    local rc=0
    timeout 60 "$bin/$prog" "$@" >"$work/$tag.out" 2>"$work/$tag.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$tag: $prog exited $rc: $(head -c 300 "$work/$tag.err")"
        return 1
    fi
}
# expect_fail TAG PATTERN [VAR=VALUE...] PROG ARGS...: an example that must
# fail: exit status not 0 (nor a crash), exactly one line on stderr,
# matching the extended regular expression PATTERN.
expect_fail() {
    local tag=$1 pattern=$2
    shift 2
    local rc=0
    timeout 60 env "$@" >"$work/$tag.out" 2>"$work/$tag.err" </dev/null || rc=$?
    local lines
    lines=$(wc -l <"$work/$tag.err")
    if [ "$rc" -eq 0 ] || [ "$rc" -gt 2 ]; then
        fail "$tag: exit status $rc, expected 1 or 2 (stderr: $(head -c 300 "$work/$tag.err"))"
    elif [ "$lines" -ne 1 ]; then
        fail "$tag: $lines lines on stderr, expected one: $(head -c 300 "$work/$tag.err")"
    elif ! grep -Eq -- "$pattern" "$work/$tag.err"; then
        fail "$tag: stderr does not match '$pattern': $(cat "$work/$tag.err")"
    fi
}
# entries DIR: the names in DIR, sorted, on one line (or what find says when it is missing).
entries() {
    find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>&1 | LC_ALL=C sort | tr '\n' ' '
}
# disk_names DIR: "TYPE SIZE NAME" of DIR's entries on disk, sorted; a directory's size as "-".
disk_names() {
    find "$1" -mindepth 1 -maxdepth 1 -printf '%y %s %f\n' |
        sed -E 's/^d [0-9]+ /DIR - /; s/^f /FILE /' | LC_ALL=C sort
}
# ls_names FILE: the same from smb2-ls's output ("TYPE SIZE DATE TIME NAME").
ls_names() {
    sed -E 's/^(DIR|FILE|LINK) +([0-9]+)  [0-9-]+ [0-9:]+  (.*)$/\1 \2 \3/; s/^DIR [0-9]+ /DIR - /' "$1" |
        LC_ALL=C sort
}

# ---------------------------------------------------------------- smb2-put
# A few MiB of random bytes, not a multiple of anything.
head -c $((3 * 1024 * 1024 + 12345)) /dev/urandom >"$work/random.bin"
if run put-file smb2-put "$work/random.bin" "$url/random.bin"; then
    cmp -s "$work/random.bin" "$disk/random.bin" || fail "smb2-put: the file on disk differs from the one put"
    if smbc 'get random.bin '"$work/back.bin"; then
        cmp -s "$work/random.bin" "$work/back.bin" || fail "smb2-put: smbclient reads other bytes back"
    else
        fail "smbclient get: $(tail -n 3 "$work/smbclient.log" | tr '\n' ' ')"
    fi
fi
# From stdin (a pipe, which gives a little at a time), then again over the same name: replaced whole.
# (A process substitution, not `cat | run`: run must count its failures in this shell.)
if run put-stdin smb2-put "$url/from-stdin.bin" < <(cat "$work/random.bin"); then
    cmp -s "$work/random.bin" "$disk/from-stdin.bin" || fail "smb2-put from stdin: the file on disk differs"
fi
printf 'short\0binary\n' >"$work/short.bin"
if run put-replace smb2-put - "$url/from-stdin.bin" <"$work/short.bin"; then
    cmp -s "$work/short.bin" "$disk/from-stdin.bin" || fail "smb2-put over an existing file: not replaced whole"
fi
# No temporary file stays behind.
leftover=$(find "$disk" -name '*.smb2-put-*' | head -n 3)
[ -z "$leftover" ] || fail "smb2-put left temporary files: $leftover"

# Killed halfway: 5 MiB offered through a FIFO, the first 4 MiB (one chunk)
# written to the temporary file, then SIGKILL while it waits for the rest.
# The server deletes the temporary file (it was marked delete-on-close) and
# nothing ever appears under the final name.
mkfifo "$work/fifo"
"$bin/smb2-put" "$url/killed.bin" <"$work/fifo" 2>"$work/put-killed.err" &
put_pid=$!
exec 3>"$work/fifo"
writer_open=1
# (bounded: an example that stopped reading must not hang the test; it fails below)
timeout 30 head -c $((5 * 1024 * 1024)) /dev/urandom >&3 || true
tmp=
for _ in $(seq 100); do
    tmp=$(find "$disk" -name 'killed.bin.smb2-put-*' -size +4095k | head -n 1)
    [ -n "$tmp" ] && break
    sleep 0.1
done
kill -9 "$put_pid" 2>/dev/null || true
{ wait "$put_pid"; } 2>/dev/null || true # (braces: without bash's "Killed" notice)
exec 3>&-
writer_open=
if [ -z "$tmp" ]; then
    fail "smb2-put killed: its temporary file never held the first 4 MiB ($(cat "$work/put-killed.err"))"
else
    for _ in $(seq 100); do
        [ -e "$tmp" ] || break
        sleep 0.1
    done
    [ ! -e "$tmp" ] || fail "smb2-put killed: the server kept its temporary file $tmp"
fi
[ ! -e "$disk/killed.bin" ] || fail "smb2-put killed: something appeared under the final name"

# ---------------------------------------------------------------- smb2-cat
# Bytes smbclient put, NULs and all, come out as they are; an empty file gives nothing.
{
    head -c $((2 * 1024 * 1024 + 7)) /dev/urandom
    head -c 1000 /dev/zero
} >"$work/for-cat.bin"
if smbc 'put '"$work/for-cat.bin"' for-cat.bin'; then
    if run cat smb2-cat "$url/for-cat.bin"; then
        cmp -s "$work/for-cat.bin" "$work/cat.out" || fail "smb2-cat: other bytes than smbclient put"
    fi
else
    fail "smbclient put: $(tail -n 3 "$work/smbclient.log" | tr '\n' ' ')"
fi
: >"$disk/empty.txt"
if run cat-empty smb2-cat "$url/empty.txt"; then
    [ ! -s "$work/cat-empty.out" ] || fail "smb2-cat of an empty file wrote bytes"
fi

# ---------------------------------------------------------------- lowlevel_file
# Without --keep: created, then deleted on close.
if run ll-file lowlevel_file "$url/ll.txt"; then
    grep -qxF "1. create '$name/ll.txt': created" "$work/ll-file.out" || fail "lowlevel_file: no 'created' line"
    grep -q '^6\. deleted on close' "$work/ll-file.out" || fail "lowlevel_file: no 'deleted on close' line"
    [ ! -e "$disk/ll.txt" ] || fail "lowlevel_file: ll.txt still on disk after its delete-on-close"
fi
# With --keep over an existing file: overwritten, cut after the first line, dated 2000-01-01.
echo "old content, longer than what the example leaves in the file" >"$disk/ll.txt"
if run ll-file-keep lowlevel_file --keep "$url/ll.txt"; then
    grep -qxF "1. create '$name/ll.txt': existed, overwritten" "$work/ll-file-keep.out" ||
        fail "lowlevel_file: no 'existed, overwritten' line"
    grep -q '^2\. wrote 87 bytes, read the same 87 back$' "$work/ll-file-keep.out" ||
        fail "lowlevel_file: no write and read line"
    printf "Hello from smbcopy's lowlevel_file example.\n" >"$work/ll.expected"
    cmp -s "$work/ll.expected" "$disk/ll.txt" ||
        fail "lowlevel_file --keep: ll.txt holds '$(head -c 200 "$disk/ll.txt")'"
    [ "$(stat -c %Y "$disk/ll.txt")" = 946684800 ] ||
        fail "lowlevel_file --keep: mtime $(stat -c %y "$disk/ll.txt"), expected 2000-01-01 00:00:00 UTC"
fi

# ---------------------------------------------------------------- lowlevel_dir
# Without --keep: everything it made is gone again.
if run ll-dir lowlevel_dir "$url/newdir"; then
    grep -q '^   2 match(es)$' "$work/ll-dir.out" || fail "lowlevel_dir: not two matches"
    grep -q '^5\. removed directory' "$work/ll-dir.out" || fail "lowlevel_dir: no 'removed directory' line"
    [ ! -e "$disk/newdir" ] || fail "lowlevel_dir: newdir still on disk, holding: $(entries "$disk/newdir")"
fi
# With --keep: the directory and its three files stay; the pattern matched the two reports only.
if run ll-dir-keep lowlevel_dir --keep "$url/newdir"; then
    sed -n '/^3\. /,/match(es)$/p' "$work/ll-dir-keep.out" | sed -nE 's/^   (\S+) +[0-9]+ bytes$/\1/p' \
        >"$work/matches"
    printf 'report-1.txt\nreport-2.txt\n' | diff - "$work/matches" >/dev/null ||
        fail "lowlevel_dir: the pattern matched: $(tr '\n' ' ' <"$work/matches")"
    [ "$(entries "$disk/newdir")" = "notes.md report-1.txt report-2.txt " ] ||
        fail "lowlevel_dir --keep: newdir holds: $(entries "$disk/newdir")"
    for f in report-1.txt report-2.txt notes.md; do
        [ "$(cat "$disk/newdir/$f" 2>/dev/null)" = "This is $name/newdir/$f." ] ||
            fail "lowlevel_dir --keep: $f holds '$(head -c 200 "$disk/newdir/$f" 2>&1)'"
    done
fi
# Once more: the directory exists, so it fails, and touches nothing.
expect_fail ll-dir-exists 'STATUS_OBJECT_NAME_COLLISION' "$bin/lowlevel_dir" "$url/newdir"
[ "$(find "$disk/newdir" -type f | wc -l)" -eq 3 ] || fail "lowlevel_dir: a failed run changed newdir"

# ---------------------------------------------------------------- smb2-ls
# What is on disk, names and sizes: the test's directory (written above) and the fixture's sample.
for d in "$name" sample; do
    if run "ls-$d" smb2-ls "$server/$SMBCOPY_TEST_SHARE/$d"; then
        ls_names "$work/ls-$d.out" >"$work/ls.got"
        disk_names "$SMBCOPY_TEST_SHARE_DIR/$d" >"$work/ls.expected"
        [ -s "$work/ls.expected" ] || fail "smb2-ls: nothing on disk in $d to compare with"
        diff "$work/ls.expected" "$work/ls.got" >"$work/ls.diff" ||
            fail "smb2-ls $d: differs from the disk: $(head -n 8 "$work/ls.diff" | tr '\n' ' ')"
    fi
done
# A file alone, with the modification time lowlevel_file gave it.
if run ls-file smb2-ls "$url/ll.txt"; then
    [ "$(cat "$work/ls-file.out")" = "FILE           44  2000-01-01 00:00:00  ll.txt" ] ||
        fail "smb2-ls of a file: $(cat "$work/ls-file.out")"
fi
# A name to percent-decode: "café ☕.txt" of the sample directory.
if run ls-utf8 smb2-ls "$server/$SMBCOPY_TEST_SHARE/sample/caf%C3%A9%20%E2%98%95.txt"; then
    grep -q '  café ☕\.txt$' "$work/ls-utf8.out" ||
        fail "smb2-ls of a percent-encoded name: $(cat "$work/ls-utf8.out")"
fi

# ---------------------------------------------------------------- failures
# A wrong password: every example says so in one line.
expect_fail bad-password-ls STATUS_LOGON_FAILURE SMB_PASSWORD=wrong "$bin/smb2-ls" "$url"
expect_fail bad-password-cat STATUS_LOGON_FAILURE SMB_PASSWORD=wrong "$bin/smb2-cat" "$url/random.bin"
expect_fail bad-password-put STATUS_LOGON_FAILURE SMB_PASSWORD=wrong "$bin/smb2-put" "$work/short.bin" "$url/x.bin"
expect_fail bad-password-file STATUS_LOGON_FAILURE SMB_PASSWORD=wrong "$bin/lowlevel_file" "$url/x.txt"
expect_fail bad-password-dir STATUS_LOGON_FAILURE SMB_PASSWORD=wrong "$bin/lowlevel_dir" "$url/x"
# Missing share, file, directory.
missing_share=$server/no-such-share-$$/x
expect_fail no-share-ls STATUS_BAD_NETWORK_NAME "$bin/smb2-ls" "$missing_share"
expect_fail no-share-file STATUS_BAD_NETWORK_NAME "$bin/lowlevel_file" "$missing_share"
expect_fail no-file-cat STATUS_OBJECT_NAME_NOT_FOUND "$bin/smb2-cat" "$url/no-such-file"
[ ! -s "$work/no-file-cat.out" ] || fail "smb2-cat of a missing file wrote to stdout"
expect_fail no-dir-ls STATUS_OBJECT_NAME_NOT_FOUND "$bin/smb2-ls" "$url/no-such-dir"
expect_fail no-dir-put STATUS_OBJECT_PATH_NOT_FOUND "$bin/smb2-put" "$work/short.bin" "$url/no-such-dir/x.bin"
expect_fail no-dir-file STATUS_OBJECT_PATH_NOT_FOUND "$bin/lowlevel_file" "$url/no-such-dir/x.txt"
expect_fail no-dir-dir STATUS_OBJECT_PATH_NOT_FOUND "$bin/lowlevel_dir" "$url/no-such-dir/x"
expect_fail no-local-put 'No such file' "$bin/smb2-put" "$work/no-such-local-file" "$url/x.bin"
# A password in the URL is refused before anything is sent.
expect_fail password-in-url 'SMB_PASSWORD' "$bin/smb2-ls" \
    "smb://$SMBCOPY_TEST_USER:$SMBCOPY_TEST_PASSWORD@$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT/$SMBCOPY_TEST_SHARE"
grep -qF -- "$SMBCOPY_TEST_PASSWORD" "$work/password-in-url.err" && fail "smb2-ls printed the password from the URL"
# None of the failures left anything behind.
for f in x.bin x.txt x; do
    [ ! -e "$disk/$f" ] || fail "a failed run left $f behind"
done

if ((failures)); then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "examples: smb2-put, smb2-cat, smb2-ls, lowlevel_file and lowlevel_dir checked on disk and with" \
    "smbclient; failures one line each"

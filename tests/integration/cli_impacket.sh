#!/usr/bin/env bash
# smbcopy against impacket's SMB server, a server unlike Samba and Windows
# in three ways that each failed whole jobs before:
#   - NTLM: it offers key exchange without signing, then signs with the
#     exchanged key (the logon failed with "bad signature");
#   - it refuses server-side copy (STATUS_INVALID_DEVICE_REQUEST): a
#     share-to-share copy falls back to streaming, said once with -v;
#   - it takes a file's modification time from ChangeTime, at whole seconds
#     (every upload failed its time check): smbcopy finds that out once per
#     job, says so with -v, and compares times within 2 s, so that a second
#     run copies nothing;
# and it speaks SMB 2.0.2 only (64 KiB reads and writes). Every copy is
# compared byte for byte; with smbclient too.
# Skipped without python3-impacket; fails under CI=true.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"
need_impacket
need_tools smbclient cmp

cli_test_dirs cli_impacket
ishare=$SMBCOPY_TEST_IMPACKET_SHARE_DIR/$name
cleanup_dirs+=("$ishare")
mkdir -p -- "$ishare"
iurl=smb://$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_IMPACKET_PORT/$SMBCOPY_TEST_IMPACKET_SHARE/$name
iauth=$SMBCOPY_TEST_IMPACKET_AUTH

# irun TAG ARGS...: smbcopy with impacket's credentials, --json; rc, $work/out/TAG.{out,err}.
irun() {
    local tag=$1
    shift
    set +e
    timeout 300 "$cli" -A "$iauth" --no-progress --json "$@" </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err"
    rc=$?
    set -e
}
show() {
    echo "---- $1: exit $rc" >&2
    tail -n 20 "$work/out/$1.err" >&2
    head -c 2000 "$work/out/$1.out" >&2
    echo >&2
}
expect_ok() {
    if [ "$rc" -ne 0 ]; then
        fail "$1: exit $rc, expected 0"
        show "$1"
    fi
}
same_tree() { # A B TAG
    if ! diff -r -- "$1" "$2" >"$work/out/$3.diff" 2>&1; then
        fail "$3: trees differ: $(head -n 5 "$work/out/$3.diff" | tr '\n' ' ')"
    fi
}

src=$work/src
mkdir -p "$src/d/e"
printf 'hello\n' >"$src/a.txt"
head -c 65537 /dev/urandom >"$src/d/just-over-64k.bin"
head -c $((3 * 1024 * 1024 + 5)) /dev/urandom >"$src/d/e/big.bin"
: >"$src/empty"

# Upload: the logon (key exchange without signing) and the time precision found.
irun up -v "$src" "$iurl/up"
expect_ok up
same_tree "$src" "$ishare/up" up
grep -q "keeps modification times" "$work/out/up.err" || fail "up: -v does not say how the destination keeps times"
[ "$(field up files_copied)" = 4 ] || fail "up: files_copied $(field up files_copied), expected 4"
# A second run: everything up to date (times within what the server keeps).
irun up-again "$src" "$iurl/up"
expect_ok up-again
[ "$(field up-again files_copied)" = 0 ] || fail "up-again: copied $(field up-again files_copied) files again"
[ "$(field up-again files_skipped)" = 4 ] || fail "up-again: skipped $(field up-again files_skipped), expected 4"

# Download.
irun down "$iurl/up" "$work/down"
expect_ok down
same_tree "$src" "$work/down" down

# Share to share on the one server: server-side copy refused, streamed instead, said once.
irun s2s -v "$iurl/up" "$iurl/copy"
expect_ok s2s
same_tree "$src" "$ishare/copy" s2s
n=$(grep -c "refuses server-side copy" "$work/out/s2s.err" || true)
[ "$n" = 1 ] || fail "s2s: the fallback was said $n times, expected once"
[ "$(field s2s bytes_server_copied)" = 0 ] || fail "s2s: bytes_server_copied is not 0"

# smbclient reads back what smbcopy wrote.
set +e
timeout 60 smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_IMPACKET_SHARE" -p "$SMBCOPY_TEST_IMPACKET_PORT" -A "$iauth" \
    -c "get $name/copy/d/e/big.bin $work/big.smbclient" >"$work/out/smbclient.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] && cmp -s "$src/d/e/big.bin" "$work/big.smbclient" ||
    fail "smbclient: big.bin read back differs (exit $rc): $(tail -n 3 "$work/out/smbclient.out" | tr '\n' ' ')"

cli_test_end "cli_impacket: logon, uploads, reruns, downloads and share-to-share copies against impacket passed"

#!/usr/bin/env bash
# Several connections (independent sessions) per server, --connections N:
#   - uploads and downloads of a tree and of a file large enough to be split
#     into ranges come out identical, and the job used exactly N connections;
#   - a share-to-share copy on one server stays server-side (each thread's
#     source and destination opens share its connection) and is identical;
#   - smbclient reads back the large file the upload wrote;
#   - --connections 0 and 17 are usage errors (exit 2).
# SMBCOPY_TEST_KEEP=1 keeps the test's directories for a look afterwards.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

cli_test_dirs cli_connections
# run TAG ARGS...: smbcopy with --json; rc in $rc.
run() {
    local tag=$1
    shift
    set +e
    "$cli" -A "$auth" --json "$@" </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err"
    rc=$?
    set -e
}
expect_ok() {
    [ "$rc" -eq 0 ] || fail "$1: exit $rc: $(tail -n 3 "$work/out/$1.err")"
}

src=$work/src
for d in 1 2 3 4; do
    mkdir -p "$src/d$d"
    head -c $((60 * 3000)) /dev/urandom | split -b 3000 -d -a 2 - "$src/d$d/f"
done
# 150 MiB: split into ranges of 32 MiB that several threads copy at once.
head -c $((150 * 1024 * 1024 + 4097)) /dev/urandom >"$src/large.bin"

run up --connections 3 --threads 6 "$src" "$url/up"
expect_ok up
[ "$(field up connections)" = 3 ] || fail "up: used $(field up connections) connections, expected 3"
diff -r "$src" "$share/up" >/dev/null || fail "up: the share's copy differs from the source"

smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" -p "$SMBCOPY_TEST_PORT" -A "$auth" \
    -c "get $name/up/large.bin $work/large.smbclient" >/dev/null 2>&1 || fail "smbclient get failed"
cmp -s "$work/large.smbclient" "$src/large.bin" || fail "smbclient reads other bytes than were uploaded"

run down --connections 3 --threads 6 "$url/up" "$work/down"
expect_ok down
[ "$(field down connections)" = 3 ] || fail "down: used $(field down connections) connections, expected 3"
diff -r "$src" "$work/down" >/dev/null || fail "down: the local copy differs from the source"

run s2s --connections 2 --threads 4 "$url/up" "$url/copy"
expect_ok s2s
[ "$(field s2s connections)" = 2 ] || fail "s2s: used $(field s2s connections) connections, expected 2"
sc=$(field s2s bytes_server_copied)
[ "$sc" -ge $((150 * 1024 * 1024)) ] || fail "s2s: only $sc bytes copied server-side"
diff -r "$src" "$share/copy" >/dev/null || fail "s2s: the server-side copy differs from the source"

run one --connections 1 --threads 4 "$src" "$url/one"
expect_ok one
[ "$(field one connections)" = 1 ] || fail "one: used $(field one connections) connections, expected 1"
diff -r "$src" "$share/one" >/dev/null || fail "one: the share's copy differs from the source"

for bad in 0 17 x; do
    run "bad$bad" --connections "$bad" "$src" "$url/bad"
    [ "$rc" -eq 2 ] || fail "--connections $bad: exit $rc, expected 2"
done

cli_test_end "all connection checks passed"

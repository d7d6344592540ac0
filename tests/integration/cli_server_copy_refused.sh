#!/usr/bin/env bash
# A server that refuses server-side copy (tests/hostile's refuse-copychunk:
# FSCTL_SRV_COPYCHUNK_WRITE answered STATUS_INVALID_DEVICE_REQUEST, as
# impacket's server does): a share-to-share copy on it streams through the
# client instead, decided once per job:
#   - every file arrives with its bytes (a 3 MiB file in ranges, small files,
#     the file that met the refusal too: compared in the server's store),
#     exit 0, nothing temporary left;
#   - -v says so on exactly one line, naming the status;
#   - --json: bytes_server_copied 0, bytes_read and bytes_written the tree's size.
# Environment (CTest): SMBCOPY_CLI, SMBCOPY_BUILD_DIR (for hostile_smbd).
set -euo pipefail
# shellcheck source=lib/skip.sh
. "$(dirname "$0")/lib/skip.sh"
cli=${SMBCOPY_CLI:?run through ctest}
srv=${SMBCOPY_BUILD_DIR:?run through ctest}/tests/hostile_smbd
[ -x "$srv" ] || skip "hostile_smbd not built: $srv"
command -v jq >/dev/null 2>&1 || skip "jq not found (scripts/install-deps.sh installs it)"

work=$(mktemp -d "${TMPDIR:-/tmp}/cli_server_copy_refused.XXXXXX")
srv_pid=
cleanup() {
    if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true; fi
    if [ "${SMBCOPY_TEST_KEEP:-}" = 1 ]; then echo "kept: $work"; else rm -rf -- "$work"; fi
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

mkdir -p "$work/store" "$work/src/sub" "$work/state"
"$srv" --mode refuse-copychunk --store "$work/store" --port-file "$work/port" >/dev/null 2>"$work/server.err" &
srv_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { echo "FAIL: hostile_smbd did not start: $(tail -n 3 "$work/server.err")" >&2; exit 1; }
base="smb://tester@127.0.0.1:$(cat "$work/port")/share"
export SMB_PASSWORD=hostile-pass XDG_STATE_HOME=$work/state

# The tree: one file split into ranges, small ones.
head -c $((3 * 1024 * 1024 + 7)) /dev/urandom >"$work/src/big.bin"
for i in 1 2 3 4 5; do head -c $((i * 1000)) /dev/urandom >"$work/src/sub/s$i"; done
total=$(find "$work/src" -type f -printf '%s\n' | awk '{s += $1} END {print s}')

run() { # TAG ARGS...: smbcopy, exit status in rc
    local tag=$1
    shift
    set +e
    timeout 120 "$cli" --no-progress --retry-for 0 --timeout 5 "$@" </dev/null >"$work/$tag.out" 2>"$work/$tag.err"
    rc=$?
    set -e
}

run up "$work/src/" "$base/in/"
[ "$rc" -eq 0 ] || { echo "FAIL: the upload to the store failed (exit $rc): $(tail -n 3 "$work/up.err")" >&2; exit 1; }

# Share to share on the same server: server-side copy is tried, refused, and the job streams.
run copy -v --json "$base/in/" "$base/out/"
[ "$rc" -eq 0 ] || fail "share-to-share copy: exit $rc, expected 0: $(grep -v '^{' "$work/copy.err" | tail -n 3 | tr '\n' ' ')"
n=$(cat "$work/copy.out" "$work/copy.err" | grep -c 'refuses server-side copy' || true)
[ "$n" -eq 1 ] || fail "-v: $n lines say that the server refuses server-side copy, expected exactly 1"
grep -q 'STATUS_INVALID_DEVICE_REQUEST' "$work/copy.out" "$work/copy.err" || fail "-v: the refusal's status is not named"
json=$(grep '^{' "$work/copy.out" | tail -n 1 || true)
[ -n "$json" ] || fail "--json printed no object"
if [ -n "$json" ]; then
    [ "$(jq -r .bytes_server_copied <<<"$json")" = 0 ] || fail "bytes_server_copied is $(jq -r .bytes_server_copied <<<"$json"), expected 0"
    [ "$(jq -r .files_failed <<<"$json")" = 0 ] || fail "files_failed is $(jq -r .files_failed <<<"$json")"
    [ "$(jq -r .bytes_written <<<"$json")" = "$total" ] || fail "bytes_written is $(jq -r .bytes_written <<<"$json"), expected $total"
fi
# What arrived, in the server's store.
diff -r "$work/src" "$work/store/out" >"$work/diff" 2>&1 || fail "the copy differs from the source: $(head -n 3 "$work/diff" | tr '\n' ' ')"
left=$(find "$work/store" -name '.smbcopy-*' | head -n 3)
[ -z "$left" ] || fail "temporary entries left: $left"

if ((failures)); then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "cli_server_copy_refused: a refused server-side copy streams through the client, said once"

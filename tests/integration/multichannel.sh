#!/usr/bin/env bash
# Multichannel against a real Samba in a private network namespace with two
# loopback addresses (tests/fixtures/samba-multichannel.sh, started and
# stopped here): the library's test program (itest_multichannel, cmocka)
# runs inside the namespace: interface discovery, a second channel bound on
# 127.0.0.2 with signing and on an encrypted share, 1 GiB each way spread
# over both channels and compared, a server without multichannel refusing
# the binding.
#
# Skips (exit 77) without root or network namespaces; fails instead when
# CI=true. SMBCOPY_TEST_KEEP=1 keeps the fixture. SMBCOPY_TEST_MIB (default
# 1024, a multiple of 64) scales the 1 GiB and 2 GiB transfers down for the
# ThreadSanitizer run.
set -euo pipefail

# shellcheck source=lib/skip.sh
. "$(dirname "$0")/lib/skip.sh"

build=${SMBCOPY_BUILD_DIR:?run through ctest}
source_dir=${SMBCOPY_SOURCE_DIR:?run through ctest}
fixture=$source_dir/tests/fixtures/samba-multichannel.sh

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
for t in smbd smbpasswd smbclient ip unshare; do
    command -v "$t" >/dev/null 2>&1 || skip "'$t' not found (scripts/install-deps.sh installs samba, smbclient, iproute2)"
done
ip netns list >/dev/null 2>&1 || skip "'ip netns' does not work here"
itest=$build/tests/itest_multichannel
[ -x "$itest" ] || { echo "FAIL: $itest missing" >&2; exit 1; }

dir=$build/samba-multichannel
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
ns=$(cat "$dir/netns")
SMBCOPY_MC_ENV=$dir/env ip netns exec "$ns" "$itest"

# smbcopy with --channels: download and upload of 1 GiB on the encrypted
# share, compared; the summary says how many channels each session got, the
# JSON counts every connection (2 sessions x 2 channels); --multichannel off
# and a server without multichannel stay on one channel per session, with a
# note and no error.
cli=${SMBCOPY_CLI:?run through ctest}
mib=${SMBCOPY_TEST_MIB:-1024}
work=$dir/cli
mkdir -p "$work/src" "$dir/mc/share/secret/in"
head -c $((mib * 1024 * 1024)) /dev/urandom >"$dir/mc/share/secret/in/big.bin"
printf 'small\n' >"$dir/mc/share/secret/in/small.txt"
head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/src/up.bin"
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
# run TAG ARGS...: smbcopy in the namespace; rc, $work/TAG.out (JSON), $work/TAG.err
run() {
    local tag=$1
    shift
    set +e
    ip netns exec "$ns" timeout 300 "$cli" -A "$dir/smbclient.auth" --no-progress --json "$@" \
        </dev/null >"$work/$tag.out" 2>"$work/$tag.err"
    rc=$?
    set -e
}
conns() { grep -o '"connections":[0-9]*' "$work/$1.out" | grep -o '[0-9]*$'; }

run down -v --channels 2 //127.0.0.1/secret/in "$work/down"
[ "$rc" -eq 0 ] || fail "download: exit $rc: $(head -c 300 "$work/down.err")"
diff -r "$dir/mc/share/secret/in" "$work/down" >/dev/null || fail "download: the trees differ"
grep -q 'multichannel to 127.0.0.1: 2 channels' "$work/down.err" || fail "download: no channel note: $(cat "$work/down.err")"
[ "$(conns down)" = 4 ] || fail "download: $(conns down) connections, expected 4 (2 sessions x 2 channels)"

run up -v --channels 2 "$work/src" //127.0.0.1/secret/up
[ "$rc" -eq 0 ] || fail "upload: exit $rc: $(head -c 300 "$work/up.err")"
cmp "$work/src/up.bin" "$dir/mc/share/secret/up/up.bin" || fail "upload: the file on the server differs"
if ! ip netns exec "$ns" smbclient //127.0.0.1/secret -A "$dir/smbclient.auth" -c "get up/up.bin $work/back.bin" \
    >"$work/smbclient.log" 2>&1 || ! cmp -s "$work/back.bin" "$work/src/up.bin"; then
    fail "upload: smbclient does not read back the same bytes: $(tail -n 2 "$work/smbclient.log")"
fi

# A channel's TCP connection killed (ss -K) in the middle of a 2 GiB
# download: exit 0, identical; the JSON counts the lost channel, and the
# pool's keeper binds it again while the copy goes on.
mkdir -p "$dir/mc/share/secret/in2"
ln "$dir/mc/share/secret/in/big.bin" "$dir/mc/share/secret/in2/big.bin"
truncate -s $((mib * 1024 * 1024)) "$dir/mc/share/secret/in2/zeros.bin"
head -c 1048576 /dev/urandom | dd of="$dir/mc/share/secret/in2/zeros.bin" conv=notrunc status=none
rm -rf "$work/lost"
set +e
ip netns exec "$ns" timeout 300 "$cli" -A "$dir/smbclient.auth" --no-progress --json --channels 2 \
    -j 2 //127.0.0.1/secret/in2 "$work/lost" </dev/null >"$work/lost.out" 2>"$work/lost.err" &
pid=$!
set -e
# (files are made at their full size: what they hold on disk tells the progress)
for _ in $(seq 1 2000); do
    written=$(find "$work" -path '*/.smbcopy-*' -type f -printf '%b\n' 2>/dev/null | awk '{s += $1 * 512} END {printf "%.0f", s}')
    [ "${written:-0}" -gt $((mib / 5 * 1024 * 1024)) ] && break
    sleep 0.002
done
kill -0 "$pid" 2>/dev/null || fail "channel lost: the download ended before the channel could be killed"
ip netns exec "$ns" ss -K dst 127.0.0.2 dport = :445 >/dev/null 2>&1 || fail "ss -K failed"
wait "$pid" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || fail "channel lost: exit $rc: $(head -c 300 "$work/lost.err")"
diff -r "$dir/mc/share/secret/in2" "$work/lost" >/dev/null || fail "channel lost: the trees differ"
lost=$(grep -o '"channels_lost":[0-9]*' "$work/lost.out" | grep -o '[0-9]*$' || true)
rebound=$(grep -o '"channels_rebound":[0-9]*' "$work/lost.out" | grep -o '[0-9]*$' || true)
[ "${lost:-0}" -ge 1 ] || fail "channel lost: the summary counts ${lost:-no} lost channels"
[ "${rebound:-0}" -ge 1 ] || fail "channel lost: the lost channel was not bound again (channels_rebound ${rebound:-missing})"

run off -v --channels 2 --multichannel off //127.0.0.1/secret/in "$work/off"
[ "$rc" -eq 0 ] || fail "multichannel off: exit $rc"
[ "$(conns off)" = 2 ] || fail "multichannel off: $(conns off) connections, expected 2"
! grep -q 'multichannel to' "$work/off.err" || fail "multichannel off: it was tried"

printf "hello\n" >"$dir/nomc/share/data/hello.txt"
run nomc -v --channels 2 smb://127.0.0.1:4455/data "$work/nomc"
[ "$rc" -eq 0 ] || fail "server without multichannel: exit $rc: $(head -c 300 "$work/nomc.err")"
grep -q 'multichannel to 127.0.0.1: one channel' "$work/nomc.err" ||
    fail "server without multichannel: no note saying one channel: $(cat "$work/nomc.err")"

[ "$failures" -eq 0 ] || exit 1
echo "multichannel: library tests passed; smbcopy over 2 channels per session, signed and encrypted"

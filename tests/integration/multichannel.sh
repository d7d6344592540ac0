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
# CI=true. SMBCOPY_TEST_KEEP=1 keeps the fixture.
set -euo pipefail

skip() {
    echo "SKIP: $*" >&2
    if [ "${CI:-}" = true ]; then
        echo "FAIL: CI=true, where this test must run" >&2
        exit 1
    fi
    exit 77
}

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

#!/usr/bin/env bash
# Multichannel beside independent sessions, in one command (as root):
# builds smbcopy, starts the multichannel fixture (a Samba in a private
# network namespace with two loopback addresses) and runs
# bench/multichannel.py, which writes bench/results/multichannel-<date>.md.
# RUNS (5) sets the runs per configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target smbcopy_cli >/dev/null
dir=$(mktemp -d /dev/shm/smbcopy-mc-fixture.XXXXXX)
rmdir "$dir"
trap 'bash tests/fixtures/samba-multichannel.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
bash tests/fixtures/samba-multichannel.sh start "$dir"
SMBCOPY_MC_ENV=$dir/env SMBCOPY_MC_AUTH=$dir/smbclient.auth SMBCOPY_CLI=$PWD/build/smbcopy \
    python3 bench/multichannel.py "$@"

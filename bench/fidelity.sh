#!/usr/bin/env bash
# What Windows metadata costs, in one command (as root): builds smbcopy,
# starts the test fixture's Samba in a tmpfs directory and runs
# bench/fidelity.py, which copies a tree of small files that carry named
# streams and security descriptors with and without them (--no-streams,
# the default, --acls) in each direction, and writes
# bench/results/fidelity-<date>.md. RUNS (3), FILES (10000) and
# STREAM_EVERY (10: one file in ten has a named stream) set the work.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh python3
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target smbcopy_cli >/dev/null
dir=$(mktemp -d /dev/shm/smbcopy-fidelity-bench.XXXXXX)
rmdir "$dir"
trap 'bash tests/fixtures/samba-fixture.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
SMBCOPY_FIXTURE_PORT_BASE=${SMBCOPY_FIXTURE_PORT_BASE:-45500} bash tests/fixtures/samba-fixture.sh start "$dir" >/dev/null
SMBCOPY_TEST_ENV=$dir/env SMBCOPY_CLI=$PWD/build/smbcopy python3 bench/fidelity.py "$@"

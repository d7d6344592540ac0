#!/usr/bin/env bash
# The benchmark suite in one command: installs what it needs (Debian
# packages), builds smbcopy, starts the sandbox Samba server of the test
# fixtures and runs bench/suite.py, which writes bench/results/suite-<date>.md
# and .json. Run as root. Settings (environment): RUNS (5), CONFIGS
# (plain,encrypted), SCENARIOS (large,small,mixed,delay,memory,archive),
# SMBCOPY_VARIANTS (extra smbcopy settings, e.g. "--connections 2,--threads 16"),
# CLIENTS (only these other clients, e.g. smbclient; "none"), BIG_MIB (1024),
# BENCH_DIR (a tmpfs directory under /dev/shm).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh rclone zstd python3
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target smbcopy_cli delay_proxy >/dev/null
exec python3 bench/suite.py "$@"

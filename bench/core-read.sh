#!/usr/bin/env bash
# First measurement of the client core: one 512 MiB file read from a local
# Samba server with 1, 4 and 16 READ requests in flight on one connection,
# beside `smbclient get` of the same file. Medians of RUNS runs (default 5)
# after a warm-up; results in bench/results/core-read-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
size_mib=${SIZE_MIB:-512}

scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target io_bench >/dev/null

dir=$(pwd)/build/bench-samba
trap 'tests/fixtures/samba-fixture.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
tests/fixtures/samba-fixture.sh start "$dir" >/dev/null
set -a; . "$dir/env"; set +a
export SMB_USERNAME=$SMBCOPY_TEST_USER SMB_PASSWORD=$SMBCOPY_TEST_PASSWORD SMB_DOMAIN=$SMBCOPY_TEST_DOMAIN
head -c $((size_mib << 20)) /dev/urandom > "$SMBCOPY_TEST_SHARE_DIR/bench.bin"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ours() { build/io_bench 127.0.0.1 "$SMBCOPY_TEST_PORT" "$SMBCOPY_TEST_SHARE" bench.bin "$1" | cut -d" " -f1; }
theirs() {
  # smbclient reports its own rate in KiB/s; convert to MB/s.
  smbclient "//127.0.0.1/$SMBCOPY_TEST_SHARE" -p "$SMBCOPY_TEST_PORT" -A "$dir/smbclient.auth" \
    -c "get bench.bin /dev/null" 2>&1 | sed -n 's/.*(\([0-9.]*\) KiloBytes\/sec).*/\1/p' | head -1 |
    awk '{printf "%.1f\n", $1 * 1024 / 1e6}'
}

ours 4 >/dev/null; theirs >/dev/null   # warm-up: the file is in the page cache from here on
declare -A result
for w in 1 4 16; do
  result[$w]=$(for _ in $(seq "$runs"); do ours "$w"; done | median)
done
result[smbclient]=$(for _ in $(seq "$runs"); do theirs; done | median)

out=bench/results/core-read-$(date -u +%Y-%m-%d).md
{
  echo "# One ${size_mib} MiB file read, one connection, SMB 3.1.1, no encryption"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(smbd --version), loopback; medians of $runs runs."
  echo
  echo "| client | MB/s | vs smbclient |"
  echo "|---|---|---|"
  for w in 1 4 16; do
    echo "| smbcopy library, $w in flight | ${result[$w]} | $(awk -v a="${result[$w]}" -v b="${result[smbclient]}" 'BEGIN{printf "%.2fx", a/b}') |"
  done
  echo "| smbclient get | ${result[smbclient]} | 1.00x |"
} | tee "$out"

#!/usr/bin/env bash
# One 512 MiB file read and written on one connection: plain (SMB 3.0.2,
# unsigned), signed (3.1.1, AES-GMAC), and encrypted with each cipher,
# beside smbclient (--client-protection=off|sign|encrypt) on the same
# server in the same run. MB/s and client CPU seconds per GiB, medians of
# RUNS (default 3). Results: bench/results/crypto-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target io_bench smbcopy_cli >/dev/null

dir=$(pwd)/build/bench-crypto
trap 'tests/fixtures/samba-fixture.sh stop "$dir" >/dev/null 2>&1 || true' EXIT
tests/fixtures/samba-fixture.sh start "$dir" >/dev/null
set -a; . "$dir/env"; set +a
export SMB_USERNAME=$SMBCOPY_TEST_USER SMB_PASSWORD=$SMBCOPY_TEST_PASSWORD SMB_DOMAIN=$SMBCOPY_TEST_DOMAIN
head -c $((512 << 20)) /dev/urandom > "$SMBCOPY_TEST_SHARE_DIR/bench.bin"
local_file=$dir/local.bin
cp "$SMBCOPY_TEST_SHARE_DIR/bench.bin" "$local_file"

med() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ours() { # protect cipher mode -> "MB/s cpu_s_per_GiB"
  local out=() i
  for i in $(seq "$runs"); do
    out+=("$(SMBCOPY_BENCH_PROTECT=$1 SMBCOPY_BENCH_CIPHER=$2 build/io_bench 127.0.0.1 "$SMBCOPY_TEST_PORT" \
      "$SMBCOPY_TEST_SHARE" "$([ "$3" = write ] && echo "up-$i.bin" || echo bench.bin)" 4 "$3" 512)")
  done
  echo "$(printf '%s\n' "${out[@]}" | cut -d' ' -f1 | med) $(printf '%s\n' "${out[@]}" | cut -d' ' -f2 | med)"
}
theirs() { # protection mode -> "MB/s cpu_s_per_GiB"
  local out=() i cmd
  for i in $(seq "$runs"); do
    if [ "$2" = write ]; then cmd="put $local_file up-c$i.bin"; else cmd="get bench.bin /dev/null"; fi
    out+=("$( { /usr/bin/time -f '%e %U %S' smbclient "//127.0.0.1/$SMBCOPY_TEST_SHARE" -p "$SMBCOPY_TEST_PORT" \
      -A "$dir/smbclient.auth" --client-protection="$1" -c "$cmd" >/dev/null; } 2>&1 | tail -1 |
      awk '{printf "%.1f %.2f\n", 536.870912 / $1, ($2 + $3) * 2}')")
  done
  echo "$(printf '%s\n' "${out[@]}" | cut -d' ' -f1 | med) $(printf '%s\n' "${out[@]}" | cut -d' ' -f2 | med)"
}

ours plain 0 read >/dev/null # warm-up
out=bench/results/crypto-$(date -u +%Y-%m-%d).md
{
  echo "# 512 MiB read and written on one connection: plain, signed, encrypted"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(smbd --version), loopback, server smb encrypt = if_required;"
  echo "$(build/smbcopy --version | tail -1). smbcopy library: 4 requests of 8 MiB in flight. smbclient: get/put."
  echo "MB/s and client CPU seconds per GiB, medians of $runs runs. smbclient's times include connecting."
  echo
  echo "| protection | smbcopy read | smbclient get | smbcopy write | smbclient put | read ratio | write ratio |"
  echo "|---|---|---|---|---|---|---|"
  row() { # label protect cipher smbclient-mode
    local r w cr cw
    r=$(ours "$2" "$3" read); w=$(ours "$2" "$3" write)
    if [ -n "$4" ]; then cr=$(theirs "$4" read); cw=$(theirs "$4" write); else cr="- -"; cw="- -"; fi
    set -- "$1" $r $w $cr $cw
    echo "| $1 | $2 MB/s, $3 s/GiB | $6 MB/s, $7 s/GiB | $4 MB/s, $5 s/GiB | $8 MB/s, $9 s/GiB |" \
      "$(awk -v a="$2" -v b="$6" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }') |" \
      "$(awk -v a="$4" -v b="$8" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }') |"
  }
  row "plain (3.0.2)" plain 0 off
  row "signed (3.1.1 AES-GMAC)" sign 0 sign
  row "AES-128-GCM" encrypt 2 encrypt
  row "AES-256-GCM" encrypt 4 ""
  row "AES-128-CCM" encrypt 1 ""
  row "AES-256-CCM" encrypt 3 ""
} | tee "$out"

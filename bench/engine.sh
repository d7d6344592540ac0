#!/usr/bin/env bash
# smbcopy beside smbclient and rclone on the same local Samba server in one
# run: a 10,000 x 4 KiB tree (100 directories) and one 1 GiB file, each
# downloaded and uploaded. Medians of RUNS runs (default 3); every run writes
# into a fresh directory. Results: bench/results/engine-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
scripts/install-deps.sh
command -v rclone >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q rclone >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target smbcopy_cli >/dev/null

dir=$(pwd)/build/bench-engine
work=$dir/work
trap 'tests/fixtures/samba-fixture.sh stop "$dir/samba" >/dev/null 2>&1 || true' EXIT
tests/fixtures/samba-fixture.sh start "$dir/samba" >/dev/null
set -a; . "$dir/samba/env"; set +a
share=$SMBCOPY_TEST_SHARE_DIR
auth=$dir/samba/smbclient.auth
url="smb://127.0.0.1:$SMBCOPY_TEST_PORT/$SMBCOPY_TEST_SHARE"
export RCLONE_CONFIG_SRV_TYPE=smb RCLONE_CONFIG_SRV_HOST=127.0.0.1 RCLONE_CONFIG_SRV_PORT=$SMBCOPY_TEST_PORT \
       RCLONE_CONFIG_SRV_USER=$SMBCOPY_TEST_USER RCLONE_CONFIG_SRV_PASS=$(rclone obscure "$SMBCOPY_TEST_PASSWORD")
export SMB_USERNAME=$SMBCOPY_TEST_USER SMB_PASSWORD=$SMBCOPY_TEST_PASSWORD

# Datasets, on the server and locally (for uploads).
rm -rf "$work"; mkdir -p "$work/local"
for root in "$share/bench-small" "$work/local/small"; do
  for d in $(seq -w 0 99); do
    mkdir -p "$root/d$d"
    head -c $((100 * 4096)) /dev/urandom | split -b 4096 -d -a 3 - "$root/d$d/f"
  done
done
mkdir -p "$share/bench-big" "$work/local/big"
head -c $((1 << 30)) /dev/urandom > "$work/local/big/big.bin"
cp "$work/local/big/big.bin" "$share/bench-big/big.bin"

# Fresh names without shared state: the scenario functions run in subshells.
fresh() { mktemp -d -p "$work" run.XXXXXX; }
fresh_remote() { echo "up-$(date +%s%N)"; }
timeit() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; exit 1; }; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
smbc() { smbclient "//127.0.0.1/$SMBCOPY_TEST_SHARE" -p "$SMBCOPY_TEST_PORT" -A "$auth" "$@"; }

declare -A T
run() { # key, then the command (a function name)
  local key=$1; shift
  local vals=()
  for _ in $(seq "$runs"); do
    local v; v=$("$@") || { echo "bench: $key failed" >&2; exit 1; }
    vals+=("$v")
  done
  T[$key]=$(printf '%s\n' "${vals[@]}" | median)
}
# downloads
dl_small_smbcopy() { local d; d=$(fresh); timeit build/smbcopy -q "$url/bench-small" "$d/dst"; }
dl_small_smbclient() { local d; d=$(fresh); mkdir -p "$d"; timeit bash -c "cd '$d' && smbclient '//127.0.0.1/$SMBCOPY_TEST_SHARE' -p $SMBCOPY_TEST_PORT -A '$auth' -c 'prompt off; recurse on; cd bench-small; mget *'"; }
dl_small_rclone() { local d; d=$(fresh); timeit rclone copy --transfers 16 "srv:$SMBCOPY_TEST_SHARE/bench-small" "$d"; }
dl_big_smbcopy() { local d; d=$(fresh); timeit build/smbcopy -q "$url/bench-big/big.bin" "$d/"; }
dl_big_smbclient() { local d; d=$(fresh); mkdir -p "$d"; timeit smbc -c "get bench-big/big.bin $d/big.bin"; }
dl_big_rclone() { local d; d=$(fresh); timeit rclone copy --transfers 16 --multi-thread-streams 0 "srv:$SMBCOPY_TEST_SHARE/bench-big" "$d"; }
# uploads (each into a fresh remote directory)
up_small_smbcopy() { local r; r=$(fresh_remote); timeit build/smbcopy -q "$work/local/small" "$url/$r"; }
up_small_smbclient() { local r; r=$(fresh_remote); smbc -c "mkdir $r" >/dev/null; timeit bash -c "cd '$work/local/small' && smbclient '//127.0.0.1/$SMBCOPY_TEST_SHARE' -p $SMBCOPY_TEST_PORT -A '$auth' -c 'prompt off; recurse on; cd $r; mput *'"; }
up_small_rclone() { local r; r=$(fresh_remote); timeit rclone copy --transfers 16 "$work/local/small" "srv:$SMBCOPY_TEST_SHARE/$r"; }
up_big_smbcopy() { local r; r=$(fresh_remote); timeit build/smbcopy -q "$work/local/big" "$url/$r"; }
up_big_smbclient() { local r; r=$(fresh_remote); timeit smbc -c "put $work/local/big/big.bin $r-big.bin"; }
up_big_rclone() { local r; r=$(fresh_remote); timeit rclone copy --transfers 16 --multi-thread-streams 0 "$work/local/big" "srv:$SMBCOPY_TEST_SHARE/$r"; }

dl_small_smbcopy >/dev/null # warm-up: page cache and server
for s in dl_small dl_big up_small up_big; do
  for c in smbcopy smbclient rclone; do run "$s.$c" "${s}_$c"; echo "$s $c ${T[$s.$c]} s" >&2; done
done

out=bench/results/engine-$(date -u +%Y-%m-%d).md
rate() { awk -v s="$1" -v k="$2" 'BEGIN { if (k == "files") printf "%.0f files/s", 10000 / s; else printf "%.0f MB/s", 1073.741824 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", b / a }'; }
{
  echo "# smbcopy, smbclient and rclone on one Samba server"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(smbd --version), loopback, SMB 3.1.1, no encryption;"
  echo "medians of $runs runs, each into a fresh directory. smbcopy default threads; rclone --transfers 16."
  echo
  echo "| scenario | smbcopy | smbclient | rclone | smbcopy vs smbclient | smbcopy vs rclone |"
  echo "|---|---|---|---|---|---|"
  for s in dl_small up_small dl_big up_big; do
    kind=files; [[ $s == *big ]] && kind=bytes
    label=${s/dl_/download }; label=${label/up_/upload }; label=${label/small/10,000 x 4 KiB}; label=${label/big/1 GiB file}
    echo "| $label | $(rate "${T[$s.smbcopy]}" $kind) | $(rate "${T[$s.smbclient]}" $kind) | $(rate "${T[$s.rclone]}" $kind) | $(ratio "${T[$s.smbcopy]}" "${T[$s.smbclient]}") | $(ratio "${T[$s.smbcopy]}" "${T[$s.rclone]}") |"
  done
} | tee "$out"

#!/usr/bin/env bash
# One job in 4 shards run at once beside the same job as one run with the
# same total number of threads, on this one host (as root or a user who can
# run smbd): builds smbcopy, starts the test fixture's Samba on /dev/shm,
# makes the tree of tests/integration/cli_shards.sh (20,000 small files and
# three files of BIG_MIB MiB), and copies it local -> share RUNS times each
# way, interleaved, each run into a fresh destination:
#   one job   smbcopy --threads 4*T SRC DEST
#   shards    smbcopy --plan-out --shards 4, then 4 x smbcopy --plan --shard K
#             --threads T at once, then --finish (the time covers all three)
# Prints the medians (min-max) and their ratio, and writes them to
# bench/results/shards-<date>.md. On one 2-core host no gain is expected:
# shards are for many hosts; this measures what splitting costs.
# Settings: RUNS (3), THREADS per shard T (8), BIG_MIB (1024), SMALL (20000).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
T=${THREADS:-8}
BIG_MIB=${BIG_MIB:-1024}
SMALL=${SMALL:-20000}
readonly SHARDS=4

scripts/install-deps.sh python3 >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target smbcopy_cli >/dev/null
cli=$PWD/build/smbcopy

fixture=$(mktemp -d /dev/shm/smbcopy-shards-fixture.XXXXXX)
rmdir "$fixture"
data=$(mktemp -d /dev/shm/smbcopy-shards-data.XXXXXX)
cleanup() {
    bash tests/fixtures/samba-fixture.sh stop "$fixture" >/dev/null 2>&1 || true
    rm -rf "$fixture" "$data"
}
trap cleanup EXIT
bash tests/fixtures/samba-fixture.sh start "$fixture" >/dev/null
set -a
# shellcheck disable=SC1091
. "$fixture/env"
set +a
auth=$SMBCOPY_TEST_FIXTURE_DIR/smbclient.auth
url=smb://$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT/$SMBCOPY_TEST_SHARE
dest_dir=$SMBCOPY_TEST_SHARE_DIR

src=$data/src
python3 tests/integration/lib/small_files.py "$src" "$SMALL"
mkdir -p "$src/media/video" "$src/vm"
for f in big1.bin media/video/big2.bin vm/big3.bin; do
    head -c $((BIG_MIB * 1024 * 1024)) /dev/urandom >"$src/$f"
done
nfiles=$(find "$src" -type f | wc -l)
bytes_of() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}'; }
total=$(bytes_of "$src")

now() { date +%s.%N; }

# one_job RUN: the whole job in one run; prints its seconds.
one_job() {
    local t0
    t0=$(now)
    "$cli" -A "$auth" -q --threads $((SHARDS * T)) "$src" "$url/one$1" </dev/null
    awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f\n", b - a}'
}

# sharded RUN: plan, 4 shards at once, finish; prints the seconds of all three.
sharded() {
    local run=$1 t0 k pids=() rc=0 w=$data/shards$1
    mkdir -p "$w"
    t0=$(now)
    "$cli" -A "$auth" -q --plan-out "$w/plan.json" --shards $SHARDS "$src" "$url/sh$run" </dev/null
    for ((k = 0; k < SHARDS; k++)); do
        XDG_STATE_HOME=$w/state/$k "$cli" -A "$auth" -q --no-progress --plan "$w/plan.json" --shard $k \
            --threads "$T" </dev/null &
        pids+=($!)
    done
    for k in "${pids[@]}"; do wait "$k" || rc=1; done
    ((rc == 0)) || { echo "a shard failed" >&2; exit 1; }
    XDG_STATE_HOME=$w/state/finish "$cli" -A "$auth" -q --plan "$w/plan.json" --finish </dev/null
    awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f\n", b - a}'
}

check() { # check DIR: the copy holds the tree's files and bytes
    local n b
    n=$(find "$1" -type f | wc -l)
    b=$(bytes_of "$1")
    [ "$n" -eq "$nfiles" ] && [ "$b" = "$total" ] || { echo "$1: $n files of $b bytes, expected $nfiles of $total" >&2; exit 1; }
}

median() { sort -n | awk '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
    printf "%.2f (%.2f-%.2f)", m, v[1], v[NR]}'; }

one_times=() shard_times=()
for ((r = 0; r <= RUNS; r++)); do # run 0 is a warm-up
    a=$(one_job "$r")
    check "$dest_dir/one$r"
    rm -rf "${dest_dir:?}/one$r"
    b=$(sharded "$r")
    check "$dest_dir/sh$r"
    rm -rf "${dest_dir:?}/sh$r" "$data/shards$r"
    if ((r > 0)); then
        one_times+=("$a")
        shard_times+=("$b")
    fi
    echo "run $r: one job $a s, 4 shards $b s" >&2
done
one=$(printf '%s\n' "${one_times[@]}" | median)
sh=$(printf '%s\n' "${shard_times[@]}" | median)
ratio=$(awk -v a="${one%% *}" -v b="${sh%% *}" 'BEGIN {printf "%.2f", b / a}')
mkdir -p bench/results
out=bench/results/shards-$(date +%Y-%m-%d).md
{
    echo "# One job in $SHARDS shards beside one run, on one host ($(nproc) cores)"
    echo
    echo "Local (/dev/shm) -> the fixture's Samba on loopback; $nfiles files, $((total / 1048576)) MiB" \
        "(three of $BIG_MIB MiB); median (min-max) of $RUNS runs after a warm-up, seconds."
    echo
    echo "| run | threads | seconds |"
    echo "|---|---|---|"
    echo "| one job | $((SHARDS * T)) | $one |"
    echo "| plan + $SHARDS shards at once + finish | $SHARDS x $T | $sh |"
    echo
    echo "Shards / one job: $ratio x the time."
} | tee "$out"

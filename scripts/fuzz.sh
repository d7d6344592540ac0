#!/usr/bin/env bash
# Build the libFuzzer targets (tests/fuzz) with clang, ASan and UBSan, and run
# each for a bounded time from a copy of its committed seed corpus.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [--target NAME]... [--jobs N]
#
# SECONDS_PER_TARGET defaults to 30 (what CI runs); longer runs: e.g.
# `scripts/fuzz.sh 3600 --target spnego`. Targets run two at a time
# (--jobs). Fails (exit 1) when any target crashes, leaks, times out on an
# input (10 s) or runs out of memory (2 GiB); the input that did it is kept
# under build-fuzz/artifacts/. The committed corpus is never written: new
# inputs a run finds are left in its working copy (kept when FUZZ_KEEP=1).
# Environment: FUZZ_BUILD (default build-fuzz), CC (default clang).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz}
CORPUS=$ROOT/tests/fuzz/corpus
SECONDS_PER_TARGET=30
JOBS=2
TARGETS=()

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
    case $1 in
    --target) TARGETS+=("${2:?--target needs a name}"); shift 2 ;;
    --jobs) JOBS=${2:?--jobs needs a number}; shift 2 ;;
    -h | --help) usage ;;
    [0-9]*) SECONDS_PER_TARGET=$1; shift ;;
    *) echo "fuzz.sh: unknown argument $1" >&2; usage ;;
    esac
done

# ---------------------------------------------------------------- build
if [[ ! -e $BUILD/CMakeCache.txt ]]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="${CC:-clang}" -DSMBCOPY_FUZZ=ON -DSMBCOPY_TESTS=OFF \
        -DCMAKE_BUILD_TYPE=Debug >"$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log" >&2; exit 1; }
    rm -f "$BUILD.configure.log"
fi
cmake "$BUILD" >/dev/null # picks up new targets
mapfile -t ALL <"$BUILD/fuzz-targets.txt"
if ((${#TARGETS[@]} == 0)); then
    TARGETS=("${ALL[@]}")
fi
for t in "${TARGETS[@]}"; do
    [[ " ${ALL[*]} " == *" $t "* ]] || { echo "fuzz.sh: no target $t (have: ${ALL[*]})" >&2; exit 2; }
done
cmake --build "$BUILD" -j2 --target "${TARGETS[@]/#/fuzz_}" >"$BUILD/fuzz-build.log" 2>&1 ||
    { tail -40 "$BUILD/fuzz-build.log" >&2; exit 1; }

# ---------------------------------------------------------------- run
ARTIFACTS=$BUILD/artifacts
mkdir -p "$ARTIFACTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/smbcopy-fuzz.XXXXXX")
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [[ ${FUZZ_KEEP:-0} == 1 ]]; then echo "fuzz.sh: working corpora kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_target() {
    local t=$1 dir=$WORK/$1
    mkdir -p "$dir/corpus"
    if [[ -d $CORPUS/$t ]]; then cp "$CORPUS/$t"/* "$dir/corpus/" 2>/dev/null || true; fi
    local rc=0
    (cd "$dir" && "$BUILD/tests/fuzz/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 \
        -rss_limit_mb=2048 -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$ARTIFACTS/$t-" \
        corpus </dev/null >"$dir/log" 2>&1) || rc=$?
    echo "$rc" >"$dir/rc"
}

echo "fuzz.sh: ${#TARGETS[@]} targets, ${SECONDS_PER_TARGET} s each, $JOBS at a time" >&2
for t in "${TARGETS[@]}"; do
    while (($(jobs -rp | wc -l) >= JOBS)); do wait -n || true; done
    run_target "$t" &
    PIDS+=($!)
done
wait || true
PIDS=()

# ---------------------------------------------------------------- report
result_of() {
    local log=$1 rc=$2
    if grep -q 'ERROR: libFuzzer: timeout' "$log"; then echo timeout
    elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then echo oom
    elif grep -q 'ERROR: LeakSanitizer' "$log"; then echo leak
    elif grep -qE 'ERROR: (AddressSanitizer|libFuzzer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$log"; then echo crash
    elif [[ $rc != 0 ]]; then echo "failed($rc)"
    else echo ok
    fi
}
failed=0
printf '%-16s %12s %8s  %s\n' target executions corpus result
for t in "${TARGETS[@]}"; do
    dir=$WORK/$t
    rc=$(cat "$dir/rc" 2>/dev/null || echo 99)
    res=$(result_of "$dir/log" "$rc")
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$dir/log" | tail -1)
    [[ -n $runs ]] || runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$dir/log" | tail -1)
    [[ -n $runs ]] || runs=$(grep -oE '^#[0-9]+' "$dir/log" | tail -1 | tr -d '#')
    corpus=$(find "$dir/corpus" -type f | wc -l)
    printf '%-16s %12s %8s  %s\n' "$t" "${runs:-?}" "$corpus" "$res"
    if [[ $res != ok ]]; then
        failed=1
        cp "$dir/log" "$ARTIFACTS/$t.log"
        echo "--- $t: $res (log: $ARTIFACTS/$t.log)" >&2
        grep -E -m1 -A25 'ERROR: |runtime error:' "$dir/log" >&2 || tail -30 "$dir/log" >&2
    fi
done
exit "$failed"

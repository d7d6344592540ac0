#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. static analysis: cppcheck and clang-tidy (scripts/lint.sh);
#   2. a plain build and every test: unit tests, the hostile-server tests,
#      integration tests against throwaway Samba and impacket servers that
#      the suite starts and stops itself, and the check that everything the
#      suite uses comes from scripts/install-deps.sh (deps.check);
#   3. everything built with clang, and the unit tests run;
#   4. the plain build's tests with AddressSanitizer +
#      UndefinedBehaviorSanitizer;
#   5. the tests that run many threads at once with ThreadSanitizer;
#   6. the integration tests' client side under valgrind memcheck
#      (scripts/memcheck.sh);
#   7. every fuzz target for a bounded time (scripts/fuzz.sh).
# Every build treats warnings as errors (SMBCOPY_WERROR=ON).
#
#   scripts/test.sh [STAGE...]   stages: lint plain clang asan tsan memcheck
#                                fuzz (default: all)
#   scripts/test.sh quick        the contributor's loop: build (incrementally)
#                                and run the unit and hostile-server tests;
#                                no root, no Samba, no package installation
#
# The stages run in two lanes at once, each lane's in order: the tests that
# mostly wait on servers (plain, asan, tsan) beside those that keep the
# processors busy (lint, clang, fuzz, memcheck). Each stage's output goes
# to build-test-logs/STAGE.log, shown when it fails. One stage, or
# SMBCOPY_TEST_SERIAL=1, runs in the order given with its output shown.
#
# Every test still runs in the plain build on its full data; under the
# sanitizers the long transfers are scaled down (SMBCOPY_TEST_MIB,
# SMBCOPY_RANDOM_RUNS).
#
# Environment:
#   SMBCOPY_FUZZ_SECONDS        time per fuzz target (default 20)
#   SMBCOPY_QUICK_BUILD         quick's build directory (default build, the
#                               plain stage's: either reuses what the other built)
#   SMBCOPY_FIXTURE_PORT_BASE   the Samba fixtures' ports (default 44500):
#                               plain uses it, asan +250, tsan +500, memcheck
#                               +750; give two checkouts that test at once
#                               bases at least 1000 apart
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
# The integration tests mostly wait (on servers, on sleeps): more at once than there are cores.
test_jobs=$((jobs * 2))
port_base=${SMBCOPY_FIXTURE_PORT_BASE:-44500}
logs=$PWD/build-test-logs
all_stages=(lint plain clang asan tsan memcheck fuzz)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")
for stage in "${stages[@]}"; do
    case " quick ${all_stages[*]} " in
    *" $stage "*) ;;
    *)
        echo "test.sh: unknown stage '$stage' (quick ${all_stages[*]})" >&2
        exit 2
        ;;
    esac
done

# Quick alone installs nothing: it needs only a compiler, cmake and cmocka.
[ "${stages[*]}" = quick ] || scripts/install-deps.sh

# The stages run where errexit does not act (in conditions): every step
# below is chained with &&, so that a failed build fails its stage.

# build_in DIR CMAKE_ARGS...: configure and build DIR; one build of a
# directory at a time (memcheck uses the plain stage's).
build_in() {
    local dir=$1
    shift
    mkdir -p "$dir"
    (
        flock 9 &&
            cmake -S . -B "$dir" -DSMBCOPY_WERROR=ON "$@" >/dev/null &&
            cmake --build "$dir" -j"$jobs"
    ) 9>"$dir/.test-build.lock"
}
# ctest_in DIR PORT_OFFSET CTEST_ARGS...: DIR's tests, its Samba fixture on
# the base port + PORT_OFFSET.
ctest_in() {
    local dir=$1 port=$((port_base + $2))
    shift 2
    SMBCOPY_FIXTURE_PORT_BASE=$port ctest --test-dir "$dir" --output-on-failure -j"$test_jobs" --timeout 900 "$@"
}

run_stage() {
    case $1 in
    quick)
        local dir=${SMBCOPY_QUICK_BUILD:-build}
        # A new directory gets the plain stage's configuration; an existing
        # one keeps its own, so the build stays incremental (one whose
        # configuring failed, with a cache but no build files, is configured again).
        if [ -f "$dir/CMakeCache.txt" ] && [ -f "$dir/Makefile" ]; then
            cmake --build "$dir" -j"$jobs"
        else
            build_in "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
        fi &&
            ctest --test-dir "$dir" --output-on-failure -j"$test_jobs" --timeout 300 -L 'unit|hostile'
        ;;
    lint)
        scripts/lint.sh
        ;;
    plain)
        build_in build -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
            ctest_in build 0
        ;;
    clang)
        # The compiler's own warnings differ from gcc's: build everything
        # (tests included) with clang; run the unit tests, which are quick.
        build_in build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang &&
            ctest_in build-clang 0 -L unit
        ;;
    asan)
        # Scaled down: the 1 GiB and 5 GiB transfers of the multichannel and
        # archive tests (SMBCOPY_TEST_MIB) and cli_random's 200 runs
        # (SMBCOPY_RANDOM_RUNS).
        build_in build-asan -DCMAKE_BUILD_TYPE=Debug -DSMBCOPY_SANITIZE=ON &&
            SMBCOPY_TEST_MIB=256 SMBCOPY_RANDOM_RUNS=50 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest_in build-asan 250
        ;;
    tsan)
        # Transfers scaled down (SMBCOPY_TEST_MIB): ThreadSanitizer runs
        # the client several times slower; any report fails the test.
        build_in build-tsan -DCMAKE_BUILD_TYPE=Debug -DSMBCOPY_TSAN=ON &&
            SMBCOPY_TEST_MIB=256 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
                ctest_in build-tsan 500 -L concurrency
        ;;
    memcheck)
        build_in build -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
            SMBCOPY_FIXTURE_PORT_BASE=$((port_base + 750)) scripts/memcheck.sh build
        ;;
    fuzz)
        scripts/fuzz.sh "${SMBCOPY_FUZZ_SECONDS:-20}"
        ;;
    esac
}

# timed_stage STAGE: run it, say how long it took; its status.
timed_stage() {
    local t0=$SECONDS rc=0
    echo "== $1"
    run_stage "$1" || rc=$?
    if [ $rc -eq 0 ]; then
        echo "== $1: passed in $((SECONDS - t0)) s"
    else
        echo "== $1: FAILED (exit $rc) after $((SECONDS - t0)) s"
    fi
    return $rc
}

# lane STAGE...: the stages in order, each into its log; every stage runs
# (the other lane does not stop either), so that one run shows every
# failure. Fails when any stage failed.
lane() {
    local stage rc=0
    for stage in "$@"; do
        if timed_stage "$stage" >"$logs/$stage.log" 2>&1; then
            tail -n 1 "$logs/$stage.log"
        else
            tail -n 60 "$logs/$stage.log" >&2
            echo "== $stage: FAILED; its whole output: $logs/$stage.log" >&2
            rc=1
        fi
    done
    return $rc
}

# failure_reasons LOG...: for each test that failed in the logs, its name
# and the first lines of its output that say why (FAIL, error, assert), so
# that the last lines of a failed run name the causes, not only the tests.
failure_reasons() {
    awk '
        /^ *([0-9]+\/[0-9]+ )?Test +#[0-9]+: .*\*\*\*/ {
            name = $0; sub(/^.*#[0-9]+: /, "", name); sub(/ .*/, "", name)
            reasons = 0; stage = FILENAME; sub(/^.*\//, "", stage); sub(/\.log$/, "", stage)
            printf "== %s: %s failed\n", stage, name
            inblock = 1; next
        }
        /^ *(Start +[0-9]+:|[0-9]+\/[0-9]+ Test +#)/ { inblock = 0 }
        inblock && reasons < 3 && /FAIL|[Ee]rror|[Aa]ssert|not ok|[Tt]imed? ?out/ {
            line = $0; if (length(line) > 200) line = substr(line, 1, 200) "..."
            print "     " line; reasons++
        }
    ' "$@" 2>/dev/null | head -n 40
}

started=$SECONDS
if [ ${#stages[@]} -eq 1 ] || [ "${SMBCOPY_TEST_SERIAL:-0}" = 1 ]; then
    for stage in "${stages[@]}"; do
        timed_stage "$stage"
    done
else
    rm -rf "$logs" && mkdir -p "$logs"
    waiting=() busy=()
    for stage in "${stages[@]}"; do
        case $stage in
        plain | asan | tsan) waiting+=("$stage") ;;
        *) busy+=("$stage") ;;
        esac
    done
    echo "== lanes: ${waiting[*]:-} | ${busy[*]:-} (logs in $logs)"
    lane "${waiting[@]}" &
    waiting_pid=$!
    rc=0
    lane "${busy[@]}" || rc=1
    wait "$waiting_pid" || rc=1
    if [ $rc -ne 0 ]; then
        failure_reasons "$logs"/*.log >&2
        echo "== FAILED after $((SECONDS - started)) s: $(grep -l -- '^== .*: FAILED' "$logs"/*.log | xargs -n1 basename | sed 's/\.log$//' | tr '\n' ' ')" >&2
        exit 1
    fi
fi
echo "== all stages passed in $((SECONDS - started)) s: ${stages[*]}"

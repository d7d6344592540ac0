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
#                                fuzz (default: all, in that order)
# SMBCOPY_FUZZ_SECONDS sets the time per fuzz target (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(lint plain clang asan tsan memcheck fuzz)

build_in() {
    local dir=$1
    shift
    cmake -S . -B "$dir" -DSMBCOPY_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j"$jobs"
}
ctest_in() {
    local dir=$1
    shift
    ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 900 "$@"
}

started=$SECONDS
for stage in "${stages[@]}"; do
    t0=$SECONDS
    echo "== $stage"
    case $stage in
    lint)
        scripts/lint.sh
        ;;
    plain)
        build_in build -DCMAKE_BUILD_TYPE=RelWithDebInfo
        ctest_in build
        ;;
    clang)
        # The compiler's own warnings differ from gcc's: build everything
        # (tests included) with clang; run the unit tests, which are quick.
        build_in build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang
        ctest_in build-clang -L unit
        ;;
    asan)
        build_in build-asan -DCMAKE_BUILD_TYPE=Debug -DSMBCOPY_SANITIZE=ON
        # Scaled down: the multichannel test's 1 GiB transfers (SMBCOPY_TEST_MIB,
        # a third of the time) and cli_random's 200 runs (SMBCOPY_RANDOM_RUNS).
        SMBCOPY_TEST_MIB=256 SMBCOPY_RANDOM_RUNS=50 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest_in build-asan
        ;;
    tsan)
        # Transfers scaled down (SMBCOPY_TEST_MIB): ThreadSanitizer runs
        # the client several times slower; any report fails the test.
        build_in build-tsan -DCMAKE_BUILD_TYPE=Debug -DSMBCOPY_TSAN=ON
        SMBCOPY_TEST_MIB=256 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
            ctest_in build-tsan -L concurrency
        ;;
    memcheck)
        build_in build -DCMAKE_BUILD_TYPE=RelWithDebInfo
        scripts/memcheck.sh build
        ;;
    fuzz)
        scripts/fuzz.sh "${SMBCOPY_FUZZ_SECONDS:-30}"
        ;;
    *)
        echo "test.sh: unknown stage '$stage' (lint plain clang asan tsan memcheck fuzz)" >&2
        exit 2
        ;;
    esac
    echo "== $stage: passed in $((SECONDS - t0)) s"
done
echo "== all stages passed in $((SECONDS - started)) s: ${stages[*]}"

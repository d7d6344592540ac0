#!/usr/bin/env bash
# Build smbcopy twice (plain, and with AddressSanitizer + UndefinedBehaviorSanitizer)
# and run the whole test suite in each: unit tests and integration tests
# against throwaway Samba servers that the suite starts and stops itself.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
run_suite() {
  local dir=$1; shift
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 900
}

echo "== build and test: release"
run_suite build -DCMAKE_BUILD_TYPE=RelWithDebInfo
echo "== build and test: AddressSanitizer + UndefinedBehaviorSanitizer"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DSMBCOPY_SANITIZE=ON

#!/usr/bin/env bash
# The client side of the integration tests under valgrind's memcheck: the
# library's test programs (tests/integration/itest_*.c) against a private
# Samba, then smbcopy itself through a few of the CLI tests. Fails on any
# invalid read or write, use of uninitialised memory, bad free, or leak
# (definite or indirect). MEMCHECK_JOBS: test programs at once (default:
# the number of processors).
#
#   scripts/memcheck.sh [BUILD_DIR]
#
# BUILD_DIR (default build) must hold a build without sanitizers
# (scripts/test.sh makes one); valgrind's logs go to BUILD_DIR/memcheck/.
# Needs root, like the other integration tests (the Samba fixture).
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=$PWD
build=$(cd "${1:-build}" && pwd)
out=$build/memcheck
fixture=$build/memcheck-fixture
rm -rf "$out"
mkdir -p "$out/logs"

command -v valgrind >/dev/null || { echo "memcheck: valgrind not found (scripts/install-deps.sh installs it)" >&2; exit 1; }
cmake --build "$build" -j"$(nproc)" >/dev/null

vg=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
    --num-callers=30 --suppressions="$source_dir/tests/valgrind.supp")

# The fixture on its own ports (SMBCOPY_FIXTURE_PORT_BASE, default 47500),
# so that it never meets a ctest run's.
SMBCOPY_FIXTURE_PORT_BASE=${SMBCOPY_FIXTURE_PORT_BASE:-47500} bash tests/fixtures/samba-fixture.sh start "$fixture" >"$out/fixture.log"
trap 'bash tests/fixtures/samba-fixture.sh stop "$fixture" --clean >/dev/null 2>&1 || true' EXIT

export SMBCOPY_TEST_ENV=$fixture/env SMBCOPY_BUILD_DIR=$build SMBCOPY_SOURCE_DIR=$source_dir
export XDG_STATE_HOME=$out/state SMBCOPY_SILENT_SERVER=$build/tests/silent_server

failed=()
# check NAME: the logs valgrind wrote for NAME hold no error and no leak.
check() {
    local name=$1 bad
    bad=$(grep -l -E 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]' "$out/logs/$name".* 2>/dev/null || true)
    if [ -n "$bad" ]; then
        echo "memcheck: $name: errors, see $bad" >&2
        sed -n '/^==[0-9]*== [A-Z].*\(Invalid\|uninitialised\|lost in\|Mismatched\|free\)/,/^==[0-9]*== $/p' $bad | head -60 >&2
        return 1
    fi
}

# run_prog PROG: PROG under valgrind; its verdict in $out/NAME.verdict.
run_prog() {
    local name
    name=$(basename "$1")
    if "${vg[@]}" --log-file="$out/logs/$name.%p" "$1" >"$out/$name.out" 2>&1 && check "$name"; then
        echo clean >"$out/$name.verdict"
    else
        echo failed >"$out/$name.verdict"
    fi
}

start=$SECONDS
# The test programs as many at a time as there are processors (valgrind runs
# each on one): they share the fixture as ctest's parallel runs do.
jobs_max=${MEMCHECK_JOBS:-$(nproc)}
for prog in "$build"/tests/integration/itest_*; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
        wait -n || true
    done
    run_prog "$prog" &
done
wait
for prog in "$build"/tests/integration/itest_*; do
    name=$(basename "$prog")
    if [ "$(cat "$out/$name.verdict" 2>/dev/null)" = clean ]; then
        echo "memcheck: $name clean"
    else
        echo "memcheck: $name FAILED (output: $out/$name.out)" >&2
        tail -n 20 "$out/$name.out" >&2
        failed+=("$name")
    fi
done

# smbcopy under valgrind in CLI tests that do not depend on timing.
wrapper=$out/smbcopy
cat >"$wrapper" <<EOF
#!/bin/sh
exec ${vg[*]} --log-file=$out/logs/smbcopy.%p "$build/smbcopy" "\$@"
EOF
chmod +x "$wrapper"
for t in cli_connections cli_failures cli_restore; do
    if SMBCOPY_CLI=$wrapper bash "tests/integration/$t.sh" >"$out/$t.out" 2>&1; then
        echo "memcheck: smbcopy in $t ran"
    else
        echo "memcheck: $t FAILED under valgrind (output: $out/$t.out)" >&2
        tail -n 20 "$out/$t.out" >&2
        failed+=("$t")
    fi
done
check smbcopy || failed+=("smbcopy")
runs=$(ls "$out/logs" | wc -l)

if [ ${#failed[@]} -gt 0 ]; then
    echo "memcheck: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "memcheck: clean: $runs processes under valgrind in $((SECONDS - start)) s"

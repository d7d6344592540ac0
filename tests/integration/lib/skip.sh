# Sourced by the shell tests: skip MESSAGE says what this test cannot get
# here and exits 77 (CTest's "skipped"), or 1 when CI=true, where every test
# must run.
skip() {
    echo "SKIP: $*" >&2
    if [ "${CI:-}" = true ]; then
        echo "FAIL: CI=true, where this test must run" >&2
        exit 1
    fi
    exit 77
}

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

# need_impacket: skips (fails under CI=true) unless the fixture started
# impacket's SMB server (SMBCOPY_TEST_IMPACKET_PORT in the fixture's
# environment, which must be loaded first).
need_impacket() {
    if [ -n "${SMBCOPY_TEST_IMPACKET_MISSING:-}" ]; then
        skip "impacket's SMB server not started: Debian package $SMBCOPY_TEST_IMPACKET_MISSING is not installed (scripts/install-deps.sh)"
    fi
    [ -n "${SMBCOPY_TEST_IMPACKET_PORT:-}" ] ||
        skip "impacket's SMB server not started: no SMBCOPY_TEST_IMPACKET_PORT in the fixture's environment"
}

# Shared set-up of the smbcopy CLI tests (sourced by tests/integration/cli_*.sh):
# loads the Samba fixture's environment, finds jq and the smbcopy binary.
# Without the fixture or jq the test is skipped (exit 77), or fails when
# CI=true. Sets cli, fixtures and auth.

env_file=${SMBCOPY_TEST_ENV:?run through ctest}
if [ ! -r "$env_file" ]; then
    echo "Samba fixture environment missing: $env_file" >&2
    [ "${CI:-}" = true ] && exit 1
    exit 77
fi
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
if ! command -v jq >/dev/null 2>&1; then
    echo "jq not found (scripts/install-deps.sh installs it)" >&2
    [ "${CI:-}" = true ] && exit 1
    exit 77
fi
cli=${SMBCOPY_CLI:?run through ctest}
fixtures=${SMBCOPY_SOURCE_DIR:?run through ctest}/tests/fixtures
auth=$SMBCOPY_TEST_FIXTURE_DIR/smbclient.auth
[ -x "$cli" ] || { echo "FAIL: smbcopy binary missing: $cli" >&2; exit 1; }

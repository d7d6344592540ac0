# Shared set-up of the smbcopy CLI tests (sourced by tests/integration/cli_*.sh):
# loads the Samba fixture's environment, finds jq and the smbcopy binary.
# Without the fixture or jq the test is skipped (exit 77), or fails when
# CI=true. Sets cli, fixtures and auth.

# shellcheck source=skip.sh
. "$(dirname "${BASH_SOURCE[0]}")/skip.sh"
env_file=${SMBCOPY_TEST_ENV:?run through ctest}
[ -r "$env_file" ] || skip "Samba fixture environment missing: $env_file"
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
command -v jq >/dev/null 2>&1 || skip "jq not found (scripts/install-deps.sh installs it)"
cli=${SMBCOPY_CLI:?run through ctest}
fixtures=${SMBCOPY_SOURCE_DIR:?run through ctest}/tests/fixtures
auth=$SMBCOPY_TEST_FIXTURE_DIR/smbclient.auth
[ -x "$cli" ] || { echo "FAIL: smbcopy binary missing: $cli" >&2; exit 1; }

# cli_test_dirs NAME: the test's private directories and bookkeeping:
#   work   a fresh local directory (with out/ for command output)
#   share  the test's directory on the main share, url its SMB URL
#   cleanup_dirs  removed at exit with work and share (SMBCOPY_TEST_KEEP=1
#          keeps them all); a background run whose pid is in bg_pid is killed
#   fail MESSAGE  records a failure and goes on; cli_test_end reports them;
#   die MESSAGE   fails at once.
cli_test_dirs() {
    name=$1.$$.$RANDOM
    work=$(mktemp -d "${TMPDIR:-/tmp}/smbcopy-$name.XXXXXX")
    share=$SMBCOPY_TEST_SHARE_DIR/$name
    url=smb://$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT/$SMBCOPY_TEST_SHARE/$name
    cleanup_dirs=()
    bg_pid=
    failures=0
    trap cli_test_cleanup EXIT
    mkdir -p -- "$share" "$work/out"
}
cli_test_cleanup() {
    if [ -n "$bg_pid" ]; then
        kill -9 "$bg_pid" 2>/dev/null || true
        wait "$bg_pid" 2>/dev/null || true
    fi
    if [ -n "${proxy_pid:-}" ]; then
        kill "$proxy_pid" 2>/dev/null || true
        wait "$proxy_pid" 2>/dev/null || true
    fi
    if [ "${SMBCOPY_TEST_KEEP:-}" = 1 ]; then
        echo "kept: $work $share ${cleanup_dirs[*]}"
    else
        rm -rf -- "$work" "$share" "${cleanup_dirs[@]}"
    fi
}
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
# die MESSAGE: a failure after which going on makes no sense.
die() {
    echo "FAIL: $*" >&2
    exit 1
}
# cli_test_end WHAT: exit 1 when anything failed, else say WHAT passed.
cli_test_end() {
    if ((failures)); then
        echo "$failures failure(s)" >&2
        exit 1
    fi
    echo "$1"
}

# need_tools TOOL...: every TOOL on PATH, else skip (77), or fail under CI=true.
need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || skip "$tool not found (scripts/install-deps.sh installs it)"
    done
}

# cli_run TAG ARGS...: smbcopy -A (the fixture's credentials) ARGS without a
# terminal, at most 300 s; exit status in rc, output in $work/out/TAG.{out,err}.
cli_run() {
    local tag=$1
    shift
    set +e
    timeout 300 "$cli" -A "$auth" --no-progress "$@" </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err"
    rc=$?
    set -e
}

# allocated_bytes DIR [FIND TESTS...]: bytes allocated on disk by the files
# under DIR (that pass the find tests): what a killed run really wrote, its
# temporary files being created sparse at their final size.
allocated_bytes() {
    local dir=$1
    shift
    { find "$dir" -type f "$@" -printf '%b\n' 2>/dev/null || true; } | awk '{s += $1 * 512} END {printf "%.0f\n", s}'
}

# kill_bg_once TEST...: SIGKILL the background run ($bg_pid) as soon as the
# command TEST succeeds (polled every 5 ms). Returns 1 when the run ended
# before.
kill_bg_once() {
    while kill -0 "$bg_pid" 2>/dev/null; do
        if "$@"; then
            kill -KILL "$bg_pid" 2>/dev/null || true
            wait "$bg_pid" 2>/dev/null || true
            bg_pid=
            return 0
        fi
        sleep 0.005
    done
    wait "$bg_pid" 2>/dev/null || true
    bg_pid=
    return 1
}

# kill_when DEST PERMILLE: SIGKILL the background run ($bg_pid) once DEST
# holds PERMILLE thousandths of $total bytes (allocated: temporary files
# are made sparse at their final size), or at once for 0. Returns 1 when
# the run ended before.
kill_when() {
    kill_bg_once holds_bytes "$1" $((total / 1000 * $2)) "$2"
}
# holds_bytes DEST BYTES PERMILLE: PERMILLE is 0, or DEST has BYTES allocated.
holds_bytes() { [ "$3" -eq 0 ] || [ "$(allocated_bytes "$1")" -ge "$2" ]; }

# field TAG KEY: KEY of the JSON summary that smbcopy --json printed in
# cli_run TAG ($work/out/TAG.out).
field() { jq -r ".$2" "$work/out/$1.out"; }
# expect_field TAG KEY VALUE: that KEY is VALUE, else a failure.
expect_field() {
    local got
    got=$(field "$1" "$2")
    [ "$got" = "$3" ] || fail "$1: $2 is $got, expected $3"
}
# expect_exit TAG STATUS: cli_run TAG exited with STATUS ($rc), else a
# failure quoting its stderr.
expect_exit() {
    local tag=$1 want=$2
    [ "$rc" -eq "$want" ] || fail "$tag: exit $rc, expected $want: $(head -c 400 "$work/out/$tag.err")"
}
# same_trees TAG A B [compare-trees.sh OPTIONS]: the trees are identical,
# else a failure naming the first differences ($work/out/TAG.cmp has all).
same_trees() {
    local tag=$1 a=$2 b=$3
    shift 3
    bash "$fixtures/compare-trees.sh" "$@" "$a" "$b" >"$work/out/$tag.cmp" 2>&1 ||
        fail "$tag: the trees differ: $(head -n 6 "$work/out/$tag.cmp" | tr '\n' ' ')"
}
# no_temps TAG DIR: no temporary entry of smbcopy's (.smbcopy-*) under DIR.
no_temps() {
    local tag=$1 dir=$2 left
    left=$(find "$dir" -name '.smbcopy-*' 2>/dev/null | head -n 3)
    [ -z "$left" ] || fail "$tag: temporary entries left: $left"
}

# show TAG: what a run left, for a failure message, on stderr: its command
# line ($work/out/TAG.cmd, when the test wrote one), stderr and stdout
# ($work/out/TAG.err, TAG.out). Passed through the command in show_filter
# (default cat): a test with secrets on its command lines sets it.
show() {
    {
        [ ! -f "$work/out/$1.cmd" ] || echo "---- command: $(cat "$work/out/$1.cmd")"
        echo "---- stderr of $1:"
        tail -n 30 "$work/out/$1.err"
        echo "---- stdout:"
        head -c 4000 "$work/out/$1.out"
        echo
        echo "----"
    } | "${show_filter:-cat}" >&2
}

# start_delay_proxy DELAY_MS: the fixture's main server behind a TCP proxy
# that holds every byte DELAY_MS in each direction (bench/delay_proxy.c), on
# a free loopback port; sets proxy_port and proxy_url (the test's directory
# on the main share through the proxy). Stopped at exit.
start_delay_proxy() {
    local delay=$1 bin=${SMBCOPY_BUILD_DIR:?run through ctest}/delay_proxy try
    [ -x "$bin" ] || die "delay_proxy not built: $bin"
    for try in 1 2 3 4 5 6 7 8 9 10; do
        proxy_port=$((20000 + RANDOM % 20000))
        "$bin" "$proxy_port" "$SMBCOPY_TEST_HOST" "$SMBCOPY_TEST_PORT" "$delay" >"$work/out/proxy.$try" 2>&1 &
        proxy_pid=$!
        # "ready" once listening; an exit means the port was taken.
        while kill -0 "$proxy_pid" 2>/dev/null && ! grep -q '^ready' "$work/out/proxy.$try"; do sleep 0.01; done
        if grep -q '^ready' "$work/out/proxy.$try"; then
            proxy_url=smb://$SMBCOPY_TEST_HOST:$proxy_port/$SMBCOPY_TEST_SHARE/$name
            return 0
        fi
        wait "$proxy_pid" 2>/dev/null || true
        proxy_pid=
    done
    die "delay_proxy did not start: $(tail -n 1 "$work/out/proxy.10")"
}

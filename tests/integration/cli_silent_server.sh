#!/usr/bin/env bash
# A server that accepts the connection and then never answers (silent_server:
# accepts, reads, never writes a byte): the job fails within the configured
# time with the documented exit code:
#   - share -> local and local -> share with --timeout 2 --retry-for 0: exit
#     4 (cannot connect / timeout) within 2 s + 10 s of slack (--timeout covers
#     connecting and negotiating too), one line on stderr
#     saying that the server did not answer, nothing created at the local
#     destination, the local source untouched;
#   - share -> local with --timeout 3 --retry-for 5s (reconnect attempts
#     allowed, but a job that never connected fails at once): still exit 4,
#     the same message, and an end within 3 s + 10 s.
# The time bounds are the point of the test: they are generous upper bounds
# (the client must give up), not measurements of speed.
# SMBCOPY_TEST_KEEP=1 keeps the test's directories for a look afterwards.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

silent=${SMBCOPY_SILENT_SERVER:?run through ctest}
[ -x "$silent" ] || die "silent_server binary missing: $silent"

cli_test_dirs cli_silent_server

# The silent server, killed at exit by cli_test_cleanup (bg_pid).
"$silent" </dev/null >"$work/silent.port" 2>"$work/silent.err" &
bg_pid=$!
port=
for _ in $(seq 1 100); do
    port=$(head -n 1 "$work/silent.port" 2>/dev/null || true) # the file may not be there yet
    [ -n "$port" ] && break
    kill -0 "$bg_pid" 2>/dev/null || die "silent_server exited: $(cat "$work/silent.err")"
    sleep 0.1
done
[[ $port =~ ^[0-9]+$ ]] || die "silent_server printed no port within 10 s: '$port'"
silent_url=smb://127.0.0.1:$port/$SMBCOPY_TEST_SHARE/x
echo "silent server on 127.0.0.1:$port"

# smbcopy_run TAG ARGS...: smbcopy ARGS without a terminal, stdout and stderr
# to $work/out/TAG.out and .err; sets rc and took (seconds).
smbcopy_run() {
    local tag=$1 t0=$SECONDS
    shift
    echo "+ smbcopy $*"
    set +e
    timeout 300 "$cli" "$@" </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err"
    rc=$?
    set -e
    took=$((SECONDS - t0))
    echo "$tag: exit $rc after ${took}s; stderr:"
    sed 's/^/    /' "$work/out/$tag.err"
}
# check TAG MAX_SECONDS ONE_LINE: exit 4, stderr says the server did not
# answer (on exactly one line when ONE_LINE is yes), done within MAX_SECONDS.
check() {
    local tag=$1 max=$2 one_line=$3 n
    if [ "$rc" -eq 124 ]; then
        fail "$tag: still running after 300 s (killed by timeout)"
    elif [ "$rc" -ne 4 ]; then
        fail "$tag: exit $rc, expected 4 (cannot connect / timeout)"
    fi
    ((took < max)) || fail "$tag: took ${took}s, expected under ${max}s"
    grep -qiE 'did not answer|no answer|not respond|timed out|time-?out' "$work/out/$tag.err" ||
        fail "$tag: stderr does not say that the server did not answer"
    if [ "$one_line" = yes ]; then
        n=$(grep -c . "$work/out/$tag.err" || true)
        [ "$n" -eq 1 ] || fail "$tag: expected a one-line message on stderr, got $n lines"
    fi
    kill -0 "$bg_pid" 2>/dev/null || die "silent_server died during $tag: $(cat "$work/silent.err")"
}

src=$work/src
mkdir -p "$src/sub"
printf 'one\n' >"$src/one.txt"
printf 'nested\n' >"$src/sub/nested.txt"
src_before=$(cd "$src" && find . -printf '%P %y %s %T@\n' | LC_ALL=C sort)

# --- no reconnects: fails once the request times out ---------------------------

smbcopy_run down -A "$auth" --timeout 2 --retry-for 0 "$silent_url" "$work/dst"
check down 12 yes
[ ! -e "$work/dst" ] || fail "down: the destination was created: $(find "$work/dst" | head -n 5 | tr '\n' ' ')"

smbcopy_run up -A "$auth" --timeout 2 --retry-for 0 "$src" "$silent_url"
check up 12 yes
[ "$src_before" = "$(cd "$src" && find . -printf '%P %y %s %T@\n' | LC_ALL=C sort)" ] ||
    fail "up: the local source changed"

# --- reconnects allowed for a while: still ends, with the same error --------------

smbcopy_run retry -A "$auth" --timeout 3 --retry-for 5s "$silent_url" "$work/dst-retry"
check retry 13 yes
[ ! -e "$work/dst-retry" ] || fail "retry: the destination was created"

cli_test_end "cli_silent_server: all checks passed"

#!/usr/bin/env bash
# Every exit status of smbcopy, and --json on each: standard output holds
# exactly one JSON object whose exit_code is the exit status, with "error"
# the one-line reason when the job could not run (null otherwise), on every
# exit, fatal ones included:
#   0  a small upload
#   1  files failed (an upload into the read-only share); a damaged archive
#      (the job failed in another way: error set)
#   2  a bad option, a bad location, an unsafe -A file
#   3  a wrong password; a user the share refuses (access denied on TREE_CONNECT)
#   4  nothing listening; no such share; a server that signs TREE_CONNECT
#      badly, answers a MessageId never sent, or grants 0 credits (hostile_smbd);
#      a connection lost again and again until --retry-for gave up
#   5  SIGTERM while connecting to a server that never answers
#   6  the --lock file held by another process
# Without --json the same runs print no JSON, and the error on stderr is one line.
set -euo pipefail
# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"
need_tools flock perl
cli_test_dirs cli_exit_json
hostile=$SMBCOPY_BUILD_DIR/tests/hostile_smbd
silent=${SMBCOPY_SILENT_SERVER:?run through ctest}
[ -x "$hostile" ] || die "hostile_smbd not built: $hostile"
[ -x "$silent" ] || die "silent_server not built: $silent"
export XDG_STATE_HOME=$work/state
srv_pid=
holder=
stop_bg() {
    local p
    for p in $srv_pid $holder; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    srv_pid=
    holder=
}
trap 'stop_bg; cli_test_cleanup' EXIT

mkdir -p "$work/src/sub"
echo one >"$work/src/a.txt"
echo two >"$work/src/sub/b.txt"
host=$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT

# jrun TAG ARGS...: smbcopy --json ARGS (no -A), without a terminal; rc, $work/out/TAG.{out,err}.
jrun() {
    local tag=$1
    shift
    set +e
    timeout 120 "$cli" --json --no-progress "$@" </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err"
    rc=$?
    set -e
}
# expect TAG WANT [error]: exit WANT, exactly one JSON object on stdout with
# exit_code WANT and, with "error", a non-empty error string (else null).
expect() {
    local tag=$1 want=$2 err=${3:-}
    if [ "$rc" -ne "$want" ]; then
        fail "$tag: exit $rc, expected $want: $(head -c 600 "$work/out/$tag.err")"
        return
    fi
    local n
    if ! n=$(jq -s length <"$work/out/$tag.out" 2>/dev/null) || [ "$n" != 1 ]; then
        fail "$tag (exit $rc): stdout is not exactly one JSON object: '$(head -c 400 "$work/out/$tag.out")'"
        return
    fi
    jq -e --argjson w "$want" '.exit_code == $w and (.failures | type == "array") and (.files_copied | type == "number")' \
        <"$work/out/$tag.out" >/dev/null || fail "$tag: exit_code or counters wrong: $(cat "$work/out/$tag.out")"
    if [ -n "$err" ]; then
        jq -e '(.error | type == "string") and (.error | length > 0) and (.error | test("\n") | not)' \
            <"$work/out/$tag.out" >/dev/null || fail "$tag: no error in the JSON: $(cat "$work/out/$tag.out")"
        # The same reason is the one line on stderr.
        local e
        e=$(jq -r .error <"$work/out/$tag.out")
        grep -qF -- "$e" "$work/out/$tag.err" || fail "$tag: the JSON error is not the message on stderr: '$e' vs '$(cat "$work/out/$tag.err")'"
    else
        jq -e '.error == null' <"$work/out/$tag.out" >/dev/null || fail "$tag: error set: $(cat "$work/out/$tag.out")"
    fi
    echo "ok: $tag: exit $rc${err:+: $(jq -r .error <"$work/out/$tag.out")}"
}

# --- 0 and 1 -----------------------------------------------------------------------
jrun ok -A "$auth" "$work/src" "$url/ok"
expect ok 0
diff -r "$work/src" "$share/ok" >/dev/null || fail "ok: the upload differs"
jrun ro -A "$auth" "$work/src" "smb://$host/$SMBCOPY_TEST_READONLY_SHARE/"
expect ro 1
jq -e '.files_failed >= 1 and (.failures | length) >= 2' <"$work/out/ro.out" >/dev/null || fail "ro: files_failed: $(cat "$work/out/ro.out")"
# Each reason says once what failed: no "write: write 'a.txt': write '...tmp': ..." stacking.
reason=$(jq -r '.failures[] | select(.path == "a.txt") | .reason' <"$work/out/ro.out")
[[ $reason =~ ^write\ \'\.smbcopy-[0-9a-f-]+\.tmp\':\ access\ denied\ \(STATUS_ACCESS_DENIED\)$ ]] ||
    fail "ro: the reason for a.txt is not one clear line: '$reason'"

# A damaged archive: exit 1, the job failed in another way.
"$cli" -q "$work/src" "$work/good.tar"
head -c 700 "$work/good.tar" >"$work/cut.tar"
jrun cut "$work/cut.tar" "$work/cut-out"
expect cut 1 error

# --- 2 ------------------------------------------------------------------------------
jrun badopt --threads 0 "$work/src" "$work/x"
expect badopt 2 error
jrun badloc "smb:nohost" "$work/x"
expect badloc 2 error
cp "$auth" "$work/open.auth"
chmod 644 "$work/open.auth"
jrun badauth -A "$work/open.auth" "$work/src" "$url/badauth"
expect badauth 2 error

# --- 3 ------------------------------------------------------------------------------
SMB_PASSWORD=Wr0ng-$$ jrun wrongpw "$work/src" "smb://$SMBCOPY_TEST_USER@$host/$SMBCOPY_TEST_SHARE/x"
expect wrongpw 3 error
# An unknown user becomes a guest (map to guest = bad user), whom the data share refuses.
SMB_PASSWORD=whatever jrun denied "smb://nosuchuser$$@$host/$SMBCOPY_TEST_SHARE/" "$work/denied"
expect denied 3 error
grep -qi "access denied" "$work/out/denied.err" || fail "denied: the message does not say access was denied"

# --- 4 ------------------------------------------------------------------------------
jrun refused -A "$auth" --retry-for 0 "smb://127.0.0.1:1/share/" "$work/refused"
expect refused 4 error
jrun noshare -A "$auth" "smb://$host/no-such-share-$$/" "$work/noshare"
expect noshare 4 error

start_hostile() {
    rm -f "$work/port"
    "$hostile" --mode "$1" --port-file "$work/port" >/dev/null 2>"$work/hostile.err" &
    srv_pid=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
    [ -s "$work/port" ] || die "hostile_smbd --mode $1 did not start: $(cat "$work/hostile.err")"
    hport=$(cat "$work/port")
}
for mode in bad-signature unknown-mid credits-0; do
    start_hostile "$mode"
    SMB_PASSWORD=hostile-pass jrun "$mode" --retry-for 0 --timeout 5 "smb://tester@127.0.0.1:$hport/share" "$work/h-$mode"
    stop_bg
    expect "$mode" 4 error
done
# Lost in the middle of every READ, again after each reconnection, until --retry-for gives up.
start_hostile close-mid-read
SMB_PASSWORD=hostile-pass jrun lost --retry-for 3s --timeout 5 "smb://tester@127.0.0.1:$hport/share" "$work/lost"
stop_bg
expect lost 4 error
grep -q "gave up" "$work/out/lost.err" || fail "lost: not given up after retrying: $(cat "$work/out/lost.err")"

# --- 5 ------------------------------------------------------------------------------
"$silent" >"$work/silent.port" 2>/dev/null &
srv_pid=$!
for _ in $(seq 100); do [ -s "$work/silent.port" ] && break; sleep 0.05; done
sport=$(head -n1 "$work/silent.port")
set +e
"$cli" --json --no-progress -A "$auth" --timeout 5 "smb://127.0.0.1:$sport/share/" "$work/int" \
    </dev/null >"$work/out/int.out" 2>"$work/out/int.err" &
run_pid=$!
sleep 1
kill -TERM "$run_pid"
wait "$run_pid"
rc=$?
set -e
stop_bg
expect int 5
jq -e '.interrupted == true' <"$work/out/int.out" >/dev/null || fail "int: not marked interrupted"

# --- 6 ------------------------------------------------------------------------------
lock=$work/held.lock
bash -c 'exec 9>>"$1"; flock 9 || exit 1; exec sleep 60' _ "$lock" </dev/null >/dev/null 2>&1 &
holder=$!
for _ in $(seq 100); do
    flock -n "$lock" true 2>/dev/null || break
    sleep 0.05
done
jrun locked --lock "$lock" "$work/src" "$work/locked"
stop_bg
expect locked 6 error
[ ! -e "$work/locked" ] || fail "locked: the destination was created"

# --- without --json: no JSON, one line --------------------------------------------
set +e
SMB_PASSWORD=hostile-pass "$cli" --no-progress -A "$auth" "smb://$host/no-such-share-$$/" "$work/plain" \
    </dev/null >"$work/out/plain.out" 2>"$work/out/plain.err"
rc=$?
set -e
[ "$rc" -eq 4 ] || fail "plain: exit $rc, expected 4"
[ ! -s "$work/out/plain.out" ] || fail "plain: stdout not empty: $(cat "$work/out/plain.out")"
[ "$(grep -c . "$work/out/plain.err")" -eq 1 ] || fail "plain: not one line on stderr: $(cat "$work/out/plain.err")"

cli_test_end "cli_exit_json: one JSON object with exit_code and error on every exit status (0 to 6)"

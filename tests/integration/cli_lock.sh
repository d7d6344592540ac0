#!/usr/bin/env bash
# --lock FILE, one run of a job at a time (local to local, so no server):
#   - while another process holds the lock, smbcopy exits at once with code 6
#     and one line naming the holder, and copies nothing;
#   - a holder killed with SIGKILL leaves no lock behind;
#   - once free, the run takes the lock (its process id in the file) and copies;
#   - a lock file that cannot be created is a usage error (exit 2);
#   - every job takes its own lock in $XDG_STATE_HOME/smbcopy/, with --lock too,
#     and removes it when it ends: the same job (spelled otherwise, or with
#     --lock) exits 6 while a run of it waits on a server that never answers
#     (silent_server), a dry run and another --job do not; no lock file stays;
#   - --lock on a file that is not a lock file: exit 2, the file untouched;
#   - with no usable state directory the run goes on unlocked, with a warning.
set -euo pipefail
# shellcheck source=lib/skip.sh
. "$(dirname "$0")/lib/skip.sh"

cli=${SMBCOPY_CLI:?run through ctest}
[ -x "$cli" ] || { echo "FAIL: smbcopy binary missing: $cli" >&2; exit 1; }
command -v flock >/dev/null 2>&1 || skip "flock(1) not found (util-linux)"
work=$(mktemp -d "${TMPDIR:-/tmp}/smbcopy-cli_lock.XXXXXX")
holder=
silent_pid=
cleanup() {
    [ -z "$holder" ] || kill -9 "$holder" 2>/dev/null || true
    [ -z "$silent_pid" ] || kill -9 "$silent_pid" 2>/dev/null || true
    rm -rf -- "$work"
}
trap cleanup EXIT
failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
mkdir -p "$work/src/sub"
echo one >"$work/src/a.txt"
echo two >"$work/src/sub/b.txt"
lock=$work/job.lock

# run TAG ARGS...: rc in $rc, output in $work/TAG.{out,err}
run() {
    local tag=$1
    shift
    set +e
    timeout 20 "$cli" "$@" </dev/null >"$work/$tag.out" 2>"$work/$tag.err"
    rc=$?
    set -e
}

# Held by another process (which wrote its id, as smbcopy does).
echo 4242 >"$lock"
# The holder is the process that keeps the locked descriptor: bash exec'd into sleep.
bash -c 'exec 9>>"$1"; flock 9 || exit 1; exec sleep 30' _ "$lock" </dev/null >/dev/null 2>&1 &
holder=$!
for _ in $(seq 100); do
    flock -n "$lock" true 2>/dev/null || break
    sleep 0.05
done
run busy --lock "$lock" "$work/src" "$work/dst-busy"
[ "$rc" -eq 6 ] || fail "busy: exit $rc, expected 6: $(cat "$work/busy.err")"
[ "$(grep -c . "$work/busy.err")" -eq 1 ] || fail "busy: expected one line on stderr, got: $(cat "$work/busy.err")"
grep -q "another run holds the lock $lock (process 4242)" "$work/busy.err" || fail "busy: message: $(cat "$work/busy.err")"
[ ! -e "$work/dst-busy" ] || fail "busy: the destination was created although the lock was held"

# The holder dies hard: the lock goes with it.
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
holder=
run free --lock "$lock" "$work/src" "$work/dst"
[ "$rc" -eq 0 ] || fail "free: exit $rc: $(cat "$work/free.err")"
diff -r "$work/src" "$work/dst" >/dev/null || fail "free: the copy differs from the source"
grep -qx '[0-9][0-9]*' "$lock" || fail "free: the lock file does not hold a process id: $(cat "$lock")"
[ "$(stat -c %a "$lock")" = 600 ] || [ "$(stat -c %a "$lock")" = 644 ] || fail "lock file mode $(stat -c %a "$lock")"

# A fresh lock file is created private.
run fresh --lock "$work/new.lock" "$work/src" "$work/dst2"
[ "$rc" -eq 0 ] || fail "fresh: exit $rc: $(cat "$work/fresh.err")"
[ "$(stat -c %a "$work/new.lock")" = 600 ] || fail "fresh: lock file mode $(stat -c %a "$work/new.lock"), expected 600"

run badpath --lock "$work/no/such/dir/x.lock" "$work/src" "$work/dst3"
[ "$rc" -eq 2 ] || fail "badpath: exit $rc, expected 2: $(cat "$work/badpath.err")"
[ ! -e "$work/dst3" ] || fail "badpath: the destination was created"

# The job's own lock, in a private state directory: removed when the run ends.
export XDG_STATE_HOME=$work/state
for i in 1 2 3; do
    run "own$i" "$work/src" "$work/dst-own"
    [ "$rc" -eq 0 ] || fail "own$i: exit $rc: $(cat "$work/own$i.err")"
done
[ "$(stat -c %a "$XDG_STATE_HOME/smbcopy")" = 700 ] || fail "state directory mode $(stat -c %a "$XDG_STATE_HOME/smbcopy")"
mapfile -t locks < <(find "$XDG_STATE_HOME/smbcopy" -name '*.lock')
[ "${#locks[@]}" -eq 0 ] || fail "own: lock files left behind after three runs: ${locks[*]}"

# Held by a run that waits on a server that never answers: the same job
# spelled otherwise exits 6, with --lock too (the job's own lock is always
# taken, so the two never share the journal); a dry run and another --job do not wait.
silent=${SMBCOPY_SILENT_SERVER:?run through ctest}
"$silent" >"$work/silent.port" 2>/dev/null &
silent_pid=$!
for _ in $(seq 100); do [ -s "$work/silent.port" ] && break; sleep 0.05; done
sport=$(head -n1 "$work/silent.port")
SMB_USERNAME= SMB_PASSWORD= "$cli" --no-progress --timeout 30 "smb://127.0.0.1:$sport/share/dir" "$work/dst-held" \
    </dev/null >"$work/held.out" 2>&1 &
holder=$!
for _ in $(seq 200); do
    [ -n "$(find "$XDG_STATE_HOME/smbcopy" -name '*.lock' 2>/dev/null)" ] && break
    sleep 0.05
done
run own-held "smb://localhost:$sport/SHARE/Dir/" "$work/./dst-held/"
[ "$rc" -eq 6 ] || fail "own-held: the same job (written differently) ran while its lock was held: exit $rc: $(cat "$work/own-held.err")"
run own-held-lock --lock "$work/other.lock" "smb://127.0.0.1:$sport/share/dir" "$work/dst-held"
[ "$rc" -eq 6 ] || fail "own-held-lock: with --lock the job's own lock was not taken: exit $rc: $(cat "$work/own-held-lock.err")"
run own-dry --dry-run --timeout 1 "smb://127.0.0.1:$sport/share/dir" "$work/dst-held"
[ "$rc" -ne 6 ] || fail "own-dry: a dry run waits for no lock, but exit 6"
run own-named --job other-job "$work/src" "$work/dst-held"
[ "$rc" -eq 0 ] || fail "own-named: another --job is another lock, but exit $rc: $(cat "$work/own-named.err")"
kill -9 "$holder"
wait "$holder" 2>/dev/null || true
holder=
run own-after --timeout 1 "smb://127.0.0.1:$sport/share/dir" "$work/dst-held"
[ "$rc" -ne 6 ] || fail "own-after: the lock of a killed run still held: $(cat "$work/own-after.err")"
kill "$silent_pid" 2>/dev/null || true
wait "$silent_pid" 2>/dev/null || true
silent_pid=
mapfile -t locks < <(find "$XDG_STATE_HOME/smbcopy" -name '*.lock')
[ "${#locks[@]}" -eq 0 ] || fail "own-after: the run after a killed one left its lock file: ${locks[*]}"

# --lock FILE on a file that is not a lock file: refused (exit 2), the file untouched.
printf 'not a lock\n' >"$work/precious"
run notlock --lock "$work/precious" "$work/src" "$work/dst-notlock"
[ "$rc" -eq 2 ] || fail "notlock: exit $rc, expected 2: $(cat "$work/notlock.err")"
[ "$(cat "$work/precious")" = "not a lock" ] || fail "notlock: the file was changed"
[ ! -e "$work/dst-notlock" ] || fail "notlock: the destination was created"

# No usable state directory: a warning, and the copy still runs.
: >"$work/not-a-dir"
XDG_STATE_HOME=$work/not-a-dir run nostate "$work/src" "$work/dst-nostate"
[ "$rc" -eq 0 ] || fail "nostate: exit $rc: $(cat "$work/nostate.err")"
grep -q "^warning: no run lock for this job: cannot create the state directory $work/not-a-dir" "$work/nostate.err" ||
    fail "nostate: no warning: $(cat "$work/nostate.err")"
diff -r "$work/src" "$work/dst-nostate" >/dev/null || fail "nostate: the copy differs from the source"

if ((failures)); then
    echo "$failures failure(s)" >&2
    exit 1
fi
echo "all lock checks passed"

#!/usr/bin/env bash
# Secrets and files that are not smbcopy's, against the Samba fixture:
#   - a password in a URL, in the UNC form or after -U USER% is gone from the
#     command line (/proc/PID/cmdline, what ps shows) while smbcopy runs, and
#     the run still logs on with it (a real download);
#   - the process is not dumpable (run as nobody, its /proc entries belong to
#     root, as for every process that cannot dump core or be traced);
#   - //USER:PASSWORD@HOST/SHARE is a user and a password, never a host: the
#     warning URLs get, no password in any message nor in the --log header;
#     an unencoded '@' and '/' in a password are never printed back;
#   - --checkpoint FILE --no-resume on a file that is not a journal: exit 2,
#     the file untouched;
#   - a local name holding ':' ("a:b.txt") is copied between local
#     directories; an SMB destination refuses it, naming the reason;
#   - an SMB path of 100 KB: exit 2, one line naming its length.
set -euo pipefail
# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"
need_tools setpriv
cli_test_dirs cli_secrets
silent=${SMBCOPY_SILENT_SERVER:?run through ctest}
export XDG_STATE_HOME=$work/state
pw=$SMBCOPY_TEST_PASSWORD
user=$SMBCOPY_TEST_USER
host=$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT
secret=S3cr3t-$$-$RANDOM
srv_pid=
run_pid=
trap 'for p in $srv_pid $run_pid; do kill -9 "$p" 2>/dev/null || true; done; cli_test_cleanup' EXIT

# A tree on the share to download.
mkdir -p "$share/seed/sub"
echo hello >"$share/seed/a.txt"
head -c 200000 /dev/urandom >"$share/seed/sub/b.bin"

# connected_to PORT PID: PID has a TCP connection to 127.0.0.1:PORT (it is
# past parsing its arguments, which scrubs them, and waits on the server).
connected_to() {
    ss -Htnp state established dst "127.0.0.1:$1" 2>/dev/null | grep -q "pid=$2,"
}

# cmdline_while_connected TAG PORT ARGS...: start smbcopy ARGS in the
# background against the silent server on PORT, wait (at most 60 s, however
# loaded the machine) until it has connected, keep its command line in
# $work/out/TAG.cmdline, then stop it.
cmdline_while_connected() {
    local tag=$1 port=$2
    shift 2
    "$cli" --no-progress --timeout 120 "$@" </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err" &
    run_pid=$!
    : >"$work/out/$tag.cmdline"
    for _ in $(seq 6000); do
        if connected_to "$port" "$run_pid"; then
            tr '\0' ' ' <"/proc/$run_pid/cmdline" >"$work/out/$tag.cmdline" 2>/dev/null || true
            break
        fi
        kill -0 "$run_pid" 2>/dev/null || break
        sleep 0.01
    done
    kill -9 "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
    run_pid=
}

# run_real TAG ARGS...: smbcopy ARGS against the real server; rc.
run_real() {
    local tag=$1
    shift
    set +e
    "$cli" --no-progress "$@" </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err"
    rc=$?
    set -e
}

# --- passwords gone from the command line, and still used ---------------------------
"$silent" >"$work/silent.port" 2>/dev/null &
srv_pid=$!
for _ in $(seq 600); do [ -s "$work/silent.port" ] && break; sleep 0.05; done
sport=$(head -n1 "$work/silent.port")
[ -n "$sport" ] || die "the silent server gave no port"

# A server that never answers keeps smbcopy running while its command line is read.
cmdline_while_connected url-silent "$sport" "smb://$user:$secret@127.0.0.1:$sport/share/x" "$work/url-silent"
grep -q "127.0.0.1:$sport/share/x" "$work/out/url-silent.cmdline" || fail "url-silent: command line not read: $(cat "$work/out/url-silent.cmdline")"
! grep -qF "$secret" "$work/out/url-silent.cmdline" || fail "url-silent: the URL's password is on the command line: $(cat "$work/out/url-silent.cmdline")"
cmdline_while_connected u-silent "$sport" -U "$user%$secret" "smb://127.0.0.1:$sport/share/x" "$work/u-silent"
grep -q -- "-U $user%" "$work/out/u-silent.cmdline" || fail "u-silent: command line not read: $(cat "$work/out/u-silent.cmdline")"
! grep -qF "$secret" "$work/out/u-silent.cmdline" || fail "u-silent: -U's password is on the command line: $(cat "$work/out/u-silent.cmdline")"

# The real server: the scrubbed password still logs on (these runs end too
# quickly for their command line to be read: the runs above show it).
run_real url-real "smb://$user:$pw@$host/$SMBCOPY_TEST_SHARE/$name/seed" "$work/url-real"
[ "$rc" -eq 0 ] || fail "url-real: exit $rc: $(cat "$work/out/url-real.err")"
diff -r "$share/seed" "$work/url-real" >/dev/null || fail "url-real: the download differs"
grep -q "^warning: a password in the URL" "$work/out/url-real.err" || fail "url-real: no warning about the URL's password"
run_real u-real -U "$user%$pw" "smb://$host/$SMBCOPY_TEST_SHARE/$name/seed" "$work/u-real"
[ "$rc" -eq 0 ] || fail "u-real: exit $rc: $(cat "$work/out/u-real.err")"
diff -r "$share/seed" "$work/u-real" >/dev/null || fail "u-real: the download differs"

# --- not dumpable ---------------------------------------------------------------------
mkdir -p "$work/nobody"
chmod 0777 "$work/nobody"
XDG_STATE_HOME=$work/nobody setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$cli" --no-progress --timeout 120 "smb://$user:$secret@127.0.0.1:$sport/share/x" "$work/nobody/out" \
    </dev/null >/dev/null 2>&1 &
run_pid=$!
owner=
# Once connected it is past start-up (PR_SET_DUMPABLE is set first thing).
for _ in $(seq 6000); do
    if connected_to "$sport" "$run_pid"; then
        owner=$(stat -c %u "/proc/$run_pid/status" 2>/dev/null || true)
        break
    fi
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.01
done
kill -9 "$run_pid" 2>/dev/null || true
wait "$run_pid" 2>/dev/null || true
run_pid=
[ "$owner" = 0 ] || fail "dumpable: smbcopy running as nobody has its /proc entries owned by uid '$owner', not root (it is dumpable)"
kill "$srv_pid" 2>/dev/null || true
wait "$srv_pid" 2>/dev/null || true
srv_pid=

# --- the UNC form with a password ---------------------------------------------------
cli_run unc --log "$work/unc.log" --timeout 3 --retry-for 0 "//$user:$secret@127.0.0.1/nosuchshare/x" "$work/unc"
[ "$rc" -ne 0 ] || fail "unc: exit 0"
grep -q "^warning: a password in the URL" "$work/out/unc.err" || fail "unc: no warning about the password"
! grep -q "resolve host '$user" "$work/out/unc.err" || fail "unc: the user and password were taken for a host name"
grep -q "smb://$user@127.0.0.1/nosuchshare/x" "$work/unc.log" || fail "unc: the log header does not name the location: $(cat "$work/unc.log")"
for f in "$work/out/unc.err" "$work/out/unc.out" "$work/unc.log"; do
    ! grep -qF "$secret" "$f" || fail "unc: the password shows in $f"
done
# An unencoded '@' and '/' in the password: a bad location, never printed back.
for loc in "smb://$user:ab@cd/$secret@$host/share" "//$user:ab@/$secret@host/share" "smb://$user:$secret@/x@host/s"; do
    cli_run badpw "$loc" "$work/badpw"
    [ "$rc" -eq 2 ] || [ "$rc" -eq 4 ] || fail "badpw: exit $rc for a mangled location"
    ! grep -qF "$secret" "$work/out/badpw.err" "$work/out/badpw.out" || fail "badpw: the password is printed: $(cat "$work/out/badpw.err")"
done

# --- --checkpoint on someone's file --------------------------------------------------
printf 'chapter one\n' >"$work/thesis.txt"
mkdir -p "$work/lsrc"
echo x >"$work/lsrc/x.txt"
cli_run ckpt --checkpoint "$work/thesis.txt" --no-resume "$work/lsrc" "$work/ldst"
[ "$rc" -eq 2 ] || fail "ckpt: exit $rc, expected 2: $(cat "$work/out/ckpt.err")"
[ "$(cat "$work/thesis.txt")" = "chapter one" ] || fail "ckpt: the file was changed"
grep -q "is not a checkpoint journal of smbcopy" "$work/out/ckpt.err" || fail "ckpt: message: $(cat "$work/out/ckpt.err")"
[ ! -e "$work/ldst" ] || fail "ckpt: the destination was created"

# --- a local name with ':' --------------------------------------------------------------
mkdir -p "$work/colon/d:e"
echo one >"$work/colon/a:b.txt"
echo two >"$work/colon/d:e/c.txt"
cli_run colon "$work/colon" "$work/colon-out"
[ "$rc" -eq 0 ] || fail "colon: exit $rc: $(cat "$work/out/colon.err" "$work/out/colon.out")"
diff -r "$work/colon" "$work/colon-out" >/dev/null || fail "colon: the copy differs"
cli_run colon-smb --json "$work/colon" "$url/colon"
[ "$rc" -eq 1 ] || fail "colon-smb: exit $rc, expected 1 (names an SMB server refuses)"
jq -e '[.failures[] | select(.path == "a:b.txt") | .reason | test("refuse names holding")] | any' \
    <"$work/out/colon-smb.out" >/dev/null || fail "colon-smb: a:b.txt not refused by name: $(cat "$work/out/colon-smb.out")"
[ ! -e "$share/colon/a" ] || fail "colon-smb: a stream or a file 'a' was written"

# --- a path longer than SMB can carry -------------------------------------------------
long=$(head -c 100000 /dev/zero | tr '\0' a)
cli_run long "smb://$host/$SMBCOPY_TEST_SHARE/$long" "$work/long"
[ "$rc" -eq 2 ] || fail "long: exit $rc, expected 2"
[ "$(grep -c . "$work/out/long.err")" -eq 1 ] || fail "long: not one line"
grep -q "path too long for SMB: 100000 characters (at most 32767)" "$work/out/long.err" ||
    fail "long: message: $(head -c 300 "$work/out/long.err")"
[ "$(wc -c <"$work/out/long.err")" -lt 1000 ] || fail "long: the message is $(wc -c <"$work/out/long.err") bytes"

cli_test_end "cli_secrets: passwords wiped from the command line and never printed, not dumpable, others' files refused, local ':' names, long paths"

#!/usr/bin/env bash
# The server goes away in the middle of a large file (the fixture's "faults"
# instance is frozen with SIGSTOP and killed with SIGKILL, so that the copy
# is caught mid-file, then started again on its port):
#   - share -> local and local -> share (two files of 200 MiB and 200 small
#     files), server down about 2 s: the job reconnects by itself and ends
#     with exit 0 and a tree identical to the source (content and times);
#     --json says reconnects >= 1 and files_resumed >= 1 (the large files go
#     on from the journal, not from zero); what it moves again is at most
#     what was in flight plus one window per worker and the small files
#     (bytes_read, or bytes_written for the upload, minus the source's size:
#     bounded as in cli_resume.sh); nothing temporary is left, the journal
#     is gone; smbclient reads back what the upload wrote;
#   - share -> local with --retry-for 3s, the server kept down: exit 4 well
#     within 60 s, one line on stderr saying that it gave up, the journal
#     kept; with the server back, a rerun completes the job (exit 0, the
#     large files resumed, identical tree, no journal).
# Each moment is caught by polling the temporary files' allocated bytes;
# a copy that ends before it is caught fails the test (it tested nothing).
# The faults server is left running (restarted at exit if the test stopped
# it). SMBCOPY_TEST_KEEP=1 keeps the test's directories for a look afterwards.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

# The faults instance (tests/fixtures/samba-fixture.sh): its port, share
# directory and pid file, and the fixture's restart command.
fport=${SMBCOPY_TEST_PORT_FAULTS:-}
fshare=${SMBCOPY_TEST_SHARE_DIR_FAULTS:-}
fpidfile=${SMBCOPY_TEST_FIXTURE_DIR:-}/faults/smbd.pid
if [ -z "$fport" ] || [ ! -d "$fshare" ] || [ ! -r "$fpidfile" ]; then
    skip "the Samba fixture has no running faults instance (port '$fport', share '$fshare', $fpidfile)"
fi

cli_test_dirs cli_reconnect

# The test's directory on the faults share, and its URL.
fdir=$fshare/$name
furl=smb://$SMBCOPY_TEST_HOST:$fport/$SMBCOPY_TEST_SHARE/$name
cleanup_dirs+=("$fdir")
mkdir -p -- "$fdir"

# Whatever happens, the faults server is running at exit.
server_down=no
reconnect_cleanup() {
    cli_test_cleanup
    if [ "$server_down" = yes ]; then
        if ! bash "$fixtures/samba-fixture.sh" restart "$SMBCOPY_TEST_FIXTURE_DIR" faults 0 >&2; then
            echo "FAIL: could not restart the faults server" >&2
            exit 1
        fi
    fi
}
trap reconnect_cleanup EXIT

export XDG_STATE_HOME=$work/state
mkdir -p "$XDG_STATE_HOME"

# Engine constants (src/engine/copy.c), as in cli_resume.sh: the I/O budget
# shared by the workers' windows, and the default thread count.
readonly IO_BUDGET=$((32 * 1024 * 1024))
readonly THREADS=8
readonly WINDOW=$((IO_BUDGET / THREADS))
readonly BIG=$((200 * 1024 * 1024))
readonly SMALL=8192
# The server is stopped once the temporary files hold this much.
readonly CATCH=$((60 * 1024 * 1024))
# Generous upper bounds (seconds): a run that reconnects, and a run that gives up.
readonly RUN_MAX=180
readonly GIVE_UP_MAX=60

# The source: two large files and a directory of 200 small files; a copy
# of it on the faults share for the downloads.
src=$work/src
mkdir -p "$src/small"
head -c $BIG /dev/urandom >"$src/big1.bin"
head -c $BIG /dev/urandom >"$src/big2.bin"
head -c $((200 * SMALL)) /dev/urandom | split -b $SMALL -d -a 3 - "$src/small/s"
cp -a -- "$src" "$fdir/down"
total=$(find "$src" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
# What a run that reconnects may move again: in flight and one window per
# worker (as in cli_resume.sh), and the small files (done but not journaled).
bound=$((2 * IO_BUDGET + 2 * WINDOW + 200 * SMALL))


# start_copy TAG ARGS...: smbcopy in the background, its pid (not a
# wrapper's) in bg_pid.
start_copy() {
    local tag=$1
    shift
    "$cli" -A "$auth" --json --no-progress "$@" </dev/null >"$work/out/$tag.json" 2>"$work/out/$tag.err" &
    bg_pid=$!
}

# catch DIR: wait until the temporary files under DIR hold CATCH bytes
# (what they held then in caught); returns 1 when the run ended before.
catch() {
    while kill -0 "$bg_pid" 2>/dev/null; do
        caught=$(allocated_bytes "$1" -maxdepth 1 -name '.smbcopy-*.tmp')
        [ "$caught" -lt $CATCH ] || return 0
        sleep 0.005
    done
    return 1
}

# wait_copy MAX: wait for the background run, at most MAX seconds (then it
# is killed and rc is "hung"); sets rc and took (seconds).
wait_copy() {
    local max=$1 t0=$SECONDS
    while kill -0 "$bg_pid" 2>/dev/null && ((SECONDS - t0 < max)); do
        sleep 0.1
    done
    if kill -0 "$bg_pid" 2>/dev/null; then
        kill -KILL "$bg_pid" 2>/dev/null || true
        wait "$bg_pid" 2>/dev/null || true
        rc=hung
    else
        wait "$bg_pid" && rc=0 || rc=$?
    fi
    bg_pid=
    took=$((SECONDS - t0))
}

# server_kill: freeze the faults smbd's process group at once (the copy
# stops mid-file), then kill it.
server_kill() {
    local pid
    pid=$(cat "$fpidfile")
    [[ $pid =~ ^[0-9]+$ ]] || die "no pid in $fpidfile: '$pid'"
    server_down=yes
    kill -STOP -- "-$pid" || die "cannot stop the faults smbd's process group $pid"
    kill -KILL -- "-$pid" || die "cannot kill the faults smbd's process group $pid"
}

# server_start TAG DOWN_SECONDS: the fixture's restart (stay down
# DOWN_SECONDS, start again on the same port, wait until it answers).
server_start() {
    local tag=$1 down=$2 pid
    bash "$fixtures/samba-fixture.sh" restart "$SMBCOPY_TEST_FIXTURE_DIR" faults "$down" \
        >"$work/out/$tag.restart" 2>&1 || die "$tag: the faults server did not restart: $(tail -n 3 "$work/out/$tag.restart")"
    server_down=no
    pid=$(cat "$fpidfile")
    kill -0 "$pid" 2>/dev/null || die "$tag: the restarted faults smbd (pid $pid) is not running"
}

json() { jq -r "$2" "$work/out/$1.json"; }

# exit_text: $rc, and the signal that ended the run when there was one.
exit_text() {
    if [[ $rc =~ ^[0-9]+$ ]] && ((rc > 128)); then
        echo "$rc (killed by SIG$(kill -l $((rc - 128)) 2>/dev/null || echo "$((rc - 128))"))"
    else
        echo "$rc"
    fi
}

# complete TAG SRC DEST: DEST holds SRC's tree (entries, sizes, times,
# bytes), nothing temporary, no journal.
complete() {
    local tag=$1 from=$2 dest=$3 left
    bash "$fixtures/compare-trees.sh" "$from" "$dest" >"$work/out/$tag.compare" 2>&1 ||
        fail "$tag: the tree differs from the source: $(head -n 6 "$work/out/$tag.compare" | tr '\n' ' ')"
    left=$(find "$dest" -name '.smbcopy-*' | head -n 3)
    [ -z "$left" ] || fail "$tag: temporary entries left: $left"
    left=$(find "$XDG_STATE_HOME" -name '*.journal' | head -n 3)
    [ -z "$left" ] || fail "$tag: the journal is still there after a successful run: $left"
}

# resumed_ok TAG COUNTER: reconnected, the large files resumed, bounded
# bytes moved again; prints the counters. COUNTER is what went through the
# connection: bytes_read for a download, bytes_written for an upload (the
# upload's large files go from the file to the socket with sendfile, which
# bytes_read does not count).
resumed_ok() {
    local tag=$1 counter=$2 moved again
    moved=$(json "$tag" ".$counter")
    again=$((moved - total))
    echo "$tag: exit $rc after ${took}s; reconnects $(json "$tag" .reconnects)," \
        "files resumed $(json "$tag" .files_resumed) ($(json "$tag" .bytes_resumed) bytes)," \
        "$counter $moved of $total (again $again, bound $bound)"
    [ "$(json "$tag" .reconnects)" -ge 1 ] || fail "$tag: no reconnection counted"
    # Copied again from zero shows as bytes moved twice with nothing
    # resumed. A loss that came after every byte had moved (a busy machine
    # stops the server late) leaves nothing to resume and moves nothing twice.
    if ((again == 0)); then
        echo "note: $tag: the connection was lost after every byte had moved: nothing to resume"
    elif [ "$(json "$tag" .files_resumed)" -lt 1 ]; then
        fail "$tag: no large file resumed from the journal (copied again from zero)"
    fi
    [ "$again" -le "$bound" ] ||
        fail "$tag: $counter exceeds the source's size by $again bytes (more than $bound: in flight plus a window per worker)"
}

# restart_mid_copy TAG FROM TO DEST COUNTER: copy FROM to TO, stop the
# server once the temporary files under DEST hold $CATCH bytes and start it
# again 2 s later; the copy must reconnect, resume (COUNTER bounded, see
# resumed_ok) and end with DEST equal to $src. Returns 1 after a failure.
restart_mid_copy() {
    local tag=$1 from=$2 to=$3 dest=$4 counter=$5
    rm -rf -- "$XDG_STATE_HOME/smbcopy"
    start_copy "$tag" "$from" "$to"
    if ! catch "$dest"; then
        wait_copy 1
        fail "$tag: the copy ended (exit $(exit_text)) before its temporary files held $CATCH bytes: nothing was interrupted"
        return 1
    fi
    server_kill
    echo "$tag: stopped the server when the temporary files held $caught bytes"
    server_start "$tag" 2
    wait_copy $RUN_MAX
    if [ "$rc" != 0 ]; then
        fail "$tag: exit $(exit_text) after the server came back: $(head -c 400 "$work/out/$tag.err")"
        return 1
    fi
    resumed_ok "$tag" "$counter"
    complete "$tag" "$src" "$dest"
}

# --- share -> local: the server restarted mid-file ---------------------------------------

dest=$work/down
restart_mid_copy down "$furl/down" "$dest" "$dest" bytes_read || true
rm -rf -- "$dest"

# --- local -> share: the server restarted mid-file ---------------------------------------

dest=$fdir/up
if restart_mid_copy up "$src" "$furl/up" "$dest" bytes_written; then
    smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" -p "$fport" -A "$auth" \
        -c "get $name/up/big2.bin $work/big2.smbclient" >"$work/out/up.smbclient" 2>&1 ||
        fail "up: smbclient get failed: $(tail -n 2 "$work/out/up.smbclient")"
    cmp -s "$work/big2.smbclient" "$src/big2.bin" || fail "up: smbclient reads other bytes than were uploaded"
    rm -f -- "$work/big2.smbclient"
fi

# --- share -> local: the server stays down longer than --retry-for ------------------------

rm -rf -- "$XDG_STATE_HOME/smbcopy"
dest=$work/giveup
start_copy giveup --retry-for 3s "$furl/down" "$dest"
if ! catch "$dest"; then
    wait_copy 1
    fail "giveup: the copy ended (exit $(exit_text)) before its temporary files held $CATCH bytes: nothing was interrupted"
else
    server_kill
    echo "giveup: stopped the server when the temporary files held $caught bytes"
    wait_copy $GIVE_UP_MAX
    echo "giveup: exit $(exit_text) after ${took}s; stderr:"
    sed 's/^/    /' "$work/out/giveup.err"
    [ "$rc" = 4 ] || fail "giveup: exit $(exit_text), expected 4 within ${GIVE_UP_MAX}s (cannot connect)"
    n=$(grep -c . "$work/out/giveup.err" || true)
    [ "$n" -eq 1 ] || fail "giveup: expected a one-line message on stderr, got $n lines"
    grep -q 'gave up' "$work/out/giveup.err" || fail "giveup: stderr does not say that it gave up"
    journal=$(find "$XDG_STATE_HOME/smbcopy" -name '*.journal' 2>/dev/null | head -n 1)
    [ -n "$journal" ] || fail "giveup: no journal kept for a rerun"
    [ -n "$(find "$dest" -maxdepth 1 -type f -name '.smbcopy-*.tmp')" ] ||
        fail "giveup: the partly copied files' temporaries are gone"

    server_start giveup 0
    start_copy giveup.rerun "$furl/down" "$dest"
    wait_copy $RUN_MAX
    if [ "$rc" != 0 ]; then
        fail "giveup: the rerun's exit $(exit_text): $(head -c 400 "$work/out/giveup.rerun.err")"
    else
        echo "giveup: rerun exit 0 after ${took}s; files resumed $(json giveup.rerun .files_resumed)" \
            "($(json giveup.rerun .bytes_resumed) bytes) from $(json giveup.rerun .journal_records) journal records," \
            "bytes read $(json giveup.rerun .bytes_read) of $total"
        [ "$(json giveup.rerun .files_resumed)" -ge 1 ] ||
            fail "giveup: the rerun resumed no large file from the journal"
        complete giveup "$src" "$dest"
    fi
fi
rm -rf -- "$dest"

# The faults server answers at the end, for the tests that come after.
[ "$server_down" = no ] || server_start end 0
smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" -p "$fport" -A "$auth" -c "ls $name/*" \
    >"$work/out/end.smbclient" 2>&1 || fail "the faults server does not answer at the end"

cli_test_end "cli_reconnect: reconnected mid-file both ways, gave up after --retry-for and resumed"

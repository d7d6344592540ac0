#!/usr/bin/env bash
# A source that changes under smbcopy, or between a killed run and its
# rerun, never leaves a mix of two versions under a final name; a journal
# never vouches for a file that changed since (uploads: local -> share;
# downloads: share -> local):
#   a. a large file rewritten in place (same size, new bytes in its last
#      range) as its copy starts: the change is seen, the copy made again,
#      and the new version arrives whole, exit 0; a file rewritten again and
#      again until the run ends is reported FAILED ("changed while it was
#      being copied") after the retries, exit 1, with no file and no
#      temporary left. The same for a server-side copy (share -> share),
#      through a proxy that delays every request (the server copies
#      300 MiB faster than the test can change the source).
#   b. killed half-way, the source changed in place with its modification
#      time restored (touch -d): the rerun gives the new source, not a
#      resumed mix. Uploads detect it by the change time (st_ctime); Samba
#      reports the modification time as the change time, so a download
#      detects it only with --checksum, which never resumes on trust.
#   c. a destination file changed after the run that copied it (its journal
#      kept by a kill): the rerun repairs it, with and without --checksum
#      (the journal's "done" record is no reason to skip it).
# SMBCOPY_TEST_KEEP=1 keeps the test's directories for a look afterwards.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

cli_test_dirs cli_changing_source

export XDG_STATE_HOME=$work/state
mkdir -p "$XDG_STATE_HOME"

readonly MIB=$((1024 * 1024))
readonly BIG_MIB=300
total=$((BIG_MIB * MIB))

# start_copy TAG SRC DEST [ARGS...]: smbcopy in the background (pid in bg_pid).
start_copy() {
    local tag=$1 src=$2 dest=$3
    shift 3
    "$cli" -A "$auth" --no-progress "$@" "$src" "$dest" </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err" &
    bg_pid=$!
}

# finish TAG: wait for the background run; its exit status in rc.
finish() {
    wait "$bg_pid" && rc=0 || rc=$?
    bg_pid=
}

show() {
    {
        echo "---- $1: exit $rc; stderr:"
        tail -n 20 "$work/out/$1.err"
        echo "---- stdout:"
        tail -n 20 "$work/out/$1.out"
    } >&2
}

# temps_left DIR: temporary entries smbcopy left under DIR.
temps_left() { find "$1" -name '.smbcopy-*' 2>/dev/null | head -n 3; }

# when_written DEST BYTES: once DEST holds BYTES allocated (the copy is under
# way), returns 0; 1 when the run ended first.
when_written() {
    local dest=$1 want=$2
    while kill -0 "$bg_pid" 2>/dev/null; do
        [ "$(allocated_bytes "$dest")" -lt "$want" ] || return 0
        sleep 0.005
    done
    return 1
}

# versions NAME DIR: DIR/NAME.bin (the source, old bytes) and $work/NAME.old
# and $work/NAME.new: the same with its last 8 MiB new.
versions() {
    local name=$1 dir=$2
    head -c $total /dev/urandom >"$work/$name.old"
    head -c $((8 * MIB)) /dev/urandom >"$work/$name.tail"
    cp "$work/$name.old" "$work/$name.new"
    dd if="$work/$name.tail" of="$work/$name.new" bs=1M seek=$((BIG_MIB - 8)) conv=notrunc status=none
    cp "$work/$name.old" "$dir/$name.bin"
    touch -d @1500000000 "$dir/$name.bin"
}

# rewrite_tail FILE NAME: FILE's last 8 MiB rewritten in place (the new version).
rewrite_tail() {
    dd if="$work/$2.tail" of="$1" bs=1M seek=$((BIG_MIB - 8)) conv=notrunc status=none
}

# ---- a. rewritten while it is copied
# when_started DEST: once the copy's temporary file appears in DEST (the
# copy is under way: its last range, read last, not read yet), returns 0;
# 1 when the run ended first.
when_started() {
    while kill -0 "$bg_pid" 2>/dev/null; do
        [ -z "$(temps_left "$1")" ] || return 0
        sleep 0.002
    done
    return 1
}

# during TAG SRCDIR SRCURL DESTDIR DESTURL once|always: the source's tail
# rewritten once as the copy starts (a retry copies the new version), or
# again and again until the run ends (every attempt sees it change).
during() {
    local tag=$1 srcdir=$2 src=$3 destdir=$4 dest=$5 mode=$6 attempt alive flips
    # A change that comes only after the run's end (a late poll on a busy
    # machine, a server-side copy done at once) tests nothing: tried again,
    # at most thrice.
    for attempt in 1 2 3; do
        versions "$tag" "$srcdir"
        rm -rf -- "$destdir" "${XDG_STATE_HOME:?}"/smbcopy
        mkdir -p -- "$destdir"
        start_copy "$tag" "$src/$tag.bin" "$dest/"
        if ! when_started "$destdir"; then
            finish
            if [ "$attempt" -eq 3 ]; then
                fail "$tag: the copy ended before the source could be changed under it, three times"
                return 0
            fi
            echo "note: $tag: attempt $attempt ended before its temporary was seen; again" >&2
            rm -f -- "$srcdir/$tag.bin"
            continue
        fi
        alive=0
        kill -0 "$bg_pid" 2>/dev/null && alive=1
        rewrite_tail "$srcdir/$tag.bin" "$tag"
        flips=0
        if [ "$mode" = always ]; then
            while kill -0 "$bg_pid" 2>/dev/null; do
                dd if=/dev/urandom of="$srcdir/$tag.bin" bs=1M count=1 seek=$((BIG_MIB - 1 - flips % 2)) conv=notrunc status=none
                flips=$((flips + 1))
                # Near continuous: a server-side copy takes milliseconds, and one that fits
                # between two changes copies a consistent (if unexpected) version.
                sleep 0.002
            done
        fi
        finish
        # Exit 0 with the old version in place: the run saw the source whole
        # and unchanged, then the change came (a run ending on a busy
        # machine is still alive a while). Three such misses in a row fail.
        local late=0
        [ "$rc" -eq 0 ] && cmp -s "$destdir/$tag.bin" "$work/$tag.old" && late=1
        if [ "$alive" -eq 1 ] && [ "$late" -eq 0 ] && { [ "$mode" = once ] || [ "$flips" -gt 0 ]; }; then
            break
        fi
        [ "$attempt" -lt 3 ] || break
        echo "note: $tag: attempt $attempt ended before the source changed under it; again" >&2
        rm -f -- "$srcdir/$tag.bin"
    done
    local got=$destdir/$tag.bin what
    if [ "$mode" = always ]; then
        [ "$rc" -eq 1 ] || { fail "$tag: exit $rc, expected 1 (changed while copied)"; show "$tag"; }
        grep -q "changed while it was being copied" "$work/out/$tag.out" "$work/out/$tag.err" ||
            { fail "$tag: no \"changed while it was being copied\" in the report"; show "$tag"; }
        if [ -e "$got" ]; then
            if cmp -s "$got" "$work/$tag.old"; then what=old; else what="another"; fi
            fail "$tag: a file that never stopped changing sits under its final name ($what version)"
        fi
    else
        [ "$rc" -eq 0 ] || { fail "$tag: exit $rc, expected 0 (copied again)"; show "$tag"; }
        [ "$(stat -c %Y "$got" 2>/dev/null)" = "$(stat -c %Y "$srcdir/$tag.bin")" ] ||
            fail "$tag: the destination has the old modification time, not the new version's"
        if ! cmp -s "$got" "$work/$tag.new"; then
            if cmp -s "$got" "$work/$tag.old"; then
                fail "$tag: the destination holds the old version, the source is the new one"
            else
                fail "$tag: the destination holds neither version (a mix of old and new bytes)"
            fi
        fi
    fi
    local left
    left=$(temps_left "$destdir")
    [ -z "$left" ] || fail "$tag: temporary entries left: $left"
    rm -f -- "$work/$tag.old" "$work/$tag.new" "$srcdir/$tag.bin"
    rm -rf -- "$destdir"
}

mkdir -p "$share/src" "$work/src"
during uponce "$work/src" "$work/src" "$share/uponce" "$url/uponce" once
during upalways "$work/src" "$work/src" "$share/upalways" "$url/upalways" always
during downonce "$share/src" "$url/src" "$work/downonce" "$work/downonce" once
during downalways "$share/src" "$url/src" "$work/downalways" "$work/downalways" always
# A server-side copy of 300 MiB takes the server a fraction of a second, too
# little for the source's tail to change inside it on a busy machine: through
# a proxy that delays each direction by 30 ms, its COPYCHUNK requests (16 MiB
# each) take a second or more, and the change lands inside the copy.
start_delay_proxy 30
during serveronce "$share/src" "$proxy_url/src" "$share/serveronce" "$proxy_url/serveronce" once
during serveralways "$share/src" "$proxy_url/src" "$share/serveralways" "$proxy_url/serveralways" always

# kill_committed: SIGKILL the background run once its journal holds about
# a few committed ranges (records of about 100 bytes, each a window of 4 to
# 16 MiB),
# whatever the direction (an SMB temporary may be allocated whole at once).
kill_committed() { kill_bg_once journal_holds_ranges; }
journal_holds_ranges() { [ -n "$(find "$XDG_STATE_HOME" -name '*.journal' -size +600c 2>/dev/null | head -n 1)" ]; }

# ---- b. changed in place between a kill and the rerun, its time restored
# killed TAG SRCDIR SRCURL DESTDIR DESTURL [ARGS...]
killed() {
    local tag=$1 srcdir=$2 src=$3 destdir=$4 dest=$5
    shift 5
    versions "$tag" "$srcdir"
    rm -rf -- "$destdir" "${XDG_STATE_HOME:?}"/smbcopy
    mkdir -p -- "$destdir"
    start_copy "$tag.1" "$src/$tag.bin" "$dest/"
    if ! kill_committed; then
        fail "$tag: the run ended before it could be killed"
        return 0
    fi
    local mtime
    mtime=$(stat -c %Y "$srcdir/$tag.bin")
    # Changed in place: a range surely copied already (the first), and the tail.
    dd if="$work/$tag.tail" of="$srcdir/$tag.bin" bs=1M conv=notrunc status=none
    dd if="$work/$tag.tail" of="$work/$tag.new" bs=1M conv=notrunc status=none
    rewrite_tail "$srcdir/$tag.bin" "$tag"
    touch -d "@$mtime" "$srcdir/$tag.bin"
    start_copy "$tag.2" "$src/$tag.bin" "$dest/" "$@"
    finish
    [ "$rc" -eq 0 ] || { fail "$tag: rerun exit $rc"; show "$tag.2"; }
    if ! cmp -s "$destdir/$tag.bin" "$work/$tag.new"; then
        if cmp -s "$destdir/$tag.bin" "$work/$tag.old"; then
            fail "$tag: the rerun left the old version (the source changed in place)"
        else
            fail "$tag: the rerun made a file matching neither version (resumed over a changed source)"
        fi
    fi
    local left
    left=$(temps_left "$destdir")
    [ -z "$left" ] || fail "$tag: temporary entries left: $left"
    rm -f -- "$work/$tag.old" "$work/$tag.new" "$srcdir/$tag.bin"
    rm -rf -- "$destdir"
}

killed kup "$work/src" "$work/src" "$share/kup" "$url/kup"
killed kupsum "$work/src" "$work/src" "$share/kupsum" "$url/kupsum" --checksum
killed kdownsum "$share/src" "$url/src" "$work/kdownsum" "$work/kdownsum" --checksum

# ---- c. a destination file changed after the run that copied it
# repaired TAG SRCDIR SRCURL DESTDIR DESTURL [ARGS...]: the journal is kept
# by a kill while a large file is copied, after small.txt was done.
repaired() {
    local tag=$1 srcdir=$2 src=$3 destdir=$4 dest=$5
    shift 5
    rm -rf -- "$srcdir/$tag" "$destdir" "${XDG_STATE_HOME:?}"/smbcopy
    mkdir -p -- "$srcdir/$tag" "$destdir"
    head -c 100000 /dev/urandom >"$srcdir/$tag/small.txt"
    head -c $total /dev/urandom >"$srcdir/$tag/zbig.bin"
    start_copy "$tag.1" "$src/$tag" "$dest"
    if ! kill_committed; then
        fail "$tag: the run ended before it could be killed"
        return 0
    fi
    if ! cmp -s "$destdir/small.txt" "$srcdir/$tag/small.txt"; then
        fail "$tag: small.txt was not copied before the kill"
        return 0
    fi
    local mtime
    mtime=$(stat -c %Y "$destdir/small.txt")
    head -c 100000 /dev/urandom | dd of="$destdir/small.txt" conv=notrunc status=none
    [ "$*" != --checksum ] || touch -d "@$mtime" "$destdir/small.txt" # only the content tells
    start_copy "$tag.2" "$src/$tag" "$dest" "$@"
    finish
    [ "$rc" -eq 0 ] || { fail "$tag: rerun exit $rc"; show "$tag.2"; }
    cmp -s "$destdir/small.txt" "$srcdir/$tag/small.txt" ||
        fail "$tag: the changed destination file was skipped on the journal's word"
    cmp -s "$destdir/zbig.bin" "$srcdir/$tag/zbig.bin" || fail "$tag: zbig.bin differs after the rerun"
    rm -rf -- "$srcdir/$tag" "$destdir"
}

repaired rup "$work/src" "$work/src" "$share/rup" "$url/rup"
repaired rupsum "$work/src" "$work/src" "$share/rupsum" "$url/rupsum" --checksum
repaired rdown "$share/src" "$url/src" "$work/rdown" "$work/rdown"
repaired rdownsum "$share/src" "$url/src" "$work/rdownsum" "$work/rdownsum" --checksum

cli_test_end "changing sources: never a mix under a final name; a changed file is copied again or failed"

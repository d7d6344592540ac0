#!/usr/bin/env bash
# Resuming after SIGKILL, from the checkpoint journal (share -> local):
#   - a job of 3,000 small files and two files of 200 MiB is killed with
#     SIGKILL at 10 different moments (at the start, at growing fractions of
#     the bytes, half-way through, near the end while the last files and the
#     staged directories are renamed into place), each time on a fresh
#     destination, and a rerun completes it: exit 0, a tree identical to the
#     source (content and times), nothing temporary left, the journal gone;
#   - at no moment does a file sit under its final name with other bytes
#     than its source's (checked on the killed run's destination);
#   - the rerun reads again at most what was in flight plus one window per
#     worker: its bytes read (the engine's counter, from --json) minus what
#     the destination still lacked after the kill is bounded by
#     2 x the engine's I/O budget (every worker's window in flight and one
#     window uncommitted) plus the check of the last committed range of each
#     partly copied file;
#   - killed twice in a row, the third run still completes it;
#   - --no-resume starts over (the partly copied files are copied whole).
# It prints, for a kill half-way, the resumed run beside a fresh run (time,
# bytes read): the reruns after the kills at 500/1000 and at the start.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

cli_test_dirs cli_resume

# Engine constants (src/engine/copy.c): the I/O budget shared by the
# workers' windows, and the default thread count.
readonly IO_BUDGET=$((32 * 1024 * 1024))
readonly THREADS=8
readonly WINDOW=$((IO_BUDGET / THREADS))
readonly BIG=$((200 * 1024 * 1024))

export XDG_STATE_HOME=$work/state
mkdir -p "$XDG_STATE_HOME"

# The source: 60 directories of 50 files of 4 KiB, and two large files.
for d in $(seq -w 1 60); do
    mkdir -p "$share/d$d"
    head -c $((50 * 4096)) /dev/urandom | split -b 4096 -d -a 2 - "$share/d$d/s"
done
head -c $BIG /dev/urandom >"$share/big1.bin"
head -c $BIG /dev/urandom >"$share/big2.bin"
nfiles=$(find "$share" -type f | wc -l)
[ "$nfiles" -eq 3002 ] || die "source has $nfiles files, expected 3002"
total=$(find "$share" -type f -printf '%s\n' | awk '{s += $1} END {print s}')


# start_copy DEST TAG [ARGS...]: smbcopy in the background; its pid (to
# kill it, not a wrapper's) in bg_pid. ctest's timeout bounds a hung run.
start_copy() {
    local dest=$1 tag=$2
    shift 2
    "$cli" -A "$auth" --json --no-progress "$@" "$url" "$dest" \
        </dev/null >"$work/out/$tag.json" 2>"$work/out/$tag.err" &
    bg_pid=$!
}

# finals_intact TAG DEST: every file under a final name (outside staging
# directories and not a temporary) holds its source's bytes.
finals_intact() {
    local tag=$1 dest=$2 rel bad=0
    while IFS= read -r -d '' rel; do
        rel=${rel#"$dest"/}
        case "/$rel" in */.smbcopy-*) continue ;; esac
        if ! cmp -s -- "$dest/$rel" "$share/$rel"; then
            bad=$((bad + 1))
            [ "$bad" -gt 3 ] || fail "$tag: $rel sits under its final name with other bytes than its source"
        fi
    done < <(find "$dest" -type f -print0 2>/dev/null)
    return 0
}

# listing DIR: every entry's path, type, size and modification time (to
# 100 ns, the unit SMB keeps), sorted.
listing() {
    (cd "$1" && find . -mindepth 1 -printf '%P\t%y\t%s\t%TY-%Tm-%Td %TH:%TM:%TS\n') |
        sed -E 's/(\.[0-9]{7})[0-9]*$/\1/' | LC_ALL=C sort
}

# complete TAG DEST: the tree is the source's (entries, sizes, file times,
# bytes), nothing temporary, no journal. (One diff -r and two listings: the
# per-file compare-trees.sh is too slow for 3,000 files a dozen times.)
complete() {
    local tag=$1 dest=$2 d
    if ! diff -r -q -- "$share" "$dest" >/dev/null 2>&1; then
        fail "$tag: the tree differs from the source: $(diff -r -q -- "$share" "$dest" 2>&1 | head -n 3 | tr '\n' ' ')"
    fi
    d=$(diff <(listing "$share" | grep -v $'\td\t') <(listing "$dest" | grep -v $'\td\t') | head -n 4) || true
    [ -z "$d" ] || fail "$tag: names, sizes or times differ: $(echo "$d" | tr '\n' ' ')"
    local left
    left=$(find "$dest" -name '.smbcopy-*' | head -n 3)
    [ -z "$left" ] || fail "$tag: temporary entries left: $left"
    left=$(find "$XDG_STATE_HOME" -name '*.journal' | head -n 3)
    [ -z "$left" ] || fail "$tag: the journal is still there after a successful run: $left"
}

json() { jq -r "$2" "$work/out/$1.json"; }

# One kill at a moment, then the rerun; checks both.
bound=$((2 * IO_BUDGET + 2 * WINDOW))
cycle=0
for permille in 0 20 100 250 400 500 650 800 950 995; do
    cycle=$((cycle + 1))
    tag=kill$cycle
    dest=$work/dst$cycle
    rm -rf -- "$XDG_STATE_HOME"/smbcopy
    start_copy "$dest" "$tag"
    if ! kill_when "$dest" "$permille"; then
        # Too fast to catch: not a failure of smbcopy, but this moment was not tested.
        echo "note: run $cycle finished before $permille/1000 of the bytes were written" >&2
        continue
    fi
    finals_intact "$tag" "$dest"
    have=$(allocated_bytes "$dest")
    start_copy "$dest" "$tag.rerun"
    wait "$bg_pid" && rc=0 || rc=$?
    bg_pid=
    if [ "$rc" -ne 0 ]; then
        fail "$tag: rerun exit $rc: $(head -c 400 "$work/out/$tag.rerun.err")"
        continue
    fi
    complete "$tag" "$dest"
    read_again=$(($(json "$tag.rerun" .bytes_read) - (total - have)))
    echo "kill at $permille/1000: destination held $have of $total bytes; rerun resumed" \
        "$(json "$tag.rerun" .files_resumed) files ($(json "$tag.rerun" .bytes_resumed) bytes)," \
        "read $(json "$tag.rerun" .bytes_read), read again $read_again (bound $bound)"
    [ "$read_again" -le "$bound" ] ||
        fail "$tag: the rerun read $read_again bytes again (more than $bound: in flight plus a window per worker)"
    # Judged by where the kill landed (the poll may come late on a busy machine), not where it was aimed.
    landed=$((have * 1000 / total))
    [ "$landed" -lt 250 ] || [ "$landed" -gt 800 ] || [ "$(json "$tag.rerun" .files_resumed)" -ge 1 ] ||
        fail "$tag: a kill at $landed/1000 of the bytes left no partly copied file to resume"
    rm -rf -- "$dest"
done
[ "$cycle" -ge 10 ] || fail "only $cycle kill moments"

# Killed twice in a row, then completed.
dest=$work/twice
rm -rf -- "$XDG_STATE_HOME"/smbcopy
start_copy "$dest" twice1
kill_when "$dest" 300 || fail "twice: the first run ended before it could be killed"
start_copy "$dest" twice2
kill_when "$dest" 700 || fail "twice: the second run ended before it could be killed"
finals_intact twice "$dest"
start_copy "$dest" twice3
wait "$bg_pid" && rc=0 || rc=$?
bg_pid=
[ "$rc" -eq 0 ] || fail "twice: third run exit $rc: $(head -c 400 "$work/out/twice3.err")"
complete twice "$dest"
rm -rf -- "$dest"

# --no-resume: the partly copied files start over.
dest=$work/fresh
rm -rf -- "$XDG_STATE_HOME"/smbcopy
start_copy "$dest" nores1
kill_when "$dest" 500 || fail "no-resume: the run ended before it could be killed"
start_copy "$dest" nores2 --no-resume
wait "$bg_pid" && rc=0 || rc=$?
bg_pid=
[ "$rc" -eq 0 ] || fail "no-resume: exit $rc: $(head -c 400 "$work/out/nores2.err")"
[ "$(json nores2 .files_resumed)" -eq 0 ] || fail "no-resume: $(json nores2 .files_resumed) files resumed"
complete no-resume "$dest"
rm -rf -- "$dest"

# For a kill half-way, the resumed run beside a fresh one (the rerun after
# the kill at the very start copies everything).
echo "killed half-way, resumed: $(json kill6.rerun .seconds) s, $(json kill6.rerun .bytes_read) bytes read;" \
    "fresh run: $(json kill1.rerun .seconds) s, $(json kill1.rerun .bytes_read) bytes read"

cli_test_end "resume after SIGKILL at $cycle moments: trees identical, read again at most $bound bytes"

#!/usr/bin/env bash
# A damaged checkpoint journal (share -> local, 500 small files and one file
# of 120 MiB): a run is killed with SIGKILL half-way, its journal is damaged,
# and the rerun (--json) detects it, uses what it can and still ends with a
# tree identical to the source (content and times) and no journal:
#   - cut in the middle of its last record, a byte flipped in the middle, a
#     byte flipped in the first record, random bytes appended: exit 0;
#     journal_records is the number of records before the damage and
#     journal_cut_bytes the bytes from the damaged record on (computed here
#     from the record lengths, src/engine/journal.h); once without --json,
#     the summary says how many bytes of the journal were dropped;
#   - its header overwritten, or the journal of another job in its place:
#     exit 2 (usage) with one line on stderr that points to --no-resume,
#     the journal and the destination left as they were; then --no-resume
#     completes the job (nothing replayed, nothing resumed).
# Temporary files that only the dropped part of a journal names are not
# known to the rerun and stay behind: they are reported ("orphan"), not
# failed, and the tree is compared without them; a leftover that the kept
# part names, or that no journal names, fails the test. Once such an orphan
# is two hours old, the next run removes it (and the tree is then identical).
# SMBCOPY_TEST_KEEP=1 keeps the test's directories for a look afterwards.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

cli_test_dirs cli_journal_damage
# Every run through a proxy that delays each direction by 5 ms: the large
# file's download then takes a second or more, so that a kill half-way
# lands half-way on a busy machine too (the journal is the job's: every run
# must name the source the same way).
start_delay_proxy 5

readonly BIG=$((120 * 1024 * 1024))
readonly HEADER=32 # "SMBCOPYJ" | version | flags | job id
readonly GARBAGE=1000

export XDG_STATE_HOME=$work/state
mkdir -p "$XDG_STATE_HOME"

# The source: 10 directories of 50 files of 4 KiB, and a large file.
for d in $(seq -w 1 10); do
    mkdir -p "$share/d$d"
    head -c $((50 * 4096)) /dev/urandom | split -b 4096 -d -a 2 - "$share/d$d/s"
done
head -c $BIG /dev/urandom >"$share/big.bin"
total=$(find "$share" -type f -printf '%s\n' | awk '{s += $1} END {print s}')


# start_copy DEST TAG [ARGS...]: smbcopy in the background; its pid in bg_pid.
start_copy() {
    local dest=$1 tag=$2
    shift 2
    "$cli" -A "$auth" --no-progress "$@" "$proxy_url" "$dest" \
        </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err" &
    bg_pid=$!
}

# run DEST TAG [ARGS...]: smbcopy in the foreground; sets rc.
run() {
    start_copy "$@"
    wait "$bg_pid" && rc=0 || rc=$?
    bg_pid=
}

# records FILE: one line per complete record after the header, by the
# record lengths alone (not the CRCs): start, end (offsets), type, path.
records() {
    od -An -v -tu1 -- "$1" | awk -v size="$(stat -c %s -- "$1")" -v o=$HEADER '
        { for (i = 1; i <= NF; i++) b[n++] = $i }
        END {
            while (o + 8 <= size) {
                len = b[o] + b[o + 1] * 256 + b[o + 2] * 65536 + b[o + 3] * 16777216
                end = o + 4 + len + 4
                if (end > size)
                    break
                plen = b[o + 5] + b[o + 6] * 256
                path = ""
                for (k = 0; k < plen; k++)
                    path = path sprintf("%c", b[o + 7 + k])
                print o, end, b[o + 4], path
                o = end
            }
        }'
}

# flip FILE OFFSET: invert every bit of the byte at OFFSET.
flip() {
    local byte
    byte=$(od -An -tu1 -j "$2" -N 1 -- "$1" | tr -d ' ')
    # shellcheck disable=SC2059
    printf "\\$(printf '%03o' $((byte ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

json() { jq -r "$2" "$work/out/$1.out"; }

# listing DIR: every entry's path, type, size and modification time, sorted.
listing() {
    (cd "$1" && find . -mindepth 1 -printf '%P\t%y\t%s\t%T@\n') | LC_ALL=C sort
}

# interrupt KIND: a run to $work/dst-KIND killed half-way; sets dest,
# journal (its path), orig (a copy of it as the kill left it), nrec and
# chain_end (the records it holds, and where the last complete one ends).
interrupt() {
    local kind=$1 n
    dest=$work/dst-$kind
    # A kill that lands after the run's last write finds it done (no journal
    # left): on a busy machine the poll can come late. Tried again, at most thrice.
    for attempt in 1 2 3; do
        rm -rf -- "$XDG_STATE_HOME/smbcopy" "$dest"
        start_copy "$dest" "$kind.killed"
        kill_when "$dest" 500 || die "$kind: the run ended before half the bytes were written: nothing to resume"
        n=$(find "$XDG_STATE_HOME/smbcopy" -name '*.journal' 2>/dev/null | wc -l)
        [ "$n" -eq 0 ] || break
        echo "note: $kind: attempt $attempt was killed after its end (no journal left); again" >&2
    done
    [ "$n" -eq 1 ] || die "$kind: the killed run left $n journals, expected 1"
    journal=$(find "$XDG_STATE_HOME/smbcopy" -name '*.journal')
    orig=$work/$kind.orig
    cp -- "$journal" "$orig"
    records "$orig" >"$work/$kind.records"
    nrec=$(wc -l <"$work/$kind.records")
    chain_end=$(awk -v e=$HEADER 'END {print $2 ? $2 : e}' "$work/$kind.records")
    [ "$nrec" -ge 2 ] || die "$kind: the killed run journaled only $nrec records"
    [ "$chain_end" -eq "$(stat -c %s -- "$orig")" ] ||
        echo "note: $kind: the killed run's journal ends in a torn record ($(($(stat -c %s -- "$orig") - chain_end)) bytes)"
}

# leftovers TAG DROPPED KEPT: the .smbcopy-* entries left in dest. A
# temporary file that the dropped part of the journal (file DROPPED) names,
# and the kept part (file KEPT) does not, is an orphan (reported, in
# orphans); anything else left fails.
leftovers() {
    local tag=$1 dropped=$2 kept=$3 p rel leaf
    orphans=()
    while IFS= read -r -d '' p; do
        rel=${p#"$dest"/}
        leaf=${rel##*/}
        if [ ! -f "$p" ]; then
            fail "$tag: $rel left (not a temporary file)"
        elif grep -qaF -- "$leaf" "$kept"; then
            fail "$tag: $rel left, although the part of the journal that was used names it"
        elif ! grep -qaF -- "$leaf" "$dropped"; then
            fail "$tag: $rel left, and no record of the journal names it"
        else
            orphans+=("$rel")
            echo "note: $tag: orphan temporary file $rel ($(stat -c %s -- "$p") bytes, $(allocated_bytes "$p") allocated):" \
                "only the dropped part of the journal named it"
        fi
    done < <(find "$dest" -name '.smbcopy-*' -print0)
}

# complete TAG DROPPED KEPT: the tree is the source's (entries, sizes,
# times, bytes) but for orphans, nothing else temporary, no journal.
complete() {
    local tag=$1 o ignores=() left
    leftovers "$@"
    for o in ${orphans[@]+"${orphans[@]}"}; do
        ignores+=(--ignore "$o")
    done
    bash "$fixtures/compare-trees.sh" ${ignores[@]+"${ignores[@]}"} "$share" "$dest" >"$work/out/$tag.compare" 2>&1 ||
        fail "$tag: the tree differs from the source: $(head -n 6 "$work/out/$tag.compare" | tr '\n' ' ')"
    left=$(find "$XDG_STATE_HOME" -name '*.journal' | head -n 3)
    [ -z "$left" ] || fail "$tag: the journal is still there after a successful run: $left"
    # Orphans untouched for an hour are removed by the next run through their directory.
    if ((${#orphans[@]})); then
        for o in "${orphans[@]}"; do touch -d '2 hours ago' -- "$dest/$o"; done
        run "$dest" "$tag.orphans" --json
        [ "$rc" -eq 0 ] || fail "$tag: run after aging the orphans: exit $rc"
        for o in "${orphans[@]}"; do
            [ ! -e "$dest/$o" ] || fail "$tag: the orphan $o, untouched for 2 hours, was not removed"
        done
        bash "$fixtures/compare-trees.sh" "$share" "$dest" >"$work/out/$tag.orphans.compare" 2>&1 ||
            fail "$tag: after removing orphans the tree differs: $(head -n 4 "$work/out/$tag.orphans.compare" | tr '\n' ' ')"
    fi
}

# rerun_cut KIND KEEP RECORDS CUT: the rerun after damage that leaves the
# first KEEP bytes (RECORDS records) usable and CUT bytes to drop.
norphans=0
rerun_cut() {
    local kind=$1 keep=$2 want_rec=$3 want_cut=$4
    head -c "$keep" -- "$journal" >"$work/$kind.kept"
    tail -c +$((keep + 1)) -- "$journal" >"$work/$kind.dropped"
    run "$dest" "$kind" --json
    if [ "$rc" -ne 0 ]; then
        fail "$kind: rerun exit $rc: $(head -c 400 "$work/out/$kind.err")"
        return
    fi
    echo "$kind: journal of $nrec records ($(stat -c %s -- "$orig") bytes) damaged; rerun: exit 0," \
        "journal_records $(json "$kind" .journal_records) (expected $want_rec)," \
        "journal_cut_bytes $(json "$kind" .journal_cut_bytes) (expected $want_cut)," \
        "files_resumed $(json "$kind" .files_resumed), bytes_read $(json "$kind" .bytes_read) of $total"
    [ "$(json "$kind" .journal_cut_bytes)" -eq "$want_cut" ] ||
        fail "$kind: journal_cut_bytes $(json "$kind" .journal_cut_bytes), expected $want_cut"
    [ "$(json "$kind" .journal_records)" -eq "$want_rec" ] ||
        fail "$kind: journal_records $(json "$kind" .journal_records), expected $want_rec"
    complete "$kind" "$work/$kind.dropped" "$work/$kind.kept"
    norphans=$((norphans + ${#orphans[@]}))
    rm -rf -- "$dest"
}

# --- cut in the middle of the last record ----------------------------------------------

interrupt cut
read -r s e _ < <(tail -n 1 "$work/cut.records")
size=$((s + (e - s) / 2))
truncate -s "$size" -- "$journal"
rerun_cut cut "$s" $((nrec - 1)) $((size - s))
cut_orig=$orig # a journal of another job, for the last case

# --- a byte flipped in the middle -------------------------------------------------------

interrupt flip
at=$((chain_end / 2))
read -r k s < <(awk -v at=$at '$1 <= at && at < $2 {print NR - 1, $1}' "$work/flip.records")
flip "$journal" "$at"
rerun_cut flip "$s" "$k" $(($(stat -c %s -- "$journal") - s))

# --- a byte flipped in the first record: nothing usable ---------------------------------

interrupt first
flip "$journal" $((HEADER + 8))
rerun_cut first $HEADER 0 $(($(stat -c %s -- "$journal") - HEADER))

# --- random bytes appended --------------------------------------------------------------

interrupt garbage
head -c $GARBAGE /dev/urandom >>"$journal"
rerun_cut garbage "$chain_end" "$nrec" $(($(stat -c %s -- "$journal") - chain_end))

# The same without --json: the summary says what was dropped.
interrupt text
head -c $GARBAGE /dev/urandom >>"$journal"
want=$(($(stat -c %s -- "$journal") - chain_end))
head -c "$chain_end" -- "$journal" >"$work/text.kept"
tail -c +$((chain_end + 1)) -- "$journal" >"$work/text.dropped"
run "$dest" text
if [ "$rc" -ne 0 ]; then
    fail "text: rerun exit $rc: $(head -c 400 "$work/out/text.err")"
else
    grep -hiE "journal.*(damaged|dropped)" "$work/out/text.out" "$work/out/text.err" | grep -qF "$want bytes" ||
        fail "text: the summary does not say that $want bytes of the journal were dropped"
    echo "text: $(grep -hi 'journal' "$work/out/text.out" "$work/out/text.err" | head -n 2 | tr '\n' ' ')"
    complete text "$work/text.dropped" "$work/text.kept"
    norphans=$((norphans + ${#orphans[@]}))
fi
rm -rf -- "$dest"

# --- not this job's journal: refused, then --no-resume -----------------------------------

# refused KIND: the rerun stops with a usage error pointing to --no-resume
# and changes nothing; then --no-resume completes the job.
refused() {
    local kind=$1 before n
    cp -- "$journal" "$work/$kind.damaged"
    before=$(listing "$dest")
    run "$dest" "$kind" --json
    echo "$kind: exit $rc; stderr:"
    sed 's/^/    /' "$work/out/$kind.err"
    [ "$rc" -eq 2 ] || fail "$kind: exit $rc, expected 2 (usage error)"
    n=$(grep -c . "$work/out/$kind.err" || true)
    [ "$n" -eq 1 ] || fail "$kind: expected a one-line message on stderr, got $n lines"
    grep -qF -- '--no-resume' "$work/out/$kind.err" || fail "$kind: the message does not mention --no-resume"
    cmp -s -- "$journal" "$work/$kind.damaged" || fail "$kind: the refused journal was changed"
    [ "$before" = "$(listing "$dest")" ] || fail "$kind: the refused run changed the destination"

    run "$dest" "$kind.fresh" --json --no-resume
    if [ "$rc" -ne 0 ]; then
        fail "$kind: --no-resume exit $rc: $(head -c 400 "$work/out/$kind.fresh.err")"
    else
        echo "$kind: --no-resume: exit 0, journal_records $(json "$kind.fresh" .journal_records)," \
            "files_resumed $(json "$kind.fresh" .files_resumed), bytes_read $(json "$kind.fresh" .bytes_read) of $total"
        [ "$(json "$kind.fresh" .journal_records)" -eq 0 ] ||
            fail "$kind: --no-resume replayed $(json "$kind.fresh" .journal_records) records of a journal not its own"
        [ "$(json "$kind.fresh" .files_resumed)" -eq 0 ] ||
            fail "$kind: --no-resume resumed $(json "$kind.fresh" .files_resumed) files"
        # Nothing of the journal was used: this job's own records were all dropped.
        : >"$work/$kind.kept"
        complete "$kind" "$orig" "$work/$kind.kept"
        norphans=$((norphans + ${#orphans[@]}))
    fi
    rm -rf -- "$dest"
}

interrupt header
printf 'X' | dd of="$journal" bs=1 seek=7 conv=notrunc status=none # "SMBCOPYJ" -> "SMBCOPYX"
refused header

interrupt foreign
cp -- "$cut_orig" "$journal" # the journal of the first case's job (another destination)
refused foreign

((norphans == 0)) || echo "note: $norphans orphan temporary file(s) in all (see above)"
cli_test_end "cli_journal_damage: cut, flipped, appended, foreign journals: every rerun identical"

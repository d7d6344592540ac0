#!/usr/bin/env bash
# New directories are built under a temporary name and moved into place when
# complete, uploading (local -> share) and downloading (share -> local):
#   - a copy into an existing destination makes an identical tree, with the
#     source's directory times, and leaves no .smbcopy-* entry anywhere;
#   - a run killed (SIGKILL) in the middle leaves no directory under its
#     final name that is not complete, and its staging directory holds only
#     files of the source;
#   - the rerun continues the staging directory (files already there and
#     complete are skipped, a partly written one is copied again), ends with
#     exit 0 and an identical tree, and leaves nothing temporary behind;
#   - smbclient reads back what the upload wrote, byte for byte.
# SMBCOPY_TEST_KEEP=1 keeps the test's directories for a look afterwards.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

cli_test_dirs cli_staging

# The source: nested new directories of small files, a few larger files that
# take several writes each, an empty directory.
src=$work/src
mkdir -p "$src/tree/a/deep/er" "$src/tree/b" "$src/tree/empty" "$src/many"
for i in $(seq -w 1 40); do head -c $((1000 + 37 * 10#$i)) /dev/urandom >"$src/tree/a/f$i.bin"; done
for i in $(seq -w 1 5); do head -c 3000 /dev/urandom >"$src/tree/a/deep/er/g$i.txt"; done
for i in 1 2 3; do head -c $((9 * 1024 * 1024 + i)) /dev/urandom >"$src/tree/b/large$i.bin"; done
for d in $(seq -w 1 30); do
    mkdir -p "$src/many/d$d"
    head -c $((200 * 4096)) /dev/urandom | split -b 4096 -d -a 3 - "$src/many/d$d/s"
done
for i in 1 2 3 4; do head -c $((12 * 1024 * 1024)) /dev/urandom >"$src/many/d01/big$i.bin"; done
find "$src" -type d -exec touch -d '2021-03-04 05:06:07' {} +

# same_tree TAG A B: identical files and directories, and the same directory mtimes.
same_tree() {
    local tag=$1 a=$2 b=$3
    if ! diff -r -- "$a" "$b" >/dev/null; then
        fail "$tag: trees differ: $(diff -rq -- "$a" "$b" 2>&1 | head -n 5 | tr '\n' ' ')"
        return
    fi
    local ta tb
    ta=$(cd "$a" && find . -type d -printf '%P %T@\n' | sed 's/\.[0-9]*$//' | LC_ALL=C sort)
    tb=$(cd "$b" && find . -type d -printf '%P %T@\n' | sed 's/\.[0-9]*$//' | LC_ALL=C sort)
    [ "$ta" = "$tb" ] || fail "$tag: directory times differ: $(diff <(echo "$ta") <(echo "$tb") | head -n 4 | tr '\n' ' ')"
}
no_temporaries() {
    local left
    left=$(find "$2" -name '.smbcopy-*' -printf '%P\n' | head -n 5)
    [ -z "$left" ] || fail "$1: temporary entries left: $left"
}
# Files under final names (outside staging directories) are complete copies.
complete_outside_staging() {
    local tag=$1 s=$2 d=$3 bad
    bad=$(cd "$d" && find . -type f ! -path '*/.smbcopy-*' -printf '%P\n' | while IFS= read -r p; do
        cmp -s -- "$s/$p" "$d/$p" || echo "$p"
    done | head -n 5)
    [ -z "$bad" ] || fail "$tag: incomplete files under final names: $bad"
}
# Every file inside a staging directory is a file of the source (same name, at most its size).
staging_holds_source_files() {
    local tag=$1 s=$2 d=$3 stage bad
    for stage in $(find "$d" -maxdepth 1 -type d -name '.smbcopy-*.tmp'); do
        bad=$(cd "$stage" && find . -type f -printf '%P\t%s\n' | while IFS=$'\t' read -r p size; do
            found=no
            for cand in "$s"/*/"$p"; do
                if [ -f "$cand" ] && [ "$size" -le "$(stat -c %s "$cand")" ]; then found=yes; fi
            done
            [ $found = yes ] || echo "$p"
        done | head -n 5)
        [ -z "$bad" ] || fail "$tag: files in $stage that the source lacks: $bad"
    done
}

# --- a plain copy, both directions -------------------------------------------
mkdir -p "$share/up" "$work/down"
"$cli" -A "$auth" --json "$src/tree" "$url/up" >"$work/out/up.out" 2>"$work/out/up.err" ||
    fail "up: exit $?: $(tail -n 3 "$work/out/up.err")"
same_tree up "$src/tree" "$share/up"
no_temporaries up "$share/up"
"$cli" -A "$auth" --json "$url/up" "$work/down" >"$work/out/down.out" 2>"$work/out/down.err" ||
    fail "down: exit $?: $(tail -n 3 "$work/out/down.err")"
same_tree down "$src/tree" "$work/down"
no_temporaries down "$work/down"
# smbclient reads back a file the upload wrote inside a staged directory.
smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" -p "$SMBCOPY_TEST_PORT" -A "$auth" \
    -c "get $name/up/a/deep/er/g3.txt $work/g3.smbclient" >/dev/null 2>&1 || fail "smbclient get failed"
cmp -s "$work/g3.smbclient" "$src/tree/a/deep/er/g3.txt" || fail "smbclient reads different bytes"

# --- killed in the middle, then resumed ---------------------------------------
# interrupt_resume TAG SRC_DISK SRC_LOC DST_DISK DST_LOC
interrupt_resume() {
    local tag=$1 sd=$2 sl=$3 dd=$4 dl=$5 n=0 inside=0
    mkdir -p "$dd"
    "$cli" -A "$auth" --threads 2 "$sl" "$dl" </dev/null >"$work/out/$tag-1.out" 2>&1 &
    bg_pid=$!
    # Until a staging directory holds a good part of the files, then SIGKILL.
    while ((n++ < 3000)); do
        inside=$(find "$dd" -path '*/.smbcopy-*' -type f 2>/dev/null | wc -l)
        ((inside >= 1500)) && break
        kill -0 "$bg_pid" 2>/dev/null || break
        sleep 0.01
    done
    kill -9 "$bg_pid" 2>/dev/null || true
    wait "$bg_pid" 2>/dev/null || true
    bg_pid=
    if ((inside < 1500)); then
        fail "$tag: the copy ended or stalled before it could be interrupted ($inside files staged)"
        return
    fi
    local staged
    staged=$(find "$dd" -mindepth 1 -maxdepth 1 -type d -name '.smbcopy-*.tmp' | wc -l)
    ((staged >= 1)) || fail "$tag: no staging directory after the kill"
    [ ! -e "$dd/many" ] || fail "$tag: the unfinished directory is already under its final name"
    complete_outside_staging "$tag-killed" "$sd" "$dd"
    staging_holds_source_files "$tag-killed" "$sd" "$dd"

    "$cli" -A "$auth" --json --threads 2 "$sl" "$dl" </dev/null >"$work/out/$tag-2.out" 2>"$work/out/$tag-2.err"
    local rc=$?
    [ $rc -eq 0 ] || fail "$tag: rerun exit $rc: $(tail -n 3 "$work/out/$tag-2.err")"
    local skipped copied
    skipped=$(field "$tag-2" files_skipped)
    copied=$(field "$tag-2" files_copied)
    echo "$tag: $inside files staged when killed; rerun copied $copied, skipped $skipped"
    ((skipped >= inside - 8)) || fail "$tag: the rerun skipped only $skipped of the $inside files already staged"
    same_tree "$tag" "$sd" "$dd"
    no_temporaries "$tag" "$dd"
}
mkdir -p "$work/src2"
cp -a "$src/many" "$work/src2/"
touch -d '2021-03-04 05:06:07' "$work/src2"
interrupt_resume resume-up "$work/src2" "$work/src2" "$share/resume" "$url/resume"
mkdir -p "$share/src2"
cp -a "$work/src2/many" "$share/src2/"
touch -d '2021-03-04 05:06:07' "$share/src2"
interrupt_resume resume-down "$share/src2" "$url/src2" "$work/resume-down" "$work/resume-down"

cli_test_end "all staging checks passed"

#!/usr/bin/env bash
# smbcopy as a synchroniser, uploading (local -> share) and downloading
# (share -> local):
#   - a second run copies nothing and rewrites nothing (same inodes);
#   - a source file with a new time, or new content, is copied alone;
#   - extraneous destination entries stay without --mirror, and --mirror
#     deletes exactly them (files and directories, nested ones too);
#   - --dry-run changes nothing at the destination but names every action;
#   - --include / --exclude select the files copied;
#   - --threads 1 and --threads 16 make identical trees (edge-case tree);
#   - --checksum copies a file whose content changed while its size and
#     time were kept, which a run without it skips.
# SMBCOPY_TEST_KEEP=1 keeps the test's directories for a look afterwards.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

cli_test_dirs cli_sync

# smbcopy_run TAG ARGS...: run smbcopy with the fixture's credentials;
# stdout to $work/out/TAG.out, stderr to $work/out/TAG.err; sets rc.
smbcopy_run() {
    local tag=$1
    shift
    printf '%q ' "$cli" -A "$auth" "$@" >"$work/out/$tag.cmd"
    echo "+ $(cat "$work/out/$tag.cmd")"
    set +e
    timeout 240 "$cli" -A "$auth" "$@" >"$work/out/$tag.out" 2>"$work/out/$tag.err"
    rc=$?
    set -e
}

# expect_ok TAG: exit 0 and, for --json runs, one JSON object without failures.
expect_ok() {
    local tag=$1
    if [ "$rc" -ne 0 ]; then
        fail "$tag: exit $rc, expected 0"
        show "$tag"
        return 1
    fi
    return 0
}
json_ok() {
    local tag=$1
    if [ "$(jq -s 'length' "$work/out/$tag.out" 2>/dev/null)" != 1 ] ||
        [ "$(jq -r 'type' "$work/out/$tag.out")" != object ]; then
        fail "$tag: stdout is not one JSON object"
        show "$tag"
        return 1
    fi
    if [ "$(jq -r '.files_failed' "$work/out/$tag.out")" != 0 ]; then
        fail "$tag: files failed: $(jq -c '.failures' "$work/out/$tag.out")"
        return 1
    fi
}
# run_json TAG ARGS...: smbcopy --json ARGS; true when it exited 0 with one
# JSON object and no failed file.
run_json() {
    local tag=$1
    shift
    smbcopy_run "$tag" --json "$@"
    expect_ok "$tag" && json_ok "$tag"
}

expect_same() {
    local tag=$1 a=$2 b=$3
    shift 3
    if ! bash "$fixtures/compare-trees.sh" "$@" "$a" "$b" >"$work/out/$tag.cmp" 2>&1; then
        fail "$tag: trees differ: $a vs $b"
        cat "$work/out/$tag.cmp" >&2
    fi
}

# snapshot DIR: every entry with its type and inode, and for files the size
# and full-precision time (a file rewritten or renamed over gets a new
# inode; directory times change with their entries and are left out).
snapshot() {
    (cd -- "$1" && find . -mindepth 1 -printf '%P\t%y\t%i\t%s\t%T@\n' |
        awk -F'\t' -v OFS='\t' '$2 == "d" { $4 = "-"; $5 = "-" } { print }' | LC_ALL=C sort)
}
# files DIR: the regular files, relative, sorted.
files() {
    (cd -- "$1" && find . -type f -printf '%P\n' | LC_ALL=C sort)
}
# expect_unchanged TAG BEFORE AFTER [PATH...]: the snapshots differ only in
# the lines of the given paths.
expect_unchanged() {
    local tag=$1 before=$2 after=$3 d
    shift 3
    if (($# > 0)); then
        d=$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | grep '^[<>]' |
            cut -c3- | cut -f1 | LC_ALL=C sort -u | grep -vxF -f <(printf '%s\n' "$@") || true)
    else
        d=$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") || true)
    fi
    if [ -n "$d" ]; then
        fail "$tag: destination entries changed that should not have:"
        head -n 20 <<<"$d" >&2
    fi
}

# make_src DIR: the small tree of the sync checks, with fixed times.
make_src() {
    local d=$1
    mkdir -p "$d"/{docs,bin,skipdir/sub,empty,'sp ace'}
    printf 'alpha\n' >"$d/a.txt"
    printf 'bravo\n' >"$d/b.txt"
    printf 'charlie log\n' >"$d/c.log"
    printf '# readme\n' >"$d/docs/readme.md"
    printf 'notes: one two three\n' >"$d/docs/notes.txt"
    printf '# old\n' >"$d/docs/old.md"
    head -c 100000 /dev/urandom >"$d/bin/data.bin"
    printf 'binary log\n' >"$d/bin/x.log"
    printf 'skip me\n' >"$d/skipdir/inner.txt"
    printf 'skip me too\n' >"$d/skipdir/sub/deep.txt"
    printf 'unicode\n' >"$d/sp ace/é.txt"
    find "$d" -type f -exec touch -d '2019-05-06 07:08:09.123456789' {} +
}

# sync_suite MODE SRC_DISK SRC_LOC DST_DISK DST_LOC: the checks in one
# direction; *_DISK are the directories on disk, *_LOC what smbcopy gets.
sync_suite() {
    local m=$1 sd=$2 sl=$3 dd=$4 dl=$5 n before after
    echo "=== $m: $sl -> $dl"
    make_src "$sd"
    n=$(files "$sd" | wc -l)

    # First copy, then a second run that finds everything up to date.
    if run_json "$m-first" "$sl" "$dl"; then
        expect_field "$m-first" files_copied "$n"
        expect_same "$m-first" "$sd" "$dd"
    fi
    [ -d "$dd" ] || die "$m: the first copy made nothing at $dd"
    before=$(snapshot "$dd")
    if run_json "$m-again" "$sl" "$dl"; then
        expect_field "$m-again" files_copied 0
        expect_field "$m-again" files_skipped "$n"
        expect_field "$m-again" dirs_created 0
    fi
    expect_unchanged "$m-again" "$before" "$(snapshot "$dd")"

    # One file with a new time: just it is copied.
    touch -d '2021-02-03 04:05:06.5' "$sd/a.txt"
    before=$(snapshot "$dd")
    if run_json "$m-touched" "$sl" "$dl"; then
        expect_field "$m-touched" files_copied 1
        expect_field "$m-touched" files_skipped $((n - 1))
    fi
    expect_same "$m-touched" "$sd" "$dd"
    expect_unchanged "$m-touched" "$before" "$(snapshot "$dd")" a.txt

    # One file with new content (and size): just it is copied.
    printf 'more notes\n' >>"$sd/docs/notes.txt"
    before=$(snapshot "$dd")
    if run_json "$m-changed" "$sl" "$dl"; then
        expect_field "$m-changed" files_copied 1
    fi
    expect_same "$m-changed" "$sd" "$dd"
    expect_unchanged "$m-changed" "$before" "$(snapshot "$dd")" docs/notes.txt

    # Extraneous entries: kept without --mirror ...
    printf 'extra\n' >"$dd/extra.txt"
    printf 'extra\n' >"$dd/docs/extra.md"
    mkdir -p "$dd/extradir/sub" "$dd/extradir/sub2" "$dd/emptyextra"
    printf 'extra\n' >"$dd/extradir/sub/f.txt"
    before=$(snapshot "$dd")
    if run_json "$m-nomirror" "$sl" "$dl"; then
        expect_field "$m-nomirror" files_copied 0
        expect_field "$m-nomirror" files_deleted 0
        expect_field "$m-nomirror" dirs_deleted 0
    fi
    expect_unchanged "$m-nomirror" "$before" "$(snapshot "$dd")"
    # ... and exactly they go with --mirror.
    if run_json "$m-mirror" --mirror "$sl" "$dl"; then
        expect_field "$m-mirror" files_copied 0
        expect_field "$m-mirror" files_deleted 3
        expect_field "$m-mirror" dirs_deleted 4
    fi
    expect_same "$m-mirror" "$sd" "$dd"
    expect_unchanged "$m-mirror" "$before" "$(snapshot "$dd")" \
        extra.txt docs/extra.md extradir extradir/sub extradir/sub2 extradir/sub/f.txt emptyextra

    # --dry-run: a changed, a new and a removed source file, an extraneous
    # destination file; nothing changes, every action is named.
    touch -d '2022-03-04 05:06:07' "$sd/b.txt"
    printf 'new\n' >"$sd/new-file.txt"
    rm "$sd/c.log"
    printf 'extra\n' >"$dd/dry-extra.txt"
    before=$(snapshot "$dd")
    smbcopy_run "$m-dry" --dry-run --mirror "$sl" "$dl"
    if expect_ok "$m-dry"; then
        local p
        for p in b.txt new-file.txt c.log dry-extra.txt; do
            grep -qF -- "$p" "$work/out/$m-dry.out" "$work/out/$m-dry.err" ||
                { fail "$m-dry: the output does not name '$p'"; show "$m-dry"; }
        done
        for p in readme.md é.txt; do
            ! grep -qF -- "$p" "$work/out/$m-dry.out" "$work/out/$m-dry.err" ||
                { fail "$m-dry: the output names '$p', which is up to date"; show "$m-dry"; }
        done
    fi
    expect_unchanged "$m-dry" "$before" "$(snapshot "$dd")"
    if run_json "$m-dry-json" --dry-run --mirror "$sl" "$dl"; then
        expect_field "$m-dry-json" files_copied 2
        expect_field "$m-dry-json" files_deleted 2
    fi
    expect_unchanged "$m-dry-json" "$before" "$(snapshot "$dd")"
    if run_json "$m-after-dry" --mirror "$sl" "$dl"; then
        expect_field "$m-after-dry" files_copied 2
        expect_field "$m-after-dry" files_deleted 2
    fi
    expect_same "$m-after-dry" "$sd" "$dd"
    n=$(files "$sd" | wc -l)

    # --checksum: same size and time, other content.
    printf 'NOTES: ONE TWO THREE\nMORE NOTES\n' >"$work/notes.new"
    [ "$(stat -c %s "$work/notes.new")" = "$(stat -c %s "$dd/docs/notes.txt")" ] ||
        die "$m-checksum: replacement content has the wrong size"
    cat "$work/notes.new" >"$dd/docs/notes.txt"
    touch -r "$sd/docs/notes.txt" "$dd/docs/notes.txt"
    if run_json "$m-nochecksum" "$sl" "$dl"; then
        expect_field "$m-nochecksum" files_copied 0
    fi
    cmp -s "$work/notes.new" "$dd/docs/notes.txt" ||
        fail "$m-nochecksum: a file with the same size and time was copied without --checksum"
    if run_json "$m-checksum" --checksum "$sl" "$dl"; then
        expect_field "$m-checksum" files_copied 1
        expect_field "$m-checksum" files_skipped $((n - 1))
    fi
    expect_same "$m-checksum" "$sd" "$dd"

    # Filters, each into a new destination.
    local want
    if run_json "$m-include" --include '*.txt' "$sl" "$dl-include"; then
        want=$(files "$sd" | grep '\.txt$')
        [ "$(files "$dd-include")" = "$want" ] ||
            fail "$m-include: --include '*.txt' copied: $(files "$dd-include" | tr '\n' ' '); expected: $(printf '%s' "$want" | tr '\n' ' ')"
        expect_field "$m-include" files_copied "$(printf '%s\n' "$want" | wc -l)"
    fi
    if run_json "$m-exclude" --exclude '*.log' --exclude skipdir "$sl" "$dl-exclude"; then
        want=$(files "$sd" | grep -v '\.log$' | grep -v '^skipdir/')
        [ "$(files "$dd-exclude")" = "$want" ] ||
            fail "$m-exclude: --exclude '*.log' --exclude skipdir copied: $(files "$dd-exclude" | tr '\n' ' '); expected: $(printf '%s' "$want" | tr '\n' ' ')"
        [ ! -e "$dd-exclude/skipdir" ] || fail "$m-exclude: excluded directory skipdir was created"
    fi
    if run_json "$m-exclude-path" --exclude 'docs/*.md' "$sl" "$dl-exclude-path"; then
        want=$(files "$sd" | grep -v '^docs/.*\.md$')
        [ "$(files "$dd-exclude-path")" = "$want" ] ||
            fail "$m-exclude-path: --exclude 'docs/*.md' copied: $(files "$dd-exclude-path" | tr '\n' ' '); expected: $(printf '%s' "$want" | tr '\n' ' ')"
    fi
    # The first matching rule decides: the exclude goes first.
    if run_json "$m-include-exclude" --exclude 'old*' --include '*.md' "$sl" "$dl-include-exclude"; then
        [ "$(files "$dd-include-exclude")" = docs/readme.md ] ||
            fail "$m-include-exclude: --exclude 'old*' --include '*.md' copied: $(files "$dd-include-exclude" | tr '\n' ' '); expected: docs/readme.md"
    fi

    # Threads: the edge-case tree (without the sparse file) with 1 and 16.
    local edge=$sd-edge
    EDGE_NO_SPARSE=1 bash "$fixtures/make-edge-tree.sh" "$edge"
    if run_json "$m-threads1" --threads 1 "$sl-edge" "$dl-t1"; then
        expect_same "$m-threads1" "$edge" "$dd-t1"
    fi
    if run_json "$m-threads16" --threads 16 "$sl-edge" "$dl-t16"; then
        expect_same "$m-threads16" "$edge" "$dd-t16"
    fi
    if [ -d "$dd-t1" ] && [ -d "$dd-t16" ]; then
        expect_same "$m-threads-1-vs-16" "$dd-t1" "$dd-t16"
    fi
    if [ -f "$work/out/$m-threads1.out" ] && [ -f "$work/out/$m-threads16.out" ]; then
        [ "$(field "$m-threads1" files_copied)" = "$(field "$m-threads16" files_copied)" ] ||
            fail "$m-threads: files_copied differs: $(field "$m-threads1" files_copied) with 1 thread, $(field "$m-threads16" files_copied) with 16"
    fi
}

sync_suite up "$work/up-src" "$work/up-src" "$share/up-dst" "$url/up-dst"
sync_suite down "$share/down-src" "$url/down-src" "$work/down-dst" "$work/down-dst"

cli_test_end "cli_sync: all checks passed"

#!/usr/bin/env bash
# --exclude / --include with rsync's pattern rules, against real Samba,
# uploading (local -> share) and downloading (share -> local). Each case
# starts from the same source tree and the same destination tree (which
# holds entries the source does not have) and compares the whole
# destination afterwards, bytes and times, with the tree expected:
#   - --mirror --exclude '*.log' keeps every .log file of the destination,
#     one in a directory the source does not have too (issue 16, case 5);
#   - --exclude cache/, /cache and '**/cache' each keep the destination's
#     top-level cache/ under --mirror; /cache does not protect a/cache,
#     cache/ does not protect a FILE named cache, '**/cache' protects both
#     (issue 16, case 6);
#   - --include '**/*.txt' copies top.txt and a/b/b.txt (every .txt file)
#     and nothing else;
#   - --delete-excluded with --mirror deletes the excluded destination
#     entries, those the source has too;
#   - the first matching rule wins, in command-line order.
# SMBCOPY_TEST_KEEP=1 keeps the test's directories for a look afterwards.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

cli_test_dirs cli_filters

# The source: .txt and .log files at several depths, a directory named
# cache below a/, an empty directory.
make_src() {
    local d=$1
    mkdir -p "$d"/a/b "$d"/a/cache "$d"/empty
    printf 'top text\n' >"$d/top.txt"
    printf 'top log from the source\n' >"$d/top.log"
    printf 'keep this log\n' >"$d/keep.log"
    head -c 3000 /dev/urandom >"$d/other.bin"
    printf 'a text\n' >"$d/a/a.txt"
    printf 'a log\n' >"$d/a/a.log"
    printf 'a keep\n' >"$d/a/keep.log"
    printf 'b text\n' >"$d/a/b/b.txt"
    printf 'b log\n' >"$d/a/b/b.log"
    printf 'cached text\n' >"$d/a/cache/c.txt"
    find "$d" -type f -exec touch -d '2020-01-02 03:04:05.5' {} +
}

# The destination before each run: what an earlier run left (top.log with
# other content) and entries the source does not have: logs, a top-level
# cache/ directory, a file in a/cache, a FILE named cache, a directory
# holding only a log.
make_dst() {
    local d=$1
    mkdir -p "$d"/cache/sub "$d"/a/cache "$d"/a/b "$d"/olddir
    printf 'top log from an older run, longer\n' >"$d/top.log"
    printf 'only at the destination\n' >"$d/old.log"
    printf 'extra\n' >"$d/extra.txt"
    head -c 5000 /dev/urandom >"$d/cache/keep1.bin"
    head -c 7000 /dev/urandom >"$d/cache/sub/keep2.bin"
    printf 'old cache entry\n' >"$d/a/cache/old.bin"
    printf 'a file named cache\n' >"$d/a/b/cache"
    printf 'old b log\n' >"$d/a/b/old.log"
    printf 'log in a directory the source lacks\n' >"$d/olddir/x.log"
    find "$d" -type f -exec touch -d '2018-07-08 09:10:11.25' {} +
}

src_tree=$work/src-tree
dst_tree=$work/dst-tree
make_src "$src_tree"
make_dst "$dst_tree"

# Expected trees are built from copies of the two: exp_src starts one from
# the source, from_dst copies destination entries (PATH relative) into it,
# drop removes entries from it.
exp=
exp_src() {
    exp=$work/exp.$1
    rm -rf -- "$exp"
    cp -a -- "$src_tree" "$exp"
}
exp_dst() {
    exp=$work/exp.$1
    rm -rf -- "$exp"
    cp -a -- "$dst_tree" "$exp"
}
from_dst() {
    local p
    for p in "$@"; do
        rm -rf -- "${exp:?}/$p"
        (cd -- "$dst_tree" && cp -a --parents -- "$p" "$exp/")
    done
}
drop() {
    local p
    for p in "$@"; do
        rm -rf -- "${exp:?}/$p"
    done
}
# The .log files of a tree, relative.
logs_of() { (cd -- "$1" && find . -type f -name '*.log' -printf '%P\n' | LC_ALL=C sort); }

case_no=0
# run_case NAME WITH_DST -- ARGS...: in both directions, a fresh copy of the
# source and (WITH_DST=yes) of the destination tree, then smbcopy --json
# ARGS SRC DST, expecting exit 0, no failure, and a destination identical
# to $exp (built by the caller beforehand). WITH_DST=no: the destination
# does not exist before.
run_case() {
    local name=$1 with_dst=$2 dir m sd sl dd dl tag
    shift 3
    for m in up down; do
        case_no=$((case_no + 1))
        tag=$m-$name
        dir=c$case_no
        if [ "$m" = up ]; then
            sd=$work/$dir/src sl=$work/$dir/src dd=$share/$dir/dst dl=$url/$dir/dst
            mkdir -p "$work/$dir" "$share/$dir"
        else
            sd=$share/$dir/src sl=$url/$dir/src dd=$work/$dir/dst dl=$work/$dir/dst
            mkdir -p "$work/$dir" "$share/$dir"
        fi
        cp -a -- "$src_tree" "$sd"
        [ "$with_dst" = yes ] && cp -a -- "$dst_tree" "$dd"
        echo "+ $tag: smbcopy $* $sl $dl"
        cli_run "$tag" --json "$@" "$sl" "$dl"
        if [ "$rc" -ne 0 ]; then
            fail "$tag: exit $rc, expected 0"
            show "$tag"
        elif [ "$(jq -r '.files_failed' "$work/out/$tag.out" 2>/dev/null)" != 0 ]; then
            fail "$tag: files failed: $(jq -c '.failures' "$work/out/$tag.out" 2>/dev/null)"
            show "$tag"
        fi
        if [ ! -d "$dd" ]; then
            fail "$tag: no destination at $dd"
        elif ! bash "$fixtures/compare-trees.sh" "$exp" "$dd" >"$work/out/$tag.cmp" 2>&1; then
            fail "$tag: the destination is not the tree expected ($exp vs $dd):"
            cat "$work/out/$tag.cmp" >&2
        fi
    done
}

# 1. --mirror --exclude '*.log': no source log is copied, no destination
#    log is deleted or overwritten, wherever it is; the rest is mirrored.
exp_src exclude-log
drop top.log keep.log a/a.log a/keep.log a/b/b.log
mapfile -t dst_logs < <(logs_of "$dst_tree")
from_dst "${dst_logs[@]}"
run_case exclude-log yes -- --mirror --exclude '*.log'

# 2. --exclude cache/: every directory named cache is left alone (the
#    source's a/cache is not copied, the destination's cache/ and a/cache
#    are kept); a FILE named cache is not protected.
exp_src exclude-cache-dir
drop a/cache
from_dst cache a/cache
run_case exclude-cache-dir yes -- --mirror --exclude cache/

# 3. --exclude /cache: only the top-level cache; a/cache is mirrored (c.txt
#    copied, old.bin deleted), the file a/b/cache deleted.
exp_src exclude-root-cache
from_dst cache
run_case exclude-root-cache yes -- --mirror --exclude /cache

# 4. --exclude '**/cache': cache anywhere, directory or file, the top
#    level included.
exp_src exclude-any-cache
drop a/cache
from_dst cache a/cache a/b/cache
run_case exclude-any-cache yes -- --mirror --exclude '**/cache'

# 5. --include '**/*.txt' into a new destination: every .txt file (top.txt
#    and a/b/b.txt among them) and no other file. Directories are walked
#    (and made, as rsync does).
exp_src include-txt
(cd -- "$exp" && find . -type f ! -name '*.txt' -delete)
run_case include-txt no -- --include '**/*.txt'

# 6. --include '**/*.txt' with --mirror: files that match no rule are
#    excluded, so the destination's other files stay; extra.txt goes.
exp_dst include-txt-mirror
drop extra.txt
(cd -- "$src_tree" && find . -name '*.txt' -printf '%P\n') | while IFS= read -r p; do
    mkdir -p -- "$exp/$(dirname -- "$p")"
    cp -a -- "$src_tree/$p" "$exp/$p"
done
mkdir -p -- "$exp/empty"
run_case include-txt-mirror yes -- --mirror --include '**/*.txt'

# 7. --delete-excluded: the excluded destination entries go too, those the
#    source also has (top.log) and those it lacks (old.log, olddir/x.log).
exp_src delete-excluded-log
drop top.log keep.log a/a.log a/keep.log a/b/b.log
run_case delete-excluded-log yes -- --mirror --delete-excluded --exclude '*.log'
exp_src delete-excluded-cache
drop a/cache
run_case delete-excluded-cache yes -- --mirror --delete-excluded --exclude cache/

# 8. First match wins: --include keep.log before --exclude '*.log' copies
#    keep.log (any include: unmatched files are not copied); the other
#    order copies nothing; with a final --include '*' everything but the
#    other logs.
exp_src first-include
(cd -- "$exp" && find . -type f ! -name keep.log -delete)
run_case first-include no -- --include keep.log --exclude '*.log'
exp_src first-exclude
(cd -- "$exp" && find . -type f -delete)
run_case first-exclude no -- --exclude '*.log' --include keep.log
exp_src first-include-all
drop top.log a/a.log a/b/b.log
run_case first-include-all no -- --include keep.log --exclude '*.log' --include '*'

cli_test_end "cli_filters: all checks passed"

#!/usr/bin/env bash
# Symbolic links, --links skip|copy|follow, over a tree with a link to a
# file inside (lfile -> f.txt), to a directory inside (ldir -> dir), to a
# directory outside (lout -> ../outside), to an absolute path (abs), a
# dangling link (dangling -> nothere) and a loop (dir/loop -> ..):
#   - local to local: skip reports each link and copies none (exit 0);
#     copy makes the four inside the tree again with the same targets
#     (readlink), reports the two others (links_copied 4, links_not_kept
#     2, exit 0), leaves them alone on a rerun and replaces one whose
#     target changed; follow copies what they point to (cmp), fails the
#     dangling link naming its target and the loops, and makes no link
#     (exit 1);
#   - local to the share: Samba 4.17 refuses FSCTL_SET_REPARSE_POINT
#     (STATUS_NOT_A_REPARSE_POINT): copy reports every link, counts all six
#     not kept, leaves nothing of them on the share, exit 0; follow uploads
#     what they point to;
#   - the share to local: Samba follows links on its side and lists them as
#     what they point to, hiding those that lead nowhere or out of the share
#     (no reparse points to read, in any mode): the files arrive as files,
#     and the loop, which the server follows too, fails instead of being
#     walked without end (exit 1).
set -euo pipefail
# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"
cli_test_dirs cli_links
export XDG_STATE_HOME=$work/state
mkdir -p "$XDG_STATE_HOME"

# make_tree DIR OUTSIDE: the tree with its links under DIR, OUTSIDE beside it.
make_tree() {
    local d=$1 o=$2
    mkdir -p "$d/dir/sub" "$o"
    printf 'top file\n' >"$d/f.txt"
    printf 'in dir\n' >"$d/dir/x"
    printf 'deeper\n' >"$d/dir/sub/y"
    printf 'outside\n' >"$o/o.txt"
    ln -s f.txt "$d/lfile"
    ln -s dir "$d/ldir"
    ln -s "../$(basename "$o")" "$d/lout"
    ln -s "$o/o.txt" "$d/abs"
    ln -s nothere "$d/dangling"
    ln -s .. "$d/dir/loop"
}
make_tree "$work/src" "$work/outside"

# listing DIR: every entry under DIR with its type and, for a link, its target.
listing() { (cd "$1" && find . -mindepth 1 -printf '%p %y %l\n' | sed 's/ $//' | LC_ALL=C sort); }
# same_file TAG A B: A and B hold the same bytes.
same_file() { cmp -s "$2" "$3" || fail "$1: $3 differs from $2"; }
# no_links TAG DIR: DIR holds no symbolic link.
no_links() {
    local l
    l=$(find "$2" -type l | head -n 3)
    [ -z "$l" ] || fail "$1: symbolic links where none belong: $l"
}
# mentions TAG PATTERN [COUNT]: the -v output of TAG has COUNT (default 1) lines matching PATTERN.
mentions() {
    local n
    n=$(cat "$work/out/$1.out" "$work/out/$1.err" | grep -c -- "$2" || true)
    [ "$n" -eq "${3:-1}" ] || fail "$1: $n lines match '$2', expected ${3:-1}"
}
# followed TAG DEST: what the links point to arrived as files and directories.
followed() {
    local t=$1 d=$2
    same_file "$t" "$work/src/f.txt" "$d/lfile"
    same_file "$t" "$work/src/dir/x" "$d/ldir/x"
    same_file "$t" "$work/src/dir/sub/y" "$d/ldir/sub/y"
    same_file "$t" "$work/outside/o.txt" "$d/lout/o.txt"
    same_file "$t" "$work/outside/o.txt" "$d/abs"
    [ -d "$d/ldir" ] && [ -d "$d/lout" ] || fail "$t: ldir and lout are not directories"
    [ ! -e "$d/dangling" ] && [ ! -e "$d/dir/loop" ] && [ ! -e "$d/ldir/loop" ] ||
        fail "$t: the dangling link or a loop left something: $(listing "$d" | grep -E 'dangling|loop' | tr '\n' ' ')"
    no_links "$t" "$d"
}
# plain_copy TAG DEST: the tree's files and directories, nothing of its links.
plain_copy() {
    local t=$1 d=$2 want got
    want=$'./dir d\n./dir/sub d\n./dir/sub/y f\n./dir/x f\n./f.txt f'
    got=$(listing "$d")
    [ "$got" = "$want" ] || fail "$t: the destination holds $(echo "$got" | tr '\n' '|'), expected $(echo "$want" | tr '\n' '|')"
    same_file "$t" "$work/src/f.txt" "$d/f.txt"
    same_file "$t" "$work/src/dir/sub/y" "$d/dir/sub/y"
}

# ---- local to local
cli_run ll-skip -v --json "$work/src/" "$work/ll-skip/"
expect_exit ll-skip 0
plain_copy ll-skip "$work/ll-skip"
mentions ll-skip 'ignored .*symbolic link or reparse point not followed' 6
expect_field ll-skip links_copied 0
expect_field ll-skip links_not_kept 0

cli_run ll-copy -v --json --links copy "$work/src/" "$work/ll-copy/"
expect_exit ll-copy 0
expect_field ll-copy links_copied 4
expect_field ll-copy links_not_kept 2
expect_field ll-copy files_failed 0
want=$'./dangling l nothere\n./dir d\n./dir/loop l ..\n./dir/sub d\n./dir/sub/y f\n./dir/x f\n./f.txt f\n./ldir l dir\n./lfile l f.txt'
got=$(listing "$work/ll-copy")
[ "$got" = "$want" ] || fail "ll-copy: the destination holds $(echo "$got" | tr '\n' '|')"
mentions ll-copy "lout: symbolic link to '../outside' not kept: its target is outside the copied tree"
mentions ll-copy "abs: symbolic link to '$work/outside/o.txt' not kept: an absolute target"
mentions ll-copy '^link  *lfile -> f.txt'
# A rerun leaves them; a link whose target changed is made again.
cli_run ll-copy-again -v --json --links copy "$work/src/" "$work/ll-copy/"
expect_exit ll-copy-again 0
expect_field ll-copy-again links_copied 0
ln -sfn dir/x "$work/src/lfile"
cli_run ll-copy-changed --json --links copy --mirror "$work/src/" "$work/ll-copy/"
expect_exit ll-copy-changed 0
expect_field ll-copy-changed links_copied 1
[ "$(readlink "$work/ll-copy/lfile")" = dir/x ] || fail "ll-copy-changed: lfile -> $(readlink "$work/ll-copy/lfile"), expected dir/x"
[ -L "$work/ll-copy/ldir" ] || fail "ll-copy-changed: --mirror removed ldir"
ln -sfn f.txt "$work/src/lfile"

cli_run ll-follow -v --json --links follow "$work/src/" "$work/ll-follow/"
expect_exit ll-follow 1
followed ll-follow "$work/ll-follow"
same_file ll-follow "$work/src/dir/x" "$work/ll-follow/dir/x"
expect_field ll-follow files_failed 1
[ "$(jq -r '[.failures[].path] | sort | join(" ")' "$work/out/ll-follow.out")" = "dangling dir/loop ldir/loop" ] ||
    fail "ll-follow: failures $(jq -c '.failures' "$work/out/ll-follow.out"), expected dangling, dir/loop, ldir/loop"
jq -r '.failures[] | select(.path == "dangling") | .reason' "$work/out/ll-follow.out" | grep -q "'nothere'" ||
    fail "ll-follow: the dangling link's failure does not name its target"
jq -r '.failures[] | select(.path == "dir/loop") | .reason' "$work/out/ll-follow.out" | grep -q 'loop' ||
    fail "ll-follow: dir/loop's failure does not say it is a loop"

# ---- local to the share (Samba keeps no reparse points)
cli_run ls-copy -v --json --links copy "$work/src/" "$url/copy/"
expect_exit ls-copy 0
expect_field ls-copy links_copied 0
expect_field ls-copy links_not_kept 6
expect_field ls-copy files_failed 0
mentions ls-copy 'not kept: make link .*STATUS_NOT_A_REPARSE_POINT' 4
plain_copy ls-copy "$share/copy"

cli_run ls-follow --json --links follow "$work/src/" "$url/follow/"
expect_exit ls-follow 1
followed ls-follow "$share/follow"
expect_field ls-follow files_failed 1

cli_run ls-skip --json "$work/src/" "$url/skip/"
expect_exit ls-skip 0
plain_copy ls-skip "$share/skip"

# ---- the share to local: the server follows links itself
# lout (-> ../outside, not in the share: dangling there), abs (-> $work/outside/o.txt) and dangling lead
# nowhere the server goes.
make_tree "$share/tree" "$work/outside"
for mode in skip copy follow; do
    t=sl-$mode
    cli_run "$t" --json --links "$mode" "$url/tree/" "$work/$t/"
    expect_exit "$t" 1
    d=$work/$t
    same_file "$t" "$work/src/f.txt" "$d/lfile"
    same_file "$t" "$work/src/dir/sub/y" "$d/ldir/sub/y"
    no_links "$t" "$d"
    [ ! -e "$d/lout" ] && [ ! -e "$d/abs" ] && [ ! -e "$d/dangling" ] ||
        fail "$t: Samba listed a link that leads out of the share or nowhere: $(listing "$d" | tr '\n' '|')"
    [ "$(jq -r '[.failures[].path] | sort | join(" ")' "$work/out/$t.out")" = "dir/loop ldir/loop" ] ||
        fail "$t: failures $(jq -c '.failures' "$work/out/$t.out"), expected the two loops"
    expect_field "$t" links_copied 0
done

cli_test_end "cli_links: skip, copy and follow, local and to and from the share"

#!/usr/bin/env bash
# Restoring hostile archives (made by tests/fixtures/make-hostile-tar.sh):
#   - duplicate entries: an archive holding names two or three times (tar
#     appends updates this way) restores the LAST entry of each name, as GNU
#     tar does, with 8 writer threads, into a new and into an existing
#     directory, locally and on the share; a large earlier entry still being
#     written never lands over a small later one; nothing is reported failed,
#     every entry is counted (copied + skipped = total), no temporary is left;
#   - a path of 100,000 components (a 200 KB tar): no crash, that entry
#     refused with one clear line of bounded length (exit 1), the archive's
#     other file restored,
#     nothing written outside the destination; a path of 1000 components
#     (inside the limit) restores;
#   - 3000 directories restore identical to what GNU tar extracts, locally
#     and on the share.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

need_tools tar perl

cli_test_dirs cli_restore_hostile
export XDG_STATE_HOME=$work/state
gen=$fixtures/make-hostile-tar.sh

# every_entry_counted TAG TOTAL: of TOTAL file entries none failed, copied + skipped = TOTAL.
every_entry_counted() {
    local tag=$1 total=$2 copied skipped
    [ "$(field "$tag" files_failed)" = 0 ] || fail "$tag: failures reported: $(jq -c '.failures' "$work/out/$tag.out")"
    copied=$(field "$tag" files_copied)
    skipped=$(field "$tag" files_skipped)
    [ $((copied + skipped)) -eq "$total" ] || fail "$tag: $copied copied + $skipped skipped is not $total"
}
# nothing_outside TAG BEFORE: nothing under $work changed but the destinations, out/ and state/.
snapshot_work() { (cd "$work" && find . \( -path './dst*' -o -path ./out -o -path ./state \) -prune -o -print | LC_ALL=C sort); }
nothing_outside() {
    local tag=$1 before=$2 extra
    extra=$(comm -3 <(echo "$before") <(snapshot_work) || true)
    [ -z "$extra" ] || fail "$tag: entries changed outside the destination: $(echo "$extra" | head -n 3 | tr '\n' ' ')"
}

# --- duplicate entries: the last one wins ----------------------------------------------

bash "$gen" dups "$work/dups.tar"
mkdir "$work/dups-want"
tar -C "$work/dups-want" -xf "$work/dups.tar" # GNU tar: a later entry replaces an earlier one
entries=$(tar -tf "$work/dups.tar" | grep -vc '/$')
for round in 1 2 3; do
    # An existing destination (files go in under temporary names), with an old one.txt to replace.
    mkdir -p "$work/dst-exist$round/sub"
    printf 'old\n' >"$work/dst-exist$round/one.txt"
    for where in "$work/dst-new$round" "$work/dst-exist$round"; do
        tag=dups-${where##*/}
        cli_run "$tag" --json --threads 8 "$work/dups.tar" "$where"
        expect_exit "$tag" 0
        same_trees "$tag" "$work/dups-want" "$where"
        no_temps "$tag" "$where"
        every_entry_counted "$tag" "$entries"
    done
done
[ "$(head -c 5 "$work/dst-exist1/sub/two.bin")" = 'last!' ] || fail "dups: sub/two.bin is not the last entry's"
mkdir -p "$share/exist/sub"
printf 'old\n' >"$share/exist/one.txt"
for where in new exist; do
    tag=dups-share-$where
    cli_run "$tag" --json --threads 8 "$work/dups.tar" "$url/$where"
    expect_exit "$tag" 0
    same_trees "$tag" "$work/dups-want" "$share/$where"
    no_temps "$tag" "$share/$where"
    every_entry_counted "$tag" "$entries"
done

# --- a path of 100,000 components -------------------------------------------------------

bash "$gen" deep "$work/deep.tar" 100000
size=$(stat -c %s "$work/deep.tar")
[ "$size" -lt 300000 ] || fail "deep: the generated tar is $size bytes"
before=$(snapshot_work)
cli_run deep "$work/deep.tar" "$work/dst-deep"
[ "$rc" -lt 128 ] || fail "deep: killed by signal $((rc - 128))"
expect_exit deep 1
grep -q 'FAILED *d/d/d/.*(a name of 200006 bytes): refused entry from the archive: .*1024' "$work/out/deep.out" ||
    fail "deep: no refusal naming the depth limit: $(grep -a FAILED "$work/out/deep.out" | cut -c1-400)"
long=$(awk 'length > 1000' "$work/out/deep.out" | wc -l)
[ "$long" -eq 0 ] || fail "deep: $long report lines longer than 1000 characters"
[ "$(cat "$work/dst-deep/ok.txt" 2>/dev/null)" = ok ] || fail "deep: ok.txt was not restored"
[ ! -e "$work/dst-deep/d" ] || fail "deep: directories of the refused entry were made"
nothing_outside deep "$before"
no_temps deep "$work/dst-deep"
cli_run deep-share "$work/deep.tar" "$url/deep"
[ "$rc" -lt 128 ] || fail "deep-share: killed by signal $((rc - 128))"
expect_exit deep-share 1
[ "$(cat "$share/deep/ok.txt" 2>/dev/null)" = ok ] || fail "deep-share: ok.txt was not restored"
[ ! -e "$share/deep/d" ] || fail "deep-share: directories of the refused entry were made"
# Inside the limit: restored whole.
bash "$gen" deep "$work/deep1000.tar" 1000
cli_run deep1000 "$work/deep1000.tar" "$work/dst-deep1000"
expect_exit deep1000 0
mkdir "$work/deep1000-want"
tar -C "$work/deep1000-want" -xf "$work/deep1000.tar"
same_trees deep1000 "$work/deep1000-want" "$work/dst-deep1000"

# --- many directories -----------------------------------------------------------------------

bash "$gen" dirs "$work/dirs.tar" 3000
mkdir "$work/dirs-want"
tar -C "$work/dirs-want" -xf "$work/dirs.tar"
cli_run dirs "$work/dirs.tar" "$work/dst-dirs"
expect_exit dirs 0
same_trees dirs "$work/dirs-want" "$work/dst-dirs" --dir-mtime
no_temps dirs "$work/dst-dirs"
cli_run dirs-share "$work/dirs.tar" "$url/dirs"
expect_exit dirs-share 0
same_trees dirs-share "$work/dirs-want" "$share/dirs"
# Again over what is there: nothing changes.
cli_run dirs-again "$work/dirs.tar" "$work/dst-dirs"
expect_exit dirs-again 0
same_trees dirs-again "$work/dirs-want" "$work/dst-dirs" --dir-mtime

cli_test_end "cli_restore_hostile: duplicate entries (last wins), a 100,000-component path refused, many directories"

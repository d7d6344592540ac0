#!/usr/bin/env bash
# Restoring archives (archive -> share, archive -> local):
#   - round trip: the edge-case tree (plus files made hidden, read-only and
#     system through the server) archived from the share (.tar.zst),
#     restored into a new share directory and into a local directory: both
#     identical to the original (names, sizes, bytes, modification times);
#     smbclient reads a restored file back byte for byte; DOS attributes
#     and creation times come back as the server reports them; restoring again
#     over the result changes nothing;
#   - a tar made by GNU tar restores too, also from standard input ('-');
#   - an archive with malicious entries ("../x", an absolute path, a
#     symbolic link to /, a hard link, a name with a backslash) restores
#     nothing outside the destination, and reports each refused entry
#     (exit 1); its harmless entries are restored;
#   - incremental: a base archive with --snapshot, then changes (a file
#     changed, files and a directory added, a file and a directory tree
#     deleted), then an increment with the same snapshot: it holds only what
#     changed, and restoring the base then the increment with --incremental
#     gives the changed tree (deletions applied, each reported); without
#     --incremental the increment deletes nothing (one note says the list is
#     not applied) and the list is never restored as a file;
#   - a deletion list (made by hand) naming link/victim, where link is a
#     symbolic link in the destination to a directory outside it, a symbolic
#     link to a file outside, "../" and absolute paths: with --incremental
#     nothing outside the destination is deleted, each refusal is reported
#     naming the path (exit 1), and a real file the list names is deleted;
#   - --newer-than archives only files modified after the time; a bad time
#     is a usage error;
#   - a read-only destination: a clear one-line error, or every file
#     reported failed, exit 1, nothing written;
#   - GNU tar's sparse entries restore identical with their holes, into a
#     share and into a local directory;
#   - a truncated archive fails with a clear message and leaves no file under
#     a final name that differs from the original.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

need_tools tar zstd smbclient

cli_test_dirs cli_restore
export XDG_STATE_HOME=$work/state

EDGE_NO_SPARSE=1 EDGE_MANY=400 bash "$fixtures/make-edge-tree.sh" "$share/orig" >/dev/null


# --- round trip ------------------------------------------------------------------

# DOS attributes and creation times, set through the server, travel too.
mkdir -p "$share/orig/attrs"
echo hidden >"$share/orig/attrs/hidden.txt"
echo system >"$share/orig/attrs/ro-system.txt"
head -c 3000000 /dev/urandom >"$share/orig/attrs/big-hidden.bin" # past the one-step size
smbc() {
    timeout 120 smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" -p "$SMBCOPY_TEST_PORT" -A "$auth" -c "$1" \
        2>&1
}
smbc "setmode \"$name/orig/attrs/hidden.txt\" +h; setmode \"$name/orig/attrs/ro-system.txt\" +rs; setmode \"$name/orig/attrs/big-hidden.bin\" +hs" \
    >"$work/out/setmode.log" || fail "smbclient setmode: $(tail -n 2 "$work/out/setmode.log" | tr '\n' ' ')"
# attrs_of DIR: "name attributes create_time" of the files in DIR/attrs, as the server reports them.
attrs_of() {
    local f
    for f in hidden.txt ro-system.txt big-hidden.bin; do
        printf '%s %s %s\n' "$f" \
            "$(smbc "allinfo \"$1/attrs/$f\"" | sed -n 's/^attributes: *//p')" \
            "$(smbc "allinfo \"$1/attrs/$f\"" | sed -n 's/^create_time: *//p')"
    done
}
attrs_of "$name/orig" >"$work/out/attrs-orig"
grep -q '^hidden.txt H' "$work/out/attrs-orig" && grep -q '^ro-system.txt RS' "$work/out/attrs-orig" ||
    fail "setmode did not take: $(tr '\n' ' ' <"$work/out/attrs-orig")"

cli_run archive "$url/orig" "$work/orig.tar.zst"
expect_exit archive 0
cli_run to-share "$work/orig.tar.zst" "$url/restored"
expect_exit to-share 0
same_trees to-share "$share/orig" "$share/restored"
no_temps to-share "$share/restored"
attrs_of "$name/restored" >"$work/out/attrs-restored"
diff "$work/out/attrs-orig" "$work/out/attrs-restored" >/dev/null ||
    fail "DOS attributes or creation times not restored: $(tr '\n' ' ' <"$work/out/attrs-restored"), expected $(tr '\n' ' ' <"$work/out/attrs-orig")"
cli_run to-local "$work/orig.tar.zst" "$work/local"
expect_exit to-local 0
same_trees to-local "$share/orig" "$work/local"
no_temps to-local "$work/local"
# smbclient reads back what the restore wrote.
big=$(cd "$share/orig" && find . -type f -size +1M -printf '%P\n' | head -n 1)
if timeout 120 smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" -p "$SMBCOPY_TEST_PORT" -A "$auth" \
    -c "get \"$name/restored/$big\" \"$work/got.bin\"" >"$work/out/smbclient.log" 2>&1; then
    cmp -s "$work/got.bin" "$share/orig/$big" || fail "smbclient reads other bytes from the restored $big"
else
    fail "smbclient could not read the restored $big: $(tail -n 3 "$work/out/smbclient.log" | tr '\n' ' ')"
fi
# Again over the result: still identical, nothing left over.
cli_run again "$work/orig.tar.zst" "$url/restored"
expect_exit again 0
same_trees again "$share/orig" "$share/restored"
no_temps again "$share/restored"
attrs_of "$name/restored" >"$work/out/attrs-again"
diff "$work/out/attrs-orig" "$work/out/attrs-again" >/dev/null ||
    fail "again: DOS attributes or creation times changed: $(tr '\n' ' ' <"$work/out/attrs-again")"

# --- a GNU tar archive, from standard input ---------------------------------------

mkdir -p "$work/plain/sub"
head -c 3000000 /dev/urandom >"$work/plain/sub/data.bin"
printf 'hello\n' >"$work/plain/hello.txt"
touch -d '2020-02-03 04:05:06.789' "$work/plain/hello.txt"
tar --format=posix -C "$work/plain" -cf "$work/plain.tar" .  # posix: sub-second times
set +e
timeout 300 "$cli" -A "$auth" --no-progress - "$url/fromstdin" <"$work/plain.tar" >"$work/out/stdin.out" \
    2>"$work/out/stdin.err"
rc=$?
set -e
expect_exit stdin 0
same_trees stdin "$work/plain" "$share/fromstdin"

# --- malicious entries ---------------------------------------------------------------

mal=$work/mal
outside=$work/outside
mkdir -p "$mal/in/good" "$outside"
printf 'fine\n' >"$mal/in/good/ok.txt"
printf 'escaped\n' >"$mal/x"
printf 'absolute\n' >"$outside/abs.txt"
ln -s / "$mal/in/rootlink"
printf 'linked\n' >"$mal/in/target.txt"
ln "$mal/in/target.txt" "$mal/in/hardlink.txt"
printf 'bs\n' >"$mal/in/back\\slash.txt"
# ../x (relative to in/), an absolute path, a symlink to /, a hard link, a backslash name.
(cd "$mal/in" && tar -cPf "$work/evil.tar" good/ok.txt ../x "$outside/abs.txt" rootlink target.txt \
    hardlink.txt 'back\slash.txt')
rm -f "$outside/abs.txt"
before=$(cd "$work" && find . \( -path ./evil-dst -o -path ./state \) -prune -o -print | LC_ALL=C sort)
cli_run evil "$work/evil.tar" "$work/evil-dst"
expect_exit evil 1
after=$(cd "$work" && find . \( -path ./evil-dst -o -path ./state \) -prune -o -print | LC_ALL=C sort)
# Nothing appeared outside the destination (out/ holds this test's own output files).
extra=$(comm -13 <(echo "$before") <(echo "$after") | grep -v '^\./out/' || true)
[ -z "$extra" ] || fail "evil: entries appeared outside the destination: $(echo "$extra" | tr '\n' ' ')"
[ ! -e "$outside/abs.txt" ] || fail "evil: the absolute path was written"
[ ! -e "$work/x" ] || fail "evil: ../x was written next to the destination"
for what in '\.\./x' "$outside/abs.txt" 'rootlink' 'hardlink.txt' 'back.slash.txt'; do
    grep -q "FAILED .*$what.*refused entry from the archive" "$work/out/evil.out" ||
        fail "evil: no refusal reported for $what: $(grep FAILED "$work/out/evil.out" | tr '\n' ' ')"
done
[ -L "$work/evil-dst/rootlink" ] && fail "evil: the symbolic link was created"
[ "$(cat "$work/evil-dst/good/ok.txt" 2>/dev/null)" = fine ] || fail "evil: the harmless good/ok.txt was not restored"
[ "$(cat "$work/evil-dst/target.txt" 2>/dev/null)" = linked ] || fail "evil: the harmless target.txt was not restored"
no_temps evil "$work/evil-dst"
# The same into a share.
cli_run evil-share "$work/evil.tar" "$url/evil"
expect_exit evil-share 1
[ ! -e "$share/x" ] || fail "evil-share: ../x was written next to the destination"
[ "$(cat "$share/evil/good/ok.txt" 2>/dev/null)" = fine ] || fail "evil-share: good/ok.txt was not restored"

# --- incremental: base, changes, increment; base + increment restored = changed tree -------

inc=$share/inc
mkdir -p "$inc/a/b" "$inc/gone/deeper" "$inc/same"
printf 'one\n' >"$inc/a/one.txt"
printf 'two\n' >"$inc/a/b/two.txt"
printf 'g\n' >"$inc/gone/deeper/g.txt"
printf 'keep\n' >"$inc/keep.txt"
head -c 2000000 /dev/urandom >"$inc/same/unchanged.bin"
cli_run inc-base --snapshot "$work/inc.snap" "$url/inc" "$work/inc-base.tar.zst"
expect_exit inc-base 0
[ -s "$work/inc.snap" ] || fail "inc-base: no snapshot file written"
printf 'changed\n' >"$inc/a/one.txt"
touch -d '2030-01-01 00:00:00' "$inc/a/one.txt"
printf 'new\n' >"$inc/a/b/new.txt"
mkdir "$inc/newdir"
printf 'nd\n' >"$inc/newdir/nd.txt"
rm -rf -- "$inc/gone" "$inc/keep.txt"
cli_run inc-1 --snapshot "$work/inc.snap" "$url/inc" "$work/inc-1.tar.zst"
expect_exit inc-1 0
tar -I zstd -tf "$work/inc-1.tar.zst" >"$work/out/inc-1.list"
grep -q 'unchanged.bin' "$work/out/inc-1.list" && fail "inc-1: the increment holds an unchanged file"
for f in a/one.txt a/b/new.txt newdir/nd.txt; do
    grep -qx "$f" "$work/out/inc-1.list" || fail "inc-1: the increment lacks $f"
done
cli_run inc-r0 "$work/inc-base.tar.zst" "$url/inc-restored"
expect_exit inc-r0 0
cli_run inc-r1 -v --incremental "$work/inc-1.tar.zst" "$url/inc-restored"
expect_exit inc-r1 0
same_trees incremental "$inc" "$share/inc-restored"
no_temps incremental "$share/inc-restored"
[ ! -e "$share/inc-restored/.smbcopy-deleted" ] || fail "incremental: the list of deleted entries was restored as a file"
for gone in keep.txt gone/deeper/g.txt gone/deeper/ gone/; do
    grep -q "^deleted *$gone\$" "$work/out/inc-r1.out" || fail "inc-r1: the deletion of $gone was not reported"
done
# Without --incremental the same increment deletes nothing, and says so once.
cli_run inc-p0 "$work/inc-base.tar.zst" "$work/inc-plain"
expect_exit inc-p0 0
cli_run inc-p1 -v "$work/inc-1.tar.zst" "$work/inc-plain"
expect_exit inc-p1 0
for kept in keep.txt gone/deeper/g.txt; do
    [ -f "$work/inc-plain/$kept" ] || fail "inc-plain: $kept was deleted without --incremental"
done
[ "$(cat "$work/inc-plain/a/one.txt")" = changed ] || fail "inc-plain: the increment's files were not restored"
[ ! -e "$work/inc-plain/.smbcopy-deleted" ] || fail "inc-plain: the list of deleted entries was restored as a file"
[ "$(grep -c 'ignored *\.smbcopy-deleted.*--incremental' "$work/out/inc-p1.out")" -eq 1 ] ||
    fail "inc-plain: no single note that the list is not applied: $(grep -i 'deleted' "$work/out/inc-p1.out" | tr '\n' ' ')"
grep -q '^deleted' "$work/out/inc-p1.out" && fail "inc-plain: deletions reported without --incremental"

# A deletion list that leads through links: nothing outside the destination goes.
links=$work/links-dst
mkdir -p "$links/real" "$work/outside-dir" "$work/links-src"
printf 'victim\n' >"$work/outside-dir/victim"
printf 'outside\n' >"$work/outside-file"
printf 'real\n' >"$links/real/victim2"
ln -s "$work/outside-dir" "$links/link"
ln -s "$work/outside-file" "$links/lfile"
printf 'F\tlink/victim\nF\treal/victim2\nF\tlfile\nF\t../outside-file\nF\t%s\nD\tlink\n' "$work/outside-file" \
    >"$work/links-src/.smbcopy-deleted"
printf 'new\n' >"$work/links-src/new.txt"
tar -C "$work/links-src" -cf "$work/links.tar" .smbcopy-deleted new.txt
cli_run links -v --incremental "$work/links.tar" "$links"
expect_exit links 1
[ "$(cat "$work/outside-dir/victim" 2>/dev/null)" = victim ] || fail "links: the file outside the destination was deleted"
[ "$(cat "$work/outside-file" 2>/dev/null)" = outside ] || fail "links: the file a link points to was deleted"
[ -L "$links/link" ] && [ -L "$links/lfile" ] || fail "links: a symbolic link in the destination was deleted"
[ ! -e "$links/real/victim2" ] || fail "links: real/victim2, which the list names, was not deleted"
grep -q '^deleted *real/victim2$' "$work/out/links.out" || fail "links: the deletion of real/victim2 was not reported"
grep -q "FAILED *link/victim: refused deletion.*'link' is a symbolic link" "$work/out/links.out" ||
    fail "links: no refusal reported for link/victim: $(grep FAILED "$work/out/links.out" | tr '\n' ' ')"
for what in lfile '\.\./outside-file' "$work/outside-file" 'link/'; do
    grep -q "FAILED *$what: refused deletion" "$work/out/links.out" ||
        fail "links: no refusal reported for $what: $(grep FAILED "$work/out/links.out" | tr '\n' ' ')"
done
[ "$(cat "$links/new.txt" 2>/dev/null)" = new ] || fail "links: new.txt was not restored"
[ ! -e "$links/.smbcopy-deleted" ] || fail "links: the list of deleted entries was restored as a file"

# --newer-than: only files modified after the time (directories kept for the structure).
cli_run newer --newer-than 2029-12-31T00:00:00Z "$url/inc" "$work/newer.tar"
expect_exit newer 0
tar -tf "$work/newer.tar" | grep -v '/$' >"$work/out/newer.list" || true
[ "$(cat "$work/out/newer.list")" = "a/one.txt" ] ||
    fail "newer-than: expected only a/one.txt (modified in 2030), got: $(tr '\n' ' ' <"$work/out/newer.list")"
cli_run newer-bad --newer-than yesterday "$url/inc" "$work/newer-bad.tar"
expect_exit newer-bad 2

# --- a destination that refuses writes ---------------------------------------------------

# The read-only share: a directory that cannot be made is one line and exit 1;
# into the share itself, every file fails and is listed, nothing is left there.
ro=smb://$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT/$SMBCOPY_TEST_READONLY_SHARE
ro_dir=$SMBCOPY_TEST_READONLY_SHARE_DIR
before=$(ls -A "$ro_dir" | sort | tr '\n' ' ')
cli_run ro-dir "$work/orig.tar.zst" "$ro/restored"
expect_exit ro-dir 1
grep -q 'cannot create the destination.*access denied' "$work/out/ro-dir.err" ||
    fail "read-only: no clear message: $(cat "$work/out/ro-dir.err")"
[ "$(grep -c . "$work/out/ro-dir.err")" -eq 1 ] || fail "read-only: expected one line on stderr"
cli_run ro-root --json "$work/orig.tar.zst" "$ro"
expect_exit ro-root 1
grep -q '"files_failed":[1-9]' "$work/out/ro-root.out" || fail "read-only: no failed files counted"
grep -q 'access denied' "$work/out/ro-root.out" "$work/out/ro-root.err" || fail "read-only: failures do not say why"
[ "$(ls -A "$ro_dir" | sort | tr '\n' ' ')" = "$before" ] || fail "read-only: the share changed: $(ls -A "$ro_dir")"

# --- sparse entries: restored with their holes -----------------------------------------

# GNU tar's own sparse entries (--sparse, pax 1.0): a 1 GiB file with data at
# both ends and a file ending in a hole, into the share and into a local
# directory: identical, and the holes are not written (they take no space).
mkdir -p "$work/sparse"
truncate -s $((1024 * 1024 * 1024)) "$work/sparse/vm.img"
head -c 200000 /dev/urandom | dd of="$work/sparse/vm.img" conv=notrunc status=none
head -c 300000 /dev/urandom | dd of="$work/sparse/vm.img" bs=1M seek=1000 conv=notrunc status=none
truncate -s $((5 * 1024 * 1024)) "$work/sparse/tail.bin"
head -c 4096 /dev/urandom | dd of="$work/sparse/tail.bin" conv=notrunc status=none
tar -C "$work/sparse" --sparse --format=posix -cf "$work/sparse.tar" .
[ "$(stat -c %s "$work/sparse.tar")" -lt $((8 * 1024 * 1024)) ] || fail "sparse: GNU tar stored the holes"
for dst in "$url/sparse-back" "$work/sparse-back"; do
    case $dst in smb:*) there=$share/sparse-back ;; *) there=$dst ;; esac
    cli_run sparse "$work/sparse.tar" "$dst"
    expect_exit sparse 0
    for f in vm.img tail.bin; do
        cmp "$there/$f" "$work/sparse/$f" || fail "sparse: $f restored to $dst differs"
    done
    alloc=$(allocated_bytes "$there")
    [ "$alloc" -lt $((64 * 1024 * 1024)) ] || fail "sparse: restored to $dst, the files take $alloc bytes (holes written)"
done

# --- a truncated archive ---------------------------------------------------------------

tar -C "$work/plain" -cf "$work/full.tar" .
head -c $(($(stat -c %s "$work/full.tar") / 2)) "$work/full.tar" >"$work/cut.tar"
cli_run cut "$work/cut.tar" "$work/cut-dst"
[ "$rc" -ne 0 ] || fail "cut: exit 0 for a truncated archive"
grep -qiE 'truncated|damaged|unexpected end|premature|archive' "$work/out/cut.err" "$work/out/cut.out" ||
    fail "cut: no message about the archive: $(cat "$work/out/cut.err")"
if [ -d "$work/cut-dst" ]; then
    while IFS= read -r -d '' p; do
        rel=${p#"$work/cut-dst"/}
        case "/$rel" in */.smbcopy-*) continue ;; esac
        cmp -s "$p" "$work/plain/$rel" || fail "cut: $rel sits under its final name with other bytes"
    done < <(find "$work/cut-dst" -type f -print0)
fi

cli_test_end "cli_restore: round trips identical, stdin, malicious entries refused, truncated archive detected"

#!/usr/bin/env bash
# No command line or tree shape makes smbcopy lose data (against real Samba,
# whose "data" share folds case as Windows does):
#   - --mirror with the source inside the destination is refused (exit 2),
#     locally and on the share, and nothing is deleted;
#   - a destination inside a source is refused however the server is named
#     (localhost = 127.0.0.1) or the path is cased (NEST = nest);
#   - --mirror with several sources keeps every source's files, run after run;
#     a file that two sources both have fails both, and the destination keeps
#     what it had;
#   - names that differ only in case (files and directories) uploaded to the
#     share: both fail naming the other, exit 1, the destination keeps its
#     file, no staging directory is left, and a rerun gives the same answer;
#     downloaded to a local (case-sensitive) directory both arrive;
#   - a case-only rename on the source then --mirror: the renamed file and
#     directory are there with their new content (nothing deleted);
#   - several file sources with one name into one directory: both fail, the
#     destination keeps what it had;
#   - --mirror deletes nothing in a directory where something failed;
#   - --mirror --dry-run lists every nested deletion and says "would";
#   - a read-only extraneous file is deleted by --mirror (and reported);
#   - another job's temporary files are never removed, even by --mirror;
#   - missing parent directories of the destination are created.
# SMBCOPY_TEST_KEEP=1 keeps the test's directories for a look afterwards.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"
need_tools smbclient

cli_test_dirs cli_trust
L=$work/local
mkdir -p "$L"
surl=smb://$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT/$SMBCOPY_TEST_SHARE/$name
lurl=smb://localhost:$SMBCOPY_TEST_PORT/$SMBCOPY_TEST_SHARE/$name

# run TAG ARGS...: smbcopy --json ARGS (rc, $work/out/TAG.{out,err}).
run() {
    local tag=$1
    shift
    cli_run "$tag" --json "$@"
}
show() {
    echo "---- $1: exit $rc" >&2
    tail -n 20 "$work/out/$1.err" >&2
    head -c 3000 "$work/out/$1.out" >&2
    echo >&2
}
expect_rc() {
    [ "$rc" -eq "$2" ] || {
        fail "$1: exit $rc, expected $2"
        show "$1"
    }
}
# failed_paths TAG: the failures' paths, sorted, one a line.
failed_paths() { jq -r '.failures[].path' "$work/out/$1.out" 2>/dev/null | sort; }
expect_failed() {
    local tag=$1 got want
    shift
    got=$(failed_paths "$tag" | tr '\n' ' ')
    want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    [ "$got" = "$want" ] || {
        fail "$tag: failed paths [$got], expected [$want]"
        show "$tag"
    }
}
expect_file() { # PATH CONTENT
    if [ ! -f "$1" ]; then
        fail "missing $1"
    elif [ "$(cat "$1")" != "$2" ]; then
        fail "$1 holds '$(cat "$1")', expected '$2'"
    fi
}

# --- 1. --mirror with the source inside the destination
mkdir -p "$L/top/sub"
echo keep >"$L/top/sub/precious"
echo other >"$L/top/other"
run mirror-inside-local --mirror "$L/top/sub" "$L/top"
expect_rc mirror-inside-local 2
grep -q "inside the destination" "$work/out/mirror-inside-local.err" ||
    fail "mirror-inside-local: no clear message: $(cat "$work/out/mirror-inside-local.err")"
expect_file "$L/top/sub/precious" keep
expect_file "$L/top/other" other
mkdir -p "$share/top/sub"
echo keep >"$share/top/sub/precious"
run mirror-inside-share --mirror "$surl/top/sub" "$surl/top"
expect_rc mirror-inside-share 2
expect_file "$share/top/sub/precious" keep
run mirror-inside-share-case --mirror "$lurl/TOP/Sub" "$surl/top"
expect_rc mirror-inside-share-case 2
expect_file "$share/top/sub/precious" keep
# Without --mirror a source inside the destination is fine (nothing is deleted).
run inside-copy "$L/top/sub" "$L/top"
expect_rc inside-copy 0
expect_file "$L/top/precious" keep

# --- 8. the destination inside the source, however it is spelled
mkdir -p "$share/nest/a"
echo n >"$share/nest/a/f"
run dest-inside-localhost "$surl/nest" "$lurl/nest/backup"
expect_rc dest-inside-localhost 2
run dest-inside-case "$surl/NEST" "$surl/nest/backup"
expect_rc dest-inside-case 2
[ ! -e "$share/nest/backup" ] || fail "dest-inside: $share/nest/backup was made"
ln -s "$L/top" "$L/toplink"
run dest-inside-symlink "$L/toplink" "$L/top/sub/backup"
expect_rc dest-inside-symlink 2

# --- 2. --mirror with several sources
mkdir -p "$L/m1/d" "$L/m2/d"
echo one >"$L/m1/only1"
echo two >"$L/m2/only2"
echo d1 >"$L/m1/d/x1"
echo d2 >"$L/m2/d/x2"
for i in 1 2; do
    run mirror-multi-$i --mirror "$L/m1" "$L/m2" "$surl/multi"
    expect_rc mirror-multi-$i 0
    expect_file "$share/multi/only1" one
    expect_file "$share/multi/only2" two
    expect_file "$share/multi/d/x1" d1
    expect_file "$share/multi/d/x2" d2
    [ "$(jq -r '.files_deleted' "$work/out/mirror-multi-$i.out")" = 0 ] || fail "mirror-multi-$i: deleted something"
done
# The same file in both: both fail, the destination keeps what it had.
echo first >"$L/m1/both"
echo second >"$L/m2/both"
echo before >"$share/multi/both"
run mirror-multi-both --mirror "$L/m1" "$L/m2" "$surl/multi"
expect_rc mirror-multi-both 1
expect_failed mirror-multi-both both both
grep -q "several sources" "$work/out/mirror-multi-both.out" || fail "mirror-multi-both: the reason does not name the sources"
expect_file "$share/multi/both" before
expect_file "$share/multi/only1" one
expect_file "$share/multi/only2" two

# --- 3. names that differ only in case, uploaded to the share
mkdir -p "$L/case/Dir" "$L/case/dir"
echo upper >"$L/case/Report.txt"
echo lower >"$L/case/report.txt"
echo D >"$L/case/Dir/a"
echo d >"$L/case/dir/b"
echo fine >"$L/case/fine.txt"
for i in 1 2; do
    run case-up-$i "$L/case" "$surl/case"
    expect_rc case-up-$i 1
    expect_failed case-up-$i Dir Report.txt dir report.txt
    grep -q "differs only in case from 'report.txt'" "$work/out/case-up-$i.out" ||
        fail "case-up-$i: the reason does not name the other file"
    expect_file "$share/case/fine.txt" fine
    [ ! -e "$share/case/Report.txt" ] && [ ! -e "$share/case/report.txt" ] || fail "case-up-$i: a colliding file was written"
    no_temps case-up-$i "$share/case"
done
# An existing file of that name keeps its bytes.
echo existing >"$share/case/REPORT.TXT"
run case-up-existing --mirror "$L/case" "$surl/case"
expect_rc case-up-existing 1
expect_file "$share/case/REPORT.TXT" existing
# Downloading to a local directory (case-sensitive): both arrive.
rm -f "$share/case/REPORT.TXT"
mkdir -p "$share/casedown/Dir" "$share/casedown/dir"
echo upper >"$share/casedown/Report.txt"
echo lower >"$share/casedown/report.txt"
run case-down "$surl/casedown" "$L/casedown"
# Samba lists both names of its case-sensitive file system; a local destination holds both.
expect_rc case-down 0
expect_file "$L/casedown/Report.txt" upper
expect_file "$L/casedown/report.txt" lower

# A local destination already holding Dir and dir does not fold case: both source twins arrive,
# and --mirror deletes what no source has even when its name differs only in case from one.
mkdir -p "$L/tw/src/dir" "$L/tw/src/DIR" "$L/tw/dst/dir" "$L/tw/dst/DIR" "$L/tw/dst/Extra"
echo 1 >"$L/tw/src/dir/a"
echo 2 >"$L/tw/src/DIR/b"
run twins-local --mirror "$L/tw/src" "$L/tw/dst"
expect_rc twins-local 0
expect_file "$L/tw/dst/dir/a" 1
expect_file "$L/tw/dst/DIR/b" 2
[ ! -e "$L/tw/dst/Extra" ] || fail "twins-local: the extraneous directory was not deleted"

# --- 14. an archive holding case twins restored into the share: the first entry stays, the other fails
mkdir -p "$L/tw-arc/Dir" "$L/tw-arc/dir"
echo upper >"$L/tw-arc/A.txt"
echo lower >"$L/tw-arc/a.txt"
echo D >"$L/tw-arc/Dir/x"
echo d >"$L/tw-arc/dir/y"
tar -C "$L/tw-arc" -cf "$work/twins.tar" .
first_file=$(tar -tf "$work/twins.tar" | sed 's|^\./||' | grep -x -m1 'A.txt\|a.txt')
first_dir=$(tar -tf "$work/twins.tar" | sed 's|^\./||; s|/$||' | grep -x -m1 'Dir\|dir')
run restore-twins "$work/twins.tar" "$surl/tw-restored"
expect_rc restore-twins 1
other_file=$([ "$first_file" = A.txt ] && echo a.txt || echo A.txt)
other_dir=$([ "$first_dir" = Dir ] && echo dir || echo Dir)
failed=$(failed_paths restore-twins | tr '\n' ' ')
case " $failed " in *" $other_file "*) ;; *) fail "restore-twins: $other_file not reported (failed: $failed)" ;; esac
case " $failed " in *" $other_dir/"*|*" $other_dir "*) ;; *) fail "restore-twins: $other_dir not reported (failed: $failed)" ;; esac
got=$(find "$share/tw-restored" -maxdepth 1 -iname a.txt)
[ "$(echo "$got" | wc -l)" = 1 ] || fail "restore-twins: expected one a.txt, found: $got"
expect_file "$got" "$(cat "$L/tw-arc/$first_file")"
no_temps restore-twins "$share/tw-restored"

# --- 4. a case-only rename on the source, then --mirror
mkdir -p "$L/ren/sub"
echo v1 >"$L/ren/readme.txt"
echo s >"$L/ren/sub/in"
run rename-1 --mirror "$L/ren" "$surl/ren"
expect_rc rename-1 0
mv "$L/ren/readme.txt" "$L/ren/README.txt"
echo v2 >"$L/ren/README.txt"
mv "$L/ren/sub" "$L/ren/SUB"
for i in 2 3; do
    run rename-$i --mirror "$L/ren" "$surl/ren"
    expect_rc rename-$i 0
    got=$(find "$share/ren" -maxdepth 1 -iname readme.txt | head -n 1)
    if [ -z "$got" ]; then
        fail "rename-$i: the renamed file is gone"
    else
        expect_file "$got" v2
    fi
    got=$(find "$share/ren" -maxdepth 1 -iname sub | head -n 1)
    if [ -z "$got" ]; then
        fail "rename-$i: the renamed directory is gone"
    else
        expect_file "$got/in" s
    fi
done

# --- 7. several file sources of one name into one directory
mkdir -p "$L/fa" "$L/fb" "$L/fout"
echo A >"$L/fa/x.txt"
echo B >"$L/fb/x.txt"
echo old >"$L/fout/x.txt"
run files-same-name "$L/fa/x.txt" "$L/fb/x.txt" "$L/fout/"
expect_rc files-same-name 1
expect_failed files-same-name x.txt x.txt
expect_file "$L/fout/x.txt" old
# Two directory sources into a new destination: merged, one staging directory, nothing left.
mkdir -p "$L/da/s" "$L/db/s"
echo a >"$L/da/s/a"
echo b >"$L/db/s/b"
run dirs-merge "$L/da" "$L/db" "$surl/merged"
expect_rc dirs-merge 0
expect_file "$share/merged/s/a" a
expect_file "$share/merged/s/b" b
no_temps dirs-merge "$share/merged"

# --- --mirror deletes nothing where something failed
mkdir -p "$L/mf"
echo u >"$L/mf/Report.txt"
echo l >"$L/mf/report.txt"
mkdir -p "$share/mf"
echo extra >"$share/mf/extraneous"
run mirror-failed --mirror "$L/mf" "$surl/mf"
expect_rc mirror-failed 1
expect_file "$share/mf/extraneous" extra

# --- a directory --mirror cannot replace (it holds what the filters exclude) is left whole, not half-deleted
mkdir -p "$L/tc" "$share/tc/cache"
echo file >"$L/tc/cache"
echo a >"$share/tc/cache/A.txt"
echo b >"$share/tc/cache/keep.bin"
run type-change-excluded --mirror --exclude '*.bin' "$L/tc" "$surl/tc"
expect_rc type-change-excluded 1
expect_failed type-change-excluded cache
expect_file "$share/tc/cache/A.txt" a
expect_file "$share/tc/cache/keep.bin" b

# --- 10. --mirror --dry-run lists every deletion
mkdir -p "$L/dry" "$share/dry/gone/deeper"
echo k >"$L/dry/keep"
echo k >"$share/dry/keep"
echo 1 >"$share/dry/gone/f1"
echo 2 >"$share/dry/gone/deeper/f2"
echo 3 >"$share/dry/loose"
cli_run dry-human --mirror --dry-run -v "$L/dry" "$surl/dry"
expect_rc dry-human 0
for p in gone gone/f1 gone/deeper gone/deeper/f2 loose; do
    grep -q "delete.*$p\$\|$p.*delete\|delete $p" "$work/out/dry-human.out" "$work/out/dry-human.err" ||
        fail "dry-run: '$p' is not listed as a deletion"
done
grep -q "would be deleted" "$work/out/dry-human.out" "$work/out/dry-human.err" || fail "dry-run: the summary does not say 'would be deleted'"
if grep -Eq ', [0-9]+ deleted' "$work/out/dry-human.out" "$work/out/dry-human.err"; then fail "dry-run: the summary says 'deleted'"; fi
[ -e "$share/dry/gone/deeper/f2" ] && [ -e "$share/dry/loose" ] || fail "dry-run deleted something"
run dry-real --mirror "$L/dry" "$surl/dry"
expect_rc dry-real 0
[ "$(jq -r '.files_deleted + .dirs_deleted' "$work/out/dry-real.out")" = 5 ] || fail "dry-real: expected 5 deletions"

# --- a read-only extraneous file
mkdir -p "$L/ro" "$share/ro"
echo k >"$L/ro/keep"
echo r >"$share/ro/locked"
smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" -p "$SMBCOPY_TEST_PORT" -A "$auth" \
    -c "cd $name/ro; setmode locked +r" >/dev/null 2>&1 || fail "smbclient setmode failed"
run readonly --mirror -v "$L/ro" "$surl/ro"
expect_rc readonly 0
[ ! -e "$share/ro/locked" ] || fail "readonly: the read-only extraneous file is still there"

# --- 12. another job's temporary files survive, --mirror included
mkdir -p "$L/tmpjob" "$share/tmpjob"
echo k >"$L/tmpjob/keep"
other=.smbcopy-0badf00d-0123456789abcdef.tmp
echo theirs >"$share/tmpjob/$other"
mkdir -p "$share/tmpjob/.smbcopy-0badf00d-fedcba9876543210.tmp"
echo deep >"$share/tmpjob/.smbcopy-0badf00d-fedcba9876543210.tmp/f"
touch -d '3 hours ago' "$share/tmpjob/$other"
run other-temps --mirror "$L/tmpjob" "$surl/tmpjob"
expect_rc other-temps 0
expect_file "$share/tmpjob/$other" theirs
expect_file "$share/tmpjob/.smbcopy-0badf00d-fedcba9876543210.tmp/f" deep

# --- missing parents of the destination
run parents "$L/dry" "$surl/p1/p2/p3"
expect_rc parents 0
expect_file "$share/p1/p2/p3/keep" k
run parents-local "$L/dry" "$L/q1/q2/q3"
expect_rc parents-local 0
expect_file "$L/q1/q2/q3/keep" k
run parents-file "$L/dry/keep" "$L/r1/r2/renamed"
expect_rc parents-file 0
expect_file "$L/r1/r2/renamed" k

cli_test_end "cli_trust: every case passed"

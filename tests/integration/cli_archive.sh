#!/usr/bin/env bash
# Archiving a share into a tarball (share -> .tar, .tar.gz, .tar.xz,
# .tar.bz2, .tar.zst), on the engine's edge-case tree (unicode, shell
# characters, a 240-character name, 30 levels deep, empty files and
# directories, credit-boundary sizes, many small files):
#   - every format: exit 0; GNU tar lists and extracts it (zstd -d reads the
#     .tar.zst); the extracted tree equals the source: names, sizes, bytes,
#     modification times to 100 ns, empty directories;
#   - the entries are in a deterministic order, sorted depth first, the
#     same in two runs;
#   - the names are those smbclient -Tc archives for the same tree;
#   - sparse files (5 GiB + 100 bytes with three data ranges, one ending in
#     a hole, one all hole) of a local tree go into every format as pax
#     sparse entries: only their data is read and stored, and GNU tar
#     extracts them identical and sparse; the 5 GiB file from the share
#     (SMBCOPY_TEST_MIB MiB when set) goes into a .tar.zst and comes out
#     byte-identical;
#   - "-" writes the archive to standard output (the summary to stderr);
#   - --dry-run lists what would go in and writes nothing; --exclude
#     leaves entries out;
#   - an archive that cannot be written (no such directory) fails with a
#     clear message, and a run stopped by SIGINT leaves no archive, not even
#     a temporary one.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

need_tools tar zstd gzip xz bzip2 smbclient

cli_test_dirs cli_archive
export XDG_STATE_HOME=$work/state

EDGE_NO_SPARSE=1 EDGE_MANY=400 bash "$fixtures/make-edge-tree.sh" "$share/edge" >/dev/null
src=$share/edge
srcurl=$url/edge


# tar_of FILE: the tar options that read FILE (GNU tar needs to be told zstd).
tar_of() {
    case $1 in *.zst) echo "-I zstd" ;; *) echo "" ;; esac
}

# sorted_depth_first LISTING: every directory's entries in byte order.
sorted_depth_first() {
    awk '{ p = $0; sub(/\/$/, "", p); n = split(p, parts, "/"); parent = ""
           for (i = 1; i < n; i++) parent = parent parts[i] "/"
           name = parts[n]
           if ((parent in last) && !(last[parent] < name)) { print "out of order: " last[parent] " before " name; bad = 1 }
           last[parent] = name }
         END { exit bad }' "$1"
}

for ext in tar tar.gz tar.xz tar.bz2 tar.zst; do
    arc=$work/edge.$ext
    cli_run "$ext" "$srcurl" "$arc"
    if [ "$rc" -ne 0 ]; then
        fail "$ext: exit $rc: $(head -c 400 "$work/out/$ext.err")"
        continue
    fi
    # shellcheck disable=SC2046
    if ! LC_ALL=C.UTF-8 tar $(tar_of "$arc") -tvf "$arc" >"$work/out/$ext.tv" 2>"$work/out/$ext.tv.err"; then
        fail "$ext: tar -tvf cannot read it: $(head -c 300 "$work/out/$ext.tv.err")"
        continue
    fi
    [ ! -s "$work/out/$ext.tv.err" ] || fail "$ext: tar -tvf complains: $(head -c 300 "$work/out/$ext.tv.err")"
    # shellcheck disable=SC2046
    LC_ALL=C.UTF-8 tar $(tar_of "$arc") -tf "$arc" >"$work/out/$ext.list"
    sorted_depth_first "$work/out/$ext.list" >"$work/out/$ext.order" ||
        fail "$ext: entries not sorted depth first: $(head -n 3 "$work/out/$ext.order" | tr '\n' ' ')"
    mkdir "$work/x-$ext"
    # shellcheck disable=SC2046
    LC_ALL=C.UTF-8 tar $(tar_of "$arc") --warning=no-timestamp -xf "$arc" -C "$work/x-$ext"
    bash "$fixtures/compare-trees.sh" "$src" "$work/x-$ext" >"$work/out/$ext.cmp" 2>&1 ||
        fail "$ext: the extracted tree differs from the source: $(head -n 6 "$work/out/$ext.cmp" | tr '\n' ' ')"
    files=$(find "$src" -type f | wc -l)
    grep -q "copied $files of $files files" "$work/out/$ext.out" ||
        fail "$ext: the summary does not say $files of $files files: $(tail -n 1 "$work/out/$ext.out")"
    rm -rf -- "$work/x-$ext"
done

# zstd itself reads the .tar.zst; the same order in a second run.
if [ -f "$work/edge.tar.zst" ]; then
    zstd -dc "$work/edge.tar.zst" | tar -tf - >"$work/out/zstd.list" || fail "zstd -d | tar -t cannot read the .tar.zst"
    cmp -s "$work/out/zstd.list" "$work/out/tar.zst.list" || fail "zstd -d listing differs from tar's"
    cli_run again "$srcurl" "$work/again.tar.zst"
    LC_ALL=C.UTF-8 tar -I zstd -tf "$work/again.tar.zst" >"$work/out/again.list"
    cmp -s "$work/out/again.list" "$work/out/tar.zst.list" || fail "a second run lists the entries in another order"
fi

# The names smbclient -Tc archives for the same tree (its names start with
# "./" and the path of the directory inside the share).
if timeout 300 smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" -p "$SMBCOPY_TEST_PORT" -A "$auth" \
    -D "$name/edge" -Tc "$work/smbclient.tar" >"$work/out/smbclient-T.log" 2>&1; then
    # names LISTING [PREFIX]: the entry names without "./", PREFIX/ and trailing '/', sorted.
    names() {
        awk -v pre="${2:-}" '{ p = $0; sub(/^\.\//, "", p); sub(/\/$/, "", p)
            if (pre != "") { if (index(p, pre "/") != 1) next; p = substr(p, length(pre) + 2) }
            if (p != "" && p != ".") print p }' "$1" | LC_ALL=C sort -u
    }
    LC_ALL=C.UTF-8 tar -tf "$work/smbclient.tar" >"$work/out/smbclient.list"
    diff <(names "$work/out/smbclient.list" "$name/edge") <(names "$work/out/tar.list") \
        >"$work/out/names.diff" ||
        fail "names differ from smbclient -Tc's: $(head -n 6 "$work/out/names.diff" | tr '\n' ' ')"
else
    fail "smbclient -Tc failed: $(tail -n 5 "$work/out/smbclient-T.log" | tr '\n' ' ')"
fi

# Sparse files into every format: one past 4 GiB with data at both ends and
# in the middle, one ending in a hole, one all hole. From a local tree, whose
# holes the client finds (SEEK_DATA): only the data is read and stored (pax
# sparse entries), each archive stays small, and GNU tar extracts the files
# identical and sparse.
sparse=$work/sparse-src
mkdir -p "$sparse"
truncate -s $((5 * 1024 * 1024 * 1024 + 100)) "$sparse/big.bin"
head -c 1048576 /dev/urandom | dd of="$sparse/big.bin" conv=notrunc status=none
head -c 3000000 /dev/urandom | dd of="$sparse/big.bin" bs=1M seek=2500 conv=notrunc status=none
head -c 1048576 /dev/urandom | dd of="$sparse/big.bin" bs=1M seek=5119 conv=notrunc status=none
truncate -s $((9 * 1024 * 1024)) "$sparse/tail-hole.bin"
head -c 70000 /dev/urandom | dd of="$sparse/tail-hole.bin" conv=notrunc status=none
truncate -s $((3 * 1024 * 1024)) "$sparse/all-hole.bin"
for ext in tar tar.gz tar.xz tar.bz2 tar.zst; do
    arc=$work/sparse.$ext
    cli_run "sparse-$ext" --json "$sparse" "$arc"
    [ "$rc" -eq 0 ] || fail "sparse $ext: exit $rc: $(head -c 400 "$work/out/sparse-$ext.err")"
    size=$(stat -c %s "$arc")
    [ "$size" -lt $((16 * 1024 * 1024)) ] ||
        fail "sparse $ext: the archive holds $size bytes (the files hold 6 MB of data: holes were stored)"
    read_bytes=$(grep -o '"bytes_read": *[0-9]*' "$work/out/sparse-$ext.out" | grep -o '[0-9]*$' || true)
    [ -n "$read_bytes" ] && [ "$read_bytes" -lt $((64 * 1024 * 1024)) ] ||
        fail "sparse $ext: read ${read_bytes:-?} bytes (the holes were read)"
    LC_ALL=C.UTF-8 tar $(tar_of "$arc") -tvf "$arc" >"$work/out/sparse-$ext.list" ||
        fail "sparse $ext: tar cannot list it"
    grep -q ' 5368709220 .*big.bin' "$work/out/sparse-$ext.list" ||
        fail "sparse $ext: tar does not list big.bin's size 5368709220"
    ex=$work/sparse-ex
    rm -rf "$ex" && mkdir -p "$ex"
    tar $(tar_of "$arc") -xf "$arc" -C "$ex" || fail "sparse $ext: GNU tar cannot extract it"
    # (compare-trees reads only the data ranges: cmp would read the 5 GiB of holes twice.)
    bash "$fixtures/compare-trees.sh" --no-mtime "$sparse" "$ex" >"$work/out/sparse-$ext.cmp" ||
        fail "sparse $ext: the files do not come out identical: $(head -n 8 "$work/out/sparse-$ext.cmp" | tr '\n' ' ')"
    alloc=$(allocated_bytes "$ex")
    [ "$alloc" -lt $((64 * 1024 * 1024)) ] || fail "sparse $ext: extracted files take $alloc bytes (not sparse)"
    rm -rf "$ex"
done

# A file past 4 GiB from the share (which reports no holes for it: it is
# read whole) into a .tar.zst, compared as a stream. SMBCOPY_TEST_MIB makes
# it that many MiB (+ 100 bytes) instead: the sanitizer builds, several
# times slower, read less (scripts/test.sh).
mkdir -p "$share/large"
large_size=$((${SMBCOPY_TEST_MIB:-5120} * 1024 * 1024 + 100))
if [ "$large_size" -eq "$(stat -c %s "$sparse/big.bin")" ]; then
    cp --sparse=always "$sparse/big.bin" "$share/large/big.bin"
else
    truncate -s "$large_size" "$share/large/big.bin"
    head -c 1048576 /dev/urandom | dd of="$share/large/big.bin" conv=notrunc status=none
    head -c 1048576 /dev/urandom | dd of="$share/large/big.bin" bs=1M seek=$((large_size / 2097152)) \
        conv=notrunc status=none
    head -c 100 /dev/urandom | dd of="$share/large/big.bin" bs=1 seek=$((large_size - 100)) conv=notrunc status=none
fi
cli_run large "$url/large" "$work/large.tar.zst"
if [ "$rc" -eq 0 ]; then
    tar -I zstd -xOf "$work/large.tar.zst" big.bin | cmp - "$share/large/big.bin" ||
        fail "large: the $large_size-byte file does not come out identical"
    LC_ALL=C.UTF-8 tar -I zstd -tvf "$work/large.tar.zst" >"$work/out/large.list" ||
        fail "large: tar cannot list it"
    grep -q " $large_size " "$work/out/large.list" || fail "large: tar does not list its size $large_size"
else
    fail "large: exit $rc: $(head -c 400 "$work/out/large.err")"
fi

# Standard output.
set +e
timeout 300 "$cli" -A "$auth" --no-progress --archive tar.gz "$srcurl" - </dev/null >"$work/stdout.tar.gz" \
    2>"$work/out/stdout.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "stdout: exit $rc: $(head -c 300 "$work/out/stdout.err")"
tar -tzf "$work/stdout.tar.gz" >"$work/out/stdout.list" 2>/dev/null || fail "stdout: not a readable .tar.gz"
cmp -s "$work/out/stdout.list" "$work/out/tar.gz.list" || fail "stdout: other entries than the file archive"
grep -q "^smbcopy: copied" "$work/out/stdout.err" || fail "stdout: the summary is not on stderr"

# Dry run and filters.
cli_run dry --dry-run "$srcurl" "$work/dry.tar.zst"
[ "$rc" -eq 0 ] || fail "dry run: exit $rc"
[ ! -e "$work/dry.tar.zst" ] || fail "dry run: the archive was written"
[ -z "$(find "$work" -maxdepth 1 -name '.smbcopy-*')" ] || fail "dry run: a temporary file was left"
cli_run excl --exclude 'many' --exclude '*.txt' "$srcurl" "$work/excl.tar"
LC_ALL=C.UTF-8 tar -tf "$work/excl.tar" >"$work/out/excl.list" 2>/dev/null || fail "exclude: unreadable archive"
if grep -qE '(^|/)many(/|$)|\.txt$' "$work/out/excl.list"; then
    fail "exclude: excluded entries are in the archive"
fi

# Failures: an archive that cannot be created; an interrupted run leaves nothing.
cli_run nodir "$srcurl" "$work/no/such/dir/x.tar"
[ "$rc" -ne 0 ] || fail "nodir: exit 0 for an archive in a missing directory"
grep -q "cannot create" "$work/out/nodir.err" || fail "nodir: message: $(cat "$work/out/nodir.err")"
[ "$(grep -c . "$work/out/nodir.err")" -eq 1 ] || fail "nodir: expected one line on stderr"
# (100 MiB of random bytes through bzip2 take seconds: time to interrupt it.)
mkdir -p "$share/dense"
head -c $((100 * 1024 * 1024)) /dev/urandom >"$share/dense/d.bin"
perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV' -- "$cli" -A "$auth" --no-progress --read-ahead 1 "$url/dense" \
    "$work/int.tar.bz2" </dev/null >"$work/out/int.out" 2>"$work/out/int.err" &
bg_pid=$!
for _ in $(seq 1 200); do
    [ -n "$(find "$work" -maxdepth 1 -name '.smbcopy-*.tmp' -size +1M)" ] && break
    sleep 0.05
done
kill -INT "$bg_pid" 2>/dev/null || true
wait "$bg_pid" && rc=0 || rc=$?
bg_pid=
[ "$rc" -eq 5 ] || fail "interrupt: exit $rc, expected 5"
[ ! -e "$work/int.tar.bz2" ] || fail "interrupt: an archive was left under its final name"
[ -z "$(find "$work" -maxdepth 1 -name '.smbcopy-*')" ] || fail "interrupt: a temporary archive was left"

# Directories nested deeper than the walk descends (1024 levels): the part
# above is archived, the deepest directory is reported, exit 1.
deep=$work/deep-src
d=$deep
for _ in $(seq 1 1030); do d=$d/d; done
mkdir -p "$d"
printf 'top\n' >"$deep/top.txt"
cli_run deep --json "$deep" "$work/deep.tar"
[ "$rc" -eq 1 ] || fail "deep: exit $rc, expected 1: $(head -c 300 "$work/out/deep.err")"
grep -q 'nested more than 1024 deep' "$work/out/deep.out" || fail "deep: the depth limit is not reported"
tar -xOf "$work/deep.tar" top.txt | grep -qx top || fail "deep: top.txt is not in the archive"
[ "$(tar -tf "$work/deep.tar" | wc -l)" -ge 1024 ] || fail "deep: the directories above the limit are missing"

cli_test_end "cli_archive: every format readable by tar and identical to the source; sorted; smbclient's names"

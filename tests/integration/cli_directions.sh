#!/usr/bin/env bash
# smbcopy copies the edge-case tree (tests/fixtures/make-edge-tree.sh) in
# every direction, and each copy is identical to the source: names, types,
# sizes, content and modification times (compare-trees.sh on the share
# directories on disk):
#   local -> share                  upload
#   share -> local                  download
#   share -> share, same server     server-side copy: almost no payload
#                                   through the client (--json)
#   share -> share, other server    main instance -> the 3.1.1 instance,
#                                   streamed through the client
#   local -> local
# The 5 GiB sparse file must stay sparse on disk at every destination.
# Cross-checks with smbclient: what smbcopy uploaded, smbclient downloads
# identically (content and names; smbclient does not keep times), and what
# smbclient uploads, smbcopy downloads identically.
# Single files: a file copied into an existing directory keeps its name, a
# file copied to a new name takes it.
# SMBCOPY_TEST_KEEP=1 keeps the test's directories for a look afterwards.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

cli_test_dirs cli_directions
share_main=$share
url_main=$url
share_other=$SMBCOPY_TEST_SHARE_DIR_3_1_1/$name
url_other=smb://$SMBCOPY_TEST_HOST:$SMBCOPY_TEST_PORT_3_1_1/$SMBCOPY_TEST_SHARE/$name
cleanup_dirs=("$share_other")
mkdir -p -- "$share_other"

# smbcopy_run TAG ARGS...: run smbcopy --json with the fixture's credentials;
# stdout goes to $work/out/TAG.out (field reads it), stderr to
# $work/out/TAG.err; sets rc.
smbcopy_run() {
    local tag=$1
    shift
    printf '%q ' "$cli" -A "$auth" --json "$@" >"$work/out/$tag.cmd"
    echo "+ $(cat "$work/out/$tag.cmd")"
    set +e
    timeout 240 "$cli" -A "$auth" --json "$@" >"$work/out/$tag.out" 2>"$work/out/$tag.err"
    rc=$?
    set -e
}

# expect_ok TAG: exit 0, one JSON object on stdout, no failed file.
expect_ok() {
    local tag=$1
    if [ "$rc" -ne 0 ]; then
        fail "$tag: exit $rc, expected 0"
        show "$tag"
        return 1
    fi
    if [ "$(jq -s 'length' "$work/out/$tag.out" 2>/dev/null)" != 1 ] ||
        [ "$(jq -r 'type' "$work/out/$tag.out")" != object ]; then
        fail "$tag: stdout is not one JSON object"
        show "$tag"
        return 1
    fi
    local failed
    failed=$(jq -r '.files_failed' "$work/out/$tag.out")
    if [ "$failed" != 0 ] || [ "$(jq -r '.failures | length' "$work/out/$tag.out")" != 0 ]; then
        fail "$tag: files_failed=$failed, failures: $(jq -c '.failures' "$work/out/$tag.out")"
        return 1
    fi
    return 0
}

# expect_same TAG A B [compare-trees options]: the trees are identical.
expect_same() {
    local tag=$1 a=$2 b=$3
    shift 3
    if ! bash "$fixtures/compare-trees.sh" "$@" "$a" "$b" >"$work/$tag.cmp" 2>&1; then
        fail "$tag: trees differ: $a vs $b"
        cat "$work/$tag.cmp" >&2
        return 0
    fi
    cat "$work/$tag.cmp"
}

sparse_name='sparse 5GiB+100.bin'
# expect_sparse TAG FILE: FILE takes far less space on disk than its size.
expect_sparse() {
    local tag=$1 f=$2 alloc size
    [ -f "$f" ] || { fail "$tag: $f missing"; return 0; }
    alloc=$(($(stat -c '%b * %B' -- "$f")))
    size=$(stat -c %s -- "$f")
    if ((alloc > 64 * 1024 * 1024)); then
        fail "$tag: $f is not sparse: $alloc bytes allocated for $size bytes ($(du -h -- "$f" | cut -f1) on disk)"
        return 0
    fi
    echo "$tag: sparse kept: $alloc bytes allocated for $size bytes"
}

# --- the source tree ----------------------------------------------------------

src=$work/src
bash "$fixtures/make-edge-tree.sh" "$src"
nfiles=$(find "$src" -type f | wc -l)
ndirs=$(find "$src" -mindepth 1 -type d | wc -l)
total_bytes=$(find "$src" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')
sparse_size=$(stat -c %s -- "$src/$sparse_name")
# Bytes that hold data: the sparse file has 1 MiB at each end.
dense_bytes=$((total_bytes - sparse_size + 2 * 1048576))
echo "edge tree: $nfiles files, $ndirs directories, $total_bytes bytes ($dense_bytes outside holes)"

# expect_counts TAG: a full copy of the edge tree into a new destination.
expect_counts() {
    local tag=$1 dirs
    expect_field "$tag" files_copied "$nfiles"
    expect_field "$tag" files_skipped 0
    expect_field "$tag" files_deleted 0
    expect_field "$tag" bytes_total "$total_bytes"
    expect_field "$tag" interrupted false
    dirs=$(field "$tag" dirs_created)
    # The destination root itself may or may not be counted.
    [ "$dirs" = "$ndirs" ] || [ "$dirs" = $((ndirs + 1)) ] ||
        fail "$tag: dirs_created is $dirs, expected $ndirs (or $((ndirs + 1)) with the root)"
}

# --- local -> share -------------------------------------------------------------

smbcopy_run upload "$src" "$url_main/up"
if expect_ok upload; then
    expect_counts upload
    expect_same upload "$src" "$share_main/up"
    expect_sparse upload "$share_main/up/$sparse_name"
fi
[ -d "$share_main/up" ] || die "upload: nothing arrived in $share_main/up; later steps need it"

# --- share -> local -------------------------------------------------------------

smbcopy_run download "$url_main/up" "$work/down"
if expect_ok download; then
    expect_counts download
    expect_same download "$src" "$work/down"
    expect_same download-vs-share "$share_main/up" "$work/down"
    expect_sparse download "$work/down/$sparse_name"
fi

# --- share -> share on the same server: server-side copy -----------------------------

smbcopy_run server-copy "$url_main/up" "$url_main/ssc"
if expect_ok server-copy; then
    expect_counts server-copy
    expect_same server-copy "$share_main/up" "$share_main/ssc"
    expect_sparse server-copy "$share_main/ssc/$sparse_name"
    ssc=$(field server-copy bytes_server_copied)
    copied=$(field server-copy bytes_transferred)
    echo "server-copy: bytes_server_copied=$ssc bytes_transferred=$copied bytes_total=$total_bytes"
    # Holes of the sparse file may or may not count as copied; the data must.
    ((ssc * 10 >= dense_bytes * 9)) ||
        fail "server-copy: bytes_server_copied is $ssc, expected at least 90% of the $dense_bytes data bytes"
    # bytes_transferred counts the bytes of the files copied; whatever of it
    # was not copied on the server either is a hole of the sparse file or
    # went through the client: at most 10% of the data may have.
    holes=$((sparse_size - 2 * 1048576))
    (((copied - ssc) * 10 <= holes * 10 + dense_bytes)) ||
        fail "server-copy: $((copied - ssc)) of the $copied bytes copied were not copied on the server (holes: $holes bytes): more than 10% of the data went through the client"
fi

# --- share -> share across servers: streamed ---------------------------------------

smbcopy_run cross-server "$url_main/up" "$url_other/xs"
if expect_ok cross-server; then
    expect_counts cross-server
    expect_same cross-server "$share_main/up" "$share_other/xs"
    expect_same cross-server-vs-src "$src" "$share_other/xs"
    expect_sparse cross-server "$share_other/xs/$sparse_name"
    expect_field cross-server bytes_server_copied 0
fi

# --- local -> local -------------------------------------------------------------------

smbcopy_run local "$src" "$work/local"
if expect_ok local; then
    expect_counts local
    expect_same local "$src" "$work/local"
    expect_sparse local "$work/local/$sparse_name"
    expect_field local bytes_server_copied 0
fi

# --- smbclient reads what smbcopy wrote --------------------------------------------------

smbclient_run() {
    timeout 300 smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" -p "$SMBCOPY_TEST_PORT" \
        -A "$auth" "$@"
}
# Every top-level entry but the sparse file (5 GiB through smbclient would be
# slow and dense).
tops=()
while IFS= read -r -d '' e; do
    [ "$e" = "$sparse_name" ] || tops+=("$e")
done < <(cd "$src" && find . -mindepth 1 -maxdepth 1 -printf '%P\0')
for e in "${tops[@]}"; do
    case $e in *[\ \"\;]*) die "top-level name unusable in an smbclient command: '$e'" ;; esac
done
mkdir "$work/mget"
if (cd "$work/mget" && smbclient_run -D "$name/up" -c "recurse; prompt off; mget ${tops[*]}") \
    >"$work/mget.log" 2>&1; then
    expect_same smbclient-mget "$src" "$work/mget" --no-mtime --ignore "$sparse_name"
else
    fail "smbclient could not download what smbcopy uploaded"
    tail -n 20 "$work/mget.log" >&2
fi

# --- smbcopy reads what smbclient wrote --------------------------------------------------

put=$work/put
mkdir -p "$put"
head -c 3000001 /dev/urandom >"$put/random.bin"
head -c 1048576 /dev/urandom >"$put/one-MiB.bin"
printf 'put by smbclient\n' >"$put/né ☕.txt"
: >"$put/empty"
if smbclient_run -c "mkdir $name/fromclient; cd $name/fromclient; lcd $put; put random.bin; put one-MiB.bin; put \"né ☕.txt\"; put empty" \
    >"$work/put.log" 2>&1; then
    smbcopy_run from-smbclient "$url_main/fromclient" "$work/fromclient"
    if expect_ok from-smbclient; then
        expect_field from-smbclient files_copied 4
        expect_same from-smbclient-content "$put" "$work/fromclient" --no-mtime
        # Times come from the server.
        expect_same from-smbclient-times "$share_main/fromclient" "$work/fromclient"
    fi
else
    fail "smbclient could not upload"
    tail -n 20 "$work/put.log" >&2
fi

# --- single files ------------------------------------------------------------------------------

# Into an existing directory: the file keeps its name.
mkdir -p "$share_main/single"
smbcopy_run file-up "$src/sizes/1048577.bin" "$url_main/single"
if expect_ok file-up; then
    expect_field file-up files_copied 1
    if cmp -s "$src/sizes/1048577.bin" "$share_main/single/1048577.bin"; then
        [ "$(stat -c %.7Y "$src/sizes/1048577.bin")" = "$(stat -c %.7Y "$share_main/single/1048577.bin")" ] ||
            fail "file-up: modification time not kept"
    else
        fail "file-up: $share_main/single/1048577.bin missing or different; single/ holds: $(ls -A "$share_main/single")"
    fi
fi
# To a new name: the file takes it.
mkdir -p "$work/single"
smbcopy_run file-down "$url_main/up/sizes/65537.bin" "$work/single/renamed.bin"
if expect_ok file-down; then
    expect_field file-down files_copied 1
    cmp -s "$src/sizes/65537.bin" "$work/single/renamed.bin" ||
        fail "file-down: $work/single/renamed.bin missing or different; single/ holds: $(ls -A "$work/single")"
fi

cli_test_end "cli_directions: all directions identical ($nfiles files, $ndirs directories)"

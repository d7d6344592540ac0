#!/usr/bin/env bash
# smbcopy against servers with small limits: every file arrives whole.
#   - maxio (smb2 max write/read/trans = 65536; smb2_02 when the fixture
#     has no maxio), smb2_02 (SMB 2.0.2: 64 KiB per request, no
#     multi-credit) and credits (smb2 max credits = 32: the server never
#     grants more than 32 credits in all, run with -j1 --connections 1 as
#     in the report);
#   - on each: an upload, a download and a restore (a tar extracted onto
#     the share) of files of 65,537 B, 1 MiB and 20 MiB, exit 0 and one
#     JSON object with 3 files copied; the bytes on the share are read back
#     with smbclient and compared with the originals, the downloaded ones
#     compared directly.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

need_tools smbclient tar cmp

cli_test_dirs cli_server_limits
export XDG_STATE_HOME=$work/state

mkdir -p "$work/src"
head -c 65537 /dev/urandom >"$work/src/f65537"
head -c $((1 << 20)) /dev/urandom >"$work/src/f1m"
head -c $((20 << 20)) /dev/urandom >"$work/src/f20m"
tar -C "$work/src" -cf "$work/src.tar" f65537 f1m f20m

instances=()
if [ -n "${SMBCOPY_TEST_PORT_MAXIO:-}" ]; then
    instances+=(MAXIO)
fi
instances+=(2_0_2)
if [ -n "${SMBCOPY_TEST_PORT_CREDITS:-}" ]; then
    instances+=(CREDITS)
elif [ "${CI:-}" = true ]; then
    die "the fixture has no 'credits' instance (smb2 max credits = 32)"
else
    echo "note: the fixture has no 'credits' instance; not tested"
fi

# json_copied TAG N: stdout is one JSON object counting N files copied, none failed.
json_copied() {
    local tag=$1 n=$2 got
    if [ "$(jq -s 'length' "$work/out/$tag.out" 2>/dev/null)" != 1 ]; then
        fail "$tag: stdout is not one JSON object: $(head -c 300 "$work/out/$tag.out")"
        return
    fi
    got=$(jq -r '"\(.files_copied) \(.files_failed)"' "$work/out/$tag.out" 2>/dev/null || echo "? ?")
    [ "$got" = "$n 0" ] || fail "$tag: files copied/failed $got, expected $n 0"
}

# check_share INST PORT DIR TAG: smbclient reads DIR's files back; each equals the original.
check_share() {
    local inst=$1 port=$2 dir=$3 tag=$4 f
    mkdir -p "$work/back/$tag"
    if ! smbclient "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" -p "$port" -A "$auth" \
        -c "lcd $work/back/$tag; cd $dir; prompt off; mget f*" >"$work/out/$tag.smbclient" 2>&1; then
        fail "$tag: smbclient could not read $dir back: $(tail -n 3 "$work/out/$tag.smbclient")"
        return
    fi
    for f in f65537 f1m f20m; do
        cmp -s "$work/src/$f" "$work/back/$tag/$f" || fail "$tag ($inst): $dir/$f differs from the original"
    done
}

for inst in "${instances[@]}"; do
    port_var=SMBCOPY_TEST_PORT_$inst
    dir_var=SMBCOPY_TEST_SHARE_DIR_$inst
    port=${!port_var}
    sdir=${!dir_var}/$name
    base=smb://$SMBCOPY_TEST_HOST:$port/$SMBCOPY_TEST_SHARE/$name
    cleanup_dirs+=("$sdir")
    opts=(--json)
    [ "$inst" = CREDITS ] && opts+=(-j1 --connections 1)

    cli_run "up-$inst" "${opts[@]}" "$work/src" "$base/up"
    [ "$rc" -eq 0 ] || fail "up-$inst: exit $rc: $(head -c 400 "$work/out/up-$inst.err")"
    json_copied "up-$inst" 3
    check_share "$inst" "$port" "$name/up" "up-$inst"

    cli_run "down-$inst" "${opts[@]}" "$base/up" "$work/down-$inst"
    [ "$rc" -eq 0 ] || fail "down-$inst: exit $rc: $(head -c 400 "$work/out/down-$inst.err")"
    json_copied "down-$inst" 3
    for f in f65537 f1m f20m; do
        cmp -s "$work/src/$f" "$work/down-$inst/$f" || fail "down-$inst: $f differs from the original"
    done

    cli_run "restore-$inst" "${opts[@]}" "$work/src.tar" "$base/restored"
    [ "$rc" -eq 0 ] || fail "restore-$inst: exit $rc: $(head -c 400 "$work/out/restore-$inst.err")"
    check_share "$inst" "$port" "$name/restored" "restore-$inst"
done

cli_test_end "cli_server_limits: uploads, downloads and restores of 64 KiB + 1 B, 1 MiB and 20 MiB files whole on ${instances[*]}"

#!/usr/bin/env bash
# A shard killed in the middle of its range of a split file goes on from its
# journal when it runs again (local -> share, and share -> local; 2 shards,
# one file of SMBCOPY_TEST_MIB MiB, default 512, split between them):
#   - shard 0 is killed with SIGKILL once half its range is written (its
#     journal then holds commits of part of it);
#   - its rerun says it resumed (files_resumed 1, bytes_resumed a positive
#     multiple of nothing it had not committed) and writes only the rest:
#     bytes_written + bytes_resumed = its range's bytes;
#   - after shard 1 and the finish, the file is identical to the source,
#     with its modification time (on the share, smbclient reads the same
#     bytes);
#   - when the temporary file is gone after the kill (removed by hand), the
#     journal's commits are not trusted: the rerun writes its whole range
#     again into a new one;
#   - a finish that finds the temporary file gone fails the file (exit 1)
#     and completes nothing; the shards run again, the finish completes it.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

cli_test_dirs cli_shards_resume
need_tools smbclient cmp

mib=${SMBCOPY_TEST_MIB:-512}
src=$work/src
mkdir -p "$src"
head -c $((mib * 1024 * 1024)) /dev/urandom >"$src/big.bin"

# scenario TAG REMOVE FROM TO DIR: plan the copy of big.bin in FROM (a
# directory, local or on the share) to TO (DIR where it is on disk), shard 0
# killed half-way through its range, (REMOVE: the temporary file removed),
# rerun, shard 1, finish, compare.
scenario() {
    local tag=$1 remove=$2 from=$3 to=$4 dir=$5 plan=$work/$1/plan.json state=$work/$1/state
    mkdir -p "$work/$tag"
    cli_run "$tag.plan" --json --plan-out "$plan" --shards 2 "$from" "$to"
    expect_exit "$tag.plan" 0
    local own
    own=$(jq '[.split_files[0].ranges[] | select(.[2] == 0) | .[1]] | add' "$plan")
    [ "$(jq '.split_files | length' "$plan")" -eq 1 ] && [ "${own:-0}" -gt 0 ] ||
        die "$tag: the file is not split between the 2 shards: $(jq -c .split_files "$plan")"

    # Shard 0, killed once half its range is in the temporary file (made
    # sparse at its full size, so what is allocated is what was written):
    # the writes done by then less one window in flight (at most 32 MiB)
    # hold commits of 16 MiB.
    XDG_STATE_HOME=$state/0 "$cli" -A "$auth" --no-progress --json --threads 1 --plan "$plan" --shard 0 \
        </dev/null >"$work/out/$tag.s0.out" 2>"$work/out/$tag.s0.err" &
    bg_pid=$!
    while kill -0 "$bg_pid" 2>/dev/null; do
        if [ -d "$dir" ] && [ "$(allocated_bytes "$dir" -name '.smbcopy-*')" -ge $((own / 2)) ]; then
            kill -KILL "$bg_pid"
            break
        fi
        sleep 0.002
    done
    set +e
    wait "$bg_pid" 2>/dev/null
    rc=$?
    set -e
    bg_pid=
    [ "$rc" -eq 137 ] || die "$tag: shard 0 ended (exit $rc) before half its range was written: $(head -c 300 "$work/out/$tag.s0.err")"
    [ ! -e "$dir/big.bin" ] || fail "$tag: the split file is under its final name after the kill"
    local temp
    temp=$(find "$dir" -name '.smbcopy-*' -type f | head -n 1)
    [ -n "$temp" ] || die "$tag: no temporary file after the kill"
    [ "$remove" = no ] || rm -f -- "$temp"

    cli_run "$tag.s0again" --json --plan "$plan" --shard 0 --threads 1
    expect_exit "$tag.s0again" 0
    local resumed written
    resumed=$(field "$tag.s0again" bytes_resumed)
    written=$(field "$tag.s0again" bytes_written)
    if [ "$remove" = yes ]; then
        [ "$resumed" -eq 0 ] || fail "$tag: resumed $resumed bytes into a temporary file that was removed"
        [ "$written" -eq "$own" ] || fail "$tag: rerun wrote $written bytes, expected its whole range, $own"
    else
        expect_field "$tag.s0again" files_resumed 1
        [ "$resumed" -gt 0 ] || fail "$tag: the rerun resumed nothing"
        [ $((written + resumed)) -eq "$own" ] ||
            fail "$tag: rerun wrote $written and resumed $resumed bytes: not its range's $own"
    fi
    echo "$tag: shard 0's range $own bytes, resumed $resumed, written again $written"

    XDG_STATE_HOME=$state/1 cli_run "$tag.s1" --json --plan "$plan" --shard 1
    expect_exit "$tag.s1" 0
    XDG_STATE_HOME=$state/finish cli_run "$tag.finish" --json --plan "$plan" --finish
    expect_exit "$tag.finish" 0
    cmp -s "$src/big.bin" "$dir/big.bin" || fail "$tag: the finished file differs from the source"
    [ "$(stat -c %Y "$src/big.bin")" = "$(stat -c %Y "$dir/big.bin")" ] || fail "$tag: the finished file has another mtime"
    if [ "$dir" = "$share/$tag" ]; then
        smbclient -A "$auth" -p "$SMBCOPY_TEST_PORT" "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" \
            -c "get $name/$tag/big.bin $work/$tag/back.bin" >"$work/out/$tag.smbclient" 2>&1 ||
            fail "$tag: smbclient could not read the file: $(tail -n 1 "$work/out/$tag.smbclient")"
        cmp -s "$src/big.bin" "$work/$tag/back.bin" || fail "$tag: smbclient reads other bytes than the source's"
        rm -f "$work/$tag/back.bin"
    fi
    no_temps "$tag" "$dir"
}

# Both scenarios run shard 0 with its journal in $state/0 (cli_run keeps
# the environment's XDG_STATE_HOME, so it is set for the rerun as for the
# killed run).
export XDG_STATE_HOME
XDG_STATE_HOME=$work/resume/state/0
scenario resume no "$src" "$url/resume" "$share/resume"
XDG_STATE_HOME=$work/removed/state/0
scenario removed yes "$src" "$url/removed" "$share/removed"
# The other way: from the share to a local directory.
mkdir -p "$share/dlsrc"
cp -p "$src/big.bin" "$share/dlsrc/big.bin"
XDG_STATE_HOME=$work/download/state/0
scenario download no "$url/dlsrc" "$work/download/dst" "$work/download/dst"

# The finish without the shards' temporary file (removed after both shards
# succeeded): the file is not completed (exit 1, saying so), nothing under
# its final name; the shards run again rewrite their ranges, and the finish
# then completes it.
lost=$work/lost
mkdir -p "$lost"
cli_run lost.plan --json --plan-out "$lost/plan.json" --shards 2 "$src" "$url/lost"
expect_exit lost.plan 0
for k in 0 1; do
    XDG_STATE_HOME=$lost/state/$k cli_run "lost.s$k" --json --plan "$lost/plan.json" --shard $k
    expect_exit "lost.s$k" 0
done
find "$share/lost" -name '.smbcopy-*' -type f -delete
XDG_STATE_HOME=$lost/state/finish cli_run lost.finish --json --plan "$lost/plan.json" --finish
expect_exit lost.finish 1
grep -q 'temporary file is missing' "$work/out/lost.finish.out" ||
    fail "lost.finish: no failure says the temporary file is missing: $(head -c 300 "$work/out/lost.finish.out")"
[ ! -e "$share/lost/big.bin" ] || fail "lost.finish: big.bin is under its final name"
for k in 0 1; do
    XDG_STATE_HOME=$lost/state/$k cli_run "lost.again$k" --json --plan "$lost/plan.json" --shard $k
    expect_exit "lost.again$k" 0
done
XDG_STATE_HOME=$lost/state/finish cli_run lost.finish2 --json --plan "$lost/plan.json" --finish
expect_exit lost.finish2 0
cmp -s "$src/big.bin" "$share/lost/big.bin" || fail "lost.finish2: the completed file differs from the source"
no_temps lost "$share/lost"

cli_test_end "cli_shards_resume: passed (a killed shard resumed its range, upload and download; without its temporary file, rewrote it)"

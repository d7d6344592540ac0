#!/usr/bin/env bash
# One job split into 4 shards run as parallel processes against one Samba,
# with the command lines of the scheduler examples (examples/kubernetes,
# examples/slurm), local -> share, --mirror:
#   - the plan: the tree (20,000 small files and three files of 1 GiB, each
#     bigger than a shard's share, so split into ranges) in 4 shards, with the
#     plan Job's command; the plan file stays small;
#   - the shards: the shards Job's command, 4 processes at once, each with its
#     own state directory; two of them (chosen at random) are killed with
#     SIGKILL once, each at a random moment (after a random fraction of its
#     files), and run again with the Slurm array script (shards.sbatch), which
#     resumes them;
#   - before the finish, no split file is under its final name;
#   - the finish (the finishing Job's command): exit 0, the merged report's
#     totals equal the tree's (files, bytes), 4 shard rows, the extraneous
#     entries deleted, exactly once, by the finish alone;
#   - files made after planning (at the top, deep, in a new directory) are
#     copied by one shard each;
#   - the destination is identical to the source (content and times), nothing
#     temporary left; smbclient reads a split file back identically;
#   - each file was written by exactly one shard (the shards' logs: every
#     "copied" file and every "range" of a split file under one shard's
#     index only, and every file of the tree copied);
#   - a second finish (finish.sbatch) deletes and copies nothing; a new
#     plan finished over the old plan's reports is refused (exit 1),
#     deleting nothing;
#   - balance: plans of a skewed tree (one directory with 80% of the bytes)
#     in 3, 4 and 8 shards: the largest at most 1.3 x the mean of bytes.
# SMBCOPY_TEST_MIB scales the large files (default 1024) and, when set, the
# small ones (2,000) for the sanitizer builds.
# It prints the shards' times and the plan's size.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"

cli_test_dirs cli_shards
need_tools python3 smbclient cmp

readonly SHARDS=4
mib=${SMBCOPY_TEST_MIB:-1024}
small=20000
[ -z "${SMBCOPY_TEST_MIB:-}" ] || small=2000
examples=$SMBCOPY_SOURCE_DIR/examples

src=$work/src
dst=$share/dst
plan=$work/plan.json
summaries=$work/summaries
mkdir -p "$src" "$dst" "$work/state" "$work/log"

# The source: $small files of 0-12 KiB in 100 directories two levels deep,
# and three large files (one at the top, two deeper).
python3 "$(dirname "$0")/lib/small_files.py" "$src" "$small"
mkdir -p "$src/media/video" "$src/vm"
for f in big1.bin media/video/big2.bin vm/big3.bin; do
    head -c $((mib * 1024 * 1024)) /dev/urandom >"$src/$f"
done
nfiles=$(find "$src" -type f | wc -l)
total=$(find "$src" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}')
[ "$nfiles" -eq $((small + 3)) ] || die "source has $nfiles files, expected $((small + 3))"

# The destination already holds entries the source lacks (5 files, 2
# directories, one inside a directory the source has) and a stale copy.
mkdir -p "$dst/old/deeper" "$dst/g01/d001"
echo stale >"$dst/stale.txt"
echo a >"$dst/old/a.txt"
echo b >"$dst/old/deeper/b.txt"
echo c >"$dst/old/deeper/c.txt"
echo extra >"$dst/g01/d001/extra.dat"
echo 'not the source' >"$dst/big1.bin"
readonly EXTRA_FILES=5 EXTRA_DIRS=2

# example_argv FILE.yaml: the Job's command line, one word a line, its
# placeholders mapped onto this test's paths and servers.
example_argv() {
    python3 "$SMBCOPY_SOURCE_DIR/scripts/check-examples.py" commands "$1" |
        jq -r --arg cli "$cli" --arg auth "$auth" --arg plan "$plan" --arg sum "$summaries" \
            --arg src "$src" --arg dst "$url/dst" '
            .[] | if . == "smbcopy" then $cli elif . == "/secrets/smb/auth" then $auth
                  elif . == "/work/plan.json" then $plan elif . == "/work/summaries" then $sum
                  elif . == "//fileserver/projects" then $src elif . == "//newserver/projects" then $dst
                  else . end'
}
mapfile -t plan_cmd < <(example_argv "$examples/kubernetes/plan-job.yaml")
mapfile -t shard_cmd < <(example_argv "$examples/kubernetes/shards-job.yaml")
mapfile -t finish_cmd < <(example_argv "$examples/kubernetes/finish-job.yaml")
for w in "${plan_cmd[@]}" "${shard_cmd[@]}" "${finish_cmd[@]}"; do
    case $w in /secrets/* | /work/plan* | /work/summ* | /work/state* | //*) die "an example's word is not mapped onto the test: $w" ;; esac
done
[ "${plan_cmd[0]}" = "$cli" ] && [ "${shard_cmd[0]}" = "$cli" ] && [ "${finish_cmd[0]}" = "$cli" ] ||
    die "an example does not run smbcopy"
printf '%s\n' "${plan_cmd[@]}" | grep -qx -- --mirror || die "the plan example does not ask for --mirror"

# ---------------------------------------------------------------- the plan
set +e
timeout 300 "${plan_cmd[@]}" --json --log "$work/log/plan.log" </dev/null >"$work/out/plan.out" 2>"$work/out/plan.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || { show plan; die "plan: exit $rc"; }
[ "$(jq -r .shards "$work/out/plan.out")" = $SHARDS ] || fail "plan: not $SHARDS shards"
[ "$(jq -r .files_total "$work/out/plan.out")" = "$nfiles" ] || fail "plan: files_total is not $nfiles"
[ "$(jq -r .bytes_total "$work/out/plan.out")" = "$total" ] || fail "plan: bytes_total is not $total"
split_files=$(jq -r .split_files "$work/out/plan.out")
[ "$split_files" -eq 3 ] || fail "plan: $split_files split files, expected the 3 large ones"
plan_bytes=$(stat -c %s "$plan")
# Subtrees, not files: far below one line per file.
((plan_bytes < nfiles * 8)) || fail "plan: $plan_bytes bytes for $nfiles files: it lists files"
jq -e '.format == "smbcopy-plan" and .version == 1' "$plan" >/dev/null || fail "plan: not a version 1 plan file"
[ ! -s "$work/log/plan.log" ] || ! grep -qE $'\t(copied|range|deleted|mkdir)\t' "$work/log/plan.log" ||
    fail "plan: the planning run acted on the destination"
[ -f "$dst/stale.txt" ] && [ "$(cat "$dst/big1.bin")" = 'not the source' ] || fail "plan: the destination was changed"

# Entries the plan did not foresee, made after planning: each goes to the
# shard that owns its name (at the top, in a split directory, and in a new
# directory); the checks below count them with the tree.
echo unforeseen >"$src/0-new-at-top.txt"
echo unforeseen >"$src/g05/d005/new-inside.txt"
mkdir -p "$src/zz-new-dir"
echo unforeseen >"$src/zz-new-dir/new.txt"
nfiles=$((nfiles + 3))
total=$((total + 33))

# ---------------------------------------------------------------- the shards
# start_shard K TAG: shard K with the shards Job's command and the Job's
# environment (JOB_COMPLETION_INDEX, XDG_STATE_HOME=state/K), in the
# background; pid in pids[K].
declare -a pids
start_shard() {
    local k=$1 tag=$2
    JOB_COMPLETION_INDEX=$k XDG_STATE_HOME=$work/state/$k \
        "${shard_cmd[@]}" --json --log "$work/log/$tag.log" </dev/null >"$work/out/$tag.out" 2>"$work/out/$tag.err" &
    pids[k]=$!
}
# log_count TAG: the files and ranges TAG's log says it wrote.
log_count() {
    local n
    n=$(grep -cE $'\t(copied|range)\t' "$work/log/$1.log" 2>/dev/null) || true
    echo "${n:-0}"
}

# Two shards to kill, each after a random fraction (5-70%) of its files.
victims=$(shuf -i 0-$((SHARDS - 1)) -n 2 --random-source=<(yes "${SMBCOPY_TEST_SEED:-$RANDOM}") | sort -n | tr '\n' ' ')
declare -a kill_at
for k in $victims; do
    load=$(jq -r ".loads[$k].files" "$work/out/plan.out")
    kill_at[k]=$((load * (5 + RANDOM % 66) / 100 + 1))
done
echo "shards killed: $victims, after ${kill_at[*]} files"

t0=$(date +%s.%N)
for ((k = 0; k < SHARDS; k++)); do start_shard $k "shard$k"; done
declare -a rcs
for ((k = 0; k < SHARDS; k++)); do rcs[k]=running; done
killed=""
while :; do
    live=0
    for ((k = 0; k < SHARDS; k++)); do
        [ "${rcs[k]}" = running ] || continue
        if ! kill -0 "${pids[k]}" 2>/dev/null; then
            set +e
            wait "${pids[k]}"
            rcs[k]=$?
            set -e
            continue
        fi
        live=$((live + 1))
        if [ -n "${kill_at[k]:-}" ] && [ "$(log_count "shard$k")" -ge "${kill_at[k]}" ]; then
            kill -KILL "${pids[k]}" 2>/dev/null || true
            set +e
            wait "${pids[k]}" 2>/dev/null
            rcs[k]=$?
            set -e
            killed="$killed $k"
            unset 'kill_at[k]'
        fi
    done
    ((live)) || break
    sleep 0.01
done
t1=$(date +%s.%N)
for k in $victims; do
    case " $killed " in *" $k "*) ;; *) fail "shard $k ended (exit ${rcs[k]}) before its kill after ${kill_at[k]} files" ;; esac
    [ "${rcs[k]}" -eq 137 ] || fail "shard $k: exit ${rcs[k]} after SIGKILL"
done
for ((k = 0; k < SHARDS; k++)); do
    case " $victims " in *" $k "*) continue ;; esac
    [ "${rcs[k]}" -eq 0 ] || { show "shard$k"; fail "shard $k: exit ${rcs[k]}"; }
    jq -e '.files_failed == 0' "$work/out/shard$k.out" >/dev/null || fail "shard $k: files failed"
done

# The killed shards again, as the Slurm array's tasks: shards.sbatch run by
# bash with smbcopy on PATH (a wrapper adding this test's log and --json).
mkdir -p "$work/bin" "$work/slurm"
cat >"$work/bin/smbcopy" <<EOF
#!/bin/sh
exec "$cli" --json --log "\$SHARD_LOG" "\$@"
EOF
chmod +x "$work/bin/smbcopy"
for k in $killed; do
    set +e
    (cd "$work/slurm" && PATH=$work/bin:$PATH SHARD_LOG=$work/log/rerun$k.log SLURM_ARRAY_TASK_ID=$k \
        PLAN=$plan SUMMARIES=$summaries SMBCOPY_AUTH=$auth SMBCOPY_STATE=$work/state \
        timeout 600 bash "$examples/slurm/shards.sbatch" </dev/null >"$work/out/rerun$k.out" 2>"$work/out/rerun$k.err")
    rc=$?
    set -e
    # The script's first line is its own banner; the rest is smbcopy's JSON.
    sed -i '/^smbcopy-shards: /d' "$work/out/rerun$k.out"
    [ "$rc" -eq 0 ] || { show "rerun$k"; fail "shard $k rerun: exit $rc"; }
    load=$(jq -r ".loads[$k].files" "$work/out/plan.out")
    again=$(log_count "rerun$k")
    # Resumed: what the killed run finished is not written again (what it
    # had not committed of a range is).
    ((again < load)) || fail "shard $k rerun: wrote $again of its $load files and ranges again: it did not resume"
done
t2=$(date +%s.%N)

# Nothing split is under its final name before the finish.
for f in big1.bin media/video/big2.bin vm/big3.bin; do
    if [ "$f" = big1.bin ]; then
        [ "$(cat "$dst/big1.bin")" = 'not the source' ] || fail "before the finish: big1.bin was replaced by a shard"
    else
        [ ! -e "$dst/$f" ] || fail "before the finish: $f is under its final name"
    fi
done
for ((k = 0; k < SHARDS; k++)); do
    [ -s "$summaries/shard-$k.json" ] || fail "shard $k wrote no report in $summaries"
done

# ---------------------------------------------------------------- the finish
set +e
XDG_STATE_HOME=$work/state/finish timeout 600 "${finish_cmd[@]}" --log "$work/log/finish.log" </dev/null \
    >"$work/out/finish.out" 2>"$work/out/finish.err"
rc=$?
set -e
t3=$(date +%s.%N)
[ "$rc" -eq 0 ] || { show finish; die "finish: exit $rc"; }
expect_field finish bytes_total "$total"
expect_field finish files_failed 0
expect_field finish files_deleted $EXTRA_FILES
expect_field finish dirs_deleted $EXTRA_DIRS
# A killed shard's rerun completes each of its ranges (going on from its
# journal), so each range of the plan counts once in the last reports.
expect_field finish ranges_copied "$(jq '[.split_files[].ranges | length] | add' "$plan")"
expect_field finish 'shards | length' $SHARDS
copied=$(field finish files_copied)
skipped=$(field finish files_skipped)
[ $((copied + skipped)) -eq "$nfiles" ] || fail "finish: $copied copied + $skipped skipped is not the tree's $nfiles files"
jq -e '[.shards[] | .exit_code] | all(. == 0)' "$work/out/finish.out" >/dev/null || fail "finish: a shard row with a non-zero exit"

same_trees tree "$src" "$dst"
no_temps tree "$dst"
smbclient -A "$auth" -p "$SMBCOPY_TEST_PORT" "//$SMBCOPY_TEST_HOST/$SMBCOPY_TEST_SHARE" \
    -c "get $name/dst/media/video/big2.bin $work/big2.smbclient" >"$work/out/smbclient.out" 2>&1 ||
    fail "smbclient could not read the split file back: $(tail -n 2 "$work/out/smbclient.out")"
cmp -s "$work/big2.smbclient" "$src/media/video/big2.bin" || fail "smbclient reads a split file back with other bytes"
rm -f "$work/big2.smbclient"

# ---------------------------------------------------------------- who wrote what
# Every log line that wrote a file or a range, with the shard index (the
# reruns' logs count as their shard's); and the files a rerun found already
# in place ("skipped"): the killed run wrote them, and was killed before it
# logged them.
for log in "$work"/log/shard*.log "$work"/log/rerun*.log; do
    k=${log##*/}
    k=${k%.log}
    k=${k#shard}
    k=${k#rerun}
    awk -F'\t' -v k="$k" '$2 == "copied" || $2 == "range" || $2 == "skipped" {print k "\t" $2 "\t" $3 "\t" $4}' "$log"
done >"$work/out/written"
grep -q $'\tskipped\t' "$work"/log/shard*.log && fail "a shard's first run skipped a file: the destination was fresh"
# A file, or one range of a split file, under two shards' indices.
awk -F'\t' '{w = $2 == "range" ? $3 " " $4 : $3}
    !((w, $1) in seen) {seen[w, $1] = 1; shards[w]++}
    END {for (w in shards) if (shards[w] > 1) print w}' "$work/out/written" |
    head -n 5 >"$work/out/twice"
[ ! -s "$work/out/twice" ] || fail "written by more than one shard: $(tr '\n' ' ' <"$work/out/twice")"
# Every file of the tree written by a shard (whole, or its ranges).
(cd "$src" && find . -type f -printf '%P\n') | LC_ALL=C sort >"$work/out/tree.files"
cut -f3 "$work/out/written" | LC_ALL=C sort -u >"$work/out/written.files"
missing=$(LC_ALL=C comm -23 "$work/out/tree.files" "$work/out/written.files" | head -n 5)
[ -z "$missing" ] || fail "files no shard's log says it wrote: $missing"
extra=$(LC_ALL=C comm -13 "$work/out/tree.files" "$work/out/written.files" | head -n 5)
[ -z "$extra" ] || fail "logged as written but not in the tree: $extra"
# The split files are written by ranges only, by 2 or more shards in all.
for f in big1.bin media/video/big2.bin vm/big3.bin; do
    awk -F'\t' -v f="$f" '$3 == f && $2 == "copied"' "$work/out/written" | grep -q . &&
        fail "$f: a shard copied the split file whole"
    [ "$(awk -F'\t' -v f="$f" '$3 == f && $2 == "range" {print $1}' "$work/out/written" | sort -u | wc -l)" -ge 2 ] ||
        fail "$f: not written by 2 shards or more"
done
# Each range of the plan written by the shard the plan gave it to.
jq -r '.split_files[] | .path as $p | .size as $s | .ranges[] |
       "\(.[2])\t\($p)\tbytes \(.[0])-\(.[0] + .[1]) of \($s)"' "$plan" | LC_ALL=C sort >"$work/out/ranges.planned"
awk -F'\t' '$2 == "range" {print $1 "\t" $3 "\t" $4}' "$work/out/written" | LC_ALL=C sort -u >"$work/out/ranges.logged"
[ "$(LC_ALL=C comm -3 "$work/out/ranges.planned" "$work/out/ranges.logged" | wc -l)" -eq 0 ] ||
    fail "the ranges logged are not the plan's: $(LC_ALL=C comm -3 "$work/out/ranges.planned" "$work/out/ranges.logged" | head -n 4 | tr '\n\t' '  ')"
# The deletions: in the finish's log only, each extraneous entry once.
deleted_by_shards=$(cat "$work"/log/shard*.log "$work"/log/rerun*.log | grep -c $'\tdeleted\t' || true)
[ "$deleted_by_shards" -eq 0 ] || fail "the shards deleted $deleted_by_shards entries; only the finish may"
grep $'\tdeleted\t' "$work/log/finish.log" | cut -f3 | LC_ALL=C sort >"$work/out/deleted"
want=$'big1.bin\nold/\nold/a.txt\nold/deeper/\nold/deeper/b.txt\nold/deeper/c.txt\nstale.txt\ng01/d001/extra.dat'
# big1.bin was overwritten, not deleted: drop it from the expectation.
want=$(printf '%s\n' "$want" | grep -vx big1.bin | LC_ALL=C sort)
[ "$(cat "$work/out/deleted")" = "$want" ] ||
    fail "finish deleted: $(tr '\n' ' ' <"$work/out/deleted"), expected: $(printf '%s' "$want" | tr '\n' ' ')"

# ---------------------------------------------------------------- a second finish
set +e
(cd "$work/slurm" && PATH=$work/bin:$PATH SHARD_LOG=$work/log/finish2.log \
    PLAN=$plan SUMMARIES=$summaries SMBCOPY_AUTH=$auth SMBCOPY_STATE=$work/state \
    timeout 600 bash "$examples/slurm/finish.sbatch" </dev/null >"$work/out/finish2.out" 2>"$work/out/finish2.err")
rc=$?
set -e
[ "$rc" -eq 0 ] || { show finish2; fail "second finish: exit $rc"; }
expect_field finish2 files_deleted 0
expect_field finish2 dirs_deleted 0
! grep -qE $'\t(deleted|copied|range)\t' "$work/log/finish2.log" || fail "second finish wrote or deleted something"
same_trees tree2 "$src" "$dst"

# ---------------------------------------------------------------- a new plan, old reports
# A new plan of the same job into the same summary directory, finished
# before any of its shards ran: the reports there are the old plan's, so
# the finish refuses them (exit 1), completes nothing and deletes nothing.
echo 'made after the first job' >"$dst/extraneous-later.txt"
set +e
timeout 300 "${plan_cmd[@]/$plan/$work/plan2.json}" --json </dev/null >"$work/out/plan2.out" 2>"$work/out/plan2.err"
rc=$?
set -e
[ "$rc" -eq 0 ] || { show plan2; die "plan2: exit $rc"; }
set +e
XDG_STATE_HOME=$work/state/finish3 timeout 300 "${finish_cmd[@]/$plan/$work/plan2.json}" --log "$work/log/finish3.log" \
    </dev/null >"$work/out/finish3.out" 2>"$work/out/finish3.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "finish of a new plan over the old plan's reports: exit $rc, expected 1"
grep -q 'another plan' "$work/out/finish3.out" "$work/out/finish3.err" ||
    fail "finish3: nothing says the reports are another plan's: $(head -c 300 "$work/out/finish3.err")"
[ -f "$dst/extraneous-later.txt" ] || fail "finish3: deleted an extraneous file although no shard of its plan ran"
! grep -qE $'\t(deleted|copied)\t' "$work/log/finish3.log" || fail "finish3: copied or deleted something"
rm -f "$dst/extraneous-later.txt"

# ---------------------------------------------------------------- balance
# A skewed tree (sparse files: the plan reads no data): one directory holds
# 80% of the bytes (400 files of 20 MiB), 40 others the rest (50 files of
# 1 MiB each). For 3, 4 and 8 shards the largest holds at most 1.3 x the
# mean of bytes.
skew=$work/skew
mkdir -p "$skew/hot"
for i in $(seq -w 1 400); do truncate -s 20M "$skew/hot/h$i.bin"; done
for d in $(seq -w 1 40); do
    mkdir -p "$skew/cold$d"
    for i in $(seq -w 1 50); do truncate -s 1M "$skew/cold$d/c$i.bin"; done
done
for n in 3 4 8; do
    cli_run "skew$n" --json --plan-out "$work/skew$n.json" --shards "$n" "$skew" "$url/skew"
    expect_exit "skew$n" 0
    ratio=$(jq -r '[.loads[].bytes] as $b | ($b | max) / (($b | add) / ($b | length))' "$work/out/skew$n.out")
    echo "skewed tree, $n shards: largest $ratio x the mean of bytes"
    awk -v r="$ratio" 'BEGIN {exit !(r > 0 && r <= 1.3)}' || fail "skewed tree, $n shards: largest $ratio x the mean of bytes"
done
[ ! -e "$share/skew" ] || fail "planning made the destination"

awk -v n="$nfiles" -v b="$total" -v p="$plan_bytes" -v s="$t0" -v r="$t1" -v q="$t2" -v f="$t3" 'BEGIN {
    printf "cli_shards: %d files, %.0f MiB: plan %d bytes; 4 shards (2 killed) %.1f s, reruns %.1f s, finish %.1f s\n",
           n, b / 1048576, p, r - s, q - r, f - q }'
cli_test_end "cli_shards: passed (plan, $SHARDS shards, shards $victims killed and resumed, finish)"

#!/usr/bin/env bash
# Plans a sharded smbcopy job (4 shards) and submits it to Slurm: the shards
# as a job array (shards.sbatch), then the finish (finish.sbatch), which runs
# once every shard has ended, whatever they did.
#
#   submit.sh [JOB OPTIONS] SRC... DEST
#   e.g. submit.sh --mirror --exclude '*.tmp' //fileserver/projects //newserver/projects
#
# JOB OPTIONS, SRC and DEST are smbcopy's (--mirror, --exclude PATTERN,
# --threads T...): they go into the plan. Run it from the directory where the
# logs should go (it creates logs/ there), on a host that reaches the servers.
# Environment, exported to the jobs (all on storage every node sees):
#   PLAN          the plan file            (default $HOME/smbcopy/plan.json)
#   SUMMARIES     the summary directory    (default $HOME/smbcopy/summaries)
#   SMBCOPY_AUTH  the credentials file, mode 0600  (default $HOME/.smbcopy-auth)
#   SMBCOPY_STATE the per-index state directories  (default $HOME/smbcopy/state)
# Prints the two job ids. See README.md.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: ${0##*/} [JOB OPTIONS] SRC... DEST" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)

export PLAN=${PLAN:-$HOME/smbcopy/plan.json}
export SUMMARIES=${SUMMARIES:-$HOME/smbcopy/summaries}
export SMBCOPY_AUTH=${SMBCOPY_AUTH:-$HOME/.smbcopy-auth}
export SMBCOPY_STATE=${SMBCOPY_STATE:-$HOME/smbcopy/state}
mkdir -p "$(dirname "$PLAN")" "$SUMMARIES" "$SMBCOPY_STATE" logs

# 4 shards: --array=0-3 in shards.sbatch must match.
smbcopy -A "$SMBCOPY_AUTH" --plan-out "$PLAN" --shards 4 --summary-dir "$SUMMARIES" "$@"

jobid=$(sbatch --parsable "$here/shards.sbatch")
jobid=${jobid%%;*}    # --parsable prints "id" or "id;cluster"
# afterany: the finish runs whatever the shards did; it reports, and skips the
# --mirror deletions if any shard failed.
finish=$(sbatch --parsable --dependency=afterany:"$jobid" "$here/finish.sbatch")
finish=${finish%%;*}
echo "shards: job $jobid (array 0-3, logs/shard-K.out); finish: job $finish (logs/finish-$finish.out)"

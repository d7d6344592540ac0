#!/usr/bin/env bash
# The examples for running a sharded job under a scheduler are checked
# without one: the Kubernetes manifests against the Job schema and the API
# server's rules (scripts/check-examples.py, which first proves on known-bad
# documents that it refuses them), the Slurm scripts with `bash -n`. That the
# commands in them do the job is tests/integration/cli_shards.sh's part: it
# runs exactly those command lines.
#
#   tests/examples_check.sh [SOURCE_DIR]   (ctest: examples.check)
set -euo pipefail

src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src"
shopt -s nullglob
manifests=(examples/kubernetes/*.yaml)
scripts=(examples/slurm/*.sbatch examples/slurm/*.sh)
((${#manifests[@]} >= 3)) || { echo "examples_check: expected the Kubernetes manifests under examples/kubernetes/" >&2; exit 1; }
((${#scripts[@]} >= 2)) || { echo "examples_check: expected the Slurm scripts under examples/slurm/" >&2; exit 1; }

python3 scripts/check-examples.py self-test >/dev/null
python3 scripts/check-examples.py validate "${manifests[@]}"
for f in "${scripts[@]}"; do
    bash -n "$f"
done
# Each step's Job runs smbcopy with the options a step needs.
need() {
    local file=$1 want=$2
    python3 scripts/check-examples.py commands "$file" | grep -q -- "$want" ||
        { echo "examples_check: $file: its command lacks $want" >&2; exit 1; }
}
need examples/kubernetes/plan-job.yaml '"--plan-out"'
need examples/kubernetes/shards-job.yaml '"--plan"'
need examples/kubernetes/finish-job.yaml '"--finish"'
grep -q -- '--plan ' examples/slurm/shards.sbatch
grep -q -- '--finish' examples/slurm/finish.sbatch
grep -q -- '--dependency=afterany' examples/slurm/submit.sh
echo "examples_check: ${#manifests[@]} manifests and ${#scripts[@]} scripts checked"

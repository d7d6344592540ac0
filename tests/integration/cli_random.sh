#!/usr/bin/env bash
# smbcopy on random trees through random commands (issue 16's randomized
# test): SMBCOPY_RANDOM_RUNS runs (default 200), each from its own seed,
# with 1 to 3 sources (local or on the share; nested directories, names
# that differ only in case, the same path in several sources, file
# sources), a destination that is missing, empty or already holds files,
# and a command: upload, download, share to share or local to local, with
# or without --mirror, --exclude and --dry-run, sometimes a source inside
# the destination or the destination inside a source, one location spelled
# two ways (localhost and 127.0.0.1, DATA and data, a link). After each run:
#   - every file of every source (not excluded) is at its destination with
#     identical bytes, or reported failed (exit 1); colliding names (one
#     path from two sources, a file and a directory of one path, names that
#     differ only in case on the share) are both reported and the
#     destination keeps what it had;
#   - nothing outside the destination changed, no source changed;
#   - nothing in the destination was deleted or changed that the run was
#     not asked to: without --mirror nothing is deleted; with it only what
#     no source has (case-insensitively on the share), no --exclude matches
#     and whose directory had no failure;
#   - --dry-run and refused runs (exit 2: the destination inside a source,
#     or a source inside the destination with --mirror) change nothing;
#   - no .smbcopy-*.tmp left after a run that exited 0;
#   - a quarter of the runs go again: the same checks, no new failure, and
#     after a clean first run nothing copied or deleted.
# The checks are in lib/random_trees.pl. Every run prints one line; a
# failing run prints its seed, command and problems, and the test goes on
# and fails at the end. SMBCOPY_RANDOM_SEED=N starts from seed N (a failing
# run replays alone with its seed and SMBCOPY_RANDOM_RUNS=1);
# SMBCOPY_TEST_KEEP=1 keeps the trees of failing runs.
set -euo pipefail

# shellcheck source=lib/cli_setup.sh
. "$(dirname "$0")/lib/cli_setup.sh"
need_tools perl timeout
perl -MJSON::PP -MDigest::MD5 -e 1 2>/dev/null || skip "perl without JSON::PP or Digest::MD5"

cli_test_dirs cli_random
# Each run's journal and lock stay in the test's directory.
export XDG_STATE_HOME=$work/state

set +e
RT_AUTH=$auth RT_WORK=$work RT_SHARE=$share RT_NAME=$name \
    perl "$(dirname "$0")/lib/random_trees.pl"
status=$?
set -e
[ "$status" -eq 0 ] || fail "cli_random: runs failed (see above)"
cli_test_end "cli_random: all runs passed"

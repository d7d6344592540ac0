/*
 * The command's side of sharded jobs (docs/sharding.md): which arguments a
 * plan records, the argument vector a shard runs with, which shard this
 * process is, where reports go, and what is printed for a plan and at the
 * finish.
 */
#ifndef SMBCOPY_CLI_SHARD_H
#define SMBCOPY_CLI_SHARD_H

#include <stdbool.h>
#include <stdio.h>

#include <smbcopy/engine.h>

#include "args.h"

/**
 * The arguments that make o's job, to record in a plan: its options (what
 * is copied and how: --mirror, filters in order, --acls, --links, protocol
 * and connection settings ...), then "--", the sources and the destination.
 * Never credentials: a location holding a password is refused (msg says
 * why). *args (n strings) is the caller's: cli_strings_free. 0 or -1.
 */
int cli_plan_job_args(const cli_options *o, char ***args, size_t *n, char *msg, size_t msglen);

/** Free n strings and their array. */
void cli_strings_free(char **v, size_t n);

/**
 * The argument vector a shard or the finishing run parses: argv[0], the
 * plan's options, the command line's own arguments (so they override the
 * plan's), "--", the plan's sources and destination. Its strings are
 * copies (*out, *outc: the caller's, cli_strings_free). 0 or -1 (out of
 * memory, or a plan whose arguments have no "--").
 */
int cli_planned_argv(const sc_plan *plan, int argc, char **argv, char ***out, int *outc);

/**
 * Which shard this process runs: --shard, else JOB_COMPLETION_INDEX
 * (Kubernetes Indexed Jobs), else SLURM_ARRAY_TASK_ID (Slurm job arrays).
 * 0, or -1 with msg when none says or the number is not one of the plan's.
 */
int cli_shard_index(const cli_options *o, unsigned nshards, unsigned *k, char *msg, size_t msglen);

/**
 * Where shard k's report is: DIR/shard-K.json, DIR being --summary-dir,
 * else the plan's summary directory, else the plan file's own directory.
 * make_dir: create DIR (and its parents) when missing. 0, or -1 with msg.
 */
int cli_shard_report_path(const cli_options *o, const sc_plan *plan, unsigned k, bool make_dir, char *out,
                          size_t outlen, char *msg, size_t msglen);

/** What a plan says, after it was written: its shards' loads and size, as a table or one JSON object. */
void cli_plan_print(FILE *f, const sc_plan *plan, const char *path, const sc_summary *walk, bool json);

/**
 * The finish's per-shard table: each shard's exit status, files, bytes,
 * seconds and rate, or why it has no report (why[k] non-NULL).
 */
void cli_shards_print(FILE *f, const sc_shard_report *reports, const char *const *why, unsigned n);

/** The same as a JSON array (the "shards" member of the finish's JSON report). */
void cli_shards_json(FILE *f, const sc_shard_report *reports, const char *const *why, unsigned n);

#endif

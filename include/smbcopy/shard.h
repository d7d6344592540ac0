/*
 * One job split into shards that run anywhere, in parallel (docs/sharding.md).
 *
 * A plan (sc_plan_make) walks the sources once, as a dry run of the job,
 * and divides what there is to copy into N shards balanced by bytes and by
 * file count: each shard owns whole subtrees, name ranges of the directories
 * too big for one shard, and byte ranges of the files too big for one. The
 * plan is small: it lists the directories that straddle shards (with the name
 * at which each shard's part of them starts) and the files split into ranges,
 * never the files of a subtree.
 *
 * A shard is a job run with sc_job_opts.plan and .shard = K: it copies
 * exactly what shard K owns, and a file the plan did not foresee goes to the
 * shard that owns its name in its directory, so no two shards ever write the
 * same destination entry. A directory that straddles shards is made in place
 * (each shard that needs it makes it if it is missing); a file split into
 * ranges is written by each of its shards into one temporary file beside it
 * and moved into place by the finishing run (.shard = SC_SHARD_FINISH),
 * which also sets the times of the straddling directories and runs the
 * --mirror deletions. The plan's own file format: sc_plan_save.
 */
#ifndef SMBCOPY_SHARD_H
#define SMBCOPY_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/api.h>
#include <smbcopy/smb.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The plan file's format version (the "version" field); a reader refuses others. */
#define SC_PLAN_VERSION 1

/** Most shards a plan may have. */
#define SC_SHARDS_MAX 4096u

/** sc_job_opts.shard of the finishing run: complete split files, set directory times, --mirror deletions. */
#define SC_SHARD_FINISH (-2)

/** sc_job_opts.shard of a job without a plan (the whole job). */
#define SC_SHARD_NONE (-1)

/** A plan: the shards of one job. */
typedef struct sc_plan sc_plan;

struct sc_job_opts;
struct sc_summary;

/**
 * Walk the sources of opts as a dry run of the job would (in parallel, with
 * its filters, and against the destination: a file already up to date
 * weighs little) and divide the work into nshards (1..SC_SHARDS_MAX)
 * shards. opts is used as sc_job_new takes it, with dry_run forced on and no
 * checkpoint; its event callback sees the walk's events. On success *out is
 * the caller's (sc_plan_free) and walk (may be NULL) gets the dry run's
 * counters (its failures the caller frees with sc_summary_free). Returns 0,
 * or a negative SMB_ERR_* with err (the job could not run). Entries the
 * walk could not list are not in the plan: they go to the shard that owns
 * their name, like files made after planning (the caller should say so).
 */
SMBCOPY_API int sc_plan_make(const struct sc_job_opts *opts, unsigned nshards, sc_plan **out,
                             struct sc_summary *walk, smb_error *err);

/**
 * Record the command-line arguments that make the job (its options and
 * locations, never credentials) and where the shards write their summaries
 * (NULL: beside the plan), to be saved with the plan. Copied. 0 or
 * SMB_ERR_NO_MEMORY.
 */
SMBCOPY_API int sc_plan_set_job(sc_plan *plan, const char *const *args, size_t nargs, const char *summary_dir);

/**
 * Write the plan to path as JSON (docs/sharding.md gives the format), by a
 * temporary file renamed over path. 0, or an error naming path.
 */
SMBCOPY_API int sc_plan_save(const sc_plan *plan, const char *path, smb_error *err);

/**
 * Read a plan written by sc_plan_save, checking it whole (version, shard
 * numbers, ranges that tile each split file, cuts in order). *out is the
 * caller's. 0, or SMB_ERR_INVALID_ARG with a message naming the file and
 * what is wrong with it.
 */
SMBCOPY_API int sc_plan_load(const char *path, sc_plan **out, smb_error *err);

/** Free a plan (NULL allowed). */
SMBCOPY_API void sc_plan_free(sc_plan *plan);

/** The number of shards. */
SMBCOPY_API unsigned sc_plan_shards(const sc_plan *plan);

/** The plan's identity: 32 hex digits, different for every plan made. Owned by the plan. */
SMBCOPY_API const char *sc_plan_id(const sc_plan *plan);

/** The recorded job arguments (sc_plan_set_job); *n gets their count. Owned by the plan. */
SMBCOPY_API const char *const *sc_plan_job_args(const sc_plan *plan, size_t *n);

/** The recorded summary directory, or NULL (beside the plan). Owned by the plan. */
SMBCOPY_API const char *sc_plan_summary_dir(const sc_plan *plan);

/** What the plan gave shard k (< sc_plan_shards): bytes to move and files it owns. */
SMBCOPY_API void sc_plan_shard_load(const sc_plan *plan, unsigned k, uint64_t *bytes, uint64_t *files);

/** How many directories straddle shards, and how many files are split into ranges. */
SMBCOPY_API void sc_plan_counts(const sc_plan *plan, size_t *split_dirs, size_t *split_files);

/* ---------------------------------------------------------------- shard reports */

/**
 * What one shard's run did, as its report file holds it (sc_shard_report_save):
 * read back by the finishing run.
 */
typedef struct sc_shard_report {
    unsigned shard;
    int exit_code;        /**< the shard's exit status (smbcopy's: 0 all copied, 1 some failed, ...) */
    bool interrupted;     /**< the run was stopped (a signal) */
    char *error;          /**< why the run could not run or stopped early, or NULL */
    char *host;           /**< where it ran */
    uint64_t started;     /**< Unix time of the run's start */
    struct sc_summary *summary; /**< its counters and failures (meta notes are not kept) */
} sc_shard_report;

/**
 * Write shard k's report to path (JSON: docs/sharding.md), by a temporary
 * file renamed over path: the plan's id, the shard, this host, exit_code,
 * error (NULL: none), started (Unix time), the summary's counters and
 * failures. 0, or an error naming path.
 */
SMBCOPY_API int sc_shard_report_save(const sc_plan *plan, unsigned k, const struct sc_summary *summary,
                                     int exit_code, const char *error, uint64_t started, const char *path,
                                     smb_error *err);

/**
 * Read shard k's report from path: *out is filled (free with
 * sc_shard_report_free). SMB_ERR_NOT_FOUND when there is none,
 * SMB_ERR_INVALID_ARG when it is damaged or another plan's or shard's (err
 * says which).
 */
SMBCOPY_API int sc_shard_report_load(const sc_plan *plan, unsigned k, const char *path, sc_shard_report *out,
                                     smb_error *err);

/** Free what a report holds (not the struct). */
SMBCOPY_API void sc_shard_report_free(sc_shard_report *report);

/**
 * Add from's counters to into's (seconds: the longest; interrupted: either)
 * and append copies of its failures. 0 or SMB_ERR_NO_MEMORY (into keeps
 * what was added).
 */
SMBCOPY_API int sc_summary_merge(struct sc_summary *into, const struct sc_summary *from);

#ifdef __cplusplus
}
#endif
#endif

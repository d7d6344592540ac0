/*
 * Internal state of a job: the pairs of endpoints, the task queue of the
 * worker pool, directory nodes (to set a directory's times after its last
 * child), counters and failures.
 */
#ifndef SMBCOPY_JOB_INTERNAL_H
#define SMBCOPY_JOB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <smbcopy/engine.h>

#include "engine/bufpool.h"
#include "engine/resume/checkpoint.h"
#include "engine/endpoints/endpoint.h"
#include "engine/names/filter.h"

/** One source tree and where it goes. */
typedef struct job_pair {
    ep *src;
    ep *dst;
    bool server_copy; /* src and dst may copy server-side (read and cleared atomically) */
    bool server_copy_refused; /* the server refused it: stream through the client for the rest of the job */
} job_pair;

/**
 * A directory being copied. pending counts the listing itself plus every
 * child task not finished; when it reaches zero the directory's times are
 * set (children change them) and the parent's count drops.
 *
 * Staging: a directory the destination does not have yet is built under a
 * temporary name next to its final one (the stage root); everything below it
 * is written straight under its own name inside, with no temporary name and
 * no rename per file. When the stage root's last child is done it is renamed
 * into place, so a new tree appears complete and no partly written file ever
 * sits under its final path. The temporary name is derived from the final
 * one, so a rerun after an interruption finds it and carries on filling it.
 */
/* A destination entry --mirror deletes once its directory is complete. */
typedef struct dir_deletion {
    char *name;
    ep_stat st;
} dir_deletion;

typedef struct dir_node {
    struct dir_node *parent;
    atomic_int pending;
    job_pair *pair;  /* the first source that has the directory (its dst is the destination) */
    job_pair **srcs; /* every source that has it, in command-line order (several sources merge) */
    size_t nsrcs;
    char *rel;
    char *dst;       /* where the directory is at the destination now, when not rel (staging) */
    struct dir_node *stage_root; /* the staged directory this one is in (or is), or NULL */
    atomic_bool tainted; /* stage root: a failed file inside could not be removed */
    bool fresh;      /* created by this job: empty, no need to list it */
    ep_stat st;      /* the source directory's metadata */
    bool set_meta;   /* set times on the destination when done */
    atomic_bool listing_failed; /* a listing of the directory failed: nothing is deleted in it */
    dir_deletion *deletions;    /* --mirror: extraneous entries, deleted when the directory is complete */
    size_t ndeletions, deletions_cap;
} dir_node;

/* A file named on the command line that goes into the destination directory. */
typedef struct root_file {
    job_pair *pair; /* its source endpoint is rooted at the file's parent */
    char *name;     /* its name there, and at the destination */
    ep_stat st;
} root_file;

typedef enum task_kind { TASK_DIR, TASK_FILE, TASK_RANGE } task_kind;

struct file_copy; /* a large file split into ranges (copy.c) */

typedef struct task {
    struct task *next;
    task_kind kind;
    job_pair *pair;
    dir_node *dir;   /* TASK_DIR: the node; TASK_FILE: the parent directory */
    char *rel;       /* path relative to both roots */
    char *dst_rel;   /* destination path when it differs (a single file copied to a new name) */
    char *stage_rel; /* TASK_FILE in a staged directory: written straight to this path */
    ep_stat st;      /* source metadata */
    bool dst_exists; /* TASK_FILE: the destination has a file of that name */
    ep_stat dst_st;
    struct file_copy *fc; /* TASK_RANGE */
    bool reopen;          /* TASK_RANGE: not the file's first runner; opens the file again on its own lane */
    unsigned attempt;     /* TASK_FILE: copies tried already and found changed at the source (copy.c) */
    const struct shard_file *split; /* TASK_FILE: a file split between shards (shard_copy.c) */
} task;

typedef struct task_list {
    task *head, *tail;
    size_t n;
} task_list;

struct sc_job {
    sc_job_opts opts;
    char **excludes, **includes;
    filter_set *filter;   /* the job's filter rules (never NULL once made) */
    char **sources;
    char *dest;
    ep_smb_pool *pool;
    ep_counters counters;
    job_pair *pairs;
    size_t npairs;

    pthread_mutex_t lock; /* queue, counters below, failures */
    pthread_cond_t cond;
    task_list ranges, files, dirs;
    unsigned active;      /* workers running a task */
    size_t dirs_pending;  /* dir tasks queued or running */
    bool walk_done_sent;
    atomic_bool cancel;
    atomic_int fatal;     /* an SMB_ERR_* that stops the job (connection lost) */
    smb_error fatal_err;

    uint32_t tag;         /* names the job in its temporary and staging names (temp_names.h) */
    atomic_int temp_form; /* the temp_form in use: later forms once the destination refuses a name (copy.c) */
    bool dst_folds_case;  /* the destination holds one entry for names differing only in case */
    uint64_t mtime_window;/* the destination keeps modification times within this (0: exactly; time_probe.h) */
    bool mtime_via_change_time; /* and takes them from ChangeTime: set on every destination endpoint */
    root_file *root_files;/* file sources that go into the destination directory (merged with the
                             directory sources' contents in the root's walk) */
    size_t nroot_files;

    bufpool bufs;         /* copy buffers, reused */
    checkpoint *cp;       /* the checkpoint journal, or NULL */
    uint64_t carried_files, carried_bytes; /* copied by earlier passes (before a reconnection) */

    /* Planning (sc_plan_make): each file the dry run decides on, from the worker threads. */
    void (*plan_note)(void *arg, const char *rel, const ep_stat *st, bool to_copy);
    void *plan_note_arg;

    pthread_mutex_t ev_lock; /* serialises the event callback */
    sc_summary sum;
    size_t failures_cap;
    size_t meta_notes_cap;
};

/* queue.c */
/** Queue a task (takes ownership). Files beyond the bound are refused: returns false. */
bool job_push(sc_job *job, task *t, bool bounded);
/** Run the worker pool until every task is done. */
void job_run_pool(sc_job *job);
/** Free a task. */
void task_free(task *t);

/* walk.c */
/** Run one directory task. */
void job_walk_dir(sc_job *job, task *t);
/** A child of node finished; sets times and releases nodes that are complete. */
void job_dir_release(sc_job *job, dir_node *node);
/**
 * New node (pending 1) for the directory rel that sources srcs[0..nsrcs)
 * have (copied; nsrcs may be 0 for a root holding only named files); NULL on
 * allocation failure.
 */
dir_node *job_dir_node_new(dir_node *parent, job_pair *const *srcs, size_t nsrcs, const char *rel, const ep_stat *st);
/** Where node's directory is at the destination now. */
const char *job_dir_dst(const dir_node *node);
/** A failed file in node's staged tree could not be removed: the tree must not move into place. */
void job_dir_taint(dir_node *node);

/* copy.c */
/** Copy (or skip, compare, dry-run) one file. */
void job_copy_file(sc_job *job, task *t);
/** Run one range of a split file. */
void job_copy_range(sc_job *job, task *t);
/**
 * The metadata a copied file is finished with (times, attributes, mode):
 * the source's src_st, with the destination's mode kept when the source has
 * none (dst_st, when dst_exists), no creation time unless both ends of pair
 * keep one, and only the attributes a copy carries.
 */
ep_stat job_file_meta(const job_pair *pair, const ep_stat *src_st, bool dst_exists, const ep_stat *dst_st);
/**
 * Whether the partial copy p (from the journal) of t's file can go on: the
 * source is still st (size, times, id, change time) and p's temporary file
 * holds the last committed range with its recorded CRC-32C (read back).
 */
bool job_resume_ok(sc_job *job, const task *t, const ep_stat *st, const cp_partial *p);
/**
 * The destination refused a name of form `tried` (NOT_FOUND or BAD_NAME
 * creating it) in directory dir of dst: when a name of that form cannot
 * be created there (a probe), the job moves on to the next form (automatic
 * names only; warned once). True when the caller should try again.
 */
bool job_temp_refused(sc_job *job, ep *dst, const char *dir, int tried, bool is_dir);
/** Size of the job's copy buffers: its largest read or small file. */
size_t job_buffer_size(const sc_job *job);
/** Copy buffers the job keeps for reuse. */
unsigned job_buffers_kept(const sc_job *job);

/* report.c */
/** Emit an event (serialised). */
void job_event(sc_job *job, sc_event_type type, const char *path, uint64_t bytes, bool is_dir, const char *msg);
/**
 * Record a metadata note for path (sc_meta_note: event SC_EV_META_UPDATED
 * when updated, else SC_EV_META_NOT_KEPT, with msg; and the summary's list,
 * with sd[0..sd_len) in SDDL when sd is not NULL and converts).
 */
void job_meta_note(sc_job *job, const char *path, bool is_dir, bool updated, const char *msg, const uint8_t *sd,
                   size_t sd_len);
/** Record a failure for path (event + summary). */
void job_fail(sc_job *job, const char *path, bool is_dir, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/** Add to a summary counter under the job lock. */
void job_count(sc_job *job, uint64_t *counter, uint64_t n);
/** True when errors of this code stop the whole job (lost connection). */
bool job_error_is_fatal(int code);
/** True when a new connection may cure errors of this code (the job reconnects and goes on). */
bool job_error_restartable(int code);
/** Stop the job for a fatal error (first one wins). */
void job_set_fatal(sc_job *job, const smb_error *err);
/** True when the job should stop (cancelled or fatal). */
bool job_stopping(sc_job *job);
/** True when a failure has been recorded for rel or anything below it ("" : anywhere). */
bool job_subtree_failed(sc_job *job, const char *rel);

/* job.c */
/**
 * Run job copying the directory tree of src into dst (endpoints given
 * directly; the job takes ownership of both). For tests with fake
 * endpoints; sc_job_run is the public way.
 */
int job_run_endpoints(sc_job *job, ep *src, ep *dst, sc_summary *sum, smb_error *err);

/* shard_copy.c */
/** Write this shard's ranges of the split file of task t, or (finishing run) move it into place; releases t->dir. */
void shard_copy_split(sc_job *job, task *t);

/* path helpers (plan.c) */
/** rel + "/" + name (or name when rel is ""). malloc'd. */
char *job_join(const char *rel, const char *name);

#endif

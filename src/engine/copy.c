/*
 * Copying one file: plan (skip, compare, copy), a temporary name in the
 * destination directory, a pipeline of reads and writes (or a server-side
 * copy), times set after the last write and checked, then the rename over
 * the final name. Large files are split into ranges that several workers
 * copy at once; the last range to finish completes the file.
 *
 * A source that changes while it is read would leave a mix of two versions
 * under the final name: its metadata is taken again after the last byte is
 * read and before the rename (size, mtime, change time, id), and a file
 * that changed is copied again, up to the job's retries, then failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <smbcopy/ntstatus.h>

#include "common/array.h"
#include "common/random.h"
#include "engine/resume/crc32c.h"
#include "common/error.h"
#include "engine/file_meta.h"
#include "engine/job_internal.h"
#include "engine/plan.h"
#include "engine/names/temp_names.h"
#include "engine/time_probe.h"

/*
 * Reads kept in flight per range, and the largest single read or write:
 * the job's buffer budget shared by its threads (so that memory stays
 * bounded whatever the thread count), between 256 KiB and 4 MiB.
 */
#define WINDOW 4
#define IO_BUDGET (32u << 20)
#define CHUNK_MIN (256u << 10)
#define CHUNK_MAX (4u << 20)
/*
 * Files above this are copied in ranges of RANGE_SIZE by several workers at
 * once (runners), each taking the next range when done with one: as many as
 * the job has threads, or fewer when the destination asks (ep.max_writers).
 */
#define SPLIT_THRESHOLD (64ull << 20)
#define RANGE_SIZE (32ull << 20)

/* A file being copied, shared by its ranges. */
typedef struct file_copy {
    job_pair *pair;
    dir_node *dir;
    char *rel;     /* destination path */
    char *src_rel; /* source path */
    char *tmp;     /* where it is written: a temporary name, or its own name inside a staged directory */
    bool direct;   /* tmp is inside a staged directory: no rename */
    bool inplace;  /* tmp is the final name (the destination refuses temporary names): no rename */
    ep_stat st;    /* the source as it was when opened */
    bool dst_exists;   /* the task's, for a copy made again */
    ep_stat dst_st;
    unsigned attempt;  /* copies of this file tried before this one */
    atomic_bool changed; /* the source changed while it was read */
    ep_file *src, *dst;
    atomic_int runners_left;
    struct piece {
        uint64_t off, len;
    } *pieces;                  /* what is left to copy, in ranges of at most RANGE_SIZE */
    size_t npieces;
    atomic_size_t next_piece;   /* the next piece not taken yet */
    pthread_mutex_t lock;
    bool failed;
    atomic_bool committed; /* a range is in the journal: the temporary file is worth keeping */
    smb_error err;
    const char *stage;
} file_copy;

static void fc_fail(file_copy *fc, const char *stage, const smb_error *err)
{
    pthread_mutex_lock(&fc->lock);
    if (!fc->failed) {
        fc->failed = true;
        fc->stage = stage;
        fc->err = *err;
    }
    pthread_mutex_unlock(&fc->lock);
}

static bool fc_failed(file_copy *fc)
{
    pthread_mutex_lock(&fc->lock);
    bool f = fc->failed;
    pthread_mutex_unlock(&fc->lock);
    return f;
}

/* The largest read or write: the budget shared out over the threads' windows. */
static size_t chunk_cap(const sc_job *job)
{
    size_t budget = IO_BUDGET / ((size_t)(job->opts.threads ? job->opts.threads : 1) * WINDOW);
    return budget < CHUNK_MIN ? CHUNK_MIN : budget > CHUNK_MAX ? CHUNK_MAX : budget;
}

static size_t chunk_size(const sc_job *job, file_copy *fc, ep_file *src, ep_file *dst)
{
    size_t a = fc->pair->src->ops->io_size(src), b = fc->pair->dst->ops->io_size(dst);
    size_t c = a < b ? a : b, cap = chunk_cap(job);
    return c < cap ? c : cap;
}

/* The message of a file whose source kept changing. */
#define CHANGED_MSG "changed while it was being copied"

/*
 * a and b are one version of a file: same size, mtime, and change time and
 * id where both ends know them. (Samba's change time is its mtime: there
 * only size and mtime tell.)
 */
static bool same_version(const ep_stat *a, const ep_stat *b)
{
    return a->type == b->type && a->size == b->size && a->mtime == b->mtime &&
           (!a->change_time || !b->change_time || a->change_time == b->change_time) &&
           (!a->file_id || !b->file_id || a->file_id == b->file_id);
}

/*
 * Permission bits (local destinations): a local source's; else, on an
 * update, those of the file it replaces; else the destination's default.
 */
static void keep_dest_mode(ep_stat *meta, bool dst_exists, const ep_stat *dst_st)
{
    if (!meta->has_mode && dst_exists && dst_st->has_mode) {
        meta->has_mode = true;
        meta->mode = dst_st->mode;
    }
}

ep_stat job_file_meta(const job_pair *pair, const ep_stat *src_st, bool dst_exists, const ep_stat *dst_st)
{
    ep_stat meta = *src_st;
    keep_dest_mode(&meta, dst_exists, dst_st);
    if (!(pair->dst->caps & EP_CAP_CREATION_TIME) || !(pair->src->caps & EP_CAP_CREATION_TIME))
        meta.ctime = 0;
    meta.attributes &= SMB_ATTR_READONLY | SMB_ATTR_HIDDEN | SMB_ATTR_SYSTEM | SMB_ATTR_ARCHIVE;
    return meta;
}

/* The source's metadata now: of the open file f when the endpoint can, else of its path. */
static int source_now(ep *e, const char *rel, ep_file *f, ep_stat *st, smb_error *err)
{
    if (f && e->ops->fstat)
        return e->ops->fstat(f, st, err);
    return e->ops->stat(e, rel, st, err);
}

/*
 * Committing to the checkpoint journal: bytes whose writes have completed,
 * in file order, are recorded as a range (with the CRC-32C of their bytes
 * when they passed through the client) once there is a window's worth, and
 * at the end of the piece. A crash then costs at most what was in flight
 * plus one window per runner.
 */
typedef struct committer {
    sc_job *job;
    file_copy *fc;
    uint64_t start, end; /* [start, end) complete, not yet recorded */
    uint64_t every;
    uint32_t crc;
    bool checked; /* crc covers [start, end) */
    bool broken;  /* out of order or the journal failed: record no more */
} committer;

static void commit_init(committer *c, sc_job *job, file_copy *fc, uint64_t off, uint64_t every)
{
    *c = (committer){.job = job, .fc = fc, .start = off, .end = off, .every = every, .checked = true};
    c->broken = job->cp == NULL;
}

static void commit_flush(committer *c)
{
    if (c->broken || c->end == c->start)
        return;
    smb_error err = {0};
    file_copy *fc = c->fc;
    if (checkpoint_commit(c->job->cp, fc->rel, fc->tmp, &fc->st, c->start, c->end - c->start,
                          c->checked ? c->crc : 0, &err) != 0)
        c->broken = true; /* the copy goes on; a rerun just resumes from an earlier point */
    else
        atomic_store(&fc->committed, true);
    c->start = c->end;
    c->crc = 0;
    c->checked = true;
}

/* [off, off+len) is written; buf holds its bytes, or NULL when they never passed through here. */
static void commit_add(committer *c, const uint8_t *buf, uint64_t off, uint64_t len)
{
    if (c->broken)
        return;
    if (off != c->end) {
        c->broken = true;
        return;
    }
    if (buf && c->checked)
        c->crc = crc32c(c->crc, buf, (size_t)len);
    else
        c->checked = false;
    c->end += len;
    if (c->end - c->start >= c->every)
        commit_flush(c);
}

/*
 * The pipeline for [off, off+len): up to WINDOW reads in flight; each read
 * that completes becomes a write (skipped when all zeros: the destination
 * was created at its final size, so holes stay holes). A slot is retired
 * (its write waited for, its bytes committed) before it is reused; slots
 * are reused in file order, so commits are too.
 */
struct slot {
    uint8_t *buf;
    ep_io *rd, *wr;
    uint64_t off;
    size_t len;
    bool filled; /* read done, not retired */
};

static int retire(const ep_ops *dop, struct slot *s, committer *cm, smb_error *err)
{
    size_t n;
    int rc = s->wr ? dop->io_wait(s->wr, &n, err) : 0;
    s->wr = NULL;
    s->filled = false;
    if (rc == 0)
        commit_add(cm, s->buf, s->off, s->len);
    return rc;
}

static int copy_stream(sc_job *job, file_copy *fc, ep_file *src, ep_file *dst, uint64_t off, uint64_t len,
                       smb_error *err)
{
    const ep_ops *so = fc->pair->src->ops, *dop = fc->pair->dst->ops;
    size_t chunk = chunk_size(job, fc, src, dst);
    if (!chunk)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "endpoint reports no I/O size");
    unsigned window = WINDOW;
    if ((uint64_t)chunk * window > len)
        window = (unsigned)((len + chunk - 1) / chunk);
    if (!window)
        return 0;
    struct slot slots[WINDOW];
    memset(slots, 0, sizeof slots);
    committer cm;
    commit_init(&cm, job, fc, off, (uint64_t)chunk * WINDOW);
    int rc = 0;
    for (unsigned i = 0; i < window; i++)
        if (!(slots[i].buf = bufpool_get(&job->bufs, chunk)))
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory for copy buffers");
    uint64_t next = off, end = off + len;
    unsigned head = 0, reading = 0;
    while (rc == 0 && (next < end || reading)) {
        /* Fill the window with reads. */
        while (rc == 0 && next < end && reading < window) {
            struct slot *s = &slots[(head + reading) % window];
            if (s->filled && (rc = retire(dop, s, &cm, err)) != 0)
                break;
            s->off = next;
            s->len = end - next < chunk ? (size_t)(end - next) : chunk;
            s->rd = so->read_submit(src, s->buf, s->len, s->off, err);
            if (!s->rd) {
                rc = err->code ? err->code : SMB_ERR_NO_MEMORY;
                break;
            }
            next += s->len;
            reading++;
        }
        if (rc || !reading)
            break;
        struct slot *s = &slots[head];
        size_t n = 0;
        rc = so->io_wait(s->rd, &n, err);
        s->rd = NULL;
        reading--;
        head = (head + 1) % window;
        if (rc)
            break;
        if (n != s->len) {
            atomic_store(&fc->changed, true); /* it shrank */
            rc = smb_err_set(err, SMB_ERR_SERVER, 0, CHANGED_MSG " (short read at %llu)", (unsigned long long)s->off);
            break;
        }
        s->wr = dop->write_submit(dst, s->buf, n, s->off, err); /* zeros: the endpoint skips them */
        if (!s->wr) {
            rc = err->code ? err->code : SMB_ERR_NO_MEMORY;
            break;
        }
        s->filled = true;
        job_event(job, SC_EV_FILE_PROGRESS, fc->rel, n, false, NULL);
        if (job_stopping(job))
            rc = smb_err_set(err, SMB_ERR_CANCELLED, 0, "stopped");
    }
    /*
     * Drain whatever is still in flight before the buffers go, oldest first
     * (from head: reads still pending, then slots read longest ago).
     */
    for (unsigned i = 0; i < window; i++) {
        struct slot *s = &slots[(head + i) % window];
        smb_error e2;
        size_t n;
        if (s->rd)
            so->io_wait(s->rd, &n, &e2);
        if (s->filled && rc == 0)
            rc = retire(dop, s, &cm, err);
        else if (s->wr)
            dop->io_wait(s->wr, &n, &e2);
        bufpool_put(&job->bufs, s->buf, chunk);
    }
    if (rc == 0)
        commit_flush(&cm);
    return rc;
}

/*
 * Writes straight from the source's file descriptor (SMB over sendfile): no
 * buffers, no copy through user memory. Up to WINDOW writes in flight.
 */
static int copy_stream_fd(sc_job *job, file_copy *fc, int fd, ep_file *dst, uint64_t off, uint64_t len,
                          smb_error *err)
{
    const ep_ops *dop = fc->pair->dst->ops;
    size_t io = dop->io_size(dst), chunk = io < CHUNK_MAX ? io : CHUNK_MAX;
    if (!chunk)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "endpoint reports no I/O size");
    struct {
        ep_io *io;
        uint64_t off;
        size_t len;
    } ring[WINDOW];
    committer cm;
    commit_init(&cm, job, fc, off, (uint64_t)chunk * WINDOW);
    unsigned head = 0, inflight = 0;
    uint64_t next = off, end = off + len;
    int rc = 0;
    while (rc == 0 && (next < end || inflight)) {
        while (rc == 0 && next < end && inflight < WINDOW) {
            size_t n = end - next < chunk ? (size_t)(end - next) : chunk;
            unsigned slot = (head + inflight) % WINDOW;
            ring[slot].io = dop->write_submit_fd(dst, fd, next, n, next, err);
            if (!ring[slot].io) {
                rc = err->code ? err->code : SMB_ERR_NO_MEMORY;
                break;
            }
            ring[slot].off = next;
            ring[slot].len = n;
            next += n;
            inflight++;
        }
        if (!inflight)
            break;
        size_t got = 0;
        smb_error e2 = {0};
        int w = dop->io_wait(ring[head].io, &got, rc ? &e2 : err);
        if (rc == 0 && w == 0 && got != ring[head].len)
            w = smb_err_set(err, SMB_ERR_SERVER, 0, "short write (%zu of %zu bytes)", got, ring[head].len);
        if (rc == 0 && w == 0) {
            commit_add(&cm, NULL, ring[head].off, got);
            job_event(job, SC_EV_FILE_PROGRESS, fc->rel, got, false, NULL);
        }
        if (rc == 0)
            rc = w;
        head = (head + 1) % WINDOW;
        inflight--;
        if (rc == 0 && job_stopping(job))
            rc = smb_err_set(err, SMB_ERR_CANCELLED, 0, "stopped");
    }
    /* Drain whatever is still in flight after a failure. */
    for (; inflight; inflight--, head = (head + 1) % WINDOW) {
        smb_error e2 = {0};
        dop->io_wait(ring[head].io, NULL, &e2);
    }
    if (rc == 0)
        commit_flush(&cm);
    return rc;
}

/* A source without holes whose destination can take file data directly. */
static int direct_fd(const file_copy *fc, ep_file *src, ep_file *dst)
{
    const ep_ops *so = fc->pair->src->ops, *dop = fc->pair->dst->ops;
    if (!so->file_fd || !dop->can_write_fd || !dop->write_submit_fd || fc->st.allocated < fc->st.size ||
        !dop->can_write_fd(dst))
        return -1;
    return so->file_fd(src);
}

/*
 * A server-side copy writes every byte, holes included: a sparse source (less
 * allocated than its size) goes through the client instead, whose writes
 * skip zeros and so keep the holes.
 */
static bool use_server_copy(const file_copy *fc)
{
    return __atomic_load_n(&fc->pair->server_copy, __ATOMIC_ACQUIRE) && fc->st.allocated >= fc->st.size;
}

/*
 * The server refused server-side copy itself (not this file): the pair
 * streams through the client from now on, for the rest of the job (its
 * reconnections included); the first refusal says so, once.
 */
static bool server_copy_refused(sc_job *job, file_copy *fc, const smb_error *err)
{
    /* What a server without server-side copy answers (impacket; appliances). */
    if (err->ntstatus != SMB_STATUS_INVALID_DEVICE_REQUEST && err->ntstatus != SMB_STATUS_NOT_SUPPORTED &&
        err->ntstatus != SMB_STATUS_NOT_IMPLEMENTED)
        return false;
    job_pair *p = fc->pair;
    __atomic_store_n(&p->server_copy, false, __ATOMIC_RELEASE);
    if (!__atomic_exchange_n(&p->server_copy_refused, true, __ATOMIC_ACQ_REL)) {
        char msg[300], name[16];
        snprintf(msg, sizeof msg, "the server refuses server-side copy (%s): copying through the client instead",
                 smb_ntstatus_name(err->ntstatus, name));
        job_event(job, SC_EV_RETRY, fc->rel, 0, false, msg);
    }
    return true;
}

/* Copy [off, off+len) between the opens src and dst. */
static int copy_range_body(sc_job *job, file_copy *fc, ep_file *src, ep_file *dst, uint64_t off, uint64_t len,
                           smb_error *err)
{
    if (use_server_copy(fc)) {
        int rc = fc->pair->src->ops->server_copy(src, dst, off, len, err);
        if (rc == 0) {
            committer cm;
            commit_init(&cm, job, fc, off, len);
            commit_add(&cm, NULL, off, len);
            commit_flush(&cm);
            job_event(job, SC_EV_FILE_PROGRESS, fc->rel, len, false, NULL);
        }
        if (rc == 0 || !server_copy_refused(job, fc, err))
            return rc;
        memset(err, 0, sizeof *err); /* this range, and the rest, through the client */
    }
    int fd = direct_fd(fc, src, dst);
    return fd >= 0 ? copy_stream_fd(job, fc, fd, dst, off, len, err) : copy_stream(job, fc, src, dst, off, len, err);
}

/*
 * One runner: take ranges until none is left. The first runner uses the
 * file's own opens; another, on an endpoint that spreads threads over
 * connections, opens the file again from its thread so that its ranges
 * travel on its lane.
 */
static int run_ranges(sc_job *job, file_copy *fc, bool first, smb_error *err)
{
    ep *se = fc->pair->src, *de = fc->pair->dst;
    ep_file *src = fc->src, *dst = fc->dst;
    int rc = 0;
    if (!first && (se->caps & EP_CAP_LANES))
        rc = se->ops->open_read(se, fc->src_rel, &src, err);
    if (rc == 0 && !first && (de->caps & EP_CAP_LANES) && de->ops->open_write_more)
        rc = de->ops->open_write_more(de, fc->tmp, fc->st.size, &dst, err);
    while (rc == 0 && !fc_failed(fc)) {
        size_t i = atomic_fetch_add(&fc->next_piece, 1);
        if (i >= fc->npieces)
            break;
        if (job_stopping(job)) {
            rc = smb_err_set(err, SMB_ERR_CANCELLED, 0, "stopped");
            break;
        }
        rc = copy_range_body(job, fc, src, dst, fc->pieces[i].off, fc->pieces[i].len, err);
    }
    smb_error e2 = {0};
    if (dst && dst != fc->dst) {
        int crc = de->ops->close(dst, rc ? &e2 : err);
        if (rc == 0)
            rc = crc;
    }
    if (src && src != fc->src)
        se->ops->close(src, &e2);
    return rc;
}

/* How a file task ended. */
typedef enum file_result {
    FILE_DROPPED,  /* nothing to report here: stopped, skipped, compared equal, listed in a dry run */
    FILE_COPIED,   /* under its final name */
    FILE_FAILED,   /* err says why (SMB_ERR_CANCELLED: stopped, not reported) */
    FILE_REQUEUED, /* to be copied again by a new task, which owns the directory from now on */
} file_result;

/* The outcome of one file task: what file_task_finish() reports. */
typedef struct file_outcome {
    file_result result;
    const char *rel;     /* the destination path */
    const ep_stat *st;   /* the source copied (FILE_COPIED) */
    const smb_error *err;/* FILE_FAILED */
    const char *stage;   /* FILE_FAILED: the step that failed */
    bool changed;        /* FILE_FAILED: the source kept changing while read */
    unsigned attempts;   /* FILE_FAILED with changed: copies tried */
} file_outcome;

/*
 * The one place a file task ends, whichever path the copy took (small file,
 * ranges, copied again): count and report its outcome, record it in the
 * journal, and release its directory (which may complete it: times,
 * --mirror deletions, a staged tree moved into place).
 */
static void file_task_finish(sc_job *job, dir_node *dir, const file_outcome *o)
{
    switch (o->result) {
    case FILE_REQUEUED:
        return; /* the new task finishes it */
    case FILE_COPIED: {
        pthread_mutex_lock(&job->lock);
        job->sum.files_copied++;
        job->sum.bytes_copied += o->st->size;
        pthread_mutex_unlock(&job->lock);
        smb_error err = {0};
        if (job->cp)
            checkpoint_file_done(job->cp, o->rel, o->st, &err);
        job_event(job, SC_EV_FILE_DONE, o->rel, o->st->size, false, NULL);
        break;
    }
    case FILE_FAILED:
        if (job_error_is_fatal(o->err->code))
            job_set_fatal(job, o->err);
        if (o->changed)
            job_fail(job, o->rel, false, "source %s (%u attempts)", CHANGED_MSG, o->attempts);
        else if (o->err->code != SMB_ERR_CANCELLED)
            job_fail(job, o->rel, false, "%s: %s", o->stage, o->err->message);
        break;
    case FILE_DROPPED:
        break;
    }
    job_dir_release(job, dir);
}

static void fc_free(file_copy *fc)
{
    free(fc->rel);
    free(fc->src_rel);
    free(fc->tmp);
    free(fc->pieces);
    pthread_mutex_destroy(&fc->lock);
    free(fc);
}

/*
 * Remove what a failed copy wrote at path. Inside a staged directory the file
 * has its final name there, so if it cannot go the directory must not move
 * into place. True when it is gone.
 */
static bool discard(dir_node *dir, ep *dst, const char *path, bool direct)
{
    smb_error err = {0};
    if (dst->ops->unlink(dst, path, &err) == 0 || err.code == SMB_ERR_NOT_FOUND)
        return true;
    if (direct)
        job_dir_taint(dir);
    return false;
}

/*
 * Queue the copy of fc's file again (its source changed while it was read):
 * a new file task, which releases fc->dir when done. False when it could not
 * be queued.
 */
static bool copy_again(sc_job *job, file_copy *fc)
{
    task *t = calloc(1, sizeof *t);
    if (!t)
        return false;
    t->kind = TASK_FILE;
    t->pair = fc->pair;
    t->dir = fc->dir;
    t->st = fc->st; /* taken again when the copy starts */
    t->dst_exists = fc->dst_exists;
    t->dst_st = fc->dst_st;
    t->attempt = fc->attempt + 1;
    t->rel = strdup(fc->src_rel);
    bool renamed = strcmp(fc->rel, fc->src_rel) != 0;
    if (renamed)
        t->dst_rel = strdup(fc->rel);
    if (fc->direct)
        t->stage_rel = strdup(fc->tmp);
    if (!t->rel || (renamed && !t->dst_rel) || (fc->direct && !t->stage_rel)) {
        task_free(t);
        return false;
    }
    job_push(job, t, false);
    return true;
}

/*
 * After the last byte is read and before anything is renamed: the source
 * must still be the version the copy started from. Closes the source. By
 * path only once closed: while a file is open, Samba reports the write time
 * it had when opened, whatever is written to it by others.
 */
static void check_source(file_copy *fc)
{
    ep *src = fc->pair->src;
    ep_stat now;
    smb_error err = {0}, cerr = {0};
    int rc = src->ops->fstat ? src->ops->fstat(fc->src, &now, &err) : 0;
    src->ops->close(fc->src, &cerr);
    fc->src = NULL;
    if (rc == 0 && !src->ops->fstat)
        rc = src->ops->stat(src, fc->src_rel, &now, &err);
    if (rc != 0) {
        fc_fail(fc, "check source", &err);
    } else if (!same_version(&fc->st, &now)) {
        atomic_store(&fc->changed, true);
        smb_err_set(&err, SMB_ERR_SERVER, 0, CHANGED_MSG);
        fc_fail(fc, "source", &err);
    }
}

/* Last step: times, checks, close, rename; or clean up after a failure. */
static void finalize(sc_job *job, file_copy *fc)
{
    ep *dst = fc->pair->dst, *src = fc->pair->src;
    smb_error err = {0};
    ep_stat meta = job_file_meta(fc->pair, &fc->st, fc->dst_exists, &fc->dst_st);
    /* Streams and descriptor go onto the temporary before finish sets the times and the rename shows it. */
    if (!fc->failed && file_meta_copy(job, fc->pair, fc->rel, fc->src, fc->dst, &err) != 0)
        fc_fail(fc, "streams and security", &err);
    if (!fc->failed) {
        check_source(fc);
    } else {
        smb_error e2 = {0};
        src->ops->close(fc->src, &e2);
    }
    if (!fc->failed) {
        ep_stat got = {0};
        if (dst->ops->finish(fc->dst, &meta, &got, &err) != 0)
            fc_fail(fc, "set times", &err);
        else if (got.size != fc->st.size) {
            smb_err_set(&err, SMB_ERR_SERVER, 0, "destination holds %llu bytes, expected %llu",
                        (unsigned long long)got.size, (unsigned long long)fc->st.size);
            fc_fail(fc, "check size", &err);
        } else if (!mtime_within(got.mtime, fc->st.mtime, job->mtime_window)) {
            smb_err_set(&err, SMB_ERR_SERVER, 0, "the destination did not keep the modification time");
            fc_fail(fc, "check times", &err);
        }
    }
    smb_error cerr = {0};
    if (dst->ops->close(fc->dst, &cerr) != 0 && !fc->failed)
        fc_fail(fc, "close", &cerr);
    if (!fc->failed && !fc->direct && !fc->inplace && dst->ops->rename(dst, fc->tmp, fc->rel, &meta, &err) != 0)
        fc_fail(fc, "rename into place", &err);
    file_outcome out = {.result = FILE_COPIED, .rel = fc->rel, .st = &fc->st};
    if (fc->failed) {
        bool changed = atomic_load(&fc->changed);
        /*
         * Never leave a temporary behind, except one the journal can resume:
         * a copy stopped by the user or by a lost connection (never one of a
         * source that changed: it holds bytes of two versions).
         */
        bool keep = !changed && job->cp && atomic_load(&fc->committed) &&
                    (fc->err.code == SMB_ERR_CANCELLED || job_error_is_fatal(fc->err.code));
        /* One that cannot be removed now (connection lost) stays known, for the next pass or run to remove. */
        bool gone = !keep && discard(fc->dir, dst, fc->tmp, fc->direct);
        if (gone && job->cp)
            checkpoint_forget(job->cp, fc->rel);
        out = (file_outcome){.result = FILE_FAILED, .rel = fc->rel, .err = &fc->err, .stage = fc->stage,
                             .changed = changed, .attempts = fc->attempt + 1};
        if (changed && gone && fc->attempt < job->opts.retries && !job_stopping(job)) {
            job_event(job, SC_EV_RETRY, fc->rel, 0, false, "the source " CHANGED_MSG ": copying it again");
            if (copy_again(job, fc))
                out.result = FILE_REQUEUED;
        }
    }
    file_task_finish(job, fc->dir, &out);
    fc_free(fc);
}

void job_copy_range(sc_job *job, task *t)
{
    file_copy *fc = t->fc;
    if (!fc_failed(fc) && !job_stopping(job)) {
        smb_error err = {0};
        if (run_ranges(job, fc, !t->reopen, &err) != 0)
            fc_fail(fc, "copy", &err);
    } else if (!fc_failed(fc)) {
        smb_error err;
        smb_err_set(&err, SMB_ERR_CANCELLED, 0, "stopped");
        fc_fail(fc, "copy", &err);
    }
    if (atomic_fetch_sub(&fc->runners_left, 1) == 1)
        finalize(job, fc);
}

/* Files up to this size go whole: one read, one write (one round trip each on SMB). */
#define SMALL_MAX (1u << 20)

size_t job_buffer_size(const sc_job *job)
{
    size_t c = chunk_cap(job);
    return c > SMALL_MAX ? c : SMALL_MAX;
}

unsigned job_buffers_kept(const sc_job *job) { return job->opts.threads * WINDOW; }

/*
 * Read a small file whole (through read_whole when offered, else
 * open/read/close), then take its metadata again into *after: the bytes are
 * of one version only when it is still the one the copy started from. With
 * sd, its descriptor too (the parts `parts` the pair copies, which the
 * source endpoint's sd_parts hold), and in *why what the source refused of
 * it (file_meta_report_sd reports it once the file is copied this way).
 */
static int read_small(job_pair *pair, const char *rel, uint8_t *buf, size_t size, ep_stat *after, uint32_t parts,
                      ep_sd *sd, smb_error *why, smb_error *err)
{
    ep *src = pair->src;
    size_t n = 0;
    int rc;
    if (src->ops->read_whole) {
        rc = src->ops->read_whole(src, rel, buf, size, &n, after, sd, err);
        if (rc == 0 && sd) { /* err says what of the descriptor was refused */
            *why = *err;
            memset(err, 0, sizeof *err);
        }
    } else {
        ep_file *f = NULL;
        rc = src->ops->open_read(src, rel, &f, err);
        if (rc == 0 && size) {
            ep_io *io = src->ops->read_submit(f, buf, size, 0, err);
            rc = io ? src->ops->io_wait(io, &n, err) : (err->code ? err->code : SMB_ERR_NO_MEMORY);
        }
        if (rc == 0 && sd)
            rc = file_meta_get_sd(pair->src, parts, f, sd, why, err);
        if (rc == 0 && src->ops->fstat)
            rc = src->ops->fstat(f, after, err);
        smb_error e2;
        if (f)
            src->ops->close(f, &e2);
        if (rc == 0 && !src->ops->fstat)
            rc = src->ops->stat(src, rel, after, err); /* closed: see check_source */
    }
    if (rc == 0 && n != size)
        after->size = n; /* it shrank, whatever the metadata says */
    return rc;
}

/*
 * Write a small file under tmp, finish it, rename it to rel (none when rel
 * is NULL), with its descriptor sd (NULL: none) set before the rename:
 * counted and what the destination did not keep reported for shown.
 */
static int write_small(sc_job *job, job_pair *pair, const char *shown, const char *tmp, const char *rel,
                       const uint8_t *buf, size_t size, const ep_stat *meta, ep_sd *sd, ep_stat *got,
                       const char **stage, smb_error *err)
{
    ep *dst = pair->dst;
    if (dst->ops->write_whole) {
        *stage = "write";
        int rc = dst->ops->write_whole(dst, tmp, rel, buf, size, meta, sd, got, err);
        if (rc == 0 && sd) { /* err says what of the descriptor was not kept */
            file_meta_report_sd(job, shown, true, sd, err);
            memset(err, 0, sizeof *err);
        }
        return rc;
    }
    ep_file *f = NULL;
    *stage = "create";
    ep_stat want = *meta;
    want.size = size;
    int rc = dst->ops->open_write(dst, tmp, &want, &f, err);
    if (rc != 0)
        return rc;
    if (size) {
        *stage = "write";
        ep_io *io = dst->ops->write_submit(f, buf, size, 0, err);
        size_t n;
        rc = io ? dst->ops->io_wait(io, &n, err) : (err->code ? err->code : SMB_ERR_NO_MEMORY);
    }
    if (rc == 0 && sd) { /* before finish sets the times and the rename shows it */
        *stage = "security";
        rc = file_meta_put_sd(job, pair->dst, shown, f, sd, err);
    }
    if (rc == 0) {
        *stage = "set times";
        rc = dst->ops->finish(f, meta, got, err);
    }
    smb_error e2 = {0};
    int crc = dst->ops->close(f, rc ? &e2 : err);
    if (rc == 0)
        rc = crc;
    if (rc == 0 && rel) {
        *stage = "rename into place";
        rc = dst->ops->rename(dst, tmp, rel, meta, err);
    }
    return rc;
}

/* The directory part of rel ("" for none): malloc'd. */
static char *dir_of(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    return slash ? strndup(rel, (size_t)(slash - rel)) : strdup("");
}

/* True for the errors a server gives when it refuses a name (Samba's veto files: OBJECT_NAME_NOT_FOUND). */
static bool name_refusal(int code) { return code == SMB_ERR_NOT_FOUND || code == SMB_ERR_BAD_NAME; }

/* Whether dst refuses to create a file of form in dir: create an empty one, and remove it again. */
static bool form_refused(sc_job *job, ep *dst, const char *dir, int form)
{
    char *in = job_join(dir, "x"), *probe = in ? temp_name_form(in, job->tag, (temp_form)form) : NULL;
    free(in);
    if (!probe)
        return false;
    ep_file *f = NULL;
    ep_stat meta = {.type = EP_FILE};
    smb_error err = {0}, e2 = {0};
    int rc = dst->ops->open_write(dst, probe, &meta, &f, &err);
    if (rc == 0) {
        dst->ops->close(f, &e2);
        dst->ops->unlink(dst, probe, &e2);
    }
    free(probe);
    return rc != 0 && name_refusal(rc);
}

bool job_temp_refused(sc_job *job, ep *dst, const char *dir, int tried, bool is_dir)
{
    (void)is_dir; /* veto patterns match files and directories alike: one probe tells for both */
    if (atomic_load(&job->temp_form) > tried)
        return true; /* another file found out already */
    if (job->opts.temp_names != SC_TEMP_AUTO || tried >= TEMP_INPLACE)
        return false;
    ep_stat st;
    smb_error err = {0};
    if (dst->ops->stat(dst, dir, &st, &err) != 0 || st.type != EP_DIR || !form_refused(job, dst, dir, tried))
        return false; /* the directory went, or the name is not what the server refuses */
    int expect = tried;
    if (atomic_compare_exchange_strong(&job->temp_form, &expect, tried + 1)) {
        char msg[400];
        if (tried + 1 == TEMP_PLAIN)
            snprintf(msg, sizeof msg, "the destination refuses temporary names like %s (veto files?): using %s from now on",
                     temp_form_example(TEMP_DOT), temp_form_example(TEMP_PLAIN));
        else
            snprintf(msg, sizeof msg,
                     "the destination refuses temporary names like %s and %s (veto files?): writing files under their "
                     "final names from now on (one cut short stays incomplete there until a rerun, which the journal "
                     "tells), new directories unstaged",
                     temp_form_example(TEMP_DOT), temp_form_example(TEMP_PLAIN));
        job_event(job, SC_EV_RETRY, dir[0] ? dir : ".", 0, true, msg);
    }
    return true;
}

/* The end of a failure's message when the destination refused the temporary name itself. */
static const char *refusal_hint(sc_job *job, ep *dst, const char *rel, int code, int form)
{
    if (!name_refusal(code) || form == TEMP_INPLACE)
        return "";
    char *dir = dir_of(rel);
    ep_stat st;
    smb_error err = {0};
    bool refused = dir && dst->ops->stat(dst, dir, &st, &err) == 0 && st.type == EP_DIR &&
                   form_refused(job, dst, dir, form);
    free(dir);
    return refused ? " (the destination refuses the temporary name: veto files? see --temp-name)" : "";
}

/* copy_small's answer for a file whose streams need open files (start_copy's path). */
#define COPY_NEEDS_OPEN 1

/*
 * The whole copy of a small file. Returns 0, COPY_NEEDS_OPEN (nothing
 * written), or an error (already cleaned up); *changed when the source
 * changed while it was read (nothing written).
 */
static int copy_small(sc_job *job, task *t, const char *rel, smb_error *err, const char **stage, bool *changed)
{
    job_pair *pair = t->pair;
    size_t size = (size_t)t->st.size;
    uint8_t *buf = bufpool_get(&job->bufs, size);
    const char *direct = t->stage_rel; /* inside a staged directory: straight to its name */
    int form = atomic_load(&job->temp_form);
    char *tmp = direct ? NULL : temp_name_form(rel, job->tag, (temp_form)form);
    int rc = (!buf || !(direct || tmp)) ? smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory") : 0;
    *stage = "read";
    ep_stat after;
    /* The descriptor comes with the data (SMB: in the same round trip), and goes with it. */
    ep_sd sd = {0};
    smb_error sd_why = {0};
    uint32_t sd_parts = file_meta_sd_parts(job, pair);
    if (rc == 0)
        rc = read_small(pair, t->rel, buf, size, &after, sd_parts, sd_parts ? &sd : NULL, &sd_why, err);
    if (rc == 0 && !same_version(&t->st, &after)) {
        *stage = "source";
        *changed = true;
        rc = smb_err_set(err, SMB_ERR_SERVER, 0, CHANGED_MSG);
    }
    if (rc == 0 && file_meta_needs_open(job, pair, &after)) {
        ep_sd_clear(&sd); /* read again with the streams */
        bufpool_put(&job->bufs, buf, size);
        free(tmp);
        return COPY_NEEDS_OPEN;
    }
    if (rc == 0 && sd_parts)
        file_meta_report_sd(job, rel, false, &sd, &sd_why); /* a SACL the source refused */
    ep_stat meta = t->st, got = {0};
    keep_dest_mode(&meta, t->dst_exists, &t->dst_st);
    if (!(pair->dst->caps & EP_CAP_CREATION_TIME) || !(pair->src->caps & EP_CAP_CREATION_TIME))
        meta.ctime = 0;
    meta.attributes &= SMB_ATTR_READONLY | SMB_ATTR_HIDDEN | SMB_ATTR_SYSTEM | SMB_ATTR_ARCHIVE;
    if (rc == 0 && direct && t->dst_exists)
        discard(t->dir, pair->dst, direct, true); /* what an interrupted run left; whole writes only create */
    while (rc == 0) {
        bool inplace = !direct && form == TEMP_INPLACE;
        smb_error e2 = {0};
        if (inplace && t->dst_exists) /* in place: what it replaces goes first (creates only create) */
            pair->dst->ops->unlink(pair->dst, rel, &e2);
        if (inplace && job->cp && checkpoint_started(job->cp, rel, rel, &t->st, err) != 0)
            rc = err->code; /* incomplete until done */
        if (rc == 0)
            rc = write_small(job, pair, rel, direct ? direct : tmp, direct || inplace ? NULL : rel, buf, size, &meta,
                             sd.len ? &sd : NULL, &got, stage, err);
        if (rc == 0)
            break;
        discard(t->dir, pair->dst, direct ? direct : tmp, direct != NULL);
        char *dir = direct || !name_refusal(rc) ? NULL : dir_of(rel);
        bool again = dir && job_temp_refused(job, pair->dst, dir, form, false);
        free(dir);
        if (!again)
            break;
        form = atomic_load(&job->temp_form);
        free(tmp);
        memset(err, 0, sizeof *err);
        rc = (tmp = temp_name_form(rel, job->tag, (temp_form)form)) ? 0
                                                                       : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    if (rc != 0 && !direct && tmp) {
        const char *hint = refusal_hint(job, pair->dst, rel, rc, form);
        if (hint[0]) {
            smb_error e = *err;
            smb_err_set(err, e.code, e.ntstatus, "%s%s", e.message, hint);
        }
    }
    if (rc == 0 && (got.size != t->st.size || !mtime_within(got.mtime, t->st.mtime, job->mtime_window))) {
        *stage = "check";
        rc = smb_err_set(err, SMB_ERR_SERVER, 0, got.size != t->st.size ? "destination holds %llu bytes, expected %llu"
                                                                         : "the destination did not keep the modification time (%llu, %llu)",
                         (unsigned long long)got.size, (unsigned long long)t->st.size);
    }
    if (rc == 0)
        job_event(job, SC_EV_FILE_PROGRESS, rel, size, false, NULL);
    ep_sd_clear(&sd);
    bufpool_put(&job->bufs, buf, size);
    free(tmp);
    return rc;
}

/* CRC-32C of [off, off+len) of rel at e (read in pieces of at most 1 MiB). */
static int range_crc(sc_job *job, ep *e, const char *rel, uint64_t off, uint64_t len, uint32_t *crc, smb_error *err)
{
    ep_file *f = NULL;
    int rc = e->ops->open_read(e, rel, &f, err);
    if (rc != 0)
        return rc;
    size_t io = e->ops->io_size(f), chunk = io && io < SMALL_MAX ? io : SMALL_MAX;
    uint8_t *buf = bufpool_get(&job->bufs, chunk);
    if (!buf)
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    *crc = 0;
    for (uint64_t at = off; rc == 0 && at < off + len;) {
        size_t n = off + len - at < chunk ? (size_t)(off + len - at) : chunk, got = 0;
        ep_io *r = e->ops->read_submit(f, buf, n, at, err);
        rc = r ? e->ops->io_wait(r, &got, err) : (err->code ? err->code : SMB_ERR_NO_MEMORY);
        if (rc == 0 && got != n)
            rc = smb_err_set(err, SMB_ERR_SERVER, 0, "short read");
        if (rc == 0)
            *crc = crc32c(*crc, buf, n);
        at += n;
    }
    bufpool_put(&job->bufs, buf, chunk);
    smb_error e2;
    e->ops->close(f, &e2);
    return rc;
}

/* True when temp is a name this engine would have used for rel (the journal is input too). */
static bool temp_is_ours(const char *temp, const char *rel, const char *direct)
{
    if (direct)
        return strcmp(temp, direct) == 0;
    if (strcmp(temp, rel) == 0)
        return true; /* written in place, incomplete */
    const char *ts = strrchr(temp, '/'), *rs = strrchr(rel, '/');
    size_t tdir = ts ? (size_t)(ts - temp) : 0, rdir = rs ? (size_t)(rs - rel) : 0;
    return tdir == rdir && strncmp(temp, rel, tdir) == 0 && is_temp_name(ts ? ts + 1 : temp);
}

/*
 * Whether the partial copy p (from the journal) can go on: the source is
 * unchanged (size, time, file id, and change time: a source rewritten in
 * place with its mtime put back has another; one the journal does not know,
 * from a version 1 journal, is not trusted), and the temporary file is there
 * and still holds the last committed range (its CRC-32C as recorded, or as
 * the source's bytes when the range never passed through the client).
 */
bool job_resume_ok(sc_job *job, const task *t, const ep_stat *st, const cp_partial *p)
{
    job_pair *pair = t->pair;
    if (p->size != st->size || p->mtime != st->mtime || (p->file_id && st->file_id && p->file_id != st->file_id) ||
        p->change_time != st->change_time)
        return false;
    if (!pair->dst->ops->open_resume || !p->n)
        return false;
    ep_stat ds;
    smb_error err = {0};
    if (pair->dst->ops->stat(pair->dst, p->temp, &ds, &err) != 0 || ds.type != EP_FILE)
        return false;
    const cp_extent *last = &p->ext[p->n - 1];
    if (last->off + last->len > ds.size)
        return false;
    uint32_t got = 0, want = last->check;
    if (range_crc(job, pair->dst, p->temp, last->off, last->len, &got, &err) != 0)
        return false;
    if (!want && range_crc(job, pair->src, t->rel, last->off, last->len, &want, &err) != 0)
        return false;
    return got == want;
}

static int extent_cmp(const void *a, const void *b)
{
    const cp_extent *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Add [off, off+len) to fc's pieces, cut at RANGE_SIZE. */
static bool add_pieces(file_copy *fc, size_t *cap, uint64_t off, uint64_t len)
{
    while (len) {
        if (!ARRAY_RESERVE(fc->pieces, *cap, fc->npieces + 1, 8))
            return false;
        uint64_t l = len < RANGE_SIZE ? len : RANGE_SIZE;
        fc->pieces[fc->npieces++] = (struct piece){off, l};
        off += l;
        len -= l;
    }
    return true;
}

/* What is left to copy: the whole file, or what the committed extents of p do not cover, in *left bytes. False when out of memory. */
static bool plan_pieces(file_copy *fc, cp_partial *p, uint64_t *left)
{
    size_t cap = 0;
    uint64_t size = fc->st.size, at = 0;
    *left = 0;
    if (p)
        qsort(p->ext, p->n, sizeof *p->ext, extent_cmp);
    for (size_t i = 0; p && i < p->n; i++) {
        uint64_t a = p->ext[i].off, b = a + p->ext[i].len;
        if (a > at) {
            if (!add_pieces(fc, &cap, at, a - at))
                return false;
            *left += a - at;
        }
        if (b > at)
            at = b;
    }
    if (at < size) {
        if (!add_pieces(fc, &cap, at, size - at))
            return false;
        *left += size - at;
    }
    return true;
}

/*
 * Look for a partial copy of fc in the journal: resume it (fc->tmp becomes
 * its temporary file) or, when it cannot go on, remove its temporary file.
 * With --checksum nothing the journal says is trusted: the copy starts over.
 * Fills *p for plan_pieces; returns true when resuming.
 */
static bool find_resumable(sc_job *job, task *t, file_copy *fc, cp_partial *p)
{
    if (!job->cp || !checkpoint_partial(job->cp, fc->rel, p))
        return false;
    if (temp_is_ours(p->temp, fc->rel, t->stage_rel)) {
        if (!p->stale && !job->opts.checksum && job_resume_ok(job, t, &fc->st, p)) {
            char *tmp = strdup(p->temp);
            if (tmp) {
                free(fc->tmp);
                fc->tmp = tmp;
                return true;
            }
        } else if (!t->stage_rel) {
            smb_error e2;
            t->pair->dst->ops->unlink(t->pair->dst, p->temp, &e2); /* stale: nobody will finish it */
        }
    }
    checkpoint_forget(job->cp, fc->rel);
    cp_partial_clear(p);
    return false;
}

/*
 * A file this run does not resume (copied whole, or up to date): the
 * temporary an earlier run of this job started for it, which the journal
 * knows, goes (a run killed just after creating it leaves it empty).
 */
static void drop_partial(sc_job *job, const task *t, const char *rel)
{
    cp_partial p = {0};
    if (!job->cp || !checkpoint_partial(job->cp, rel, &p))
        return;
    smb_error e2 = {0};
    if (!t->stage_rel && temp_is_ours(p.temp, rel, NULL) &&
        t->pair->dst->ops->unlink(t->pair->dst, p.temp, &e2) == 0)
        job_event(job, SC_EV_DELETED, p.temp, 0, false, "temporary file of an earlier run");
    checkpoint_forget(job->cp, rel);
    cp_partial_clear(&p);
}

/* Open both ends and copy; split large files. Returns 0, or an error before anything was queued. */
static int start_copy(sc_job *job, task *t, smb_error *err)
{
    job_pair *pair = t->pair;
    file_copy *fc = calloc(1, sizeof *fc);
    if (!fc)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    pthread_mutex_init(&fc->lock, NULL);
    fc->pair = pair;
    fc->dir = t->dir;
    fc->st = t->st;
    fc->dst_exists = t->dst_exists;
    fc->dst_st = t->dst_st;
    fc->attempt = t->attempt;
    fc->rel = strdup(t->dst_rel ? t->dst_rel : t->rel);
    fc->src_rel = strdup(t->rel);
    fc->direct = t->stage_rel != NULL;
    int form = atomic_load(&job->temp_form);
    fc->tmp = fc->direct ? strdup(t->stage_rel) : fc->rel ? temp_name_form(fc->rel, job->tag, (temp_form)form) : NULL;
    fc->inplace = !fc->direct && form == TEMP_INPLACE;
    int rc = 0;
    if (!fc->rel || !fc->src_rel || !fc->tmp) {
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        goto free_fc;
    }
    rc = pair->src->ops->open_read(pair->src, fc->src_rel, &fc->src, err);
    if (rc != 0)
        goto free_fc;
    /*
     * The version copied is the one open now (a listing may be older, or
     * stale on some servers): the check before the rename compares with it.
     */
    ep_stat now;
    rc = source_now(pair->src, fc->src_rel, fc->src, &now, err);
    if (rc == 0 && now.type != EP_FILE)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "the source is no longer a file");
    cp_partial part = {0};
    bool resumed = false;
    uint64_t left = 0;
    if (rc == 0) {
        fc->st = now;
        resumed = find_resumable(job, t, fc, &part);
        if (!plan_pieces(fc, resumed ? &part : NULL, &left))
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        cp_partial_clear(&part);
    }
    if (rc != 0)
        goto close_src;
    if (resumed) {
        fc->inplace = strcmp(fc->tmp, fc->rel) == 0;
        rc = pair->dst->ops->open_resume(pair->dst, fc->tmp, fc->st.size, &fc->dst, err);
    } else {
        if (fc->direct && t->dst_exists)
            discard(fc->dir, pair->dst, fc->tmp, true); /* what an interrupted run left */
        for (;;) {
            smb_error e2 = {0};
            if (fc->inplace && t->dst_exists) /* in place: what it replaces goes first */
                pair->dst->ops->unlink(pair->dst, fc->rel, &e2);
            /* A temporary name must be in the journal before it exists (inside staging, the rerun finds it anyway). */
            if (job->cp && !fc->direct && checkpoint_started(job->cp, fc->rel, fc->tmp, &fc->st, err) != 0)
                rc = err->code;
            if (rc == 0)
                rc = pair->dst->ops->open_write(pair->dst, fc->tmp, &fc->st, &fc->dst, err);
            char *dir = rc == 0 || fc->direct || !name_refusal(rc) ? NULL : dir_of(fc->rel);
            bool again = dir && job_temp_refused(job, pair->dst, dir, form, false);
            free(dir);
            if (!again)
                break;
            form = atomic_load(&job->temp_form);
            char *tmp = temp_name_form(fc->rel, job->tag, (temp_form)form);
            if (!tmp) {
                rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
                break;
            }
            free(fc->tmp);
            fc->tmp = tmp;
            fc->inplace = form == TEMP_INPLACE;
            memset(err, 0, sizeof *err);
            rc = 0;
        }
        if (rc != 0 && !fc->direct) {
            const char *hint = refusal_hint(job, pair->dst, fc->rel, rc, form);
            if (hint[0]) {
                smb_error e = *err;
                smb_err_set(err, e.code, e.ntstatus, "%s%s", e.message, hint);
            }
        }
    }
    if (rc != 0)
        goto close_src;
    if (resumed) {
        atomic_store(&fc->committed, true);
        pthread_mutex_lock(&job->lock);
        job->sum.files_resumed++;
        job->sum.bytes_resumed += fc->st.size - left;
        pthread_mutex_unlock(&job->lock);
        job_event(job, SC_EV_FILE_PROGRESS, fc->rel, fc->st.size - left, false, NULL);
    }
    /* From here on the file is finished through finalize(), which releases t->dir. */
    unsigned runners = 1;
    if (fc->st.size > SPLIT_THRESHOLD && job->opts.threads > 1 && fc->npieces > 1) {
        runners = job->opts.threads < fc->npieces ? job->opts.threads : (unsigned)fc->npieces;
        if (pair->dst->max_writers && runners > pair->dst->max_writers)
            runners = pair->dst->max_writers;
    }
    atomic_init(&fc->runners_left, (int)runners);
    atomic_init(&fc->next_piece, 0);
    for (unsigned i = 1; i < runners; i++) {
        task *r = calloc(1, sizeof *r);
        if (!r) {
            atomic_fetch_sub(&fc->runners_left, 1); /* the others take its ranges */
            continue;
        }
        r->kind = TASK_RANGE;
        r->fc = fc;
        r->reopen = true;
        job_push(job, r, false);
    }
    task first = {.kind = TASK_RANGE, .fc = fc};
    job_copy_range(job, &first);
    return 0;

close_src:;
    smb_error e2;
    pair->src->ops->close(fc->src, &e2);
free_fc:
    fc_free(fc);
    return rc;
}

/* True when the journal says rel was being written under its own name (in place) and never finished. */
static bool inplace_incomplete(sc_job *job, const char *rel)
{
    cp_partial p = {0};
    if (!checkpoint_partial(job->cp, rel, &p))
        return false;
    bool inplace = strcmp(p.temp, rel) == 0;
    cp_partial_clear(&p);
    return inplace;
}

/* True when src and dst hold the same bytes (checksum mode). */
static int same_content(sc_job *job, task *t, bool *same, smb_error *err)
{
    job_pair *pair = t->pair;
    ep_file *a = NULL, *b = NULL;
    int rc = pair->src->ops->open_read(pair->src, t->rel, &a, err);
    if (rc == 0)
        rc = pair->dst->ops->open_read(pair->dst, t->dst_rel ? t->dst_rel : t->rel, &b, err);
    size_t chunk = 1u << 20;
    uint8_t *x = malloc(chunk), *y = malloc(chunk);
    if (rc == 0 && (!x || !y))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    *same = rc == 0;
    for (uint64_t off = 0; rc == 0 && off < t->st.size && *same && !job_stopping(job); off += chunk) {
        size_t n = t->st.size - off < chunk ? (size_t)(t->st.size - off) : chunk, na = 0, nb = 0;
        ep_io *ia = pair->src->ops->read_submit(a, x, n, off, err);
        ep_io *ib = ia ? pair->dst->ops->read_submit(b, y, n, off, err) : NULL;
        if (ia)
            rc = pair->src->ops->io_wait(ia, &na, err);
        if (ib) {
            smb_error e2;
            int r2 = pair->dst->ops->io_wait(ib, &nb, rc ? &e2 : err);
            if (!rc)
                rc = r2;
        } else if (!rc) {
            rc = err->code ? err->code : SMB_ERR_NO_MEMORY;
        }
        if (rc == 0)
            *same = na == n && nb == n && memcmp(x, y, n) == 0;
    }
    free(x);
    free(y);
    smb_error e3;
    if (a)
        pair->src->ops->close(a, &e3);
    if (b)
        pair->dst->ops->close(b, &e3);
    return rc;
}

/*
 * Plan t: skip it (counted and reported), compare it, or list it in a dry
 * run. True when it is to be copied. The journal's word that a file was
 * copied is never a reason to skip it (its destination may have changed
 * since); it is a reason to copy a file whose size and mtime look unchanged
 * when its source's change time says it was rewritten in place since.
 */
static bool copy_planned(sc_job *job, task *t, const char *shown)
{
    plan_action act = plan_file(&t->st, t->dst_exists, &t->dst_st, job->opts.checksum, job->mtime_window);
    smb_error err = {0};
    if (act == PLAN_SKIP && job->cp && checkpoint_done_differs(job->cp, shown, &t->st))
        act = PLAN_UPDATE;
    if (act == PLAN_SKIP && job->cp && inplace_incomplete(job, shown))
        act = PLAN_UPDATE; /* written in place and cut short: whatever it looks like, it is not done */
    if (act == PLAN_COMPARE) {
        bool same = false;
        if (same_content(job, t, &same, &err) != 0) {
            job_fail(job, shown, false, "compare: %s", err.message);
            return false;
        }
        act = same ? PLAN_SKIP : PLAN_UPDATE;
    }
    if (act == PLAN_SKIP && !job->opts.dry_run && file_meta_sd_parts(job, t->pair)) {
        bool updated;
        if (file_meta_refresh(job, t->pair, t->rel, shown, false, &updated, &err) != 0) {
            job_fail(job, shown, false, "security descriptor: %s", err.message);
            return false;
        }
    }
    if (job->plan_note)
        job->plan_note(job->plan_note_arg, shown, &t->st, act != PLAN_SKIP);
    if (act == PLAN_SKIP) {
        drop_partial(job, t, shown);
        pthread_mutex_lock(&job->lock);
        job->sum.files_skipped++;
        job->sum.bytes_skipped += t->st.size;
        pthread_mutex_unlock(&job->lock);
        job_event(job, SC_EV_FILE_SKIPPED, shown, t->st.size, false, NULL);
        return false;
    }
    if (job->opts.dry_run) {
        pthread_mutex_lock(&job->lock);
        job->sum.files_copied++;
        job->sum.bytes_copied += t->st.size;
        pthread_mutex_unlock(&job->lock);
        job_event(job, SC_EV_DRY_RUN, shown, t->st.size, false, act == PLAN_COPY ? "copy" : "update");
        return false;
    }
    job_event(job, SC_EV_FILE_START, shown, t->st.size, false, NULL);
    return true;
}

static bool transient(int code) { return code == SMB_ERR_SHARING; }

void job_copy_file(sc_job *job, task *t)
{
    const char *shown = t->dst_rel ? t->dst_rel : t->rel;
    if (t->split && !job_stopping(job)) {
        shard_copy_split(job, t);
        return;
    }
    if (job_stopping(job) || (t->attempt == 0 && !copy_planned(job, t, shown))) {
        file_task_finish(job, t->dir, &(file_outcome){.result = FILE_DROPPED});
        return;
    }
    smb_error err = {0};
    unsigned attempts = job->opts.retries + 1;
    bool small = t->st.size <= SMALL_MAX && !__atomic_load_n(&t->pair->server_copy, __ATOMIC_ACQUIRE);
    const char *stage = "copy";
    bool changed = false;
    for (unsigned i = t->attempt; i < attempts; i++) {
        memset(&err, 0, sizeof err);
        t->attempt = i;
        /* A copy made again starts from the source as it is now. */
        if ((changed || i > 0) && (ep_stat_path(t->pair->src, t->rel, &t->st, &err) != 0 || t->st.type != EP_FILE)) {
            stage = "stat";
            if (!err.code)
                smb_err_set(&err, SMB_ERR_INVALID_ARG, 0, "the source is no longer a file");
            break;
        }
        changed = false;
        if (small) {
            drop_partial(job, t, shown);
            int rc = copy_small(job, t, shown, &err, &stage, &changed);
            if (rc == 0) {
                file_task_finish(job, t->dir, &(file_outcome){.result = FILE_COPIED, .rel = shown, .st = &t->st});
                return;
            }
            if (rc == COPY_NEEDS_OPEN) { /* it has streams: this file and its retries go through open files */
                small = false;
                stage = "copy";
                if (start_copy(job, t, &err) == 0)
                    return;
            }
        } else if (start_copy(job, t, &err) == 0) {
            return; /* its last range finishes it (finalize) */
        }
        if ((!changed && !transient(err.code)) || i + 1 == attempts || job_stopping(job))
            break;
        job_event(job, SC_EV_RETRY, shown, 0, false, changed ? "the source " CHANGED_MSG ": copying it again" : err.message);
        struct timespec ts = {0, (long)(200000000L << (2 * (i < 3 ? i : 3)))};
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec = ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
        }
        nanosleep(&ts, NULL);
    }
    file_task_finish(job, t->dir,
                     &(file_outcome){.result = FILE_FAILED, .rel = shown, .err = &err, .stage = stage,
                                     .changed = changed, .attempts = t->attempt + 1});
}

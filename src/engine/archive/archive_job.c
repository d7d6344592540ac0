/*
 * Archiving a tree: any source endpoint into a sequential destination (a
 * tar archive, ep_archive.c), which gets the source's entries in a
 * deterministic order, sorted names depth first ("a", "a/x", "a.txt"),
 * while the job's workers read files ahead in parallel.
 *
 *   walker   (one thread) lists directories in that order and appends
 *            entries to the run's list;
 *   readers  (the job's threads) take files in list order and read them
 *            into chunks: small files in one round trip, large ones with a
 *            window of reads in flight;
 *   writer   (the calling thread) writes entries in list order as their
 *            data arrives, and frees it.
 *
 * Read-ahead memory is bounded (read_ahead bytes): a reader waits for room
 * before each chunk, except the reader of the entry the writer is at, which
 * goes on while it is less than a few chunks ahead of the writer; since
 * files are taken in order, that reader exists and the writer never waits
 * forever. A file's size is taken from the listing
 * (a tar header holds it before the data): a file that shrinks while it is
 * read is padded with zeros and reported failed, one that grows is cut.
 *
 * A file's named streams and security descriptor (when the job moves them:
 * archive_meta.h) are read by its reader from the open file, with the
 * data, and count against the read-ahead like it; the writer hands them to
 * the archive before the data, since they go in the entry's header. A
 * directory's are read by the writer when it writes the directory's entry
 * (file_meta_copy_dir, as a copy moves them: the source's open_meta, the
 * archive's open_meta keeping them for the header its set_meta writes).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/archive/archive_job.h"
#include "engine/archive/archive_meta.h"
#include "engine/archive/chunk_queue.h"
#include "engine/file_meta.h"
#include "common/array.h"
#include "engine/plan.h"
#include "engine/archive/snapshot.h"
#include "common/error.h"

#define SMALL_FILE (1u << 20) /* read in one step */
#define CHUNK (1u << 20)      /* a read of a large file */
#define WINDOW 4              /* reads in flight per large file */
#define MAX_PENDING 65536     /* entries listed ahead of the writer */

typedef enum { E_QUEUED, E_OPEN, E_FAILED, E_DONE } entry_state;

typedef struct arc_entry {
    char *rel;
    ep_stat st;
    entry_state state;   /* E_OPEN: data may follow; E_FAILED: nothing read, skip it; E_DONE: all read */
    chunk_queue chunks; /* read, not yet taken by the writer; a sparse file's chunks carry their offset */
    uint64_t read;       /* bytes appended */
    uint64_t written;    /* of those, bytes the writer has taken */
    char *fail;          /* why it failed (with E_FAILED, or a short read with E_DONE), or NULL */
    char *inline_data;   /* made here, not read from the source (the list of deleted entries) */
    bool sparse;         /* a sparse file (set before E_OPEN): data only in ranges[0..nranges) */
    ep_range *ranges;
    size_t nranges;
    arc_meta meta;       /* its streams and descriptor (set before E_OPEN or E_DONE) */
    size_t meta_held;    /* their bytes counted in the run's used */
} arc_entry;

typedef struct arc_run {
    sc_job *job;
    ep *src;
    arc_meta_plan meta; /* what goes with each file besides its data */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    arc_entry **list; /* every entry, in archive order; the writer frees them */
    size_t n, cap;
    arc_entry **files; /* the files among them, for the readers */
    size_t nfiles, files_cap, next_file;
    bool walk_done;
    size_t writing;          /* index of the entry the writer is at */
    arc_entry *writing_file; /* and the file, when it is one: its reader never waits for room */
    size_t used, budget;
    bool stop;
    snapshot *snap; /* incremental: what the last archive held */
} arc_run;

/* ------------------------------------------------------------ the walker */

typedef struct name_list {
    char **names;
    ep_stat *st;
    size_t n, cap, st_cap;
    bool oom;
} name_list;

static int collect_cb(void *arg, const char *name, const ep_stat *st)
{
    name_list *l = arg;
    if (!ARRAY_RESERVE(l->names, l->cap, l->n + 1, 64) || !ARRAY_RESERVE(l->st, l->st_cap, l->n + 1, 64)) {
        l->oom = true;
        return 1;
    }
    l->names[l->n] = name ? strdup(name) : NULL;
    if (name && !l->names[l->n]) {
        l->oom = true;
        return 1;
    }
    if (st)
        l->st[l->n] = *st;
    l->n++;
    return 0;
}

static int by_name(const void *a, const void *b, void *arg)
{
    const name_list *l = arg;
    const char *x = l->names[*(const size_t *)a], *y = l->names[*(const size_t *)b];
    return strcmp(x ? x : "", y ? y : "");
}

/* Append an entry (takes rel); waits while the writer is far behind. */
static bool append(arc_run *r, char *rel, const ep_stat *st, char *inline_data)
{
    arc_entry *e = calloc(1, sizeof *e);
    if (!e) {
        free(rel);
        free(inline_data);
        return false;
    }
    e->rel = rel;
    e->inline_data = inline_data;
    e->st = *st;
    pthread_mutex_lock(&r->lock);
    while (!r->stop && r->n - r->writing >= MAX_PENDING)
        pthread_cond_wait(&r->cond, &r->lock);
    /* Arrays of pointers: sizeof an element is that of a pointer, as meant. */
    bool room = ARRAY_RESERVE(r->list, r->cap, r->n + 1, 1024) && // NOLINT(bugprone-sizeof-expression)
                (st->type == EP_DIR ||
                 ARRAY_RESERVE(r->files, r->files_cap, r->nfiles + 1, 1024)); // NOLINT(bugprone-sizeof-expression)
    if (!room) {
        pthread_mutex_unlock(&r->lock);
        free(e->rel);
        free(e->inline_data);
        free(e);
        return false;
    }
    r->list[r->n++] = e;
    if (st->type != EP_DIR)
        r->files[r->nfiles++] = e;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    return true;
}

static bool stopping(arc_run *r)
{
    pthread_mutex_lock(&r->lock);
    bool s = r->stop;
    pthread_mutex_unlock(&r->lock);
    return s || job_stopping(r->job);
}

/*
 * Deepest directory the walk descends into. The walk recurses once per
 * level, so a server serving an endless chain of directories must not be
 * able to exhaust the walker's stack.
 */
#define ARC_MAX_DEPTH 1024

/* List rel (depth levels below the root) and append its entries, sorted, depth first. */
static void walk(arc_run *r, const char *rel, unsigned depth)
{
    sc_job *job = r->job;
    name_list l = {0};
    smb_error err = {0};
    if (r->src->ops->list(r->src, rel, collect_cb, &l, &err) != 0 || l.oom) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(job, &err);
        job_fail(job, rel[0] ? rel : ".", true, "list source directory: %s", l.oom ? "out of memory" : err.message);
    }
    size_t *order = malloc((l.n ? l.n : 1) * sizeof *order);
    for (size_t i = 0; order && i < l.n; i++)
        order[i] = i;
    if (order)
        qsort_r(order, l.n, sizeof *order, by_name, &l);
    for (size_t k = 0; order && k < l.n && !stopping(r); k++) {
        const char *name = l.names[order[k]];
        const ep_stat *st = &l.st[order[k]];
        if (!name) {
            job_count(job, &job->sum.ignored, 1);
            job_fail(job, rel[0] ? rel : ".", true, "an entry with an undecodable name was not archived");
            continue;
        }
        const char *why = plan_unsafe_name(name, strlen(name));
        char *child = job_join(rel, name);
        if (!child)
            break;
        if (why) {
            job_count(job, &job->sum.ignored, 1);
            job_fail(job, child, st->type == EP_DIR, "refused entry from the source: %s", why);
            free(child);
            continue;
        }
        if (filter_excluded(job->filter, child, st->type == EP_DIR)) {
            free(child);
            continue;
        }
        if (st->type == EP_SYMLINK || st->type == EP_OTHER) {
            job_count(job, &job->sum.ignored, 1);
            job_event(job, SC_EV_ENTRY_IGNORED, child, 0, false,
                      st->type == EP_SYMLINK ? "symbolic link or reparse point not followed" : "not a regular file");
            free(child);
            continue;
        }
        if (st->type == EP_DIR) {
            job_count(job, &job->sum.dirs_total, 1);
            if (r->snap)
                snapshot_note(r->snap, child, st);
            if (depth + 1 >= ARC_MAX_DEPTH) {
                job_fail(job, child, true, "directories nested more than %d deep: not descended", ARC_MAX_DEPTH);
                free(child);
                continue;
            }
            char *again = strdup(child);
            if (!again || !append(r, child, st, NULL)) {
                free(again);
                break;
            }
            walk(r, again, depth + 1);
            free(again);
            continue;
        }
        pthread_mutex_lock(&job->lock);
        job->sum.files_total++;
        job->sum.bytes_total += st->size;
        pthread_mutex_unlock(&job->lock);
        /* Incremental: only what changed since the snapshot, or since --newer-than. */
        bool changed = r->snap ? snapshot_note(r->snap, child, st) : true;
        if (job->opts.newer_than && st->mtime <= job->opts.newer_than)
            changed = false;
        if (!changed) {
            pthread_mutex_lock(&job->lock);
            job->sum.files_skipped++;
            job->sum.bytes_skipped += st->size;
            pthread_mutex_unlock(&job->lock);
            job_event(job, SC_EV_FILE_SKIPPED, child, st->size, false, NULL);
            free(child);
            continue;
        }
        if (!append(r, child, st, NULL))
            break;
    }
    free(order);
    for (size_t i = 0; i < l.n; i++)
        free(l.names[i]);
    free(l.names);
    free(l.st);
}

static void *walker_main(void *arg)
{
    arc_run *r = arg;
    walk(r, "", 0);
    if (r->snap && !stopping(r)) {
        /* What the last archive held and this tree no longer has: one entry listing it, last. */
        char *text = NULL;
        size_t len = 0;
        smb_error err = {0};
        if (snapshot_deleted_text(r->snap, &text, &len, &err) != 0)
            job_fail(r->job, SNAPSHOT_DELETED_ENTRY, false, "%s", err.message);
        else if (len) {
            ep_stat st = {.type = EP_FILE, .size = len, .mtime = 116444736000000000ull + (uint64_t)time(NULL) * 10000000ull};
            char *rel = strdup(SNAPSHOT_DELETED_ENTRY);
            if (rel)
                append(r, rel, &st, text); /* takes both */
            else
                free(text);
            text = NULL;
        }
        free(text);
    }
    pthread_mutex_lock(&r->lock);
    r->walk_done = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    job_event(r->job, SC_EV_WALK_DONE, "", r->job->sum.bytes_total, true, NULL);
    return NULL;
}

/* ------------------------------------------------------------ readers */

__attribute__((format(printf, 2, 3))) static void set_fail(arc_entry *e, const char *fmt, ...)
{
    if (e->fail)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&e->fail, fmt, ap) < 0)
        e->fail = NULL;
    va_end(ap);
}

/*
 * Room for len more bytes of file e (lock held); false when stopping. The
 * file the writer is at may go past the budget (later files may hold it
 * all), but only by a few chunks beyond what the writer has taken: it
 * must not read a large file whole ahead of a slower compressor.
 */
#define HEAD_AHEAD ((uint64_t)WINDOW * CHUNK)

static bool reserve(arc_run *r, const arc_entry *e, size_t len)
{
    while (!r->stop && r->used + len > r->budget &&
           !(e == r->writing_file && e->read - e->written < HEAD_AHEAD))
        pthread_cond_wait(&r->cond, &r->lock);
    if (r->stop)
        return false;
    r->used += len;
    return true;
}

/* Hand a chunk (or a failure or the end) to the writer. */
static void deliver(arc_run *r, arc_entry *e, data_chunk *c, entry_state state)
{
    pthread_mutex_lock(&r->lock);
    if (c) {
        chunk_queue_push(&e->chunks, c);
        e->read += c->len;
    }
    if (state != E_QUEUED)
        e->state = state;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static data_chunk *chunk_new(arc_run *r, const arc_entry *e, size_t len)
{
    pthread_mutex_lock(&r->lock);
    bool ok = reserve(r, e, len);
    pthread_mutex_unlock(&r->lock);
    if (!ok)
        return NULL;
    data_chunk *c = data_chunk_new(len);
    if (!c) {
        pthread_mutex_lock(&r->lock);
        r->used -= len;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        return NULL;
    }
    return c;
}

/*
 * Read e's streams and descriptor from its open source f, when the run
 * moves them, and count them in the read-ahead. Returns 0 or an error that
 * fails the file (a stop: SMB_ERR_CANCELLED).
 */
static int read_meta(arc_run *r, arc_entry *e, ep_file *f, smb_error *err)
{
    if (!arc_meta_wanted(&r->meta, &e->st))
        return 0;
    int rc = arc_meta_read(r->job, &r->meta, r->src, f, e->rel, &e->st, &e->meta, err);
    size_t n = arc_meta_bytes(&e->meta);
    if (rc == 0 && n) {
        pthread_mutex_lock(&r->lock);
        bool room = reserve(r, e, n);
        if (room)
            e->meta_held = n;
        pthread_mutex_unlock(&r->lock);
        if (!room)
            rc = smb_err_set(err, SMB_ERR_CANCELLED, 0, "stopped");
    }
    return rc;
}

/* The failure of reading e's streams or descriptor: its data is not archived either. */
static void meta_failed(arc_run *r, arc_entry *e, const smb_error *err)
{
    if (job_error_is_fatal(err->code))
        job_set_fatal(r->job, err);
    if (err->code == SMB_ERR_CANCELLED)
        set_fail(e, "stopped");
    else
        set_fail(e, "streams and security: %s", err->message);
    deliver(r, e, NULL, E_FAILED);
}

static void read_small(arc_run *r, arc_entry *e)
{
    ep *src = r->src;
    size_t size = (size_t)e->st.size, n = 0;
    data_chunk *c = chunk_new(r, e, size);
    smb_error err = {0};
    int rc = c ? 0 : smb_err_set(&err, SMB_ERR_NO_MEMORY, 0, "stopped or out of memory");
    bool meta_failed_here = false;
    /*
     * In one step where the source offers it (SMB: one round trip, which
     * also tells whether the file has streams: it is opened for them only
     * then); opened when its descriptor is wanted.
     */
    if (rc == 0 && src->ops->read_whole && !r->meta.sd_parts) {
        ep_stat after = {0};
        rc = src->ops->read_whole(src, e->rel, c->data, size, &n, &after, NULL, &err);
        if (rc == 0 && after.streams != EP_STREAMS_NONE && arc_meta_wanted(&r->meta, &e->st)) {
            ep_file *f = NULL;
            rc = src->ops->open_read(src, e->rel, &f, &err);
            if (rc == 0 && (rc = read_meta(r, e, f, &err)) != 0)
                meta_failed_here = true;
            smb_error e2;
            if (f)
                src->ops->close(f, &e2);
        }
    } else if (rc == 0) {
        /* Opened: for its descriptor, or as the source offers no whole reads. */
        ep_file *f = NULL;
        rc = src->ops->open_read(src, e->rel, &f, &err);
        if (rc == 0 && (rc = read_meta(r, e, f, &err)) != 0)
            meta_failed_here = true;
        if (rc == 0 && size) {
            ep_io *io = src->ops->read_submit(f, c->data, size, 0, &err);
            rc = io ? src->ops->io_wait(io, &n, &err) : (err.code ? err.code : SMB_ERR_NO_MEMORY);
        }
        smb_error e2;
        if (f)
            src->ops->close(f, &e2);
    }
    if (rc != 0) {
        if (c) {
            pthread_mutex_lock(&r->lock);
            r->used -= size;
            pthread_cond_broadcast(&r->cond);
            pthread_mutex_unlock(&r->lock);
            free(c);
        }
        if (meta_failed_here) {
            meta_failed(r, e, &err);
            return;
        }
        if (job_error_is_fatal(err.code))
            job_set_fatal(r->job, &err);
        set_fail(e, "read: %s", err.message);
        deliver(r, e, NULL, E_FAILED);
        return;
    }
    if (n < size) {
        set_fail(e, "the file shrank while it was read (%zu of %zu bytes); padded with zeros", n, size);
        memset(c->data + n, 0, size - n);
    }
    deliver(r, e, c, E_DONE);
}

static void read_large(arc_run *r, arc_entry *e)
{
    ep *src = r->src;
    ep_file *f = NULL;
    smb_error err = {0};
    if (src->ops->open_read(src, e->rel, &f, &err) != 0) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(r->job, &err);
        set_fail(e, "open: %s", err.message);
        deliver(r, e, NULL, E_FAILED);
        return;
    }
    if (read_meta(r, e, f, &err) != 0) {
        smb_error e2;
        src->ops->close(f, &e2);
        meta_failed(r, e, &err);
        return;
    }
    /*
     * A file with fewer bytes allocated than its size may have holes: read
     * only its data ranges, and the archive stores it sparse. (If the
     * ranges cannot be had, it is read whole.)
     */
    uint64_t size = e->st.size;
    ep_range whole = {0, size}, *spans = &whole;
    size_t nspans = 1;
    if (e->st.allocated < size && src->ops->data_ranges) {
        ep_range *got = NULL;
        size_t n = 0;
        smb_error rerr = {0};
        if (src->ops->data_ranges(f, size, &got, &n, &rerr) == 0 && !(n == 1 && got[0].off == 0 && got[0].len == size)) {
            e->sparse = true; /* the writer reads these once E_OPEN is delivered */
            e->ranges = got;
            e->nranges = n;
            spans = got;
            nspans = n;
        } else {
            free(got);
        }
    }
    deliver(r, e, NULL, E_OPEN);
    size_t io = src->ops->io_size(f), chunk = io && io < CHUNK ? io : CHUNK;
    struct {
        data_chunk *c;
        ep_io *io;
    } ring[WINDOW];
    unsigned head = 0, inflight = 0;
    size_t span = 0;
    uint64_t next = nspans ? spans[0].off : size;
    bool failed = false, shrank = false;
    while (!failed && (span < nspans || inflight)) {
        while (!failed && span < nspans && inflight < WINDOW) {
            uint64_t end = spans[span].off + spans[span].len;
            size_t len = end - next < chunk ? (size_t)(end - next) : chunk;
            data_chunk *c = chunk_new(r, e, len);
            ep_io *rd = c ? src->ops->read_submit(f, c->data, len, next, &err) : NULL;
            if (!rd) {
                if (!c)
                    smb_err_set(&err, SMB_ERR_CANCELLED, 0, "stopped");
                free(c);
                if (c) {
                    pthread_mutex_lock(&r->lock);
                    r->used -= len;
                    pthread_mutex_unlock(&r->lock);
                }
                failed = true;
                break;
            }
            unsigned s = (head + inflight) % WINDOW;
            c->off = next;
            ring[s].c = c;
            ring[s].io = rd;
            next += len;
            if (next >= end && ++span < nspans)
                next = spans[span].off;
            inflight++;
        }
        if (!inflight)
            break;
        data_chunk *c = ring[head].c;
        size_t got = 0;
        smb_error ignored = {0}; /* after the first failure, later errors are not reported */
        int rc = src->ops->io_wait(ring[head].io, &got, failed ? &ignored : &err);
        head = (head + 1) % WINDOW;
        inflight--;
        if (rc != 0 && !failed)
            failed = true;
        if (failed || shrank) {
            pthread_mutex_lock(&r->lock);
            r->used -= c->len;
            pthread_cond_broadcast(&r->cond);
            pthread_mutex_unlock(&r->lock);
            free(c);
            continue;
        }
        if (got < c->len) {
            memset(c->data + got, 0, c->len - got);
            shrank = true;
        }
        size_t len = c->len; /* c belongs to the writer once delivered */
        deliver(r, e, c, E_QUEUED);
        job_event(r->job, SC_EV_FILE_PROGRESS, e->rel, len, false, NULL);
    }
    smb_error e2;
    src->ops->close(f, &e2);
    if (failed) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(r->job, &err);
        set_fail(e, "read: %s", err.message);
    } else if (shrank) {
        set_fail(e, "the file shrank while it was read; padded with zeros");
    }
    /* A failure after data: the writer pads the rest and reports it. */
    deliver(r, e, NULL, E_DONE);
}

static void *reader_main(void *arg)
{
    arc_run *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        arc_entry *e = NULL;
        while (!r->stop && !e) {
            if (r->next_file < r->nfiles)
                e = r->files[r->next_file++];
            else if (r->walk_done)
                break;
            else
                pthread_cond_wait(&r->cond, &r->lock);
        }
        pthread_mutex_unlock(&r->lock);
        if (!e)
            return NULL;
        if (job_stopping(r->job)) {
            set_fail(e, "stopped");
            deliver(r, e, NULL, E_FAILED);
        } else if (e->inline_data) {
            data_chunk *c = chunk_new(r, e, (size_t)e->st.size);
            if (c)
                memcpy(c->data, e->inline_data, c->len);
            else
                set_fail(e, "stopped");
            deliver(r, e, c, c ? E_DONE : E_FAILED);
        } else if (e->st.size <= SMALL_FILE) {
            read_small(r, e);
        } else {
            read_large(r, e);
        }
    }
}

/* ------------------------------------------------------------ the writer */

static void free_entry(arc_run *r, arc_entry *e)
{
    size_t released = chunk_queue_free(&e->chunks) + e->meta_held;
    if (released) {
        pthread_mutex_lock(&r->lock);
        r->used -= released;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
    }
    arc_meta_clear(&e->meta);
    free(e->rel);
    free(e->fail);
    free(e->inline_data);
    free(e->ranges);
    free(e);
}

/* Write len bytes at off into the sequential destination's open file. */
static int put(ep *dst, ep_file *f, const void *buf, size_t len, uint64_t off, smb_error *err)
{
    ep_io *io = dst->ops->write_submit(f, buf, len, off, err);
    size_t n = 0;
    int rc = io ? dst->ops->io_wait(io, &n, err) : (err->code ? err->code : SMB_ERR_NO_MEMORY);
    if (rc == 0 && n != len)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: short write");
    return rc;
}

/* Write entry e's file: header, data as it arrives (zeros for what never came). Returns an archive error. */
static int write_file(arc_run *r, ep *dst, arc_entry *e, smb_error *err)
{
    sc_job *job = r->job;
    pthread_mutex_lock(&r->lock);
    while (e->state == E_QUEUED && !r->stop)
        pthread_cond_wait(&r->cond, &r->lock);
    entry_state s = e->state;
    pthread_mutex_unlock(&r->lock);
    if (s == E_FAILED || s == E_QUEUED) {
        if (s == E_FAILED && e->fail && strcmp(e->fail, "stopped") != 0)
            job_fail(job, e->rel, false, "%s", e->fail);
        return 0;
    }
    job_event(job, SC_EV_FILE_START, e->rel, e->st.size, false, NULL);
    ep_file *f = NULL;
    int rc = dst->ops->open_write(dst, e->rel, &e->st, &f, err);
    /* Into the header, so before the data; a failure fails the file, whose data still goes in. */
    smb_error merr = {0};
    bool meta_bad = rc == 0 && arc_meta_any(&e->meta) && arc_meta_write(job, dst, f, e->rel, &e->meta, &merr) != 0;
    bool sparse = e->sparse && dst->ops->set_data_ranges;
    if (rc == 0 && sparse)
        rc = dst->ops->set_data_ranges(f, e->ranges, e->nranges, err);
    uint64_t pos = 0; /* the end of what was written */
    bool all_came = false;
    while (rc == 0) {
        pthread_mutex_lock(&r->lock);
        while (!e->chunks.head && e->state != E_DONE && !r->stop)
            pthread_cond_wait(&r->cond, &r->lock);
        data_chunk *c = chunk_queue_pop(&e->chunks);
        bool stop = r->stop;
        all_came = !c && e->state == E_DONE;
        pthread_mutex_unlock(&r->lock);
        if (!c || stop) {
            free(c);
            break;
        }
        /* A sparse file's chunks skip its holes; a plain file's come one after the other. */
        uint64_t at = sparse ? c->off : pos;
        rc = put(dst, f, c->data, c->len, at, err);
        pos = at + c->len;
        pthread_mutex_lock(&r->lock);
        r->used -= c->len;
        e->written += c->len;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        free(c);
    }
    /* What never came (a read failed part-way, or the job stops): zeros, so the archive stays readable. */
    static const uint8_t zeros[65536];
    bool holes_left = sparse && all_came; /* a complete sparse file may end in a hole: finish skips it */
    while (rc == 0 && pos < e->st.size && !holes_left) {
        size_t n = e->st.size - pos < sizeof zeros ? (size_t)(e->st.size - pos) : sizeof zeros;
        rc = put(dst, f, zeros, n, pos, err);
        pos += n;
        set_fail(e, "stopped part-way; the rest is zeros");
    }
    if (rc == 0)
        rc = dst->ops->finish(f, &e->st, NULL, err);
    if (f) {
        smb_error e2 = {0};
        int crc = dst->ops->close(f, &e2);
        if (rc == 0 && crc != 0) {
            *err = e2;
            rc = crc;
        }
    }
    if (rc == 0 && e->fail) {
        job_fail(job, e->rel, false, "%s", e->fail);
    } else if (rc == 0 && meta_bad) {
        job_fail(job, e->rel, false, "streams and security: %s", merr.message);
    } else if (rc == 0) {
        pthread_mutex_lock(&job->lock);
        job->sum.files_copied++;
        job->sum.bytes_copied += e->st.size;
        pthread_mutex_unlock(&job->lock);
        if (e->st.size <= SMALL_FILE)
            job_event(job, SC_EV_FILE_PROGRESS, e->rel, e->st.size, false, NULL);
        job_event(job, SC_EV_FILE_DONE, e->rel, e->st.size, false, NULL);
    }
    return rc;
}

/*
 * Hand directory e's streams and descriptor (when the job moves them) to
 * the archive, for the header set_meta writes next. What the archive
 * cannot hold is reported and counted as for a file; a source that cannot
 * give them fails the directory, whose entry is written all the same.
 */
static void write_dir_meta(arc_run *r, ep *dst, const arc_entry *e)
{
    job_pair pair = {.src = r->src, .dst = dst};
    smb_error err = {0};
    if (file_meta_copy_dir(r->job, &pair, e->rel, e->rel, e->rel, &err) != 0) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(r->job, &err);
        job_fail(r->job, e->rel, true, "directory streams and security: %s", err.message);
    }
}

/* Write every entry in list order; returns an archive error (the job then stops). */
static int write_all(arc_run *r, ep *dst, smb_error *err)
{
    int rc = 0;
    for (size_t idx = 0; rc == 0; idx++) {
        pthread_mutex_lock(&r->lock);
        while (idx >= r->n && !r->walk_done && !r->stop)
            pthread_cond_wait(&r->cond, &r->lock);
        if (idx >= r->n || r->stop) {
            pthread_mutex_unlock(&r->lock);
            break;
        }
        arc_entry *e = r->list[idx];
        r->writing = idx;
        r->writing_file = e->st.type == EP_DIR ? NULL : e;
        pthread_cond_broadcast(&r->cond); /* its reader may now go past the budget */
        pthread_mutex_unlock(&r->lock);
        if (job_stopping(r->job))
            break;
        if (e->st.type == EP_DIR) {
            rc = dst->ops->mkdir(dst, e->rel, err);
            if (rc == 0)
                write_dir_meta(r, dst, e);
            if (rc == 0)
                rc = dst->ops->set_meta(dst, e->rel, &e->st, err);
            if (rc == 0) {
                job_count(r->job, &r->job->sum.dirs_created, 1);
                job_event(r->job, SC_EV_DIR_CREATED, e->rel, 0, true, NULL);
            }
        } else {
            rc = write_file(r, dst, e, err);
        }
        /* Freed now unless a reader may still hold it (stopping): then after the readers end. */
        pthread_mutex_lock(&r->lock);
        bool reader_done = e->st.type == EP_DIR || e->state == E_DONE || e->state == E_FAILED;
        if (reader_done)
            r->list[idx] = NULL;
        pthread_mutex_unlock(&r->lock);
        if (reader_done)
            free_entry(r, e);
    }
    return rc;
}

int job_archive_run(sc_job *job, ep *src, ep *dst, size_t read_ahead, smb_error *err)
{
    int rc = 0;
    arc_run r = {.job = job, .src = src, .budget = read_ahead ? read_ahead : SC_DEFAULT_READ_AHEAD};
    r.meta = arc_meta_plan_for(job, src, dst); /* before the first open: opens ask for what it needs */
    if (job->opts.snapshot && (rc = snapshot_load(job->opts.snapshot, &r.snap, err)) != 0) {
        if (dst)
            dst->ops->commit(dst, false, NULL);
        return rc;
    }
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);
    unsigned nreaders = job->opts.threads ? job->opts.threads : 1;
    pthread_t walker, *readers = calloc(nreaders, sizeof *readers);
    bool walker_ok = readers && pthread_create(&walker, NULL, walker_main, &r) == 0;
    unsigned started = 0;
    while (walker_ok && !job->opts.dry_run && started < nreaders &&
           pthread_create(&readers[started], NULL, reader_main, &r) == 0)
        started++;
    if (!walker_ok || (!job->opts.dry_run && !started))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "cannot start threads");
    if (rc == 0 && job->opts.dry_run) {
        /* Say what would go in, in order. */
        for (size_t idx = 0;; idx++) {
            pthread_mutex_lock(&r.lock);
            while (idx >= r.n && !r.walk_done)
                pthread_cond_wait(&r.cond, &r.lock);
            arc_entry *e = idx < r.n ? r.list[idx] : NULL;
            if (e) {
                r.list[idx] = NULL;
                r.writing = idx + 1;
            }
            pthread_cond_broadcast(&r.cond);
            pthread_mutex_unlock(&r.lock);
            if (!e)
                break;
            job_event(job, SC_EV_DRY_RUN, e->rel, e->st.size, e->st.type == EP_DIR, "archive");
            if (e->st.type != EP_DIR) {
                job_count(job, &job->sum.files_copied, 1);
                job_count(job, &job->sum.bytes_copied, e->st.size);
            }
            free_entry(&r, e);
        }
    } else if (rc == 0) {
        rc = write_all(&r, dst, err);
    }
    pthread_mutex_lock(&r.lock);
    r.stop = true;
    pthread_cond_broadcast(&r.cond);
    pthread_mutex_unlock(&r.lock);
    if (walker_ok)
        pthread_join(walker, NULL);
    for (unsigned i = 0; i < started; i++)
        pthread_join(readers[i], NULL);
    free(readers);
    for (size_t i = 0; i < r.n; i++)
        if (r.list[i])
            free_entry(&r, r.list[i]);
    free(r.list);
    free(r.files);
    pthread_mutex_destroy(&r.lock);
    pthread_cond_destroy(&r.cond);
    if (rc == 0 && atomic_load(&job->fatal)) {
        *err = job->fatal_err;
        rc = atomic_load(&job->fatal);
    }
    bool complete = rc == 0 && !atomic_load(&job->cancel);
    smb_error e2 = {0};
    int crc = dst ? dst->ops->commit(dst, complete, &e2) : 0;
    if (rc == 0 && crc != 0) {
        *err = e2;
        rc = crc;
    }
    /* The next increment starts from this archive, once it is complete. */
    if (rc == 0 && complete && r.snap && !job->opts.dry_run)
        rc = snapshot_save(r.snap, job->opts.snapshot, err);
    snapshot_free(r.snap);
    return rc;
}

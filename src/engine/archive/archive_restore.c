/*
 * Restoring an archive (a sequential source endpoint, ep_archive.c) into
 * a destination endpoint (a share or a local directory). An archive can
 * only be read front to back, so:
 *
 *   reader   (the calling thread) takes entry after entry (the source's
 *            next), refuses unsafe ones (archive_in.c checks every name),
 *            creates directories (parents first, each once) and reads each
 *            file's data into chunks;
 *   writers  (the job's threads) take files in order and write each under
 *            a temporary name in its directory, set its times and
 *            attributes, and rename it over its final name.
 *
 * Data read but not yet written is bounded (read_ahead): the reader waits
 * for room, and writers make room as they write, so nothing waits forever.
 * Directory times are set at the end, deepest first (files change them).
 *
 * A name may come more than once (tar appends updates that way): as with
 * tar, the last entry wins. Entries of one name being written at once put
 * their files in place in archive order (each takes a ticket of its name;
 * the rename waits for its turn), so an earlier entry never lands over a
 * later one, whichever thread finishes first; only the first of them may
 * be written straight under its name in a staged directory.
 *
 * Directories are found by name in a hash table and made iteratively,
 * parents first, in time linear in the archive; an entry nested deeper than
 * ARC_IN_MAX_DEPTH is refused by the name checks before anything is made.
 *
 * An incremental archive's list of deleted entries is applied only when the
 * user asks (apply_deletions; restore_deletions.c), never restored as a file.
 *
 * A file's named streams and security descriptor (when the job moves them:
 * archive_meta.h) are read by the reader when it opens the entry, before
 * the file is queued, and count against the read-ahead; its writer puts
 * them on the temporary file after the data, before finish and the rename.
 * A directory's are read from its entry (the archive's open_meta) and kept
 * in its record; they are put on it (the destination's open_meta) at the
 * end, after its children and before its times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "engine/archive/archive_in.h"
#include "engine/names/case_guard.h"
#include "engine/archive/archive_job.h"
#include "engine/archive/archive_meta.h"
#include "engine/archive/chunk_queue.h"
#include "common/name_table.h"
#include "engine/archive/restore_deletions.h"
#include "engine/archive/snapshot.h"
#include "engine/names/temp_names.h"
#include "common/error.h"

#define CHUNK (1u << 20)
#define WINDOW 4 /* writes in flight per file */
#define SHOWN_NAME_MAX 256 /* longest refused name reported whole */

/* The entries of one name not yet finished (a record in the run's table of names in flight). */
typedef struct rname {
    unsigned refs;    /* entries of the name queued or being written */
    uint64_t issued;  /* tickets handed out */
    uint64_t serving; /* the ticket whose turn it is to put its file in place */
} rname;

typedef struct rfile {
    struct rfile *next; /* the writers' queue */
    rname *name;        /* its name's record, and its ticket there */
    uint64_t ticket;
    char *rel;
    char *at;           /* where it is written: its final path, or its path inside a staged directory */
    bool direct;        /* inside a staged directory: written under its own name, no rename */
    ep_stat st;
    chunk_queue chunks; /* read from the archive, not yet written */
    bool eof;           /* the reader is done with it */
    char *fail;         /* the reader could not read it whole */
    arc_meta meta;      /* its streams and descriptor (set before it is queued) */
    size_t meta_held;   /* their bytes counted in the run's used */
} rfile;

#define NO_DIR ((size_t)-1)

typedef struct rdir {
    char *rel;
    size_t name_off; /* where its own name starts in rel */
    size_t parent;   /* its parent's record (an index), NO_DIR at the top */
    char *at;        /* where it is now (inside a staged directory, or the staging name itself) */
    bool staged;     /* new: at is (inside) a staging directory */
    bool stage_root; /* the staging directory itself, renamed to rel at the end */
    ep_stat st;
    bool has_meta; /* an entry of the archive (else made as a parent: times left alone) */
    arc_meta meta; /* its entry's streams and descriptor, set with its times */
} rdir;

typedef struct restore_run {
    sc_job *job;
    ep *dst;
    arc_meta_plan meta; /* what goes with each file besides its data */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    rfile *qhead, *qtail;
    bool reading_done, stop;
    size_t used, budget;
    rdir *dirs; /* made or met, parents first, for times at the end */
    size_t ndirs, dirs_cap;
    name_table dir_index; /* rel -> its index in dirs (a size_t record) */
    name_table names;     /* file names in flight (rname records), under lock */
    char *deleted;        /* an incremental archive's list of deleted entries */
    size_t deleted_len;
    bool deleted_noted;   /* the list was met and not applied: said once */
    bool fold;            /* the destination folds case: one spelling per name (guard) */
    case_guard guard;
} restore_run;

/* ------------------------------------------------------------ directories */

/* The record of directory rel[0..len), or NO_DIR. */
static size_t dir_find(restore_run *r, const char *rel, size_t len)
{
    const size_t *i = name_table_find(&r->dir_index, rel, len);
    return i ? *i : NO_DIR;
}

/*
 * Make directory rel[0..len) (its own name at name_off, its parent's
 * record: parent) at the destination and record it: its index, or NO_DIR
 * with err set. A directory the destination lacks is built under a staging name beside its
 * final one (".smbcopy-<hash of its name>.tmp", found again by a rerun),
 * with everything below it written under its own names inside, and renamed
 * into place at the end: no rename per file (which is what makes writing
 * many small files to Samba slow), and no half-restored tree under its
 * final name.
 */
static size_t make_one_dir(restore_run *r, const char *rel, size_t len, size_t name_off, size_t parent,
                           smb_error *err)
{
    const char *parent_at = parent == NO_DIR ? "" : r->dirs[parent].at;
    bool in_stage = parent != NO_DIR && r->dirs[parent].staged;
    char *rel_copy = strndup(rel, len);
    char *final_at = rel_copy ? job_join(parent_at, rel_copy + name_off) : NULL, *at = NULL;
    bool stage_root = false;
    ep_stat dst_st;
    smb_error e2 = {0};
    if (!final_at) {
        free(rel_copy);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NO_DIR;
    }
    if (in_stage) {
        at = final_at;
        final_at = NULL;
        if (r->dst->ops->mkdir(r->dst, at, &e2) != 0 && e2.code != SMB_ERR_EXISTS) {
            *err = e2;
            free(at);
            free(rel_copy);
            return NO_DIR;
        }
    } else if (r->dst->ops->stat(r->dst, final_at, &dst_st, &e2) == 0 && dst_st.type == EP_DIR) {
        at = final_at; /* already there: files go in under temporary names */
        final_at = NULL;
    } else {
        at = stage_name_for(parent_at, rel_copy + name_off, r->job->tag);
        stage_root = true;
        memset(&e2, 0, sizeof e2);
        if (!at || (r->dst->ops->mkdir(r->dst, at, &e2) != 0 && e2.code != SMB_ERR_EXISTS)) {
            if (at)
                *err = e2;
            else
                smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            free(at);
            free(final_at);
            free(rel_copy);
            return NO_DIR;
        }
    }
    free(final_at);
    if (stage_root || in_stage) {
        job_count(r->job, &r->job->sum.dirs_created, 1);
        job_event(r->job, SC_EV_DIR_CREATED, rel_copy, 0, true, NULL);
    }
    size_t *slot = NULL;
    if (!ARRAY_RESERVE(r->dirs, r->dirs_cap, r->ndirs + 1, 64) || !(slot = name_table_get(&r->dir_index, rel, len, NULL))) {
        free(at);
        free(rel_copy);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NO_DIR;
    }
    rdir *d = &r->dirs[r->ndirs];
    memset(d, 0, sizeof *d);
    d->rel = rel_copy;
    d->name_off = name_off;
    d->parent = parent;
    d->at = at;
    d->staged = stage_root || in_stage;
    d->stage_root = stage_root;
    *slot = r->ndirs;
    return r->ndirs++;
}

/*
 * Make rel[0..len) and its missing parents (each once, top down, no
 * recursion); st: its metadata as an entry of the archive (NULL: a parent
 * only, times left alone). Returns its record, or NO_DIR with err set.
 */
static size_t make_dirs(restore_run *r, const char *rel, size_t len, const ep_stat *st, smb_error *err)
{
    /* The deepest directory of the path already known: rel itself, usually its parent. */
    size_t known = NO_DIR, end = len;
    for (;;) {
        if ((known = dir_find(r, rel, end)) != NO_DIR)
            break;
        const char *slash = memrchr(rel, '/', end);
        if (!slash)
            break;
        end = (size_t)(slash - rel);
    }
    size_t d = known;
    if (known == NO_DIR || end < len) {
        size_t pos = known == NO_DIR ? 0 : end + 1;
        for (;;) {
            const char *slash = memchr(rel + pos, '/', len - pos);
            size_t stop = slash ? (size_t)(slash - rel) : len;
            if ((d = make_one_dir(r, rel, stop, pos, d, err)) == NO_DIR)
                return NO_DIR;
            if (stop == len)
                break;
            pos = stop + 1;
        }
    }
    if (st) {
        r->dirs[d].st = *st;
        r->dirs[d].has_meta = true;
    }
    return d;
}

/* ------------------------------------------------------------ writers */

static void release(restore_run *r, size_t n)
{
    pthread_mutex_lock(&r->lock);
    r->used -= n;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/* The next chunk of f (waits for the reader); NULL at its end. */
static data_chunk *next_chunk(restore_run *r, rfile *f)
{
    pthread_mutex_lock(&r->lock);
    while (!f->chunks.head && !f->eof && !r->stop)
        pthread_cond_wait(&r->cond, &r->lock);
    data_chunk *c = chunk_queue_pop(&f->chunks);
    pthread_mutex_unlock(&r->lock);
    return c;
}

/*
 * Wait until f may put its file in place: every earlier entry of its name
 * is finished. False when the restore stops first.
 */
static bool turn_wait(restore_run *r, rfile *f)
{
    pthread_mutex_lock(&r->lock);
    while (f->name->serving != f->ticket && !r->stop)
        pthread_cond_wait(&r->cond, &r->lock);
    bool mine = f->name->serving == f->ticket;
    pthread_mutex_unlock(&r->lock);
    return mine;
}

/* f is finished (in place, or failed): the next entry of its name may go, once every earlier one went. */
static void turn_end(restore_run *r, rfile *f)
{
    pthread_mutex_lock(&r->lock);
    while (f->name->serving != f->ticket && !r->stop)
        pthread_cond_wait(&r->cond, &r->lock);
    if (f->name->serving == f->ticket)
        f->name->serving++;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

/*
 * A small file in one step where the endpoint offers it (for SMB one
 * compounded round trip: create, write, times, rename, close).
 */
static int write_small(restore_run *r, rfile *f, const char *tmp, const char **stage, smb_error *err)
{
    ep *dst = r->dst;
    uint8_t *buf = malloc(f->st.size ? (size_t)f->st.size : 1);
    size_t len = 0;
    bool over = false;
    data_chunk *c;
    while ((c = next_chunk(r, f)) != NULL) {
        if (buf && !over && c->len <= f->st.size - len) {
            memcpy(buf + len, c->data, c->len);
            len += c->len;
        } else {
            over = true;
        }
        release(r, c->len);
        free(c);
    }
    int rc = 0;
    if (!buf)
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    else if (f->fail)
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s", f->fail);
    else if (over || len != f->st.size)
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the archive holds another size than its header says");
    if (rc == 0) {
        ep_stat meta = f->st, got = {0};
        if (!(dst->caps & EP_CAP_CREATION_TIME))
            meta.ctime = 0;
        *stage = "write";
        if (!f->direct && !turn_wait(r, f)) /* the rename into place is part of the one step */
            rc = smb_err_set(err, SMB_ERR_CANCELLED, 0, "cancelled");
        else
            rc = dst->ops->write_whole(dst, tmp, f->direct ? NULL : f->at, buf, len, &meta, NULL, &got, err);
        job_event(r->job, SC_EV_FILE_PROGRESS, f->rel, len, false, NULL);
    }
    free(buf);
    return rc;
}

/* Write f under a temporary name, finish it, rename it into place. */
static int write_one(restore_run *r, rfile *f, const char **stage, smb_error *err)
{
    ep *dst = r->dst;
    /* Inside a staged directory: its own name (what a rerun left there goes first). */
    char *tmp = f->direct ? strdup(f->at) : temp_name_tagged(f->at, r->job->tag);
    if (!tmp)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (f->direct) {
        smb_error e2;
        dst->ops->unlink(dst, tmp, &e2);
    }
    if (f->st.size <= CHUNK && dst->ops->write_whole && !arc_meta_any(&f->meta)) {
        int rc = write_small(r, f, tmp, stage, err);
        free(tmp);
        return rc;
    }
    ep_file *out = NULL;
    *stage = "create";
    int rc = dst->ops->open_write(dst, tmp, &f->st, &out, err);
    struct {
        ep_io *io;
        data_chunk *c;
    } ring[WINDOW];
    unsigned head = 0, inflight = 0;
    uint64_t off = 0;
    *stage = "write";
    while (rc == 0) {
        data_chunk *c = inflight < WINDOW ? next_chunk(r, f) : NULL;
        if (c) {
            unsigned s = (head + inflight) % WINDOW;
            ring[s].c = c;
            ring[s].io = dst->ops->write_submit(out, c->data, c->len, off, err);
            off += c->len;
            if (!ring[s].io) {
                rc = err->code ? err->code : SMB_ERR_NO_MEMORY;
                release(r, c->len);
                free(c);
                break;
            }
            inflight++;
            continue;
        }
        if (!inflight)
            break;
        size_t n;
        rc = dst->ops->io_wait(ring[head].io, &n, err);
        job_event(r->job, SC_EV_FILE_PROGRESS, f->rel, ring[head].c->len, false, NULL);
        release(r, ring[head].c->len);
        free(ring[head].c);
        head = (head + 1) % WINDOW;
        inflight--;
    }
    for (; inflight; inflight--, head = (head + 1) % WINDOW) {
        smb_error e2;
        size_t n;
        dst->ops->io_wait(ring[head].io, &n, &e2);
        release(r, ring[head].c->len);
        free(ring[head].c);
    }
    if (rc == 0 && f->fail)
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s", f->fail);
    if (rc == 0 && off != f->st.size)
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the archive holds %llu bytes of it, its header says %llu",
                         (unsigned long long)off, (unsigned long long)f->st.size);
    ep_stat got = {0}, meta = f->st;
    if (!(dst->caps & EP_CAP_CREATION_TIME))
        meta.ctime = 0;
    if (rc == 0 && arc_meta_any(&f->meta)) {
        /* On the temporary, before finish sets the times and the rename shows it. */
        *stage = "streams and security";
        rc = arc_meta_write(r->job, dst, out, f->rel, &f->meta, err);
    }
    if (rc == 0) {
        *stage = "set times";
        rc = dst->ops->finish(out, &meta, &got, err);
    }
    if (out) {
        smb_error e2 = {0};
        int crc = dst->ops->close(out, rc ? &e2 : err);
        if (rc == 0)
            rc = crc;
    }
    if (rc == 0 && !f->direct) {
        *stage = "rename into place";
        rc = turn_wait(r, f) ? dst->ops->rename(dst, tmp, f->at, &meta, err)
                             : smb_err_set(err, SMB_ERR_CANCELLED, 0, "cancelled");
    }
    if (rc != 0 && out) {
        smb_error e2;
        dst->ops->unlink(dst, tmp, &e2);
    }
    free(tmp);
    return rc;
}

static void free_file(restore_run *r, rfile *f)
{
    size_t n = chunk_queue_free(&f->chunks) + f->meta_held;
    if (n)
        release(r, n);
    arc_meta_clear(&f->meta);
    if (f->name) {
        pthread_mutex_lock(&r->lock);
        if (--f->name->refs == 0)
            name_table_remove(&r->names, f->name);
        pthread_mutex_unlock(&r->lock);
    }
    free(f->rel);
    free(f->at);
    free(f->fail);
    free(f);
}

static void *writer_main(void *arg)
{
    restore_run *r = arg;
    sc_job *job = r->job;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        while (!r->qhead && !r->reading_done && !r->stop)
            pthread_cond_wait(&r->cond, &r->lock);
        rfile *f = r->stop ? NULL : r->qhead;
        if (f) {
            r->qhead = f->next;
            if (!r->qhead)
                r->qtail = NULL;
        }
        pthread_mutex_unlock(&r->lock);
        if (!f)
            return NULL;
        job_event(job, SC_EV_FILE_START, f->rel, f->st.size, false, NULL);
        smb_error err = {0};
        const char *stage = "write";
        if (write_one(r, f, &stage, &err) == 0) {
            pthread_mutex_lock(&job->lock);
            job->sum.files_copied++;
            job->sum.bytes_copied += f->st.size;
            pthread_mutex_unlock(&job->lock);
            job_event(job, SC_EV_FILE_DONE, f->rel, f->st.size, false, NULL);
        } else {
            if (job_error_is_fatal(err.code))
                job_set_fatal(job, &err);
            if (err.code != SMB_ERR_CANCELLED)
                job_fail(job, f->rel, false, "%s: %s", stage, err.message);
        }
        /* After a failed write the reader may still be appending to f: take and drop the rest, then free it. */
        data_chunk *c;
        while ((c = next_chunk(r, f)) != NULL) {
            release(r, c->len);
            free(c);
        }
        turn_end(r, f);
        free_file(r, f);
    }
}

/* ------------------------------------------------------------ the reader */

/* Up to len bytes at off of the source's open entry: the count, 0 at its end, or an error. */
static ssize_t read_at(ep *src, ep_file *in, void *buf, size_t len, uint64_t off, smb_error *err)
{
    ep_io *io = src->ops->read_submit(in, buf, len, off, err);
    size_t n = 0;
    int rc = io ? src->ops->io_wait(io, &n, err) : (err->code ? err->code : SMB_ERR_NO_MEMORY);
    return rc != 0 ? rc : (ssize_t)n;
}

/* Read the current entry's data into f's chunks; false when the job stops. */
static bool read_data(restore_run *r, ep *src, ep_file *in, rfile *f, smb_error *err)
{
    uint64_t got = 0;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        while (!r->stop && r->used + CHUNK > r->budget && r->used > 0)
            pthread_cond_wait(&r->cond, &r->lock);
        bool stop = r->stop;
        if (!stop)
            r->used += CHUNK;
        pthread_mutex_unlock(&r->lock);
        if (stop)
            return false;
        data_chunk *c = data_chunk_new(CHUNK);
        ssize_t n = c ? read_at(src, in, c->data, CHUNK, got, err)
                      : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        if (n <= 0) {
            free(c);
            release(r, CHUNK);
            if (n < 0) {
                if (asprintf(&f->fail, "read from the archive: %s", err->message) < 0)
                    f->fail = NULL;
                return false;
            }
            return true;
        }
        got += (uint64_t)n;
        c->len = (size_t)n;
        pthread_mutex_lock(&r->lock);
        r->used -= CHUNK - (size_t)n;
        chunk_queue_push(&f->chunks, c);
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        if (job_stopping(r->job))
            return false;
    }
}

/*
 * Read f's streams and descriptor from in, the open entry, when the run
 * moves them, and count them in the read-ahead. False when the file fails
 * (f->fail says why) or the restore stops.
 */
static bool read_meta(restore_run *r, ep *src, ep_file *in, rfile *f)
{
    if (!arc_meta_wanted(&r->meta, &f->st))
        return true;
    smb_error err = {0};
    if (arc_meta_read(r->job, &r->meta, src, in, f->rel, &f->st, &f->meta, &err) != 0) {
        if (asprintf(&f->fail, "streams and security: %s", err.message) < 0)
            f->fail = NULL;
        return false;
    }
    size_t n = arc_meta_bytes(&f->meta);
    pthread_mutex_lock(&r->lock);
    while (n && !r->stop && r->used + n > r->budget && r->used > 0)
        pthread_cond_wait(&r->cond, &r->lock);
    bool stop = r->stop;
    if (!stop) {
        r->used += n;
        f->meta_held = n;
    }
    pthread_mutex_unlock(&r->lock);
    return !stop;
}

/*
 * Read directory entry rel's streams and descriptor (the current entry of
 * src), when the run moves them, into d's record, for the end, when its
 * times are set. Held until then, outside the read-ahead budget. A failure
 * is reported for the directory, which is restored without them.
 */
static void read_dir_meta(restore_run *r, ep *src, rdir *d, const char *rel, const ep_stat *st)
{
    arc_meta_clear(&d->meta); /* a directory met twice: the later entry's */
    if (!arc_meta_wanted(&r->meta, st) || !src->ops->open_meta || !r->dst->ops->open_meta)
        return;
    smb_error err = {0};
    ep_file *in = NULL;
    int rc = src->ops->open_meta(src, rel, true, false, &in, &err);
    if (rc == 0)
        rc = arc_meta_read(r->job, &r->meta, src, in, rel, st, &d->meta, &err);
    if (in) {
        smb_error e2;
        src->ops->close(in, &e2);
    }
    if (rc != 0) {
        arc_meta_clear(&d->meta);
        job_fail(r->job, rel, true, "directory streams and security: %s", err.message);
    }
}

/*
 * Write directory d's streams and descriptor from its entry onto it at the
 * destination, before its times (writing a stream changes them); reported
 * as a file's (arc_meta_write), a failure for the directory.
 */
static void write_dir_meta(restore_run *r, rdir *d)
{
    if (!arc_meta_any(&d->meta))
        return;
    ep *dst = r->dst;
    smb_error err = {0};
    ep_file *f = NULL;
    int rc = dst->ops->open_meta(dst, d->at, true, true, &f, &err);
    if (rc == 0)
        rc = arc_meta_write(r->job, dst, f, d->rel, &d->meta, &err);
    if (f) {
        smb_error e2 = {0};
        int crc = dst->ops->close(f, &e2);
        if (rc == 0 && crc != 0) {
            err = e2;
            rc = crc;
        }
    }
    if (rc != 0)
        job_fail(r->job, d->rel, true, "directory streams and security: %s", err.message);
}

/* Read the current entry, an increment's list of deleted entries, into r (a later list replaces an earlier one). */
static int read_deleted(restore_run *r, ep *src, const char **rel, const ep_stat *st, smb_error *err)
{
    free(r->deleted);
    r->deleted_len = 0;
    r->deleted = st->size < (64u << 20) ? malloc((size_t)st->size + 1) : NULL;
    if (!r->deleted)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "the list of deleted entries is too large");
    ep_file *in = NULL;
    ssize_t got = src->ops->open_read(src, *rel, &in, err);
    while (got == 0 && r->deleted_len < st->size &&
           (got = read_at(src, in, r->deleted + r->deleted_len, (size_t)st->size - r->deleted_len, r->deleted_len,
                          err)) > 0) {
        r->deleted_len += (size_t)got;
        got = 0;
    }
    if (in) {
        smb_error e2;
        src->ops->close(in, &e2);
    }
    return got < 0 ? (int)got : 0;
}

/* Read every entry; returns an error that ends the restore (a damaged archive, a lost connection). */
static int read_all(restore_run *r, ep *src, smb_error *err)
{
    sc_job *job = r->job;
    int rc = 0;
    struct {
        const char *rel;
        ep_stat st;
        const char *refused;
    } e;
    while (rc == 0 && !job_stopping(job)) {
        int n = src->ops->next(src, &e.rel, &e.st, &e.refused, err);
        if (n < 0)
            rc = n;
        if (n <= 0)
            break;
        if (e.refused) {
            /* A hostile name may be hundreds of KB long: its report shows the start and the length. */
            size_t len = strlen(e.rel);
            char *shown = NULL;
            if (len > SHOWN_NAME_MAX && asprintf(&shown, "%.*s... (a name of %zu bytes)", SHOWN_NAME_MAX, e.rel, len) < 0)
                shown = NULL;
            job_count(job, &job->sum.ignored, 1);
            job_fail(job, shown ? shown : e.rel, e.st.type == EP_DIR, "refused entry from the archive: %s", e.refused);
            free(shown);
            continue;
        }
        if (!e.rel[0])
            continue; /* "./": the destination itself */
        if (strcmp(e.rel, SNAPSHOT_DELETED_ENTRY) == 0 && e.st.type == EP_FILE) {
            /* An increment's deletions: never a file of the tree; applied, when asked, once everything else is written. */
            if (!job->opts.apply_deletions) {
                if (!r->deleted_noted) {
                    r->deleted_noted = true;
                    job_count(job, &job->sum.ignored, 1);
                    job_event(job, SC_EV_ENTRY_IGNORED, e.rel, 0, false,
                              "the archive's list of deleted entries is not applied (--incremental applies it)");
                }
                continue;
            }
            rc = read_deleted(r, src, &e.rel, &e.st, err);
            continue;
        }
        if (filter_path_excluded(job->filter, e.rel, e.st.type == EP_DIR))
            continue;
        if (r->fold) {
            /* "a.txt" after "A.txt" would land on it: refused, the earlier entry stays. */
            size_t len = 0;
            bool oom = false;
            const char *earlier = case_guard_check(&r->guard, e.rel, &len, &oom);
            if (oom) {
                rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
                break;
            }
            if (earlier) {
                if (e.st.type != EP_DIR) {
                    job_count(job, &job->sum.files_total, 1);
                    job_count(job, &job->sum.bytes_total, e.st.size);
                }
                if (len == strlen(e.rel))
                    job_fail(job, e.rel, e.st.type == EP_DIR,
                             "differs only in case from '%s' (an earlier entry); the destination cannot hold both",
                             earlier);
                else
                    job_fail(job, e.rel, e.st.type == EP_DIR,
                             "its directory '%.*s' differs only in case from '%s' (an earlier entry); the "
                             "destination cannot hold both",
                             (int)len, e.rel, earlier);
                continue;
            }
        }
        if (e.st.type == EP_DIR) {
            job_count(job, &job->sum.dirs_total, 1);
            smb_error derr = {0};
            size_t d = job->opts.dry_run ? NO_DIR : make_dirs(r, e.rel, strlen(e.rel), &e.st, &derr);
            if (!job->opts.dry_run && d == NO_DIR) {
                if (job_error_is_fatal(derr.code)) {
                    *err = derr;
                    rc = derr.code;
                }
                job_fail(job, e.rel, true, "create directory: %s", derr.message);
            } else if (!job->opts.dry_run) {
                read_dir_meta(r, src, &r->dirs[d], e.rel, &e.st);
            } else {
                job_event(job, SC_EV_DRY_RUN, e.rel, 0, true, "mkdir");
            }
            continue;
        }
        pthread_mutex_lock(&job->lock);
        job->sum.files_total++;
        job->sum.bytes_total += e.st.size;
        pthread_mutex_unlock(&job->lock);
        if (job->opts.dry_run) {
            job_count(job, &job->sum.files_copied, 1);
            job_count(job, &job->sum.bytes_copied, e.st.size);
            job_event(job, SC_EV_DRY_RUN, e.rel, e.st.size, false, "restore");
            continue;
        }
        const char *slash = strrchr(e.rel, '/');
        size_t pd = NO_DIR;
        if (slash) {
            smb_error derr = {0};
            if ((pd = make_dirs(r, e.rel, (size_t)(slash - e.rel), NULL, &derr)) == NO_DIR) {
                job_fail(job, e.rel, false, "create its directory: %s", derr.message);
                if (job_error_is_fatal(derr.code)) {
                    *err = derr;
                    rc = derr.code;
                }
                continue;
            }
        }
        rfile *f = calloc(1, sizeof *f);
        if (!f || !(f->rel = strdup(e.rel))) {
            free(f);
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            break;
        }
        f->st = e.st;
        if (!(f->at = job_join(pd != NO_DIR ? r->dirs[pd].at : "", slash ? slash + 1 : e.rel))) {
            free_file(r, f);
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            break;
        }
        /* Opened, and its streams and descriptor read, before it is queued: a writer goes by them. */
        smb_error rerr = {0};
        ep_file *in = NULL;
        bool ok = src->ops->open_read(src, e.rel, &in, &rerr) == 0;
        if (!ok && asprintf(&f->fail, "open in the archive: %s", rerr.message) < 0)
            f->fail = NULL;
        bool meta_ok = !ok || read_meta(r, src, in, f);
        pthread_mutex_lock(&r->lock);
        /* Its name's ticket; straight under its name in a staged directory only when no other entry of it is in flight. */
        f->name = name_table_get(&r->names, e.rel, strlen(e.rel), NULL);
        if (f->name) {
            f->name->refs++;
            f->ticket = f->name->issued++;
        }
        f->direct = pd != NO_DIR && r->dirs[pd].staged && f->name && f->name->refs == 1;
        if (!f->name) {
            pthread_mutex_unlock(&r->lock);
            if (in) {
                smb_error e2;
                src->ops->close(in, &e2);
            }
            free_file(r, f);
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            break;
        }
        if (r->qtail)
            r->qtail->next = f;
        else
            r->qhead = f;
        r->qtail = f;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        if (ok && meta_ok)
            ok = read_data(r, src, in, f, &rerr);
        if (in) {
            smb_error e2;
            src->ops->close(in, &e2);
        }
        pthread_mutex_lock(&r->lock);
        f->eof = true;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
        if (!ok && rerr.code && rerr.code != SMB_ERR_CANCELLED) {
            *err = rerr; /* the archive is damaged: nothing after this can be trusted */
            rc = rerr.code;
        }
    }
    return rc;
}

int job_restore_run(sc_job *job, ep *src, ep *dst, size_t read_ahead, smb_error *err)
{
    int rc = 0;
    restore_run r = {.job = job, .dst = dst, .budget = read_ahead ? read_ahead : SC_DEFAULT_READ_AHEAD};
    r.meta = arc_meta_plan_for(job, src, job->opts.dry_run ? NULL : dst); /* before the first file is opened */
    if (r.budget < CHUNK)
        r.budget = CHUNK;
    name_table_init(&r.dir_index, sizeof(size_t));
    name_table_init(&r.names, sizeof(rname));
    r.fold = job->dst_folds_case;
    case_guard_init(&r.guard);
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);
    unsigned nwriters = job->opts.threads ? job->opts.threads : 1, started = 0;
    pthread_t *writers = calloc(nwriters, sizeof *writers);
    while (writers && started < nwriters && pthread_create(&writers[started], NULL, writer_main, &r) == 0)
        started++;
    if (!started)
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "cannot start threads");
    if (rc == 0)
        rc = read_all(&r, src, err);
    pthread_mutex_lock(&r.lock);
    r.reading_done = true;
    if (rc != 0)
        r.stop = true;
    pthread_cond_broadcast(&r.cond);
    pthread_mutex_unlock(&r.lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(writers[i], NULL);
    free(writers);
    while (r.qhead) {
        rfile *f = r.qhead;
        r.qhead = f->next;
        free_file(&r, f);
    }
    /* Deletions (when asked), staged directories into place (unless stopped: a rerun carries on), then directory times, deepest first. */
    bool stopped = job_stopping(job) || rc != 0;
    if (!stopped && r.deleted)
        restore_apply_deletions(job, dst, r.deleted, r.deleted_len);
    free(r.deleted);
    /* A stage root's parent is never staged, so it is where it will stay: parents come first in dirs. */
    for (size_t i = 0; i < r.ndirs && !stopped; i++) {
        rdir *d = &r.dirs[i];
        const char *parent_at = d->parent == NO_DIR ? "" : r.dirs[d->parent].at;
        if (d->stage_root) {
            smb_error e2 = {0};
            char *final = job_join(parent_at, d->rel + d->name_off);
            if (final && dst->ops->rename(dst, d->at, final, NULL, &e2) == 0) {
                free(d->at);
                d->at = final;
                final = NULL;
            } else {
                job_fail(job, d->rel, true, "move the restored directory into place (from %s): %s", d->at,
                         final ? e2.message : "out of memory");
            }
            free(final);
        } else if (d->staged) {
            /* Inside a staged directory: where its parent now is. */
            char *moved = job_join(parent_at, d->rel + d->name_off);
            if (moved) {
                free(d->at);
                d->at = moved;
            }
        }
    }
    for (size_t i = r.ndirs; i-- > 0;) {
        if (r.dirs[i].has_meta && !stopped) {
            write_dir_meta(&r, &r.dirs[i]);
            smb_error e2 = {0};
            if (dst->ops->set_meta(dst, r.dirs[i].at, &r.dirs[i].st, &e2) != 0)
                job_fail(job, r.dirs[i].rel, true, "set directory times: %s", e2.message);
        }
        arc_meta_clear(&r.dirs[i].meta);
        free(r.dirs[i].rel);
        free(r.dirs[i].at);
    }
    free(r.dirs);
    name_table_free(&r.dir_index);
    name_table_free(&r.names);
    case_guard_free(&r.guard);
    pthread_mutex_destroy(&r.lock);
    pthread_cond_destroy(&r.cond);
    if (rc == 0 && atomic_load(&job->fatal)) {
        *err = job->fatal_err;
        rc = atomic_load(&job->fatal);
    }
    return rc;
}

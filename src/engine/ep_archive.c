/*
 * Tar archives as sequential endpoints (see ep_archive.h and
 * EP_CAP_SEQUENTIAL in endpoint.h), over archive_out.c and archive_in.c.
 *
 * I/O is synchronous: read_submit and write_submit move the bytes before
 * they return, and io_wait only hands back the count. An archive is one
 * stream through one compressor, so there is nothing to overlap here; the
 * pipelines overlap the other side's reads or writes with it.
 */
#include "engine/ep_archive.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/archive_in.h"
#include "smb/error.h"

typedef struct ep_archive {
    ep base;
    pthread_mutex_t lock; /* one operation at a time: the stream has one position */
    arc_out *out;         /* a destination */
    arc_in *in;           /* or a source */
    ep_counters *counters;
    bool file_open;  /* a file is open (one at a time) */
    bool broken;     /* an entry was left incomplete: the archive cannot be made whole */
    bool committed;
    arc_in_entry cur; /* a source's current entry */
    bool have_cur;
} ep_archive;

struct ep_file {
    ep_archive *e;
    uint64_t pos;  /* the next offset in order */
    uint64_t size; /* the entry's size */
    bool finished;
    /* A destination's header waits for the first write (set_data_ranges may come before). */
    char *rel;
    ep_stat meta;
    bool header_written;
    bool sparse;
};

/* The file's header, when not written yet (lock held). */
static int header(ep_file *f, smb_error *err)
{
    if (f->header_written)
        return 0;
    int rc = arc_out_file(f->e->out, f->rel, &f->meta, err);
    f->header_written = rc == 0;
    return rc;
}

struct ep_io {
    int rc;
    size_t n;
    smb_error err;
};

static ep_archive *arc_of(ep *base)
{
    return (ep_archive *)base;
}

static int refuse(smb_error *err, const char *what)
{
    return smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "an archive is a stream: %s is not possible on it", what);
}

/* ------------------------------------------------- what neither side offers */

static int op_stat(ep *base, const char *rel, ep_stat *st, smb_error *err)
{
    (void)base;
    (void)rel;
    (void)st;
    return refuse(err, "looking up an entry");
}

static int op_list(ep *base, const char *rel, ep_list_cb cb, void *arg, smb_error *err)
{
    (void)base;
    (void)rel;
    (void)cb;
    (void)arg;
    return refuse(err, "listing a directory");
}

static int op_rename(ep *base, const char *from, const char *to, const ep_stat *meta, smb_error *err)
{
    (void)base;
    (void)from;
    (void)to;
    (void)meta;
    return refuse(err, "renaming");
}

static int op_unlink(ep *base, const char *rel, smb_error *err)
{
    (void)base;
    (void)rel;
    return refuse(err, "deleting");
}

static ep_io *done_io(int rc, size_t n, const smb_error *err)
{
    ep_io *io = calloc(1, sizeof *io);
    if (!io)
        return NULL;
    io->rc = rc;
    io->n = n;
    if (rc != 0 && err)
        io->err = *err;
    return io;
}

static int op_io_wait(ep_io *io, size_t *n, smb_error *err)
{
    int rc = io->rc;
    *n = io->n;
    if (rc != 0)
        *err = io->err;
    free(io);
    return rc;
}

static size_t op_io_size(ep_file *f)
{
    (void)f;
    return (size_t)1 << 20;
}

/* ------------------------------------------------------- the destination */

static int op_mkdir(ep *base, const char *rel, smb_error *err)
{
    /* The entry is written by set_meta, which has its times. */
    (void)base;
    (void)rel;
    (void)err;
    return 0;
}

static int op_set_meta(ep *base, const char *rel, const ep_stat *meta, smb_error *err)
{
    ep_archive *e = arc_of(base);
    if (!e->out)
        return refuse(err, "setting times");
    pthread_mutex_lock(&e->lock);
    int rc = e->file_open ? smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: directory %s inside an open file", rel)
                          : arc_out_dir(e->out, rel, meta, err);
    pthread_mutex_unlock(&e->lock);
    return rc;
}

static int op_open_write(ep *base, const char *rel, const ep_stat *meta, ep_file **out, smb_error *err)
{
    ep_archive *e = arc_of(base);
    *out = NULL;
    if (!e->out)
        return refuse(err, "writing");
    ep_file *f = calloc(1, sizeof *f);
    if (!f)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    f->e = e;
    f->size = meta->size;
    f->meta = *meta;
    if (!(f->rel = strdup(rel))) {
        free(f);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    pthread_mutex_lock(&e->lock);
    int rc = e->file_open ? smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: %s opened while another file is", rel)
                          : 0;
    if (rc == 0)
        e->file_open = true;
    pthread_mutex_unlock(&e->lock);
    if (rc != 0) {
        free(f->rel);
        free(f);
        return rc;
    }
    *out = f;
    return 0;
}

static int op_set_data_ranges(ep_file *f, const ep_range *r, size_t n, smb_error *err)
{
    ep_archive *e = f->e;
    if (!e->out)
        return refuse(err, "declaring data ranges");
    pthread_mutex_lock(&e->lock);
    int rc = f->header_written ? smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: data ranges after the data")
                               : arc_out_file_sparse(e->out, f->rel, &f->meta, r, n, err);
    if (rc == 0) {
        f->header_written = true;
        f->sparse = true;
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

static ep_io *op_write_submit(ep_file *f, const void *buf, size_t len, uint64_t off, smb_error *err)
{
    ep_archive *e = f->e;
    int rc;
    pthread_mutex_lock(&e->lock);
    /* In order; a sparse file may skip ahead (over holes, or what the writer knows is zeros). */
    if (f->finished || off < f->pos || (off > f->pos && !f->sparse))
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: data written out of order (at %llu, expected %llu)",
                         (unsigned long long)off, (unsigned long long)f->pos);
    else if ((rc = header(f, err)) == 0 && (off == f->pos || (rc = arc_out_skip_to(e->out, off, err)) == 0) &&
             (rc = arc_out_data(e->out, buf, len, err)) == 0)
        f->pos = off + len;
    pthread_mutex_unlock(&e->lock);
    if (rc == 0 && e->counters)
        __atomic_fetch_add(&e->counters->bytes_written, (uint64_t)len, __ATOMIC_RELAXED);
    ep_io *io = done_io(rc, rc == 0 ? len : 0, err);
    if (!io)
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    return io;
}

static int op_finish(ep_file *f, const ep_stat *meta, ep_stat *got, smb_error *err)
{
    (void)meta; /* the header, written first, already holds what open_write was given */
    ep_archive *e = f->e;
    pthread_mutex_lock(&e->lock);
    int rc = f->finished ? 0 : header(f, err);
    if (rc == 0 && !f->finished)
        rc = arc_out_file_end(e->out, err); /* a sparse file's trailing hole is skipped there */
    if (rc == 0) {
        f->finished = true;
        f->pos = f->size;
    }
    pthread_mutex_unlock(&e->lock);
    if (rc == 0 && got) {
        /* The header holds the metadata the file was opened with, and the data its size. */
        *got = f->meta;
        got->size = f->pos;
    }
    return rc;
}

static int op_commit(ep *base, bool complete, smb_error *err)
{
    ep_archive *e = arc_of(base);
    if (!e->out)
        return refuse(err, "committing");
    pthread_mutex_lock(&e->lock);
    int rc = 0;
    if (e->committed)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive committed twice");
    else if (complete && (e->broken || e->file_open))
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: an entry was left incomplete");
    if (!e->committed) {
        smb_error e2 = {0};
        int crc = arc_out_close(e->out, complete && rc == 0, &e2);
        e->out = NULL;
        e->committed = true;
        if (rc == 0 && crc != 0) {
            *err = e2;
            rc = crc;
        }
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

/* ------------------------------------------------------------ the source */

static int op_next(ep *base, const char **rel, ep_stat *st, const char **refused, smb_error *err)
{
    ep_archive *e = arc_of(base);
    if (!e->in)
        return refuse(err, "reading entries");
    pthread_mutex_lock(&e->lock);
    int rc = e->file_open ? smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: next entry while one is open")
                          : arc_in_next(e->in, &e->cur, err);
    e->have_cur = rc == 1;
    if (rc == 1) {
        *rel = e->cur.rel;
        *st = e->cur.st;
        if (refused)
            *refused = e->cur.refused;
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

static int op_open_read(ep *base, const char *rel, ep_file **out, smb_error *err)
{
    ep_archive *e = arc_of(base);
    *out = NULL;
    if (!e->in)
        return refuse(err, "reading");
    ep_file *f = calloc(1, sizeof *f);
    if (!f)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    pthread_mutex_lock(&e->lock);
    int rc = 0;
    if (!e->have_cur || e->cur.refused || e->cur.st.type != EP_FILE || strcmp(rel, e->cur.rel) != 0)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: %s is not the current file entry", rel);
    else if (e->file_open)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: %s opened twice", rel);
    if (rc == 0) {
        e->file_open = true;
        f->size = e->cur.st.size;
    }
    pthread_mutex_unlock(&e->lock);
    if (rc != 0) {
        free(f);
        return rc;
    }
    f->e = e;
    *out = f;
    return 0;
}

static ep_io *op_read_submit(ep_file *f, void *buf, size_t len, uint64_t off, smb_error *err)
{
    ep_archive *e = f->e;
    int rc = 0;
    size_t n = 0;
    pthread_mutex_lock(&e->lock);
    if (off != f->pos) {
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: data read out of order (at %llu, expected %llu)",
                         (unsigned long long)off, (unsigned long long)f->pos);
    } else {
        /* libarchive may return less than asked before the end: fill the buffer unless the entry ends. */
        while (n < len) {
            ssize_t got = arc_in_data(e->in, (char *)buf + n, len - n, err);
            if (got < 0) {
                rc = (int)got;
                break;
            }
            if (got == 0)
                break;
            n += (size_t)got;
        }
        f->pos += n;
    }
    pthread_mutex_unlock(&e->lock);
    if (n && e->counters)
        __atomic_fetch_add(&e->counters->bytes_read, (uint64_t)n, __ATOMIC_RELAXED);
    ep_io *io = done_io(rc, n, err);
    if (!io)
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    return io;
}

/* ------------------------------------------------------------ both sides */

static int op_close(ep_file *f, smb_error *err)
{
    ep_archive *e = f->e;
    int rc = 0;
    pthread_mutex_lock(&e->lock);
    e->file_open = false;
    if (e->out && !f->finished) {
        /* A file entry whose header promised bytes that never came: the archive is unusable. */
        e->broken = true;
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: an entry closed before its data was complete");
    }
    pthread_mutex_unlock(&e->lock);
    free(f->rel);
    free(f);
    return rc;
}

static void op_free(ep *base)
{
    ep_archive *e = arc_of(base);
    if (e->out)
        arc_out_close(e->out, false, NULL); /* never committed: nothing left under the final name */
    arc_in_close(e->in);
    pthread_mutex_destroy(&e->lock);
    free(e->base.display);
    free(e);
}

static const ep_ops archive_ops = {
    .kind = "archive",
    .stat = op_stat,
    .list = op_list,
    .mkdir = op_mkdir,
    .open_read = op_open_read,
    .open_write = op_open_write,
    .read_submit = op_read_submit,
    .write_submit = op_write_submit,
    .io_wait = op_io_wait,
    .io_size = op_io_size,
    .finish = op_finish,
    .close = op_close,
    .rename = op_rename,
    .unlink = op_unlink,
    .rmdir = op_unlink,
    .set_meta = op_set_meta,
    .set_data_ranges = op_set_data_ranges,
    .next = op_next,
    .commit = op_commit,
    .free = op_free,
};

static ep_archive *new_ep(const char *path, const char *std_name, smb_error *err)
{
    ep_archive *e = calloc(1, sizeof *e);
    if (!e || !(e->base.display = strdup(strcmp(path, "-") == 0 ? std_name : path))) {
        free(e);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    e->base.ops = &archive_ops;
    e->base.caps = EP_CAP_SEQUENTIAL | EP_CAP_CREATION_TIME | EP_CAP_DOS_ATTRS;
    e->base.max_writers = 1;
    pthread_mutex_init(&e->lock, NULL);
    return e;
}

ep *ep_archive_create(const char *path, const arc_out_opts *opts, ep_counters *counters, smb_error *err)
{
    ep_archive *e = new_ep(path, "(standard output)", err);
    if (!e)
        return NULL;
    e->counters = counters;
    if (arc_out_open(path, opts, &e->out, err) != 0) {
        op_free(&e->base);
        return NULL;
    }
    return &e->base;
}

ep *ep_archive_open(const char *path, ep_counters *counters, smb_error *err)
{
    ep_archive *e = new_ep(path, "(standard input)", err);
    if (!e)
        return NULL;
    e->counters = counters;
    if (arc_in_open(path, &e->in, err) != 0) {
        op_free(&e->base);
        return NULL;
    }
    return &e->base;
}

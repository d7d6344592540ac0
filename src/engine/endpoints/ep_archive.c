/*
 * Tar archives as sequential endpoints (see ep_archive.h and
 * EP_CAP_SEQUENTIAL in endpoint.h), over archive_out.c and archive_in.c.
 *
 * I/O is synchronous: read_submit and write_submit move the bytes before
 * they return, and io_wait only hands back the count. An archive is one
 * stream through one compressor, so there is nothing to overlap here; the
 * pipelines overlap the other side's reads or writes with it.
 *
 * Named streams and security descriptors travel in a file's header
 * (archive_out.h): put_streams and put_sd keep a copy for it until the
 * first write, which writes the header; what would not fit in the header
 * is left out and reported (SMB_ERR_NO_SPACE, or SMB_ERR_BAD_NAME for a
 * stream name too long for readers), the rest kept. get_streams and get_sd
 * read those of the open entry.
 *
 * A directory's go in its header too, which set_meta writes: open_meta
 * (is_dir, for_write) gives a file whose put_streams and put_sd keep them
 * as for a file; its close hands them to the archive, and the set_meta of
 * that directory that follows writes them into its header (set_meta of
 * another directory drops them). As a source, open_meta opens the current
 * directory entry for get_streams and get_sd, like open_read a file's.
 */
#include "engine/endpoints/ep_archive.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/archive/archive_in.h"
#include "common/error.h"

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
    /* A destination's directory streams and descriptor (open_meta's), for set_meta of dir_rel. */
    char *dir_rel;
    ep_streams dir_streams;
    ep_sd dir_sd;
} ep_archive;

struct ep_file {
    ep_archive *e;
    uint64_t pos;  /* the next offset in order */
    uint64_t size; /* the entry's size */
    bool finished;
    bool meta_only; /* open_meta's: a directory's streams and descriptor, no data */
    /* A destination's header waits for the first write (set_data_ranges may come before). */
    char *rel;
    ep_stat meta;
    bool header_written;
    bool sparse;
    ep_streams streams; /* put_streams' and put_sd's, for the header */
    ep_sd sd;
};

/* What f's header carries beyond its metadata. */
static arc_out_extra extra_of(const ep_file *f)
{
    return (arc_out_extra){.streams = &f->streams, .sd = &f->sd};
}

/* The file's header, when not written yet (lock held). */
static int header(ep_file *f, smb_error *err)
{
    if (f->header_written)
        return 0;
    arc_out_extra x = extra_of(f);
    int rc = arc_out_file(f->e->out, f->rel, &f->meta, &x, err);
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

/* Drop the directory streams and descriptor waiting for set_meta (lock held). */
static void drop_dir_extra(ep_archive *e)
{
    free(e->dir_rel);
    e->dir_rel = NULL;
    ep_streams_clear(&e->dir_streams);
    ep_sd_clear(&e->dir_sd);
}

static int op_set_meta(ep *base, const char *rel, const ep_stat *meta, smb_error *err)
{
    ep_archive *e = arc_of(base);
    if (!e->out)
        return refuse(err, "setting times");
    pthread_mutex_lock(&e->lock);
    /* What open_meta's file was given for this directory goes in its header. */
    bool mine = e->dir_rel && strcmp(e->dir_rel, rel) == 0;
    arc_out_extra x = {.streams = &e->dir_streams, .sd = &e->dir_sd};
    int rc = e->file_open ? smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: directory %s inside an open file", rel)
                          : arc_out_dir(e->out, rel, meta, mine ? &x : NULL, err);
    drop_dir_extra(e);
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
    arc_out_extra x = extra_of(f);
    pthread_mutex_lock(&e->lock);
    int rc = f->header_written ? smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: data ranges after the data")
                               : arc_out_file_sparse(e->out, f->rel, &f->meta, r, n, &x, err);
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

/* The header room f's descriptor (with_sd) and streams (with_streams) take. */
static size_t extra_used(const ep_file *f, bool with_sd, bool with_streams)
{
    size_t used = with_sd && f->sd.len ? arc_out_sd_cost(f->sd.len) : 0;
    for (size_t i = 0; with_streams && i < f->streams.n; i++)
        used += arc_out_stream_cost(f->streams.v[i].name, f->streams.v[i].len);
    return used;
}

/* Check that f's header is still to come (lock held). */
static int before_header(ep_file *f, const char *what, smb_error *err)
{
    if (!f->e->out)
        return refuse(err, what);
    if (f->header_written || f->finished)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: %s of %s after its data", what, f->rel);
    return 0;
}

static int op_put_streams(ep_file *f, ep_streams *s, smb_error *err)
{
    ep_archive *e = f->e;
    pthread_mutex_lock(&e->lock);
    int rc = before_header(f, "named streams", err);
    for (size_t i = 0; i < s->n; i++)
        s->v[i].kept = false;
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        const char *name = s->v[i].name;
        if (!name || !ep_stream_name_ok(name, strlen(name)))
            rc = smb_err_set(err, SMB_ERR_BAD_NAME, 0, "'%s': stream name '%s' refused", f->rel, name ? name : "");
    }
    size_t room = rc == 0 ? arc_out_extra_room(f->rel) : 0, used = extra_used(f, true, false);
    ep_streams kept = {0};
    const ep_stream *misfit = NULL;
    bool misfit_name = false;
    if (rc == 0 && s->n && !(kept.v = calloc(s->n, sizeof *kept.v)))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    /* Those that fit, in order; the others are left out. */
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        ep_stream *st = &s->v[i];
        size_t cost = arc_out_stream_cost(st->name, st->len);
        if (cost == 0 || cost > room || used > room - cost) {
            if (!misfit) {
                misfit = st;
                misfit_name = cost == 0;
            }
            continue;
        }
        ep_stream *k = &kept.v[kept.n];
        if (!(k->name = strdup(st->name)) || (st->len && !(k->data = malloc(st->len)))) {
            free(k->name);
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            break;
        }
        if (st->len)
            memcpy(k->data, st->data, st->len);
        k->len = st->len;
        st->kept = true;
        kept.n++;
        used += cost;
    }
    if (rc == 0) {
        ep_streams_clear(&f->streams); /* a second call replaces the first's */
        f->streams = kept;
        if (misfit && misfit_name)
            rc = smb_err_set(err, SMB_ERR_BAD_NAME, 0,
                             "'%s': stream %s: its name is longer than libarchive 3.7.5 and later read in an "
                             "archive (%d bytes as " ARC_STREAM_XATTR_PREFIX "NAME" ARC_STREAM_XATTR_SUFFIX ")",
                             f->rel, misfit->name, ARC_XATTR_NAME_MAX);
        else if (misfit)
            rc = smb_err_set(err, SMB_ERR_NO_SPACE, 0,
                             "'%s': stream %s (%zu bytes) does not fit in the archive entry's header (%zu MiB in "
                             "all with the other streams and the descriptor, the most libarchive before 3.7.5 reads)",
                             f->rel, misfit->name, misfit->len, ARC_PAX_HEADER_MAX >> 20);
    } else {
        ep_streams_clear(&kept);
        for (size_t i = 0; i < s->n; i++)
            s->v[i].kept = false;
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

static int op_put_sd(ep_file *f, const ep_sd *sd, smb_error *err)
{
    ep_archive *e = f->e;
    pthread_mutex_lock(&e->lock);
    int rc = before_header(f, "security descriptor", err);
    uint32_t parts;
    smb_error derr = {0};
    if (rc == 0 && sd->len && ep_sd_parts_of(sd->bytes, sd->len, &parts, &derr) != 0)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "'%s': the security descriptor to store is %s", f->rel,
                         derr.message);
    size_t room = rc == 0 ? arc_out_extra_room(f->rel) : 0, used = extra_used(f, false, true);
    size_t cost = sd->len ? arc_out_sd_cost(sd->len) : 0;
    uint8_t *copy = NULL;
    if (rc == 0 && (cost > room || used > room - cost))
        rc = smb_err_set(err, SMB_ERR_NO_SPACE, 0,
                         "'%s': the security descriptor (%zu bytes) does not fit in the archive entry's header",
                         f->rel, sd->len);
    else if (rc == 0 && sd->len && !(copy = malloc(sd->len)))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0) {
        /* The whole descriptor is kept, whatever sd->parts says (as a local file keeps it). */
        ep_sd_clear(&f->sd);
        if (sd->len)
            memcpy(copy, sd->bytes, sd->len);
        f->sd = (ep_sd){.bytes = copy, .len = sd->len, .parts = sd->parts};
    }
    pthread_mutex_unlock(&e->lock);
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

/* The open source file f is the archive's current entry (lock held). */
static int current(ep_file *f, const char *what, smb_error *err)
{
    ep_archive *e = f->e;
    if (!e->in)
        return refuse(err, what);
    if (!e->have_cur || !e->file_open)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: %s of a file no longer current", what);
    return 0;
}

static int op_get_streams(ep_file *f, ep_streams *out, smb_error *err)
{
    ep_archive *e = f->e;
    pthread_mutex_lock(&e->lock);
    int rc = current(f, "reading named streams", err);
    if (rc == 0)
        rc = arc_in_streams(e->in, out, err);
    pthread_mutex_unlock(&e->lock);
    return rc;
}

static int op_get_sd(ep_file *f, uint32_t parts, ep_sd *out, smb_error *err)
{
    ep_archive *e = f->e;
    pthread_mutex_lock(&e->lock);
    int rc = current(f, "reading the security descriptor", err);
    if (rc == 0)
        rc = arc_in_sd(e->in, parts, out, err);
    pthread_mutex_unlock(&e->lock);
    return rc;
}

/* ------------------------------------------------------------ both sides */

/*
 * A directory's streams and descriptor: a destination's directory about to
 * be written by set_meta (for_write), or a source's current directory entry.
 */
static int op_open_meta(ep *base, const char *rel, bool is_dir, bool for_write, ep_file **out, smb_error *err)
{
    ep_archive *e = arc_of(base);
    *out = NULL;
    if (!is_dir)
        return refuse(err, "opening a file for its streams and descriptor only");
    if (for_write != (e->out != NULL))
        return refuse(err, for_write ? "writing a directory's streams and descriptor"
                                     : "reading a directory's streams and descriptor");
    ep_file *f = calloc(1, sizeof *f);
    if (!f || !(f->rel = strdup(rel))) {
        free(f);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    f->e = e;
    f->meta_only = true;
    pthread_mutex_lock(&e->lock);
    int rc = 0;
    if (e->file_open)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: directory %s opened while a file is", rel);
    else if (e->in && (!e->have_cur || e->cur.refused || e->cur.st.type != EP_DIR || strcmp(rel, e->cur.rel) != 0))
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: %s is not the current directory entry", rel);
    if (rc == 0 && e->in)
        e->file_open = true; /* the entry stays current until it is closed */
    pthread_mutex_unlock(&e->lock);
    if (rc != 0) {
        free(f->rel);
        free(f);
        return rc;
    }
    *out = f;
    return 0;
}

static int op_close(ep_file *f, smb_error *err)
{
    ep_archive *e = f->e;
    int rc = 0;
    pthread_mutex_lock(&e->lock);
    if (f->meta_only && e->out) {
        /* A directory's: kept for its set_meta (a later open replaces them). */
        drop_dir_extra(e);
        e->dir_rel = f->rel;
        e->dir_streams = f->streams;
        e->dir_sd = f->sd;
        f->rel = NULL;
        memset(&f->streams, 0, sizeof f->streams);
        memset(&f->sd, 0, sizeof f->sd);
    } else {
        e->file_open = false;
    }
    if (e->out && !f->finished && !f->meta_only) {
        /* A file entry whose header promised bytes that never came: the archive is unusable. */
        e->broken = true;
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: an entry closed before its data was complete");
    }
    pthread_mutex_unlock(&e->lock);
    ep_streams_clear(&f->streams);
    ep_sd_clear(&f->sd);
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
    drop_dir_extra(e);
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
    .get_streams = op_get_streams,
    .put_streams = op_put_streams,
    .get_sd = op_get_sd,
    .put_sd = op_put_sd,
    .open_meta = op_open_meta,
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

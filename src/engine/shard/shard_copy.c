/*
 * Files split between shards (shard_plan.h): each shard writes its byte
 * ranges into one temporary file beside the final name, named from the
 * plan's tag and the file's name (every shard finds the same one: the first
 * to come makes it at its full size, the others open it; each writes only
 * its own ranges), and the finishing run moves it into place once every
 * shard has succeeded. The final name never holds a partly written file.
 *
 * A source that differs from the plan (size or modification time), before
 * or after a range is read, fails the file: its ranges were read from
 * different versions. What a shard has written is committed to its
 * checkpoint journal every RANGE_COMMIT bytes (with the CRC-32C of those
 * bytes), so a shard killed during a range goes on from its last commit when
 * it runs again, once the temporary file is found to hold that commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "engine/file_meta.h"
#include "engine/job_internal.h"
#include "engine/resume/crc32c.h"
#include "engine/names/temp_names.h"
#include "engine/shard/shard_plan.h"

/* Reads and writes in flight for one range, and the largest of each. */
#define RANGE_WINDOW 8
#define RANGE_CHUNK_MAX ((size_t)4 << 20)
/* What a shard writes is committed to its journal at least this often. */
#define RANGE_COMMIT ((uint64_t)16 << 20)

static const char *leaf_of(const char *rel)
{
    const char *s = strrchr(rel, '/');
    return s ? s + 1 : rel;
}

static bool as_planned(const shard_file *sf, const ep_stat *st)
{
    return st->type == EP_FILE && st->size == sf->size && st->mtime == sf->mtime;
}

/* The temporary name of split file t of form (in its directory), malloc'd. */
static char *split_temp(sc_job *job, const task *t, temp_form form)
{
    return stage_name_form(job_dir_dst(t->dir), leaf_of(t->rel), job->opts.plan->tag, form);
}

/* Find the temporary file an earlier shard made (either form): its name, or NULL. */
static char *find_temp(sc_job *job, const task *t, ep *dst, ep_stat *st)
{
    for (int f = TEMP_DOT; f < TEMP_INPLACE; f++) {
        char *tmp = split_temp(job, t, (temp_form)f);
        smb_error e = {0};
        if (tmp && dst->ops->stat(dst, tmp, st, &e) == 0 && st->type == EP_FILE)
            return tmp;
        free(tmp);
    }
    return NULL;
}

/*
 * Open the shared temporary file for writing: the one another shard made,
 * or a new one of the first form the destination accepts. *tmp gets its name.
 */
static int open_temp(sc_job *job, const task *t, ep *dst, char **tmp, ep_file **f, smb_error *err)
{
    ep_stat st;
    const shard_file *sf = t->split;
    if ((*tmp = find_temp(job, t, dst, &st)) != NULL)
        return dst->ops->open_resume(dst, *tmp, sf->size, f, err);
    int first = job->opts.temp_names == SC_TEMP_PLAIN ? TEMP_PLAIN : TEMP_DOT;
    int rc = SMB_ERR_UNSUPPORTED;
    for (int form = first; form < TEMP_INPLACE; form++) {
        if (!(*tmp = split_temp(job, t, (temp_form)form)))
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        ep_stat meta = t->st;
        memset(err, 0, sizeof *err);
        rc = dst->ops->open_write(dst, *tmp, &meta, f, err);
        if (rc == 0)
            return 0;
        if (err->code == SMB_ERR_EXISTS) { /* another shard made it just now */
            memset(err, 0, sizeof *err);
            return dst->ops->open_resume(dst, *tmp, sf->size, f, err);
        }
        bool refused = err->code == SMB_ERR_NOT_FOUND || err->code == SMB_ERR_BAD_NAME;
        free(*tmp);
        *tmp = NULL;
        if (!refused || job->opts.temp_names != SC_TEMP_AUTO)
            break;
    }
    return rc;
}

/* Committing a range's progress to the shard's journal (cp NULL: no journal). */
typedef struct range_journal {
    checkpoint *cp;
    const char *rel, *tmp;
    const ep_stat *st;
    uint64_t from; /* the start of what is written and not yet committed (copy_range sets it) */
    uint32_t crc;  /* CRC-32C of [from, what is written) */
} range_journal;

/*
 * Chunk [off, off+len) of buf is written (chunks arrive in order): add it
 * to what is not yet committed, and commit that once it is RANGE_COMMIT
 * bytes or this is the range's last chunk.
 */
static int range_written(range_journal *rj, const uint8_t *buf, uint64_t off, size_t len, bool last, smb_error *err)
{
    if (!rj->cp)
        return 0;
    rj->crc = crc32c(rj->crc, buf, len);
    uint64_t end = off + len;
    if (!last && end - rj->from < RANGE_COMMIT)
        return 0;
    int rc = checkpoint_commit(rj->cp, rj->rel, rj->tmp, rj->st, rj->from, end - rj->from, rj->crc, err);
    rj->from = end;
    rj->crc = 0;
    return rc;
}

typedef struct range_slot {
    uint8_t *buf;
    ep_io *rio, *wio;
    size_t len;
    uint64_t off;
} range_slot;

/* Wait for every I/O still in flight (after a failure: their results no longer matter). */
static void drain(const ep_ops *sops, const ep_ops *dops, range_slot *slots)
{
    for (int i = 0; i < RANGE_WINDOW; i++) {
        size_t n;
        smb_error e = {0};
        if (slots[i].rio)
            sops->io_wait(slots[i].rio, &n, &e);
        if (slots[i].wio)
            dops->io_wait(slots[i].wio, &n, &e);
        slots[i].rio = slots[i].wio = NULL;
    }
}

/*
 * Copy [off, off+len) from s to d: chunk j is read into slot j % W; its
 * write starts when the read half a window later is under way, and the
 * slot is reused once that write is done. Writes are waited for in chunk
 * order, each then passed to rj (journal commits).
 */
static int copy_range(sc_job *job, ep_file *s, ep_file *d, const ep_ops *sops, const ep_ops *dops, uint64_t off,
                      uint64_t len, range_journal *rj, smb_error *err)
{
    size_t chunk = sops->io_size(s);
    size_t dsz = dops->io_size(d);
    chunk = dsz < chunk ? dsz : chunk;
    chunk = chunk > RANGE_CHUNK_MAX ? RANGE_CHUNK_MAX : chunk ? chunk : (size_t)1 << 20;
    uint64_t nchunks = (len + chunk - 1) / chunk;
    range_slot slots[RANGE_WINDOW] = {0};
    const uint64_t lag = RANGE_WINDOW / 2;
    int rc = 0;
    rj->from = off; /* nothing of this range is written yet */
    rj->crc = 0;
    for (int i = 0; i < RANGE_WINDOW && rc == 0; i++)
        if (!(slots[i].buf = bufpool_get(&job->bufs, chunk)))
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    for (uint64_t j = 0; rc == 0 && j < nchunks + lag; j++) {
        if (job_stopping(job)) {
            rc = smb_err_set(err, SMB_ERR_CANCELLED, 0, "cancelled");
            break;
        }
        size_t n;
        if (j < nchunks) {
            range_slot *sl = &slots[j % RANGE_WINDOW];
            if (sl->wio) { /* chunk j - W: its write done, then its bytes go to the journal */
                ep_io *io = sl->wio;
                sl->wio = NULL;
                if ((rc = dops->io_wait(io, &n, err)) != 0 || (rc = range_written(rj, sl->buf, sl->off, sl->len,
                                                                                    false, err)) != 0)
                    break;
            }
            sl->off = off + j * chunk;
            sl->len = (size_t)(len - j * chunk < chunk ? len - j * chunk : chunk);
            if (!(sl->rio = sops->read_submit(s, sl->buf, sl->len, sl->off, err))) {
                rc = err->code ? err->code : SMB_ERR_INTERNAL;
                break;
            }
        }
        if (j >= lag) {
            range_slot *sl = &slots[(j - lag) % RANGE_WINDOW];
            ep_io *io = sl->rio;
            sl->rio = NULL;
            if ((rc = sops->io_wait(io, &n, err)) != 0)
                break;
            if (n != sl->len) {
                rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "the source ended early (at byte %llu): it changed",
                                 (unsigned long long)(sl->off + n));
                break;
            }
            if (!(sl->wio = dops->write_submit(d, sl->buf, sl->len, sl->off, err))) {
                rc = err->code ? err->code : SMB_ERR_INTERNAL;
                break;
            }
        }
    }
    /* The last window's writes, in chunk order. */
    for (uint64_t c = nchunks > RANGE_WINDOW ? nchunks - RANGE_WINDOW : 0; rc == 0 && c < nchunks; c++) {
        size_t n;
        range_slot *sl = &slots[c % RANGE_WINDOW];
        ep_io *io = sl->wio;
        sl->wio = NULL;
        if (io && (rc = dops->io_wait(io, &n, err)) == 0)
            rc = range_written(rj, sl->buf, sl->off, sl->len, c + 1 == nchunks, err);
    }
    drain(sops, dops, slots);
    for (int i = 0; i < RANGE_WINDOW; i++)
        bufpool_put(&job->bufs, slots[i].buf, chunk);
    return rc;
}

/* The source as it is now: through the open file when the endpoint can, else by path. */
static int source_now(ep *src, const char *rel, ep_file *f, ep_stat *st, smb_error *err)
{
    if (src->ops->fstat)
        return src->ops->fstat(f, st, err);
    return ep_stat_path(src, rel, st, err);
}

static const char *changed_msg = "the source changed since the plan was made (size or modification time): make "
                                 "the plan again";

static int extent_cmp(const void *a, const void *b)
{
    const cp_extent *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Copy what of [off, off+len) the committed extents of done (sorted by
 * offset; none when done->n is 0) do not cover; *covered gets the rest.
 */
static int copy_uncommitted(sc_job *job, ep_file *in, ep_file *out, const ep_ops *sops, const ep_ops *dops,
                            const cp_partial *done, uint64_t off, uint64_t len, range_journal *rj,
                            uint64_t *covered, smb_error *err)
{
    uint64_t at = off, end = off + len;
    int rc = 0;
    *covered = 0;
    for (size_t i = 0; rc == 0 && i < done->n && at < end; i++) {
        const cp_extent *x = &done->ext[i];
        uint64_t xend = x->off + x->len;
        if (xend <= at || x->off >= end)
            continue;
        if (x->off > at) {
            rc = copy_range(job, in, out, sops, dops, at, x->off - at, rj, err);
            at = x->off;
        }
        uint64_t stop = xend < end ? xend : end;
        *covered += stop - at;
        at = stop;
    }
    if (rc == 0 && at < end)
        rc = copy_range(job, in, out, sops, dops, at, end - at, rj, err);
    return rc;
}

/*
 * What an earlier run of this shard committed to tmp, from its journal, when
 * it can go on (the same temporary file and source, the last commit still
 * there): *done gets it, extents sorted. Otherwise the journal starts the
 * file over with tmp. 0, or an error of the journal.
 */
static int committed_before(sc_job *job, task *t, const char *tmp, cp_partial *done, smb_error *err)
{
    *done = (cp_partial){0};
    if (!job->cp)
        return 0;
    if (checkpoint_partial(job->cp, t->rel, done)) {
        if (!done->stale && !job->opts.checksum && strcmp(done->temp, tmp) == 0 &&
            job_resume_ok(job, t, &t->st, done)) {
            if (done->n > 1)
                qsort(done->ext, done->n, sizeof *done->ext, extent_cmp);
            return 0;
        }
        cp_partial_clear(done);
        *done = (cp_partial){0};
    }
    return checkpoint_started(job->cp, t->rel, tmp, &t->st, err);
}

/* A shard: write this shard's ranges of the file (what an earlier run committed is not written again). */
static void write_ranges(sc_job *job, task *t)
{
    const shard_file *sf = t->split;
    ep *src = t->pair->src, *dst = t->dir->pair->dst;
    int k = job->opts.shard;
    if (!as_planned(sf, &t->st)) {
        job_fail(job, t->rel, false, "%s", changed_msg);
        return;
    }
    if (job->opts.dry_run) {
        for (size_t i = 0; i < sf->npieces; i++)
            if ((int)sf->pieces[i].shard == k)
                job_event(job, SC_EV_DRY_RUN, t->rel, sf->pieces[i].length, false, "copy range");
        return;
    }
    if (job->opts.temp_names == SC_TEMP_INPLACE) {
        job_fail(job, t->rel, false, "a file split between shards needs a temporary name (not --temp-name inplace)");
        return;
    }
    smb_error err = {0};
    char *tmp = NULL;
    ep_file *in = NULL, *out = NULL;
    const char *stage = "open the source";
    int rc = src->ops->open_read(src, t->rel, &in, &err);
    if (rc == 0) {
        stage = "create the temporary file";
        rc = open_temp(job, t, dst, &tmp, &out, &err);
    }
    cp_partial done = {0};
    if (rc == 0) {
        stage = "record it in the journal";
        rc = committed_before(job, t, tmp, &done, &err);
    }
    range_journal rj = {.cp = job->cp, .rel = t->rel, .tmp = tmp, .st = &t->st};
    uint64_t resumed = 0;
    ep_stat now;
    for (size_t i = 0; rc == 0 && i < sf->npieces; i++) {
        const shard_piece *pc = &sf->pieces[i];
        if ((int)pc->shard != k)
            continue;
        stage = "copy";
        uint64_t covered;
        if ((rc = copy_uncommitted(job, in, out, src->ops, dst->ops, &done, pc->offset, pc->length, &rj, &covered,
                                   &err)) != 0)
            break;
        resumed += covered;
        stage = "check the source";
        if ((rc = source_now(src, t->rel, in, &now, &err)) != 0)
            break;
        if (!as_planned(sf, &now)) {
            rc = smb_err_set(&err, SMB_ERR_INVALID_ARG, 0, "%s", changed_msg);
            break;
        }
        char what[96];
        snprintf(what, sizeof what, "bytes %llu-%llu of %llu", (unsigned long long)pc->offset,
                 (unsigned long long)pc->offset + pc->length, (unsigned long long)sf->size);
        pthread_mutex_lock(&job->lock);
        job->sum.ranges_copied++;
        job->sum.bytes_copied += pc->length;
        pthread_mutex_unlock(&job->lock);
        job_event(job, SC_EV_RANGE_DONE, t->rel, pc->length, false, what);
    }
    if (resumed) {
        pthread_mutex_lock(&job->lock);
        job->sum.files_resumed++;
        job->sum.bytes_resumed += resumed;
        pthread_mutex_unlock(&job->lock);
    }
    cp_partial_clear(&done);
    smb_error ce = {0};
    if (out && dst->ops->close(out, &ce) != 0 && rc == 0) {
        rc = ce.code;
        err = ce;
        stage = "close";
    }
    if (in)
        src->ops->close(in, &ce);
    if (rc != 0) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(job, &err);
        if (err.code != SMB_ERR_CANCELLED)
            job_fail(job, t->rel, false, "%s: %s", stage, err.message);
    }
    free(tmp);
}

/*
 * The finishing run: the temporary file the shards filled gets the
 * source's named streams and security descriptor (as the job copies them),
 * then its times, and is moved into place.
 */
static void complete_file(sc_job *job, task *t)
{
    const shard_file *sf = t->split;
    ep *dst = t->dir->pair->dst;
    if (!as_planned(sf, &t->st)) {
        job_fail(job, t->rel, false, "not completed: %s", changed_msg);
        return;
    }
    ep_stat st;
    char *tmp = find_temp(job, t, dst, &st);
    if (!tmp) {
        if (t->dst_exists && t->dst_st.size == sf->size && t->dst_st.mtime == sf->mtime) {
            job_count(job, &job->sum.files_skipped, 1); /* completed by an earlier finishing run */
            job_event(job, SC_EV_FILE_SKIPPED, t->rel, sf->size, false, NULL);
        } else {
            job_fail(job, t->rel, false, "not completed: its shards' temporary file is missing");
        }
        return;
    }
    smb_error err = {0};
    ep_file *f = NULL, *in = NULL;
    ep_stat meta = job_file_meta(t->pair, &t->st, t->dst_exists, &t->dst_st), got = {0};
    const char *stage = "open the temporary file";
    int rc = st.size == sf->size ? 0
             : smb_err_set(&err, SMB_ERR_INVALID_ARG, 0, "it holds %llu bytes, not %llu", (unsigned long long)st.size,
                           (unsigned long long)sf->size);
    if (rc == 0 && job->opts.dry_run) {
        job_event(job, SC_EV_DRY_RUN, t->rel, sf->size, false, "complete");
        free(tmp);
        return;
    }
    if (rc == 0)
        rc = dst->ops->open_resume(dst, tmp, sf->size, &f, &err);
    bool meta_wanted = file_meta_streams(job, t->pair) || file_meta_sd_parts(job, t->pair);
    if (rc == 0 && meta_wanted) {
        stage = "open the source";
        rc = t->pair->src->ops->open_read(t->pair->src, t->rel, &in, &err);
        if (rc == 0) {
            stage = "streams and security";
            rc = file_meta_copy(job, t->pair, t->rel, in, f, &err);
        }
    }
    if (rc == 0) {
        stage = "set times";
        rc = dst->ops->finish(f, &meta, &got, &err);
    }
    smb_error ce = {0};
    if (in)
        t->pair->src->ops->close(in, &ce);
    if (f && dst->ops->close(f, &ce) != 0 && rc == 0) {
        rc = ce.code;
        err = ce;
        stage = "close";
    }
    if (rc == 0) {
        stage = "rename into place";
        rc = dst->ops->rename(dst, tmp, t->rel, &meta, &err);
    }
    if (rc != 0) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(job, &err);
        job_fail(job, t->rel, false, "not completed: %s: %s", stage, err.message);
    } else {
        pthread_mutex_lock(&job->lock);
        job->sum.files_copied++;
        pthread_mutex_unlock(&job->lock);
        job_event(job, SC_EV_FILE_DONE, t->rel, sf->size, false, "completed from its shards' ranges");
    }
    free(tmp);
}

void shard_copy_split(sc_job *job, task *t)
{
    if (job->opts.shard == SC_SHARD_FINISH)
        complete_file(job, t);
    else
        write_ranges(job, t);
    job_dir_release(job, t->dir);
}

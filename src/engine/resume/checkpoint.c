/*
 * The engine's checkpoint state over the journal (see checkpoint.h). Files
 * done are kept in a table by the hash of their path, each with a hash of
 * the source's size, time and id and the source's change time (kept apart:
 * 0 means unknown, and matches any); partial copies in a table of names
 * by path.
 *
 * The done table keeps no path, only its 64-bit hash (24 bytes a file, for
 * journals of millions of files): a shape of its own, not a table of names.
 */
#include "engine/resume/checkpoint.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/array.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/name_table.h"
#include "engine/resume/journal.h"

/* A partly copied file, the record of its path in the partials table. */
typedef struct partial_rec {
    cp_partial p;
    size_t cap; /* of p.ext */
} partial_rec;

/* A file copied whole: what its source was. */
typedef struct done_ent {
    uint64_t path; /* hash of the path; 0 = empty slot */
    uint64_t meta; /* hash of size, mtime, file id */
    uint64_t change_time;
} done_ent;

struct checkpoint {
    pthread_mutex_t lock;
    journal *j;
    done_ent *done; /* open addressing by path */
    size_t done_cap, done_n;
    name_table partials; /* path -> partial_rec */
    uint64_t last_sync_ms;
    bool dirty; /* records written since the last sync */
    cp_stats stats;
};

static uint64_t nonzero(uint64_t h) { return h ? h : 1; }

static uint64_t path_key(const char *path) { return nonzero(bytes_hash(name_hash(""), path, strlen(path) + 1)); }

static uint64_t meta_key(uint64_t size, uint64_t mtime, uint64_t file_id)
{
    uint64_t h = bytes_hash(name_hash(""), &size, sizeof size);
    h = bytes_hash(h, &mtime, sizeof mtime);
    return bytes_hash(h, &file_id, sizeof file_id);
}

/* The slot of key: its entry, or the empty slot where it goes. Capacity non-zero. */
static done_ent *done_slot(done_ent *t, size_t cap, uint64_t key)
{
    size_t k = (size_t)(key & (cap - 1));
    while (t[k].path && t[k].path != key)
        k = (k + 1) & (cap - 1);
    return &t[k];
}

/* Record (or replace: the last copy counts) path's entry. */
static bool done_insert(checkpoint *c, const char *path, uint64_t size, uint64_t mtime, uint64_t file_id,
                        uint64_t change_time)
{
    if ((c->done_n + 1) * 2 > c->done_cap) {
        size_t ncap = c->done_cap ? c->done_cap * 2 : 1024;
        done_ent *n = calloc(ncap, sizeof *n);
        if (!n)
            return false;
        for (size_t i = 0; i < c->done_cap; i++)
            if (c->done[i].path)
                *done_slot(n, ncap, c->done[i].path) = c->done[i];
        free(c->done);
        c->done = n;
        c->done_cap = ncap;
    }
    uint64_t key = path_key(path);
    done_ent *e = done_slot(c->done, c->done_cap, key);
    if (!e->path)
        c->done_n++;
    *e = (done_ent){key, meta_key(size, mtime, file_id), change_time};
    return true;
}

static const done_ent *done_find(const checkpoint *c, const char *path)
{
    if (!c->done_cap)
        return NULL;
    const done_ent *e = done_slot(c->done, c->done_cap, path_key(path));
    return e->path ? e : NULL;
}

/* The entry matches st (change times compared when both are known). */
static bool done_matches(const done_ent *e, const ep_stat *st)
{
    return e->meta == meta_key(st->size, st->mtime, st->file_id) &&
           (!e->change_time || !st->change_time || e->change_time == st->change_time);
}

static partial_rec *partial_find(checkpoint *c, const char *path)
{
    return name_table_find(&c->partials, path, strlen(path));
}

/* Forget the partial copy n (a record of c->partials). */
static void partial_drop(checkpoint *c, partial_rec *n)
{
    cp_partial_clear(&n->p);
    name_table_remove(&c->partials, n);
}

static void partial_remove(checkpoint *c, const char *path)
{
    partial_rec *n = partial_find(c, path);
    if (n)
        partial_drop(c, n);
}

/* The source a partial copy or a record came from. */
typedef struct source_meta {
    uint64_t size, mtime, file_id, change_time;
} source_meta;

static source_meta meta_of(const ep_stat *st) { return (source_meta){st->size, st->mtime, st->file_id, st->change_time}; }

/* Add a committed extent (none: the copy just started); a different temp or source starts the record over. */
static int partial_add(checkpoint *c, const char *path, const char *temp, source_meta m, const cp_extent *x)
{
    partial_rec *n = partial_find(c, path);
    if (n && (n->p.stale || strcmp(n->p.temp, temp) != 0 || n->p.size != m.size || n->p.mtime != m.mtime ||
              n->p.file_id != m.file_id || n->p.change_time != m.change_time)) {
        partial_drop(c, n);
        n = NULL;
    }
    if (!n) {
        n = name_table_get(&c->partials, path, strlen(path), NULL);
        if (!n)
            return -1;
        if (!(n->p.temp = strdup(temp))) {
            partial_drop(c, n);
            return -1;
        }
        n->p.size = m.size;
        n->p.mtime = m.mtime;
        n->p.file_id = m.file_id;
        n->p.change_time = m.change_time;
    }
    if (!x)
        return 0; /* started: nothing committed yet */
    if (!ARRAY_RESERVE(n->p.ext, n->cap, n->p.n + 1, 8))
        return -1;
    n->p.ext[n->p.n++] = *x;
    return 0;
}

static int on_replay(void *arg, const journal_rec *rec)
{
    checkpoint *c = arg;
    if (rec->type == JOURNAL_FILE_DONE) {
        partial_remove(c, rec->path);
        return done_insert(c, rec->path, rec->size, rec->mtime, rec->file_id, rec->change_time) ? 0 : -1;
    }
    cp_extent x = {rec->offset, rec->length, rec->check};
    source_meta m = {rec->size, rec->mtime, rec->file_id, rec->change_time};
    return partial_add(c, rec->path, rec->temp, m, rec->type == JOURNAL_RANGE_DONE ? &x : NULL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int checkpoint_open(const char *path, const uint8_t job_id[16], bool fresh, checkpoint **out, smb_error *err)
{
    *out = NULL;
    checkpoint *c = calloc(1, sizeof *c);
    if (!c)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    pthread_mutex_init(&c->lock, NULL);
    name_table_init(&c->partials, sizeof(partial_rec));
    int rc = journal_open(path, job_id, fresh, on_replay, c, &c->j, err);
    if (rc != 0) {
        checkpoint_close(c, false, NULL);
        return rc;
    }
    journal_replay_stats(c->j, &c->stats.records, &c->stats.cut_bytes);
    if (fresh) {
        free(c->done);
        c->done = NULL;
        c->done_cap = c->done_n = 0;
        for (partial_rec *n = name_table_next(&c->partials, NULL); n; n = name_table_next(&c->partials, n))
            n->p.stale = true;
    }
    c->stats.files_done = c->done_n;
    c->stats.partials = c->partials.n;
    c->last_sync_ms = now_ms();
    *out = c;
    return 0;
}

void checkpoint_stats(const checkpoint *c, cp_stats *st) { *st = c->stats; }

bool checkpoint_is_done(checkpoint *c, const char *path, const ep_stat *st)
{
    pthread_mutex_lock(&c->lock);
    const done_ent *e = done_find(c, path);
    bool d = e && done_matches(e, st);
    pthread_mutex_unlock(&c->lock);
    return d;
}

bool checkpoint_done_differs(checkpoint *c, const char *path, const ep_stat *st)
{
    pthread_mutex_lock(&c->lock);
    const done_ent *e = done_find(c, path);
    bool d = e && !done_matches(e, st);
    pthread_mutex_unlock(&c->lock);
    return d;
}

/* Sync when the cadence is due. Lock held. */
static int maybe_sync(checkpoint *c, smb_error *err)
{
    uint64_t t = now_ms();
    if (!c->dirty || t - c->last_sync_ms < CHECKPOINT_SYNC_MS)
        return 0;
    c->last_sync_ms = t;
    c->dirty = false;
    return journal_sync(c->j, err);
}

int checkpoint_file_done(checkpoint *c, const char *path, const ep_stat *st, smb_error *err)
{
    journal_rec r = {.type = JOURNAL_FILE_DONE, .path = path, .size = st->size, .mtime = st->mtime,
                     .file_id = st->file_id, .temp = "", .change_time = st->change_time};
    pthread_mutex_lock(&c->lock);
    partial_remove(c, path);
    int rc = done_insert(c, path, st->size, st->mtime, st->file_id, st->change_time)
                 ? 0
                 : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0)
        rc = journal_append(c->j, &r, err);
    c->dirty = true;
    if (rc == 0)
        rc = maybe_sync(c, err);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int checkpoint_commit(checkpoint *c, const char *path, const char *temp, const ep_stat *st, uint64_t off,
                      uint64_t len, uint32_t check, smb_error *err)
{
    journal_rec r = {.type = JOURNAL_RANGE_DONE, .path = path, .size = st->size, .mtime = st->mtime,
                     .file_id = st->file_id, .offset = off, .length = len, .check = check, .temp = temp,
                     .change_time = st->change_time};
    cp_extent x = {off, len, check};
    pthread_mutex_lock(&c->lock);
    int rc = partial_add(c, path, temp, meta_of(st), &x) == 0
                 ? 0
                 : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0)
        rc = journal_append(c->j, &r, err);
    if (rc == 0)
        rc = journal_flush(c->j, err); /* in the file now: a killed process loses nothing committed */
    c->dirty = true;
    if (rc == 0)
        rc = maybe_sync(c, err);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int checkpoint_started(checkpoint *c, const char *path, const char *temp, const ep_stat *st, smb_error *err)
{
    journal_rec r = {.type = JOURNAL_FILE_STARTED, .path = path, .size = st->size, .mtime = st->mtime,
                     .file_id = st->file_id, .temp = temp, .change_time = st->change_time};
    pthread_mutex_lock(&c->lock);
    partial_remove(c, path);
    int rc = partial_add(c, path, temp, meta_of(st), NULL) == 0
                 ? 0
                 : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0)
        rc = journal_append(c->j, &r, err);
    if (rc == 0)
        rc = journal_flush(c->j, err);
    c->dirty = true;
    if (rc == 0)
        rc = maybe_sync(c, err);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

bool checkpoint_partial(checkpoint *c, const char *path, cp_partial *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&c->lock);
    const partial_rec *n = partial_find(c, path);
    bool ok = n != NULL;
    if (ok) {
        *out = n->p;
        out->temp = strdup(n->p.temp);
        out->ext = malloc((n->p.n ? n->p.n : 1) * sizeof *out->ext);
        if (!out->temp || !out->ext) {
            free(out->temp);
            free(out->ext);
            memset(out, 0, sizeof *out);
            ok = false;
        } else if (n->p.n) {
            memcpy(out->ext, n->p.ext, n->p.n * sizeof *out->ext);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

void cp_partial_clear(cp_partial *p)
{
    free(p->temp);
    free(p->ext);
    memset(p, 0, sizeof *p);
}

bool checkpoint_temp_known(checkpoint *c, const char *temp)
{
    bool known = false;
    pthread_mutex_lock(&c->lock);
    for (const partial_rec *n = name_table_next(&c->partials, NULL); n && !known; n = name_table_next(&c->partials, n))
        known = strcmp(n->p.temp, temp) == 0;
    pthread_mutex_unlock(&c->lock);
    return known;
}

void checkpoint_forget(checkpoint *c, const char *path)
{
    pthread_mutex_lock(&c->lock);
    partial_remove(c, path);
    pthread_mutex_unlock(&c->lock);
}

int checkpoint_close(checkpoint *c, bool remove, smb_error *err)
{
    if (!c)
        return 0;
    smb_error local = {0};
    int rc = c->j ? journal_close(c->j, remove, err ? err : &local) : 0;
    for (partial_rec *n = name_table_next(&c->partials, NULL); n; n = name_table_next(&c->partials, n))
        cp_partial_clear(&n->p);
    name_table_free(&c->partials);
    free(c->done);
    pthread_mutex_destroy(&c->lock);
    free(c);
    return rc;
}

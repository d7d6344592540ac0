/*
 * Making a plan (shard.h: sc_plan_make): the job's own walk, as a dry run,
 * collects every file it would decide on (with whether it would copy it),
 * and shard_divide divides them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/error.h"
#include "engine/job_internal.h"
#include "engine/shard/shard_plan.h"

typedef struct collector {
    pthread_mutex_t lock;
    shard_item *items;
    size_t n, cap;
    bool oom;
} collector;

static void note(void *arg, const char *rel, const ep_stat *st, bool to_copy)
{
    collector *c = arg;
    char *path = strdup(rel);
    pthread_mutex_lock(&c->lock);
    if (!path || !ARRAY_RESERVE(c->items, c->cap, c->n + 1, 1024)) {
        c->oom = true;
        free(path);
    } else {
        c->items[c->n++] = (shard_item){.path = path, .size = st->size, .mtime = st->mtime, .to_copy = to_copy};
    }
    pthread_mutex_unlock(&c->lock);
}

int sc_plan_make(const sc_job_opts *opts, unsigned nshards, sc_plan **out, sc_summary *walk, smb_error *err)
{
    *out = NULL;
    if (nshards < 1 || nshards > SC_SHARDS_MAX)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "the number of shards must be 1-%u", SC_SHARDS_MAX);
    if (opts->archive || opts->extract || opts->plan)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "%s", opts->plan ? "a shard cannot be planned again"
                                                                           : "archives are not split into shards");
    sc_job_opts o = *opts;
    o.dry_run = true;
    o.checkpoint = NULL;
    o.mirror = false;   /* deletions are the finishing run's, not a weight */
    o.checksum = false; /* a plan weighs by size and time; reading every file would be a copy's work */
    sc_job *job = sc_job_new(&o, err);
    if (!job)
        return err->code ? err->code : SMB_ERR_INVALID_ARG;
    collector c = {.oom = false};
    pthread_mutex_init(&c.lock, NULL);
    job->plan_note = note;
    job->plan_note_arg = &c;
    sc_summary sum = {0};
    int rc = sc_job_run(job, &sum, err);
    sc_job_free(job);
    if (rc == 0 && sum.interrupted)
        rc = smb_err_set(err, SMB_ERR_CANCELLED, 0, "interrupted while walking the sources");
    if (rc == 0 && c.oom)
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory walking the sources");
    sc_plan *p = NULL;
    if (rc == 0 && !(p = shard_plan_new(nshards)))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0 && (rc = shard_divide(p, c.items, c.n, err)) != 0) {
        sc_plan_free(p);
        p = NULL;
    }
    for (size_t i = 0; i < c.n; i++)
        free(c.items[i].path);
    free(c.items);
    pthread_mutex_destroy(&c.lock);
    if (walk)
        *walk = sum;
    else
        sc_summary_free(&sum);
    *out = p;
    return rc;
}

/*
 * A plan in memory: who owns what (shard_plan.h), its accessors and its end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/random.h"
#include "engine/names/casefold.h"
#include "engine/shard/shard_plan.h"

sc_plan *shard_plan_new(unsigned nshards)
{
    sc_plan *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->nshards = nshards;
    p->shard_bytes = calloc(nshards ? nshards : 1, sizeof *p->shard_bytes);
    p->shard_files = calloc(nshards ? nshards : 1, sizeof *p->shard_files);
    uint8_t id[16];
    if (!p->shard_bytes || !p->shard_files || smb_random(id, sizeof id) != 0) {
        sc_plan_free(p);
        return NULL;
    }
    shard_plan_set_id(p, id);
    return p;
}

void shard_plan_set_id(sc_plan *p, const uint8_t id[16])
{
    memcpy(p->id, id, sizeof p->id);
    for (size_t i = 0; i < sizeof p->id; i++)
        snprintf(p->id_hex + 2 * i, 3, "%02x", p->id[i]);
    uint64_t h = bytes_hash(name_hash(""), p->id, sizeof p->id);
    p->tag = (uint32_t)(h ^ h >> 32);
    if (!p->tag)
        p->tag = 1;
}

void sc_plan_free(sc_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nargs; i++)
        free(p->args[i]);
    free(p->args);
    free(p->summary_dir);
    for (size_t i = 0; i < p->nsplits; i++) {
        for (size_t j = 0; j < p->splits[i].ncuts; j++)
            free(p->splits[i].cuts[j].key);
        free(p->splits[i].cuts);
        free(p->splits[i].path);
    }
    free(p->splits);
    for (size_t i = 0; i < p->nfiles; i++) {
        free(p->files[i].path);
        free(p->files[i].pieces);
    }
    free(p->files);
    free(p->shard_bytes);
    free(p->shard_files);
    free(p);
}

int sc_plan_set_job(sc_plan *p, const char *const *args, size_t nargs, const char *summary_dir)
{
    char **copy = calloc(nargs ? nargs : 1, sizeof *copy);
    char *dir = summary_dir ? strdup(summary_dir) : NULL;
    bool ok = copy && (!summary_dir || dir);
    for (size_t i = 0; ok && i < nargs; i++)
        ok = (copy[i] = strdup(args[i])) != NULL;
    if (!ok) {
        for (size_t i = 0; copy && i < nargs; i++)
            free(copy[i]);
        free(copy);
        free(dir);
        return SMB_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < p->nargs; i++)
        free(p->args[i]);
    free(p->args);
    free(p->summary_dir);
    p->args = copy;
    p->nargs = nargs;
    p->summary_dir = dir;
    return 0;
}

unsigned sc_plan_shards(const sc_plan *p) { return p->nshards; }

const char *sc_plan_id(const sc_plan *p) { return p->id_hex; }

const char *const *sc_plan_job_args(const sc_plan *p, size_t *n)
{
    *n = p->nargs;
    return (const char *const *)p->args;
}

const char *sc_plan_summary_dir(const sc_plan *p) { return p->summary_dir; }

void sc_plan_shard_load(const sc_plan *p, unsigned k, uint64_t *bytes, uint64_t *files)
{
    *bytes = k < p->nshards ? p->shard_bytes[k] : 0;
    *files = k < p->nshards ? p->shard_files[k] : 0;
}

void sc_plan_counts(const sc_plan *p, size_t *split_dirs, size_t *split_files)
{
    *split_dirs = p->nsplits;
    *split_files = p->nfiles;
}

static int split_cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const shard_split *)elem)->path);
}

static int file_cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const shard_file *)elem)->path);
}

const shard_split *shard_find_split(const sc_plan *p, const char *path)
{
    return p->nsplits ? bsearch(path, p->splits, p->nsplits, sizeof *p->splits, split_cmp) : NULL;
}

const shard_file *shard_find_file(const sc_plan *p, const char *path)
{
    return p->nfiles ? bsearch(path, p->files, p->nfiles, sizeof *p->files, file_cmp) : NULL;
}

static unsigned owner_of_key(const shard_split *sp, const char *key)
{
    /* The last cut at or before key (the first cut's key is "", before all). */
    size_t lo = 0, hi = sp->ncuts;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(sp->cuts[mid].key, key) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    return sp->ncuts ? sp->cuts[lo].shard : 0;
}

unsigned shard_owner(const shard_split *sp, const char *name)
{
    char *key = casefold_name(name);
    /* Out of memory: the raw name still decides alike in every shard for all but case-folding names. */
    unsigned k = owner_of_key(sp, key ? key : name);
    free(key);
    return k;
}

bool shard_file_has(const shard_file *f, int k)
{
    for (size_t i = 0; i < f->npieces; i++)
        if ((int)f->pieces[i].shard == k)
            return true;
    return false;
}

shard_role shard_role_of(const sc_plan *p, int k, const shard_split *sp, const char *name, const char *rel,
                         bool is_dir, bool *counted, const shard_file **file)
{
    *file = NULL;
    unsigned owner = shard_owner(sp, name);
    *counted = (int)owner == k;
    if (is_dir && shard_find_split(p, rel))
        return SHARD_SPLIT;
    if (!is_dir && (*file = shard_find_file(p, rel)) != NULL) {
        *counted = (int)(*file)->pieces[0].shard == k;
        return SHARD_RANGES;
    }
    return (int)owner == k ? SHARD_MINE : SHARD_OTHERS;
}

int shard_local_error(int e)
{
    if (e == ENOSPC || e == EDQUOT)
        return SMB_ERR_NO_SPACE;
    if (e == EACCES || e == EPERM || e == EROFS)
        return SMB_ERR_ACCESS;
    return e == ENOENT ? SMB_ERR_NOT_FOUND : SMB_ERR_INTERNAL;
}

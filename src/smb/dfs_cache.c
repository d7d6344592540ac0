/*
 * The referral cache (MS-DFSC 3.1.1 ReferralCache): referrals by prefix,
 * each kept until its TimeToLive runs out. A lookup takes the longest
 * prefix that covers the path, so a link's referral wins over its root's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "pdu_dfs.h"

typedef struct dfs_cache_entry {
    smb_dfs_referral *ref; /* the cache's copy */
    uint64_t expires;      /* clock seconds */
} dfs_cache_entry;

struct smb_dfs_cache {
    pthread_mutex_t lock; /* protects entries, n, cap */
    dfs_cache_entry *entries;
    size_t n, cap;
    uint64_t (*now_s)(void *);
    void *clock_ctx;
};

static uint64_t monotonic_s(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

smb_dfs_cache *smb_dfs_cache_new(void)
{
    smb_dfs_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->now_s = monotonic_s;
    return c;
}

void smb_dfs_cache_free(smb_dfs_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        smb_dfs_referral_free(c->entries[i].ref);
    free(c->entries);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void smb_dfs_cache_set_clock(smb_dfs_cache *c, uint64_t (*now_s)(void *), void *ctx)
{
    pthread_mutex_lock(&c->lock);
    c->now_s = now_s ? now_s : monotonic_s;
    c->clock_ctx = ctx;
    pthread_mutex_unlock(&c->lock);
}

/* Two normalized prefixes name the same path (ASCII letters without case). */
static bool same_prefix(const char *a, const char *b)
{
    return strlen(a) == strlen(b) && smb_dfs_prefix_covers(a, b) >= 0;
}

/* Drop entry i (c->lock held); the last entry takes its place. */
static void drop_entry(smb_dfs_cache *c, size_t i)
{
    smb_dfs_referral_free(c->entries[i].ref);
    c->entries[i] = c->entries[--c->n];
}

int smb_dfs_cache_add(smb_dfs_cache *c, const smb_dfs_referral *r, smb_error *err)
{
    if (!c || !r || !r->prefix || r->prefix[0] == '\0')
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "DFS cache: a referral without a prefix");
    smb_dfs_referral *copy = smb_dfs_referral_dup(r);
    char *norm = copy ? smb_dfs_path_normalize(copy->prefix) : NULL;
    if (!norm) {
        smb_dfs_referral_free(copy);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    free(copy->prefix); /* the form lookups compare with */
    copy->prefix = norm;
    int rc = 0;
    pthread_mutex_lock(&c->lock);
    uint64_t expires = c->now_s(c->clock_ctx) + copy->ttl;
    size_t i = 0;
    while (i < c->n && !same_prefix(c->entries[i].ref->prefix, copy->prefix))
        i++;
    if (i < c->n) {
        smb_dfs_referral_free(c->entries[i].ref);
    } else if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 8;
        dfs_cache_entry *grown = realloc(c->entries, ncap * sizeof *grown);
        if (grown) {
            c->entries = grown;
            c->cap = ncap;
        } else {
            rc = SMB_ERR_NO_MEMORY;
        }
    }
    if (rc == 0) {
        c->entries[i] = (dfs_cache_entry){.ref = copy, .expires = expires};
        if (i == c->n)
            c->n++;
    }
    pthread_mutex_unlock(&c->lock);
    if (rc != 0) {
        smb_dfs_referral_free(copy);
        return smb_err_set(err, rc, 0, "out of memory");
    }
    return 0;
}

int smb_dfs_cache_lookup(smb_dfs_cache *c, const char *dfs_path, smb_dfs_referral **copy, smb_error *err)
{
    *copy = NULL;
    if (!c || !dfs_path)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "DFS cache: no cache or path");
    char *path = smb_dfs_path_normalize(dfs_path);
    if (!path)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    bool nomem = false;
    pthread_mutex_lock(&c->lock);
    uint64_t now = c->now_s(c->clock_ctx);
    const smb_dfs_referral *best = NULL;
    long best_len = -1;
    for (size_t i = 0; i < c->n;) {
        if (now >= c->entries[i].expires) {
            drop_entry(c, i); /* entry i is now another one: look at it again */
            continue;
        }
        long len = smb_dfs_prefix_covers(c->entries[i].ref->prefix, path);
        if (len > best_len) {
            best_len = len;
            best = c->entries[i].ref;
        }
        i++;
    }
    if (best)
        nomem = !(*copy = smb_dfs_referral_dup(best));
    pthread_mutex_unlock(&c->lock);
    int rc = 0;
    if (nomem)
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    else if (!best)
        rc = smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "no cached DFS referral for %s", path);
    free(path);
    return rc;
}

/*
 * The SMB endpoint's private types, shared by ep_smb.c (pool, paths, file
 * I/O) and ep_smb_copy.c (server-side copy, MS-SMB2 3.2.4.20.1).
 */
#ifndef SMBCOPY_EP_SMB_H
#define SMBCOPY_EP_SMB_H

#include <pthread.h>

#include "endpoint.h"

/** Length of a resume key (MS-SMB2 2.2.32.3). */
#define EP_SMB_RESUME_KEY_LEN 24

struct ep_smb_srv; /* one connection + session of the pool */

/** Most connections (lanes) per server. */
#define EP_SMB_MAX_LANES 16

/** An SMB endpoint: a share of the pool's server, rooted at a path. */
typedef struct ep_smb {
    ep base;
    ep_smb_pool *pool;
    struct ep_smb_srv *srv; /**< owned by the pool */
    smb_tree *tree;         /**< the first lane's tree, owned by the pool, shared by every endpoint of the share */
    char *share;
    char *root;             /**< path inside the share, '/'-separated, "" for the share root */
    ep_counters *counters;  /**< may be NULL */
} ep_smb;

/** An open file of an SMB endpoint. */
struct ep_file {
    ep_smb *e;
    smb_open *op;
    char *path;               /**< path inside the share, for messages */
    pthread_mutex_t key_lock; /**< guards the cached resume key */
    bool have_key;
    uint64_t size;            /**< size set at open_write/open_resume: zeros inside it are not sent */
    uint8_t resume_key[EP_SMB_RESUME_KEY_LEN];
};

/** Add n to the counter `field` of endpoint e, when it keeps counters. */
#define EP_SMB_COUNT(e, field, n)                                                     \
    do {                                                                              \
        if ((e)->counters)                                                            \
            __atomic_fetch_add(&(e)->counters->field, (uint64_t)(n), __ATOMIC_RELAXED); \
    } while (0)

/**
 * The session for loc's server and credentials (the URL's user, domain and
 * password override the pool's defaults) and the tree of loc's share,
 * connecting either on first use. Both stay owned by the pool.
 */
int ep_smb_pool_tree(ep_smb_pool *pool, const sc_location *loc, struct ep_smb_srv **srv, smb_tree **tree,
                     smb_error *err);

/**
 * The calling thread's tree of share on srv (its lane, connected on first
 * use); first (the first lane's tree) when the pool has one lane or the
 * lane cannot be had.
 */
smb_tree *ep_smb_pool_thread_tree(ep_smb_pool *pool, struct ep_smb_srv *srv, const char *share, smb_tree *first);

/** ep_ops.server_copy: FSCTL_SRV_COPYCHUNK_WRITE from src to dst. */
int ep_smb_server_copy(ep_file *src, ep_file *dst, uint64_t off, uint64_t len, smb_error *err);

#endif

/*
 * The SMB endpoint's private types, shared by ep_smb.c (pool, paths, file
 * I/O), ep_smb_copy.c (server-side copy, MS-SMB2 3.2.4.20.1) and
 * ep_smb_meta.c (named streams and security descriptors).
 */
#ifndef SMBCOPY_EP_SMB_H
#define SMBCOPY_EP_SMB_H

#include <pthread.h>

#include "engine/endpoints/endpoint.h"

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
    /**
     * Set once a server refused an open ACCESS_SYSTEM_SECURITY that it granted
     * without (no SeSecurityPrivilege): later opens no longer ask for it.
     * Atomic (__atomic_*): opens run on many threads.
     */
    bool sacl_refused;
    struct ep_smb_dfs *dfs; /**< the DFS links followed (ep_smb_dfs.c); NULL when the share is not a DFS share */
    bool every_share;       /**< share "*": the root lists the server's disk shares, each a link to itself */
} ep_smb;

/** An open file of an SMB endpoint. */
struct ep_file {
    ep_smb *e;
    smb_open *op;
    smb_tree *tree;           /**< the lane op was opened on (owned by the pool) */
    char *path;               /**< path inside the share ('/'-separated): messages, and "path:stream" opens */
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

/** The session of srv's first lane (owned by the pool): for requests outside a share (DFS referrals). */
smb_session *ep_smb_pool_session(struct ep_smb_srv *srv);
/** srv's host (owned by the pool) and, in *port, its port. */
const char *ep_smb_pool_host(const struct ep_smb_srv *srv, uint16_t *port);
/**
 * As ep_smb_pool_tree, for share on host:port with the credentials srv
 * `like` logged on with (a DFS link's target: the same user, MS-DFSC 3.1.4.1).
 */
int ep_smb_pool_tree_like(ep_smb_pool *pool, const struct ep_smb_srv *like, const char *host, uint16_t port,
                          const char *share, struct ep_smb_srv **srv, smb_tree **tree, smb_error *err);

/** ep_ops.server_copy: FSCTL_SRV_COPYCHUNK_WRITE from src to dst. */
int ep_smb_server_copy(ep_file *src, ep_file *dst, uint64_t off, uint64_t len, smb_error *err);

/**
 * Refill err with lib's code and status, the message prefixed by what and
 * path ("read 'a/b': ..."), unless lib's message already starts so. Returns
 * lib->code.
 */
int ep_smb_fail_at(smb_error *err, const smb_error *lib, const char *what, const char *path);

/* ep_smb_meta.c: endpoint.h's get_streams, put_streams, get_sd and put_sd. */
int ep_smb_get_streams(ep_file *f, ep_streams *out, smb_error *err);
int ep_smb_put_streams(ep_file *f, ep_streams *s, smb_error *err);
int ep_smb_get_sd(ep_file *f, uint32_t parts, ep_sd *out, smb_error *err);
int ep_smb_put_sd(ep_file *f, const ep_sd *sd, smb_error *err);

/** Every part of a security descriptor (EP_SD_*). */
#define EP_SD_ALL (EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL | EP_SD_SACL)

/** The descriptor parts (EP_SD_*) as SMB_SECINFO_* bits. */
uint32_t ep_smb_secinfo(uint32_t parts);

/**
 * err: the SACL of path refused (reading or setting it needs
 * SeSecurityPrivilege, MS-DTYP 2.4.6), with the server's ntstatus (0: the
 * share refused it before and was not asked again). Returns SMB_ERR_ACCESS.
 */
int ep_smb_sacl_refused(smb_error *err, const char *path, bool reading, uint32_t ntstatus);

/**
 * The descriptor bytes[0..len) read from path (the parts `parts` asked
 * for) into *out, taking bytes (malloc'd; freed here when not kept): len 0
 * is none. Bytes that do not decode as a descriptor fail with
 * SMB_ERR_PROTOCOL, so that a garbled one fails its file at the source.
 */
int ep_smb_sd_take(const char *path, uint8_t *bytes, size_t len, uint32_t parts, ep_sd *out, smb_error *err);

/**
 * smb_create of path on tree with p, asking also for the access that the
 * security descriptor parts e->base.sd_parts need (for_write: WRITE_DAC,
 * WRITE_OWNER, ACCESS_SYSTEM_SECURITY to set them; else READ_CONTROL and
 * ACCESS_SYSTEM_SECURITY to read them). A server refusing that access
 * (SMB_ERR_ACCESS) is asked again without ACCESS_SYSTEM_SECURITY (it needs
 * SeSecurityPrivilege; once refused so, e's later opens leave it out), then
 * without any of it: the file opens, and get_sd / put_sd then say what was
 * refused. The open is the caller's; NULL with le filled on failure.
 */
smb_open *ep_smb_create_sd(ep_smb *e, smb_tree *tree, const char *path, const smb_create_params *p, bool for_write,
                           smb_error *le);

/* ep_smb_dfs.c: DFS links (MS-DFSC) of a DFS share, followed to their targets. */

/**
 * Make e ready to follow DFS links when its share is a DFS share (the tree
 * connect said SMB2_SHAREFLAG_DFS or _DFS_ROOT, MS-SMB2 2.2.10); nothing otherwise.
 * Returns 0 or SMB_ERR_NO_MEMORY.
 */
int ep_smb_dfs_init(ep_smb *e, smb_error *err);
/** Free what ep_smb_dfs_init made. */
void ep_smb_dfs_free(ep_smb *e);
/**
 * An every-share endpoint (share "*") (e->share is IPC$): every disk share of e's server
 * (smb_list_shares; administrative and non-disk shares left out) becomes
 * a link of e's root to that share, connected now with e's credentials;
 * one the user may not connect to stays known with the reason, which its
 * subtree then fails with. Returns 0, or the enumeration's error.
 */
int ep_smb_dfs_every_share(ep_smb *e, smb_error *err);
/** fn(arg, name) for each link directly under e's root, in the order they were added; stops at fn's non-zero. */
int ep_smb_dfs_each_top(ep_smb *e, int (*fn)(void *arg, const char *name), void *arg);

/** Whether tree's share is in a DFS namespace (SMB2_SHAREFLAG_DFS or _DFS_ROOT): its entries may be links. */
bool ep_smb_dfs_tree(smb_tree *tree);

/** Whether e's share is a DFS share (links may be followed). */
bool ep_smb_dfs_share(const ep_smb *e);

/**
 * Where path (inside e's share, '/'-separated) is when it is under a DFS
 * link followed: *tree, the calling thread's tree of the link's target
 * share, and *out, the path inside it (malloc'd, the caller frees it).
 * Both NULL when path is under no link (it is in e's own share). A path
 * under a link none of whose targets could be reached fails with the
 * reason (SMB_ERR_NOT_FOUND, naming each target and why it failed).
 */
int ep_smb_dfs_route(ep_smb *e, const char *path, smb_tree **tree, char **out, smb_error *err);

/**
 * Follow the DFS link at (or above) path inside e's share: ask for its
 * referral (MS-DFSC 3.1.4.2) the server of the share path is in (e's own,
 * or, for a link inside a link's target or inside one of every share's,
 * that target's), connect to the first target that answers (the others in
 * the server's order when it does not), and route the link's paths there
 * from now on (counted in e's counters: dfs_links_followed, or
 * dfs_links_unreachable). *is_link: path is at or under a link followed
 * now or before. Returns 0 when it is and its target was reached;
 * SMB_ERR_NOT_FOUND when the server has no referral for it (not a link);
 * the reason when no target could be reached (paths under the link then
 * fail with it).
 */
int ep_smb_dfs_follow(ep_smb *e, const char *path, bool *is_link, smb_error *err);

/**
 * e's share is not on e's server (the tree connect was refused: refused,
 * STATUS_BAD_NETWORK_NAME): a domain-based namespace's root reached through
 * a domain controller, or a share that refers elsewhere (Samba's "msdfs
 * proxy"). Ask e's server for the root referral of \\host\share\root
 * (MS-DFSC 3.1.4.1) and move e to the first target that connects: its
 * server, share and the path inside it (e->srv, tree, share, root); a
 * target that refers on again is followed, at most
 * SMB_CLIENT_MAX_REFERRALS (8) times. Returns 0;
 * refused's error when the server has no referral either; SMB_ERR_NOT_FOUND
 * naming each target and why when none could be reached.
 */
int ep_smb_dfs_root_referral(ep_smb *e, const smb_error *refused, smb_error *err);

#endif

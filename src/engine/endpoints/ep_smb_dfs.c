/*
 * DFS links of an SMB endpoint's share (MS-DFSC), followed to their
 * targets. A DFS share (SMB2_SHAREFLAG_DFS, MS-SMB2 2.2.10) shows a link as
 * a directory that is a reparse point, and answers STATUS_PATH_NOT_COVERED
 * for any path through it. Such a link is resolved by a referral from the
 * share's server (smb_dfs_get_referral), the first of its targets that
 * answers is connected through the pool with the same credentials, and
 * from then on every path under the link goes to the target share with the
 * link's part of the path replaced by the target's (MS-DFSC 3.1.4.2). A
 * link none of whose targets answers stays known with the reason, which
 * every path under it then fails with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <smbcopy/dfs.h>
#include <smbcopy/shares.h>

#include "common/array.h"
#include "common/error.h"
#include "engine/endpoints/ep_smb.h"

/*
 * ShareFlags: the share is in a DFS namespace, or is a DFS root (MS-SMB2
 * 2.2.10). Not SMB2_SHARE_CAP_DFS: Samba sets that capability on every
 * share of a server with "host msdfs = yes", its default.
 */
#define SHAREFLAG_DFS 0x00000001u
#define SHAREFLAG_DFS_ROOT 0x00000002u
/* The port of an SMB server another server refers to: referrals carry none (MS-DFSC 2.2.5.3). */
#define SMB_PORT 445

typedef struct dfs_link {
    char *prefix;           /* the link's path inside the endpoint's share, '/'-separated */
    struct ep_smb_srv *srv; /* the target's server (owned by the pool); NULL when none was reached */
    smb_tree *tree;         /* the target share's first-lane tree (owned by the pool) */
    char *share;            /* the target share */
    char *root;             /* the path inside the target share, '/'-separated, "" for its root */
    smb_error fail;         /* code != 0: no target was reached, and why */
} dfs_link;

struct ep_smb_dfs {
    pthread_mutex_t lock;
    dfs_link *links;
    size_t n, cap;
};

static void link_free(dfs_link *l)
{
    free(l->prefix);
    free(l->share);
    free(l->root);
}

/* e's link table, made when missing. */
static int make_table(ep_smb *e, smb_error *err)
{
    if (e->dfs)
        return 0;
    struct ep_smb_dfs *d = calloc(1, sizeof *d);
    if (!d || pthread_mutex_init(&d->lock, NULL) != 0) {
        free(d);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    e->dfs = d;
    return 0;
}

int ep_smb_dfs_init(ep_smb *e, smb_error *err)
{
    smb_tree_info info;
    smb_tree_get_info(e->tree, &info);
    if (!(info.share_flags & (SHAREFLAG_DFS | SHAREFLAG_DFS_ROOT)))
        return 0;
    return make_table(e, err);
}

void ep_smb_dfs_free(ep_smb *e)
{
    struct ep_smb_dfs *d = e->dfs;
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        link_free(&d->links[i]);
    free(d->links);
    pthread_mutex_destroy(&d->lock);
    free(d);
    e->dfs = NULL;
}

bool ep_smb_dfs_share(const ep_smb *e) { return e->dfs != NULL; }

/* The length of prefix when it is path or a parent of it (whole components, any case), else 0. */
static size_t covers(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    if (n == 0 || strncasecmp(prefix, path, n) != 0 || (path[n] != '\0' && path[n] != '/'))
        return 0;
    return n;
}

/* The link with the longest prefix covering path, or NULL. Lock held. */
static const dfs_link *find_link(const struct ep_smb_dfs *d, const char *path, size_t *len)
{
    const dfs_link *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < d->n; i++) {
        size_t n = covers(d->links[i].prefix, path);
        if (n > best_len) {
            best = &d->links[i];
            best_len = n;
        }
    }
    *len = best_len;
    return best;
}

/* a + "/" + b (either may be empty), malloc'd. */
static char *path_join(const char *a, const char *b)
{
    size_t x = strlen(a), y = strlen(b);
    char *p = malloc(x + y + 2);
    if (p)
        snprintf(p, x + y + 2, "%s%s%s", a, x && y ? "/" : "", b);
    return p;
}

int ep_smb_dfs_route(ep_smb *e, const char *path, smb_tree **tree, char **out, smb_error *err)
{
    *tree = NULL;
    *out = NULL;
    struct ep_smb_dfs *d = e->dfs;
    if (!d)
        return 0;
    pthread_mutex_lock(&d->lock);
    size_t n = 0;
    const dfs_link *l = find_link(d, path, &n);
    if (!l) {
        pthread_mutex_unlock(&d->lock);
        return 0;
    }
    if (l->fail.code) {
        int code = l->fail.code;
        smb_err_set(err, code, l->fail.ntstatus, "%s", l->fail.message);
        pthread_mutex_unlock(&d->lock);
        return code;
    }
    struct ep_smb_srv *srv = l->srv;
    smb_tree *first = l->tree;
    char *share = strdup(l->share);
    const char *rest = path + n + (path[n] == '/' ? 1 : 0);
    char *routed = path_join(l->root, rest);
    pthread_mutex_unlock(&d->lock);
    if (!share || !routed) {
        free(share);
        free(routed);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    *tree = ep_smb_pool_thread_tree(e->pool, srv, share, first);
    free(share);
    *out = routed;
    return 0;
}

/* s with every from replaced by to, in place. */
static void swap_sep(char *s, char from, char to)
{
    for (; *s; s++)
        if (*s == from)
            *s = to;
}

/* The path inside the share of a referral's prefix ("\\host\\share\\a\\b" -> "a/b"), malloc'd; NULL when it has none. */
static char *prefix_in_share(const char *prefix)
{
    const char *p = prefix;
    for (int skip = 0; skip < 2; skip++) { /* the host, then the share */
        while (*p == '\\')
            p++;
        p = strchr(p, '\\');
        if (!p)
            return NULL;
    }
    while (*p == '\\')
        p++;
    if (!*p)
        return NULL;
    char *s = strdup(p);
    if (s) {
        swap_sep(s, '\\', '/');
        size_t n = strlen(s);
        while (n && s[n - 1] == '/')
            s[--n] = '\0';
    }
    return s;
}

/*
 * Add l to e's links unless a link of the same prefix is there (another
 * thread followed it first: l is freed), counting it for the summary.
 */
static void add_link(ep_smb *e, dfs_link *l)
{
    struct ep_smb_dfs *d = e->dfs;
    bool added = false;
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < d->n; i++)
        if (strcasecmp(d->links[i].prefix, l->prefix) == 0)
            goto done;
    if (ARRAY_RESERVE(d->links, d->cap, d->n + 1, 4)) {
        d->links[d->n++] = *l;
        added = true;
    }
done:
    pthread_mutex_unlock(&d->lock);
    if (!added) {
        link_free(l);
        return;
    }
    if (l->fail.code)
        EP_SMB_COUNT(e, dfs_links_unreachable, 1);
    else
        EP_SMB_COUNT(e, dfs_links_followed, 1);
}

/* Connect target i of r for link l; 0, or the reason in *why. */
static int reach_target(ep_smb *e, const smb_dfs_referral *r, size_t i, dfs_link *l, smb_error *why)
{
    char *server = NULL, *share = NULL, *rest = NULL;
    int rc = smb_dfs_rewrite(r, i, r->prefix, &server, &share, &rest, why);
    if (rc == 0) {
        uint16_t port = 0;
        const char *host = ep_smb_pool_host(e->srv, &port);
        /* The same server by its name: its port (a test server's); another: SMB's own. */
        if (strcasecmp(host, server) != 0)
            port = SMB_PORT;
        rc = ep_smb_pool_tree_like(e->pool, e->srv, server, port, share, &l->srv, &l->tree, why);
        if (rc != 0) {
            smb_error le = *why;
            smb_err_set(why, le.code, le.ntstatus, "//%s/%s: %s", server, share, le.message);
        }
    }
    if (rc == 0) {
        swap_sep(rest, '\\', '/');
        l->share = share;
        l->root = rest;
        share = rest = NULL;
    }
    free(server);
    free(share);
    free(rest);
    return rc;
}

int ep_smb_dfs_follow(ep_smb *e, const char *path, smb_error *err)
{
    struct ep_smb_dfs *d = e->dfs;
    if (!d)
        return smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "'%s' is not on a DFS share", path);
    size_t n = 0;
    pthread_mutex_lock(&d->lock);
    const dfs_link *known = find_link(d, path, &n);
    int known_code = known ? known->fail.code : 0;
    if (known && known_code)
        smb_err_set(err, known_code, known->fail.ntstatus, "%s", known->fail.message);
    pthread_mutex_unlock(&d->lock);
    if (known)
        return known_code;

    /* The DFS path of path: \host\share\a\b (MS-DFSC 2.2.2). */
    uint16_t port = 0;
    const char *host = ep_smb_pool_host(e->srv, &port);
    size_t len = strlen(host) + strlen(e->share) + strlen(path) + 4;
    char *dfs_path = malloc(len);
    if (!dfs_path)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    snprintf(dfs_path, len, "\\%s\\%s%s%s", host, e->share, *path ? "\\" : "", path);
    swap_sep(dfs_path, '/', '\\');
    smb_dfs_referral *r = NULL;
    smb_error le = {0};
    int rc = smb_dfs_get_referral(ep_smb_pool_session(e->srv), dfs_path, &r, &le);
    free(dfs_path);
    if (rc != 0) {
        if (err)
            *err = le;
        return rc;
    }
    dfs_link l = {.prefix = prefix_in_share(r->prefix)};
    if (!l.prefix || !covers(l.prefix, path)) {
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the DFS referral for '%s' covers '%s'", path, r->prefix);
        free(l.prefix);
        smb_dfs_referral_free(r);
        return rc;
    }
    /* The targets in the server's order: the next when one cannot be reached (MS-DFSC 3.1.5.1). */
    char tried[1024] = "";
    size_t used = 0;
    rc = SMB_ERR_NOT_FOUND;
    for (size_t i = 0; i < r->ntargets; i++) {
        smb_error why = {0};
        rc = reach_target(e, r, i, &l, &why);
        if (rc == 0)
            break;
        int w = snprintf(tried + used, sizeof tried - used, "%s%s", used ? "; " : "", why.message);
        if (w > 0)
            used = used + (size_t)w < sizeof tried ? used + (size_t)w : sizeof tried - 1;
        le = why;
    }
    if (rc != 0) {
        /* Not a lost connection of the job's (which it would reconnect for): this subtree's path is not there. */
        smb_err_set(&l.fail, SMB_ERR_NOT_FOUND, le.ntstatus, "DFS link '%s': no target could be reached (%s)",
                    l.prefix, r->ntargets ? tried : "none given");
        rc = l.fail.code;
        if (err)
            *err = l.fail;
    }
    smb_dfs_referral_free(r);
    add_link(e, &l);
    return rc;
}

/* A share name that can be a directory's: no separator, not "." or "..". */
static bool share_name_ok(const char *name)
{
    return *name && !strchr(name, '/') && !strchr(name, '\\') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int ep_smb_dfs_every_share(ep_smb *e, smb_error *err)
{
    int rc = make_table(e, err);
    if (rc != 0)
        return rc;
    smb_share_info *shares = NULL;
    size_t n = 0;
    rc = smb_list_shares(ep_smb_pool_session(e->srv), &shares, &n, err);
    if (rc != 0)
        return rc;
    uint16_t port = 0;
    const char *host = ep_smb_pool_host(e->srv, &port);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        /* Disk shares only; administrative ones (C$, ADMIN$) are the whole disk again (MS-SRVS 2.2.2.4). */
        if ((shares[i].type & SMB_STYPE_MASK) != SMB_STYPE_DISKTREE || (shares[i].type & SMB_STYPE_SPECIAL) ||
            !share_name_ok(shares[i].name))
            continue;
        dfs_link l = {.prefix = strdup(shares[i].name)};
        smb_error why = {0};
        if (!l.prefix) {
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            break;
        }
        if (ep_smb_pool_tree_like(e->pool, e->srv, host, port, shares[i].name, &l.srv, &l.tree, &why) == 0) {
            l.share = strdup(shares[i].name);
            l.root = strdup("");
            if (!l.share || !l.root)
                rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        } else {
            /* This share's subtree fails (exit 1); the others are copied. */
            smb_err_set(&l.fail, why.code == SMB_ERR_ACCESS ? SMB_ERR_ACCESS : SMB_ERR_NOT_FOUND, why.ntstatus,
                        "share '%s': %s", shares[i].name, why.message);
        }
        if (rc == 0) {
            struct ep_smb_dfs *d = e->dfs;
            pthread_mutex_lock(&d->lock);
            if (ARRAY_RESERVE(d->links, d->cap, d->n + 1, 8))
                d->links[d->n++] = l;
            else
                rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            pthread_mutex_unlock(&d->lock);
        }
        if (rc != 0)
            link_free(&l);
    }
    smb_shares_free(shares, n);
    return rc;
}

int ep_smb_dfs_each_top(ep_smb *e, int (*fn)(void *arg, const char *name), void *arg)
{
    struct ep_smb_dfs *d = e->dfs;
    if (!d)
        return 0;
    /* The names first: fn may route paths (taking the lock). */
    pthread_mutex_lock(&d->lock);
    size_t n = d->n;
    char **names = calloc(n ? n : 1, sizeof *names);
    for (size_t i = 0; names && i < n; i++)
        names[i] = strchr(d->links[i].prefix, '/') ? NULL : strdup(d->links[i].prefix);
    pthread_mutex_unlock(&d->lock);
    if (!names)
        return SMB_ERR_NO_MEMORY;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && names[i])
            rc = fn(arg, names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

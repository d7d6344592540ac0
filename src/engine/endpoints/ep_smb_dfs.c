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

#include <smbcopy/client.h>
#include <smbcopy/dfs.h>
#include <smbcopy/ntstatus.h>
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

/* Connect target i of r for link l, r having come from server `from`; 0, or the reason in *why. */
/*
 * A tree on share of server, a referral's target reached from the server
 * from (the same server by its name keeps its port, a test server's;
 * another gets SMB's own), with e's credentials; *why names the share on
 * failure.
 */
static int connect_target(ep_smb *e, struct ep_smb_srv *from, const char *server, const char *share,
                          struct ep_smb_srv **srv, smb_tree **tree, smb_error *why)
{
    uint16_t port = 0;
    const char *host = ep_smb_pool_host(from, &port);
    if (strcasecmp(host, server) != 0)
        port = SMB_PORT;
    int rc = ep_smb_pool_tree_like(e->pool, e->srv, server, port, share, srv, tree, why);
    if (rc != 0) {
        smb_error le = *why;
        smb_err_set(why, le.code, le.ntstatus, "//%s/%s: %s", server, share, le.message);
    }
    return rc;
}

static int reach_target(ep_smb *e, struct ep_smb_srv *from, const smb_dfs_referral *r, size_t i, dfs_link *l,
                        smb_error *why)
{
    char *server = NULL, *share = NULL, *rest = NULL;
    int rc = smb_dfs_rewrite(r, i, r->prefix, &server, &share, &rest, why);
    if (rc == 0)
        rc = connect_target(e, from, server, share, &l->srv, &l->tree, why);
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

bool ep_smb_dfs_tree(smb_tree *tree)
{
    smb_tree_info info;
    smb_tree_get_info(tree, &info);
    return (info.share_flags & (SHAREFLAG_DFS | SHAREFLAG_DFS_ROOT)) != 0;
}

/*
 * Where to ask for path's referral: the server, the share on it and the
 * path inside that share, and how a referral's prefix there maps back into
 * e's paths (base + the part of the prefix under `under`). Either e's own
 * share, or the target of a link already followed that path lies deeper
 * under (a link in a linked share: a nested namespace, or a DFS root among
 * every share's).
 */
typedef struct ask_at {
    struct ep_smb_srv *srv;
    char *share, *in_share; /* malloc'd */
    char *base, *under;     /* malloc'd: e's path of the parent link ("" for e's own share), its root there */
} ask_at;

static void ask_free(ask_at *q)
{
    free(q->share);
    free(q->in_share);
    free(q->base);
    free(q->under);
}

/* The part of in_share under `under` put under base (e's path space); NULL when in_share is not under it. */
static char *map_back(const ask_at *q, const char *in_share)
{
    size_t n = strlen(q->under);
    if (n && !covers(q->under, in_share))
        return NULL;
    const char *rest = in_share + n;
    while (*rest == '/')
        rest++;
    return path_join(q->base, rest);
}

int ep_smb_dfs_follow(ep_smb *e, const char *path, bool *is_link, smb_error *err)
{
    *is_link = false;
    struct ep_smb_dfs *d = e->dfs;
    if (!d)
        return smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "'%s' is not on a DFS share", path);
    size_t n = 0;
    ask_at q = {0};
    pthread_mutex_lock(&d->lock);
    const dfs_link *known = find_link(d, path, &n);
    if (known && (known->fail.code || path[n] == '\0' || !known->tree || !ep_smb_dfs_tree(known->tree))) {
        /* Followed before (or failed); or deeper inside a target that holds no links. */
        int code = known->fail.code;
        bool here = known->fail.code || path[n] == '\0';
        if (code)
            smb_err_set(err, code, known->fail.ntstatus, "%s", known->fail.message);
        else if (!here)
            smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "'%s' is in a share without DFS links", path);
        pthread_mutex_unlock(&d->lock);
        *is_link = here;
        return here ? code : SMB_ERR_NOT_FOUND;
    }
    if (known) {
        q.srv = known->srv;
        q.share = strdup(known->share);
        q.in_share = path_join(known->root, path + n + 1);
        q.base = strdup(known->prefix);
        q.under = strdup(known->root);
    }
    pthread_mutex_unlock(&d->lock);
    if (!known) {
        q.srv = e->srv;
        q.share = strdup(e->share);
        q.in_share = strdup(path);
        q.base = strdup("");
        q.under = strdup("");
    }
    if (!q.share || !q.in_share || !q.base || !q.under) {
        ask_free(&q);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }

    /* The DFS path of path: \host\share\a\b (MS-DFSC 2.2.2). */
    uint16_t port = 0;
    const char *host = ep_smb_pool_host(q.srv, &port);
    char *dfs_path = smb_dfs_path_join(host, q.share, q.in_share);
    if (!dfs_path) {
        ask_free(&q);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    smb_dfs_referral *r = NULL;
    smb_error le = {0};
    int rc = smb_dfs_get_referral(ep_smb_pool_session(q.srv), dfs_path, &r, &le);
    free(dfs_path);
    if (rc != 0) {
        ask_free(&q);
        if (err)
            *err = le;
        return rc;
    }
    char *in_share = prefix_in_share(r->prefix);
    dfs_link l = {.prefix = in_share ? map_back(&q, in_share) : NULL};
    free(in_share);
    if (!l.prefix || !covers(l.prefix, path) || (known && strlen(l.prefix) <= n)) {
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the DFS referral for '%s' covers '%s'", path, r->prefix);
        free(l.prefix);
        smb_dfs_referral_free(r);
        ask_free(&q);
        return rc;
    }
    *is_link = true;
    /* The targets in the server's order: the next when one cannot be reached (MS-DFSC 3.1.5.1). */
    char tried[1024] = "";
    size_t used = 0;
    rc = SMB_ERR_NOT_FOUND;
    for (size_t i = 0; i < r->ntargets; i++) {
        smb_error why = {0};
        rc = reach_target(e, q.srv, r, i, &l, &why);
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
    ask_free(&q);
    add_link(e, &l);
    return rc;
}

/* The most root referrals followed one after another (a target that is itself
 * referred on, MS-DFSC 3.1.4.1): the library client's bound. */
#define ROOT_HOPS_MAX SMB_CLIENT_MAX_REFERRALS

/* Where a root referral sends a share: a server, a share on it and the path inside. */
typedef struct root_place {
    struct ep_smb_srv *srv; /* owned by the pool */
    smb_tree *tree;         /* NULL: the server answered, but has no such share (it may refer on) */
    char *share, *rest;     /* malloc'd; rest '/'-separated */
} root_place;

static void place_free(root_place *at)
{
    free(at->share);
    free(at->rest);
    *at = (root_place){0};
}

/*
 * Connect target i of r, which covers dfs_path (asked of `from`), into *at;
 * 0, or the reason in *why (at->srv may be set: the server answered). e's
 * credentials (MS-DFSC 3.1.4.1: the same user).
 */
static int reach_root_target(ep_smb *e, struct ep_smb_srv *from, const smb_dfs_referral *r, size_t i,
                             const char *dfs_path, root_place *at, smb_error *why)
{
    char *server = NULL;
    int rc = smb_dfs_rewrite(r, i, dfs_path, &server, &at->share, &at->rest, why);
    if (rc == 0) {
        swap_sep(at->rest, '\\', '/');
        rc = connect_target(e, from, server, at->share, &at->srv, &at->tree, why);
    }
    free(server);
    return rc;
}

/*
 * One root referral, asked of at->srv, for at->share and at->rest: 0 with
 * *at the first target that connects; 1 with *at a target whose server has
 * no such share (*refused then says so), to be asked again; or the error.
 */
static int root_hop(ep_smb *e, root_place *at, smb_error *refused, smb_error *err)
{
    uint16_t port = 0;
    const char *host = ep_smb_pool_host(at->srv, &port);
    char *dfs_path = smb_dfs_path_join(host, at->share, at->rest);
    if (!dfs_path)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    /* A root referral asks for the first two components only (MS-DFSC 3.1.4.1, 2.2.2). */
    char *root_path = strndup(dfs_path, strlen(host) + strlen(at->share) + 2);
    smb_dfs_referral *r = NULL;
    smb_error le = {0};
    int got = root_path ? smb_dfs_get_referral(ep_smb_pool_session(at->srv), root_path, &r, &le) : SMB_ERR_NO_MEMORY;
    free(root_path);
    if (got != 0 || r->ntargets == 0) {
        /* No referral either: the share is simply not there, as the tree connect said. */
        free(dfs_path);
        smb_dfs_referral_free(r);
        if (err)
            *err = *refused;
        return refused->code;
    }
    /* The targets in the server's order (MS-DFSC 3.1.5.1); one that refers on is kept for last. */
    char tried[1024] = "";
    size_t used = 0;
    root_place on = {0}, found = {0};
    smb_error on_why = {0};
    int rc = SMB_ERR_NOT_FOUND;
    for (size_t i = 0; i < r->ntargets; i++) {
        root_place t = {0};
        smb_error why = {0};
        rc = reach_root_target(e, at->srv, r, i, dfs_path, &t, &why);
        if (rc == 0) {
            found = t;
            break;
        }
        if (why.code == SMB_ERR_BAD_SHARE && t.srv && !on.srv) {
            on = t;
            on_why = why;
        } else {
            place_free(&t);
        }
        int w = snprintf(tried + used, sizeof tried - used, "%s%s", used ? "; " : "", why.message);
        if (w > 0)
            used = used + (size_t)w < sizeof tried ? used + (size_t)w : sizeof tried - 1;
        le = why;
    }
    free(dfs_path);
    smb_dfs_referral_free(r);
    if (rc == 0 || on.srv) {
        place_free(at);
        *at = rc == 0 ? found : on;
        if (rc == 0) {
            place_free(&on);
            return 0;
        }
        *refused = on_why;
        return 1;
    }
    return smb_err_set(err, SMB_ERR_NOT_FOUND, le.ntstatus, "DFS root: no target could be reached (%s)", tried);
}

/* Follow root referrals from `from` for share and root into *at (0), or the error. */
static int resolve_root(ep_smb *e, struct ep_smb_srv *from, const char *share, const char *root,
                        const smb_error *refused, root_place *at, smb_error *err)
{
    *at = (root_place){.srv = from, .share = strdup(share), .rest = strdup(root)};
    if (!at->share || !at->rest) {
        place_free(at);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    smb_error last = *refused;
    for (int hop = 0; hop < ROOT_HOPS_MAX; hop++) {
        int rc = root_hop(e, at, &last, err);
        if (rc == 0)
            return 0;
        if (rc != 1) {
            place_free(at);
            return rc;
        }
    }
    place_free(at);
    return smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "DFS root: still referred on after %d referrals (%s)",
                       ROOT_HOPS_MAX, last.message);
}

int ep_smb_dfs_root_referral(ep_smb *e, const smb_error *refused, smb_error *err)
{
    root_place at;
    int rc = resolve_root(e, e->srv, e->share, e->root, refused, &at, err);
    if (rc != 0)
        return rc;
    free(e->share);
    free(e->root);
    e->srv = at.srv;
    e->tree = at.tree;
    e->share = at.share;
    e->root = at.rest;
    EP_SMB_COUNT(e, dfs_links_followed, 1);
    return 0;
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
        int got = ep_smb_pool_tree_like(e->pool, e->srv, host, port, shares[i].name, &l.srv, &l.tree, &why);
        root_place at;
        /* A share the server refers elsewhere (a DFS proxy): its target. */
        if (got != 0 && why.ntstatus == SMB_STATUS_BAD_NETWORK_NAME && l.srv &&
            resolve_root(e, l.srv, shares[i].name, "", &why, &at, &why) == 0) {
            got = 0;
            l.srv = at.srv;
            l.tree = at.tree;
            l.share = at.share;
            l.root = at.rest;
            EP_SMB_COUNT(e, dfs_links_followed, 1);
        } else if (got == 0) {
            l.share = strdup(shares[i].name);
            l.root = strdup("");
        }
        if (got == 0) {
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

/*
 * A client (include/smbcopy/client.h): UNC paths resolved to trees of a
 * pool of connections, DFS referrals followed (MS-DFSC 3.1.4.1, 3.1.5.1).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <smbcopy/client.h>
#include <smbcopy/dfs.h>
#include <smbcopy/ntstatus.h>

#include "error.h"
#include "pdu_dfs.h"

/* The port of a server a referral names: referrals carry none (MS-DFSC 2.2.5.3). */
#define SMB_PORT 445

typedef struct client_tree {
    char *share;
    smb_tree *tree;
    struct client_tree *next;
} client_tree;

typedef struct client_srv {
    char *host;
    uint16_t port;
    smb_conn *conn;
    smb_session *sess;
    client_tree *trees;
    struct client_srv *next;
} client_srv;

struct smb_client {
    pthread_mutex_t lock; /* guards srvs and every server's trees */
    uint16_t port;
    unsigned flags;
    smb_conn_opts conn;
    /* The credentials, owned copies. */
    char *username, *password, *domain, *workstation, *target_host;
    bool guest;
    int mech;
    smb_dfs_cache *cache;
    client_srv *srvs;
    smb_client_stats stats; /* updated with __atomic_* */
};

#define COUNT(c, field) __atomic_fetch_add(&(c)->stats.field, 1, __ATOMIC_RELAXED)

/* A copy of s, or NULL for NULL; *ok cleared when memory runs out. */
static char *dup_opt(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

smb_client *smb_client_new(uint16_t port, const smb_conn_opts *conn, const smb_creds *creds, unsigned flags,
                           smb_error *err)
{
    smb_client *c = calloc(1, sizeof *c);
    if (!c) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    c->port = port ? port : SMB_PORT;
    c->flags = flags;
    if (conn)
        c->conn = *conn;
    else
        smb_conn_opts_init(&c->conn);
    bool ok = pthread_mutex_init(&c->lock, NULL) == 0;
    if (creds) {
        c->username = dup_opt(creds->username, &ok);
        c->password = dup_opt(creds->password, &ok);
        c->domain = dup_opt(creds->domain, &ok);
        c->workstation = dup_opt(creds->workstation, &ok);
        c->target_host = dup_opt(creds->target_host, &ok);
        c->guest = creds->guest;
        c->mech = creds->mech;
    }
    c->cache = smb_dfs_cache_new();
    if (!ok || !c->cache) {
        smb_client_free(c);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    return c;
}

void smb_client_free(smb_client *c)
{
    if (!c)
        return;
    for (client_srv *s = c->srvs, *ns; s; s = ns) {
        ns = s->next;
        for (client_tree *t = s->trees, *nt; t; t = nt) {
            nt = t->next;
            free(t->share);
            free(t);
        }
        smb_conn_close(s->conn); /* logs off, disconnecting the trees */
        free(s->host);
        free(s);
    }
    smb_dfs_cache_free(c->cache);
    if (c->password) /* not left in freed memory */
        memset(c->password, 0, strlen(c->password));
    free(c->username);
    free(c->password);
    free(c->domain);
    free(c->workstation);
    free(c->target_host);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void smb_client_get_stats(smb_client *c, smb_client_stats *stats)
{
    stats->connections = __atomic_load_n(&c->stats.connections, __ATOMIC_RELAXED);
    stats->trees = __atomic_load_n(&c->stats.trees, __ATOMIC_RELAXED);
    stats->referrals = __atomic_load_n(&c->stats.referrals, __ATOMIC_RELAXED);
    stats->referrals_cached = __atomic_load_n(&c->stats.referrals_cached, __ATOMIC_RELAXED);
}

/* The server host:port of the pool, connected and logged on now when new. Lock held. */
static client_srv *server_of(smb_client *c, const char *host, uint16_t port, bool named_by_caller, smb_error *err)
{
    for (client_srv *s = c->srvs; s; s = s->next)
        if (s->port == port && strcasecmp(s->host, host) == 0)
            return s;
    client_srv *s = calloc(1, sizeof *s);
    if (!s || !(s->host = strdup(host))) {
        free(s);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    s->port = port;
    s->conn = smb_conn_connect(host, port, &c->conn, err);
    smb_creds cr = {
        .username = c->username,
        .password = c->password,
        .domain = c->domain,
        .workstation = c->workstation,
        .guest = c->guest,
        .mech = c->mech,
        /* A server a referral names is known by its own name: its own principal. */
        .target_host = named_by_caller ? c->target_host : NULL,
    };
    if (s->conn)
        s->sess = smb_session_setup(s->conn, &cr, err);
    if (!s->sess) {
        smb_conn_close(s->conn);
        free(s->host);
        free(s);
        return NULL;
    }
    COUNT(c, connections);
    s->next = c->srvs;
    c->srvs = s;
    return s;
}

/* The port to reach host on: the pool's when it has the host, the caller's for a host the caller named, else 445. Lock held. */
static uint16_t port_for(const smb_client *c, const char *host, bool named_by_caller)
{
    if (named_by_caller)
        return c->port;
    for (const client_srv *s = c->srvs; s; s = s->next)
        if (strcasecmp(s->host, host) == 0)
            return s->port;
    return SMB_PORT;
}

/*
 * The tree of share on host (connected now when new): 0, *srv and *tree;
 * or the error, *srv set when the server answered (the share was refused).
 */
static int tree_of(smb_client *c, const char *host, bool named_by_caller, const char *share, client_srv **srv,
                   smb_tree **tree, smb_error *err)
{
    *srv = NULL;
    *tree = NULL;
    pthread_mutex_lock(&c->lock);
    client_srv *s = server_of(c, host, port_for(c, host, named_by_caller), named_by_caller, err);
    int rc = s ? 0 : (err && err->code ? err->code : SMB_ERR_INTERNAL);
    client_tree *t = NULL;
    if (s) {
        for (t = s->trees; t; t = t->next)
            if (strcasecmp(t->share, share) == 0)
                break;
        if (!t) {
            smb_tree *tr = smb_tree_connect(s->sess, share, err);
            t = tr ? calloc(1, sizeof *t) : NULL;
            if (t && !(t->share = strdup(share))) {
                free(t);
                t = NULL;
            }
            if (t) {
                t->tree = tr;
                t->next = s->trees;
                s->trees = t;
                COUNT(c, trees);
            } else if (tr) {
                smb_tree_disconnect(tr, NULL);
                rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            } else {
                rc = err && err->code ? err->code : SMB_ERR_INTERNAL;
            }
        }
    }
    pthread_mutex_unlock(&c->lock);
    *srv = s;
    *tree = t ? t->tree : NULL;
    return rc;
}

/* A DFS path "\host\share\rest" split: each malloc'd; rest "" when none. SMB_ERR_INVALID_ARG without a share. */
typedef struct unc_parts {
    char *host, *share, *rest;
} unc_parts;

static void parts_free(unc_parts *p)
{
    free(p->host);
    free(p->share);
    free(p->rest);
    *p = (unc_parts){0};
}

static int split_unc(const char *norm, unc_parts *p, smb_error *err)
{
    *p = (unc_parts){0};
    /* The host only once the leading separator is there ("" normalizes to ""). */
    const char *h = *norm == '\\' ? norm + 1 : NULL;
    const char *s = h && *h ? strchr(h, '\\') : NULL;
    if (!s || !s[1])
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "'%s' names no server and share (\\\\server\\share\\path)",
                           norm);
    const char *r = strchr(s + 1, '\\');
    p->host = strndup(h, (size_t)(s - h));
    p->share = r ? strndup(s + 1, (size_t)(r - s - 1)) : strdup(s + 1);
    p->rest = strdup(r ? r + 1 : "");
    if (!p->host || !p->share || !p->rest) {
        parts_free(p);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    return 0;
}

/* Where a resolved path is. */
typedef struct place {
    client_srv *srv;
    smb_tree *tree;
    char *path; /* inside the share, '\\'-separated */
    char *unc;  /* the whole path as the share's server sees it: "\host\share\path" */
} place;

static void place_free(place *w)
{
    free(w->path);
    free(w->unc);
    *w = (place){0};
}

/* Ask srv for the referral of dfs_path and keep it; 0, or the server's error. */
static int learn_referral(smb_client *c, client_srv *srv, const char *dfs_path, smb_error *err)
{
    smb_dfs_referral *r = NULL;
    COUNT(c, referrals);
    int rc = smb_dfs_get_referral(srv->sess, dfs_path, &r, err);
    if (rc == 0 && (r->name_list || r->ntargets == 0))
        rc = smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "the DFS referral for %s names no target", dfs_path);
    if (rc == 0)
        rc = smb_dfs_cache_add(c->cache, r, err);
    smb_dfs_referral_free(r);
    return rc;
}

/*
 * Route *cur by a cached referral when one covers it: *cur replaced by the
 * path on the first of its targets that connects. 1 when routed, 0 when no
 * referral covers it, or the error (no target reached).
 */
static int route_cached(smb_client *c, char **cur, smb_error *err)
{
    smb_dfs_referral *r = NULL;
    if (smb_dfs_cache_lookup(c->cache, *cur, &r, NULL) != 0)
        return 0;
    COUNT(c, referrals_cached);
    char tried[256] = "";
    int rc = SMB_ERR_NOT_FOUND;
    smb_error why = {0};
    for (size_t i = 0; i < r->ntargets; i++) {
        char *server = NULL, *share = NULL, *rest = NULL;
        client_srv *srv = NULL;
        smb_tree *tree = NULL;
        rc = smb_dfs_rewrite(r, i, *cur, &server, &share, &rest, &why);
        if (rc == 0)
            rc = tree_of(c, server, false, share, &srv, &tree, &why);
        /* The target's server has no such share itself: it may refer on (a root referral, next round). */
        if (rc != 0 && srv && why.ntstatus == SMB_STATUS_BAD_NETWORK_NAME)
            rc = 0;
        char *next = NULL;
        if (rc == 0 && !(next = smb_dfs_path_join(server, share, rest)))
            rc = smb_err_set(&why, SMB_ERR_NO_MEMORY, 0, "out of memory");
        /* The first failure, named by the referral's own target (the rewrite may have failed). */
        if (rc != 0 && !tried[0])
            snprintf(tried, sizeof tried, "\\\\%s\\%s: %.160s", r->targets[i].server, r->targets[i].share,
                     why.message);
        free(server);
        free(share);
        free(rest);
        if (rc == 0) {
            free(*cur);
            *cur = next;
            break;
        }
    }
    if (rc != 0) /* not a lost connection of the caller's: this path is not there */
        rc = smb_err_set(err, SMB_ERR_NOT_FOUND, why.ntstatus, "DFS: no target of %s could be reached (%s)", r->prefix,
                         tried);
    smb_dfs_referral_free(r);
    return rc == 0 ? 1 : rc;
}

/* resolve: unc to *w, following cached referrals and root referrals for refused shares. */
static int resolve(smb_client *c, const char *unc, place *w, smb_error *err)
{
    *w = (place){0};
    char *cur = smb_dfs_path_normalize(unc);
    if (!cur)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    bool named_by_caller = true;
    int rc = SMB_ERR_NOT_FOUND;
    for (int hop = 0; hop <= SMB_CLIENT_MAX_REFERRALS; hop++) {
        if (!(c->flags & SMB_CLIENT_NO_DFS)) {
            rc = route_cached(c, &cur, err);
            if (rc < 0)
                break;
            if (rc == 1) {
                named_by_caller = false;
                continue;
            }
        }
        unc_parts p;
        rc = split_unc(cur, &p, err);
        if (rc != 0)
            break;
        smb_error le = {0};
        rc = tree_of(c, p.host, named_by_caller, p.share, &w->srv, &w->tree, &le);
        if (rc == 0) {
            w->path = p.rest;
            p.rest = NULL;
            w->unc = cur;
            cur = NULL;
            parts_free(&p);
            break;
        }
        /* A share its server refers elsewhere: a domain-based root, a DFS proxy (MS-DFSC 3.1.4.1). */
        bool refer = !(c->flags & SMB_CLIENT_NO_DFS) && w->srv && le.ntstatus == SMB_STATUS_BAD_NETWORK_NAME;
        char *root = refer ? smb_dfs_path_join(p.host, p.share, "") : NULL;
        parts_free(&p);
        smb_error re = {0};
        if (!root || learn_referral(c, w->srv, root, &re) != 0) {
            free(root);
            if (err)
                *err = le;
            break;
        }
        free(root);
        rc = 1; /* the next round routes by it */
    }
    free(cur);
    if (w->tree)
        return 0;
    place_free(w);
    if (rc >= 0) /* still being referred on */
        rc = smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "%s: more than %d DFS referrals in a row", unc,
                         SMB_CLIENT_MAX_REFERRALS);
    return rc;
}

int smb_client_resolve(smb_client *c, const char *unc, smb_tree **tree, char **path, smb_error *err)
{
    *tree = NULL;
    *path = NULL;
    if (!c || !unc)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no client or path");
    place w;
    int rc = resolve(c, unc, &w, err);
    if (rc != 0)
        return rc;
    *tree = w.tree;
    *path = w.path;
    w.path = NULL;
    place_free(&w);
    return 0;
}

/* One path operation on a tree. */
typedef int (*path_op)(smb_tree *tree, const char *path, void *arg, smb_error *err);

/*
 * op on unc's tree and path; answered STATUS_PATH_NOT_COVERED (a DFS link
 * on the way, MS-DFSC 3.1.5.1), the link's referral is asked of that
 * server and op sent again where it leads.
 */
static int with_dfs(smb_client *c, const char *unc, path_op op, void *arg, smb_error *err)
{
    if (!c || !unc)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no client or path");
    int rc = SMB_ERR_NOT_FOUND;
    for (int hop = 0; hop <= SMB_CLIENT_MAX_REFERRALS; hop++) {
        place w;
        rc = resolve(c, unc, &w, err);
        if (rc != 0)
            return rc;
        smb_error le = {0};
        rc = op(w.tree, w.path, arg, &le);
        if (rc == 0 || (c->flags & SMB_CLIENT_NO_DFS) || le.ntstatus != SMB_STATUS_PATH_NOT_COVERED) {
            place_free(&w);
            if (err)
                *err = le;
            return rc;
        }
        smb_error re = {0};
        int lrc = learn_referral(c, w.srv, w.unc, &re);
        place_free(&w);
        if (lrc != 0) {
            if (err)
                *err = le; /* the server's own answer says more than a missing referral */
            return rc;
        }
    }
    return smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "%s: more than %d DFS referrals in a row", unc,
                       SMB_CLIENT_MAX_REFERRALS);
}

static int op_stat(smb_tree *t, const char *path, void *arg, smb_error *err) { return smb_stat(t, path, arg, err); }
static int op_mkdir(smb_tree *t, const char *path, void *arg, smb_error *err)
{
    (void)arg;
    return smb_mkdir(t, path, err);
}
static int op_rmdir(smb_tree *t, const char *path, void *arg, smb_error *err)
{
    (void)arg;
    return smb_rmdir(t, path, err);
}
static int op_unlink(smb_tree *t, const char *path, void *arg, smb_error *err)
{
    (void)arg;
    return smb_unlink(t, path, err);
}

typedef struct read_args {
    void *buf;
    size_t cap, *n;
    smb_file_info *info;
} read_args;

static int op_read(smb_tree *t, const char *path, void *arg, smb_error *err)
{
    read_args *a = arg;
    return smb_read_file(t, path, a->buf, a->cap, a->n, a->info, err);
}

typedef struct open_args {
    bool dir;
    int flags;
    smb_file_info *info;
    smb_open *op;
} open_args;

static int op_open(smb_tree *t, const char *path, void *arg, smb_error *err)
{
    open_args *a = arg;
    a->op = a->dir ? smb_open_dir(t, path, err) : smb_open_file(t, path, a->flags, a->info, err);
    return a->op ? 0 : (err && err->code ? err->code : SMB_ERR_INTERNAL);
}

int smb_client_stat(smb_client *c, const char *unc, smb_file_info *info, smb_error *err)
{
    return with_dfs(c, unc, op_stat, info, err);
}

int smb_client_mkdir(smb_client *c, const char *unc, smb_error *err) { return with_dfs(c, unc, op_mkdir, NULL, err); }

int smb_client_rmdir(smb_client *c, const char *unc, smb_error *err) { return with_dfs(c, unc, op_rmdir, NULL, err); }

int smb_client_unlink(smb_client *c, const char *unc, smb_error *err)
{
    return with_dfs(c, unc, op_unlink, NULL, err);
}

int smb_client_read_file(smb_client *c, const char *unc, void *buf, size_t cap, size_t *n, smb_file_info *info,
                         smb_error *err)
{
    read_args a = {buf, cap, n, info};
    return with_dfs(c, unc, op_read, &a, err);
}

smb_open *smb_client_open_file(smb_client *c, const char *unc, int flags, smb_file_info *info, smb_error *err)
{
    open_args a = {.flags = flags, .info = info};
    return with_dfs(c, unc, op_open, &a, err) == 0 ? a.op : NULL;
}

smb_open *smb_client_open_dir(smb_client *c, const char *unc, smb_error *err)
{
    open_args a = {.dir = true};
    return with_dfs(c, unc, op_open, &a, err) == 0 ? a.op : NULL;
}

/*
 * The SMB session pool: one connection and session per (host, port, user,
 * domain, password), made on first use, and one tree per share of each,
 * shared by every endpoint and worker thread of a job (the library is
 * thread-safe). The pool lock is held only while looking up or connecting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ep_smb.h"
#include "smb/error.h"

typedef struct ep_smb_share {
    char *name;
    smb_tree *tree;
    struct ep_smb_share *next;
} ep_smb_share;

struct ep_smb_srv {
    char *host;
    uint16_t port;
    char *user, *domain, *password; /* "" when none */
    smb_conn *conn;
    smb_session *sess;
    ep_smb_share *shares;
    struct ep_smb_srv *next;
};

struct ep_smb_pool {
    pthread_mutex_t lock;
    smb_conn_opts opts;
    char *user, *domain, *password; /* defaults, "" when none */
    int mech;                       /* smb_auth_mech_policy */
    char *principal_host;           /* NULL: the server's own host name */
    struct ep_smb_srv *srvs;
};

/* Free a string that may hold a secret. */
static void free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

ep_smb_pool *ep_smb_pool_new(const smb_conn_opts *opts, const sc_credentials *creds)
{
    ep_smb_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (opts)
        p->opts = *opts;
    else
        smb_conn_opts_init(&p->opts);
    p->user = dup_or_empty(creds ? creds->username : NULL);
    p->domain = dup_or_empty(creds ? creds->domain : NULL);
    p->password = dup_or_empty(creds ? creds->password : NULL);
    p->mech = creds ? creds->mech : SMB_AUTH_AUTO;
    p->principal_host = creds && creds->principal_host ? strdup(creds->principal_host) : NULL;
    if (!p->user || !p->domain || !p->password || pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p->user);
        free(p->domain);
        free_secret(p->password);
        free(p->principal_host);
        free(p);
        return NULL;
    }
    return p;
}

static void srv_free(struct ep_smb_srv *s)
{
    /* Closing the connection logs off the session and disconnects its trees. */
    smb_conn_close(s->conn);
    for (ep_smb_share *sh = s->shares, *next; sh; sh = next) {
        next = sh->next;
        free(sh->name);
        free(sh);
    }
    free(s->host);
    free(s->user);
    free(s->domain);
    free_secret(s->password);
    free(s);
}

void ep_smb_pool_free(ep_smb_pool *pool)
{
    if (!pool)
        return;
    for (struct ep_smb_srv *s = pool->srvs, *next; s; s = next) {
        next = s->next;
        srv_free(s);
    }
    free(pool->user);
    free(pool->domain);
    free_secret(pool->password);
    free(pool->principal_host);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

/* Refill err with lib's code and status, the message prefixed by where. */
static int fail_at(smb_error *err, const smb_error *lib, const char *where)
{
    return smb_err_set(err, lib->code ? lib->code : SMB_ERR_CONNECT, lib->ntstatus, "%s: %s", where,
                       lib->message);
}

/* Connect and authenticate a new server entry (MS-SMB2 3.2.4.2.2, 3.2.4.2.3). */
static struct ep_smb_srv *srv_connect(ep_smb_pool *pool, const char *host, uint16_t port, const char *user,
                                      const char *domain, const char *password, smb_error *err)
{
    char where[300];
    snprintf(where, sizeof where, "//%s:%u", host, (unsigned)(port ? port : 445));
    struct ep_smb_srv *s = calloc(1, sizeof *s);
    if (!s) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    s->host = strdup(host);
    s->port = port;
    s->user = strdup(user);
    s->domain = strdup(domain);
    s->password = strdup(password);
    if (!s->host || !s->user || !s->domain || !s->password) {
        srv_free(s);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    smb_error e = {0};
    s->conn = smb_conn_connect(host, port, &pool->opts, &e);
    if (!s->conn) {
        fail_at(err, &e, where);
        srv_free(s);
        return NULL;
    }
    smb_creds cr = {.username = user, .password = password, .domain = domain, .mech = pool->mech,
                    .target_host = pool->principal_host};
    s->sess = smb_session_setup(s->conn, &cr, &e);
    if (!s->sess) {
        if (!e.code)
            e.code = SMB_ERR_AUTH;
        fail_at(err, &e, where);
        srv_free(s);
        return NULL;
    }
    return s;
}

/* The tree of share on s, connecting it on first use (MS-SMB2 3.2.4.2.4). */
static smb_tree *srv_tree(struct ep_smb_srv *s, const char *share, smb_error *err)
{
    for (ep_smb_share *sh = s->shares; sh; sh = sh->next)
        if (strcasecmp(sh->name, share) == 0)
            return sh->tree;
    ep_smb_share *sh = calloc(1, sizeof *sh);
    char *name = strdup(share);
    if (!sh || !name) {
        free(sh);
        free(name);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    smb_error e = {0};
    sh->tree = smb_tree_connect(s->sess, share, &e);
    if (!sh->tree) {
        char where[300];
        snprintf(where, sizeof where, "//%s/%s", s->host, share);
        if (!e.code)
            e.code = SMB_ERR_BAD_SHARE;
        fail_at(err, &e, where);
        free(sh);
        free(name);
        return NULL;
    }
    sh->name = name;
    sh->next = s->shares;
    s->shares = sh;
    return sh->tree;
}

/* A URL's field overrides the pool's default. */
static const char *pick(const char *url, const char *dflt) { return url ? url : dflt; }

int ep_smb_pool_tree(ep_smb_pool *pool, const sc_location *loc, struct ep_smb_srv **srv, smb_tree **tree,
                     smb_error *err)
{
    const char *user = pick(loc->user, pool->user);
    const char *domain = pick(loc->domain, pool->domain);
    const char *password = pick(loc->password, pool->password);
    smb_error e = {0};
    pthread_mutex_lock(&pool->lock);
    struct ep_smb_srv *s = pool->srvs;
    for (; s; s = s->next)
        if (s->port == loc->port && strcasecmp(s->host, loc->host) == 0 && strcasecmp(s->user, user) == 0 &&
            strcasecmp(s->domain, domain) == 0 && strcmp(s->password, password) == 0)
            break;
    if (!s) {
        s = srv_connect(pool, loc->host, loc->port, user, domain, password, &e);
        if (s) {
            s->next = pool->srvs;
            pool->srvs = s;
        }
    }
    smb_tree *t = s ? srv_tree(s, loc->share, &e) : NULL;
    pthread_mutex_unlock(&pool->lock);
    *srv = s;
    *tree = t;
    if (t)
        return 0;
    if (err)
        *err = e;
    return e.code;
}

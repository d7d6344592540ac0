/*
 * The SMB session pool: per (host, port, user, domain, password) a set of
 * lanes, each an independent connection and session with one tree per
 * share, made on first use and shared by every endpoint of a job (the
 * library is thread-safe). Each worker thread keeps to one lane, assigned in
 * turn when the thread first asks, so that source and destination opens of
 * one thread share a connection (server-side copy needs that) and the load
 * spreads over the lanes: a server that serves each connection with its own
 * process (Samba) then works on several cores. A lane that cannot connect
 * falls back to the first one. The pool lock is held only while looking up
 * or connecting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/endpoints/ep_smb.h"
#include "engine/endpoints/ep_smb_channels.h"
#include "common/error.h"

typedef struct ep_smb_share {
    char *name;
    smb_tree *tree;
    struct ep_smb_share *next;
} ep_smb_share;

typedef struct ep_smb_lane {
    smb_conn *conn;
    smb_session *sess;
    ep_smb_share *shares;
    bool failed;           /* could not connect: its threads use lane 0 */
    bool channels_tried;   /* multichannel was tried on this lane's session */
    unsigned channels_up;  /* channels it had after that (the keeper brings lost ones back to this) */
    smb_tree *first_tree;  /* for the keeper's interface query */
} ep_smb_lane;

/* Which lane a thread uses. */
typedef struct lane_of_thread {
    pthread_t thread;
    unsigned lane;
} lane_of_thread;

#define MAX_THREADS_SEEN 256

struct ep_smb_srv {
    char *host;
    uint16_t port;
    char *user, *domain, *password; /* "" when none */
    ep_smb_lane lanes[EP_SMB_MAX_LANES];
    unsigned nlanes;
    lane_of_thread threads[MAX_THREADS_SEEN];
    unsigned nthreads;
    struct ep_smb_srv *next;
};

struct ep_smb_pool {
    pthread_mutex_t lock;
    unsigned lanes;    /* connections per server */
    unsigned channels; /* channels per session (1: no multichannel) */
    char note[512];    /* what multichannel did, for verbose output */
    /* The channel keeper: a thread that binds channels again after their connection was lost. */
    pthread_t keeper;
    bool keeper_running, keeper_stop;
    pthread_cond_t keeper_cond;
    unsigned rebound;  /* channels bound again by the keeper */
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
    p->lanes = 1;
    p->channels = 1;
    pthread_cond_init(&p->keeper_cond, NULL);
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

void ep_smb_pool_set_lanes(ep_smb_pool *pool, unsigned n)
{
    pool->lanes = n < 1 ? 1 : n > EP_SMB_MAX_LANES ? EP_SMB_MAX_LANES : n;
}

unsigned ep_smb_pool_get_lanes(const ep_smb_pool *pool) { return pool->lanes; }

void ep_smb_pool_set_channels(ep_smb_pool *pool, unsigned n)
{
    pool->channels = n < 1 ? 1 : n > EP_SMB_MAX_CHANNELS ? EP_SMB_MAX_CHANNELS : n;
}

void ep_smb_pool_multichannel_note(ep_smb_pool *pool, char *buf, size_t len)
{
    pthread_mutex_lock(&pool->lock);
    snprintf(buf, len, "%s", pool->note);
    pthread_mutex_unlock(&pool->lock);
}

static void srv_free(struct ep_smb_srv *s)
{
    for (unsigned i = 0; i < s->nlanes; i++) {
        ep_smb_lane *l = &s->lanes[i];
        /* Closing the connection logs off the session and disconnects its trees. */
        smb_conn_close(l->conn);
        for (ep_smb_share *sh = l->shares, *next; sh; sh = next) {
            next = sh->next;
            free(sh->name);
            free(sh);
        }
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
    pthread_mutex_lock(&pool->lock);
    pool->keeper_stop = true;
    pthread_cond_broadcast(&pool->keeper_cond);
    bool join = pool->keeper_running;
    pthread_mutex_unlock(&pool->lock);
    if (join)
        pthread_join(pool->keeper, NULL);
    pthread_cond_destroy(&pool->keeper_cond);
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

/* Connect and authenticate one lane of s (MS-SMB2 3.2.4.2.2, 3.2.4.2.3). */
static int lane_connect(ep_smb_pool *pool, struct ep_smb_srv *s, ep_smb_lane *l, smb_error *err)
{
    char where[300];
    snprintf(where, sizeof where, "//%s:%u", s->host, (unsigned)(s->port ? s->port : 445));
    smb_error e = {0};
    l->conn = smb_conn_connect(s->host, s->port, &pool->opts, &e);
    if (!l->conn)
        return fail_at(err, &e, where);
    smb_creds cr = {.username = s->user, .password = s->password, .domain = s->domain, .mech = pool->mech,
                    .target_host = pool->principal_host};
    l->sess = smb_session_setup(l->conn, &cr, &e);
    if (!l->sess) {
        if (!e.code)
            e.code = SMB_ERR_AUTH;
        smb_conn_close(l->conn);
        l->conn = NULL;
        return fail_at(err, &e, where);
    }
    return 0;
}

/* A new server entry with its first lane connected. */
static struct ep_smb_srv *srv_connect(ep_smb_pool *pool, const char *host, uint16_t port, const char *user,
                                      const char *domain, const char *password, smb_error *err)
{
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
    s->nlanes = pool->lanes;
    if (!s->host || !s->user || !s->domain || !s->password) {
        srv_free(s);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    if (lane_connect(pool, s, &s->lanes[0], err) != 0) {
        srv_free(s);
        return NULL;
    }
    return s;
}

/* The calling thread's lane, assigned in turn on its first call. Pool lock held. */
static ep_smb_lane *srv_lane(ep_smb_pool *pool, struct ep_smb_srv *s)
{
    if (s->nlanes == 1)
        return &s->lanes[0];
    pthread_t self = pthread_self();
    unsigned lane = 0;
    unsigned i = 0;
    for (; i < s->nthreads; i++)
        if (pthread_equal(s->threads[i].thread, self))
            break;
    if (i < s->nthreads) {
        lane = s->threads[i].lane;
    } else {
        lane = s->nthreads % s->nlanes;
        if (s->nthreads < MAX_THREADS_SEEN)
            s->threads[s->nthreads++] = (lane_of_thread){self, lane};
    }
    ep_smb_lane *l = &s->lanes[lane];
    if (!l->conn && !l->failed) {
        smb_error e = {0};
        if (lane_connect(pool, s, l, &e) != 0)
            l->failed = true; /* the first lane carries its work */
    }
    return l->conn ? l : &s->lanes[0];
}

/* The tree of share on lane l of s, connecting it on first use (MS-SMB2 3.2.4.2.4). */
static smb_tree *lane_tree(struct ep_smb_srv *s, ep_smb_lane *l, const char *share, smb_error *err)
{
    for (ep_smb_share *sh = l->shares; sh; sh = sh->next)
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
    sh->tree = smb_tree_connect(l->sess, share, &e);
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
    sh->next = l->shares;
    l->shares = sh;
    return sh->tree;
}

#define KEEPER_TICK_MS 500

/* Channels of sess and how many of them are alive. */
static int channel_count(smb_session *sess, unsigned *alive)
{
    smb_channel_info ch[EP_SMB_MAX_CHANNELS];
    int n = smb_session_channels(sess, ch, EP_SMB_MAX_CHANNELS);
    *alive = 0;
    for (int k = 0; k < n && k < EP_SMB_MAX_CHANNELS; k++)
        *alive += ch[k].alive;
    return n;
}

/*
 * The keeper: every half second, a lane whose session has lost channels
 * gets them bound again (on the interfaces the plan picks), as long as the
 * session has room (8 channels, lost ones included). A path still down
 * just fails the binding; the next tick tries again.
 */
static void *keeper_main(void *arg)
{
    ep_smb_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    while (!pool->keeper_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += KEEPER_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pool->keeper_cond, &pool->lock, &until);
        for (struct ep_smb_srv *s = pool->srvs; s && !pool->keeper_stop; s = s->next)
            for (unsigned i = 0; i < s->nlanes && !pool->keeper_stop; i++) {
                ep_smb_lane *l = &s->lanes[i];
                unsigned alive = 0;
                if (!l->sess || !l->channels_tried || l->channels_up <= 1 || !l->first_tree)
                    continue;
                int n = channel_count(l->sess, &alive);
                if (alive >= l->channels_up || n >= EP_SMB_MAX_CHANNELS || alive == 0)
                    continue;
                smb_creds cr = {.username = s->user, .password = s->password, .domain = s->domain,
                                .mech = pool->mech, .target_host = pool->principal_host};
                /* Binding takes round trips: without the pool lock (sessions live until the pool goes). */
                smb_session *sess = l->sess;
                smb_tree *tree = l->first_tree;
                char *host = strdup(s->host);
                uint16_t port = s->port ? s->port : 445;
                pthread_mutex_unlock(&pool->lock);
                char note[256];
                unsigned added = host ? ep_smb_add_channels(sess, tree, host, port, 2, &cr, note, sizeof note) : 0;
                pthread_mutex_lock(&pool->lock);
                if (added) {
                    pool->rebound += added;
                    snprintf(pool->note, sizeof pool->note, "multichannel to %s: a lost channel was bound again", host);
                }
                free(host);
            }
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

/* Multichannel for lane l, once, after its first tree (pool lock held). */
static void lane_channels(ep_smb_pool *pool, struct ep_smb_srv *s, ep_smb_lane *l, smb_tree *tree)
{
    if (pool->channels <= 1 || l->channels_tried || !tree)
        return;
    l->channels_tried = true;
    l->first_tree = tree;
    smb_creds cr = {.username = s->user, .password = s->password, .domain = s->domain, .mech = pool->mech,
                    .target_host = pool->principal_host};
    char note[256];
    unsigned added =
        ep_smb_add_channels(l->sess, tree, s->host, s->port ? s->port : 445, pool->channels, &cr, note, sizeof note);
    l->channels_up = added + 1;
    snprintf(pool->note, sizeof pool->note, "multichannel to %s: %s", s->host, note);
    if (added && !pool->keeper_running && pthread_create(&pool->keeper, NULL, keeper_main, pool) == 0)
        pool->keeper_running = true;
}

void ep_smb_pool_channel_counts(ep_smb_pool *pool, unsigned *lost, unsigned *rebound)
{
    *lost = 0;
    pthread_mutex_lock(&pool->lock);
    for (struct ep_smb_srv *s = pool->srvs; s; s = s->next)
        for (unsigned i = 0; i < s->nlanes; i++)
            if (s->lanes[i].sess) {
                unsigned alive = 0;
                int n = channel_count(s->lanes[i].sess, &alive);
                *lost += (unsigned)n - alive;
            }
    *rebound = pool->rebound;
    pthread_mutex_unlock(&pool->lock);
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
    /* The share is checked on the first lane: its errors are the ones to report. */
    smb_tree *t = s ? lane_tree(s, &s->lanes[0], loc->share, &e) : NULL;
    if (t)
        lane_channels(pool, s, &s->lanes[0], t);
    pthread_mutex_unlock(&pool->lock);
    *srv = s;
    *tree = t;
    if (t)
        return 0;
    if (err)
        *err = e;
    return e.code;
}

smb_session *ep_smb_pool_session(struct ep_smb_srv *srv) { return srv->lanes[0].sess; }

const char *ep_smb_pool_host(const struct ep_smb_srv *srv, uint16_t *port)
{
    *port = srv->port;
    return srv->host;
}

int ep_smb_pool_tree_like(ep_smb_pool *pool, const struct ep_smb_srv *like, const char *host, uint16_t port,
                          const char *share, struct ep_smb_srv **srv, smb_tree **tree, smb_error *err)
{
    sc_location loc = {
        .is_smb = true,
        .host = (char *)host,
        .port = port,
        .share = (char *)share,
        .path = (char *)"",
        .user = *like->user ? like->user : NULL,
        .domain = *like->domain ? like->domain : NULL,
        .password = *like->password ? like->password : NULL,
    };
    return ep_smb_pool_tree(pool, &loc, srv, tree, err);
}

smb_tree *ep_smb_pool_thread_tree(ep_smb_pool *pool, struct ep_smb_srv *srv, const char *share, smb_tree *first)
{
    if (srv->nlanes == 1)
        return first;
    pthread_mutex_lock(&pool->lock);
    ep_smb_lane *l = srv_lane(pool, srv);
    smb_tree *t = l == &srv->lanes[0] ? first : lane_tree(srv, l, share, NULL);
    if (t && l != &srv->lanes[0])
        lane_channels(pool, srv, l, t);
    pthread_mutex_unlock(&pool->lock);
    return t ? t : first;
}

unsigned ep_smb_pool_connections(ep_smb_pool *pool)
{
    unsigned n = 0;
    pthread_mutex_lock(&pool->lock);
    for (struct ep_smb_srv *s = pool->srvs; s; s = s->next)
        for (unsigned i = 0; i < s->nlanes; i++)
            if (s->lanes[i].sess) {
                unsigned alive = 0;
                channel_count(s->lanes[i].sess, &alive);
                n += alive; /* its channels' live connections */
            }
    pthread_mutex_unlock(&pool->lock);
    return n;
}

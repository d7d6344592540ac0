/*
 * A connection's life as the public API sees it: its options, connecting
 * (TCP, the receiver and watchdog threads, then NEGOTIATE: negotiate.c),
 * what it reports, its list of sessions, and closing it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/random.h"
#include "error.h"
#include "objects.h"
#include "transport.h"

void smb_conn_opts_init(smb_conn_opts *o)
{
    memset(o, 0, sizeof *o);
    o->min_dialect = SMB_DIALECT_2_0_2;
    o->max_dialect = SMB_DIALECT_3_1_1;
    o->signing = SMB_POLICY_AUTO;
    o->encryption = SMB_POLICY_AUTO;
    o->connect_timeout_ms = 15000;
    o->request_timeout_ms = 60000;
    o->pending_timeout_ms = 600000;
    o->echo_interval_s = 120;
    o->max_io_size = 8u << 20;
    o->credits_target = 512;
}

static void conn_free(smb_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->ev_lock);
    free(c->ev_frame);
    pthread_mutex_destroy(&c->send_lock);
    pthread_mutex_destroy(&c->break_lock);
    pthread_cond_destroy(&c->break_cond);
    pthread_rwlock_destroy(&c->tree_life);
    pthread_cond_destroy(&c->credit_cond);
    pthread_cond_destroy(&c->wd_cond);
    pthread_condattr_destroy(&c->mono_attr);
    free(c->table);
    free(c->neg.spnego_hint);
    free(c->host);
    free(c);
}

smb_conn *smb_conn_connect(const char *host, uint16_t port, const smb_conn_opts *opts, smb_error *err)
{
    if (!host || !*host) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no server host given");
        return NULL;
    }
    smb_conn *c = calloc(1, sizeof *c);
    if (!c) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    c->fd = -1;
    if (opts)
        c->opts = *opts;
    else
        smb_conn_opts_init(&c->opts);
    if (!c->opts.request_timeout_ms)
        c->opts.request_timeout_ms = 60000;
    if (!c->opts.pending_timeout_ms)
        c->opts.pending_timeout_ms = 600000;
    if (!c->opts.connect_timeout_ms)
        c->opts.connect_timeout_ms = 15000;
    if (!c->opts.max_io_size)
        c->opts.max_io_size = 8u << 20;
    if (!c->opts.credits_target)
        c->opts.credits_target = 512;
    c->port = port ? port : 445;
    c->host = strdup(host);
    c->table_size = 1024;
    c->table = calloc(c->table_size, sizeof(smb_req *));
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->ev_lock, NULL);
    c->event_mode = c->opts.event_loop;
    pthread_mutex_init(&c->send_lock, NULL);
    pthread_mutex_init(&c->break_lock, NULL);
    pthread_cond_init(&c->break_cond, NULL);
    pthread_rwlock_init(&c->tree_life, NULL);
    pthread_condattr_init(&c->mono_attr);
    pthread_condattr_setclock(&c->mono_attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->credit_cond, &c->mono_attr);
    pthread_cond_init(&c->wd_cond, &c->mono_attr);
    c->credits = 1;
    c->max_frame = 1u << 20;
    static const uint8_t zero_guid[16];
    if (memcmp(c->opts.client_guid, zero_guid, 16) != 0)
        memcpy(c->client_guid, c->opts.client_guid, 16);
    else
        smb_random(c->client_guid, 16);
    if (!c->host || !c->table) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        conn_free(c);
        return NULL;
    }
    c->fd = smb_tcp_connect(host, c->port, c->opts.connect_timeout_ms, err);
    if (c->fd < 0) {
        conn_free(c);
        return NULL;
    }
    c->last_send_ns = c->last_recv_ns = smb_now_ns();
    if (smb_conn_start_threads(c, err) != 0) {
        conn_free(c);
        return NULL;
    }
    /* The negotiate exchange gets the connect timeout, not the request one. */
    unsigned saved = c->opts.request_timeout_ms;
    c->opts.request_timeout_ms = c->opts.connect_timeout_ms;
    int rc = smb_conn_negotiate(c, err);
    c->opts.request_timeout_ms = saved;
    if (rc != 0) {
        smb_conn_stop_threads(c);
        conn_free(c);
        return NULL;
    }
    return c;
}

void smb_conn_get_info(const smb_conn *c, smb_conn_info *info)
{
    memset(info, 0, sizeof *info);
    info->dialect = c->neg.dialect;
    info->security_mode = c->neg.security_mode;
    info->capabilities = c->neg.capabilities;
    info->max_read_size = c->neg.max_read;
    info->max_write_size = c->neg.max_write;
    info->max_transact_size = c->neg.max_transact;
    memcpy(info->server_guid, c->neg.server_guid, 16);
    info->cipher = c->neg.cipher;
    info->signing_alg = c->neg.signing_alg;
}

int smb_conn_echo(smb_conn *c, smb_error *err)
{
    smb_req *r = smb_req_new(c, SMB2_ECHO, 0, 0, NULL);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_simple_req_encode(smb_req_body(r));
    int rc = smb_req_run(r, "echo", err);
    smb_req_free(r);
    return rc;
}

void smb_conn_get_stats(smb_conn *c, smb_conn_stats *s)
{
    pthread_mutex_lock(&c->lock);
    s->requests = c->stats.requests;
    s->bytes_sent = c->stats.bytes_sent;
    s->bytes_received = c->stats.bytes_received;
    s->credits = c->credits;
    s->in_flight = c->in_flight;
    pthread_mutex_unlock(&c->lock);
}

int smb_conn_socket(const smb_conn *c)
{
    return c ? c->fd : -1;
}

void smb_conn_add_session(smb_conn *c, smb_session *s)
{
    pthread_mutex_lock(&c->lock);
    s->next = c->sessions;
    c->sessions = s;
    pthread_mutex_unlock(&c->lock);
}

void smb_conn_remove_session(smb_conn *c, smb_session *s)
{
    pthread_mutex_lock(&c->lock);
    for (smb_session **pp = &c->sessions; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
}

void smb_conn_close(smb_conn *c)
{
    if (!c)
        return;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        smb_session *s = c->sessions;
        bool alive = !c->dead;
        pthread_mutex_unlock(&c->lock);
        if (!s)
            break;
        smb_session_close_internal(s, alive, NULL);
    }
    smb_conn_stop_threads(c);
    conn_free(c);
}

/*
 * The watchdog thread: once a second it fails the connection when a request
 * is past its deadline (the request timeout, or the pending timeout after an
 * interim response), and sends a keep-alive ECHO after echo_interval_s of
 * silence.
 */
#include "conn.h"

#include <time.h>

#include "conn_internal.h"
#include "error.h"
#include "objects.h"

static void echo_done(smb_req *r, void *arg)
{
    (void)r;
    (void)arg;
}

/* Send a keep-alive ECHO without waiting for it. */
static void send_keepalive(smb_conn *c)
{
    smb_req *r = smb_req_new(c, SMB2_ECHO, 0, 0, NULL);
    if (!r)
        return;
    smb2_simple_req_encode(smb_req_body(r));
    r->cb = echo_done;
    smb_req_send(r, NULL);
    /* The answer may come while the request is still being sent: whoever
     * finishes last frees it. A request never registered is never answered. */
    pthread_mutex_lock(&c->lock);
    bool free_now = r->cb_done || r->state == REQ_NEW;
    if (!free_now)
        r->detached = true;
    pthread_mutex_unlock(&c->lock);
    if (free_now)
        smb_req_free(r);
}

/* The SMB2 command's name (MS-SMB2 2.2.1.2), for messages. */
static const char *command_name(uint16_t cmd)
{
    static const char *const names[] = {"NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT",
                                        "CREATE", "CLOSE", "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL",
                                        "ECHO", "QUERY_DIRECTORY", "CHANGE_NOTIFY", "QUERY_INFO", "SET_INFO",
                                        "OPLOCK_BREAK"};
    return cmd < sizeof names / sizeof names[0] ? names[cmd] : "unknown";
}

bool smb_conn_check_deadlines(smb_conn *c)
{
    pthread_mutex_lock(&c->lock);
    uint64_t now = smb_now_ns();
    smb_req *late = NULL;
    for (size_t i = 0; i < c->table_size && !late && !c->dead; i++)
        for (smb_req *r = c->table[i]; r && !late; r = r->hash_next)
            if ((r->state == REQ_SENT || r->state == REQ_RECEIVING) && r->deadline_ns && now > r->deadline_ns)
                late = r;
    if (!late) {
        pthread_mutex_unlock(&c->lock);
        return false;
    }
    double secs = (late->is_async ? c->opts.pending_timeout_ms : c->opts.request_timeout_ms) / 1000.0;
    uint16_t cmd = late->command;
    pthread_mutex_unlock(&c->lock);
    /* A server that stops answering one request is not trusted with the
     * next ones either: the connection is closed. */
    smb_conn_fail(c, SMB_ERR_TIMEOUT, "server %s:%u did not answer (%s request) within %g s", c->host,
                  (unsigned)c->port, command_name(cmd), secs);
    return true;
}

void *smb_conn_watchdog_main(void *arg)
{
    smb_conn *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->closing) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&c->wd_cond, &c->lock, &ts);
        if (c->closing || c->dead)
            continue;
        pthread_mutex_unlock(&c->lock);
        bool failed = smb_conn_check_deadlines(c);
        pthread_mutex_lock(&c->lock);
        if (failed)
            continue;
        uint64_t now = smb_now_ns();
        uint64_t idle_ns = (uint64_t)c->opts.echo_interval_s * 1000000000ull;
        uint64_t last = c->last_send_ns > c->last_recv_ns ? c->last_send_ns : c->last_recv_ns;
        if (idle_ns && c->in_flight == 0 && now - last > idle_ns) {
            c->last_send_ns = now;
            pthread_mutex_unlock(&c->lock);
            send_keepalive(c);
            pthread_mutex_lock(&c->lock);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

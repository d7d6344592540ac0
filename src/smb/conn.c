/*
 * Requests on a connection: the request object, the table of requests in
 * flight by MessageId, completion, failing a connection, waiting for a
 * response, and the connection's two threads. Sending is conn_send.c's,
 * receiving conn_recv.c's, timeouts and keep-alive conn_watchdog.c's.
 */
#include "conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "conn_internal.h"
#include "credits.h"
#include "error.h"
#include <smbcopy/ntstatus.h>
#include "objects.h"
#include "sign_rules.h"

uint64_t smb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ requests */

smb_req *smb_req_new(smb_conn *c, uint16_t command, uint64_t session_id, uint32_t tree_id, const smb_sec *sec)
{
    smb_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->conn = c;
    r->command = command;
    r->session_id = session_id;
    r->sec = sec;
    /* Monotonic: smb_req_wait_for's deadline does not move with the clock. */
    pthread_cond_init(&r->cond, &c->mono_attr);
    smb_wr_init_grow(&r->msg, 256);
    smb2_hdr h = {.command = command, .session_id = session_id, .tree_id = tree_id};
    smb2_hdr_encode(&r->msg, &h);
    if (!smb_wr_ok(&r->msg)) {
        smb_req_free(r);
        return NULL;
    }
    return r;
}

void smb_req_free(smb_req *r)
{
    if (!r)
        return;
    smb_wr_free(&r->msg);
    free(r->rsp);
    pthread_cond_destroy(&r->cond);
    free(r);
}

smb_rd smb_req_rsp_body(const smb_req *r)
{
    smb_rd rd;
    smb_rd_init(&rd, r->rsp, r->rsp_len);
    smb_rd_seek(&rd, SMB2_HDR_LEN);
    return rd;
}

int smb_req_status_error(const smb_req *r, const char *what, smb_error *err)
{
    return smb_err_status(err, r->status, what);
}

/* ------------------------------------------------------------ pending table */

static size_t slot(const smb_conn *c, uint64_t mid) { return (size_t)(mid & (c->table_size - 1)); }

void smb_conn_table_insert(smb_conn *c, smb_req *r)
{
    size_t i = slot(c, r->mid);
    r->hash_next = c->table[i];
    c->table[i] = r;
    c->in_flight++;
}

smb_req *smb_conn_table_find(smb_conn *c, uint64_t mid)
{
    for (smb_req *r = c->table[slot(c, mid)]; r; r = r->hash_next)
        if (r->mid == mid)
            return r;
    return NULL;
}

/* outstanding changes under c->lock, but channel routing reads it without
 * the lock (smb_route), so the store is atomic. */
void smb_conn_outstanding_add(smb_conn *c, int32_t delta)
{
    __atomic_store_n(&c->outstanding, c->outstanding + (uint32_t)delta, __ATOMIC_RELAXED);
}

void smb_conn_table_remove(smb_conn *c, smb_req *r)
{
    for (smb_req **pp = &c->table[slot(c, r->mid)]; *pp; pp = &(*pp)->hash_next) {
        if (*pp == r) {
            *pp = r->hash_next;
            r->hash_next = NULL;
            c->in_flight--;
            smb_conn_outstanding_add(c, -(int32_t)r->charge);
            return;
        }
    }
}

/* Mark r done and wake its waiter, or run its callback. Called without c->lock. */
void smb_req_complete(smb_conn *c, smb_req *r)
{
    if (r->cb) {
        pthread_mutex_lock(&c->lock);
        r->state = REQ_DONE;
        pthread_mutex_unlock(&c->lock);
        r->cb(r, r->cb_arg);
        /* A detached request is freed here unless its sender is still
         * sending it (then the sender frees it: send_keepalive). */
        pthread_mutex_lock(&c->lock);
        bool free_it = r->detached;
        r->cb_done = true;
        pthread_mutex_unlock(&c->lock);
        if (free_it)
            smb_req_free(r);
        return;
    }
    pthread_mutex_lock(&c->lock);
    r->state = REQ_DONE;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&c->lock);
}

/* Fail every request in the table except one being received into right now
 * (the receiver fails that one itself when its read breaks). Requests are
 * collected under the lock and completed after it. */
static void fail_all_locked(smb_conn *c, smb_req **done_list)
{
    for (size_t i = 0; i < c->table_size; i++) {
        smb_req **pp = &c->table[i];
        while (*pp) {
            smb_req *r = *pp;
            if (r->state == REQ_RECEIVING) {
                pp = &r->hash_next;
                continue;
            }
            *pp = r->hash_next;
            c->in_flight--;
            smb_conn_outstanding_add(c, -(int32_t)r->charge);
            r->err = c->dead_err.code;
            r->err_detail = c->dead_err;
            r->hash_next = *done_list;
            *done_list = r;
        }
    }
}

static void complete_list(smb_conn *c, smb_req *list)
{
    while (list) {
        smb_req *next = list->hash_next;
        list->hash_next = NULL;
        smb_req_complete(c, list);
        list = next;
    }
}

const char *smb_conn_loss_reason(int err)
{
    if (err == 0 || err == EPIPE || err == ECONNRESET)
        return "closed by the server";
    return strerror(err);
}

void smb_conn_fail(smb_conn *c, int code, const char *fmt, ...)
{
    smb_req *done = NULL;
    pthread_mutex_lock(&c->lock);
    if (!c->dead) {
        __atomic_store_n(&c->dead, true, __ATOMIC_RELEASE);
        va_list ap;
        va_start(ap, fmt);
        smb_err_vset(&c->dead_err, code, 0, fmt, ap);
        va_end(ap);
        shutdown(c->fd, SHUT_RDWR);
    }
    fail_all_locked(c, &done);
    pthread_cond_broadcast(&c->credit_cond);
    pthread_cond_broadcast(&c->wd_cond);
    pthread_mutex_unlock(&c->lock);
    complete_list(c, done);
}


/* ------------------------------------------------------------ message protection */

/* Encrypted messages are not signed: the AEAD tag covers them (MS-SMB2 3.2.4.1.1). */
bool smb_req_wants_encryption(const smb_req *r)
{
    return r->sec && r->sec->encrypt && r->command != SMB2_NEGOTIATE && r->command != SMB2_SESSION_SETUP;
}

bool smb_req_signs(const smb_req *r)
{
    return r->sec && (r->sec->signing || (r->force_sign && r->sec->keyed));
}

bool smb_req_wants_signing(const smb_req *r)
{
    return r->sec && smb_sign_request(r->command, r->sec->signing, r->sec->keyed, r->force_sign, smb_req_wants_encryption(r));
}


/* ------------------------------------------------------------ waiting */

int smb_req_wait(smb_req *r, smb_error *err)
{
    for (int replays = 0;; replays++) {
        smb_conn *c = r->conn;
        pthread_mutex_lock(&c->lock);
        while (r->state != REQ_DONE)
            smb_conn_cond_wait(c, &r->cond, NULL);
        pthread_mutex_unlock(&c->lock);
        /* A lost channel: again on another one, a bounded number of times. */
        if ((!r->err && r->status != SMB_STATUS_FILE_NOT_AVAILABLE) || replays >= 16 ||
            !smb_req_replay(r, replays))
            break;
    }
    if (r->err) {
        if (err)
            *err = r->err_detail;
        return r->err;
    }
    return 0;
}

int smb_req_wait_for(smb_req *r, int timeout_ms, smb_error *err)
{
    if (timeout_ms < 0)
        return smb_req_wait(r, err);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    smb_conn *c = r->conn;
    pthread_mutex_lock(&c->lock);
    while (r->state != REQ_DONE) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec))
            break;
        smb_conn_cond_wait(c, &r->cond, &until);
    }
    bool done = r->state == REQ_DONE;
    pthread_mutex_unlock(&c->lock);
    if (!done)
        return smb_err_set(err, SMB_ERR_TIMEOUT, 0, "no answer within %d ms", timeout_ms);
    if (r->err) {
        if (err)
            *err = r->err_detail;
        return r->err;
    }
    return 0;
}

int smb_req_run(smb_req *r, const char *what, smb_error *err)
{
    int rc = smb_req_send(r, err);
    if (rc == 0)
        rc = smb_req_wait(r, err);
    if (rc == 0 && r->status != SMB_STATUS_SUCCESS)
        rc = smb_req_status_error(r, what, err);
    return rc;
}


uint32_t smb_conn_request_cap(smb_conn *c, uint32_t limit)
{
    pthread_mutex_lock(&c->lock);
    uint64_t held = (uint64_t)c->credits + c->outstanding;
    pthread_mutex_unlock(&c->lock);
    return smb_credit_io_cap(c->neg.multi_credit, held > UINT32_MAX ? UINT32_MAX : (uint32_t)held, limit);
}

size_t smb_conn_max_frame(smb_conn *c)
{
    pthread_mutex_lock(&c->lock);
    size_t max = c->max_frame;
    pthread_mutex_unlock(&c->lock);
    return max;
}


/* ------------------------------------------------------------ threads */

int smb_conn_start_threads(smb_conn *c, smb_error *err)
{
    if (c->event_mode)
        return 0; /* whoever waits reads (conn_event.c) */
    if (pthread_create(&c->rx_thread, NULL, smb_conn_receiver_main, c) != 0)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "cannot start the receiver thread");
    if (pthread_create(&c->wd_thread, NULL, smb_conn_watchdog_main, c) != 0) {
        smb_conn_fail(c, SMB_ERR_NO_MEMORY, "cannot start the watchdog thread");
        pthread_join(c->rx_thread, NULL);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "cannot start the watchdog thread");
    }
    c->threads_started = true;
    return 0;
}

void smb_conn_stop_threads(smb_conn *c)
{
    if (c->event_mode) {
        smb_conn_fail(c, SMB_ERR_CLOSED, "connection closed");
        smb_oplock_stop(c);
        return;
    }
    if (!c->threads_started)
        return;
    pthread_mutex_lock(&c->lock);
    c->closing = true;
    pthread_cond_broadcast(&c->wd_cond);
    pthread_mutex_unlock(&c->lock);
    smb_conn_fail(c, SMB_ERR_CLOSED, "connection closed");
    pthread_join(c->rx_thread, NULL);
    pthread_join(c->wd_thread, NULL);
    smb_oplock_stop(c); /* after the receiver: nothing queues any more; its request, if any, has failed */
    c->threads_started = false;
}

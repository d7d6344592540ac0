/*
 * Requests on a connection: credits, message ids, the pending table, the
 * receiver thread and the watchdog (timeouts and keep-alive ECHO).
 */
#include "conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "credits.h"
#include "error.h"
#include "frame.h"
#include "objects.h"
#include "sign_rules.h"
#include "transport.h"

#define STATUS_SUCCESS 0x00000000u
#define STATUS_PENDING 0x00000103u
#define STATUS_BUFFER_OVERFLOW 0x80000005u
#define STATUS_MORE_PROCESSING_REQUIRED 0xC0000016u

/* MessageId of an unsolicited oplock/lease break notification (MS-SMB2 2.2.23). */
#define MID_UNSOLICITED UINT64_MAX

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
    pthread_cond_init(&r->cond, NULL);
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

static void table_insert(smb_conn *c, smb_req *r)
{
    size_t i = slot(c, r->mid);
    r->hash_next = c->table[i];
    c->table[i] = r;
    c->in_flight++;
}

static smb_req *table_find(smb_conn *c, uint64_t mid)
{
    for (smb_req *r = c->table[slot(c, mid)]; r; r = r->hash_next)
        if (r->mid == mid)
            return r;
    return NULL;
}

/* outstanding changes under c->lock, but channel routing reads it without
 * the lock (smb_route), so the store is atomic. */
static void outstanding_add(smb_conn *c, int32_t delta)
{
    __atomic_store_n(&c->outstanding, c->outstanding + (uint32_t)delta, __ATOMIC_RELAXED);
}

static void table_remove(smb_conn *c, smb_req *r)
{
    for (smb_req **pp = &c->table[slot(c, r->mid)]; *pp; pp = &(*pp)->hash_next) {
        if (*pp == r) {
            *pp = r->hash_next;
            r->hash_next = NULL;
            c->in_flight--;
            outstanding_add(c, -(int32_t)r->charge);
            return;
        }
    }
}

/* Mark r done and wake its waiter, or run its callback. Called without c->lock. */
static void complete(smb_conn *c, smb_req *r)
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
            outstanding_add(c, -(int32_t)r->charge);
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
        complete(c, list);
        list = next;
    }
}

void smb_conn_fail(smb_conn *c, int code, const char *fmt, ...)
{
    smb_req *done = NULL;
    pthread_mutex_lock(&c->lock);
    if (!c->dead) {
        __atomic_store_n(&c->dead, true, __ATOMIC_RELEASE);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->dead_err.message, sizeof c->dead_err.message, fmt, ap);
        va_end(ap);
        c->dead_err.code = code;
        c->dead_err.ntstatus = 0;
        shutdown(c->fd, SHUT_RDWR);
    }
    fail_all_locked(c, &done);
    pthread_cond_broadcast(&c->credit_cond);
    pthread_cond_broadcast(&c->wd_cond);
    pthread_mutex_unlock(&c->lock);
    complete_list(c, done);
}

/* ------------------------------------------------------------ sending */

/* Write the header fields that are known only at send time. */
static void finish_header(smb_req *r, uint32_t flags, uint32_t next_command, uint16_t credits)
{
    uint8_t *h = r->msg.buf;
    smb_put16(h + 6, r->conn->neg.multi_credit ? r->charge : 0);
    smb_put16(h + 14, credits);
    smb_put32(h + 16, smb_le32(h + 16) | flags);
    smb_put32(h + 20, next_command);
    smb_put64(h + 24, r->mid);
    /* 3.x: ChannelSequence, which moves on when a channel is lost (MS-SMB2 2.2.1.2, 3.2.4.1). */
    if (r->route && r->conn->neg.dialect >= SMB_DIALECT_3_0)
        smb_put16(h + 8, smb_session_channel_sequence(r->route->sess));
}

static int sign_message(smb_req *r, const void *extra, size_t extra_len)
{
    uint8_t *h = r->msg.buf;
    smb_put32(h + 16, smb_le32(h + 16) | SMB2_FLAGS_SIGNED);
    memset(h + 48, 0, 16);
    smb_iov iov[2] = {{h, r->msg.len}, {extra, extra_len}};
    uint8_t sig[16];
    if (smb_sign(r->sec->signing_alg, r->sec->signing_key, iov, extra_len ? 2 : 1, sig) != 0)
        return -1;
    memcpy(h + 48, sig, 16);
    return 0;
}

static int transmit(smb_conn *c, struct iovec *iov, int niov, size_t total, smb_req *from_file, smb_error *err);

/* Encrypted messages are not signed: the AEAD tag covers them (MS-SMB2 3.2.4.1.1). */
static bool wants_encryption(const smb_req *r)
{
    return r->sec && r->sec->encrypt && r->command != SMB2_NEGOTIATE && r->command != SMB2_SESSION_SETUP;
}

static bool signs(const smb_req *r)
{
    return r->sec && (r->sec->signing || (r->force_sign && r->sec->keyed));
}

static bool wants_signing(const smb_req *r)
{
    return r->sec && smb_sign_request(r->command, r->sec->signing, r->sec->keyed, r->force_sign, wants_encryption(r));
}

/*
 * Wrap the plaintext messages plain[0..n) (total len bytes) in one
 * transform message (MS-SMB2 3.2.4.1.8): the nonce is the session's counter,
 * the additional data the transform header from its Nonce on. The one copy
 * is the cipher's output.
 */
static int send_encrypted(smb_conn *c, const smb_req *r, const struct iovec *plain, int n, size_t len,
                          smb_error *err)
{
    const smb_sec *sec = r->sec;
    size_t nonce_len = smb_cipher_nonce_len(sec->cipher);
    if (!nonce_len || len > 0xFFFFFF - SMB2_TRANSFORM_HDR_LEN)
        return smb_err_set(err, SMB_ERR_ENCRYPTION, 0, "cannot encrypt with cipher %u", sec->cipher);
    uint8_t *frame = malloc(4 + SMB2_TRANSFORM_HDR_LEN + len);
    if (!frame)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_transform_hdr th = {.original_size = (uint32_t)len, .flags = 0x0001, .session_id = r->session_id};
    uint64_t nonce = __atomic_add_fetch(sec->nonce_ctr, 1, __ATOMIC_RELAXED);
    smb_put64(th.nonce, nonce);
    smb_wr w;
    smb_wr_init(&w, frame, 4 + SMB2_TRANSFORM_HDR_LEN);
    smb_wr_be32(&w, (uint32_t)(SMB2_TRANSFORM_HDR_LEN + len));
    smb2_transform_hdr_encode(&w, &th);
    smb_iov piov[34];
    for (int i = 0; i < n; i++)
        piov[i] = (smb_iov){plain[i].iov_base, plain[i].iov_len};
    uint8_t *hdr = frame + 4;
    if (!smb_wr_ok(&w) || smb_encrypt(sec->cipher, sec->enc_key, th.nonce, hdr + 20, 32, piov, n,
                                      hdr + SMB2_TRANSFORM_HDR_LEN, hdr + 4) != 0) {
        free(frame);
        return smb_err_set(err, SMB_ERR_CRYPTO, 0, "encrypting a request failed");
    }
    struct iovec iov = {frame, 4 + SMB2_TRANSFORM_HDR_LEN + len};
    int rc = transmit(c, &iov, 1, iov.iov_len, NULL, err);
    free(frame);
    return rc;
}

/* Take credits and message ids for n requests at once; waits while the
 * window is short. Called and returns with c->lock held. */
static int acquire_locked(smb_conn *c, smb_req **rs, int n, smb_error *err)
{
    uint32_t need = 0;
    for (int i = 0; i < n; i++) {
        smb_req *r = rs[i];
        /* Charged by payload size only where MS-SMB2 3.2.4.1.5 says so; 1 otherwise. */
        size_t send = r->charge_bytes ? r->charge_bytes : r->msg.len - SMB2_HDR_LEN + r->payload_len;
        r->charge = smb_credit_charge(c->neg.multi_credit && smb_credit_sized_command(r->command), send,
                                      r->expect_len);
        need += r->charge;
    }
    uint64_t deadline = smb_now_ns() + (uint64_t)c->opts.request_timeout_ms * 1000000ull;
    while (!c->dead && c->credits < need) {
        if (c->outstanding == 0) {
            /* Nothing in flight brings more: the server will not grant what this needs. */
            for (int i = 0; i < n; i++)
                rs[i]->credit_short = true;
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                               "server granted %u credits but a request needs %u", c->credits, need);
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        if (now >= deadline)
            return smb_err_set(err, SMB_ERR_TIMEOUT, 0, "no credits granted by the server in time");
        uint64_t wake = now + 1000000000ull < deadline ? now + 1000000000ull : deadline;
        ts.tv_sec = (time_t)(wake / 1000000000ull);
        ts.tv_nsec = (long)(wake % 1000000000ull);
        pthread_cond_timedwait(&c->credit_cond, &c->lock, &ts);
    }
    if (c->dead) {
        if (err)
            *err = c->dead_err;
        return c->dead_err.code;
    }
    c->credits -= need;
    uint64_t deadline_rsp = smb_now_ns() + (uint64_t)c->opts.request_timeout_ms * 1000000ull;
    for (int i = 0; i < n; i++) {
        smb_req *r = rs[i];
        r->mid = c->next_mid;
        c->next_mid += r->charge;
        outstanding_add(c, r->charge);
        r->state = REQ_SENT;
        r->err = 0;
        r->deadline_ns = deadline_rsp;
        table_insert(c, r);
        c->stats.requests++;
    }
    return 0;
}

uint32_t smb_conn_request_cap(smb_conn *c, uint32_t limit)
{
    pthread_mutex_lock(&c->lock);
    uint64_t held = (uint64_t)c->credits + c->outstanding;
    pthread_mutex_unlock(&c->lock);
    return smb_credit_io_cap(c->neg.multi_credit, held > UINT32_MAX ? UINT32_MAX : (uint32_t)held, limit);
}

static int transmit(smb_conn *c, struct iovec *iov, int niov, size_t total, smb_req *from_file, smb_error *err)
{
    pthread_mutex_lock(&c->send_lock);
    int rc = smb_tcp_writev_full(c->fd, iov, niov);
    if (rc == 0 && from_file) {
        /* The payload straight from the file: no copy through user memory. */
        int s = smb_tcp_sendfile_full(c->fd, from_file->payload_fd, from_file->payload_fd_off, from_file->payload_len);
        from_file->payload_short = s == 1;
        rc = s < 0 ? -1 : 0;
    }
    int e = errno;
    pthread_mutex_unlock(&c->send_lock);
    if (rc != 0) {
        smb_conn_fail(c, SMB_ERR_DISCONNECTED, "connection to %s lost while sending: %s", c->host,
                      e ? strerror(e) : "closed");
        if (err)
            *err = c->dead_err;
        return SMB_ERR_DISCONNECTED;
    }
    pthread_mutex_lock(&c->lock);
    c->stats.bytes_sent += total;
    c->last_send_ns = smb_now_ns();
    pthread_mutex_unlock(&c->lock);
    return 0;
}

/*
 * A send that failed after its requests entered the table: take back those
 * still there, and wait for those that a thread failing the connection has
 * taken to complete (it reads them until they are done), so that the caller
 * may free them. Requests with a callback manage their own (send_keepalive).
 */
static void withdraw(smb_conn *c, smb_req **rs, int n)
{
    pthread_mutex_lock(&c->lock);
    for (int i = 0; i < n; i++) {
        smb_req *r = rs[i];
        if (r->cb || r->state == REQ_DONE)
            continue;
        if (r->state == REQ_SENT && table_find(c, r->mid) == r) {
            table_remove(c, r);
            r->state = REQ_DONE;
            continue;
        }
        while (r->state != REQ_DONE)
            pthread_cond_wait(&r->cond, &c->lock);
    }
    pthread_mutex_unlock(&c->lock);
}

static int send_acquired(smb_conn *c, smb_req **rs, int n, bool related, const uint16_t *req_credits, smb_error *err);

static int send_once(smb_req **rs, int n, bool related, smb_error *err);

int smb_req_send_compound(smb_req **rs, int n, bool related, smb_error *err)
{
    if (n < 1 || n > 16)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad compound size %d", n);
    /* A channel found dead while sending: the requests never left, so they go on another one. */
    for (int attempt = 0;; attempt++) {
        int rc = send_once(rs, n, related, err);
        if (rc == 0 || attempt >= SMB_MAX_CHANNELS || !smb_req_resend(rs, n, rc))
            return rc;
    }
}

static int send_once(smb_req **rs, int n, bool related, smb_error *err)
{
    smb_route(rs, n); /* a session with several channels: the least busy one */
    for (int i = 0; i < n; i++)
        rs[i]->in_compound = n > 1;
    smb_conn *c = rs[0]->conn;
    /* A payload in the middle of a compound is folded into its message so
     * that every member is one 8-aligned piece (MS-SMB2 3.2.4.1.4). */
    for (int i = 0; i < n; i++) {
        smb_req *r = rs[i];
        if (!smb_wr_ok(&r->msg))
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory building a request");
        if (r->payload_from_fd && (i < n - 1 || wants_signing(r) || wants_encryption(r)))
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                               "file data can only be sent unsigned, unencrypted, and last in a compound");
        if (i < n - 1) {
            if (r->payload_len) {
                smb_wr_bytes(&r->msg, r->payload, r->payload_len);
                r->payload = NULL;
                r->payload_len = 0;
            }
            smb_wr_align(&r->msg, 8);
            if (!smb_wr_ok(&r->msg))
                return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory building a request");
        }
    }
    pthread_mutex_lock(&c->lock);
    int rc = acquire_locked(c, rs, n, err);
    uint16_t req_credits[16];
    for (int i = 0; rc == 0 && i < n; i++)
        req_credits[i] = smb_credit_request(c->credits, c->outstanding, c->opts.credits_target, rs[i]->charge);
    pthread_mutex_unlock(&c->lock);
    if (rc != 0)
        return rc;
    rc = send_acquired(c, rs, n, related, req_credits, err);
    if (rc != 0)
        withdraw(c, rs, n);
    return rc;
}

/* Build the frame of requests that hold their message ids and send it. */
static int send_acquired(smb_conn *c, smb_req **rs, int n, bool related, const uint16_t *req_credits, smb_error *err)
{
    struct iovec iov[34];
    int niov = 0;
    size_t total = 4;
    uint8_t nbss[4];
    iov[niov++] = (struct iovec){nbss, 4};
    for (int i = 0; i < n; i++) {
        smb_req *r = rs[i];
        uint32_t flags = (related && i > 0) ? SMB2_FLAGS_RELATED_OPERATIONS : 0;
        uint32_t next = i < n - 1 ? (uint32_t)r->msg.len : 0;
        finish_header(r, flags, next, req_credits[i]);
        if (wants_signing(r) && sign_message(r, r->payload, r->payload_len) != 0) {
            smb_conn_fail(c, SMB_ERR_CRYPTO, "signing a request failed");
            return smb_err_set(err, SMB_ERR_CRYPTO, 0, "signing a request failed");
        }
        iov[niov++] = (struct iovec){r->msg.buf, r->msg.len};
        total += r->msg.len;
        if (r->payload_len && !r->payload_from_fd)
            iov[niov++] = (struct iovec){(void *)r->payload, r->payload_len};
        total += r->payload_len;
    }
    if (wants_encryption(rs[0]))
        return send_encrypted(c, rs[0], iov + 1, niov - 1, total - 4, err);
    size_t frame = total - 4;
    if (frame > 0xFFFFFF)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "request too large (%zu bytes)", frame);
    nbss[0] = 0;
    nbss[1] = (uint8_t)(frame >> 16);
    nbss[2] = (uint8_t)(frame >> 8);
    nbss[3] = (uint8_t)frame;
    return transmit(c, iov, niov, total, rs[n - 1]->payload_from_fd ? rs[n - 1] : NULL, err);
}

int smb_req_send(smb_req *r, smb_error *err) { return smb_req_send_compound(&r, 1, false, err); }

int smb_req_cancel(smb_req *r, smb_error *err)
{
    smb_conn *c = r->conn;
    pthread_mutex_lock(&c->lock);
    bool pending = r->state == REQ_SENT;
    smb2_hdr h = {
        .command = SMB2_CANCEL,
        .message_id = r->mid,
        .session_id = r->session_id,
        .tree_id = smb_le32(r->msg.buf + 36),
    };
    if (r->is_async) {
        h.flags = SMB2_FLAGS_ASYNC_COMMAND;
        h.async_id = r->async_id;
    }
    pthread_mutex_unlock(&c->lock);
    if (!pending)
        return 0;
    /* CANCEL takes no credits and gets no response (MS-SMB2 3.2.4.24). */
    smb_req *cr = smb_req_new(c, SMB2_CANCEL, r->session_id, 0, r->sec);
    if (!cr)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    cr->msg.len = 0;
    smb2_hdr_encode(&cr->msg, &h);
    smb2_simple_req_encode(&cr->msg);
    int rc = 0;
    if (!smb_wr_ok(&cr->msg))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    else if (wants_signing(cr) && sign_message(cr, NULL, 0) != 0)
        rc = smb_err_set(err, SMB_ERR_CRYPTO, 0, "signing a request failed");
    if (rc == 0) {
        size_t len = cr->msg.len;
        uint8_t nbss[4] = {0, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
        struct iovec iov[2] = {{nbss, 4}, {cr->msg.buf, len}};
        rc = transmit(c, iov, 2, len + 4, NULL, err);
    }
    smb_req_free(cr);
    return rc;
}

int smb_req_wait(smb_req *r, smb_error *err)
{
    for (int replays = 0;; replays++) {
        smb_conn *c = r->conn;
        pthread_mutex_lock(&c->lock);
        while (r->state != REQ_DONE)
            pthread_cond_wait(&r->cond, &c->lock);
        pthread_mutex_unlock(&c->lock);
        /* A lost channel: again on another one, a bounded number of times. */
        if ((!r->err && r->status != 0xC0000467u /* STATUS_FILE_NOT_AVAILABLE */) || replays >= 16 ||
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

int smb_req_run(smb_req *r, const char *what, smb_error *err)
{
    int rc = smb_req_send(r, err);
    if (rc == 0)
        rc = smb_req_wait(r, err);
    if (rc == 0 && r->status != STATUS_SUCCESS)
        rc = smb_req_status_error(r, what, err);
    return rc;
}

/* ------------------------------------------------------------ receiving */

static void req_set_error(smb_req *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void req_set_error(smb_req *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err_detail.message, sizeof r->err_detail.message, fmt, ap);
    va_end(ap);
    r->err_detail.code = code;
    r->err_detail.ntstatus = 0;
    r->err = code;
}

/* Verify a response's signature (MS-SMB2 3.2.5.1.3). iov[0] is the message
 * start (header first); the signature field is checked against a copy. */
static bool signature_ok(const smb_req *r, const uint8_t *msg, size_t len, const void *extra, size_t extra_len)
{
    uint8_t hdr[SMB2_HDR_LEN];
    memcpy(hdr, msg, SMB2_HDR_LEN);
    memset(hdr + 48, 0, 16);
    smb_iov iov[3] = {{hdr, SMB2_HDR_LEN}, {msg + SMB2_HDR_LEN, len - SMB2_HDR_LEN}, {extra, extra_len}};
    uint8_t sig[16];
    if (smb_sign(r->sec->signing_alg, r->sec->signing_key, iov, extra_len ? 3 : 2, sig) != 0)
        return false;
    /* Constant-time comparison: the signature is a MAC. */
    uint8_t diff = 0;
    for (int i = 0; i < 16; i++)
        diff |= (uint8_t)(sig[i] ^ msg[48 + i]);
    return diff == 0;
}

/* Check signing rules for a response that arrived for r. */
static void check_signature(smb_req *r, const smb2_hdr *h, const uint8_t *msg, size_t len, const void *extra,
                            size_t extra_len)
{
    if (!signs(r) || r->no_verify)
        return;
    if (!(h->flags & SMB2_FLAGS_SIGNED)) {
        req_set_error(r, SMB_ERR_SIGNATURE, "server sent an unsigned response on a signed session");
        return;
    }
    if (!signature_ok(r, msg, len, extra, extra_len))
        req_set_error(r, SMB_ERR_SIGNATURE, "response signature does not verify (message id %llu)",
                      (unsigned long long)h->message_id);
}

/* Copy the data of a READ response that came through the buffered path. */
static void copy_read_payload(smb_req *r)
{
    smb2_read_rsp rr;
    smb2_blob data;
    if (smb2_read_rsp_data(r->rsp, r->rsp_len, &rr, &data) != 0 || data.len > r->read_cap) {
        req_set_error(r, SMB_ERR_PROTOCOL,
                      "malformed READ response, or its data (%u bytes at %u) outside the frame or larger than asked",
                      rr.data_length, rr.data_offset);
        return;
    }
    if (data.len)
        memcpy(r->read_buf, data.data, data.len);
    r->read_len = rr.data_length;
}

/* Account a response's credits and find its request; handles interim
 * responses. Returns the request to complete, or NULL. Takes c->lock. */
static smb_req *claim_response(smb_conn *c, const smb2_hdr *h, bool *unknown)
{
    *unknown = false;
    pthread_mutex_lock(&c->lock);
    c->credits = smb_credit_grant(c->credits, h->credits);
    if (h->credits)
        pthread_cond_broadcast(&c->credit_cond);
    c->last_recv_ns = smb_now_ns();
    smb_req *r = table_find(c, h->message_id);
    if (!r) {
        *unknown = h->message_id != MID_UNSOLICITED;
        pthread_mutex_unlock(&c->lock);
        return NULL;
    }
    if ((h->flags & SMB2_FLAGS_ASYNC_COMMAND) && h->status == STATUS_PENDING) {
        /* Interim response (MS-SMB2 3.2.5.1.5): keep waiting, longer, but
         * only from the first one: a server repeating interim responses
         * must not keep the request alive forever. */
        if (!r->is_async)
            r->deadline_ns = smb_now_ns() + (uint64_t)c->opts.pending_timeout_ms * 1000000ull;
        r->is_async = true;
        r->async_id = h->async_id;
        if (r->state == REQ_RECEIVING)
            r->state = REQ_SENT;
        pthread_mutex_unlock(&c->lock);
        return NULL;
    }
    table_remove(c, r);
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Handle one complete response message (owned: msg is freed or kept). */
static void dispatch(smb_conn *c, uint8_t *msg, size_t len, bool encrypted)
{
    smb_rd rd;
    smb_rd_init(&rd, msg, len);
    smb2_hdr h;
    if (smb2_hdr_decode(&rd, &h) != 0 || !(h.flags & SMB2_FLAGS_SERVER_TO_REDIR)) {
        free(msg);
        smb_conn_fail(c, SMB_ERR_PROTOCOL, "malformed SMB2 header from %s", c->host);
        return;
    }
    bool unknown;
    smb_req *r = claim_response(c, &h, &unknown);
    if (!r) {
        free(msg);
        if (unknown)
            smb_conn_fail(c, SMB_ERR_PROTOCOL, "server answered message id %llu that was never sent",
                          (unsigned long long)h.message_id);
        return;
    }
    r->rsp_hdr = h;
    r->status = h.status;
    r->rsp = msg;
    r->rsp_len = len;
    if (h.command != r->command) {
        req_set_error(r, SMB_ERR_PROTOCOL, "server answered command %u with command %u", r->command, h.command);
    } else if (!encrypted && wants_encryption(r)) {
        req_set_error(r, SMB_ERR_SIGNATURE, "server sent an unencrypted response on an encrypted session");
    } else {
        if (!encrypted)
            check_signature(r, &h, msg, len, NULL, 0);
        if (!r->err && r->read_buf && (h.status == STATUS_SUCCESS || h.status == STATUS_BUFFER_OVERFLOW))
            copy_read_payload(r);
    }
    complete(c, r);
}

/* Split a frame of compounded responses (MS-SMB2 3.3.4.1.3) into messages. */
static void dispatch_frame(smb_conn *c, uint8_t *frame, size_t len, bool encrypted)
{
    size_t off = 0;
    for (;;) {
        smb2_hdr h;
        size_t next;
        if (smb2_compound_next(frame, len, off, &h, &next) != 0) {
            free(frame);
            if (next == 0)
                smb_conn_fail(c, SMB_ERR_PROTOCOL, "malformed SMB2 header from %s", c->host);
            else
                smb_conn_fail(c, SMB_ERR_PROTOCOL, "bad NextCommand offset %zu in a compounded response", next);
            return;
        }
        if (h.next_command == 0) {
            if (off == 0) {
                dispatch(c, frame, len, encrypted);
            } else {
                uint8_t *m = malloc(len - off);
                if (m)
                    memcpy(m, frame + off, len - off);
                free(frame);
                if (!m) {
                    smb_conn_fail(c, SMB_ERR_NO_MEMORY, "out of memory receiving");
                    return;
                }
                dispatch(c, m, len - off, encrypted);
            }
            return;
        }
        uint8_t *m = malloc(next);
        if (!m) {
            free(frame);
            smb_conn_fail(c, SMB_ERR_NO_MEMORY, "out of memory receiving");
            return;
        }
        memcpy(m, frame + off, next);
        dispatch(c, m, next, encrypted);
        off += next;
    }
}

/*
 * Complete a READ whose payload already sits in the caller's buffer: take
 * it out of the table (with its credits), keep the 80 header bytes as its
 * response, check the signature (plain path) and wake its waiter.
 */
static void finish_direct_read(smb_conn *c, smb_req *r, const uint8_t *head, const smb2_hdr *h, uint32_t data_length,
                               bool verify)
{
    const size_t fixed = SMB2_HDR_LEN + SMB2_READ_RSP_FIXED;
    bool unknown;
    claim_response(c, h, &unknown); /* the same request: it was in the table under this mid */
    r->rsp = malloc(fixed);
    if (!r->rsp) {
        req_set_error(r, SMB_ERR_NO_MEMORY, "out of memory receiving");
    } else {
        memcpy(r->rsp, head, fixed);
        r->rsp_len = fixed;
        r->rsp_hdr = *h;
        r->status = h->status;
        r->read_len = data_length;
        if (verify)
            check_signature(r, h, r->rsp, r->rsp_len, r->read_buf, data_length);
    }
    complete(c, r);
}

/*
 * The zero-copy path for a plain READ response: the 64-byte header and the
 * 16 fixed bytes are already in head; the data goes straight into the
 * caller's buffer. Returns true when it handled the frame; false leaves the
 * frame to the buffered path (nothing more was read).
 */
static bool try_direct_read(smb_conn *c, const uint8_t *head, size_t len, bool *broken)
{
    *broken = false;
    smb_rd rd;
    smb_rd_init(&rd, head, SMB2_HDR_LEN + SMB2_READ_RSP_FIXED);
    smb2_hdr h;
    smb2_read_rsp rr;
    if (smb2_hdr_decode(&rd, &h) != 0 || h.command != SMB2_READ || h.next_command != 0 ||
        h.status != STATUS_SUCCESS || !(h.flags & SMB2_FLAGS_SERVER_TO_REDIR))
        return false;
    if (smb2_read_rsp_decode_fixed(&rd, &rr) != 0 || rr.data_offset != SMB2_HDR_LEN + SMB2_READ_RSP_FIXED ||
        (size_t)rr.data_offset + rr.data_length != len)
        return false;

    pthread_mutex_lock(&c->lock);
    smb_req *r = table_find(c, h.message_id);
    bool ok = r && r->read_buf && r->state == REQ_SENT && r->command == SMB2_READ && rr.data_length <= r->read_cap &&
              !wants_encryption(r);
    if (ok) {
        /* Its data must come within a request timeout too (the watchdog watches it). */
        r->state = REQ_RECEIVING;
        r->deadline_ns = smb_now_ns() + (uint64_t)c->opts.request_timeout_ms * 1000000ull;
    }
    pthread_mutex_unlock(&c->lock);
    if (!ok)
        return false;

    if (smb_tcp_read_full(c->fd, r->read_buf, rr.data_length) != 0) {
        int e = errno;
        *broken = true;
        smb_conn_fail(c, SMB_ERR_DISCONNECTED, "connection to %s lost while receiving: %s", c->host,
                      e ? strerror(e) : "closed by the server");
        pthread_mutex_lock(&c->lock);
        table_remove(c, r);
        pthread_mutex_unlock(&c->lock);
        r->err = c->dead_err.code;
        r->err_detail = c->dead_err;
        complete(c, r);
        return true;
    }
    finish_direct_read(c, r, head, &h, rr.data_length, true);
    return true;
}

static bool read_or_fail(smb_conn *c, void *buf, size_t n)
{
    if (smb_tcp_read_full(c->fd, buf, n) == 0)
        return true;
    int e = errno;
    smb_conn_fail(c, SMB_ERR_DISCONNECTED, "connection to %s lost: %s", c->host,
                  e ? strerror(e) : "closed by the server");
    return false;
}

/* Read the rest of a frame whose first hl bytes are in head into one allocation; NULL when the connection broke. */
static uint8_t *read_whole_frame(smb_conn *c, const uint8_t *head, size_t hl, size_t len)
{
    uint8_t *frame = malloc(len);
    if (!frame) {
        smb_conn_fail(c, SMB_ERR_NO_MEMORY, "out of memory for a %zu-byte frame", len);
        return NULL;
    }
    memcpy(frame, head, hl);
    if (!read_or_fail(c, frame + hl, len - hl)) {
        free(frame);
        return NULL;
    }
    return frame;
}

/* The decryption keys of session id, copied under the lock; false when unknown. */
static bool session_keys(smb_conn *c, uint64_t id, smb_sec *out)
{
    bool found = false;
    pthread_mutex_lock(&c->lock);
    for (smb_session *s = c->sessions; s; s = s->next)
        if (s->id == id && s->sec.cipher) {
            *out = s->sec;
            found = true;
            break;
        }
    /* A further channel of a session: the session's keys. */
    if (!found && c->bound && c->bound->id == id && c->bound->sec.cipher) {
        *out = c->bound->sec;
        found = true;
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

/*
 * An encrypted READ response for a request waiting with a buffer: with GCM
 * the header is peeked at (unauthenticated), then the whole message is
 * authenticated and decrypted in one pass with the payload landing straight
 * in the caller's buffer. Returns true when it handled the message.
 */
static bool decrypt_read_direct(smb_conn *c, const uint8_t *frame, const smb2_transform_hdr *th, const smb_sec *sec)
{
    const size_t fixed = SMB2_HDR_LEN + SMB2_READ_RSP_FIXED;
    uint8_t head[SMB2_HDR_LEN + SMB2_READ_RSP_FIXED];
    if (th->original_size <= fixed ||
        smb_gcm_peek(sec->cipher, sec->dec_key, th->nonce, frame + SMB2_TRANSFORM_HDR_LEN, fixed, head) != 0)
        return false;
    smb_rd rd;
    smb_rd_init(&rd, head, fixed);
    smb2_hdr h;
    smb2_read_rsp rr;
    if (smb2_hdr_decode(&rd, &h) != 0 || h.command != SMB2_READ || h.next_command != 0 || h.status != STATUS_SUCCESS ||
        !(h.flags & SMB2_FLAGS_SERVER_TO_REDIR) || smb2_read_rsp_decode_fixed(&rd, &rr) != 0 ||
        rr.data_offset != fixed || (size_t)rr.data_offset + rr.data_length != th->original_size)
        return false;
    pthread_mutex_lock(&c->lock);
    smb_req *r = table_find(c, h.message_id);
    bool ok = r && r->read_buf && r->state == REQ_SENT && r->command == SMB2_READ && rr.data_length <= r->read_cap &&
              wants_encryption(r);
    if (ok)
        r->state = REQ_RECEIVING;
    pthread_mutex_unlock(&c->lock);
    if (!ok)
        return false;
    smb_iov_mut out[2] = {{head, fixed}, {r->read_buf, rr.data_length}};
    if (smb_decrypt(sec->cipher, sec->dec_key, th->nonce, frame + 20, 32, frame + SMB2_TRANSFORM_HDR_LEN,
                    th->original_size, out, 2, th->signature) != 0) {
        smb_conn_fail(c, SMB_ERR_SIGNATURE, "an encrypted message from %s failed authentication", c->host);
        pthread_mutex_lock(&c->lock);
        table_remove(c, r);
        pthread_mutex_unlock(&c->lock);
        r->err = c->dead_err.code;
        r->err_detail = c->dead_err;
        complete(c, r);
        return true;
    }
    /* The authenticated header is what counts from here on. */
    smb_rd_init(&rd, head, fixed);
    if (smb2_hdr_decode(&rd, &h) != 0) {
        smb_conn_fail(c, SMB_ERR_PROTOCOL, "malformed SMB2 header from %s", c->host);
        return true;
    }
    finish_direct_read(c, r, head, &h, rr.data_length, false);
    return true;
}

/*
 * A transform message (MS-SMB2 3.2.5.1.1.1): read it whole, authenticate
 * and decrypt it with the session's key, and dispatch what it carries. A
 * message that fails authentication ends the connection: it was forged or
 * damaged, and what follows cannot be trusted either.
 */
static bool receive_encrypted(smb_conn *c, const uint8_t *head, size_t hl, size_t len)
{
    uint8_t *frame = read_whole_frame(c, head, hl, len);
    if (!frame)
        return false;
    smb_rd rd;
    smb_rd_init(&rd, frame, len);
    smb2_transform_hdr th;
    smb_sec sec;
    if (smb2_transform_hdr_decode(&rd, &th) != 0 || th.original_size != len - SMB2_TRANSFORM_HDR_LEN ||
        th.original_size < SMB2_HDR_LEN) {
        free(frame);
        smb_conn_fail(c, SMB_ERR_PROTOCOL, "malformed encrypted message from %s", c->host);
        return false;
    }
    if (!session_keys(c, th.session_id, &sec)) {
        free(frame);
        smb_conn_fail(c, SMB_ERR_PROTOCOL, "encrypted message for unknown session %llu",
                      (unsigned long long)th.session_id);
        return false;
    }
    if (decrypt_read_direct(c, frame, &th, &sec)) {
        free(frame);
        memset(&sec, 0, sizeof sec);
        return !c->dead;
    }
    uint8_t *plain = malloc(th.original_size);
    smb_iov_mut out = {plain, th.original_size};
    bool ok = plain && smb_decrypt(sec.cipher, sec.dec_key, th.nonce, frame + 20, 32, frame + SMB2_TRANSFORM_HDR_LEN,
                                   th.original_size, &out, 1, th.signature) == 0;
    free(frame);
    memset(&sec, 0, sizeof sec);
    if (!ok) {
        free(plain);
        smb_conn_fail(c, SMB_ERR_SIGNATURE, "an encrypted message from %s failed authentication", c->host);
        return false;
    }
    dispatch_frame(c, plain, th.original_size, true);
    return true;
}

/* Read and handle one frame of len bytes. Returns false when the connection broke. */
static bool receive_frame(smb_conn *c, size_t len)
{
    uint8_t head[SMB2_HDR_LEN + SMB2_READ_RSP_FIXED];
    size_t hl = len < sizeof head ? len : sizeof head;
    if (!read_or_fail(c, head, hl))
        return false;
    if (hl >= 4 && head[0] == 0xFF && memcmp(head + 1, "SMB", 3) == 0) {
        smb_conn_fail(c, SMB_ERR_SMB1_ONLY,
                      "server supports only SMB1, which smbcopy does not speak; enable SMB2/3 on the server");
        return false;
    }
    if (hl >= 4 && head[0] == 0xFD && memcmp(head + 1, "SMB", 3) == 0)
        return receive_encrypted(c, head, hl, len);
    if (hl < SMB2_HDR_LEN || head[0] != 0xFE || memcmp(head + 1, "SMB", 3) != 0) {
        smb_conn_fail(c, SMB_ERR_PROTOCOL, "server sent a frame that is not SMB2 (%zu bytes)", len);
        return false;
    }
    if (hl == sizeof head) {
        bool broken;
        if (try_direct_read(c, head, len, &broken))
            return !broken;
    }
    uint8_t *frame = read_whole_frame(c, head, hl, len);
    if (!frame)
        return false;
    dispatch_frame(c, frame, len, false);
    return true;
}

static void *rx_main(void *arg)
{
    smb_conn *c = arg;
    for (;;) {
        uint8_t nb[4];
        if (!read_or_fail(c, nb, 4))
            break;
        size_t len = ((size_t)nb[1] << 16) | ((size_t)nb[2] << 8) | nb[3];
        if (nb[0] != 0) {
            smb_conn_fail(c, SMB_ERR_PROTOCOL, "bad transport header (type 0x%02x)", nb[0]);
            break;
        }
        pthread_mutex_lock(&c->lock);
        c->stats.bytes_received += len + 4;
        size_t max = c->max_frame;
        pthread_mutex_unlock(&c->lock);
        if (len < 4 || len > max) {
            smb_conn_fail(c, SMB_ERR_PROTOCOL, "server sent a frame of %zu bytes (limit %zu)", len, max);
            break;
        }
        if (!receive_frame(c, len))
            break;
    }
    return NULL;
}

/* ------------------------------------------------------------ watchdog */

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

static void *wd_main(void *arg)
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
        uint64_t now = smb_now_ns();
        smb_req *late = NULL;
        for (size_t i = 0; i < c->table_size && !late; i++)
            for (smb_req *r = c->table[i]; r && !late; r = r->hash_next)
                if ((r->state == REQ_SENT || r->state == REQ_RECEIVING) && r->deadline_ns && now > r->deadline_ns)
                    late = r;
        if (late) {
            double secs = (late->is_async ? c->opts.pending_timeout_ms : c->opts.request_timeout_ms) / 1000.0;
            uint16_t cmd = late->command;
            pthread_mutex_unlock(&c->lock);
            /* A server that stops answering one request is not trusted with
             * the next ones either: the connection is closed. */
            smb_conn_fail(c, SMB_ERR_TIMEOUT, "server %s:%u did not answer (%s request) within %g s", c->host,
                          (unsigned)c->port, command_name(cmd), secs);
            pthread_mutex_lock(&c->lock);
            continue;
        }
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

int smb_conn_start_threads(smb_conn *c, smb_error *err)
{
    if (pthread_create(&c->rx_thread, NULL, rx_main, c) != 0)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "cannot start the receiver thread");
    if (pthread_create(&c->wd_thread, NULL, wd_main, c) != 0) {
        smb_conn_fail(c, SMB_ERR_NO_MEMORY, "cannot start the watchdog thread");
        pthread_join(c->rx_thread, NULL);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "cannot start the watchdog thread");
    }
    c->threads_started = true;
    return 0;
}

void smb_conn_stop_threads(smb_conn *c)
{
    if (!c->threads_started)
        return;
    pthread_mutex_lock(&c->lock);
    c->closing = true;
    pthread_cond_broadcast(&c->wd_cond);
    pthread_mutex_unlock(&c->lock);
    smb_conn_fail(c, SMB_ERR_CLOSED, "connection closed");
    pthread_join(c->rx_thread, NULL);
    pthread_join(c->wd_thread, NULL);
    c->threads_started = false;
}

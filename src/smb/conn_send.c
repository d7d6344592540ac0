/*
 * Sending requests (MS-SMB2 3.2.4.1): credits and message ids, the header
 * fields known only at send time, signing or encryption, compounds, and the
 * one write of the frame; CANCEL, which takes neither credits nor an id.
 */
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "conn_internal.h"
#include "credits.h"
#include "error.h"
#include "objects.h"
#include "transport.h"

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
        smb_conn_cond_wait(c, &c->credit_cond, &ts);
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
        smb_conn_outstanding_add(c, r->charge);
        r->state = REQ_SENT;
        r->err = 0;
        r->deadline_ns = deadline_rsp;
        smb_conn_table_insert(c, r);
        c->stats.requests++;
    }
    return 0;
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
                      smb_conn_loss_reason(e));
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
        if (r->state == REQ_SENT && smb_conn_table_find(c, r->mid) == r) {
            smb_conn_table_remove(c, r);
            r->state = REQ_DONE;
            continue;
        }
        while (r->state != REQ_DONE)
            smb_conn_cond_wait(c, &r->cond, NULL);
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
        if (r->payload_from_fd && (i < n - 1 || smb_req_wants_signing(r) || smb_req_wants_encryption(r)))
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
    uint16_t req_credits[16] = {0}; /* zeroed: gcc cannot see that n <= 16 fills all it reads */
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
        if (smb_req_wants_signing(r) && sign_message(r, r->payload, r->payload_len) != 0) {
            smb_conn_fail(c, SMB_ERR_CRYPTO, "signing a request failed");
            return smb_err_set(err, SMB_ERR_CRYPTO, 0, "signing a request failed");
        }
        iov[niov++] = (struct iovec){r->msg.buf, r->msg.len};
        total += r->msg.len;
        if (r->payload_len && !r->payload_from_fd)
            iov[niov++] = (struct iovec){(void *)r->payload, r->payload_len};
        total += r->payload_len;
    }
    if (smb_req_wants_encryption(rs[0]))
        return send_encrypted(c, rs[0], iov + 1, niov - 1, total - 4, err);
    size_t frame = total - 4;
    if (frame > 0xFFFFFF)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "request too large (%zu bytes)", frame);
    smb_put_be32(nbss, (uint32_t)frame); /* zero, then a 24-bit length (MS-SMB2 2.1) */
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
    else if (smb_req_wants_signing(cr) && sign_message(cr, NULL, 0) != 0)
        rc = smb_err_set(err, SMB_ERR_CRYPTO, 0, "signing a request failed");
    if (rc == 0) {
        size_t len = cr->msg.len;
        uint8_t nbss[4];
        smb_put_be32(nbss, (uint32_t)len);
        struct iovec iov[2] = {{nbss, 4}, {cr->msg.buf, len}};
        rc = transmit(c, iov, 2, len + 4, NULL, err);
    }
    smb_req_free(cr);
    return rc;
}

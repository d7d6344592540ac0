/*
 * The receiver thread: reads each frame, decrypts and verifies it, finds
 * the request waiting for each response by MessageId and completes it. A
 * plain or GCM-encrypted READ response lands straight in the caller's
 * buffer; anything malformed ends the connection.
 */
#include "conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn_internal.h"
#include "credits.h"
#include "error.h"
#include "frame.h"
#include <smbcopy/ntstatus.h>
#include "objects.h"
#include "transport.h"

/* MessageId of an unsolicited oplock/lease break notification (MS-SMB2 2.2.23). */
#define MID_UNSOLICITED UINT64_MAX


static void req_set_error(smb_req *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void req_set_error(smb_req *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    r->err = smb_err_vset(&r->err_detail, code, 0, fmt, ap);
    va_end(ap);
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
    if (!smb_req_signs(r) || r->no_verify)
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
    smb_req *r = smb_conn_table_find(c, h->message_id);
    if (!r) {
        *unknown = h->message_id != MID_UNSOLICITED;
        pthread_mutex_unlock(&c->lock);
        return NULL;
    }
    if ((h->flags & SMB2_FLAGS_ASYNC_COMMAND) && h->status == SMB_STATUS_PENDING) {
        /* Interim response (MS-SMB2 3.2.5.1.5): keep waiting, longer, but
         * only from the first one: a server repeating interim responses
         * must not keep the request alive forever. */
        if (!r->is_async)
            r->deadline_ns = r->wait_forever ? 0 : smb_now_ns() + (uint64_t)c->opts.pending_timeout_ms * 1000000ull;
        r->is_async = true;
        r->async_id = h->async_id;
        if (r->state == REQ_RECEIVING)
            r->state = REQ_SENT;
        pthread_mutex_unlock(&c->lock);
        return NULL;
    }
    smb_conn_table_remove(c, r);
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
    /* A break notification: no request of ours (MS-SMB2 3.2.5.19). */
    if (h.message_id == MID_UNSOLICITED && h.command == SMB2_OPLOCK_BREAK) {
        pthread_mutex_lock(&c->lock);
        c->last_recv_ns = smb_now_ns();
        pthread_mutex_unlock(&c->lock);
        smb_oplock_break_received(c, msg, len);
        free(msg);
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
    } else if (!encrypted && smb_req_wants_encryption(r)) {
        req_set_error(r, SMB_ERR_SIGNATURE, "server sent an unencrypted response on an encrypted session");
    } else {
        if (!encrypted)
            check_signature(r, &h, msg, len, NULL, 0);
        if (!r->err && r->read_buf && (h.status == SMB_STATUS_SUCCESS || h.status == SMB_STATUS_BUFFER_OVERFLOW))
            copy_read_payload(r);
    }
    smb_req_complete(c, r);
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
 * r was being received into (REQ_RECEIVING, which smb_conn_fail leaves in
 * the table) when the connection failed: take it out with its credits and
 * complete it with the connection's error.
 */
static void fail_receiving(smb_conn *c, smb_req *r)
{
    pthread_mutex_lock(&c->lock);
    smb_conn_table_remove(c, r);
    pthread_mutex_unlock(&c->lock);
    r->err = c->dead_err.code;
    r->err_detail = c->dead_err;
    smb_req_complete(c, r);
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
    smb_req_complete(c, r);
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
        h.status != SMB_STATUS_SUCCESS || !(h.flags & SMB2_FLAGS_SERVER_TO_REDIR))
        return false;
    if (smb2_read_rsp_decode_fixed(&rd, &rr) != 0 || rr.data_offset != SMB2_HDR_LEN + SMB2_READ_RSP_FIXED ||
        (size_t)rr.data_offset + rr.data_length != len)
        return false;

    pthread_mutex_lock(&c->lock);
    smb_req *r = smb_conn_table_find(c, h.message_id);
    bool ok = r && r->read_buf && r->state == REQ_SENT && r->command == SMB2_READ && rr.data_length <= r->read_cap &&
              !smb_req_wants_encryption(r);
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
                      smb_conn_loss_reason(e));
        fail_receiving(c, r);
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
                  smb_conn_loss_reason(e));
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
    if (smb2_hdr_decode(&rd, &h) != 0 || h.command != SMB2_READ || h.next_command != 0 || h.status != SMB_STATUS_SUCCESS ||
        !(h.flags & SMB2_FLAGS_SERVER_TO_REDIR) || smb2_read_rsp_decode_fixed(&rd, &rr) != 0 ||
        rr.data_offset != fixed || (size_t)rr.data_offset + rr.data_length != th->original_size)
        return false;
    pthread_mutex_lock(&c->lock);
    smb_req *r = smb_conn_table_find(c, h.message_id);
    bool ok = r && r->read_buf && r->state == REQ_SENT && r->command == SMB2_READ && rr.data_length <= r->read_cap &&
              smb_req_wants_encryption(r);
    if (ok)
        r->state = REQ_RECEIVING;
    pthread_mutex_unlock(&c->lock);
    if (!ok)
        return false;
    smb_iov_mut out[2] = {{head, fixed}, {r->read_buf, rr.data_length}};
    if (smb_decrypt(sec->cipher, sec->dec_key, th->nonce, frame + 20, 32, frame + SMB2_TRANSFORM_HDR_LEN,
                    th->original_size, out, 2, th->signature) != 0) {
        smb_conn_fail(c, SMB_ERR_SIGNATURE, "an encrypted message from %s failed authentication", c->host);
        fail_receiving(c, r);
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
static bool process_encrypted(smb_conn *c, uint8_t *frame, size_t len);

static bool receive_encrypted(smb_conn *c, const uint8_t *head, size_t hl, size_t len)
{
    uint8_t *frame = read_whole_frame(c, head, hl, len);
    if (!frame)
        return false;
    return process_encrypted(c, frame, len);
}

/* An encrypted frame read whole (taken): decrypted, then handled. */
static bool process_encrypted(smb_conn *c, uint8_t *frame, size_t len)
{
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

/* The kind of frame head[0..hl) begins: 1 SMB2, 2 encrypted; 0 with the connection failed. */
static int frame_kind(smb_conn *c, const uint8_t *head, size_t hl, size_t len)
{
    if (hl >= 4 && head[0] == 0xFF && memcmp(head + 1, "SMB", 3) == 0) {
        smb_conn_fail(c, SMB_ERR_SMB1_ONLY,
                      "server supports only SMB1, which smbcopy does not speak; enable SMB2/3 on the server");
        return 0;
    }
    if (hl >= 4 && head[0] == 0xFD && memcmp(head + 1, "SMB", 3) == 0)
        return 2;
    if (hl < SMB2_HDR_LEN || head[0] != 0xFE || memcmp(head + 1, "SMB", 3) != 0) {
        smb_conn_fail(c, SMB_ERR_PROTOCOL, "server sent a frame that is not SMB2 (%zu bytes)", len);
        return 0;
    }
    return 1;
}

bool smb_conn_take_frame(smb_conn *c, uint8_t *frame, size_t len)
{
    int kind = frame_kind(c, frame, len, len);
    if (kind == 0) {
        free(frame);
        return false;
    }
    if (kind == 2)
        return process_encrypted(c, frame, len);
    dispatch_frame(c, frame, len, false);
    return !c->dead;
}

/* Read and handle one frame of len bytes. Returns false when the connection broke. */
static bool receive_frame(smb_conn *c, size_t len)
{
    uint8_t head[SMB2_HDR_LEN + SMB2_READ_RSP_FIXED];
    size_t hl = len < sizeof head ? len : sizeof head;
    if (!read_or_fail(c, head, hl))
        return false;
    int kind = frame_kind(c, head, hl, len);
    if (kind == 0)
        return false;
    if (kind == 2)
        return receive_encrypted(c, head, hl, len);
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

bool smb_conn_frame_length(smb_conn *c, const uint8_t nb[4], size_t *len)
{
    *len = smb_be32(nb) & 0xFFFFFFu;
    if (nb[0] != 0) {
        smb_conn_fail(c, SMB_ERR_PROTOCOL, "bad transport header (type 0x%02x)", nb[0]);
        return false;
    }
    pthread_mutex_lock(&c->lock);
    c->stats.bytes_received += *len + 4;
    size_t max = c->max_frame;
    pthread_mutex_unlock(&c->lock);
    if (*len < 4 || *len > max) {
        smb_conn_fail(c, SMB_ERR_PROTOCOL, "server sent a frame of %zu bytes (limit %zu)", *len, max);
        return false;
    }
    return true;
}

void *smb_conn_receiver_main(void *arg)
{
    smb_conn *c = arg;
    for (;;) {
        uint8_t nb[4];
        size_t len;
        if (!read_or_fail(c, nb, 4) || !smb_conn_frame_length(c, nb, &len) || !receive_frame(c, len))
            break;
    }
    return NULL;
}

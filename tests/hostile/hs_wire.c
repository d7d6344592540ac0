/*
 * The hostile server's frames: NetBIOS framing (MS-SMB2 2.1), response
 * headers, signing (MS-SMB2 3.3.4.1.1), encryption (3.3.4.1.4) and the
 * modes' tampering with what goes out.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "hs.h"

void hs_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        b += w;
        n -= (size_t)w;
    }
}

static bool read_full(int fd, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

bool hs_read_frame(int fd, uint8_t **out, size_t *len)
{
    uint8_t nb[4];
    if (!read_full(fd, nb, 4) || nb[0] != 0)
        return false;
    size_t n = ((size_t)nb[1] << 16) | ((size_t)nb[2] << 8) | nb[3];
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf || !read_full(fd, buf, n)) {
        free(buf);
        return false;
    }
    *out = buf;
    *len = n;
    return true;
}

static uint16_t credits_granted(const hs_conn *c, const hs_req *req)
{
    if (c->mode == HS_CREDITS_0)
        return 0;
    if (c->mode == HS_CREDITS_65535)
        return 65535;
    uint16_t want = req->h.credits ? req->h.credits : 1;
    return want > 512 ? 512 : want;
}

void hs_rsp_begin(smb_wr *w, const hs_conn *c, const hs_req *req, uint32_t status)
{
    smb_wr_init_grow(w, 512);
    smb2_hdr h = {
        .status = status,
        .command = req->h.command,
        .credits = credits_granted(c, req),
        .flags = SMB2_FLAGS_SERVER_TO_REDIR,
        .message_id = req->h.message_id,
        .tree_id = req->h.tree_id,
        .session_id = req->h.session_id ? req->h.session_id : c->session_id,
    };
    smb2_hdr_encode(w, &h);
}

void hs_error_body(smb_wr *w)
{
    smb_wr_u16(w, 9); /* StructureSize (MS-SMB2 2.2.2) */
    smb_wr_u8(w, 0);  /* ErrorContextCount */
    smb_wr_u8(w, 0);
    smb_wr_u32(w, 0); /* ByteCount */
    smb_wr_u8(w, 0);  /* ErrorData */
}

void hs_drain(hs_conn *c)
{
    time_t end = time(NULL) + 60;
    uint8_t buf[4096];
    while (time(NULL) < end) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r <= 0)
            return;
    }
}

bool hs_decrypt(hs_conn *c, const uint8_t *frame, size_t len, uint8_t **plain, size_t *plain_len)
{
    smb_rd rd;
    smb_rd_init(&rd, frame, len);
    smb2_transform_hdr th;
    if (!c->keyed || smb2_transform_hdr_decode(&rd, &th) != 0 || th.original_size != len - SMB2_TRANSFORM_HDR_LEN)
        return false;
    uint8_t *out = malloc(th.original_size ? th.original_size : 1);
    smb_iov_mut o = {out, th.original_size};
    if (!out || smb_decrypt(SMB_CIPHER_AES_128_GCM, c->c2s_key, th.nonce, frame + 20, 32,
                            frame + SMB2_TRANSFORM_HDR_LEN, th.original_size, &o, 1, th.signature) != 0) {
        free(out);
        return false;
    }
    *plain = out;
    *plain_len = th.original_size;
    return true;
}

/* Wrap msg in a transform message (MS-SMB2 3.3.4.1.4) and send it. */
static void send_encrypted(hs_conn *c, const uint8_t *msg, size_t len, uint64_t session_id)
{
    uint8_t *frame = malloc(4 + SMB2_TRANSFORM_HDR_LEN + len);
    if (!frame)
        return;
    smb2_transform_hdr th = {.original_size = (uint32_t)len, .flags = 0x0001, .session_id = session_id};
    smb_put64(th.nonce, ++c->nonce);
    smb_put32(th.nonce + 8, 0x686f7374u); /* the server's nonces differ from the client's */
    smb_wr w;
    smb_wr_init(&w, frame, 4 + SMB2_TRANSFORM_HDR_LEN);
    smb_wr_be32(&w, (uint32_t)(SMB2_TRANSFORM_HDR_LEN + len));
    smb2_transform_hdr_encode(&w, &th);
    uint8_t *hdr = frame + 4;
    smb_iov iov = {msg, len};
    if (smb_encrypt(SMB_CIPHER_AES_128_GCM, c->s2c_key, th.nonce, hdr + 20, 32, &iov, 1, hdr + SMB2_TRANSFORM_HDR_LEN,
                    hdr + 4) == 0)
        hs_write_all(c->fd, frame, 4 + SMB2_TRANSFORM_HDR_LEN + len);
    free(frame);
}

static void send_plain(hs_conn *c, const uint8_t *msg, size_t len)
{
    uint8_t nb[4] = {0, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
    hs_write_all(c->fd, nb, 4);
    hs_write_all(c->fd, msg, len);
}

/* The READ misbehaviours that cut or stall the frame. Returns false when the connection is to end. */
static bool cut_read(hs_conn *c, const uint8_t *msg, size_t len)
{
    uint8_t nb[4] = {0, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
    switch (c->mode) {
    case HS_HUGE_FRAME: {
        static const uint8_t huge[4] = {0, 0x20, 0x00, 0x00}; /* 2 MiB */
        hs_write_all(c->fd, huge, 4);
        hs_write_all(c->fd, msg, 64);
        hs_drain(c);
        return false;
    }
    case HS_CLOSE_MID_NBSS:
        hs_write_all(c->fd, nb, 2);
        return false;
    case HS_CLOSE_MID_HEADER:
        hs_write_all(c->fd, nb, 4);
        hs_write_all(c->fd, msg, 30);
        return false;
    case HS_CLOSE_MID_READ:
    case HS_STALL_MID_READ:
        hs_write_all(c->fd, nb, 4);
        hs_write_all(c->fd, msg, 80 + (len - 80) / 2);
        if (c->mode == HS_STALL_MID_READ)
            hs_drain(c);
        return false;
    default:
        return true;
    }
}

bool hs_send(hs_conn *c, const hs_req *req, smb_wr *w, bool sign)
{
    if (!smb_wr_ok(w)) {
        smb_wr_free(w);
        return false;
    }
    uint8_t *m = w->buf;
    size_t len = w->len;
    uint16_t cmd = req->h.command;
    c->last_status = smb_le32(m + 8); /* for the compound's next member */
    if (c->mode == HS_UNKNOWN_MID && cmd == SMB2_TREE_CONNECT)
        smb_put64(m + 24, req->h.message_id + 1000);

    bool encrypt = req->encrypted && !(c->mode == HS_PLAIN_ON_ENCRYPTED && cmd == SMB2_TREE_CONNECT);
    bool interim = (smb_le32(m + 16) & SMB2_FLAGS_ASYNC_COMMAND) && smb_le32(m + 8) == HS_STATUS_PENDING;
    /* Sign what the client signed, or what the session must sign (MS-SMB2 3.3.4.1.1); never interim responses. */
    sign = sign || (c->keyed && !interim && ((req->h.flags & SMB2_FLAGS_SIGNED) || hs_modes[c->mode].sign) &&
                    req->h.session_id == c->session_id && !encrypt);
    if (sign) {
        smb_put32(m + 16, smb_le32(m + 16) | SMB2_FLAGS_SIGNED);
        memset(m + 48, 0, 16);
        smb_iov iov = {m, len};
        smb_sign(SMB_SIGN_AES_CMAC, c->sign_key, &iov, 1, m + 48);
        bool bad = (c->mode == HS_BAD_SIGNATURE && cmd == SMB2_TREE_CONNECT) ||
                   (c->mode == HS_BAD_SIGNATURE_READ && cmd == SMB2_READ) ||
                   (c->mode == HS_BAD_LOGON_SIGNATURE && cmd == SMB2_SESSION_SETUP);
        if (bad)
            m[48] ^= 0x5a;
    }
    bool go_on = true;
    if (cmd == SMB2_READ && !interim && !encrypt)
        go_on = cut_read(c, m, len);
    if (go_on) {
        if (encrypt)
            send_encrypted(c, m, len, req->h.session_id);
        else
            send_plain(c, m, len);
    }
    smb_wr_free(w);
    return go_on;
}

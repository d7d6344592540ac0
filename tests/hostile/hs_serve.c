/*
 * One connection of the hostile server: read frames, decrypt transform
 * messages, split compounds (MS-SMB2 3.3.5.2.7) and hand each request to
 * its command. Responses to a compound go out one frame each, which the
 * client must accept as well (MS-SMB2 3.3.4.1.3 lets a server do so).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "hs.h"

static bool simple_reply(hs_conn *c, const hs_req *req, uint32_t status)
{
    smb_wr w;
    hs_rsp_begin(&w, c, req, status);
    if (status == HS_STATUS_SUCCESS) {
        smb_wr_u16(&w, 4); /* LOGOFF, TREE_DISCONNECT, ECHO, FLUSH: StructureSize 4 */
        smb_wr_u16(&w, 0);
    } else {
        hs_error_body(&w);
    }
    return hs_send(c, req, &w, false);
}

/* One request; false ends the connection. */
static bool handle(hs_conn *c, const hs_req *req)
{
    switch (req->h.command) {
    case SMB2_NEGOTIATE:
        return hs_negotiate(c, req);
    case SMB2_SESSION_SETUP:
        return hs_session_setup(c, req);
    case SMB2_LOGOFF:
    case SMB2_TREE_DISCONNECT:
    case SMB2_ECHO:
    case SMB2_FLUSH:
        return simple_reply(c, req, HS_STATUS_SUCCESS);
    case SMB2_CANCEL:
        return true; /* no response (MS-SMB2 3.3.5.16) */
    case SMB2_TREE_CONNECT:
        return hs_tree_connect(c, req);
    case SMB2_CREATE:
        return hs_create(c, req);
    case SMB2_CLOSE:
        return hs_close(c, req);
    case SMB2_READ:
        return hs_read(c, req);
    case SMB2_QUERY_INFO:
        return hs_query_info(c, req);
    case SMB2_QUERY_DIRECTORY:
        return hs_query_directory(c, req);
    case SMB2_IOCTL:
        return hs_ioctl(c, req);
    case SMB2_WRITE:
        if (c->store >= 0)
            return hs_store_write(c, req);
        return simple_reply(c, req, HS_STATUS_ACCESS_DENIED);
    case SMB2_SET_INFO:
        if (c->store >= 0)
            return hs_store_set_info(c, req);
        return simple_reply(c, req, HS_STATUS_ACCESS_DENIED);
    default: /* LOCK...; WRITE and SET_INFO without a store: the share is read-only */
        fprintf(stderr, "hostile_smbd: command %u refused\n", req->h.command);
        return simple_reply(c, req, HS_STATUS_ACCESS_DENIED);
    }
}

/*
 * The signing rules a server applies to a request (MS-SMB2 3.3.5.2.4,
 * 3.3.5.7): a signed request that is not encrypted must verify; on 3.1.1
 * (all this server speaks) a TREE_CONNECT of a session with keys must come
 * signed or encrypted. false: the connection is dropped.
 */
static bool request_signing_ok(const hs_conn *c, const hs_req *req)
{
    if (req->encrypted)
        return true;
    if ((req->h.flags & SMB2_FLAGS_SIGNED) && c->keyed && req->h.command != SMB2_SESSION_SETUP) {
        uint8_t *m = malloc(req->len);
        if (!m)
            return false;
        memcpy(m, req->msg, req->len);
        memset(m + 48, 0, 16);
        smb_iov iov = {m, req->len};
        uint8_t sig[16];
        bool ok = smb_sign(SMB_SIGN_AES_CMAC, c->sign_key, &iov, 1, sig) == 0 && memcmp(sig, req->msg + 48, 16) == 0;
        free(m);
        if (!ok) {
            fprintf(stderr, "hostile_smbd: request %u has a bad signature: connection dropped\n", req->h.command);
            return false;
        }
    }
    if (req->h.command == SMB2_TREE_CONNECT && c->keyed && !(req->h.flags & SMB2_FLAGS_SIGNED)) {
        fprintf(stderr, "hostile_smbd: unsigned TREE_CONNECT on 3.1.1: connection dropped (MS-SMB2 3.3.5.7)\n");
        return false;
    }
    return true;
}

/* The requests of one (plain) frame. */
static bool handle_frame(hs_conn *c, const uint8_t *frame, size_t len, bool encrypted)
{
    size_t off = 0;
    bool first = true;
    for (;;) {
        smb_rd rd;
        smb_rd_init(&rd, frame + off, len - off);
        hs_req req = {.encrypted = encrypted};
        if (smb2_hdr_decode(&rd, &req.h) != 0)
            return false;
        size_t n = req.h.next_command ? req.h.next_command : len - off;
        if (n < SMB2_HDR_LEN || n > len - off)
            return false;
        req.msg = frame + off;
        req.len = n;
        if (!request_signing_ok(c, &req))
            return false;
        bool related = !first && (req.h.flags & SMB2_FLAGS_RELATED_OPERATIONS);
        if (related && c->last_status != HS_STATUS_SUCCESS) {
            /* A related member after a failed one fails the same way (MS-SMB2 3.3.5.2.7.2). */
            smb_wr w;
            hs_rsp_begin(&w, c, &req, c->last_status);
            hs_error_body(&w);
            if (!hs_send(c, &req, &w, false))
                return false;
        } else {
            c->last_status = HS_STATUS_SUCCESS;
            if (!handle(c, &req))
                return false;
        }
        first = false;
        if (!req.h.next_command)
            return true;
        off += n;
    }
}

void hs_serve(int fd, hs_mode mode, int store)
{
    hs_conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->fd = fd;
    c->mode = mode;
    c->store = store;
    for (;;) {
        uint8_t *frame = NULL;
        size_t len = 0;
        if (!hs_read_frame(fd, &frame, &len))
            break;
        bool ok;
        if (len >= 4 && frame[0] == 0xFD && memcmp(frame + 1, "SMB", 3) == 0) {
            uint8_t *plain = NULL;
            size_t plain_len = 0;
            ok = hs_decrypt(c, frame, len, &plain, &plain_len) && handle_frame(c, plain, plain_len, true);
            free(plain);
        } else {
            ok = handle_frame(c, frame, len, false);
        }
        free(frame);
        if (!ok)
            break;
    }
    for (int i = 0; i < HS_MAX_OPENS; i++)
        if (c->opens[i].used && c->opens[i].node < 0)
            hs_store_close(c, &c->opens[i]);
    close(fd);
    free(c);
}

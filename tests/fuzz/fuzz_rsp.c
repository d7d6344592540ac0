/* Response decoders driven the way the client drives them (see fuzz_rsp.h). */
#include "fuzz_rsp.h"

#include <stdlib.h>
#include <string.h>

#include <smbcopy/ntstatus.h>

#include "auth/asn1.h"
#include "auth/auth.h"
#include "auth/ntlm_msg.h"
#include "auth/spnego_token.h"
#include "frame.h"
#include "pdu.h"
#include "utf16.h"


/* A reader over the message positioned at the body, as smb_req_rsp_body(). */
static smb_rd body(const uint8_t *msg, size_t len)
{
    smb_rd rd;
    smb_rd_init(&rd, msg, len);
    smb_rd_seek(&rd, SMB2_HDR_LEN);
    return rd;
}

void fuzz_rsp_error(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    smb2_blob data;
    if (smb2_error_decode(&rd, &data) == 0 && data.len)
        (void)data.data[data.len - 1];
}

void fuzz_rsp_negotiate(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    smb2_negotiate_rsp rsp;
    if (smb2_negotiate_rsp_decode(&rd, &rsp) == 0)
        fuzz_spnego_token(rsp.security_buffer.data, rsp.security_buffer.len);
}

void fuzz_rsp_session_setup(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    smb2_session_setup_rsp rsp;
    if (smb2_session_setup_rsp_decode(&rd, &rsp) == 0)
        fuzz_spnego_token(rsp.token.data, rsp.token.len);
}

void fuzz_rsp_tree_connect(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    smb2_tree_connect_rsp rsp;
    (void)smb2_tree_connect_rsp_decode(&rd, &rsp);
}

void fuzz_rsp_create(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    smb2_create_rsp rsp;
    if (smb2_create_rsp_decode(&rd, &rsp) != 0)
        return;
    /* The context chain (MS-SMB2 2.2.13.2): each step moves forward, so it ends. */
    smb_rd chain;
    smb_rd_init(&chain, rsp.contexts.data, rsp.contexts.len);
    smb2_blob name, data;
    int rc;
    while ((rc = smb2_create_ctx_next(&chain, &name, &data)) == 1) {
        if (name.len)
            (void)name.data[name.len - 1];
        if (data.len)
            (void)data.data[data.len - 1];
        if (name.len == 4 && memcmp(name.data, "QFid", 4) == 0 && data.len >= 8)
            (void)smb_le64(data.data);
    }
    /* The typed decoding smb_create_ex does (MxAc, QFid, RqLs, DHnQ, DH2Q). */
    smb_create_reply reply;
    memset(&reply, 0, sizeof reply);
    (void)smb2_create_reply_decode(&rsp.contexts, &reply);
}

void fuzz_rsp_close(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    smb2_close_rsp rsp;
    (void)smb2_close_rsp_decode(&rd, &rsp);
}

/* As the receiver's buffered READ path: the data must lie inside the message; it is copied out. */
void fuzz_rsp_read(const uint8_t *msg, size_t len)
{
    smb2_read_rsp rr;
    smb2_blob data;
    if (smb2_read_rsp_data(msg, len, &rr, &data) != 0 || !data.len)
        return;
    if (data.len != rr.data_length || data.data < msg || data.data + data.len > msg + len)
        abort(); /* accepted data that is not inside the message */
    uint8_t *copy = malloc(data.len);
    if (copy) {
        memcpy(copy, data.data, data.len);
        free(copy);
    }
}

void fuzz_rsp_write(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    uint32_t count;
    (void)smb2_write_rsp_decode(&rd, &count);
}

void fuzz_rsp_simple(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    (void)smb2_simple_rsp_decode(&rd);
}

void fuzz_rsp_set_info(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    (void)smb2_set_info_rsp_decode(&rd);
}

void fuzz_rsp_query_dir(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    smb2_blob out;
    if (smb2_query_dir_rsp_decode(&rd, &out) == 0)
        fuzz_dirents(out.data, out.len);
}

void fuzz_rsp_query_info(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    smb2_blob out;
    if (smb2_query_info_rsp_decode(&rd, &out) == 0)
        fuzz_info_classes(out.data, out.len);
}

void fuzz_rsp_ioctl(const uint8_t *msg, size_t len)
{
    smb_rd rd = body(msg, len);
    smb2_ioctl_rsp rsp;
    if (smb2_ioctl_rsp_decode(&rd, &rsp) == 0)
        fuzz_ioctl_outputs(rsp.output.data, rsp.output.len);
}

void fuzz_rsp_any(const uint8_t *msg, size_t len)
{
    smb_rd rd;
    smb_rd_init(&rd, msg, len);
    smb2_hdr h;
    if (smb2_hdr_decode(&rd, &h) != 0)
        return;
    if (h.status != SMB_STATUS_SUCCESS && h.status != SMB_STATUS_MORE_PROCESSING_REQUIRED &&
        h.status != SMB_STATUS_BUFFER_OVERFLOW && h.status != SMB_STATUS_PENDING) {
        fuzz_rsp_error(msg, len);
        return;
    }
    switch (h.command) {
    case SMB2_NEGOTIATE: fuzz_rsp_negotiate(msg, len); break;
    case SMB2_SESSION_SETUP: fuzz_rsp_session_setup(msg, len); break;
    case SMB2_TREE_CONNECT: fuzz_rsp_tree_connect(msg, len); break;
    case SMB2_CREATE: fuzz_rsp_create(msg, len); break;
    case SMB2_CLOSE: fuzz_rsp_close(msg, len); break;
    case SMB2_READ: fuzz_rsp_read(msg, len); break;
    case SMB2_WRITE: fuzz_rsp_write(msg, len); break;
    case SMB2_QUERY_DIRECTORY: fuzz_rsp_query_dir(msg, len); break;
    case SMB2_QUERY_INFO: fuzz_rsp_query_info(msg, len); break;
    case SMB2_SET_INFO: fuzz_rsp_set_info(msg, len); break;
    case SMB2_IOCTL: fuzz_rsp_ioctl(msg, len); break;
    case SMB2_LOGOFF:
    case SMB2_TREE_DISCONNECT:
    case SMB2_FLUSH:
    case SMB2_ECHO: fuzz_rsp_simple(msg, len); break;
    default: break;
    }
}

void fuzz_frame_messages(const uint8_t *frame, size_t len)
{
    size_t off = 0, msg_len;
    smb2_hdr h;
    while (smb2_compound_next(frame, len, off, &h, &msg_len) == 0) {
        if (msg_len < SMB2_HDR_LEN || msg_len > len - off)
            abort(); /* a message that is not whole inside the frame */
        uint8_t *m = malloc(msg_len);
        if (!m)
            return;
        memcpy(m, frame + off, msg_len);
        fuzz_rsp_any(m, msg_len);
        free(m);
        if (h.next_command == 0)
            return;
        off += msg_len;
    }
}

/* dir.c: every entry, its name to UTF-8; the conversion must be reversible
 * (utf16.h: lone surrogates go through WTF-8 and come back unchanged). */
void fuzz_dirents(const uint8_t *buf, size_t len)
{
    size_t pos = 0;
    smb2_dirent de;
    while (smb2_dirent_next(buf, len, &pos, &de) == 1) {
        char *name = smb_utf16le_to_utf8(de.name_utf16.data, de.name_utf16.len);
        if (!name)
            continue;
        size_t back_len;
        uint8_t *back = smb_utf8_to_utf16le(name, strlen(name), &back_len);
        if (!back || back_len != de.name_utf16.len || memcmp(back, de.name_utf16.data, back_len) != 0)
            abort(); /* a name that does not survive the round trip */
        free(back);
        free(name);
    }
}

void fuzz_ioctl_outputs(const uint8_t *buf, size_t len)
{
    smb_iface ifaces[256];
    size_t n;
    (void)smb2_iface_list_decode(buf, len, ifaces, 256, &n);
    smb_range ranges[64];
    size_t total;
    (void)smb2_alloc_ranges_decode(buf, len, 0, UINT64_MAX, ranges, 64, &n, &total);
    (void)smb2_alloc_ranges_decode(buf, len, 4096, 1u << 20, ranges, 2, &n, &total);
    smb2_validate_negotiate_rsp v;
    (void)smb2_validate_negotiate_decode(buf, len, &v);
}

void fuzz_info_classes(const uint8_t *buf, size_t len)
{
    smb2_file_times t;
    uint64_t a, b;
    uint32_t nlinks;
    bool del, dir;
    (void)smb2_network_open_info_decode(buf, len, &t);
    (void)smb2_internal_info_decode(buf, len, &a);
    (void)smb2_standard_info_decode(buf, len, &a, &b, &nlinks, &del, &dir);
    (void)smb2_basic_info_decode(buf, len, &t);
}

void fuzz_spnego_token(const uint8_t *buf, size_t len)
{
    smb_error err;
    smb_negtoken_init init;
    if (smb_spnego_parse_init(buf, len, &init, &err) == 0) {
        for (int i = 0; i < init.n_oids; i++) {
            char text[128];
            (void)smb_asn1_oid_str(init.oids[i].p, init.oids[i].len, text, sizeof text);
        }
    }
    smb_negtoken_resp resp;
    if (smb_spnego_parse_resp(buf, len, &resp, &err) == 0) {
        if (resp.has_mech) {
            char text[128];
            (void)smb_asn1_oid_str(resp.mech.p, resp.mech.len, text, sizeof text);
        }
        if (resp.has_token)
            fuzz_ntlm_challenge(resp.token.p, resp.token.len);
    }
    (void)smb_asn1_valid(buf, len, SMB_ASN1_MAX_DEPTH);
}

static int fixed_random(void *buf, size_t n, void *arg)
{
    (void)arg;
    memset(buf, 0x5a, n);
    return 0;
}

static uint64_t fixed_now(void *arg)
{
    (void)arg;
    return 133000000000000000ull;
}

void fuzz_ntlm_challenge(const uint8_t *buf, size_t len)
{
    smb_error err;
    smb_ntlm_challenge c;
    if (smb_ntlm_parse_challenge(buf, len, &c, &err) == 0) {
        /* The AV pairs go back to the server inside the NTLMv2 blob (MS-NLMP 3.1.5.2.1). */
        static const uint8_t spn[] = {'c', 0, 'i', 0, 'f', 0, 's', 0};
        smb_wr w;
        smb_wr_init_grow(&w, 256);
        smb_ntlm_write_client_av_pairs(&w, &c, MSV_AV_FLAG_MIC, spn, sizeof spn);
        smb_wr_free(&w);
    }
    /* The NTLM mechanism's own step on the same bytes: NEGOTIATE out, CHALLENGE in, AUTHENTICATE out. */
    smb_auth_params p = {.user = "user", .domain = "DOMAIN", .password = "password", .workstation = "WS",
                         .random = fixed_random, .now = fixed_now};
    void *st = smb_ntlm_new(&p);
    if (!st)
        return;
    smb_buf out = {0};
    if (smb_mech_ntlm.step(st, NULL, 0, &out, &err) >= 0) {
        free(out.data);
        out = (smb_buf){0};
        if (smb_mech_ntlm.step(st, buf, len, &out, &err) >= 0 && smb_mech_ntlm.mic_make) {
            smb_buf mic = {0};
            if (smb_mech_ntlm.wants_mic(st) && smb_mech_ntlm.mic_make(st, buf, len, &mic) == 0)
                free(mic.data);
        }
        free(out.data);
    }
    smb_mech_ntlm.free(st);
}

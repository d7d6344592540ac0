/* NEGOTIATE request and response with the SMB 3.1.1 negotiate contexts (MS-SMB2 2.2.3, 2.2.4). */
#include <string.h>

#include "pdu_internal.h"
#include "utf16.h"

#define SMB2_DIALECT_311 0x0311
#define SMB2_PREAUTH_SALT_LEN 32

/* ---------------------------------------------------------------- request */

/* Start a negotiate context (2.2.3.1) at the next 8-byte boundary; returns
 * the position of its DataLength field, for ctx_end. */
static size_t ctx_begin(smb_wr *w, uint16_t type)
{
    smb_wr_align(w, 8);
    smb_wr_u16(w, type);
    size_t len_pos = smb_wr_reserve(w, 2);
    smb_wr_u32(w, 0); /* Reserved */
    return len_pos;
}

static void ctx_end(smb_wr *w, size_t len_pos)
{
    size_t len = w->len - (len_pos + 6);
    if (len > UINT16_MAX)
        smb2_wr_fail(w);
    smb_wr_put_u16(w, len_pos, (uint16_t)len);
}

static void wr_u16_list(smb_wr *w, const uint16_t *v, int n)
{
    smb_wr_u16(w, (uint16_t)n);
    for (int i = 0; i < n; i++)
        smb_wr_u16(w, v[i]);
}

/* The 3.1.1 contexts; returns how many were written. */
static uint16_t wr_contexts(smb_wr *w, const smb2_negotiate_req *req)
{
    uint16_t count = 0;
    size_t pos;

    /* 2.2.3.1.1: one hash algorithm (SHA-512) and a 32-byte salt. */
    pos = ctx_begin(w, SMB2_PREAUTH_INTEGRITY_CAPABILITIES);
    smb_wr_u16(w, 1);
    smb_wr_u16(w, SMB2_PREAUTH_SALT_LEN);
    smb_wr_u16(w, SMB2_PREAUTH_SHA512);
    smb_wr_bytes(w, req->preauth_salt, SMB2_PREAUTH_SALT_LEN);
    ctx_end(w, pos);
    count++;

    if (req->ciphers && req->nciphers > 0) { /* 2.2.3.1.2 */
        pos = ctx_begin(w, SMB2_ENCRYPTION_CAPABILITIES);
        wr_u16_list(w, req->ciphers, req->nciphers);
        ctx_end(w, pos);
        count++;
    }

    if (req->netname && req->netname[0]) { /* 2.2.3.1.4: no terminator */
        size_t start = w->len;
        pos = ctx_begin(w, SMB2_NETNAME_NEGOTIATE_CONTEXT_ID);
        if (smb_wr_utf8_as_utf16le(w, req->netname, strlen(req->netname), SMB_UTF8_STRICT)) {
            ctx_end(w, pos);
            count++;
        } else {
            w->len = start; /* the name is optional: leave it out */
        }
    }

    if (req->signing_algs && req->nsigning_algs > 0) { /* 2.2.3.1.7 */
        pos = ctx_begin(w, SMB2_SIGNING_CAPABILITIES);
        wr_u16_list(w, req->signing_algs, req->nsigning_algs);
        ctx_end(w, pos);
        count++;
    }
    return count;
}

void smb2_negotiate_req_encode(smb_wr *w, const smb2_negotiate_req *req)
{
    int nd = req->ndialects > 0 ? req->ndialects : 0;
    bool v311 = false;
    for (int i = 0; i < nd; i++)
        v311 |= req->dialects[i] == SMB2_DIALECT_311;

    smb_wr_u16(w, 36); /* StructureSize */
    smb_wr_u16(w, (uint16_t)nd);
    smb_wr_u16(w, req->security_mode);
    smb_wr_u16(w, 0); /* Reserved */
    smb_wr_u32(w, req->capabilities);
    smb_wr_bytes(w, req->client_guid, 16);
    /* NegotiateContextOffset, NegotiateContextCount, Reserved2; without
     * 3.1.1 these 8 bytes are ClientStartTime, which MUST be 0. */
    size_t off_pos = smb_wr_reserve(w, 4);
    size_t count_pos = smb_wr_reserve(w, 2);
    smb_wr_u16(w, 0);
    for (int i = 0; i < nd; i++)
        smb_wr_u16(w, req->dialects[i]);
    if (!v311)
        return;

    smb_wr_align(w, 8); /* the first context is 8-byte aligned */
    smb_wr_put_u32(w, off_pos, (uint32_t)w->len);
    smb_wr_put_u16(w, count_pos, wr_contexts(w, req));
}

/* ---------------------------------------------------------------- response */

/* 2.2.3.1.1 in a response: exactly one hash algorithm (3.2.5.2), then the salt. */
static void rd_preauth(smb_rd *d, smb2_negotiate_rsp *rsp)
{
    uint16_t count = smb_rd_u16(d);
    uint16_t salt_len = smb_rd_u16(d);
    rsp->preauth_hash_alg = smb_rd_u16(d);
    smb_rd_skip(d, salt_len);
    if (count != 1)
        smb2_rd_fail(d);
    rsp->have_preauth = true;
}

/* 2.2.3.1.2 / 2.2.3.1.7 in a response: a list of exactly one value. */
static uint16_t rd_single(smb_rd *d)
{
    uint16_t count = smb_rd_u16(d);
    uint16_t v = smb_rd_u16(d);
    if (count != 1)
        smb2_rd_fail(d);
    return v;
}

/* Walk NegotiateContextList: the first context at off (8-aligned, past the
 * fixed part), each next one at the following 8-byte boundary; types this
 * client does not use are skipped, a repeated known type is an error. */
static void rd_contexts(smb_rd *r, size_t min_off, uint32_t off, uint16_t count, smb2_negotiate_rsp *rsp)
{
    if (off < min_off || off % 8 != 0) {
        smb2_rd_fail(r);
        return;
    }
    smb_rd_seek(r, off);
    for (uint16_t i = 0; i < count && smb_rd_ok(r); i++) {
        smb_rd_align(r, 8);
        uint16_t type = smb_rd_u16(r);
        uint16_t len = smb_rd_u16(r);
        smb_rd_skip(r, 4); /* Reserved */
        smb_rd d = smb_rd_sub(r, r->pos, len);
        smb_rd_skip(r, len);
        if (!smb_rd_ok(r))
            return;
        switch (type) {
        case SMB2_PREAUTH_INTEGRITY_CAPABILITIES:
            if (rsp->have_preauth)
                smb2_rd_fail(&d);
            rd_preauth(&d, rsp);
            break;
        case SMB2_ENCRYPTION_CAPABILITIES:
            if (rsp->have_cipher)
                smb2_rd_fail(&d);
            rsp->cipher = rd_single(&d);
            rsp->have_cipher = true;
            break;
        case SMB2_SIGNING_CAPABILITIES:
            if (rsp->have_signing)
                smb2_rd_fail(&d);
            rsp->signing_alg = rd_single(&d);
            rsp->have_signing = true;
            break;
        default:
            break;
        }
        if (!smb_rd_ok(&d))
            smb2_rd_fail(r);
    }
}

int smb2_negotiate_rsp_decode(smb_rd *r, smb2_negotiate_rsp *rsp)
{
    memset(rsp, 0, sizeof *rsp);
    size_t end = smb2_rd_body(r, 65);
    rsp->security_mode = smb_rd_u16(r);
    rsp->dialect = smb_rd_u16(r);
    uint16_t nctx = smb_rd_u16(r); /* NegotiateContextCount (3.1.1) */
    smb_rd_bytes(r, rsp->server_guid, 16);
    rsp->capabilities = smb_rd_u32(r);
    rsp->max_transact_size = smb_rd_u32(r);
    rsp->max_read_size = smb_rd_u32(r);
    rsp->max_write_size = smb_rd_u32(r);
    rsp->system_time = smb_rd_u64(r);
    rsp->server_start_time = smb_rd_u64(r);
    uint16_t sec_off = smb_rd_u16(r);
    uint16_t sec_len = smb_rd_u16(r);
    uint32_t ctx_off = smb_rd_u32(r); /* NegotiateContextOffset (3.1.1) */
    smb2_rd_buffer(r, end, sec_off, sec_len, &rsp->security_buffer);
    if (rsp->dialect == SMB2_DIALECT_311 && nctx > 0 && smb_rd_ok(r))
        rd_contexts(r, end, ctx_off, nctx, rsp);
    return smb2_rd_result(r);
}

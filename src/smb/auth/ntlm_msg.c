/*
 * NTLMSSP message encoding and decoding (MS-NLMP 2.2.1, 2.2.2).
 */
#include "ntlm_msg.h"

#include <string.h>

#include "error.h"
#include "ntlm_crypto.h"

static const uint8_t SIGNATURE[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

/* VERSION (MS-NLMP 2.2.2.10): product 10.0, build 0, NTLMSSP_REVISION_W2K3 (15). */
static const uint8_t VERSION[8] = {10, 0, 0, 0, 0, 0, 0, 0x0f};

void smb_ntlm_write_negotiate(smb_wr *w, uint32_t flags)
{
    /* MS-NLMP 2.2.1.1: no DomainName or Workstation, so both fields are empty. */
    smb_wr_bytes(w, SIGNATURE, 8);
    smb_wr_u32(w, NTLM_NEGOTIATE);
    smb_wr_u32(w, flags);
    for (int i = 0; i < 2; i++) {
        smb_wr_u16(w, 0);
        smb_wr_u16(w, 0);
        smb_wr_u32(w, NTLM_NEGOTIATE_LEN);
    }
    if (flags & NTLMSSP_NEGOTIATE_VERSION)
        smb_wr_bytes(w, VERSION, 8);
    else
        smb_wr_zero(w, 8);
}

/* Walk the AV pairs of TargetInfo (MS-NLMP 2.2.2.1), noting the ones the
 * client uses. Returns the length up to and including MsvAvEOL, or 0 when
 * the list is malformed. */
static size_t scan_av_pairs(smb_rd *ti, smb_ntlm_challenge *c)
{
    for (;;) {
        uint16_t id = smb_rd_u16(ti);
        uint16_t n = smb_rd_u16(ti);
        smb_rd v = smb_rd_sub(ti, ti->pos, n);
        smb_rd_skip(ti, n);
        if (!smb_rd_ok(ti))
            return 0;
        if (id == MSV_AV_EOL)
            return ti->pos;
        if (id == MSV_AV_TIMESTAMP && n == 8) {
            c->has_timestamp = true;
            c->timestamp = smb_rd_u64(&v);
        } else if (id == MSV_AV_FLAGS && n == 4) {
            c->has_av_flags = true;
            c->av_flags = smb_rd_u32(&v);
        }
    }
}

int smb_ntlm_parse_challenge(const uint8_t *msg, size_t len, smb_ntlm_challenge *c, smb_error *err)
{
    memset(c, 0, sizeof *c);
    smb_rd r;
    smb_rd_init(&r, msg, len);
    const uint8_t *sig = smb_rd_ptr(&r, 8);
    uint32_t type = smb_rd_u32(&r);
    if (!smb_rd_ok(&r) || memcmp(sig, SIGNATURE, 8) != 0 || type != NTLM_CHALLENGE)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server's NTLM token is not a CHALLENGE message");

    smb_rd_skip(&r, 8); /* TargetNameFields: not needed */
    c->flags = smb_rd_u32(&r);
    smb_rd_bytes(&r, c->server_challenge, 8);
    if (!smb_rd_ok(&r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "NTLM CHALLENGE message truncated (%zu bytes)", len);

    /* Reserved and TargetInfoFields follow in every server since NT4 SP4;
     * a 32-byte message simply has no target information. */
    if (smb_rd_left(&r) < 16) {
        if (c->flags & NTLMSSP_NEGOTIATE_TARGET_INFO)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "NTLM CHALLENGE message truncated (%zu bytes)", len);
        return 0;
    }
    smb_rd_skip(&r, 8);
    uint16_t ti_len = smb_rd_u16(&r);
    smb_rd_skip(&r, 2);
    uint32_t ti_off = smb_rd_u32(&r);
    if (ti_len == 0)
        return 0;
    smb_rd ti = smb_rd_sub(&r, ti_off, ti_len);
    if (!smb_rd_ok(&r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "NTLM CHALLENGE TargetInfo (offset %u, length %u) lies outside the message",
                           (unsigned)ti_off, (unsigned)ti_len);
    size_t used = scan_av_pairs(&ti, c);
    if (used == 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "NTLM CHALLENGE TargetInfo holds a malformed AV pair list");
    c->target_info = ti.base;
    c->target_info_len = used;
    return 0;
}

/* Append one AV pair. */
static void put_av(smb_wr *w, uint16_t id, const void *val, size_t n)
{
    if (n > UINT16_MAX) {
        w->err = true;
        return;
    }
    smb_wr_u16(w, id);
    smb_wr_u16(w, (uint16_t)n);
    smb_wr_bytes(w, val, n);
}

void smb_ntlm_write_client_av_pairs(smb_wr *w, const smb_ntlm_challenge *c, uint32_t add_flags,
                                    const uint8_t *spn16, size_t spn_len)
{
    bool flags_done = false;
    smb_rd ti;
    smb_rd_init(&ti, c->target_info, c->target_info_len);
    while (smb_rd_left(&ti) >= 4) {
        uint16_t id = smb_rd_u16(&ti);
        uint16_t n = smb_rd_u16(&ti);
        const uint8_t *v = smb_rd_ptr(&ti, n);
        if (!v || id == MSV_AV_EOL)
            break;
        if (id == MSV_AV_FLAGS && n == 4 && !flags_done) {
            uint8_t f[4];
            smb_put32(f, smb_le32(v) | add_flags);
            put_av(w, id, f, 4);
            flags_done = true;
        } else if (!(id == MSV_AV_TARGET_NAME && spn_len > 0)) {
            put_av(w, id, v, n);
        }
    }
    if (!flags_done && add_flags) {
        uint8_t f[4];
        smb_put32(f, add_flags);
        put_av(w, MSV_AV_FLAGS, f, 4);
    }
    if (spn_len > 0)
        put_av(w, MSV_AV_TARGET_NAME, spn16, spn_len);
    put_av(w, MSV_AV_EOL, NULL, 0);
}

/* Write one (Len, MaxLen, BufferOffset) field and advance *off. */
static void put_field(smb_wr *w, size_t len, size_t *off)
{
    if (len > UINT16_MAX || *off > UINT32_MAX - len) {
        w->err = true;
        return;
    }
    smb_wr_u16(w, (uint16_t)len);
    smb_wr_u16(w, (uint16_t)len);
    smb_wr_u32(w, (uint32_t)*off);
    *off += len;
}

void smb_ntlm_write_authenticate(smb_wr *w, const smb_ntlm_auth_fields *f)
{
    size_t off = NTLM_MIC_OFFSET + NTLM_MIC_LEN;
    smb_wr_bytes(w, SIGNATURE, 8);
    smb_wr_u32(w, NTLM_AUTHENTICATE);
    /* Field order of MS-NLMP 2.2.1.3; payload order domain, user,
     * workstation, LM, NT, key as Windows sends it. */
    size_t o_domain = off, o_user = o_domain + f->domain_len, o_ws = o_user + f->user_len;
    size_t o_lm = o_ws + f->workstation_len, o_nt = o_lm + f->lm_len, o_key = o_nt + f->nt_len;
    put_field(w, f->lm_len, &o_lm);
    put_field(w, f->nt_len, &o_nt);
    put_field(w, f->domain_len, &o_domain);
    put_field(w, f->user_len, &o_user);
    put_field(w, f->workstation_len, &o_ws);
    put_field(w, f->enc_key_len, &o_key);
    smb_wr_u32(w, f->flags);
    if (f->flags & NTLMSSP_NEGOTIATE_VERSION)
        smb_wr_bytes(w, VERSION, 8);
    else
        smb_wr_zero(w, 8);
    smb_wr_zero(w, NTLM_MIC_LEN);
    smb_wr_bytes(w, f->domain, f->domain_len);
    smb_wr_bytes(w, f->user, f->user_len);
    smb_wr_bytes(w, f->workstation, f->workstation_len);
    smb_wr_bytes(w, f->lm, f->lm_len);
    smb_wr_bytes(w, f->nt, f->nt_len);
    smb_wr_bytes(w, f->enc_key, f->enc_key_len);
}

/*
 * The hostile server's NEGOTIATE (MS-SMB2 3.3.5.4) and SESSION_SETUP
 * (3.3.5.5): SMB 3.1.1 only, with the preauth integrity hash, an NTLMv2
 * acceptor inside SPNEGO (MS-NLMP 3.2.5, MS-SPNG) and the session's keys
 * (MS-SMB2 3.3.5.5.3). The CHALLENGE carries no MsvAvTimestamp, so the
 * client sends no NTLM MIC and does not require the server's mechListMIC:
 * the final SPNEGO token is a bare accept-completed.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/asn1.h"
#include "auth/ntlm_crypto.h"
#include "common/random.h"
#include "crypto.h"
#include "hs.h"

static const uint8_t NTLM_OID[10] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
static const uint8_t SERVER_GUID[16] = {'h', 'o', 's', 't', 'i', 'l', 'e', '-', 's', 'm', 'b', 'd', 0, 0, 0, 1};

static void preauth(uint8_t hash[64], const uint8_t *msg, size_t len)
{
    smb_iov iov = {msg, len};
    smb_preauth_update(hash, &iov, 1);
}

/* One negotiate context (MS-SMB2 2.2.3.1), 8-aligned. */
static void put_ctx(smb_wr *w, uint16_t type, const void *data, uint16_t len)
{
    smb_wr_align(w, 8);
    smb_wr_u16(w, type);
    smb_wr_u16(w, len);
    smb_wr_u32(w, 0);
    smb_wr_bytes(w, data, len);
}

bool hs_negotiate(hs_conn *c, const hs_req *req)
{
    /* Only 3.1.1: it is the client's default and brings preauth, negotiated ciphers and signing. */
    smb_rd r = hs_req_at(req, 2);
    uint16_t ndialects = smb_rd_u16(&r);
    smb_rd_seek(&r, 64 + 36);
    bool has311 = false;
    for (uint16_t i = 0; i < ndialects && smb_rd_ok(&r); i++)
        has311 |= smb_rd_u16(&r) == SMB_DIALECT_3_1_1;

    smb_wr w;
    hs_rsp_begin(&w, c, req, has311 ? HS_STATUS_SUCCESS : HS_STATUS_NOT_SUPPORTED);
    if (!has311) {
        hs_error_body(&w);
        return hs_send(c, req, &w, false);
    }
    preauth(c->preauth, req->msg, req->len);
    smb_wr_u16(&w, 65); /* StructureSize (MS-SMB2 2.2.4) */
    smb_wr_u16(&w, SMB2_NEGOTIATE_SIGNING_ENABLED | (hs_modes[c->mode].sign ? SMB2_NEGOTIATE_SIGNING_REQUIRED : 0));
    smb_wr_u16(&w, SMB_DIALECT_3_1_1);
    smb_wr_u16(&w, 3); /* NegotiateContextCount */
    smb_wr_bytes(&w, SERVER_GUID, 16);
    smb_wr_u32(&w, SMB2_GLOBAL_CAP_LARGE_MTU);
    smb_wr_u32(&w, HS_MAX_IO); /* MaxTransactSize */
    smb_wr_u32(&w, HS_MAX_IO); /* MaxReadSize */
    smb_wr_u32(&w, HS_MAX_IO); /* MaxWriteSize */
    smb_wr_u64(&w, 133000000000000000ull);
    smb_wr_u64(&w, 0);
    if (c->mode == HS_NEG_SECBUF_OOB) {
        smb_wr_u16(&w, 128);  /* SecurityBufferOffset: right after the fixed part... */
        smb_wr_u16(&w, 4000); /* ...but far longer than the frame */
    } else {
        smb_wr_u16(&w, 128);
        smb_wr_u16(&w, 0);
    }
    size_t ctx_off = smb_wr_reserve(&w, 4);
    smb_wr_align(&w, 8);
    smb_wr_put_u32(&w, ctx_off, (uint32_t)w.len);
    uint8_t pre[38] = {1, 0, 32, 0, SMB2_PREAUTH_SHA512, 0}; /* one SHA-512, a 32-byte salt */
    smb_random(pre + 6, 32);
    put_ctx(&w, SMB2_PREAUTH_INTEGRITY_CAPABILITIES, pre, sizeof pre);
    uint8_t cipher[4] = {1, 0, SMB_CIPHER_AES_128_GCM, 0};
    put_ctx(&w, SMB2_ENCRYPTION_CAPABILITIES, cipher, sizeof cipher);
    uint8_t signing[4] = {1, 0, SMB_SIGN_AES_CMAC, 0};
    put_ctx(&w, SMB2_SIGNING_CAPABILITIES, signing, sizeof signing);
    if (smb_wr_ok(&w))
        preauth(c->preauth, w.buf, w.len);
    return hs_send(c, req, &w, false);
}

/* The NTLM message inside the client's SPNEGO token: found by its signature
 * (NegTokenInit's mechToken, or NegTokenResp's responseToken); its own
 * offsets bound it, so what follows does not matter. */
static const uint8_t *find_ntlm(const uint8_t *p, size_t len, size_t *out_len)
{
    for (size_t i = 0; i + 12 <= len; i++)
        if (memcmp(p + i, "NTLMSSP", 8) == 0) {
            *out_len = len - i;
            return p + i;
        }
    return NULL;
}

/* A NegTokenResp (RFC 4178 4.2.2): negState, supportedMech (first reply), responseToken. */
static void put_negtoken_resp(smb_wr *w, uint32_t state, bool mech, const uint8_t *tok, size_t tok_len)
{
    size_t choice = smb_asn1_begin(w, SMB_ASN1_CONTEXT(1));
    size_t seq = smb_asn1_begin(w, SMB_ASN1_SEQUENCE);
    size_t f0 = smb_asn1_begin(w, SMB_ASN1_CONTEXT(0));
    smb_asn1_put_uint(w, SMB_ASN1_ENUMERATED, state);
    smb_asn1_end(w, f0);
    if (mech) {
        size_t f1 = smb_asn1_begin(w, SMB_ASN1_CONTEXT(1));
        smb_asn1_put(w, SMB_ASN1_OID, NTLM_OID, sizeof NTLM_OID);
        smb_asn1_end(w, f1);
    }
    if (tok_len) {
        size_t f2 = smb_asn1_begin(w, SMB_ASN1_CONTEXT(2));
        smb_asn1_put(w, SMB_ASN1_OCTET_STRING, tok, tok_len);
        smb_asn1_end(w, f2);
    }
    smb_asn1_end(w, seq);
    smb_asn1_end(w, choice);
}

static void put_utf16(smb_wr *w, const char *s)
{
    for (; *s; s++)
        smb_wr_u16(w, (uint8_t)*s);
}

/* CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2) with a target name and a TargetInfo of names only. */
static void put_challenge(smb_wr *w, const uint8_t challenge[8])
{
    const uint32_t flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_SIGN |
                           NTLMSSP_NEGOTIATE_NTLM | NTLMSSP_NEGOTIATE_ALWAYS_SIGN | 0x00010000u /* TARGET_TYPE_DOMAIN */ |
                           NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_TARGET_INFO |
                           NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_KEY_EXCH |
                           NTLMSSP_NEGOTIATE_56;
    static const char name[] = "HOSTILE";
    const uint16_t name_len = 2 * (sizeof name - 1);
    const uint16_t ti_len = 2 * (4 + name_len) + 4;
    smb_wr_bytes(w, "NTLMSSP", 8);
    smb_wr_u32(w, 2);
    smb_wr_u16(w, name_len);
    smb_wr_u16(w, name_len);
    smb_wr_u32(w, 56);
    smb_wr_u32(w, flags);
    smb_wr_bytes(w, challenge, 8);
    smb_wr_zero(w, 8);
    smb_wr_u16(w, ti_len);
    smb_wr_u16(w, ti_len);
    smb_wr_u32(w, 56 + name_len);
    static const uint8_t version[8] = {10, 0, 0x61, 0x4a, 0, 0, 0, 15};
    smb_wr_bytes(w, version, 8);
    put_utf16(w, name);
    for (int id = 2; id >= 1; id--) { /* MsvAvNbDomainName, MsvAvNbComputerName */
        smb_wr_u16(w, (uint16_t)id);
        smb_wr_u16(w, name_len);
        put_utf16(w, name);
    }
    smb_wr_u32(w, 0); /* MsvAvEOL */
}

/* One (Len, MaxLen, Offset) field of an NTLM message. */
static const uint8_t *ntlm_field(const uint8_t *m, size_t len, size_t at, size_t *flen)
{
    if (at + 8 > len)
        return NULL;
    size_t n = smb_le16(m + at), off = smb_le32(m + at + 4);
    if (off > len || n > len - off)
        return NULL;
    *flen = n;
    return m + off;
}

/*
 * AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3): check the NTLMv2 response against
 * the test password (MS-NLMP 3.3.2) and produce the session key: the
 * SessionBaseKey, or with KEY_EXCH the RC4 of EncryptedRandomSessionKey
 * under it (3.2.5.1.2, 3.4.5.1).
 */
static bool check_authenticate(const hs_conn *c, const uint8_t *m, size_t len, uint8_t key[16])
{
    size_t nt_len = 0, dom_len = 0, user_len = 0, ek_len = 0;
    const uint8_t *nt = ntlm_field(m, len, 20, &nt_len);
    const uint8_t *dom = ntlm_field(m, len, 28, &dom_len);
    const uint8_t *user = ntlm_field(m, len, 36, &user_len);
    const uint8_t *ek = ntlm_field(m, len, 52, &ek_len);
    if (!nt || !dom || !user || !ek || len < 64 || nt_len < 16 + 28 || user_len > 256 || smb_le32(m + 8) != 3)
        return false;
    uint32_t flags = smb_le32(m + 60);
    uint8_t pw16[64], up[256], hash[16], owf[16], proof[16], base[16];
    size_t pn = 0;
    for (const char *p = HS_PASSWORD; *p; p++, pn += 2)
        smb_put16(pw16 + pn, (uint8_t)*p);
    smb_ntlm_nt_hash(pw16, pn, hash);
    for (size_t i = 0; i + 1 < user_len; i += 2) {
        uint16_t ch = smb_le16(user + i);
        smb_put16(up + i, ch >= 'a' && ch <= 'z' ? (uint16_t)(ch - 32) : ch);
    }
    if (smb_ntlm_ntowfv2(hash, up, user_len, dom, dom_len, owf) != 0 ||
        smb_ntlm_v2_proof(owf, c->challenge, nt + 16, nt_len - 16, proof, base) != 0 ||
        !smb_auth_ct_equal(proof, nt, 16))
        return false;
    if ((flags & NTLMSSP_NEGOTIATE_KEY_EXCH) && ek_len == 16)
        smb_rc4k(base, ek, key, 16);
    else
        memcpy(key, base, 16);
    return true;
}

/* Keys of MS-SMB2 3.3.5.5.3 for 3.1.1: KDF(SessionKey, label, PreauthIntegrityHashValue). */
static void derive_keys(hs_conn *c, const uint8_t key[16])
{
    smb_kdf(key, 16, "SMBSigningKey", 14, c->sess_preauth, 64, c->sign_key, 16);
    smb_kdf(key, 16, "SMBC2SCipherKey", 16, c->sess_preauth, 64, c->c2s_key, 16);
    smb_kdf(key, 16, "SMBS2CCipherKey", 16, c->sess_preauth, 64, c->s2c_key, 16);
    c->keyed = true;
}

bool hs_session_setup(hs_conn *c, const hs_req *req)
{
    smb_rd r = hs_req_at(req, 12);
    uint16_t off = smb_rd_u16(&r), len = smb_rd_u16(&r);
    smb_rd tok = smb_rd_sub(&r, off, len);
    size_t ntlm_len = 0;
    const uint8_t *ntlm = smb_rd_ok(&r) ? find_ntlm(tok.base, tok.len, &ntlm_len) : NULL;
    uint32_t type = ntlm && ntlm_len >= 12 ? smb_le32(ntlm + 8) : 0;

    if (type == 1) { /* NEGOTIATE_MESSAGE: answer with a CHALLENGE */
        if (!c->session_id)
            c->session_id = 0x0000100000000041ull;
        memcpy(c->sess_preauth, c->preauth, 64);
        preauth(c->sess_preauth, req->msg, req->len);
        smb_random(c->challenge, 8);
        smb_wr ch, spn;
        smb_wr_init_grow(&ch, 256);
        put_challenge(&ch, c->challenge);
        smb_wr_init_grow(&spn, 512);
        put_negtoken_resp(&spn, 1 /* accept-incomplete */, true, ch.buf, ch.len);
        smb_wr w;
        hs_rsp_begin(&w, c, req, HS_STATUS_MORE_PROCESSING);
        smb_put64(w.buf + 40, c->session_id);
        smb_wr_u16(&w, 9); /* StructureSize (MS-SMB2 2.2.6) */
        smb_wr_u16(&w, 0); /* SessionFlags */
        smb_wr_u16(&w, 72);
        smb_wr_u16(&w, c->mode == HS_SETUP_SECBUF_OOB ? (uint16_t)(spn.len + 3000) : (uint16_t)spn.len);
        smb_wr_bytes(&w, spn.buf, spn.len);
        smb_wr_free(&ch);
        smb_wr_free(&spn);
        if (smb_wr_ok(&w))
            preauth(c->sess_preauth, w.buf, w.len);
        return hs_send(c, req, &w, false);
    }

    uint8_t key[16];
    smb_wr w;
    if (type != 3 || !check_authenticate(c, ntlm, ntlm_len, key)) {
        hs_rsp_begin(&w, c, req, HS_STATUS_LOGON_FAILURE);
        hs_error_body(&w);
        return hs_send(c, req, &w, false);
    }
    preauth(c->sess_preauth, req->msg, req->len);
    derive_keys(c, key);
    smb_wr spn;
    smb_wr_init_grow(&spn, 64);
    put_negtoken_resp(&spn, 0 /* accept-completed */, false, NULL, 0);
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 9);
    smb_wr_u16(&w, hs_modes[c->mode].encrypt ? SMB2_SESSION_FLAG_ENCRYPT_DATA : 0);
    smb_wr_u16(&w, 72);
    smb_wr_u16(&w, (uint16_t)spn.len);
    smb_wr_bytes(&w, spn.buf, spn.len);
    smb_wr_free(&spn);
    c->encrypt = hs_modes[c->mode].encrypt;
    /* The final response is signed: it seals the preauth hash (MS-SMB2 3.3.5.5.3). */
    return hs_send(c, req, &w, true);
}

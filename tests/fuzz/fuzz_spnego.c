/*
 * Fuzz target: the client's SPNEGO exchange (RFC 4178 4.2, MS-SPNG 3.1.5)
 * with the NTLM mechanism, fed by the server. The input is a list of
 * chunks, each a 2-byte little-endian length and that many bytes: the
 * first is the NEGOTIATE response's security buffer (the NegTokenInit2
 * hint), each further one a SESSION_SETUP response's security buffer
 * (NegTokenResp carrying the NTLM CHALLENGE, then the final one with its
 * mechListMIC), in order. Every chunk is also checked as DER.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/asn1.h"
#include "auth/auth.h"
#include "common/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fixed_random(void *buf, size_t n, void *arg)
{
    (void)arg;
    memset(buf, 0xa5, n);
    return 0;
}

static uint64_t fixed_now(void *arg)
{
    (void)arg;
    return 133000000000000000ull;
}

/* The next chunk of r, or false at the end (a short last chunk is what is left). */
static bool next_chunk(smb_rd *r, const uint8_t **p, size_t *n)
{
    if (smb_rd_left(r) < 2)
        return false;
    size_t want = smb_rd_u16(r);
    *n = want < smb_rd_left(r) ? want : smb_rd_left(r);
    *p = smb_rd_ptr(r, *n);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smb_rd r;
    smb_rd_init(&r, data, size);
    const uint8_t *hint = NULL;
    size_t hint_len = 0;
    if (!next_chunk(&r, &hint, &hint_len))
        return 0;
    (void)smb_asn1_valid(hint, hint_len, SMB_ASN1_MAX_DEPTH);

    smb_auth_params params = {.user = "user", .domain = "DOMAIN", .password = "password",
                              .workstation = "WS", .mech_policy = SMB_AUTH_NTLM,
                              .random = fixed_random, .now = fixed_now};
    const smb_mech_entry mechs[] = {{&smb_mech_ntlm, smb_ntlm_new}};
    smb_error err;
    smb_spnego *sp = smb_spnego_new_with(&params, mechs, 1, hint, hint_len, &err);
    if (!sp)
        return 0;
    smb_buf out = {0};
    int rc = smb_spnego_step(sp, NULL, 0, &out, &err);
    free(out.data);
    const uint8_t *tok;
    size_t tok_len;
    while (rc == SMB_AUTH_CONTINUE && next_chunk(&r, &tok, &tok_len)) {
        (void)smb_asn1_valid(tok, tok_len, SMB_ASN1_MAX_DEPTH);
        out = (smb_buf){0};
        rc = smb_spnego_step(sp, tok, tok_len, &out, &err);
        free(out.data);
    }
    if (rc == SMB_AUTH_DONE) {
        uint8_t key[64];
        size_t key_len;
        (void)smb_spnego_session_key(sp, key, sizeof key, &key_len);
        (void)smb_spnego_mech_name(sp);
    }
    smb_spnego_free(sp);
    return 0;
}

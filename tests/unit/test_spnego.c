/*
 * SPNEGO: our NegTokenInit decoded back, exchanges against a scripted
 * server (NTLM with mechListMIC both ways, each negState, mechanism
 * switch), the server's hint, and malformed or truncated tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/asn1.h"
#include "auth/auth.h"
#include "auth/ntlm_crypto.h"
#include "auth/ntlm_msg.h"
#include "auth/spnego_token.h"
#include "common/wire.h"
#include "auth_test_util.h"

static const uint8_t NTLM_OID[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
static const uint8_t KRB5_OID[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t MSKRB5_OID[] = {0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02};
static const uint8_t NEGOEX_OID[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x1e};
static const uint8_t SC[8] = {1, 2, 3, 4, 5, 6, 7, 8};

/* ------------------------------------------------------------ helpers */

static int test_random(void *buf, size_t n, void *arg)
{
    (void)arg;
    uint8_t *p = buf;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(0x31 * i + n);
    return 0;
}

static smb_auth_params params(void)
{
    return (smb_auth_params){.user = "bob", .domain = "DOM", .password = "pw", .random = test_random};
}

/* A CHALLENGE with (or without) MsvAvTimestamp. */
static size_t challenge(uint8_t *out, size_t cap, bool timestamp)
{
    uint8_t ti[64];
    smb_wr t;
    smb_wr_init(&t, ti, sizeof ti);
    smb_wr_u16(&t, MSV_AV_NB_COMPUTER_NAME);
    smb_wr_u16(&t, 4);
    smb_wr_bytes(&t, "S\0V\0", 4);
    if (timestamp) {
        smb_wr_u16(&t, MSV_AV_TIMESTAMP);
        smb_wr_u16(&t, 8);
        smb_wr_u64(&t, 0x01d8aabbccddeeffull);
    }
    smb_wr_u32(&t, 0);
    smb_wr w;
    smb_wr_init(&w, out, cap);
    smb_wr_bytes(&w, "NTLMSSP", 8);
    smb_wr_u32(&w, NTLM_CHALLENGE);
    smb_wr_zero(&w, 4);
    smb_wr_u32(&w, 48);
    smb_wr_u32(&w, 0xe28a8215u);
    smb_wr_bytes(&w, SC, 8);
    smb_wr_zero(&w, 8);
    smb_wr_u16(&w, (uint16_t)t.len);
    smb_wr_u16(&w, (uint16_t)t.len);
    smb_wr_u32(&w, 48);
    smb_wr_bytes(&w, ti, t.len);
    assert_true(smb_wr_ok(&w) && smb_wr_ok(&t));
    return w.len;
}

/* A server NegTokenResp; neg_state < 0 leaves negState out. */
static size_t server_resp(uint8_t *out, size_t cap, int neg_state, const uint8_t *mech, size_t mech_len,
                          const uint8_t *tok, size_t tok_len, const uint8_t *mic, size_t mic_len)
{
    smb_wr w;
    smb_wr_init(&w, out, cap);
    size_t a1 = smb_asn1_begin(&w, SMB_ASN1_CONTEXT(1));
    size_t seq = smb_asn1_begin(&w, SMB_ASN1_SEQUENCE);
    if (neg_state >= 0) {
        size_t f = smb_asn1_begin(&w, SMB_ASN1_CONTEXT(0));
        smb_asn1_put_uint(&w, SMB_ASN1_ENUMERATED, (uint32_t)neg_state);
        smb_asn1_end(&w, f);
    }
    if (mech) {
        size_t f = smb_asn1_begin(&w, SMB_ASN1_CONTEXT(1));
        smb_asn1_put(&w, SMB_ASN1_OID, mech, mech_len);
        smb_asn1_end(&w, f);
    }
    if (tok) {
        size_t f = smb_asn1_begin(&w, SMB_ASN1_CONTEXT(2));
        smb_asn1_put(&w, SMB_ASN1_OCTET_STRING, tok, tok_len);
        smb_asn1_end(&w, f);
    }
    if (mic) {
        size_t f = smb_asn1_begin(&w, SMB_ASN1_CONTEXT(3));
        smb_asn1_put(&w, SMB_ASN1_OCTET_STRING, mic, mic_len);
        smb_asn1_end(&w, f);
    }
    smb_asn1_end(&w, seq);
    smb_asn1_end(&w, a1);
    assert_true(smb_wr_ok(&w));
    return w.len;
}

/* The server's view of a finished exchange: the exported key and flags
 * recovered from the AUTHENTICATE with the known password (bob/DOM/pw). */
typedef struct server_view {
    uint8_t exported[16];
    uint32_t flags;
} server_view;

static void server_keys(const uint8_t *auth, size_t len, server_view *sv)
{
    smb_rd r, f[6];
    smb_rd_init(&r, auth, len);
    smb_rd_skip(&r, 12);
    for (int i = 0; i < 6; i++) {
        uint16_t l = smb_rd_u16(&r);
        smb_rd_u16(&r);
        f[i] = smb_rd_sub(&r, smb_rd_u32(&r), l);
    }
    sv->flags = smb_rd_u32(&r);
    assert_true(smb_rd_ok(&r));
    uint8_t pw[8], user[8], dom[8], nt[16], key[16], proof[16], base[16];
    smb_ntlm_nt_hash(pw, u16("pw", pw), nt);
    size_t ul = u16("BOB", user), dl = u16("DOM", dom);
    assert_int_equal(smb_ntlm_ntowfv2(nt, user, ul, dom, dl, key), 0);
    assert_true(f[1].len > 16);
    assert_int_equal(smb_ntlm_v2_proof(key, SC, f[1].base + 16, f[1].len - 16, proof, base), 0);
    assert_memory_equal(proof, f[1].base, 16);
    assert_int_equal(f[5].len, 16);
    smb_rc4k(base, f[5].base, sv->exported, 16);
}

/* NTLM mechListMIC by one side: client or server keys, sequence 0. */
static void ntlm_mic(const server_view *sv, bool client, const smb_der_bytes *msg, uint8_t out[16])
{
    uint8_t sign[16], seal[16];
    smb_rc4 rc4;
    smb_ntlm_sign_key(sv->exported, client, sign);
    smb_ntlm_seal_key(sv->exported, sv->flags, client, seal);
    smb_rc4_init(&rc4, seal, 16);
    assert_int_equal(smb_ntlm_mac(sign, &rc4, 0, msg->p, msg->len, out), 0);
}

/* A scripted exchange up to the client's AUTHENTICATE. */
typedef struct run {
    smb_spnego *s;
    smb_buf init;         /* our NegTokenInit */
    smb_negtoken_init ti; /* ... decoded */
    smb_buf last;         /* our NegTokenResp with AUTHENTICATE */
    smb_negtoken_resp lr; /* ... decoded */
    server_view sv;
} run;

static void run_to_auth(run *x, int first_state, bool timestamp)
{
    smb_error err = {0};
    smb_auth_params p = params();
    memset(x, 0, sizeof *x);
    x->s = smb_spnego_new(&p, NULL, 0, &err);
    assert_non_null(x->s);
    assert_int_equal(smb_spnego_step(x->s, NULL, 0, &x->init, &err), SMB_AUTH_CONTINUE);
    assert_int_equal(smb_spnego_parse_init(x->init.data, x->init.len, &x->ti, &err), 0);

    uint8_t chal[256], resp[512];
    size_t cl = challenge(chal, sizeof chal, timestamp);
    size_t rl = server_resp(resp, sizeof resp, first_state, NTLM_OID, sizeof NTLM_OID, chal, cl, NULL, 0);
    assert_int_equal(smb_spnego_step(x->s, resp, rl, &x->last, &err), SMB_AUTH_CONTINUE);
    assert_int_equal(smb_spnego_parse_resp(x->last.data, x->last.len, &x->lr, &err), 0);
    assert_true(x->lr.has_token);
    assert_int_equal(x->lr.neg_state, SPNEGO_NO_STATE);
    server_keys(x->lr.token.p, x->lr.token.len, &x->sv);
}

static void run_free(run *x)
{
    free(x->init.data);
    free(x->last.data);
    smb_spnego_free(x->s);
}

/* Feed the server's final token; returns the step's result. */
static int finish(run *x, int state, bool with_mic, bool corrupt, smb_error *err)
{
    uint8_t mic[16], resp[128];
    ntlm_mic(&x->sv, false, &x->ti.mech_types, mic);
    if (corrupt)
        mic[15] ^= 0x80;
    size_t rl = server_resp(resp, sizeof resp, state, NULL, 0, NULL, 0, with_mic ? mic : NULL, 16);
    smb_buf out = {0};
    int rc = smb_spnego_step(x->s, resp, rl, &out, err);
    assert_null(out.data);
    return rc;
}

/* ------------------------------------------------------------ tokens */

static void test_init_token(void **state)
{
    (void)state;
    smb_error err = {0};
    smb_auth_params p = params();
    smb_spnego *s = smb_spnego_new(&p, NULL, 0, &err);
    assert_non_null(s);
    assert_string_equal(smb_spnego_mech_name(s), "NTLM");
    smb_buf out = {0};
    assert_int_equal(smb_spnego_step(s, NULL, 0, &out, &err), SMB_AUTH_CONTINUE);

    /* Walk it with the DER reader: RFC 2743 3.1 framing, RFC 4178 4.2.1. */
    smb_rd r, app, oid, a0, seq, f0, list, o, f2, tok;
    smb_rd_init(&r, out.data, out.len);
    assert_true(smb_asn1_valid(out.data, out.len, SMB_ASN1_MAX_DEPTH));
    assert_true(smb_asn1_expect(&r, SMB_ASN1_APPLICATION(0), &app));
    assert_int_equal(smb_rd_left(&r), 0);
    assert_true(smb_asn1_expect(&app, SMB_ASN1_OID, &oid));
    char text[64];
    assert_true(smb_asn1_oid_str(oid.base, oid.len, text, sizeof text));
    assert_string_equal(text, "1.3.6.1.5.5.2");
    assert_true(smb_asn1_expect(&app, SMB_ASN1_CONTEXT(0), &a0));
    assert_true(smb_asn1_expect(&a0, SMB_ASN1_SEQUENCE, &seq));
    assert_true(smb_asn1_expect(&seq, SMB_ASN1_CONTEXT(0), &f0));
    assert_true(smb_asn1_expect(&f0, SMB_ASN1_SEQUENCE, &list));
    assert_true(smb_asn1_expect(&list, SMB_ASN1_OID, &o));
    assert_int_equal(smb_rd_left(&list), 0);
    assert_true(smb_asn1_oid_str(o.base, o.len, text, sizeof text));
    assert_string_equal(text, "1.3.6.1.4.1.311.2.2.10");
    assert_true(smb_asn1_expect(&seq, SMB_ASN1_CONTEXT(2), &f2));
    assert_true(smb_asn1_expect(&f2, SMB_ASN1_OCTET_STRING, &tok));
    assert_int_equal(smb_rd_left(&seq), 0);
    assert_int_equal(tok.len, NTLM_NEGOTIATE_LEN);
    assert_memory_equal(tok.base, "NTLMSSP\0\x01\0\0\0", 12);

    /* And with the token parser. */
    smb_negtoken_init t;
    assert_int_equal(smb_spnego_parse_init(out.data, out.len, &t, &err), 0);
    assert_int_equal(t.n_oids, 1);
    assert_memory_equal(t.oids[0].p, NTLM_OID, sizeof NTLM_OID);
    assert_true(t.has_token);
    assert_int_equal(t.token.len, NTLM_NEGOTIATE_LEN);
    assert_memory_equal(t.mech_types.p, "\x30\x0c\x06\x0a", 4);
    assert_int_equal(t.mech_types.len, 14);

    /* Our first token cannot follow a server token. */
    smb_spnego *s2 = smb_spnego_new(&p, NULL, 0, &err);
    smb_buf o2 = {0};
    assert_int_equal(smb_spnego_step(s2, out.data, out.len, &o2, &err), SMB_ERR_PROTOCOL);
    smb_spnego_free(s2);
    free(out.data);
    smb_spnego_free(s);
}

static void test_policies(void **state)
{
    (void)state;
    smb_error err = {0};
    smb_auth_params p = params();
    /* Kerberos alone with no realm, no ticket: a clear failure at the first step. */
    setenv("KRB5_CONFIG", "/dev/null", 1);
    setenv("KRB5CCNAME", "FILE:/nonexistent/smbcopy-test-ccache", 1);
    unsetenv("KRB5_CLIENT_KTNAME");
    p.mech_policy = SMB_AUTH_KERBEROS;
    p.password = "";
    smb_spnego *k = smb_spnego_new(&p, NULL, 0, &err);
    assert_non_null(k);
    smb_buf kout = {0};
    assert_int_equal(smb_spnego_step(k, NULL, 0, &kout, &err), SMB_ERR_AUTH);
    assert_non_null(strstr(err.message, "Kerberos"));
    assert_non_null(strstr(err.message, "kinit"));
    free(kout.data);
    smb_spnego_free(k);
    /* Automatic choice without Kerberos credentials: NTLM, as before. */
    p.mech_policy = SMB_AUTH_AUTO;
    k = smb_spnego_new(&p, NULL, 0, &err);
    assert_non_null(k);
    assert_int_equal(smb_spnego_step(k, NULL, 0, &kout, &err), SMB_AUTH_CONTINUE);
    assert_non_null(memmem(kout.data, kout.len, "NTLMSSP", 8));
    free(kout.data);
    smb_spnego_free(k);
    p = params();
    p.mech_policy = 77;
    assert_null(smb_spnego_new(&p, NULL, 0, &err));
    assert_int_equal(err.code, SMB_ERR_INVALID_ARG);
    p.mech_policy = SMB_AUTH_NTLM;
    smb_spnego *s = smb_spnego_new(&p, NULL, 0, &err);
    assert_non_null(s);
    smb_spnego_free(s);
    smb_spnego_free(NULL);
}

/* ------------------------------------------------------------ exchanges */

static void test_exchange_with_mic(void **state)
{
    (void)state;
    run x;
    run_to_auth(&x, SPNEGO_ACCEPT_INCOMPLETE, true);
    /* Our mechListMIC: NTLM signature with client keys over the MechTypeList DER. */
    assert_true(x.lr.has_mic);
    uint8_t want[16];
    ntlm_mic(&x.sv, true, &x.ti.mech_types, want);
    assert_int_equal(x.lr.mic.len, 16);
    assert_memory_equal(x.lr.mic.p, want, 16);

    uint8_t key[16];
    size_t kl = 0;
    assert_int_not_equal(smb_spnego_session_key(x.s, key, sizeof key, &kl), 0); /* not yet */
    smb_error err = {0};
    assert_int_equal(finish(&x, SPNEGO_ACCEPT_COMPLETED, true, false, &err), SMB_AUTH_DONE);
    assert_int_equal(smb_spnego_session_key(x.s, key, sizeof key, &kl), 0);
    assert_int_equal(kl, 16);
    assert_memory_equal(key, x.sv.exported, 16);
    /* Nothing more after DONE. */
    smb_buf out = {0};
    assert_int_equal(smb_spnego_step(x.s, NULL, 0, &out, &err), SMB_ERR_PROTOCOL);
    run_free(&x);
}

static void test_final_bad_mic(void **state)
{
    (void)state;
    run x;
    run_to_auth(&x, SPNEGO_ACCEPT_INCOMPLETE, true);
    smb_error err = {0};
    assert_int_equal(finish(&x, SPNEGO_ACCEPT_COMPLETED, true, true, &err), SMB_ERR_AUTH);
    assert_non_null(strstr(err.message, "mechListMIC"));
    uint8_t key[16];
    size_t kl;
    assert_int_not_equal(smb_spnego_session_key(x.s, key, sizeof key, &kl), 0);
    /* The context stays failed. */
    smb_buf out = {0};
    assert_int_equal(smb_spnego_step(x.s, NULL, 0, &out, &err), SMB_ERR_AUTH);
    run_free(&x);
}

static void test_final_without_mic(void **state)
{
    (void)state;
    smb_error err = {0};
    run x;
    /* Our only (so preferred) mechanism was chosen: a missing server MIC is tolerated. */
    run_to_auth(&x, SPNEGO_ACCEPT_INCOMPLETE, true);
    assert_int_equal(finish(&x, SPNEGO_ACCEPT_COMPLETED, false, false, &err), SMB_AUTH_DONE);
    run_free(&x);
    /* Also an empty final security buffer, and a final token without negState. */
    run_to_auth(&x, SPNEGO_ACCEPT_INCOMPLETE, true);
    smb_buf out = {0};
    assert_int_equal(smb_spnego_step(x.s, NULL, 0, &out, &err), SMB_AUTH_DONE);
    run_free(&x);
    run_to_auth(&x, SPNEGO_ACCEPT_INCOMPLETE, true);
    assert_int_equal(finish(&x, -1, true, false, &err), SMB_AUTH_DONE);
    run_free(&x);
    /* After request-mic the server's MIC is required. */
    run_to_auth(&x, SPNEGO_REQUEST_MIC, false);
    assert_true(x.lr.has_mic); /* sent although NTLM itself did not ask */
    assert_int_equal(finish(&x, SPNEGO_ACCEPT_COMPLETED, false, false, &err), SMB_ERR_AUTH);
    run_free(&x);
    run_to_auth(&x, SPNEGO_REQUEST_MIC, false);
    assert_int_equal(finish(&x, SPNEGO_ACCEPT_COMPLETED, true, false, &err), SMB_AUTH_DONE);
    run_free(&x);
}

static void test_no_timestamp_no_mic(void **state)
{
    (void)state;
    /* An old server (no MsvAvTimestamp): no MIC in AUTHENTICATE, no mechListMIC. */
    run x;
    run_to_auth(&x, SPNEGO_ACCEPT_INCOMPLETE, false);
    assert_false(x.lr.has_mic);
    smb_error err = {0};
    assert_int_equal(finish(&x, SPNEGO_ACCEPT_COMPLETED, false, false, &err), SMB_AUTH_DONE);
    run_free(&x);
    /* A server MIC is still checked when it comes. */
    run_to_auth(&x, SPNEGO_ACCEPT_INCOMPLETE, false);
    assert_int_equal(finish(&x, SPNEGO_ACCEPT_COMPLETED, true, true, &err), SMB_ERR_AUTH);
    run_free(&x);
}

static void test_reject_and_bad_states(void **state)
{
    (void)state;
    smb_error err = {0};
    smb_auth_params p = params();
    uint8_t resp[256], chal[256];
    smb_buf init = {0}, out = {0};

    /* reject in the first reply */
    smb_spnego *s = smb_spnego_new(&p, NULL, 0, &err);
    assert_int_equal(smb_spnego_step(s, NULL, 0, &init, &err), SMB_AUTH_CONTINUE);
    size_t rl = server_resp(resp, sizeof resp, SPNEGO_REJECT, NULL, 0, NULL, 0, NULL, 0);
    assert_int_equal(smb_spnego_step(s, resp, rl, &out, &err), SMB_ERR_AUTH);
    assert_non_null(strstr(err.message, "rejected"));
    assert_null(out.data);
    smb_spnego_free(s);
    free(init.data);

    /* reject after AUTHENTICATE */
    run x;
    run_to_auth(&x, SPNEGO_ACCEPT_INCOMPLETE, true);
    assert_int_equal(finish(&x, SPNEGO_REJECT, false, false, &err), SMB_ERR_AUTH);
    run_free(&x);
    /* accept-incomplete after NTLM finished */
    run_to_auth(&x, SPNEGO_ACCEPT_INCOMPLETE, true);
    assert_int_equal(finish(&x, SPNEGO_ACCEPT_INCOMPLETE, true, false, &err), SMB_ERR_PROTOCOL);
    run_free(&x);

    size_t cl = challenge(chal, sizeof chal, true);
    /* accept-completed together with the CHALLENGE: the server cannot be done */
    s = smb_spnego_new(&p, NULL, 0, &err);
    smb_spnego_step(s, NULL, 0, &init, &err);
    rl = server_resp(resp, sizeof resp, SPNEGO_ACCEPT_COMPLETED, NTLM_OID, sizeof NTLM_OID, chal, cl, NULL, 0);
    assert_int_equal(smb_spnego_step(s, resp, rl, &out, &err), SMB_ERR_PROTOCOL);
    smb_spnego_free(s);
    free(init.data);

    /* accept-incomplete without a token */
    s = smb_spnego_new(&p, NULL, 0, &err);
    smb_spnego_step(s, NULL, 0, &init, &err);
    rl = server_resp(resp, sizeof resp, SPNEGO_ACCEPT_INCOMPLETE, NTLM_OID, sizeof NTLM_OID, NULL, 0, NULL, 0);
    assert_int_equal(smb_spnego_step(s, resp, rl, &out, &err), SMB_ERR_PROTOCOL);
    smb_spnego_free(s);
    free(init.data);

    /* a mechanism we never offered */
    s = smb_spnego_new(&p, NULL, 0, &err);
    smb_spnego_step(s, NULL, 0, &init, &err);
    rl = server_resp(resp, sizeof resp, SPNEGO_ACCEPT_INCOMPLETE, KRB5_OID, sizeof KRB5_OID, chal, cl, NULL, 0);
    assert_int_equal(smb_spnego_step(s, resp, rl, &out, &err), SMB_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "1.2.840.113554.1.2.2"));
    smb_spnego_free(s);
    free(init.data);

    /* an empty security buffer while NTLM still runs */
    s = smb_spnego_new(&p, NULL, 0, &err);
    smb_spnego_step(s, NULL, 0, &init, &err);
    assert_int_equal(smb_spnego_step(s, NULL, 0, &out, &err), SMB_ERR_PROTOCOL);
    smb_spnego_free(s);
    free(init.data);

    /* a token after the exchange finished */
    run_to_auth(&x, SPNEGO_ACCEPT_INCOMPLETE, false);
    rl = server_resp(resp, sizeof resp, SPNEGO_ACCEPT_COMPLETED, NULL, 0, chal, cl, NULL, 0);
    assert_int_equal(smb_spnego_step(x.s, resp, rl, &out, &err), SMB_ERR_PROTOCOL);
    run_free(&x);
}

/* Windows 2000 echoed the responseToken as mechListMIC: that is no MIC. */
static void test_win2k_mic_echo(void **state)
{
    (void)state;
    run x;
    run_to_auth(&x, SPNEGO_ACCEPT_INCOMPLETE, true);
    uint8_t resp[128], junk[20];
    memset(junk, 0x42, sizeof junk);
    size_t rl = server_resp(resp, sizeof resp, SPNEGO_ACCEPT_COMPLETED, NULL, 0, junk, sizeof junk, junk, sizeof junk);
    smb_error err = {0};
    smb_buf out = {0};
    assert_int_equal(smb_spnego_step(x.s, resp, rl, &out, &err), SMB_AUTH_DONE);
    run_free(&x);
}

/* ------------------------------------------------------------ several mechanisms */

static const uint8_t FAKE_OID[] = {0x2a, 0x03, 0x04}; /* 1.2.3.4 */

static int fake_step(void *st, const uint8_t *in, size_t in_len, smb_buf *out, smb_error *err)
{
    (void)st;
    (void)in;
    (void)in_len;
    (void)err;
    out->data = malloc(4);
    memcpy(out->data, "FAKE", 4);
    out->len = 4;
    return SMB_AUTH_CONTINUE;
}
static int fake_key(void *st, uint8_t *key, size_t cap, size_t *len)
{
    (void)st;
    (void)key;
    (void)cap;
    *len = 0;
    return -1;
}
static void fake_free(void *st) { free(st); }
static void *fake_new(const smb_auth_params *p)
{
    (void)p;
    return malloc(1);
}
static const smb_mech_ops fake_ops = {.name = "FAKE", .oid = FAKE_OID, .oid_len = sizeof FAKE_OID,
                                      .step = fake_step, .session_key = fake_key, .free = fake_free};

static void test_mech_switch(void **state)
{
    (void)state;
    const smb_mech_entry list[] = {{&fake_ops, fake_new}, {&smb_mech_ntlm, smb_ntlm_new}};
    for (int final_mic = 0; final_mic < 2; final_mic++) {
        smb_error err = {0};
        smb_auth_params p = params();
        smb_spnego *s = smb_spnego_new_with(&p, list, 2, NULL, 0, &err);
        assert_non_null(s);
        smb_buf init = {0}, neg = {0}, last = {0}, out = {0};
        assert_int_equal(smb_spnego_step(s, NULL, 0, &init, &err), SMB_AUTH_CONTINUE);
        smb_negtoken_init ti;
        assert_int_equal(smb_spnego_parse_init(init.data, init.len, &ti, &err), 0);
        assert_int_equal(ti.n_oids, 2);
        assert_memory_equal(ti.token.p, "FAKE", 4);

        /* The server takes NTLM instead: NTLM starts with NEGOTIATE. */
        uint8_t resp[512], chal[256];
        size_t rl = server_resp(resp, sizeof resp, SPNEGO_ACCEPT_INCOMPLETE, NTLM_OID, sizeof NTLM_OID, NULL, 0, NULL, 0);
        assert_int_equal(smb_spnego_step(s, resp, rl, &neg, &err), SMB_AUTH_CONTINUE);
        assert_string_equal(smb_spnego_mech_name(s), "NTLM");
        smb_negtoken_resp r;
        assert_int_equal(smb_spnego_parse_resp(neg.data, neg.len, &r, &err), 0);
        assert_memory_equal(r.token.p, "NTLMSSP\0\x01", 9);

        /* An old server: NTLM wants no MIC, but the downgrade does. */
        size_t cl = challenge(chal, sizeof chal, false);
        rl = server_resp(resp, sizeof resp, SPNEGO_ACCEPT_INCOMPLETE, NTLM_OID, sizeof NTLM_OID, chal, cl, NULL, 0);
        assert_int_equal(smb_spnego_step(s, resp, rl, &last, &err), SMB_AUTH_CONTINUE);
        assert_int_equal(smb_spnego_parse_resp(last.data, last.len, &r, &err), 0);
        assert_true(r.has_mic);
        server_view sv;
        server_keys(r.token.p, r.token.len, &sv);
        uint8_t mic[16];
        ntlm_mic(&sv, true, &ti.mech_types, mic);
        assert_memory_equal(r.mic.p, mic, 16);

        ntlm_mic(&sv, false, &ti.mech_types, mic);
        rl = server_resp(resp, sizeof resp, SPNEGO_ACCEPT_COMPLETED, NULL, 0, NULL, 0, final_mic ? mic : NULL, 16);
        if (final_mic) {
            assert_int_equal(smb_spnego_step(s, resp, rl, &out, &err), SMB_AUTH_DONE);
        } else {
            /* Without the server's MIC the downgrade is not protected. */
            assert_int_equal(smb_spnego_step(s, resp, rl, &out, &err), SMB_ERR_AUTH);
        }
        free(init.data);
        free(neg.data);
        free(last.data);
        smb_spnego_free(s);
    }

    /* A switch after the first reply is refused. */
    smb_error err = {0};
    smb_auth_params p = params();
    smb_spnego *s = smb_spnego_new_with(&p, list, 2, NULL, 0, &err);
    smb_buf a = {0}, b = {0}, c = {0};
    smb_spnego_step(s, NULL, 0, &a, &err);
    uint8_t resp[128];
    size_t rl = server_resp(resp, sizeof resp, SPNEGO_ACCEPT_INCOMPLETE, FAKE_OID, sizeof FAKE_OID,
                            (const uint8_t *)"x", 1, NULL, 0);
    assert_int_equal(smb_spnego_step(s, resp, rl, &b, &err), SMB_AUTH_CONTINUE);
    rl = server_resp(resp, sizeof resp, SPNEGO_ACCEPT_INCOMPLETE, NTLM_OID, sizeof NTLM_OID, NULL, 0, NULL, 0);
    assert_int_equal(smb_spnego_step(s, resp, rl, &c, &err), SMB_ERR_PROTOCOL);
    free(a.data);
    free(b.data);
    smb_spnego_free(s);

    assert_null(smb_spnego_new_with(&p, list, 0, NULL, 0, &err));
    assert_null(smb_spnego_new_with(&p, list, 5, NULL, 0, &err));
}

/* ------------------------------------------------------------ the server's hint */

/* A NegTokenInit2 as Windows sends it in the NEGOTIATE response. */
static size_t windows_hint(uint8_t *out, size_t cap, bool with_ntlm)
{
    smb_wr w;
    smb_wr_init(&w, out, cap);
    size_t app = smb_asn1_begin(&w, SMB_ASN1_APPLICATION(0));
    smb_asn1_put(&w, SMB_ASN1_OID, smb_spnego_oid, sizeof smb_spnego_oid);
    size_t a0 = smb_asn1_begin(&w, SMB_ASN1_CONTEXT(0));
    size_t seq = smb_asn1_begin(&w, SMB_ASN1_SEQUENCE);
    size_t f0 = smb_asn1_begin(&w, SMB_ASN1_CONTEXT(0));
    smb_der_bytes oids[4] = {{MSKRB5_OID, sizeof MSKRB5_OID}, {KRB5_OID, sizeof KRB5_OID},
                         {NEGOEX_OID, sizeof NEGOEX_OID}, {NTLM_OID, sizeof NTLM_OID}};
    smb_spnego_write_mech_types(&w, oids, with_ntlm ? 4 : 3);
    smb_asn1_end(&w, f0);
    size_t f3 = smb_asn1_begin(&w, SMB_ASN1_CONTEXT(3)); /* negHints */
    size_t hs = smb_asn1_begin(&w, SMB_ASN1_SEQUENCE);
    size_t h0 = smb_asn1_begin(&w, SMB_ASN1_CONTEXT(0));
    static const char ignore[] = "not_defined_in_RFC4178@please_ignore";
    smb_asn1_put(&w, SMB_ASN1_GENERAL_STRING, ignore, sizeof ignore - 1);
    smb_asn1_end(&w, h0);
    smb_asn1_end(&w, hs);
    smb_asn1_end(&w, f3);
    smb_asn1_end(&w, seq);
    smb_asn1_end(&w, a0);
    smb_asn1_end(&w, app);
    assert_true(smb_wr_ok(&w));
    return w.len;
}

static void test_hints(void **state)
{
    (void)state;
    smb_error err = {0};
    smb_auth_params p = params();
    uint8_t hint[256];
    size_t hl = windows_hint(hint, sizeof hint, true);
    smb_negtoken_init t;
    assert_int_equal(smb_spnego_parse_init(hint, hl, &t, &err), 0);
    assert_int_equal(t.n_oids, 4);
    assert_false(t.has_token);
    smb_spnego *s = smb_spnego_new(&p, hint, hl, &err);
    assert_non_null(s);
    smb_spnego_free(s);

    /* Garbage, truncated, or empty hints are tolerated. */
    for (size_t n = 0; n < hl; n++) {
        s = smb_spnego_new(&p, hint, n, &err);
        assert_non_null(s);
        smb_spnego_free(s);
    }
    s = smb_spnego_new(&p, (const uint8_t *)"\xff\xff\xff", 3, &err);
    assert_non_null(s);
    smb_spnego_free(s);

    /* A hint without NTLM shows in the reject message. */
    hl = windows_hint(hint, sizeof hint, false);
    s = smb_spnego_new(&p, hint, hl, &err);
    assert_non_null(s);
    smb_buf init = {0}, out = {0};
    smb_spnego_step(s, NULL, 0, &init, &err);
    uint8_t resp[32];
    size_t rl = server_resp(resp, sizeof resp, SPNEGO_REJECT, NULL, 0, NULL, 0, NULL, 0);
    assert_int_equal(smb_spnego_step(s, resp, rl, &out, &err), SMB_ERR_AUTH);
    assert_non_null(strstr(err.message, "does not offer"));
    free(init.data);
    smb_spnego_free(s);
}

/* ------------------------------------------------------------ malformed tokens */

static void test_resp_states(void **state)
{
    (void)state;
    smb_error err = {0};
    uint8_t buf[128];
    smb_negtoken_resp r;
    for (int st = -1; st <= 3; st++) {
        size_t n = server_resp(buf, sizeof buf, st, NTLM_OID, sizeof NTLM_OID, (const uint8_t *)"tok", 3,
                               (const uint8_t *)"mic", 3);
        assert_int_equal(smb_spnego_parse_resp(buf, n, &r, &err), 0);
        assert_int_equal(r.neg_state, st < 0 ? SPNEGO_NO_STATE : st);
        assert_true(r.has_mech && r.has_token && r.has_mic);
        assert_memory_equal(r.token.p, "tok", 3);
        assert_memory_equal(r.mic.p, "mic", 3);
    }
    size_t n = server_resp(buf, sizeof buf, 4, NULL, 0, NULL, 0, NULL, 0);
    assert_int_equal(smb_spnego_parse_resp(buf, n, &r, &err), SMB_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "negState 4"));
    /* An empty NegTokenResp parses (all fields optional). */
    assert_int_equal(smb_spnego_parse_resp((const uint8_t *)"\xa1\x02\x30\x00", 4, &r, &err), 0);
    assert_false(r.has_mech || r.has_token || r.has_mic);

    static const struct {
        const char *p;
        size_t n;
    } bad[] = {
        {"\xa1\x05\x30\x03\xa0\x01\x00", 7},                         /* [0] holding no ENUMERATED */
        {"\xa1\x07\x30\x05\xa0\x03\x04\x01\x00", 9},                 /* [0] holding an OCTET STRING */
        {"\xa1\x0a\x30\x08\xa2\x02\x04\x00\xa0\x02\x0a\x00", 12},    /* fields out of order */
        {"\xa1\x08\x30\x06\xa2\x02\x04\x00\xa2\x00", 10},             /* a field twice */
        {"\xa1\x06\x30\x04\xa4\x02\x04\x00", 8},                     /* unknown field [4] */
        {"\xa1\x02\x30\x00\x00", 5},                                 /* trailing byte */
        {"\xa1\x03\x30\x00\x00", 5},                                 /* junk inside [1] */
        {"\xa0\x02\x30\x00", 4},                                     /* NegTokenInit choice */
        {"\x60\x02\x30\x00", 4},                                     /* InitialContextToken */
        {"\xa1\x02\x31\x00", 4},                                     /* SET, not SEQUENCE */
        {"\xa1\x06\x30\x04\xa2\x02\x04\x05", 8},                     /* token longer than its field */
        {"\xa1\x08\x30\x06\xa2\x04\x04\x00\x04\x00", 10},            /* two elements in [2] */
        {"\xa1\x84\xff\xff\xff\xff\x30\x00", 8},                     /* huge length */
        {"\xa1\x80\x30\x00\x00\x00", 6},                             /* indefinite length (BER) */
        {"", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.message[0] = 0;
        assert_int_equal(smb_spnego_parse_resp((const uint8_t *)bad[i].p, bad[i].n, &r, &err), SMB_ERR_PROTOCOL);
        assert_true(err.message[0] != 0);
    }
}

static void test_truncated_tokens(void **state)
{
    (void)state;
    smb_error err = {0};
    uint8_t chal[256], buf[512];
    size_t cl = challenge(chal, sizeof chal, true);
    uint8_t mic[16] = {0};
    size_t n = server_resp(buf, sizeof buf, SPNEGO_ACCEPT_INCOMPLETE, NTLM_OID, sizeof NTLM_OID, chal, cl, mic, 16);
    smb_negtoken_resp r;
    assert_int_equal(smb_spnego_parse_resp(buf, n, &r, &err), 0);
    smb_auth_params p = params();
    for (size_t len = 0; len < n; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, buf, len);
        assert_int_equal(smb_spnego_parse_resp(copy, len, &r, &err), SMB_ERR_PROTOCOL);
        /* Through a live context too. */
        smb_spnego *s = smb_spnego_new(&p, NULL, 0, &err);
        smb_buf init = {0}, out = {0};
        smb_spnego_step(s, NULL, 0, &init, &err);
        assert_int_equal(smb_spnego_step(s, copy, len, &out, &err), SMB_ERR_PROTOCOL);
        assert_null(out.data);
        free(init.data);
        smb_spnego_free(s);
        free(copy);
    }
    /* Every prefix of a NegTokenInit2 fails to parse, without overreads. */
    uint8_t hint[256];
    size_t hl = windows_hint(hint, sizeof hint, true);
    smb_negtoken_init t;
    for (size_t len = 0; len < hl; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, hint, len);
        assert_int_equal(smb_spnego_parse_init(copy, len, &t, &err), SMB_ERR_PROTOCOL);
        free(copy);
    }
    /* Bit flips of a whole reply never crash a live context. */
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            uint8_t m[512];
            memcpy(m, buf, n);
            m[i] ^= (uint8_t)(1u << bit);
            smb_spnego *s = smb_spnego_new(&p, NULL, 0, &err);
            smb_buf init = {0}, out = {0};
            smb_spnego_step(s, NULL, 0, &init, &err);
            int rc = smb_spnego_step(s, m, n, &out, &err);
            assert_true(rc == SMB_AUTH_CONTINUE || rc == SMB_ERR_PROTOCOL || rc == SMB_ERR_AUTH);
            free(out.data);
            free(init.data);
            smb_spnego_free(s);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_token),
        cmocka_unit_test(test_policies),
        cmocka_unit_test(test_exchange_with_mic),
        cmocka_unit_test(test_final_bad_mic),
        cmocka_unit_test(test_final_without_mic),
        cmocka_unit_test(test_no_timestamp_no_mic),
        cmocka_unit_test(test_reject_and_bad_states),
        cmocka_unit_test(test_win2k_mic_echo),
        cmocka_unit_test(test_mech_switch),
        cmocka_unit_test(test_hints),
        cmocka_unit_test(test_resp_states),
        cmocka_unit_test(test_truncated_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * NTLM: MD4 (RFC 1320 A.5), RC4 (RFC 6229 2), HMAC-MD5 (RFC 2104), the
 * NTLMv2 example of MS-NLMP 4.2.4, full exchanges through smb_mech_ntlm,
 * and CHALLENGE messages truncated or corrupted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "auth/ntlm_crypto.h"
#include "auth/ntlm_msg.h"
#include "common/wire.h"
#include "auth_test_util.h"

/* ------------------------------------------------------------ helpers */

/* Hex text (spaces ignored) into out; returns the byte count. */
static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
    uint8_t want[1024];
    size_t n = unhex(want_hex, want);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
}

/* MS-NLMP 4.2.1: ClientChallenge aa*8 and RandomSessionKey 55*16, told
 * apart by the size NTLM asks for. */
static int fixed_random(void *buf, size_t n, void *arg)
{
    (void)arg;
    memset(buf, n == 8 ? 0xaa : 0x55, n);
    return 0;
}

static uint64_t time_zero(void *arg)
{
    (void)arg;
    return 0;
}

/* Fields of an AUTHENTICATE message, located through the bounded reader. */
typedef struct auth_view {
    uint32_t flags;
    smb_rd lm, nt, domain, user, ws, key;
    const uint8_t *mic;
} auth_view;

static void view_auth(const uint8_t *msg, size_t len, auth_view *v)
{
    smb_rd r;
    smb_rd_init(&r, msg, len);
    const uint8_t *sig = smb_rd_ptr(&r, 8);
    assert_non_null(sig);
    assert_memory_equal(sig, "NTLMSSP", 8);
    assert_int_equal(smb_rd_u32(&r), NTLM_AUTHENTICATE);
    smb_rd *f[6] = {&v->lm, &v->nt, &v->domain, &v->user, &v->ws, &v->key};
    for (int i = 0; i < 6; i++) {
        uint16_t l = smb_rd_u16(&r);
        smb_rd_u16(&r);
        uint32_t off = smb_rd_u32(&r);
        *f[i] = smb_rd_sub(&r, off, l);
    }
    v->flags = smb_rd_u32(&r);
    smb_rd_skip(&r, 8);
    v->mic = smb_rd_ptr(&r, 16);
    assert_true(smb_rd_ok(&r));
}

static void assert_rd_eq(const smb_rd *r, const uint8_t *p, size_t n)
{
    assert_int_equal(r->len, n);
    if (n)
        assert_memory_equal(r->base, p, n);
}

/* Build a CHALLENGE message (MS-NLMP 2.2.1.2) with target info ti. */
static size_t build_challenge(uint8_t *out, size_t cap, uint32_t flags, const uint8_t chal[8], const uint8_t *ti,
                              size_t ti_len)
{
    smb_wr w;
    smb_wr_init(&w, out, cap);
    smb_wr_bytes(&w, "NTLMSSP", 8);
    smb_wr_u32(&w, NTLM_CHALLENGE);
    smb_wr_u16(&w, 0);
    smb_wr_u16(&w, 0);
    smb_wr_u32(&w, 56);
    smb_wr_u32(&w, flags);
    smb_wr_bytes(&w, chal, 8);
    smb_wr_zero(&w, 8);
    smb_wr_u16(&w, (uint16_t)ti_len);
    smb_wr_u16(&w, (uint16_t)ti_len);
    smb_wr_u32(&w, 56);
    smb_wr_bytes(&w, "\x06\x00\x70\x17\x00\x00\x00\x0f", 8);
    smb_wr_bytes(&w, ti, ti_len);
    assert_true(smb_wr_ok(&w));
    return w.len;
}

/* ------------------------------------------------------------ primitives */

static void test_md4_rfc1320(void **state)
{
    (void)state;
    /* RFC 1320 A.5 test suite. */
    static const char *in[] = {
        "",
        "a",
        "abc",
        "message digest",
        "abcdefghijklmnopqrstuvwxyz",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
    };
    static const char *out[] = {
        "31d6cfe0d16ae931b73c59d7e0c089c0", "bde52cb31de33e46245e05fbdbd6fb24", "a448017aaf21d8525fc10ae87aa6729d",
        "d9130a8164549fe818874806e1c7014b", "d79e1c308aa5bbcdeea8ed63df412da9", "043f8582f241db351ce627e153e7f0e4",
        "e33b4ddc9c38f2199c3e7b164fcc0536",
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        uint8_t d[16];
        smb_md4(in[i], strlen(in[i]), d);
        assert_hex(d, 16, out[i]);
    }
}

static void test_md4_block_edges(void **state)
{
    (void)state;
    /* Lengths around the padding boundaries (one or two final blocks), 'x'
     * repeated; digests cross-checked with an independent MD4. */
    static const struct {
        size_t n;
        const char *md;
    } v[] = {
        {55, "92f32bb82c95ad10e8f87ae58ab06807"},  {56, "374d5f08103b7092c83b4626ebceffab"},
        {63, "2870452596e98fffd48332289b3472b9"},  {64, "b1abf956a5ae6f3221e5fe85e300fbb0"},
        {65, "afc1a3308fc176a53238a09aeddec2e6"},  {119, "b55ae15e41e55643b0c3daad5e05c905"},
        {120, "d8f9adfc41ec43552619606c70cfd287"}, {128, "7c087dd92a6743e09f3763a6d99c9d26"},
    };
    uint8_t buf[128], d[16];
    memset(buf, 'x', sizeof buf);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        smb_md4(buf, v[i].n, d);
        assert_hex(d, 16, v[i].md);
    }
    /* NTOWFv1("Password") of MS-NLMP 4.2.2.1.2. */
    uint8_t pw[16];
    size_t n = u16("Password", pw);
    smb_ntlm_nt_hash(pw, n, d);
    assert_hex(d, 16, "a4 f4 9c 40 65 10 bd ca b6 82 4e e7 c3 0f d8 52");
}

static void test_rc4_rfc6229(void **state)
{
    (void)state;
    static uint8_t zero[4112], ks[4112];
    smb_rc4 rc4;
    /* RFC 6229 2: 40-bit key 0x0102030405, offsets 0, 16 and 4096. */
    uint8_t k40[5] = {1, 2, 3, 4, 5};
    smb_rc4_init(&rc4, k40, 5);
    smb_rc4_crypt(&rc4, zero, ks, sizeof ks);
    assert_hex(ks, 16, "b2 39 63 05 f0 3d c0 27 cc c3 52 4a 0a 11 18 a8");
    assert_hex(ks + 16, 16, "69 82 94 4f 18 fc 82 d5 89 c4 03 a4 7a 0d 09 19");
    assert_hex(ks + 4096, 16, "ff 25 b5 89 95 99 67 07 e5 1f bd f0 8b 34 d8 75");
    /* 128-bit key 0x0102...10. */
    uint8_t k128[16];
    for (int i = 0; i < 16; i++)
        k128[i] = (uint8_t)(i + 1);
    smb_rc4_init(&rc4, k128, 16);
    smb_rc4_crypt(&rc4, zero, ks, sizeof ks);
    assert_hex(ks, 16, "9a c7 cc 9a 60 9d 1e f7 b2 93 28 99 cd e4 1b 97");
    assert_hex(ks + 16, 16, "52 48 c4 95 90 14 12 6a 6e 8a 84 f1 1d 1a 9e 1c");
    assert_hex(ks + 4096, 16, "a3 6a 4c 30 1a e8 ac 13 61 0c cb c1 22 56 ca cc");
    /* The stream continues across calls, in place too. */
    uint8_t part[4112] = {0};
    smb_rc4_init(&rc4, k128, 16);
    smb_rc4_crypt(&rc4, part, part, 7);
    smb_rc4_crypt(&rc4, part + 7, part + 7, sizeof part - 7);
    assert_memory_equal(part, ks, sizeof part);
    smb_rc4k(k128, zero, part, 16);
    assert_memory_equal(part, ks, 16);
}

static void test_hmac_md5_rfc2104(void **state)
{
    (void)state;
    /* RFC 2104 appendix: key 0x0b * 16, "Hi There". */
    uint8_t key[16], out[16];
    memset(key, 0x0b, sizeof key);
    smb_iov iov = {"Hi There", 8};
    assert_int_equal(smb_auth_hmac_md5(key, 16, &iov, 1, out), 0);
    assert_hex(out, 16, "92 94 72 7a 36 38 bb 1c 13 f4 8e f8 15 8b fc 9d");
    /* Split input gives the same MAC. */
    smb_iov two[2] = {{"Hi ", 3}, {"There", 5}};
    uint8_t out2[16];
    assert_int_equal(smb_auth_hmac_md5(key, 16, two, 2, out2), 0);
    assert_memory_equal(out, out2, 16);
}

/* ------------------------------------------------------------ MS-NLMP 4.2.4 */

/* MS-NLMP 4.2.4.1.3: temp for Time 0, ClientChallenge aa*8 and the AV pairs
 * of 4.2.4 (MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server"). */
static const char SPEC_TEMP[] = "01 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
                                "aa aa aa aa aa aa aa aa 00 00 00 00 02 00 0c 00"
                                "44 00 6f 00 6d 00 61 00 69 00 6e 00 01 00 0c 00"
                                "53 00 65 00 72 00 76 00 65 00 72 00 00 00 00 00"
                                "00 00 00 00";

/* MS-NLMP 4.2.4.3: the CHALLENGE_MESSAGE. */
static const char SPEC_CHALLENGE[] = "4e 54 4c 4d 53 53 50 00 02 00 00 00 0c 00 0c 00"
                                     "38 00 00 00 33 82 8a e2 01 23 45 67 89 ab cd ef"
                                     "00 00 00 00 00 00 00 00 24 00 24 00 44 00 00 00"
                                     "06 00 70 17 00 00 00 0f 53 00 65 00 72 00 76 00"
                                     "65 00 72 00 02 00 0c 00 44 00 6f 00 6d 00 61 00"
                                     "69 00 6e 00 01 00 0c 00 53 00 65 00 72 00 76 00"
                                     "65 00 72 00 00 00 00 00";

/* MS-NLMP 4.2.4.3: the AUTHENTICATE_MESSAGE (no MIC field in the example). */
static const char SPEC_AUTHENTICATE[] = "4e 54 4c 4d 53 53 50 00 03 00 00 00 18 00 18 00"
                                        "6c 00 00 00 54 00 54 00 84 00 00 00 0c 00 0c 00"
                                        "48 00 00 00 08 00 08 00 54 00 00 00 10 00 10 00"
                                        "5c 00 00 00 10 00 10 00 d8 00 00 00 35 82 88 e2"
                                        "05 01 28 0a 00 00 00 0f 44 00 6f 00 6d 00 61 00"
                                        "69 00 6e 00 55 00 73 00 65 00 72 00 43 00 4f 00"
                                        "4d 00 50 00 55 00 54 00 45 00 52 00 86 c3 50 97"
                                        "ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa"
                                        "aa aa aa aa 68 cd 0a b8 51 e5 1c 96 aa bc 92 7b"
                                        "eb ef 6a 1c 01 01 00 00 00 00 00 00 00 00 00 00"
                                        "00 00 00 00 aa aa aa aa aa aa aa aa 00 00 00 00"
                                        "02 00 0c 00 44 00 6f 00 6d 00 61 00 69 00 6e 00"
                                        "01 00 0c 00 53 00 65 00 72 00 76 00 65 00 72 00"
                                        "00 00 00 00 00 00 00 00 c5 da d2 54 4f c9 79 90"
                                        "94 ce 1c e9 0b c9 d0 3e";

static void spec_ntowfv2(uint8_t key[16])
{
    uint8_t pw[32], user[16], dom[16], nt[16];
    smb_ntlm_nt_hash(pw, u16("Password", pw), nt);
    size_t ul = u16("USER", user), dl = u16("Domain", dom);
    assert_int_equal(smb_ntlm_ntowfv2(nt, user, ul, dom, dl, key), 0);
}

static void test_spec_ntowfv2(void **state)
{
    (void)state;
    uint8_t key[16];
    spec_ntowfv2(key);
    /* MS-NLMP 4.2.4.1.1 */
    assert_hex(key, 16, "0c 86 8a 40 3b fd 7a 93 a3 00 1e f2 2e f0 2e 3f");
}

static void test_spec_responses(void **state)
{
    (void)state;
    uint8_t key[16], temp[128], proof[16], base[16], lm[24];
    static const uint8_t sc[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    static const uint8_t cc[8] = {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
    spec_ntowfv2(key);
    size_t tl = unhex(SPEC_TEMP, temp);
    assert_int_equal(smb_ntlm_v2_proof(key, sc, temp, tl, proof, base), 0);
    /* MS-NLMP 4.2.4.2.2 NTProofStr, 4.2.4.1.2 SessionBaseKey (= KeyExchangeKey). */
    assert_hex(proof, 16, "68 cd 0a b8 51 e5 1c 96 aa bc 92 7b eb ef 6a 1c");
    assert_hex(base, 16, "8d e4 0c ca db c1 4a 82 f1 5c b0 ad 0d e9 5c a3");
    /* MS-NLMP 4.2.4.2.1 LMv2 response. */
    assert_int_equal(smb_ntlm_lmv2_response(key, sc, cc, lm), 0);
    assert_hex(lm, 24, "86 c3 50 97 ac 9c ec 10 25 54 76 4a 57 cc cc 19 aa aa aa aa aa aa aa aa");
    /* MS-NLMP 4.2.4.2.3: RC4(KeyExchangeKey, RandomSessionKey). */
    uint8_t rsk[16], enc[16];
    memset(rsk, 0x55, sizeof rsk);
    smb_rc4k(base, rsk, enc, 16);
    assert_hex(enc, 16, "c5 da d2 54 4f c9 79 90 94 ce 1c e9 0b c9 d0 3e");
}

static void test_spec_seal_sign(void **state)
{
    (void)state;
    /* MS-NLMP 4.2.4.4: keys from RandomSessionKey 55*16 (the exported key with KEY_EXCH). */
    uint8_t rsk[16], seal[16], sign[16];
    memset(rsk, 0x55, sizeof rsk);
    assert_int_equal(smb_ntlm_seal_key(rsk, 0xe28a8233u, true, seal), 0);
    assert_int_equal(smb_ntlm_sign_key(rsk, true, sign), 0);
    assert_hex(seal, 16, "59 f6 00 97 3c c4 96 0a 25 48 0a 7c 19 6e 4c 58");
    assert_hex(sign, 16, "47 88 dc 86 1b 47 82 f3 5d 43 fd 98 fe 1a 2d 39");

    /* SEAL of "Plaintext" (UTF-16): RC4 the data, then the checksum continues the same stream. */
    uint8_t msg[18], data[18], sig[16];
    size_t n = u16("Plaintext", msg);
    smb_rc4 rc4;
    smb_rc4_init(&rc4, seal, 16);
    smb_rc4_crypt(&rc4, msg, data, n);
    assert_hex(data, n, "54 e5 01 65 bf 19 36 dc 99 60 20 c1 81 1b 0f 06 fb 5f");
    assert_int_equal(smb_ntlm_mac(sign, &rc4, 0, msg, n, sig), 0);
    assert_hex(sig, 16, "01 00 00 00 7f b3 8e c5 c5 5d 49 76 00 00 00 00");
    /* Unsealed checksum: HMAC_MD5(SigningKey, SeqNum || Message)[0..8]. */
    assert_int_equal(smb_ntlm_mac(sign, NULL, 0, msg, n, sig), 0);
    assert_hex(sig, 16, "01 00 00 00 70 35 28 51 f2 56 43 09 00 00 00 00");
    /* 56- and 40-bit seal keys use 7 and 5 bytes of the session key (MS-NLMP 3.4.5.3). */
    uint8_t k56[16], k40[16], other[16];
    assert_int_equal(smb_ntlm_seal_key(rsk, NTLMSSP_NEGOTIATE_56, true, k56), 0);
    assert_int_equal(smb_ntlm_seal_key(rsk, 0, true, k40), 0);
    assert_memory_not_equal(k56, k40, 16);
    assert_memory_not_equal(k56, seal, 16);
    assert_int_equal(smb_ntlm_seal_key(rsk, 0xe28a8233u, false, other), 0);
    assert_memory_not_equal(other, seal, 16);
}

/* The whole mechanism on the MS-NLMP 4.2.4.3 CHALLENGE: the AUTHENTICATE's
 * responses, names and session key match the example byte for byte. */
static void test_spec_exchange(void **state)
{
    (void)state;
    smb_auth_params p = {.user = "User", .domain = "Domain", .password = "Password", .workstation = "COMPUTER",
                         .random = fixed_random, .now = time_zero};
    void *st = smb_ntlm_new(&p);
    assert_non_null(st);
    smb_error err = {0};
    smb_buf neg = {0}, auth = {0};
    assert_int_equal(smb_mech_ntlm.step(st, NULL, 0, &neg, &err), SMB_AUTH_CONTINUE);
    assert_int_equal(neg.len, NTLM_NEGOTIATE_LEN);
    assert_memory_equal(neg.data, "NTLMSSP\0\x01\0\0\0", 12);
    uint32_t nflags = smb_le32(neg.data + 12);
    assert_int_equal(nflags, 0xe2888215u);

    uint8_t chal[256], spec[256];
    size_t cl = unhex(SPEC_CHALLENGE, chal);
    size_t sl = unhex(SPEC_AUTHENTICATE, spec);
    assert_int_equal(smb_mech_ntlm.step(st, chal, cl, &auth, &err), SMB_AUTH_DONE);

    auth_view got, want;
    view_auth(auth.data, auth.len, &got);
    view_auth(spec, sl, &want);
    assert_rd_eq(&got.lm, want.lm.base, want.lm.len);
    assert_rd_eq(&got.nt, want.nt.base, want.nt.len);
    assert_rd_eq(&got.domain, want.domain.base, want.domain.len);
    assert_rd_eq(&got.user, want.user.base, want.user.len);
    assert_rd_eq(&got.ws, want.ws.base, want.ws.len);
    assert_rd_eq(&got.key, want.key.base, want.key.len);
    /* The example's flags include SEAL, which we do not ask for. */
    assert_int_equal(got.flags, want.flags & ~(uint32_t)NTLMSSP_NEGOTIATE_SEAL);

    /* No MsvAvTimestamp: the MIC field is still filled, but not announced. */
    uint8_t mic[16], zeroed[512];
    memcpy(zeroed, auth.data, auth.len);
    memset(zeroed + NTLM_MIC_OFFSET, 0, 16);
    uint8_t rsk[16];
    memset(rsk, 0x55, sizeof rsk);
    smb_iov iov[3] = {{neg.data, neg.len}, {chal, cl}, {zeroed, auth.len}};
    assert_int_equal(smb_auth_hmac_md5(rsk, 16, iov, 3, mic), 0);
    assert_memory_equal(mic, got.mic, 16);

    uint8_t key[32];
    size_t kl = 0;
    assert_int_equal(smb_mech_ntlm.session_key(st, key, sizeof key, &kl), 0);
    assert_int_equal(kl, 16);
    assert_memory_equal(key, rsk, 16);
    assert_false(smb_mech_ntlm.wants_mic(st));
    assert_false(smb_mech_ntlm.is_anonymous(st));

    /* A third token is refused. */
    smb_buf more = {0};
    assert_int_equal(smb_mech_ntlm.step(st, chal, cl, &more, &err), SMB_ERR_PROTOCOL);
    free(neg.data);
    free(auth.data);
    smb_mech_ntlm.free(st);
}

/* ------------------------------------------------------------ a modern server */

/* AV pairs of a server that sends MsvAvTimestamp and MsvAvFlags 0x1. */
static size_t modern_target_info(uint8_t *ti)
{
    smb_wr w;
    smb_wr_init(&w, ti, 256);
    uint8_t name[64];
    size_t n = u16("SERVER", name);
    smb_wr_u16(&w, MSV_AV_NB_COMPUTER_NAME);
    smb_wr_u16(&w, (uint16_t)n);
    smb_wr_bytes(&w, name, n);
    n = u16("WORKGROUP", name);
    smb_wr_u16(&w, MSV_AV_NB_DOMAIN_NAME);
    smb_wr_u16(&w, (uint16_t)n);
    smb_wr_bytes(&w, name, n);
    smb_wr_u16(&w, MSV_AV_FLAGS);
    smb_wr_u16(&w, 4);
    smb_wr_u32(&w, 1);
    smb_wr_u16(&w, MSV_AV_TIMESTAMP);
    smb_wr_u16(&w, 8);
    smb_wr_u64(&w, 0x01d9000011112222ull);
    smb_wr_u32(&w, 0); /* MsvAvEOL */
    assert_true(smb_wr_ok(&w));
    return w.len;
}

static const uint8_t SC2[8] = {9, 8, 7, 6, 5, 4, 3, 2};

/* Run NEGOTIATE + CHALLENGE with a timestamp for p; returns the state. */
static void *modern_exchange(const smb_auth_params *p, smb_buf *neg, uint8_t *chal, size_t *cl, smb_buf *auth)
{
    void *st = smb_ntlm_new(p);
    assert_non_null(st);
    smb_error err = {0};
    assert_int_equal(smb_mech_ntlm.step(st, NULL, 0, neg, &err), SMB_AUTH_CONTINUE);
    uint8_t ti[256];
    size_t tl = modern_target_info(ti);
    *cl = build_challenge(chal, 512, 0xe28a8215u, SC2, ti, tl);
    assert_int_equal(smb_mech_ntlm.step(st, chal, *cl, auth, &err), SMB_AUTH_DONE);
    return st;
}

/* Find AV pair id in the NTLMv2 blob of an NT response. */
static smb_rd find_av(const smb_rd *nt, uint16_t id)
{
    smb_rd r = *nt;
    smb_rd_skip(&r, 16 + 28);
    while (smb_rd_left(&r) >= 4) {
        uint16_t aid = smb_rd_u16(&r), n = smb_rd_u16(&r);
        smb_rd v = smb_rd_sub(&r, r.pos, n);
        smb_rd_skip(&r, n);
        if (aid == id)
            return v;
        if (aid == MSV_AV_EOL)
            break;
    }
    smb_rd none;
    smb_rd_init(&none, NULL, 0);
    none.err = true;
    return none;
}

static void test_modern_exchange(void **state)
{
    (void)state;
    smb_auth_params p = {.user = "alice", .domain = "WORKGROUP", .password = "Secr3t!", .workstation = "",
                         .target_host = "server.example", .random = fixed_random};
    smb_buf neg = {0}, auth = {0};
    uint8_t chal[512];
    size_t cl;
    void *st = modern_exchange(&p, &neg, chal, &cl, &auth);

    auth_view v;
    view_auth(auth.data, auth.len, &v);
    assert_true(v.flags & NTLMSSP_NEGOTIATE_KEY_EXCH);
    assert_true(v.flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY);
    assert_false(v.flags & NTLMSSP_NEGOTIATE_ANONYMOUS);
    /* With MsvAvTimestamp the LM response is Z(24). */
    uint8_t z[24] = {0};
    assert_rd_eq(&v.lm, z, 24);
    uint8_t s16[64];
    assert_rd_eq(&v.user, s16, u16("alice", s16));
    assert_rd_eq(&v.domain, s16, u16("WORKGROUP", s16));
    assert_int_equal(v.ws.len, 0);
    assert_int_equal(v.key.len, 16);

    /* Blob: server's timestamp, MsvAvFlags 0x1 | MIC, MsvAvTargetName. */
    smb_rd blob = v.nt;
    smb_rd_skip(&blob, 16);
    assert_int_equal(smb_rd_u8(&blob), 1);
    assert_int_equal(smb_rd_u8(&blob), 1);
    smb_rd_skip(&blob, 6);
    assert_true(smb_rd_u64(&blob) == 0x01d9000011112222ull);
    smb_rd fl = find_av(&v.nt, MSV_AV_FLAGS);
    assert_int_equal(fl.len, 4);
    assert_int_equal(smb_rd_u32(&fl), 0x3);
    smb_rd tn = find_av(&v.nt, MSV_AV_TARGET_NAME);
    assert_rd_eq(&tn, s16, u16("cifs/server.example", s16));

    /* The NTProofStr recomputed from the password. */
    uint8_t pw[64], nth[16], user[32], dom[32], key[16], proof[16], base[16];
    smb_ntlm_nt_hash(pw, u16("Secr3t!", pw), nth);
    size_t ul = u16("ALICE", user), dl = u16("WORKGROUP", dom);
    assert_int_equal(smb_ntlm_ntowfv2(nth, user, ul, dom, dl, key), 0);
    assert_int_equal(smb_ntlm_v2_proof(key, SC2, v.nt.base + 16, v.nt.len - 16, proof, base), 0);
    assert_memory_equal(proof, v.nt.base, 16);

    /* The exported key decrypts from the AUTHENTICATE and the MIC verifies. */
    uint8_t exported[16], sk[16];
    size_t skl;
    smb_rc4k(base, v.key.base, exported, 16);
    assert_int_equal(smb_mech_ntlm.session_key(st, sk, sizeof sk, &skl), 0);
    assert_memory_equal(sk, exported, 16);
    uint8_t zeroed[1024], mic[16];
    memcpy(zeroed, auth.data, auth.len);
    memset(zeroed + NTLM_MIC_OFFSET, 0, 16);
    smb_iov iov[3] = {{neg.data, neg.len}, {chal, cl}, {zeroed, auth.len}};
    assert_int_equal(smb_auth_hmac_md5(exported, 16, iov, 3, mic), 0);
    assert_memory_equal(mic, v.mic, 16);

    /* mechListMIC both ways: client keys for ours, server keys for theirs, seq 0. */
    assert_true(smb_mech_ntlm.wants_mic(st));
    static const uint8_t mt[] = {0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
    smb_buf m = {0};
    assert_int_equal(smb_mech_ntlm.mic_make(st, mt, sizeof mt, &m), 0);
    uint8_t signk[16], sealk[16], want[16];
    smb_rc4 rc4;
    smb_ntlm_sign_key(exported, true, signk);
    smb_ntlm_seal_key(exported, v.flags, true, sealk);
    smb_rc4_init(&rc4, sealk, 16);
    smb_ntlm_mac(signk, &rc4, 0, mt, sizeof mt, want);
    assert_int_equal(m.len, 16);
    assert_memory_equal(m.data, want, 16);
    /* Making it twice gives the same bytes (the RC4 handle is not consumed). */
    smb_buf m2 = {0};
    assert_int_equal(smb_mech_ntlm.mic_make(st, mt, sizeof mt, &m2), 0);
    assert_memory_equal(m.data, m2.data, 16);
    free(m.data);
    free(m2.data);

    smb_ntlm_sign_key(exported, false, signk);
    smb_ntlm_seal_key(exported, v.flags, false, sealk);
    smb_rc4_init(&rc4, sealk, 16);
    smb_ntlm_mac(signk, &rc4, 0, mt, sizeof mt, want);
    assert_int_equal(smb_mech_ntlm.mic_check(st, mt, sizeof mt, want, 16), 0);
    assert_int_not_equal(smb_mech_ntlm.mic_check(st, mt, sizeof mt, want, 15), 0);
    want[5] ^= 1;
    assert_int_not_equal(smb_mech_ntlm.mic_check(st, mt, sizeof mt, want, 16), 0);

    free(neg.data);
    free(auth.data);
    smb_mech_ntlm.free(st);
}

/*
 * A server offering key exchange without signing or sealing (impacket's
 * CHALLENGE: KEY_EXCH, no SIGN): the AUTHENTICATE keeps KEY_EXCH and
 * carries an EncryptedRandomSessionKey, and the session key is the random
 * key it carries, as Samba's client does; the server then signs with it. A
 * server that leaves KEY_EXCH out gets none, and the session key is the
 * session base key (MS-NLMP 3.1.5.1.2).
 */
static void test_key_exchange_without_sign(void **state)
{
    (void)state;
    for (int offer = 0; offer < 2; offer++) {
        smb_auth_params p = {.user = "alice", .domain = "WORKGROUP", .password = "Secr3t!", .workstation = "",
                             .target_host = "server.example", .random = fixed_random};
        void *st = smb_ntlm_new(&p);
        assert_non_null(st);
        smb_error err = {0};
        smb_buf neg = {0}, auth = {0};
        assert_int_equal(smb_mech_ntlm.step(st, NULL, 0, &neg, &err), SMB_AUTH_CONTINUE);
        uint8_t ti[256], chal[512];
        size_t tl = modern_target_info(ti);
        uint32_t flags = 0xe28a8215u & ~(uint32_t)(NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_ALWAYS_SIGN |
                                                   NTLMSSP_NEGOTIATE_SEAL);
        if (!offer)
            flags &= ~(uint32_t)NTLMSSP_NEGOTIATE_KEY_EXCH;
        size_t cl = build_challenge(chal, sizeof chal, flags, SC2, ti, tl);
        assert_int_equal(smb_mech_ntlm.step(st, chal, cl, &auth, &err), SMB_AUTH_DONE);
        auth_view v;
        view_auth(auth.data, auth.len, &v);
        assert_false(v.flags & NTLMSSP_NEGOTIATE_SIGN);
        uint8_t pw[64], nth[16], user[32], dom[32], key[16], proof[16], base[16], sk[16], want[16];
        smb_ntlm_nt_hash(pw, u16("Secr3t!", pw), nth);
        size_t ul = u16("ALICE", user), dl = u16("WORKGROUP", dom);
        assert_int_equal(smb_ntlm_ntowfv2(nth, user, ul, dom, dl, key), 0);
        assert_int_equal(smb_ntlm_v2_proof(key, SC2, v.nt.base + 16, v.nt.len - 16, proof, base), 0);
        size_t skl = 0;
        assert_int_equal(smb_mech_ntlm.session_key(st, sk, sizeof sk, &skl), 0);
        assert_int_equal(skl, 16);
        if (offer) {
            assert_true(v.flags & NTLMSSP_NEGOTIATE_KEY_EXCH);
            assert_int_equal(v.key.len, 16);
            smb_rc4k(base, v.key.base, want, 16);      /* what the server decrypts */
            memset(proof, 0x55, 16);                  /* fixed_random's session key */
            assert_memory_equal(want, proof, 16);
            assert_memory_equal(sk, want, 16);
        } else {
            assert_false(v.flags & NTLMSSP_NEGOTIATE_KEY_EXCH);
            assert_int_equal(v.key.len, 0);
            assert_memory_equal(sk, base, 16);
        }
        free(neg.data);
        free(auth.data);
        smb_mech_ntlm.free(st);
    }
}

/* Non-ASCII names: UTF-16 with a surrogate pair; NTOWFv2 upper-cases ü. */
static void test_unicode_user(void **state)
{
    (void)state;
    smb_auth_params p = {.user = "J\xc3\xbcrgen\xf0\x9f\x98\x80", .domain = "D", .password = "p\xc3\xa4ss",
                         .random = fixed_random};
    smb_buf neg = {0}, auth = {0};
    uint8_t chal[512];
    size_t cl;
    void *st = modern_exchange(&p, &neg, chal, &cl, &auth);
    auth_view v;
    view_auth(auth.data, auth.len, &v);
    static const uint8_t want_user[] = {'J', 0, 0xfc, 0, 'r', 0, 'g', 0, 'e', 0, 'n', 0, 0x3d, 0xd8, 0x00, 0xde};
    assert_rd_eq(&v.user, want_user, sizeof want_user);

    uint8_t upper[sizeof want_user], pw[8] = {'p', 0, 0xe4, 0, 's', 0, 's', 0}, nth[16], key[16], proof[16];
    memcpy(upper, want_user, sizeof upper);
    for (size_t i = 0; i < 12; i += 2)
        if (upper[i] >= 'a' || upper[i] == 0xfc)
            upper[i] = (uint8_t)(upper[i] - 0x20);
    smb_ntlm_nt_hash(pw, sizeof pw, nth);
    assert_int_equal(smb_ntlm_ntowfv2(nth, upper, sizeof upper, (const uint8_t *)"D\0", 2, key), 0);
    assert_int_equal(smb_ntlm_v2_proof(key, SC2, v.nt.base + 16, v.nt.len - 16, proof, NULL), 0);
    assert_memory_equal(proof, v.nt.base, 16);
    free(neg.data);
    free(auth.data);
    smb_mech_ntlm.free(st);
}

static void test_bad_utf8(void **state)
{
    (void)state;
    static const char *bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "abc\xe2\x82", "\xff", "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smb_auth_params p = {.user = "u", .password = bad[i]};
        void *st = smb_ntlm_new(&p);
        assert_non_null(st);
        smb_error err = {0};
        smb_buf out = {0};
        assert_int_equal(smb_mech_ntlm.step(st, NULL, 0, &out, &err), SMB_ERR_INVALID_ARG);
        assert_non_null(strstr(err.message, "password"));
        assert_null(out.data);
        smb_mech_ntlm.free(st);
    }
}

static void test_anonymous(void **state)
{
    (void)state;
    smb_auth_params p = {.anonymous = true, .user = "ignored", .password = "ignored", .random = fixed_random};
    smb_buf neg = {0}, auth = {0};
    uint8_t chal[512];
    size_t cl;
    void *st = modern_exchange(&p, &neg, chal, &cl, &auth);
    auth_view v;
    view_auth(auth.data, auth.len, &v);
    /* MS-NLMP 3.3.2 anonymous: no user, empty NT response, LM Z(1). */
    assert_true(v.flags & NTLMSSP_NEGOTIATE_ANONYMOUS);
    assert_int_equal(v.user.len, 0);
    assert_int_equal(v.domain.len, 0);
    assert_int_equal(v.nt.len, 0);
    assert_int_equal(v.lm.len, 1);
    assert_int_equal(v.lm.base[0], 0);
    uint8_t z[16] = {0};
    assert_memory_equal(v.mic, z, 16);
    assert_true(smb_mech_ntlm.is_anonymous(st));
    assert_false(smb_mech_ntlm.wants_mic(st));
    uint8_t key[16];
    size_t kl;
    assert_int_equal(smb_mech_ntlm.session_key(st, key, sizeof key, &kl), 0);
    assert_memory_equal(key, z, 16);
    smb_buf m = {0};
    assert_int_not_equal(smb_mech_ntlm.mic_make(st, z, 4, &m), 0);
    assert_null(m.data);
    free(neg.data);
    free(auth.data);
    smb_mech_ntlm.free(st);
}

/* ------------------------------------------------------------ hostile CHALLENGEs */

/* Feed msg as the CHALLENGE to a fresh mechanism; return step's result. */
static int feed_challenge(const uint8_t *msg, size_t len)
{
    smb_auth_params p = {.user = "u", .domain = "d", .password = "p", .random = fixed_random, .now = time_zero};
    void *st = smb_ntlm_new(&p);
    assert_non_null(st);
    smb_error err = {0};
    smb_buf neg = {0}, auth = {0};
    assert_int_equal(smb_mech_ntlm.step(st, NULL, 0, &neg, &err), SMB_AUTH_CONTINUE);
    /* A copy of exactly len bytes so ASan sees any overread. */
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, msg, len);
    int rc = smb_mech_ntlm.step(st, copy, len, &auth, &err);
    if (rc < 0) {
        assert_null(auth.data);
        assert_true(err.message[0] != '\0');
    }
    free(copy);
    free(neg.data);
    free(auth.data);
    smb_mech_ntlm.free(st);
    return rc;
}

static void test_challenge_truncated(void **state)
{
    (void)state;
    uint8_t ti[256], chal[512];
    size_t tl = modern_target_info(ti);
    size_t cl = build_challenge(chal, sizeof chal, 0xe28a8215u, SC2, ti, tl);
    assert_int_equal(feed_challenge(chal, cl), SMB_AUTH_DONE);
    /* Every shorter prefix fails cleanly: the TargetInfo field points past the end. */
    for (size_t n = 0; n < cl; n++)
        assert_int_equal(feed_challenge(chal, n), SMB_ERR_PROTOCOL);
}

static void test_challenge_corrupt(void **state)
{
    (void)state;
    uint8_t ti[256], chal[512], m[512];
    size_t tl = modern_target_info(ti);
    size_t cl = build_challenge(chal, sizeof chal, 0xe28a8215u, SC2, ti, tl);

    memcpy(m, chal, cl);
    m[8] = 3; /* wrong MessageType */
    assert_int_equal(feed_challenge(m, cl), SMB_ERR_PROTOCOL);
    memcpy(m, chal, cl);
    m[0] = 'X'; /* wrong signature */
    assert_int_equal(feed_challenge(m, cl), SMB_ERR_PROTOCOL);
    memcpy(m, chal, cl);
    smb_put32(m + 44, 0xfffffff0u); /* TargetInfo offset overflow */
    assert_int_equal(feed_challenge(m, cl), SMB_ERR_PROTOCOL);
    memcpy(m, chal, cl);
    smb_put16(m + 40, 0xffff); /* TargetInfo length past the end */
    assert_int_equal(feed_challenge(m, cl), SMB_ERR_PROTOCOL);
    memcpy(m, chal, cl);
    smb_put16(m + 56 + 2, 0xfff0); /* first AV pair's length past TargetInfo */
    assert_int_equal(feed_challenge(m, cl), SMB_ERR_PROTOCOL);
    memcpy(m, chal, cl);
    smb_put16(m + 40, (uint16_t)(tl - 4)); /* TargetInfo without MsvAvEOL */
    assert_int_equal(feed_challenge(m, cl), SMB_ERR_PROTOCOL);
    memcpy(m, chal, cl);
    smb_put32(m + 20, 0xe28a8214u); /* no Unicode */
    assert_int_equal(feed_challenge(m, cl), SMB_ERR_PROTOCOL);

    /* A 32-byte message without TargetInfo is old but acceptable. */
    memcpy(m, chal, 32);
    smb_put32(m + 20, 0x00088205u);
    assert_int_equal(feed_challenge(m, 32), SMB_AUTH_DONE);

    /* Random corruption of every byte never crashes. */
    for (size_t i = 0; i < cl; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(m, chal, cl);
            m[i] ^= (uint8_t)(1u << bit);
            int rc = feed_challenge(m, cl);
            assert_true(rc == SMB_AUTH_DONE || rc == SMB_ERR_PROTOCOL);
        }
    }
    /* An empty CHALLENGE is refused. */
    assert_int_equal(feed_challenge(chal, 0), SMB_ERR_PROTOCOL);
}

/* ------------------------------------------------------------ user names */

static void split(const char *name, const char *def, const char *want_user, const char *want_domain)
{
    char *u = NULL, *d = NULL;
    assert_int_equal(smb_auth_split_user(name, def, &u, &d), 0);
    assert_string_equal(u, want_user);
    assert_string_equal(d, want_domain);
    free(u);
    free(d);
}

static void test_split_user(void **state)
{
    (void)state;
    split("CORP\\alice", "DEF", "alice", "CORP");
    split("alice@corp.example.com", "DEF", "alice", "corp.example.com");
    split("alice", "DEF", "alice", "DEF");
    split("alice", NULL, "alice", "");
    split("", NULL, "", "");
    split(NULL, "X", "", "X");
    split("CORP\\a@b", NULL, "a@b", "CORP");
    split("a@b@c", NULL, "a@b", "c");
    split("\\bob", "X", "bob", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md4_rfc1320),
        cmocka_unit_test(test_md4_block_edges),
        cmocka_unit_test(test_rc4_rfc6229),
        cmocka_unit_test(test_hmac_md5_rfc2104),
        cmocka_unit_test(test_spec_ntowfv2),
        cmocka_unit_test(test_spec_responses),
        cmocka_unit_test(test_spec_seal_sign),
        cmocka_unit_test(test_spec_exchange),
        cmocka_unit_test(test_modern_exchange),
        cmocka_unit_test(test_key_exchange_without_sign),
        cmocka_unit_test(test_unicode_user),
        cmocka_unit_test(test_bad_utf8),
        cmocka_unit_test(test_anonymous),
        cmocka_unit_test(test_challenge_truncated),
        cmocka_unit_test(test_challenge_corrupt),
        cmocka_unit_test(test_split_user),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

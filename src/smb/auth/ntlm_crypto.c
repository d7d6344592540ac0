/*
 * Primitives for NTLM: MD4 (RFC 1320) and RC4 written here, MD5 and
 * HMAC-MD5 through OpenSSL 3's default provider.
 */
#include "ntlm_crypto.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/wire.h"

/* ------------------------------------------------------------ MD4 (RFC 1320) */

static inline uint32_t rotl32(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

/* The three auxiliary functions of RFC 1320 3.4. */
#define MD4_F(x, y, z) (((x) & (y)) | (~(x) & (z)))
#define MD4_G(x, y, z) (((x) & (y)) | ((x) & (z)) | ((y) & (z)))
#define MD4_H(x, y, z) ((x) ^ (y) ^ (z))

/* Process one 64-byte block into the state abcd (RFC 1320 3.4). */
static void md4_block(uint32_t st[4], const uint8_t blk[64])
{
    /* Word order and shifts of rounds 2 and 3. */
    static const uint8_t r2[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
    static const uint8_t r3[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
    static const uint8_t s1[4] = {3, 7, 11, 19}, s2[4] = {3, 5, 9, 13}, s3[4] = {3, 9, 11, 15};
    uint32_t x[16];
    for (size_t i = 0; i < 16; i++)
        x[i] = smb_le32(blk + 4 * i);

    /* v[0..3] = a, b, c, d; each step updates v[(-i) mod 4] so the roles
     * rotate a, d, c, b as in the RFC's listing. */
    uint32_t v[4] = {st[0], st[1], st[2], st[3]};
    for (int i = 0; i < 16; i++) {
        int a = (16 - i) & 3, b = (17 - i) & 3, c = (18 - i) & 3, d = (19 - i) & 3;
        v[a] = rotl32(v[a] + MD4_F(v[b], v[c], v[d]) + x[i], s1[i & 3]);
    }
    for (int i = 0; i < 16; i++) {
        int a = (16 - i) & 3, b = (17 - i) & 3, c = (18 - i) & 3, d = (19 - i) & 3;
        v[a] = rotl32(v[a] + MD4_G(v[b], v[c], v[d]) + x[r2[i]] + 0x5a827999u, s2[i & 3]);
    }
    for (int i = 0; i < 16; i++) {
        int a = (16 - i) & 3, b = (17 - i) & 3, c = (18 - i) & 3, d = (19 - i) & 3;
        v[a] = rotl32(v[a] + MD4_H(v[b], v[c], v[d]) + x[r3[i]] + 0x6ed9eba1u, s3[i & 3]);
    }
    for (int i = 0; i < 4; i++)
        st[i] += v[i];
    smb_auth_wipe(x, sizeof x);
}

void smb_md4(const void *data, size_t len, uint8_t out[16])
{
    uint32_t st[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    const uint8_t *p = data;
    size_t left = len;
    for (; left >= 64; left -= 64, p += 64)
        md4_block(st, p);

    /* Padding: 0x80, zeros to 56 mod 64, bit length little-endian (RFC 1320 3.1, 3.2). */
    uint8_t tail[128] = {0};
    if (left)
        memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t tlen = left < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    smb_put64(tail + tlen - 8, bits);
    md4_block(st, tail);
    if (tlen == 128)
        md4_block(st, tail + 64);

    for (size_t i = 0; i < 4; i++)
        smb_put32(out + 4 * i, st[i]);
    smb_auth_wipe(tail, sizeof tail);
    smb_auth_wipe(st, sizeof st);
}

/* ------------------------------------------------------------ RC4 */

void smb_rc4_init(smb_rc4 *rc4, const uint8_t *key, size_t key_len)
{
    for (int i = 0; i < 256; i++)
        rc4->s[i] = (uint8_t)i;
    uint8_t j = 0;
    for (int i = 0; i < 256; i++) {
        j = (uint8_t)(j + rc4->s[i] + key[(size_t)i % key_len]);
        uint8_t t = rc4->s[i];
        rc4->s[i] = rc4->s[j];
        rc4->s[j] = t;
    }
    rc4->i = rc4->j = 0;
}

void smb_rc4_crypt(smb_rc4 *rc4, const uint8_t *in, uint8_t *out, size_t len)
{
    uint8_t i = rc4->i, j = rc4->j;
    for (size_t n = 0; n < len; n++) {
        i = (uint8_t)(i + 1);
        j = (uint8_t)(j + rc4->s[i]);
        uint8_t t = rc4->s[i];
        rc4->s[i] = rc4->s[j];
        rc4->s[j] = t;
        out[n] = in[n] ^ rc4->s[(uint8_t)(rc4->s[i] + rc4->s[j])];
    }
    rc4->i = i;
    rc4->j = j;
}

void smb_rc4_wipe(smb_rc4 *rc4) { smb_auth_wipe(rc4, sizeof *rc4); }

void smb_rc4k(const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t len)
{
    smb_rc4 rc4;
    smb_rc4_init(&rc4, key, 16);
    smb_rc4_crypt(&rc4, in, out, len);
    smb_rc4_wipe(&rc4);
}

/* ------------------------------------------------------------ MD5, HMAC-MD5 */

int smb_auth_md5(const smb_iov *iov, int n, uint8_t out[16])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_MD *md = EVP_MD_fetch(NULL, "MD5", NULL);
    unsigned olen = 0;
    int ok = ctx && md && EVP_DigestInit_ex(ctx, md, NULL) == 1;
    for (int i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, iov[i].base, iov[i].len) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, out, &olen) == 1 && olen == 16;
    EVP_MD_free(md);
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

int smb_auth_hmac_md5(const uint8_t *key, size_t key_len, const smb_iov *iov, int n, uint8_t out[16])
{
    return smb_mac("HMAC", OSSL_MAC_PARAM_DIGEST, "MD5", key, key_len, iov, n, out, 16);
}

bool smb_auth_ct_equal(const void *a, const void *b, size_t n) { return CRYPTO_memcmp(a, b, n) == 0; }

void smb_auth_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

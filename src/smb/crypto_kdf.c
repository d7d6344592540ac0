/*
 * The SMB 3.x key derivation function and the 3.1.1 preauth integrity hash.
 */
#include "crypto.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/wire.h"

#define SHA256_LEN 32
#define SHA512_LEN 64
/* Longest KDF output accepted: two PRF blocks cover AES-256 keys. */
#define KDF_MAX_OUT 64

/*
 * SP800-108 5.1 counter mode with r = 32 and PRF = HMAC-SHA256, as MS-SMB2
 * 3.1.4.2 uses it: block i is PRF(Ki, [i]_32 || Label || 0x00 || Context ||
 * [L]_32), all integers big-endian, and the output is the first L bits of
 * block 1 || block 2 || ...
 */
int smb_kdf(const uint8_t *ki, size_t ki_len, const void *label, size_t label_len,
            const void *context, size_t context_len, uint8_t *out, size_t out_len)
{
    if (!ki || !out || out_len == 0 || out_len > KDF_MAX_OUT || (label_len && !label) ||
        (context_len && !context))
        return -1;
    static const uint8_t separator = 0x00;
    uint8_t counter[4], bits[4], block[SHA256_LEN];
    smb_put_be32(bits, (uint32_t)(out_len * 8));
    smb_iov in[5] = {
        {counter, sizeof counter}, {label, label_len},   {&separator, 1},
        {context, context_len},    {bits, sizeof bits},
    };
    int rc = 0;
    size_t done = 0;
    for (uint32_t i = 1; rc == 0 && done < out_len; i++) {
        smb_put_be32(counter, i);
        rc = smb_hmac_sha256(ki, ki_len, in, 5, block);
        size_t take = out_len - done < SHA256_LEN ? out_len - done : SHA256_LEN;
        if (rc == 0)
            memcpy(out + done, block, take);
        done += take;
    }
    OPENSSL_cleanse(block, sizeof block);
    if (rc != 0)
        OPENSSL_cleanse(out, out_len);
    return rc;
}

/* MS-SMB2 3.2.5.2 / 3.3.5.4: PreauthIntegrityHashValue = SHA-512(value || message). */
int smb_preauth_update(uint8_t hash[64], const smb_iov *iov, int n)
{
    if (!hash || n < 0 || (n > 0 && !iov))
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t md[SHA512_LEN];
    unsigned int mdlen = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) && EVP_DigestUpdate(ctx, hash, SHA512_LEN);
    for (int i = 0; ok && i < n; i++)
        if (iov[i].len)
            ok = EVP_DigestUpdate(ctx, iov[i].base, iov[i].len);
    ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == SHA512_LEN;
    EVP_MD_CTX_free(ctx);
    if (ok)
        memcpy(hash, md, SHA512_LEN);
    return ok ? 0 : -1;
}

/*
 * Message authentication codes through OpenSSL 3's EVP_MAC: one function
 * that runs any of them over a message in pieces, and HMAC-SHA256 on top.
 * Signing (crypto_sign.c), the KDF (crypto_kdf.c) and NTLM's HMAC-MD5
 * (auth/ntlm_crypto.c) all go through smb_mac.
 */
#include "crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

int smb_mac(const char *alg, const char *param, const char *value, const uint8_t *key, size_t key_len,
            const smb_iov *iov, int n, uint8_t *out, size_t out_len)
{
    if (!alg || !param || !value || !key || !out || n < 0 || (n > 0 && !iov))
        return -1;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, alg, NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(param, (char *)value, 0),
        OSSL_PARAM_construct_end(),
    };
    size_t outl = 0;
    int ok = ctx && EVP_MAC_init(ctx, key, key_len, params) == 1;
    for (int i = 0; ok && i < n; i++)
        if (iov[i].len)
            ok = EVP_MAC_update(ctx, iov[i].base, iov[i].len) == 1;
    ok = ok && EVP_MAC_final(ctx, out, &outl, out_len) == 1 && outl == out_len;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

int smb_hmac_sha256(const uint8_t *key, size_t key_len, const smb_iov *iov, int n, uint8_t out[32])
{
    return smb_mac("HMAC", OSSL_MAC_PARAM_DIGEST, "SHA256", key, key_len, iov, n, out, 32);
}

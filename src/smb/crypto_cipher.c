/*
 * SMB 3.x message encryption (MS-SMB2 3.1.4.3, 3.2.5.1.1.1): AES-CCM with an
 * 11-byte nonce and AES-GCM with a 12-byte nonce, 128- or 256-bit keys, a
 * 16-byte tag, the transform header as AAD.
 *
 * GCM streams: every plaintext or ciphertext piece goes through its own
 * EVP update, straight between the caller's buffers. CCM (RFC 3610) cannot:
 * its CBC-MAC needs the message length before any data, and OpenSSL takes
 * the AAD and the whole message in one update call each. Encryption gathers
 * the pieces into the output buffer and encrypts it in place; decryption into
 * several pieces goes through a temporary buffer (see ccm_decrypt).
 */
#include "crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <smbcopy/smb.h>

#define TAG_LEN 16

static const EVP_CIPHER *cipher_evp(int cipher)
{
    switch (cipher) {
    case SMB_CIPHER_AES_128_CCM:
        return EVP_aes_128_ccm();
    case SMB_CIPHER_AES_128_GCM:
        return EVP_aes_128_gcm();
    case SMB_CIPHER_AES_256_CCM:
        return EVP_aes_256_ccm();
    case SMB_CIPHER_AES_256_GCM:
        return EVP_aes_256_gcm();
    default:
        return NULL;
    }
}

static bool is_ccm(int cipher)
{
    return cipher == SMB_CIPHER_AES_128_CCM || cipher == SMB_CIPHER_AES_256_CCM;
}

size_t smb_cipher_key_len(int cipher)
{
    switch (cipher) {
    case SMB_CIPHER_AES_128_CCM:
    case SMB_CIPHER_AES_128_GCM:
        return 16;
    case SMB_CIPHER_AES_256_CCM:
    case SMB_CIPHER_AES_256_GCM:
        return 32;
    default:
        return 0;
    }
}

/* MS-SMB2 2.2.41: AES_CCM_Nonce is 11 bytes, AES_GCM_Nonce 12. */
size_t smb_cipher_nonce_len(int cipher)
{
    if (!cipher_evp(cipher))
        return 0;
    return is_ccm(cipher) ? 11 : 12;
}

/* Add len to *sum; false when the piece is unusable or the sum would exceed
 * INT_MAX (EVP lengths are int; no SMB message comes near that). */
static bool add_len(const void *base, size_t len, size_t *sum)
{
    if ((len && !base) || len > (size_t)INT_MAX - *sum)
        return false;
    *sum += len;
    return true;
}

static bool iov_total(const smb_iov *iov, int n, size_t *total)
{
    *total = 0;
    for (int i = 0; i < n; i++)
        if (!add_len(iov[i].base, iov[i].len, total))
            return false;
    return true;
}

static bool iov_mut_total(const smb_iov_mut *iov, int n, size_t *total)
{
    *total = 0;
    for (int i = 0; i < n; i++)
        if (!add_len(iov[i].base, iov[i].len, total))
            return false;
    return true;
}

static bool args_ok(int cipher, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                    const void *pieces, int n, const uint8_t *tag)
{
    return cipher_evp(cipher) && key && nonce && tag && (aad || aad_len == 0) && aad_len <= INT_MAX &&
           n >= 0 && (pieces || n == 0);
}

/*
 * A context keyed with key and nonce. For CCM the tag length (and, when
 * decrypting, the expected tag) and the message length must be known before
 * the AAD (RFC 3610 2.2); GCM gets its tag at the end.
 */
static EVP_CIPHER_CTX *aead_begin(int cipher, int enc, const uint8_t *key, const uint8_t *nonce,
                                  const uint8_t *tag, size_t len)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    bool ccm = is_ccm(cipher);
    int outl = 0;
    int ok = ctx && EVP_CipherInit_ex(ctx, cipher_evp(cipher), NULL, NULL, NULL, enc) &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, (int)smb_cipher_nonce_len(cipher), NULL) &&
             (!ccm || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, enc ? NULL : (void *)tag)) &&
             EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) &&
             (!ccm || EVP_CipherUpdate(ctx, NULL, &outl, NULL, (int)len));
    if (!ok) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* The AAD in one call (CCM accepts no more than one). */
static bool add_aad(EVP_CIPHER_CTX *ctx, const uint8_t *aad, size_t aad_len)
{
    int outl = 0;
    return aad_len == 0 || EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len);
}

/* One update of exactly len bytes; in and out are never NULL, as an empty CCM
 * message still needs this call to compute or check its tag. */
static bool update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
    uint8_t dummy = 0;
    int outl = 0;
    return EVP_CipherUpdate(ctx, out ? out : &dummy, &outl, in ? in : &dummy, (int)len) && (size_t)outl == len;
}

static bool gcm_encrypt(EVP_CIPHER_CTX *ctx, const smb_iov *iov, int n, uint8_t *out)
{
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        if (iov[i].len == 0)
            continue;
        if (!update(ctx, out + off, iov[i].base, iov[i].len))
            return false;
        off += iov[i].len;
    }
    return true;
}

/* One piece encrypts directly; several are gathered into out first. */
static bool ccm_encrypt(EVP_CIPHER_CTX *ctx, const smb_iov *iov, int n, uint8_t *out, size_t total)
{
    if (n == 1)
        return update(ctx, out, iov[0].base, total);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        if (iov[i].len)
            memmove(out + off, iov[i].base, iov[i].len);
        off += iov[i].len;
    }
    return update(ctx, out, out, total);
}

int smb_encrypt(int cipher, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                const smb_iov *iov, int n, uint8_t *out, uint8_t tag[16])
{
    size_t total = 0;
    if (!args_ok(cipher, key, nonce, aad, aad_len, iov, n, tag) || !iov_total(iov, n, &total) ||
        (total && !out))
        return -1;
    EVP_CIPHER_CTX *ctx = aead_begin(cipher, 1, key, nonce, NULL, total);
    uint8_t none[16];
    int outl = 0;
    bool ok = ctx && add_aad(ctx, aad, aad_len) &&
              (is_ccm(cipher) ? ccm_encrypt(ctx, iov, n, out, total) : gcm_encrypt(ctx, iov, n, out)) &&
              EVP_EncryptFinal_ex(ctx, none, &outl) &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, tag);
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

static bool gcm_decrypt(EVP_CIPHER_CTX *ctx, const uint8_t *in, const smb_iov_mut *out, int n,
                        const uint8_t *tag)
{
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        if (out[i].len == 0)
            continue;
        if (!update(ctx, out[i].base, in + off, out[i].len))
            return false;
        off += out[i].len;
    }
    uint8_t none[16];
    int outl = 0;
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, (void *)tag) &&
           EVP_DecryptFinal_ex(ctx, none, &outl) > 0;
}

/*
 * CCM decrypts and checks the tag in a single update whose output must be
 * contiguous. One piece is written directly; for several, the plaintext goes
 * through a temporary buffer and is scattered only once the tag verified.
 */
static bool ccm_decrypt(EVP_CIPHER_CTX *ctx, const uint8_t *in, size_t len, const smb_iov_mut *out, int n)
{
    if (n == 1)
        return update(ctx, out[0].base, in, len);
    uint8_t *tmp = malloc(len ? len : 1);
    if (!tmp)
        return false;
    bool ok = update(ctx, tmp, in, len);
    size_t off = 0;
    for (int i = 0; ok && i < n; i++) {
        if (out[i].len)
            memcpy(out[i].base, tmp + off, out[i].len);
        off += out[i].len;
    }
    OPENSSL_clear_free(tmp, len ? len : 1);
    return ok;
}

static void wipe(const smb_iov_mut *out, int n)
{
    for (int i = 0; i < n; i++)
        if (out[i].len)
            OPENSSL_cleanse(out[i].base, out[i].len);
}

int smb_decrypt(int cipher, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                const uint8_t *in, size_t len, const smb_iov_mut *out, int n, const uint8_t tag[16])
{
    size_t total = 0;
    if (!args_ok(cipher, key, nonce, aad, aad_len, out, n, tag) || !iov_mut_total(out, n, &total) ||
        total != len || (len && !in))
        return -1;
    EVP_CIPHER_CTX *ctx = aead_begin(cipher, 0, key, nonce, tag, len);
    bool ok = ctx && add_aad(ctx, aad, aad_len) &&
              (is_ccm(cipher) ? ccm_decrypt(ctx, in, len, out, n) : gcm_decrypt(ctx, in, out, n, tag));
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        wipe(out, n); /* never leave unauthenticated plaintext behind */
    return ok ? 0 : -1;
}

int smb_gcm_peek(int cipher, const uint8_t *key, const uint8_t *nonce, const uint8_t *in, size_t len, uint8_t *out)
{
    const EVP_CIPHER *ctr = cipher == SMB_CIPHER_AES_128_GCM   ? EVP_aes_128_ctr()
                            : cipher == SMB_CIPHER_AES_256_GCM ? EVP_aes_256_ctr()
                                                               : NULL;
    if (!ctr || len > 1024)
        return -1;
    /* GCM encrypts with AES-CTR from inc32(J0) = nonce || 00000002 (NIST SP 800-38D 7.1). */
    uint8_t iv[16] = {0};
    memcpy(iv, nonce, 12);
    iv[15] = 2;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    bool ok = ctx && EVP_EncryptInit_ex(ctx, ctr, NULL, key, iv) == 1 &&
              EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1 && (size_t)n == len;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

/*
 * SMB2/3 cryptography: signing, key derivation, preauth integrity hash and
 * encryption, all through OpenSSL 3 EVP (which picks AES-NI, VAES and PCLMUL
 * code paths by itself).
 */
#ifndef SMBCOPY_CRYPTO_H
#define SMBCOPY_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** A read-only piece of a message. */
typedef struct smb_iov {
    const void *base;
    size_t len;
} smb_iov;

/** A writable piece of a buffer. */
typedef struct smb_iov_mut {
    void *base;
    size_t len;
} smb_iov_mut;

/**
 * SP800-108 counter-mode KDF with HMAC-SHA256 (MS-SMB2 3.1.4.2): r = 32,
 * L = out_len * 8 bits, output = PRF(Ki, i || Label || 0x00 || Context || L).
 * label and context are passed with their trailing NULs as the spec lists
 * them (e.g. "SMBSigningKey\0", 14 bytes). Returns 0 or -1.
 */
int smb_kdf(const uint8_t *ki, size_t ki_len, const void *label, size_t label_len,
            const void *context, size_t context_len, uint8_t *out, size_t out_len);

/**
 * The MAC named alg by OpenSSL ("HMAC", "CMAC") over the concatenation of
 * iov[0..n), with its one parameter param (OSSL_MAC_PARAM_DIGEST for an
 * HMAC, OSSL_MAC_PARAM_CIPHER for a CMAC) set to value ("SHA256",
 * "AES-128-CBC"). Writes exactly out_len bytes to out. Returns 0, or -1 when
 * an argument is missing, OpenSSL fails or the MAC is not out_len bytes long.
 */
int smb_mac(const char *alg, const char *param, const char *value, const uint8_t *key, size_t key_len,
            const smb_iov *iov, int n, uint8_t *out, size_t out_len);

/** HMAC-SHA256 over the concatenation of iov[0..n); out is 32 bytes. Returns 0 or -1. */
int smb_hmac_sha256(const uint8_t *key, size_t key_len, const smb_iov *iov, int n, uint8_t out[32]);

/**
 * 3.1.1 preauth integrity hash step (MS-SMB2 3.2.5.2, 3.3.5.4):
 * hash = SHA-512(hash || message), message given as iov[0..n).
 */
int smb_preauth_update(uint8_t hash[64], const smb_iov *iov, int n);

/**
 * Compute the 16-byte signature of one SMB2 message given as iov[0..n)
 * (MS-SMB2 3.1.4.1). iov[0] must start with the 64-byte header whose
 * Signature field the caller has zeroed. alg is an smb_signing_alg:
 * HMAC-SHA256 (key of 16 bytes, first 16 bytes of the MAC), AES-128-CMAC,
 * or AES-128-GMAC (nonce = MessageId || role/cancel bits, taken from the
 * header in iov[0]). Returns 0 or -1.
 */
int smb_sign(int alg, const uint8_t key[16], const smb_iov *iov, int n, uint8_t sig[16]);

/** Key length in bytes for a cipher (16 or 32), 0 if unknown. */
size_t smb_cipher_key_len(int cipher);
/** Nonce length used in the transform header: 11 for CCM, 12 for GCM, 0 if unknown. */
size_t smb_cipher_nonce_len(int cipher);

/**
 * Encrypt plaintext iov[0..n) with an AES-CCM/GCM cipher (MS-SMB2 3.1.4.3):
 * aad is the transform header from its Nonce field to its end (32 bytes),
 * nonce is 11 (CCM) or 12 (GCM) bytes; ciphertext goes to out (total length
 * of the iovs), the 16-byte tag to tag. Returns 0 or -1.
 */
int smb_encrypt(int cipher, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                const smb_iov *iov, int n, uint8_t *out, uint8_t tag[16]);

/**
 * Decrypt and authenticate in[0..len) into the pieces out[0..n) (total
 * length len; the pieces let a READ payload land in the caller's buffer).
 * Returns 0, or -1 when the tag does not verify (out is then garbage and
 * must not be used).
 */
int smb_decrypt(int cipher, const uint8_t *key, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                const uint8_t *in, size_t len, const smb_iov_mut *out, int n, const uint8_t tag[16]);

/**
 * Decrypt the first len (at most 1024) bytes of a GCM ciphertext without
 * checking the tag: only to learn where a message's payload should land
 * before the authenticated smb_decrypt() of the whole message, whose result
 * alone is trusted. -1 for a cipher that is not GCM.
 */
int smb_gcm_peek(int cipher, const uint8_t *key, const uint8_t *nonce, const uint8_t *in, size_t len, uint8_t *out);

/** A one-line description of the AES code path OpenSSL uses on this CPU (e.g. "AES-NI + PCLMULQDQ"). */
const char *smb_crypto_aes_impl(void);

#endif

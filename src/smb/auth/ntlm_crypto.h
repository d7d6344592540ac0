/*
 * Cryptography for NTLM (MS-NLMP 6, 3.3.2, 3.4).
 *
 * MD4 and RC4 are written here: OpenSSL 3 keeps them in the legacy provider,
 * which is often not loaded. MD5 and HMAC-MD5 come from OpenSSL's default
 * provider. On top of the primitives sit the NTLMv2 formulas: NTOWFv2, the
 * NTLMv2 and LMv2 responses, the session base key, the signing and sealing
 * keys and the message signature with extended session security.
 */
#ifndef SMBCOPY_NTLM_CRYPTO_H
#define SMBCOPY_NTLM_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h" /* smb_iov */

/* ------------------------------------------------------------ primitives */

/** MD4 of data[0..len) (RFC 1320). */
void smb_md4(const void *data, size_t len, uint8_t out[16]);

/** RC4 keystream state (the "Handle" of MS-NLMP 3.4). */
typedef struct smb_rc4 {
    uint8_t s[256];
    uint8_t i, j;
} smb_rc4;

/** Key the state with key[0..key_len) (key_len 1..256). */
void smb_rc4_init(smb_rc4 *rc4, const uint8_t *key, size_t key_len);
/** XOR len bytes of keystream into in, writing out (in == out allowed). */
void smb_rc4_crypt(smb_rc4 *rc4, const uint8_t *in, uint8_t *out, size_t len);
/** Forget the state. */
void smb_rc4_wipe(smb_rc4 *rc4);
/** One-shot RC4K(key, data) of MS-NLMP 6 for a 16-byte key; in == out allowed. */
void smb_rc4k(const uint8_t key[16], const uint8_t *in, uint8_t *out, size_t len);

/** MD5 over the concatenation of iov[0..n). Returns 0 or -1. */
int smb_auth_md5(const smb_iov *iov, int n, uint8_t out[16]);
/** HMAC-MD5 (RFC 2104) over the concatenation of iov[0..n). Returns 0 or -1. */
int smb_auth_hmac_md5(const uint8_t *key, size_t key_len, const smb_iov *iov, int n, uint8_t out[16]);

/** Compare n bytes in constant time; true when equal. */
bool smb_auth_ct_equal(const void *a, const void *b, size_t n);
/** Zero n bytes in a way the compiler keeps. */
void smb_auth_wipe(void *p, size_t n);

/* ------------------------------------------------------------ NTLMv2 (MS-NLMP 3.3.2) */

/* NegotiateFlags bits (MS-NLMP 2.2.2.5). */
#define NTLMSSP_NEGOTIATE_UNICODE 0x00000001u
#define NTLMSSP_NEGOTIATE_OEM 0x00000002u
#define NTLMSSP_REQUEST_TARGET 0x00000004u
#define NTLMSSP_NEGOTIATE_SIGN 0x00000010u
#define NTLMSSP_NEGOTIATE_SEAL 0x00000020u
#define NTLMSSP_NEGOTIATE_LM_KEY 0x00000080u
#define NTLMSSP_NEGOTIATE_NTLM 0x00000200u
#define NTLMSSP_NEGOTIATE_ANONYMOUS 0x00000800u
#define NTLMSSP_NEGOTIATE_ALWAYS_SIGN 0x00008000u
#define NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY 0x00080000u
#define NTLMSSP_NEGOTIATE_TARGET_INFO 0x00800000u
#define NTLMSSP_NEGOTIATE_VERSION 0x02000000u
#define NTLMSSP_NEGOTIATE_128 0x20000000u
#define NTLMSSP_NEGOTIATE_KEY_EXCH 0x40000000u
#define NTLMSSP_NEGOTIATE_56 0x80000000u

/** NTOWFv1: MD4 of the UTF-16LE password (MS-NLMP 3.3.1). */
void smb_ntlm_nt_hash(const uint8_t *password16, size_t len, uint8_t out[16]);

/**
 * NTOWFv2 = HMAC_MD5(NT hash, UPPER(User) || UserDom), both UTF-16LE; the
 * caller upper-cases user16 (MS-NLMP 3.3.2). Returns 0 or -1.
 */
int smb_ntlm_ntowfv2(const uint8_t nt_hash[16], const uint8_t *user16_upper, size_t user_len,
                     const uint8_t *domain16, size_t domain_len, uint8_t out[16]);

/**
 * NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge || temp) and
 * SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr) (MS-NLMP 3.3.2);
 * temp is the NTLMv2_CLIENT_CHALLENGE. base_key may be NULL. Returns 0 or -1.
 */
int smb_ntlm_v2_proof(const uint8_t key[16], const uint8_t server_challenge[8], const uint8_t *temp,
                      size_t temp_len, uint8_t proof[16], uint8_t base_key[16]);

/** LMv2 response = HMAC_MD5(key, ServerChallenge || ClientChallenge) || ClientChallenge (MS-NLMP 3.3.2). */
int smb_ntlm_lmv2_response(const uint8_t key[16], const uint8_t server_challenge[8],
                           const uint8_t client_challenge[8], uint8_t out[24]);

/** SIGNKEY (MS-NLMP 3.4.5.2) with extended session security; client or server direction. */
int smb_ntlm_sign_key(const uint8_t exported[16], bool client, uint8_t out[16]);
/** SEALKEY (MS-NLMP 3.4.5.3) with extended session security; flags pick 128/56/40 bits. */
int smb_ntlm_seal_key(const uint8_t exported[16], uint32_t flags, bool client, uint8_t out[16]);

/**
 * NTLMSSP_MESSAGE_SIGNATURE with extended session security (MS-NLMP
 * 3.4.4.2): Version 1, Checksum = HMAC_MD5(sign_key, SeqNum || msg)[0..8],
 * encrypted with seal (when non-NULL, i.e. KEY_EXCH negotiated), SeqNum.
 * Returns 0 or -1.
 */
int smb_ntlm_mac(const uint8_t sign_key[16], smb_rc4 *seal, uint32_t seq, const uint8_t *msg, size_t len,
                 uint8_t sig[16]);

#endif

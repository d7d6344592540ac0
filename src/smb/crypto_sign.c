/*
 * SMB2/3 message signing (MS-SMB2 3.1.4.1): HMAC-SHA256, AES-128-CMAC and
 * AES-128-GMAC over a message given in pieces.
 */
#include "crypto.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "common/wire.h"
#include "pdu.h"
#include <smbcopy/smb.h>

#define SIG_LEN 16
#define KEY_LEN 16
#define GMAC_NONCE_LEN 12

/* Header field offsets (MS-SMB2 2.2.1). */
#define HDR_COMMAND 12
#define HDR_FLAGS 16
#define HDR_MESSAGE_ID 24

/* Dialects 2.0.2 and 2.1: the first 16 bytes of HMAC-SHA256. */
static int sign_hmac(const uint8_t key[KEY_LEN], const smb_iov *iov, int n, uint8_t sig[SIG_LEN])
{
    uint8_t mac[32];
    if (smb_hmac_sha256(key, KEY_LEN, iov, n, mac) != 0)
        return -1;
    memcpy(sig, mac, SIG_LEN);
    return 0;
}

/* Dialects 3.0 and later without GMAC: AES-128-CMAC (RFC 4493). */
static int sign_cmac(const uint8_t key[KEY_LEN], const smb_iov *iov, int n, uint8_t sig[SIG_LEN])
{
    return smb_mac("CMAC", OSSL_MAC_PARAM_CIPHER, "AES-128-CBC", key, KEY_LEN, iov, n, sig, SIG_LEN);
}

/*
 * MS-SMB2 3.1.4.1 GMAC nonce: MessageId (8 bytes, as in the header) then a
 * little-endian 32-bit word whose bit 0 is set for a server-to-client message
 * and bit 1 for a CANCEL request.
 */
static void gmac_nonce(const uint8_t *hdr, uint8_t nonce[GMAC_NONCE_LEN])
{
    uint32_t flags = smb_le32(hdr + HDR_FLAGS);
    uint16_t command = smb_le16(hdr + HDR_COMMAND);
    memcpy(nonce, hdr + HDR_MESSAGE_ID, 8);
    nonce[8] = (uint8_t)(((flags & SMB2_FLAGS_SERVER_TO_REDIR) ? 0x1 : 0) | (command == SMB2_CANCEL ? 0x2 : 0));
    nonce[9] = nonce[10] = nonce[11] = 0;
}

/* Dialect 3.1.1 with AES-GMAC: AES-128-GCM tag with the message as AAD and no plaintext. */
static int sign_gmac(const uint8_t key[KEY_LEN], const smb_iov *iov, int n, uint8_t sig[SIG_LEN])
{
    if (iov[0].len < SMB2_HDR_LEN || !iov[0].base)
        return -1;
    uint8_t nonce[GMAC_NONCE_LEN];
    gmac_nonce(iov[0].base, nonce);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0;
    int ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL) &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GMAC_NONCE_LEN, NULL) &&
             EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce);
    for (int i = 0; ok && i < n; i++) {
        const uint8_t *p = iov[i].base;
        /* EVP lengths are int: feed a huge piece in slices. */
        for (size_t left = iov[i].len; ok && left > 0;) {
            int chunk = left > INT_MAX ? INT_MAX : (int)left;
            ok = EVP_EncryptUpdate(ctx, NULL, &outl, p, chunk);
            p += chunk;
            left -= (size_t)chunk;
        }
    }
    uint8_t none[16];
    ok = ok && EVP_EncryptFinal_ex(ctx, none, &outl) &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SIG_LEN, sig);
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

int smb_sign(int alg, const uint8_t key[16], const smb_iov *iov, int n, uint8_t sig[16])
{
    if (!key || !sig || !iov || n < 1)
        return -1;
    for (int i = 0; i < n; i++)
        if (iov[i].len && !iov[i].base)
            return -1;
    switch (alg) {
    case SMB_SIGN_HMAC_SHA256:
        return sign_hmac(key, iov, n, sig);
    case SMB_SIGN_AES_CMAC:
        return sign_cmac(key, iov, n, sig);
    case SMB_SIGN_AES_GMAC:
        return sign_gmac(key, iov, n, sig);
    default:
        return -1;
    }
}

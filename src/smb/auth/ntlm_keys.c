/*
 * NTLMv2 formulas (MS-NLMP 3.3.2) and the keys and signature of NTLM
 * session security with extended session security (MS-NLMP 3.4.4.2, 3.4.5).
 */
#include "ntlm_crypto.h"

#include <string.h>

#include "common/wire.h"

void smb_ntlm_nt_hash(const uint8_t *password16, size_t len, uint8_t out[16]) { smb_md4(password16, len, out); }

int smb_ntlm_ntowfv2(const uint8_t nt_hash[16], const uint8_t *user16_upper, size_t user_len,
                     const uint8_t *domain16, size_t domain_len, uint8_t out[16])
{
    smb_iov iov[2] = {{user16_upper, user_len}, {domain16, domain_len}};
    return smb_auth_hmac_md5(nt_hash, 16, iov, 2, out);
}

int smb_ntlm_v2_proof(const uint8_t key[16], const uint8_t server_challenge[8], const uint8_t *temp,
                      size_t temp_len, uint8_t proof[16], uint8_t base_key[16])
{
    smb_iov iov[2] = {{server_challenge, 8}, {temp, temp_len}};
    if (smb_auth_hmac_md5(key, 16, iov, 2, proof) != 0)
        return -1;
    if (!base_key)
        return 0;
    smb_iov p = {proof, 16};
    return smb_auth_hmac_md5(key, 16, &p, 1, base_key);
}

int smb_ntlm_lmv2_response(const uint8_t key[16], const uint8_t server_challenge[8],
                           const uint8_t client_challenge[8], uint8_t out[24])
{
    smb_iov iov[2] = {{server_challenge, 8}, {client_challenge, 8}};
    if (smb_auth_hmac_md5(key, 16, iov, 2, out) != 0)
        return -1;
    memcpy(out + 16, client_challenge, 8);
    return 0;
}

/* The magic constants of MS-NLMP 3.4.5.2 and 3.4.5.3, sent with their NUL. */
static const char CLI_SIGN[] = "session key to client-to-server signing key magic constant";
static const char SRV_SIGN[] = "session key to server-to-client signing key magic constant";
static const char CLI_SEAL[] = "session key to client-to-server sealing key magic constant";
static const char SRV_SEAL[] = "session key to server-to-client sealing key magic constant";

int smb_ntlm_sign_key(const uint8_t exported[16], bool client, uint8_t out[16])
{
    const char *magic = client ? CLI_SIGN : SRV_SIGN;
    smb_iov iov[2] = {{exported, 16}, {magic, sizeof CLI_SIGN}};
    return smb_auth_md5(iov, 2, out);
}

int smb_ntlm_seal_key(const uint8_t exported[16], uint32_t flags, bool client, uint8_t out[16])
{
    /* MS-NLMP 3.4.5.3: 128-bit, 56-bit or 40-bit key material. */
    size_t n = (flags & NTLMSSP_NEGOTIATE_128) ? 16 : (flags & NTLMSSP_NEGOTIATE_56) ? 7 : 5;
    const char *magic = client ? CLI_SEAL : SRV_SEAL;
    smb_iov iov[2] = {{exported, n}, {magic, sizeof CLI_SEAL}};
    return smb_auth_md5(iov, 2, out);
}

int smb_ntlm_mac(const uint8_t sign_key[16], smb_rc4 *seal, uint32_t seq, const uint8_t *msg, size_t len,
                 uint8_t sig[16])
{
    uint8_t seqle[4], full[16];
    smb_put32(seqle, seq);
    smb_iov iov[2] = {{seqle, 4}, {msg, len}};
    if (smb_auth_hmac_md5(sign_key, 16, iov, 2, full) != 0)
        return -1;
    smb_put32(sig, 1); /* Version */
    if (seal)
        smb_rc4_crypt(seal, full, sig + 4, 8);
    else
        memcpy(sig + 4, full, 8);
    memcpy(sig + 12, seqle, 4);
    smb_auth_wipe(full, sizeof full);
    return 0;
}

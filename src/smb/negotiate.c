/*
 * The NEGOTIATE exchange (MS-SMB2 3.2.4.2.2, 3.2.5.2): what the client
 * offers, with the 3.1.1 contexts, and what it keeps of the answer,
 * including the connection's preauth integrity hash.
 */
#include <stdlib.h>
#include <string.h>

#include "common/random.h"
#include "error.h"
#include <smbcopy/ntstatus.h>
#include "objects.h"
#include "smb1_probe.h"

static const uint16_t all_dialects[] = {SMB_DIALECT_2_0_2, SMB_DIALECT_2_1, SMB_DIALECT_3_0, SMB_DIALECT_3_0_2,
                                        SMB_DIALECT_3_1_1};
/* GCM first: it is several times faster than CCM (MS-SMB2 2.2.3.1.2). */
static const uint16_t our_ciphers[] = {SMB_CIPHER_AES_128_GCM, SMB_CIPHER_AES_256_GCM, SMB_CIPHER_AES_128_CCM,
                                       SMB_CIPHER_AES_256_CCM};
static const uint16_t our_signing_algs[] = {SMB_SIGN_AES_GMAC, SMB_SIGN_AES_CMAC, SMB_SIGN_HMAC_SHA256};

static bool dialect_offered(const smb_conn *c, uint16_t d)
{
    for (int i = 0; i < c->neg.our_ndialects; i++)
        if (c->neg.our_dialects[i] == d)
            return true;
    return false;
}

/* Apply what the server chose (MS-SMB2 3.2.5.2). */
static int apply_negotiate(smb_conn *c, const smb2_negotiate_rsp *rsp, smb_error *err)
{
    struct smb_conn_neg *n = &c->neg;
    if (rsp->dialect == 0x02FF || !dialect_offered(c, rsp->dialect))
        return smb_err_set(err, SMB_ERR_NEGOTIATE, 0, "server chose dialect 0x%04x, which was not offered",
                           rsp->dialect);
    n->dialect = rsp->dialect;
    n->security_mode = rsp->security_mode;
    n->capabilities = rsp->capabilities;
    memcpy(n->server_guid, rsp->server_guid, 16);
    n->max_transact = rsp->max_transact_size;
    n->multi_credit = n->dialect > SMB_DIALECT_2_0_2 && (rsp->capabilities & SMB2_GLOBAL_CAP_LARGE_MTU);
    uint32_t cap = n->multi_credit ? c->opts.max_io_size : 65536;
    if (cap < 65536)
        cap = 65536;
    n->max_read = rsp->max_read_size < cap ? rsp->max_read_size : cap;
    n->max_write = rsp->max_write_size < cap ? rsp->max_write_size : cap;
    if (n->max_read < 4096 || n->max_write < 4096)
        return smb_err_set(err, SMB_ERR_NEGOTIATE, 0, "server offers too small reads/writes (%u/%u bytes)",
                           rsp->max_read_size, rsp->max_write_size);
    if (rsp->security_buffer.len) {
        n->spnego_hint = malloc(rsp->security_buffer.len);
        if (!n->spnego_hint)
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        memcpy(n->spnego_hint, rsp->security_buffer.data, rsp->security_buffer.len);
        n->spnego_hint_len = rsp->security_buffer.len;
    }
    if (n->dialect == SMB_DIALECT_3_1_1) {
        if (!rsp->have_preauth || rsp->preauth_hash_alg != SMB2_PREAUTH_SHA512)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "3.1.1 server sent no SHA-512 preauth integrity context");
        n->cipher = rsp->have_cipher ? rsp->cipher : 0;
        n->signing_alg = rsp->have_signing ? rsp->signing_alg : SMB_SIGN_AES_CMAC;
        if (n->signing_alg > SMB_SIGN_AES_GMAC)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "server chose unknown signing algorithm %u", n->signing_alg);
        if (n->cipher > SMB_CIPHER_AES_256_GCM)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "server chose unknown cipher %u", n->cipher);
    } else if (n->dialect >= SMB_DIALECT_3_0) {
        n->signing_alg = SMB_SIGN_AES_CMAC;
        n->cipher = (rsp->capabilities & SMB2_GLOBAL_CAP_ENCRYPTION) ? SMB_CIPHER_AES_128_CCM : 0;
    } else {
        n->signing_alg = SMB_SIGN_HMAC_SHA256;
        n->cipher = 0;
    }
    if (c->opts.encryption == SMB_POLICY_REQUIRED && !n->cipher)
        return smb_err_set(err, SMB_ERR_ENCRYPTION, 0,
                           "encryption is required but the server negotiated %s without encryption",
                           smb_dialect_name(n->dialect));
    /* Frames may carry a READ or WRITE of max size plus headers. */
    uint32_t biggest = n->max_read > n->max_write ? n->max_read : n->max_write;
    if (n->max_transact > biggest)
        biggest = n->max_transact > (16u << 20) ? (16u << 20) : n->max_transact;
    pthread_mutex_lock(&c->lock);
    c->max_frame = (size_t)biggest + 65536;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int smb_conn_negotiate(smb_conn *c, smb_error *err)
{
    struct smb_conn_neg *n = &c->neg;
    for (size_t i = 0; i < sizeof all_dialects / sizeof all_dialects[0]; i++)
        if (all_dialects[i] >= c->opts.min_dialect && all_dialects[i] <= c->opts.max_dialect)
            n->our_dialects[n->our_ndialects++] = all_dialects[i];
    if (!n->our_ndialects)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no SMB dialect between the minimum and maximum asked for");
    n->our_security_mode =
        SMB2_NEGOTIATE_SIGNING_ENABLED | (c->opts.signing == SMB_POLICY_REQUIRED ? SMB2_NEGOTIATE_SIGNING_REQUIRED : 0);
    /* Ciphers are offered even with encryption off: the server then says
     * when a share or session demands encryption, and the refusal can name
     * the reason instead of a bare "access denied". */
    n->our_capabilities = SMB2_GLOBAL_CAP_LARGE_MTU | SMB2_GLOBAL_CAP_ENCRYPTION | SMB2_GLOBAL_CAP_MULTI_CHANNEL;

    smb2_negotiate_req nr = {
        .security_mode = n->our_security_mode,
        .capabilities = n->our_capabilities,
        .dialects = n->our_dialects,
        .ndialects = n->our_ndialects,
        .ciphers = c->opts.cipher ? &c->opts.cipher : our_ciphers,
        .nciphers = c->opts.cipher ? 1 : 4,
        .signing_algs = our_signing_algs,
        .nsigning_algs = 3,
        .netname = c->host,
    };
    memcpy(nr.client_guid, c->client_guid, 16);
    if (smb_random(nr.preauth_salt, sizeof nr.preauth_salt) != 0)
        return smb_err_set(err, SMB_ERR_CRYPTO, 0, "no random bytes for the preauth salt");

    smb_req *r = smb_req_new(c, SMB2_NEGOTIATE, 0, 0, NULL);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_negotiate_req_encode(smb_req_body(r), &nr);
    int rc = smb_req_send(r, err);
    if (rc == 0)
        rc = smb_req_wait(r, err);
    if (rc == SMB_ERR_DISCONNECTED && smb1_server_is_smb1_only(c->host, c->port, c->opts.connect_timeout_ms)) {
        rc = smb_err_set(err, SMB_ERR_SMB1_ONLY, 0,
                         "server supports only SMB1, which smbcopy does not speak; enable SMB2/3 on the server");
    } else if (rc == SMB_ERR_DISCONNECTED) {
        smb_err_set(err, SMB_ERR_DISCONNECTED, 0,
                    "%s closed the connection during protocol negotiation (does it speak SMB2/3? a server "
                    "that speaks only SMB1 is not supported)",
                    c->host);
    }
    if (rc == 0 && r->status != SMB_STATUS_SUCCESS)
        rc = smb_req_status_error(r, "negotiate", err);
    smb2_negotiate_rsp rsp;
    if (rc == 0) {
        smb_rd rd = smb_req_rsp_body(r);
        if (smb2_negotiate_rsp_decode(&rd, &rsp) != 0)
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed NEGOTIATE response from %s", c->host);
    }
    if (rc == 0)
        rc = apply_negotiate(c, &rsp, err);
    if (rc == 0 && n->dialect == SMB_DIALECT_3_1_1) {
        memset(n->preauth, 0, sizeof n->preauth);
        if (smb_preauth_add(n->preauth, r->msg.buf, r->msg.len) != 0 ||
            smb_preauth_add(n->preauth, r->rsp, r->rsp_len) != 0)
            rc = smb_err_set(err, SMB_ERR_CRYPTO, 0, "preauth integrity hash failed");
    }
    smb_req_free(r);
    return rc;
}

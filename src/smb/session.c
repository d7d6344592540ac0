/*
 * Sessions: SESSION_SETUP through SPNEGO (MS-SMB2 3.2.4.2.3, 3.2.5.3), key
 * derivation (MS-SMB2 3.2.5.3.1), LOGOFF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "error.h"
#include <smbcopy/ntstatus.h>
#include "objects.h"

int smb_preauth_add(uint8_t hash[64], const uint8_t *msg, size_t len)
{
    smb_iov iov = {msg, len};
    return smb_preauth_update(hash, &iov, 1);
}

int smb_derive_signing_key(uint16_t dialect, const uint8_t key16[16], const uint8_t preauth[64], uint8_t out[16])
{
    if (dialect < SMB_DIALECT_3_0) {
        memcpy(out, key16, 16);
        return 0;
    }
    if (dialect < SMB_DIALECT_3_1_1)
        return smb_kdf(key16, 16, "SMB2AESCMAC", 12, "SmbSign", 8, out, 16);
    return smb_kdf(key16, 16, "SMBSigningKey", 14, preauth, 64, out, 16);
}

/* Derive the signing and encryption keys from the session key (MS-SMB2 3.2.5.3.1). */
static int derive_keys(smb_session *s, const uint8_t *skey, size_t skey_len, const uint8_t preauth[64])
{
    const struct smb_conn_neg *n = &s->conn->neg;
    uint8_t key16[16] = {0};
    memcpy(key16, skey, skey_len < 16 ? skey_len : 16);
    s->sec.signing_alg = n->signing_alg;
    s->sec.cipher = n->cipher;
    int rc = smb_derive_signing_key(n->dialect, key16, preauth, s->sec.signing_key);
    if (n->dialect >= SMB_DIALECT_3_0 && n->dialect < SMB_DIALECT_3_1_1) {
        rc |= smb_kdf(key16, 16, "SMB2AESCCM", 11, "ServerIn ", 10, s->sec.enc_key, 16);
        rc |= smb_kdf(key16, 16, "SMB2AESCCM", 11, "ServerOut", 10, s->sec.dec_key, 16);
    } else if (n->dialect >= SMB_DIALECT_3_1_1) {
        if (n->cipher) {
            /* AES-256 ciphers derive from the full session key. */
            size_t klen = smb_cipher_key_len(n->cipher);
            const uint8_t *ki = klen == 32 ? skey : key16;
            size_t ki_len = klen == 32 ? skey_len : 16;
            rc |= smb_kdf(ki, ki_len, "SMBC2SCipherKey", 16, preauth, 64, s->sec.enc_key, klen);
            rc |= smb_kdf(ki, ki_len, "SMBS2CCipherKey", 16, preauth, 64, s->sec.dec_key, klen);
        }
    }
    memset(key16, 0, sizeof key16);
    return rc ? -1 : 0;
}

bool smb_rsp_signature_ok(uint16_t alg, const uint8_t key[16], const uint8_t *rsp, size_t len)
{
    if (len < SMB2_HDR_LEN)
        return false;
    uint8_t hdr[SMB2_HDR_LEN];
    memcpy(hdr, rsp, SMB2_HDR_LEN);
    memset(hdr + 48, 0, 16);
    smb_iov iov[2] = {{hdr, SMB2_HDR_LEN}, {rsp + SMB2_HDR_LEN, len - SMB2_HDR_LEN}};
    uint8_t sig[16];
    return smb_sign(alg, key, iov, 2, sig) == 0 && memcmp(sig, rsp + 48, 16) == 0;
}

/* Check the signature of the final SESSION_SETUP response (MS-SMB2 3.2.5.3.1). */
static int verify_final(smb_session *s, const smb_req *r, smb_error *err)
{
    if (!(r->rsp_hdr.flags & SMB2_FLAGS_SIGNED)) {
        /* 3.1.1 always signs it: it seals the preauth integrity hash. */
        if ((s->sec.signing && s->conn->neg.dialect >= SMB_DIALECT_3_0) || s->conn->neg.dialect == SMB_DIALECT_3_1_1)
            return smb_err_set(err, SMB_ERR_SIGNATURE, 0, "the server's final logon response is not signed");
        return 0;
    }
    /*
     * The server said SMB_STATUS_SUCCESS: it took the password. A signature
     * that does not verify means its session key is not ours (a key
     * exchange done differently, or a tampered connection), not a wrong
     * password: an authentication failure all the same, as the session
     * cannot be trusted.
     */
    if (!smb_rsp_signature_ok(s->sec.signing_alg, s->sec.signing_key, r->rsp, r->rsp_len))
        return smb_err_set(err, SMB_ERR_AUTH, 0,
                           "the server accepted the logon but signed its answer with another session key than "
                           "ours (an NTLM key exchange it does differently, or a tampered connection)");
    return 0;
}

int smb_session_setup_exchange(smb_setup_exchange *x, smb_spnego *sp, smb_error *err)
{
    smb_conn *c = x->conn;
    bool binding = x->flags & SMB2_SESSION_FLAG_BINDING;
    memcpy(x->preauth, c->neg.preauth, 64);
    x->last = NULL;
    x->refused = false;
    x->session_flags = 0;
    const uint8_t *in = NULL;
    size_t in_len = 0;
    int rc = 0;
    for (int round = 0; round < 16; round++) {
        smb_buf out = {0};
        int step = smb_spnego_step(sp, in, in_len, &out, err);
        if (step < 0) {
            rc = step;
            break;
        }
        if (x->last && x->last->status == SMB_STATUS_SUCCESS) {
            free(out.data);
            if (step != SMB_AUTH_DONE)
                rc = smb_err_set(err, SMB_ERR_AUTH, 0, "the server accepted (%s) before authentication finished",
                                 x->what);
            break;
        }
        smb_req *r = out.len ? smb_req_new(c, SMB2_SESSION_SETUP, x->session_id, 0, x->sign) : NULL;
        if (!r) {
            free(out.data);
            rc = smb_err_set(err, out.len ? SMB_ERR_NO_MEMORY : SMB_ERR_AUTH, 0,
                             out.len ? "out of memory" : "authentication produced no token to send");
            break;
        }
        r->no_verify = true; /* checked here: interim responses with x->sign, the final one by the caller */
        smb2_session_setup_req sr = {
            .flags = x->flags,
            .security_mode = (uint8_t)c->neg.our_security_mode,
            .token = out.data,
            .token_len = out.len,
        };
        smb2_session_setup_req_encode(smb_req_body(r), &sr);
        rc = smb_req_send(r, err);
        free(out.data);
        if (rc == 0)
            rc = smb_req_wait(r, err);
        smb_req_free(x->last);
        x->last = r;
        if (rc != 0)
            break;
        if (r->status != SMB_STATUS_SUCCESS && r->status != SMB_STATUS_MORE_PROCESSING_REQUIRED) {
            x->refused = true;
            rc = smb_err_status(err, r->status, x->what);
            break;
        }
        if (binding && r->rsp_hdr.session_id != x->session_id) {
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the binding response names another session");
            break;
        }
        x->session_id = r->rsp_hdr.session_id;
        /* A binding's interim responses are signed with the session's key (MS-SMB2 3.3.4.1.1). */
        if (x->sign && r->status == SMB_STATUS_MORE_PROCESSING_REQUIRED && (r->rsp_hdr.flags & SMB2_FLAGS_SIGNED) &&
            !smb_rsp_signature_ok(x->sign->signing_alg, x->sign->signing_key, r->rsp, r->rsp_len)) {
            rc = smb_err_set(err, SMB_ERR_SIGNATURE, 0, "the server's response to %s has a bad signature", x->what);
            break;
        }
        if (c->neg.dialect == SMB_DIALECT_3_1_1) {
            /* The final response stays out of the hash (MS-SMB2 3.2.5.3.1, 3.2.5.3.3). */
            if (smb_preauth_add(x->preauth, r->msg.buf, r->msg.len) != 0 ||
                (r->status == SMB_STATUS_MORE_PROCESSING_REQUIRED && smb_preauth_add(x->preauth, r->rsp, r->rsp_len) != 0)) {
                rc = smb_err_set(err, SMB_ERR_CRYPTO, 0, "preauth integrity hash failed");
                break;
            }
        }
        smb2_session_setup_rsp ssr;
        smb_rd rd = smb_req_rsp_body(r);
        if (smb2_session_setup_rsp_decode(&rd, &ssr) != 0) {
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed SESSION_SETUP response");
            break;
        }
        in = ssr.token.data;
        in_len = ssr.token.len;
        if (r->status == SMB_STATUS_SUCCESS)
            x->session_flags = ssr.session_flags;
    }
    if (rc == 0 && (!x->last || x->last->status != SMB_STATUS_SUCCESS))
        rc = smb_err_set(err, SMB_ERR_AUTH, 0, "authentication did not finish");
    return rc;
}

/* Log on: the SESSION_SETUP exchange, then the session's keys (MS-SMB2 3.2.5.3.1). */
static int authenticate(smb_session *s, smb_spnego *sp, const char *who, smb_error *err)
{
    smb_conn *c = s->conn;
    char what[300];
    snprintf(what, sizeof what, "logon as '%s' on %s", who, c->host);
    smb_setup_exchange x = {.conn = c, .what = what};
    int rc = smb_session_setup_exchange(&x, sp, err);
    s->id = x.session_id; /* also after a failure: a half-made session is logged off */
    if (rc != 0 && x.refused && (rc == SMB_ERR_SERVER || rc == SMB_ERR_ACCESS))
        rc = err ? (err->code = SMB_ERR_AUTH) : SMB_ERR_AUTH;
    if (rc == 0) {
        s->guest = (x.session_flags & SMB2_SESSION_FLAG_IS_GUEST) != 0;
        s->anonymous = s->anonymous || (x.session_flags & SMB2_SESSION_FLAG_IS_NULL) != 0;
        s->sec.encrypt = (x.session_flags & SMB2_SESSION_FLAG_ENCRYPT_DATA) != 0;
        uint8_t skey[64];
        size_t skey_len = 0;
        bool need_key = !s->guest && !s->anonymous;
        if (need_key && (smb_spnego_session_key(sp, skey, sizeof skey, &skey_len) != 0 || skey_len == 0))
            rc = smb_err_set(err, SMB_ERR_AUTH, 0, "authentication gave no session key");
        if (rc == 0 && need_key && derive_keys(s, skey, skey_len, x.preauth) != 0)
            rc = smb_err_set(err, SMB_ERR_CRYPTO, 0, "key derivation failed");
        memset(skey, 0, sizeof skey);
        if (rc == 0 && need_key) {
            /* Sign everything when either side requires it (MS-SMB2 3.2.5.3.1);
             * otherwise only the requests that must be signed whatever the
             * session does (TREE_CONNECT in 3.1.1, MS-SMB2 3.2.4.1.1 and
             * 3.3.5.7; VALIDATE_NEGOTIATE_INFO, 3.2.5.14.12) carry force_sign. */
            s->sec.keyed = true;
            s->sec.signing = (c->neg.security_mode & SMB2_NEGOTIATE_SIGNING_REQUIRED) ||
                             c->opts.signing == SMB_POLICY_REQUIRED;
            rc = verify_final(s, x.last, err);
        }
    }
    smb_req_free(x.last);
    return rc;
}

/* Decide signing and encryption against the user's policies (MS-SMB2 3.2.5.3.1). */
static int check_policies(smb_session *s, smb_error *err)
{
    smb_conn *c = s->conn;
    bool weak = s->guest || s->anonymous;
    if (weak && c->opts.signing == SMB_POLICY_REQUIRED)
        return smb_err_set(err, SMB_ERR_AUTH, 0, "signing is required but the server logged us on as %s, which cannot sign",
                           s->guest ? "guest" : "anonymous");
    bool server_wants = s->sec.encrypt; /* SMB2_SESSION_FLAG_ENCRYPT_DATA */
    if (server_wants && c->opts.encryption == SMB_POLICY_OFF)
        return smb_err_set(err, SMB_ERR_ENCRYPTION, 0,
                           "server %s requires encryption for this session, but encryption was turned off", c->host);
    if (c->opts.encryption == SMB_POLICY_REQUIRED || server_wants) {
        if (weak)
            return smb_err_set(err, SMB_ERR_ENCRYPTION, 0, "encryption is required but a %s session has no keys",
                               s->guest ? "guest" : "anonymous");
        if (!c->neg.cipher)
            return smb_err_set(err, SMB_ERR_ENCRYPTION, 0,
                               "encryption is required but server %s negotiated SMB %s without a cipher", c->host,
                               smb_dialect_name(c->neg.dialect));
        s->sec.encrypt = true;
    }
    return 0;
}

smb_spnego *smb_session_spnego_new(smb_conn *c, const smb_creds *cr, char **user, char **domain, smb_error *err)
{
    const char *name = cr->username && *cr->username ? cr->username : (cr->guest ? "guest" : "");
    *user = *domain = NULL;
    int rc = smb_auth_split_user(name, cr->domain, user, domain);
    if (rc != 0) {
        smb_err_set(err, rc, 0, "out of memory");
        return NULL;
    }
    smb_auth_params p = {
        .user = *user,
        .domain = *domain,
        .password = cr->password ? cr->password : "",
        .workstation = cr->workstation,
        .anonymous = !*name,
        .target_host = cr->target_host ? cr->target_host : c->host,
        .mech_policy = cr->mech,
    };
    return smb_spnego_new(&p, c->neg.spnego_hint, c->neg.spnego_hint_len, err);
}

smb_session *smb_session_setup(smb_conn *c, const smb_creds *cr, smb_error *err)
{
    smb_creds none = {0};
    if (!cr)
        cr = &none;
    if (!c) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no connection");
        return NULL;
    }
    smb_session *s = calloc(1, sizeof *s);
    if (!s) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    s->conn = c;
    s->sec.nonce_ctr = &s->nonce_ctr;
    pthread_mutex_init(&s->lock, NULL);
    char *user = NULL, *domain = NULL;
    const char *name = cr->username && *cr->username ? cr->username : (cr->guest ? "guest" : "");
    s->anonymous = !*name;
    int rc = 0;
    smb_spnego *sp = smb_session_spnego_new(c, cr, &user, &domain, err);
    if (!sp) {
        rc = err ? err->code : SMB_ERR_AUTH;
        goto fail;
    }
    rc = authenticate(s, sp, *name ? name : "(anonymous)", err);
    if (rc == SMB_ERR_AUTH && err && !s->anonymous && !(cr->password && *cr->password) &&
        !strstr(err->message, "Kerberos")) {
        /* The usual cause: neither a password nor a Kerberos ticket. */
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n,
                 "; no password was given and no Kerberos ticket or keytab was found (run kinit or give a password)");
    }
    snprintf(s->mech, sizeof s->mech, "%s", smb_spnego_mech_name(sp));
    smb_spnego_free(sp);
    if (rc == 0)
        rc = check_policies(s, err);
    if (rc != 0)
        goto fail;
    free(user);
    free(domain);
    s->chan[0].conn = c;
    memcpy(s->chan[0].signing_key, s->sec.signing_key, 16);
    s->nchan = 1;
    smb_conn_add_session(c, s);
    return s;
fail:
    if (s->id && rc != SMB_ERR_DISCONNECTED) {
        /* Drop what the server holds for a half-made session. */
        smb_req *r = smb_req_new(c, SMB2_LOGOFF, s->id, 0, NULL);
        if (r) {
            smb2_simple_req_encode(smb_req_body(r));
            smb_req_run(r, "logoff", NULL);
            smb_req_free(r);
        }
    }
    free(user);
    free(domain);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return NULL;
}

void smb_session_get_info(const smb_session *s, smb_session_info *info)
{
    info->session_id = s->id;
    info->guest = s->guest;
    info->anonymous = s->anonymous;
    info->signing = s->sec.signing;
    info->encryption = s->sec.encrypt;
    info->mech = s->mech;
}

int smb_session_close_internal(smb_session *s, bool send_logoff, smb_error *err)
{
    for (;;) {
        pthread_mutex_lock(&s->lock);
        smb_tree *t = s->trees;
        pthread_mutex_unlock(&s->lock);
        if (!t)
            break;
        smb_tree_close_internal(t, send_logoff, NULL);
    }
    int rc = 0;
    if (send_logoff) {
        smb_req *r = smb_req_new(s->conn, SMB2_LOGOFF, s->id, 0, &s->sec);
        if (!r) {
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        } else {
            smb2_simple_req_encode(smb_req_body(r));
            rc = smb_req_run(r, "logoff", err);
            smb_req_free(r);
        }
    }
    pthread_rwlock_t *life = &s->conn->tree_life;
    pthread_rwlock_wrlock(life); /* not while an oplock break's lookup walks the sessions (oplock.c) */
    smb_conn_remove_session(s->conn, s);
    pthread_rwlock_unlock(life);
    smb_session_close_channels(s);
    pthread_mutex_destroy(&s->lock);
    memset(&s->sec, 0, sizeof s->sec);
    free(s);
    return rc;
}

int smb_session_logoff(smb_session *s, smb_error *err)
{
    if (!s)
        return 0;
    pthread_mutex_lock(&s->conn->lock);
    bool alive = !s->conn->dead;
    pthread_mutex_unlock(&s->conn->lock);
    return smb_session_close_internal(s, alive, err);
}

/*
 * SPNEGO client (RFC 4178, MS-SPNG) over smb_mech_ops mechanisms.
 *
 * Round 1 sends NegTokenInit with every offered mechanism and the first
 * one's optimistic token. Each NegTokenResp from the server feeds its
 * responseToken to the chosen mechanism; when the mechanism is done the
 * last token goes out together with our mechListMIC when one is due.
 * The server's final token (accept-completed, possibly empty) then brings
 * its mechListMIC, which must verify.
 *
 * mechListMIC (RFC 4178 5): we send ours when the
 * mechanism asks for it (NTLM after a MIC in AUTHENTICATE), when the
 * server chose a mechanism other than our first, or when the server sent
 * request-mic. A server's mechListMIC is always verified. Its absence is
 * an error after a downgrade or request-mic; when the server took our
 * first mechanism it is tolerated, as Samba's client does (some servers,
 * e.g. older Azure and Apple ones, omit it; a MIC protects the mechanism
 * choice, and no other choice was possible).
 */
#include <stdlib.h>
#include <string.h>

#include "asn1.h"
#include "auth.h"
#include "error.h"
#include "ntlm_crypto.h"
#include "spnego_token.h"

#define SPNEGO_MAX_MECHS 4

enum spnego_stage { SP_START, SP_WAIT, SP_DONE, SP_FAILED };

struct smb_spnego {
    struct {
        const smb_mech_ops *ops;
        void *state;
    } mech[SPNEGO_MAX_MECHS];
    int n_mech;
    int cur;              /* the mechanism in use */
    enum spnego_stage stage;
    bool mech_done;       /* the mechanism finished on our side */
    bool downgraded;      /* the server chose other than our first mechanism */
    bool switch_pending;  /* ... and that mechanism has not produced its first token */
    int replies;          /* server tokens seen */
    bool mic_requested;   /* the server sent request-mic */
    bool mic_sent;        /* our mechListMIC went out */
    bool hint_parsed;     /* the server's NegTokenInit2 could be read */
    bool hint_has[SPNEGO_MAX_MECHS]; /* ... and it lists our mechanism i */
    uint8_t *mech_types;  /* DER MechTypeList we sent, the mechListMIC's input */
    size_t mech_types_len;
};

static const char *cur_name(const smb_spnego *s) { return s->mech[s->cur].ops->name; }

/* ------------------------------------------------------------ setup */

/* Read the server's hint (MS-SPNG 2.2.1) only to learn which of our
 * mechanisms it offers, for error messages; anything unreadable is ignored. */
static void parse_hint(smb_spnego *s, const uint8_t *hint, size_t len)
{
    smb_negtoken_init t;
    if (!hint || len == 0 || smb_spnego_parse_init(hint, len, &t, NULL) != 0)
        return;
    s->hint_parsed = !t.more_oids; /* a list not read in full proves nothing */
    for (int m = 0; m < s->n_mech; m++) {
        const smb_mech_ops *o = s->mech[m].ops;
        for (int i = 0; i < t.n_oids; i++)
            if (t.oids[i].len == o->oid_len && memcmp(t.oids[i].p, o->oid, o->oid_len) == 0)
                s->hint_has[m] = true;
    }
}

smb_spnego *smb_spnego_new_with(const smb_auth_params *params, const smb_mech_entry *mechs, int n,
                                const uint8_t *server_hint, size_t hint_len, smb_error *err)
{
    if (!params || !mechs || n < 1 || n > SPNEGO_MAX_MECHS) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "SPNEGO: bad parameters");
        return NULL;
    }
    smb_spnego *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    smb_der_bytes oids[SPNEGO_MAX_MECHS];
    for (int i = 0; i < n; i++) {
        s->mech[i].ops = mechs[i].ops;
        s->mech[i].state = mechs[i].create(params);
        s->n_mech = i + 1;
        if (!s->mech[i].state)
            goto oom;
        oids[i] = (smb_der_bytes){mechs[i].ops->oid, mechs[i].ops->oid_len};
    }
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    smb_spnego_write_mech_types(&w, oids, n);
    if (!smb_wr_ok(&w)) {
        smb_wr_free(&w);
        goto oom;
    }
    s->mech_types = w.buf;
    s->mech_types_len = w.len;
    parse_hint(s, server_hint, hint_len);
    return s;
oom:
    smb_spnego_free(s);
    smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory starting SPNEGO");
    return NULL;
}

smb_spnego *smb_spnego_new(const smb_auth_params *params, const uint8_t *server_hint, size_t hint_len,
                           smb_error *err)
{
    if (!params) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "SPNEGO: no parameters");
        return NULL;
    }
    static const smb_mech_entry krb5 = {&smb_mech_krb5, smb_krb5_new};
    static const smb_mech_entry ntlm = {&smb_mech_ntlm, smb_ntlm_new};
    smb_mech_entry list[2];
    int n = 0;
    switch (params->mech_policy) {
    case SMB_AUTH_KERBEROS:
        list[n++] = krb5;
        break;
    case SMB_AUTH_NTLM:
        list[n++] = ntlm;
        break;
    case SMB_AUTH_AUTO:
        /* Kerberos when credentials exist: a password counts only with a
         * realm, so plain workgroup logons never wait on a KDC. */
        if (!params->anonymous && (!params->password || !*params->password ||
                                   (params->domain && strchr(params->domain, '.'))) &&
            smb_krb5_usable(params))
            list[n++] = krb5;
        list[n++] = ntlm;
        break;
    default:
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "unknown authentication mechanism policy %d", params->mech_policy);
        return NULL;
    }
    return smb_spnego_new_with(params, list, n, server_hint, hint_len, err);
}

/* ------------------------------------------------------------ rounds */

static int fail(smb_spnego *s, int rc)
{
    s->stage = SP_FAILED;
    return rc;
}

static int take(smb_wr *w, smb_buf *out, smb_error *err)
{
    if (!smb_wr_ok(w)) {
        smb_wr_free(w);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory building a SPNEGO token");
    }
    out->data = w->buf;
    out->len = w->len;
    return 0;
}

/* Round 1: NegTokenInit with the first mechanism's optimistic token. */
static int first_round(smb_spnego *s, smb_buf *out, smb_error *err)
{
    smb_buf tok = {0};
    int rc = s->mech[0].ops->step(s->mech[0].state, NULL, 0, &tok, err);
    if (rc < 0)
        return rc;
    s->mech_done = rc == SMB_AUTH_DONE;
    smb_wr w;
    smb_wr_init_grow(&w, tok.len + s->mech_types_len + 32);
    smb_spnego_write_init(&w, s->mech_types, s->mech_types_len, tok.data, tok.len);
    free(tok.data);
    rc = take(&w, out, err);
    if (rc != 0)
        return rc;
    s->stage = SP_WAIT;
    return SMB_AUTH_CONTINUE;
}

/* The server picked mechanism oid: find it among ours (switching before
 * any token was exchanged with it); -1 when it was never offered. */
static int select_mech(smb_spnego *s, const smb_der_bytes *oid, bool first_reply)
{
    for (int i = 0; i < s->n_mech; i++) {
        const smb_mech_ops *o = s->mech[i].ops;
        if (o->oid_len == oid->len && memcmp(o->oid, oid->p, oid->len) == 0) {
            if (i != s->cur && !first_reply)
                return -1;
            if (i != s->cur) {
                s->cur = i;
                s->downgraded = true;
                s->switch_pending = true;
                s->mech_done = false;
            }
            return i;
        }
    }
    return -1;
}

/* Does this round owe the server our mechListMIC? */
static bool mic_due(const smb_spnego *s)
{
    const smb_mech_ops *o = s->mech[s->cur].ops;
    void *st = s->mech[s->cur].state;
    if (!s->mech_done || s->mic_sent || !o->mic_make)
        return false;
    if (o->is_anonymous && o->is_anonymous(st))
        return false;
    return (o->wants_mic && o->wants_mic(st)) || s->downgraded || s->mic_requested;
}

/* Check the server's mechListMIC over our MechTypeList (RFC 4178 5). */
static int check_server_mic(smb_spnego *s, const smb_negtoken_resp *r, smb_error *err)
{
    const smb_mech_ops *o = s->mech[s->cur].ops;
    void *st = s->mech[s->cur].state;
    bool has_mic = r->has_mic && r->mic.len > 0;
    /* Windows 2000 repeated the responseToken in mechListMIC: ignore that. */
    if (has_mic && r->has_token && r->token.len == r->mic.len && memcmp(r->token.p, r->mic.p, r->mic.len) == 0)
        has_mic = false;
    bool anon = o->is_anonymous && o->is_anonymous(st);
    if (has_mic && !anon) {
        if (!o->mic_check || o->mic_check(st, s->mech_types, s->mech_types_len, r->mic.p, r->mic.len) != 0)
            return smb_err_set(err, SMB_ERR_AUTH, 0,
                               "the server's SPNEGO mechListMIC does not verify (%s): the negotiation may have been tampered with",
                               o->name);
        return 0;
    }
    if (!has_mic && s->mic_sent && (s->downgraded || s->mic_requested))
        return smb_err_set(err, SMB_ERR_AUTH, 0, "the server sent no SPNEGO mechListMIC to protect its choice of %s",
                           o->name);
    return 0;
}

/* Feed the server's token to the mechanism and answer with ours (plus our
 * mechListMIC when due). */
static int mech_round(smb_spnego *s, const smb_negtoken_resp *r, smb_buf *out, smb_error *err)
{
    const smb_mech_ops *o = s->mech[s->cur].ops;
    void *st = s->mech[s->cur].state;
    smb_buf tok = {0};
    int rc;
    if (s->switch_pending) {
        /* Switched mechanism: it starts afresh, the server sent it nothing yet. */
        if (r->has_token && r->token.len > 0)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "SPNEGO: unexpected %s token with the mechanism switch", o->name);
        s->switch_pending = false;
        rc = o->step(st, NULL, 0, &tok, err);
    } else {
        if (!r->has_token || r->token.len == 0)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server's SPNEGO reply carries no %s token", o->name);
        rc = o->step(st, r->token.p, r->token.len, &tok, err);
    }
    if (rc < 0)
        return rc;
    s->mech_done = rc == SMB_AUTH_DONE;
    if (r->neg_state == SPNEGO_ACCEPT_COMPLETED && (!s->mech_done || tok.len > 0)) {
        free(tok.data);
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server completed SPNEGO before %s finished", o->name);
    }

    /* The server may complete in the same reply (a mechanism whose server
     * sends the last token): its mechListMIC is checked now, and nothing
     * more can follow its success. */
    bool server_done = s->mech_done && r->neg_state == SPNEGO_ACCEPT_COMPLETED;
    if (server_done) {
        rc = check_server_mic(s, r, err);
        if (rc != 0) {
            free(tok.data);
            return rc;
        }
    }

    smb_buf mic = {0};
    if (mic_due(s) && !server_done) {
        rc = o->mic_make(st, s->mech_types, s->mech_types_len, &mic);
        if (rc != 0) {
            free(tok.data);
            return smb_err_set(err, rc == SMB_ERR_NO_MEMORY ? rc : SMB_ERR_CRYPTO, 0,
                               "could not make the SPNEGO mechListMIC (%s)", o->name);
        }
        s->mic_sent = true;
    }
    if (tok.len == 0 && mic.len == 0) {
        free(tok.data);
        free(mic.data);
        if (server_done) {
            s->stage = SP_DONE;
            return SMB_AUTH_DONE;
        }
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "SPNEGO: %s produced nothing to send", o->name);
    }
    smb_wr w;
    smb_wr_init_grow(&w, tok.len + mic.len + 32);
    smb_spnego_write_resp(&w, tok.data, tok.len, mic.data, mic.len);
    smb_auth_wipe(tok.data, tok.len);
    free(tok.data);
    free(mic.data);
    return take(&w, out, err) != 0 ? SMB_ERR_NO_MEMORY : SMB_AUTH_CONTINUE;
}

/* The server's answer after our last token: accept-completed with its mechListMIC. */
static int final_round(smb_spnego *s, const smb_negtoken_resp *r, smb_error *err)
{
    if (r->neg_state != SPNEGO_ACCEPT_COMPLETED && r->neg_state != SPNEGO_NO_STATE)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                           "SPNEGO: the server wants more (negState %d) after %s finished", r->neg_state, cur_name(s));
    if (r->has_token && r->token.len > 0 && !(r->has_mic && r->mic.len == r->token.len &&
                                              memcmp(r->mic.p, r->token.p, r->token.len) == 0))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "SPNEGO: unexpected %s token after the exchange finished",
                           cur_name(s));
    int rc = check_server_mic(s, r, err);
    if (rc != 0)
        return rc;
    s->stage = SP_DONE;
    return SMB_AUTH_DONE;
}

static int reply_round(smb_spnego *s, const uint8_t *in, size_t in_len, smb_buf *out, smb_error *err)
{
    smb_negtoken_resp r = {.neg_state = SPNEGO_NO_STATE};
    if (in_len > 0) {
        int rc = smb_spnego_parse_resp(in, in_len, &r, err);
        if (rc != 0)
            return rc;
    } else if (!s->mech_done) {
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server sent an empty security buffer during %s",
                           cur_name(s));
    } else {
        /* SESSION_SETUP succeeded without a final token. */
        r.neg_state = SPNEGO_ACCEPT_COMPLETED;
    }

    if (r.neg_state == SPNEGO_REJECT)
        return smb_err_set(err, SMB_ERR_AUTH, 0, "the server rejected %s authentication (SPNEGO reject)%s",
                           cur_name(s),
                           s->hint_parsed && !s->hint_has[s->cur] ? "; it does not offer this mechanism" : "");
    if (r.neg_state == SPNEGO_REQUEST_MIC)
        s->mic_requested = true;
    bool first_reply = s->replies++ == 0;
    if (r.has_mech) {
        if (select_mech(s, &r.mech, first_reply) < 0) {
            char name[64];
            if (!smb_asn1_oid_str(r.mech.p, r.mech.len, name, sizeof name))
                strcpy(name, "(malformed OID)");
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server chose SPNEGO mechanism %s, which was not offered",
                               name);
        }
    }
    if (s->mech_done)
        return final_round(s, &r, err);
    return mech_round(s, &r, out, err);
}

int smb_spnego_step(smb_spnego *s, const uint8_t *in, size_t in_len, smb_buf *out, smb_error *err)
{
    out->data = NULL;
    out->len = 0;
    if (!in)
        in_len = 0;
    int rc;
    switch (s->stage) {
    case SP_START:
        if (in_len > 0)
            return fail(s, smb_err_set(err, SMB_ERR_PROTOCOL, 0, "SPNEGO: a server token before our first one"));
        rc = first_round(s, out, err);
        break;
    case SP_WAIT:
        rc = reply_round(s, in, in_len, out, err);
        break;
    case SP_DONE:
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "SPNEGO: the exchange is already complete");
    default:
        return smb_err_set(err, SMB_ERR_AUTH, 0, "SPNEGO: the exchange already failed");
    }
    if (rc < 0) {
        free(out->data);
        out->data = NULL;
        out->len = 0;
        return fail(s, rc);
    }
    return rc;
}

int smb_spnego_session_key(smb_spnego *s, uint8_t *key, size_t cap, size_t *len)
{
    if (!s)
        return SMB_ERR_INVALID_ARG;
    if (s->stage != SP_DONE)
        return SMB_ERR_INTERNAL;
    return s->mech[s->cur].ops->session_key(s->mech[s->cur].state, key, cap, len);
}

const char *smb_spnego_mech_name(const smb_spnego *s) { return s ? cur_name(s) : "?"; }

void smb_spnego_free(smb_spnego *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_mech; i++)
        if (s->mech[i].state)
            s->mech[i].ops->free(s->mech[i].state);
    free(s->mech_types);
    smb_auth_wipe(s, sizeof *s);
    free(s);
}

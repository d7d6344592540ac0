/*
 * Multichannel (MS-SMB2 3.2.4.2.3 with SMB2_SESSION_FLAG_BINDING, 3.2.5.3.3):
 * further connections bound to an authenticated session, each a channel
 * with its own signing key, and the tree requests spread over them.
 *
 * Binding authenticates again on the new connection. Its SESSION_SETUP
 * requests are signed with the session's signing key; the server's interim
 * responses are too, and its final one with the new channel's key, derived
 * from the binding's session key (and, in 3.1.1, from the preauth hash of
 * the new connection's NEGOTIATE and the binding exchange). Encryption keys
 * stay the session's: one nonce counter serves every channel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "error.h"
#include <smbcopy/ntstatus.h>
#include "objects.h"


void smb_session_channel_opts(const smb_session *s, smb_conn_opts *opts)
{
    const smb_conn *c = s->conn;
    *opts = c->opts;
    memcpy(opts->client_guid, c->client_guid, 16); /* the server finds the session by it */
    opts->min_dialect = opts->max_dialect = c->neg.dialect;
    if (c->neg.dialect >= SMB_DIALECT_3_1_1)
        opts->cipher = c->neg.cipher;
}

void smb_tree_add_channel_keys(smb_tree *t)
{
    smb_session *s = t->sess;
    for (int k = 1; k < s->nchan; k++) {
        t->csec[k] = t->sec;
        memcpy(t->csec[k].signing_key, s->chan[k].signing_key, 16);
    }
}

static bool conn_dead(smb_conn *c)
{
    return __atomic_load_n(&c->dead, __ATOMIC_ACQUIRE);
}

void smb_route(smb_req **rs, int n)
{
    smb_tree *t = rs[0]->route;
    if (!t)
        return;
    smb_session *s = t->sess;
    int nchan = __atomic_load_n(&s->nchan, __ATOMIC_ACQUIRE);
    if (nchan <= 1)
        return;
    /*
     * The live channel with the least in flight (credits charged: bytes /
     * 64 KiB). Ties go round: when the client rather than the network is
     * the bottleneck every channel is idle at send time, and a fixed
     * first choice would leave the others unused.
     */
    int best = -1;
    uint32_t best_load = UINT32_MAX;
    unsigned start = __atomic_fetch_add(&s->route_turn, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < nchan; i++) {
        int k = (int)((start + (unsigned)i) % (unsigned)nchan);
        smb_conn *c = s->chan[k].conn;
        if (conn_dead(c))
            continue;
        uint32_t load = __atomic_load_n(&c->outstanding, __ATOMIC_RELAXED);
        if (load < best_load) {
            best = k;
            best_load = load;
        }
    }
    if (best <= 0)
        return; /* the first channel (or none alive: it fails there) */
    for (int i = 0; i < n; i++) {
        rs[i]->conn = s->chan[best].conn;
        rs[i]->sec = &t->csec[best];
    }
}

uint16_t smb_session_channel_sequence(const smb_session *s)
{
    return __atomic_load_n(&s->channel_sequence, __ATOMIC_RELAXED);
}

static bool replayable(const smb_req *r)
{
    switch (r->command) {
    case SMB2_READ:
    case SMB2_WRITE:
    case SMB2_QUERY_INFO:
    case SMB2_FLUSH:
        return true;
    default:
        return false;
    }
}

/* Make r new again for sending on another channel: the response parts go, the message stays. */
static void req_reset(smb_req *r)
{
    smb_tree *t = r->route;
    free(r->rsp);
    r->rsp = NULL;
    r->rsp_len = 0;
    r->read_len = 0;
    r->status = 0;
    r->err = 0;
    memset(&r->err_detail, 0, sizeof r->err_detail);
    r->mid = 0;
    r->async_id = 0;
    r->is_async = false;
    r->payload_short = false;
    r->hash_next = NULL;
    r->state = REQ_NEW;
    r->conn = t->sess->conn;
    r->sec = &t->sec; /* smb_route moves it to a live channel */
}

/* Note that channel k of s was lost: the first to see it moves ChannelSequence on. */
static void channel_lost(smb_session *s, int k)
{
    if (!__atomic_exchange_n(&s->chan[k].lost, true, __ATOMIC_ACQ_REL))
        __atomic_add_fetch(&s->channel_sequence, 1, __ATOMIC_RELAXED);
}

/* The index of c among s's channels and how many others are alive. */
static int channel_of(smb_session *s, const smb_conn *c, int *alive)
{
    int nchan = __atomic_load_n(&s->nchan, __ATOMIC_ACQUIRE), k = -1;
    *alive = 0;
    for (int i = 0; i < nchan; i++) {
        if (s->chan[i].conn == c)
            k = i;
        else if (!conn_dead(s->chan[i].conn))
            (*alive)++;
    }
    return k;
}

bool smb_req_resend(smb_req **rs, int n, int rc)
{
    smb_tree *t = rs[0]->route;
    smb_conn *old = rs[0]->conn;
    if (!t || (rc != SMB_ERR_DISCONNECTED && rc != SMB_ERR_TIMEOUT) || !conn_dead(old))
        return false;
    for (int i = 0; i < n; i++)
        if (rs[i]->cb || rs[i]->route != t || rs[i]->state == REQ_SENT)
            return false;
    int alive = 0, k = channel_of(t->sess, old, &alive);
    if (k < 0 || !alive)
        return false;
    channel_lost(t->sess, k);
    __atomic_add_fetch(&t->sess->chan[k].replayed, (uint64_t)n, __ATOMIC_RELAXED);
    for (int i = 0; i < n; i++)
        req_reset(rs[i]);
    return true;
}

bool smb_req_replay(smb_req *r, int attempt)
{
    smb_tree *t = r->route;
    smb_conn *old = r->conn;
    if (!t || r->cb || r->in_compound || !replayable(r))
        return false;
    smb_session *s = t->sess;
    if (!r->err && r->status == SMB_STATUS_FILE_NOT_AVAILABLE && s->nchan > 1) {
        /*
         * The server still holds requests of the lost channel's sequence
         * for this open: replay once they have drained (MS-SMB2 3.2.5.1.x,
         * 3.3.5.2.10), after a growing pause.
         */
        struct timespec pause = {0, (long)(attempt < 8 ? 10 << attempt : 1000) * 1000000L};
        if (pause.tv_nsec >= 1000000000L)
            pause = (struct timespec){1, 0};
        nanosleep(&pause, NULL);
    } else {
        if (!conn_dead(old) || (r->err != SMB_ERR_DISCONNECTED && r->err != SMB_ERR_TIMEOUT))
            return false;
        int alive = 0, k = channel_of(s, old, &alive);
        if (k < 0 || !alive)
            return false;
        /* The first request to see the loss moves the session's ChannelSequence on (MS-SMB2 3.3.5.2.10). */
        channel_lost(s, k);
        __atomic_add_fetch(&s->chan[k].replayed, 1, __ATOMIC_RELAXED);
    }
    req_reset(r);
    uint8_t *h = r->msg.buf;
    smb_put32(h + 16, smb_le32(h + 16) | SMB2_FLAGS_REPLAY_OPERATION);
    smb_error e = {0};
    if (smb_req_send(r, &e) != 0) {
        r->err = e.code ? e.code : SMB_ERR_DISCONNECTED;
        r->err_detail = e;
        r->state = REQ_DONE;
    }
    return true;
}

void smb_session_close_channels(smb_session *s)
{
    int n = s->nchan;
    for (int k = 1; k < n; k++) {
        smb_conn *c = s->chan[k].conn;
        s->chan[k].conn = NULL;
        memset(s->chan[k].signing_key, 0, 16);
        if (c) {
            c->bound = NULL;
            smb_conn_close(c);
        }
    }
    s->nchan = n > 0 ? 1 : 0;
}

/* The binding exchange on c; on success the channel's signing key is in key. */
static int bind_exchange(smb_session *s, smb_conn *c, smb_spnego *sp, uint8_t key[16], smb_error *err)
{
    smb_sec bind_sec = s->sec;
    bind_sec.encrypt = false; /* SESSION_SETUP is never encrypted */
    bind_sec.signing = true;  /* a binding request is signed with the session's key (MS-SMB2 3.2.4.1.1) */
    char what[300];
    snprintf(what, sizeof what, "bind a channel on %s to the session", c->host);
    smb_setup_exchange x = {
        .conn = c, .session_id = s->id, .flags = SMB2_SESSION_FLAG_BINDING, .sign = &bind_sec, .what = what};
    int rc = smb_session_setup_exchange(&x, sp, err);
    /* A server that refuses the binding (multichannel off, no such session there, ...) leaves the session as it was. */
    if (rc != 0 && x.refused)
        rc = err ? (err->code = SMB_ERR_UNSUPPORTED) : SMB_ERR_UNSUPPORTED;
    if (rc == 0 && (x.session_flags & SMB2_SESSION_FLAG_IS_GUEST))
        rc = smb_err_set(err, SMB_ERR_AUTH, 0, "the server bound the channel as guest");
    if (rc == 0) {
        uint8_t skey[64], key16[16] = {0};
        size_t skey_len = 0;
        if (smb_spnego_session_key(sp, skey, sizeof skey, &skey_len) != 0 || skey_len == 0)
            rc = smb_err_set(err, SMB_ERR_AUTH, 0, "binding gave no session key");
        if (rc == 0) {
            memcpy(key16, skey, skey_len < 16 ? skey_len : 16);
            if (smb_derive_signing_key(c->neg.dialect, key16, x.preauth, key) != 0)
                rc = smb_err_set(err, SMB_ERR_CRYPTO, 0, "key derivation failed");
        }
        memset(skey, 0, sizeof skey);
        memset(key16, 0, sizeof key16);
        /* The final response is signed with the channel's key (MS-SMB2 3.3.4.1.1). */
        if (rc == 0 && (!(x.last->rsp_hdr.flags & SMB2_FLAGS_SIGNED) ||
                        !smb_rsp_signature_ok(c->neg.signing_alg, key, x.last->rsp, x.last->rsp_len)))
            rc = smb_err_set(err, SMB_ERR_SIGNATURE, 0,
                             "the server's final binding response is not signed with the channel's key");
    }
    smb_req_free(x.last);
    return rc;
}

int smb_session_bind(smb_session *s, smb_conn *c, const smb_creds *cr, smb_error *err)
{
    smb_creds none = {0};
    if (!cr)
        cr = &none;
    if (!s || !c)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no session or connection");
    const smb_conn *p = s->conn;
    if (p->neg.dialect < SMB_DIALECT_3_0 || !(p->neg.capabilities & SMB2_GLOBAL_CAP_MULTI_CHANNEL))
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "server %s does not offer multichannel (SMB %s)", p->host,
                           smb_dialect_name(p->neg.dialect));
    if (s->guest || s->anonymous || !s->sec.keyed)
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "a guest or anonymous session cannot have more channels");
    if (c->neg.dialect != p->neg.dialect || memcmp(c->neg.server_guid, p->neg.server_guid, 16) != 0 ||
        memcmp(c->client_guid, p->client_guid, 16) != 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                           "the connection to %s is not to the same server with the same dialect and client GUID",
                           c->host);
    if (c == p || c->bound || c->sessions)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "the connection already carries sessions");
    pthread_mutex_lock(&s->lock);
    bool full = s->nchan >= SMB_MAX_CHANNELS;
    pthread_mutex_unlock(&s->lock);
    if (full)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "the session has %d channels already", SMB_MAX_CHANNELS);
    char *user = NULL, *domain = NULL;
    smb_spnego *sp = smb_session_spnego_new(c, cr, &user, &domain, err);
    int rc = sp ? 0 : (err && err->code ? err->code : SMB_ERR_AUTH);
    uint8_t key[16];
    if (rc == 0)
        rc = bind_exchange(s, c, sp, key, err);
    smb_spnego_free(sp);
    free(user);
    free(domain);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&s->lock);
    int k = s->nchan;
    if (k >= SMB_MAX_CHANNELS) {
        pthread_mutex_unlock(&s->lock);
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "the session has %d channels already", SMB_MAX_CHANNELS);
    }
    s->chan[k].conn = c;
    memcpy(s->chan[k].signing_key, key, 16);
    memset(key, 0, sizeof key);
    pthread_mutex_lock(&c->lock);
    c->bound = s;
    pthread_mutex_unlock(&c->lock);
    /* Every tree gets the channel's keys before requests may be routed to it. */
    for (smb_tree *t = s->trees; t; t = t->next) {
        t->csec[k] = t->sec;
        memcpy(t->csec[k].signing_key, s->chan[k].signing_key, 16);
    }
    __atomic_store_n(&s->nchan, k + 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

int smb_session_channels(smb_session *s, smb_channel_info *out, int max)
{
    int n = __atomic_load_n(&s->nchan, __ATOMIC_ACQUIRE);
    for (int k = 0; k < n && k < max; k++) {
        smb_conn *c = s->chan[k].conn;
        memset(&out[k], 0, sizeof out[k]);
        snprintf(out[k].host, sizeof out[k].host, "%s", c->host);
        out[k].port = c->port;
        out[k].alive = !conn_dead(c);
        out[k].replayed = __atomic_load_n(&s->chan[k].replayed, __ATOMIC_RELAXED);
        smb_conn_get_stats(c, &out[k].stats);
    }
    return n;
}

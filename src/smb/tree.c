/*
 * Tree connects (MS-SMB2 3.2.4.2.4, 3.2.5.5), secure dialect validation for
 * 3.0 and 3.0.2 (MS-SMB2 3.2.5.14.12), TREE_DISCONNECT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include <smbcopy/ntstatus.h>
#include "objects.h"
#include "sign_rules.h"
#include "utf16.h"

smb_req *smb_tree_req(smb_tree *t, uint16_t command)
{
    smb_req *r = smb_req_new(t->sess->conn, command, t->sess->id, t->id, &t->sec);
    if (r)
        r->route = t;
    return r;
}

/*
 * FSCTL_VALIDATE_NEGOTIATE_INFO: the server repeats what it negotiated in a
 * signed response, so a man in the middle cannot have downgraded the
 * dialect or the signing requirement.
 */
static int validate_negotiate(smb_tree *t, smb_error *err)
{
    smb_conn *c = t->sess->conn;
    smb_wr in;
    uint8_t inbuf[128];
    smb_wr_init(&in, inbuf, sizeof inbuf);
    smb2_validate_negotiate_encode(&in, c->neg.our_capabilities, c->client_guid, c->neg.our_security_mode,
                                   c->neg.our_dialects, c->neg.our_ndialects);
    /* Not smb_tree_req: it validates the first connection's negotiation, so it goes there, never to another channel. */
    smb_req *r = smb_req_new(c, SMB2_IOCTL, t->sess->id, t->id, &t->sec);
    if (!r || !smb_wr_ok(&in)) {
        smb_req_free(r);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    smb2_ioctl_req ir = {
        .ctl_code = SMB_FSCTL_VALIDATE_NEGOTIATE_INFO,
        .fid = SMB2_FILEID_RELATED,
        .input = in.buf,
        .input_len = in.len,
        .max_output = 24,
        .flags = SMB2_0_IOCTL_IS_FSCTL,
    };
    smb2_ioctl_req_encode(smb_req_body(r), &ir);
    /* Signed whatever the session does (MS-SMB2 3.2.5.5); its answer must be too (3.2.5.14.12). */
    r->force_sign = smb_sign_forced(c->neg.dialect, SMB2_IOCTL, SMB_FSCTL_VALIDATE_NEGOTIATE_INFO);
    int rc = smb_req_send(r, err);
    if (rc == 0)
        rc = smb_req_wait(r, err);
    if (rc == 0 && r->status != SMB_STATUS_SUCCESS) {
        rc = smb_err_set(err, SMB_ERR_NEGOTIATE, r->status,
                         "server %s failed secure dialect validation (status 0x%08x): connection closed", c->host,
                         r->status);
    }
    smb2_ioctl_rsp ior;
    smb2_validate_negotiate_rsp vr;
    if (rc == 0) {
        smb_rd rd = smb_req_rsp_body(r);
        if (smb2_ioctl_rsp_decode(&rd, &ior) != 0 ||
            smb2_validate_negotiate_decode(ior.output.data, ior.output.len, &vr) != 0)
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed VALIDATE_NEGOTIATE_INFO response");
    }
    if (rc == 0 && (vr.dialect != c->neg.dialect || vr.security_mode != c->neg.security_mode ||
                    vr.capabilities != c->neg.capabilities || memcmp(vr.guid, c->neg.server_guid, 16) != 0))
        rc = smb_err_set(err, SMB_ERR_NEGOTIATE, 0,
                         "server %s answered dialect validation with different values: possible downgrade attack",
                         c->host);
    smb_req_free(r);
    if (rc != 0 && rc != SMB_ERR_DISCONNECTED && rc != SMB_ERR_TIMEOUT)
        smb_conn_fail(c, SMB_ERR_NEGOTIATE, "secure dialect validation failed");
    return rc;
}

/* "share" or "\\\\host\\share" (either slash) to the UNC path sent. */
static char *unc_path(const smb_conn *c, const char *share)
{
    bool is_unc = (share[0] == '\\' || share[0] == '/') && (share[1] == '\\' || share[1] == '/');
    while (*share == '\\' || *share == '/')
        share++;
    size_t n = strlen(c->host) + strlen(share) + 4;
    char *unc = malloc(n);
    if (!unc)
        return NULL;
    if (is_unc)
        snprintf(unc, n, "\\\\%s", share);
    else
        snprintf(unc, n, "\\\\%s\\%s", c->host, share);
    for (char *p = unc; *p; p++)
        if (*p == '/')
            *p = '\\';
    return unc;
}

smb_tree *smb_tree_connect(smb_session *s, const char *share, smb_error *err)
{
    if (!s || !share || !*share) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no share name given");
        return NULL;
    }
    smb_conn *c = s->conn;
    smb_tree *t = calloc(1, sizeof *t);
    if (t)
        pthread_mutex_init(&t->lock, NULL);
    char *unc = unc_path(c, share);
    size_t wlen = 0;
    uint8_t *wpath = unc ? smb_utf8_to_utf16le(unc, strlen(unc), &wlen) : NULL;
    smb_req *r = t ? smb_req_new(c, SMB2_TREE_CONNECT, s->id, 0, &s->sec) : NULL;
    if (!t || !unc || !wpath || !r) {
        smb_err_set(err, unc && !wpath ? SMB_ERR_BAD_NAME : SMB_ERR_NO_MEMORY, 0,
                    unc && !wpath ? "share name is not valid UTF-8" : "out of memory");
        goto fail;
    }
    t->sess = s;
    t->share = unc;
    unc = NULL;
    smb2_tree_connect_req_encode(smb_req_body(r), wpath, wlen);
    /* Signed on 3.1.1 whatever the session does (MS-SMB2 3.3.5.7); elsewhere only when the session signs. */
    r->force_sign = smb_sign_forced(c->neg.dialect, SMB2_TREE_CONNECT, 0);
    char what[300];
    snprintf(what, sizeof what, "connect to share %s", t->share);
    if (smb_req_run(r, what, err) != 0) {
        if (err && err->code == SMB_ERR_NOT_FOUND)
            err->code = SMB_ERR_BAD_SHARE;
        goto fail;
    }
    smb2_tree_connect_rsp tr;
    smb_rd rd = smb_req_rsp_body(r);
    if (smb2_tree_connect_rsp_decode(&rd, &tr) != 0) {
        smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed TREE_CONNECT response");
        goto fail;
    }
    t->id = r->rsp_hdr.tree_id;
    t->info.tree_id = t->id;
    t->info.share_type = tr.share_type;
    t->info.share_flags = tr.share_flags;
    t->info.capabilities = tr.capabilities;
    t->info.maximal_access = tr.maximal_access;
    smb_req_free(r);
    r = NULL;
    free(wpath);
    wpath = NULL;

    /* A share may demand encryption of its own (MS-SMB2 3.2.5.5). */
    t->sec = s->sec;
    if ((tr.share_flags & SMB2_SHAREFLAG_ENCRYPT_DATA) && !t->sec.encrypt) {
        const char *why = NULL;
        if (c->opts.encryption == SMB_POLICY_OFF)
            why = "but encryption was turned off";
        else if (s->guest || s->anonymous)
            why = "which a guest or anonymous session cannot do";
        else if (!c->neg.cipher)
            why = "but the connection negotiated no cipher";
        if (why) {
            smb_err_set(err, SMB_ERR_ENCRYPTION, 0, "share %s requires encryption, %s", t->share, why);
            smb_tree_close_internal(t, true, NULL);
            return NULL;
        }
        t->sec.encrypt = true;
    }
    pthread_mutex_lock(&s->lock);
    smb_tree_add_channel_keys(t);
    t->next = s->trees;
    s->trees = t;
    pthread_mutex_unlock(&s->lock);
    if ((c->neg.dialect == SMB_DIALECT_3_0 || c->neg.dialect == SMB_DIALECT_3_0_2) && s->sec.keyed &&
        validate_negotiate(t, err) != 0) {
        smb_tree_close_internal(t, false, NULL);
        return NULL;
    }
    return t;

fail:
    smb_req_free(r);
    free(wpath);
    free(unc);
    if (t) {
        pthread_mutex_destroy(&t->lock);
        free(t->share);
    }
    free(t);
    return NULL;
}

void smb_tree_get_info(const smb_tree *t, smb_tree_info *info) { *info = t->info; }

int smb_tree_close_internal(smb_tree *t, bool send, smb_error *err)
{
    smb_tree_close_opens(t, send);
    int rc = 0;
    if (send) {
        smb_req *r = smb_tree_req(t, SMB2_TREE_DISCONNECT);
        if (!r) {
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        } else {
            smb2_tree_disconnect_req_encode(smb_req_body(r));
            rc = smb_req_run(r, "disconnect share", err);
            smb_req_free(r);
        }
    }
    smb_session *s = t->sess;
    /* Not while an oplock break is acknowledged on it (oplock.c). */
    pthread_rwlock_t *life = &s->conn->tree_life;
    pthread_rwlock_wrlock(life);
    pthread_mutex_lock(&s->lock);
    for (smb_tree **pp = &s->trees; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    pthread_mutex_destroy(&t->lock);
    free(t->share);
    free(t);
    pthread_rwlock_unlock(life);
    return rc;
}

int smb_tree_disconnect(smb_tree *t, smb_error *err)
{
    if (!t)
        return 0;
    smb_conn *c = t->sess->conn;
    pthread_mutex_lock(&c->lock);
    bool alive = !c->dead;
    pthread_mutex_unlock(&c->lock);
    return smb_tree_close_internal(t, alive, err);
}

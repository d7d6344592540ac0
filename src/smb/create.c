/*
 * CREATE with the typed create contexts of smb_create_params (lease,
 * durable handle, maximal access, on-disk id; MS-SMB2 2.2.13.2) and the
 * reply contexts decoded (2.2.14.2): smb_create_ex.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/random.h"
#include "error.h"
#include "objects.h"
#include "open.h"

int smb_typed_ctx_build(smb_typed_ctx *tc, const smb_tree *t, const smb_create_params *p,
                        const uint8_t dh_guid[16], smb_error *err)
{
    memset(tc, 0, sizeof *tc);
    uint16_t dialect = t->sess->conn->neg.dialect;
    if (p->lease_state) {
        /* Leases came with 2.1; version 2 with 3.x (2.2.13.2.10). */
        if (dialect < SMB_DIALECT_2_1)
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "a lease needs SMB 2.1 or later (this connection has %s)",
                               smb_dialect_name(dialect));
        tc->lease_version = dialect >= SMB_DIALECT_3_0 ? 2 : 1;
        size_t n = smb2_lease_req_encode(tc->lease, tc->lease_version, p->lease_key, p->lease_state, 0);
        tc->ctx[tc->n++] = (smb2_create_ctx){"RqLs", tc->lease, n};
    }
    if (p->durable == SMB_DURABLE_V1) {
        tc->ctx[tc->n++] = (smb2_create_ctx){"DHnQ", tc->durable, smb2_dhnq_encode(tc->durable)};
    } else if (p->durable == SMB_DURABLE_V2) {
        if (dialect < SMB_DIALECT_3_0)
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "a durable handle v2 needs SMB 3 (this connection has %s)",
                               smb_dialect_name(dialect));
        size_t n = smb2_dh2q_encode(tc->durable, p->durable_timeout_ms, p->persistent, dh_guid);
        tc->ctx[tc->n++] = (smb2_create_ctx){"DH2Q", tc->durable, n};
    } else if (p->durable != SMB_DURABLE_NONE) {
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "unknown durable handle version %u", p->durable);
    }
    if (p->query_maximal_access)
        tc->ctx[tc->n++] = (smb2_create_ctx){"MxAc", NULL, 0};
    if (p->query_on_disk_id)
        tc->ctx[tc->n++] = (smb2_create_ctx){"QFid", NULL, 0};
    return 0;
}

void smb_close_fid(smb_tree *t, smb2_fileid fid)
{
    smb_req *cl = smb_tree_req(t, SMB2_CLOSE);
    if (!cl)
        return;
    smb2_close_req_encode(smb_req_body(cl), 0, fid);
    (void)smb_req_run(cl, "close", NULL);
    smb_req_free(cl);
}

int smb_create_send(smb_tree *t, const uint8_t *name, size_t name_len, const smb_create_params *p,
                    const smb2_create_ctx *extra, int nextra, smb2_create_rsp *rsp, smb_create_reply *reply,
                    const char *what, smb_req **req_out, smb_error *err)
{
    *req_out = NULL;
    if (p->ncontexts > 16 || nextra < 0 || nextra > 8)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "%s: too many create contexts", what);
    smb2_create_ctx ctx[24];
    smb2_create_req cr;
    smb_create_req_from_params(&cr, p, ctx, name, name_len);
    for (int i = 0; i < nextra; i++)
        ctx[cr.ncontexts++] = extra[i];
    if (p->lease_state)
        cr.oplock = SMB_OPLOCK_LEVEL_LEASE; /* RequestedOplockLevel for a lease (2.2.13) */
    smb_req *r = smb_tree_req(t, SMB2_CREATE);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_create_req_encode(smb_req_body(r), &cr);
    int rc = smb_req_run(r, what, err);
    if (rc == 0) {
        smb_rd rd = smb_req_rsp_body(r);
        if (smb2_create_rsp_decode(&rd, rsp) != 0) {
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s: malformed CREATE response", what);
        } else if (reply) {
            memset(reply, 0, sizeof *reply);
            reply->oplock = rsp->oplock;
            reply->create_action = rsp->create_action;
            if (smb2_create_reply_decode(&rsp->contexts, reply) != 0) {
                smb_close_fid(t, rsp->fid);
                rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s: malformed create context in the response", what);
            }
        }
    }
    if (rc != 0) {
        smb_req_free(r);
        return rc;
    }
    *req_out = r;
    return 0;
}

/* Keep what reopening op needs (smb_open_reconnect) when the server made it durable. */
static int keep_durable(smb_open *op, const smb_create_params *p, const smb_create_reply *reply,
                        const smb_typed_ctx *tc, const uint8_t guid[16], const uint8_t *name, size_t name_len)
{
    smb_durable *d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    d->name = malloc(name_len ? name_len : 1);
    if (!d->name) {
        free(d);
        return -1;
    }
    if (name_len)
        memcpy(d->name, name, name_len);
    d->name_len = name_len;
    d->version = reply->durable;
    d->persistent = reply->persistent;
    memcpy(d->create_guid, guid, 16);
    d->params = *p;
    d->params.contexts = NULL;
    d->params.ncontexts = 0;
    d->params.query_maximal_access = false;
    d->params.query_on_disk_id = false;
    d->lease_version = tc->lease_version;
    d->lease_epoch = reply->lease_epoch;
    op->durable = d;
    return 0;
}

smb_open *smb_create_ex(smb_tree *t, const char *path, const smb_create_params *params, smb_file_info *info,
                        smb_create_reply *reply, smb_error *err)
{
    smb_create_params defaults;
    if (!params) {
        smb_create_params_init(&defaults);
        params = &defaults;
    }
    if (!t) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad create arguments");
        return NULL;
    }
    smb_create_params p = *params;
    uint8_t guid[16] = {0};
    bool zero_key = true;
    for (int i = 0; i < 16; i++)
        zero_key = zero_key && p.lease_key[i] == 0;
    if ((p.lease_state && zero_key && smb_random(p.lease_key, 16) != 0) ||
        (p.durable == SMB_DURABLE_V2 && smb_random(guid, 16) != 0)) {
        smb_err_set(err, SMB_ERR_INTERNAL, 0, "no random bytes for a lease key or create GUID");
        return NULL;
    }
    smb_typed_ctx tc;
    if (smb_typed_ctx_build(&tc, t, &p, guid, err) != 0)
        return NULL;
    size_t wlen;
    uint8_t *wname = smb_path_utf16(path, &wlen, err);
    if (!wname)
        return NULL;
    char what[512];
    snprintf(what, sizeof what, "open '%s'", path ? path : "");
    smb_create_reply local;
    memset(&local, 0, sizeof local);
    smb_create_reply *rep = reply ? reply : &local;
    smb2_create_rsp rsp;
    smb_req *r;
    smb_open *op = NULL;
    if (smb_create_send(t, wname, wlen, &p, tc.ctx, tc.n, &rsp, rep, what, &r, err) == 0) {
        op = smb_open_register(t, rsp.fid, (rsp.times.attributes & SMB_ATTR_DIRECTORY) != 0);
        if (op) {
            op->oplock_level = rsp.oplock;
            if (rep->durable != SMB_DURABLE_NONE && keep_durable(op, &p, rep, &tc, guid, wname, wlen) != 0) {
                (void)smb_close(op, NULL, NULL);
                op = NULL;
            }
        } else {
            smb_close_fid(t, rsp.fid); /* open on the server: close it there */
        }
        if (!op) {
            smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        } else if (info) {
            memset(info, 0, sizeof *info);
            smb_file_info_from_times(info, &rsp.times);
        }
        smb_req_free(r);
    }
    free(wname);
    return op;
}

/*
 * Durable handles: reopening an open after its connection was lost
 * (MS-SMB2 3.2.4.4, DHnC and DH2C), with the lease it held.
 */
#include <string.h>

#include "error.h"
#include "objects.h"
#include "open.h"

uint8_t smb_open_durable(const smb_open *op)
{
    SMB_OPEN_CHECK(op);
    return op && op->durable ? op->durable->version : SMB_DURABLE_NONE;
}

int smb_open_reconnect(smb_open *op, smb_tree *t, smb_create_reply *reply, smb_error *err)
{
    if (!op || !t)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "reconnect: no open or no tree");
    SMB_OPEN_CHECK(op);
    const smb_durable *d = op->durable;
    if (!d)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "reconnect: the open is not durable");
    if (t == op->tree)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "reconnect: the open is already on this tree");
    /* A lease belongs to the client GUID that took it (3.3.5.9.12): a
     * connection with another GUID is refused as if the open were gone. */
    if (d->lease_version && memcmp(t->sess->conn->client_guid, op->tree->sess->conn->client_guid, 16) != 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                           "reconnect: the open holds a lease, so the new connection needs the old one's client "
                           "GUID (connect with smb_session_channel_opts of the old session)");

    uint8_t dh[36];
    uint8_t lease[SMB2_LEASE_V2_LEN];
    smb2_create_ctx extra[2];
    int n = 0;
    if (d->version == SMB_DURABLE_V1)
        extra[n++] = (smb2_create_ctx){"DHnC", dh, smb2_dhnc_encode(dh, op->fid)};
    else
        extra[n++] = (smb2_create_ctx){"DH2C", dh, smb2_dh2c_encode(dh, op->fid, d->create_guid, d->persistent)};
    smb_create_params p = d->params;
    p.durable = SMB_DURABLE_NONE;
    p.disposition = SMB_FILE_OPEN;
    if (d->lease_version) {
        /* The same lease key and state as the first open (3.2.4.4). */
        size_t len = smb2_lease_req_encode(lease, d->lease_version, p.lease_key, p.lease_state, d->lease_epoch);
        extra[n++] = (smb2_create_ctx){"RqLs", lease, len};
    }
    /* The lease context is in extra already: p's lease_state only sets RequestedOplockLevel. */
    const char *what = "reconnect a durable open";
    smb_create_reply local;
    memset(&local, 0, sizeof local);
    smb2_create_rsp rsp;
    smb_req *r;
    int rc = smb_create_send(t, d->name, d->name_len, &p, extra, n, &rsp, reply ? reply : &local, what, &r, err);
    if (rc != 0)
        return rc;
    smb_open_move(op, t);
    op->fid = rsp.fid;
    __atomic_store_n(&op->oplock_level, rsp.oplock, __ATOMIC_RELAXED);
    smb_req_free(r);
    return 0;
}

/*
 * smb_list_shares: NetShareEnumAll (MS-SRVS 3.1.4.8) over the named pipe
 * \srvsvc of IPC$, as DCE/RPC PDUs (src/smb/rpc/) carried by
 * FSCTL_PIPE_TRANSCEIVE (MS-FSCC 2.3.53, MS-SMB2 3.2.4.20.3) and READs.
 */
#include <smbcopy/shares.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "conn.h"
#include "objects.h"
#include "rpc/dcerpc.h"
#include "rpc/srvsvc.h"

#define FSCTL_PIPE_TRANSCEIVE 0x0011C017u

/* The fragment size offered in the BIND, as Samba's and older Windows
 * clients offer it; the server sends no larger fragment. */
#define RPC_MAX_FRAG 4280u
/* Most bytes one TRANSCEIVE or READ on the pipe asks for (further capped by
 * the connection's MaxTransactSize / MaxReadSize and credits). */
#define PIPE_CHUNK 65536u

#define CALL_ID_BIND 1u
#define CALL_ID_ENUM 2u

void smb_shares_free(smb_share_info *shares, size_t n)
{
    if (!shares)
        return;
    for (size_t i = 0; i < n; i++) {
        free(shares[i].name);
        free(shares[i].comment);
    }
    free(shares);
}

const char *smb_share_type_name(uint32_t type)
{
    switch (type & SMB_STYPE_MASK) {
    case SMB_STYPE_DISKTREE: return "disk";
    case SMB_STYPE_PRINTQ: return "printer";
    case SMB_STYPE_DEVICE: return "device";
    case SMB_STYPE_IPC: return "ipc";
    default: return "unknown";
    }
}

/* What one TRANSCEIVE or READ on the pipe asks for. */
static size_t pipe_chunk(smb_session *sess, smb_open *pipe)
{
    smb_conn_info info;
    smb_conn_get_info(sess->conn, &info);
    size_t chunk = PIPE_CHUNK;
    if (info.max_transact_size && info.max_transact_size < chunk)
        chunk = info.max_transact_size;
    uint32_t max_read = smb_open_max_read(pipe);
    if (max_read && max_read < chunk)
        chunk = max_read;
    return chunk;
}

/*
 * Send pdu with FSCTL_PIPE_TRANSCEIVE and gather the whole answer into
 * *out (malloc'd) / *out_len. An answer longer than the IOCTL's output
 * (STATUS_BUFFER_OVERFLOW, which smb_fsctl passes on with what fitted)
 * leaves its rest in the pipe, and the server writes the later fragments
 * of a reply as further messages: both are read with READs on the pipe
 * while dcerpc_stream_need says the fragments are incomplete.
 */
static int transceive(smb_session *sess, smb_open *pipe, const uint8_t *pdu, size_t len, uint8_t **out,
                      size_t *out_len, smb_error *err)
{
    *out = NULL;
    *out_len = 0;
    size_t chunk = pipe_chunk(sess, pipe);
    size_t cap = chunk, got = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    int rc = smb_fsctl(NULL, pipe, FSCTL_PIPE_TRANSCEIVE, pdu, len, buf, chunk, &got, err);
    while (rc == 0) {
        size_t need = 0;
        rc = dcerpc_stream_need(buf, got, &need, err);
        if (rc != 0 || need == 0)
            break;
        if (got == 0) {
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server's RPC answer was empty");
            break;
        }
        /* got + chunk stays below DCERPC_MAX_RESPONSE + chunk: dcerpc_stream_need bounds got. */
        if (cap - got < chunk) {
            size_t ncap = cap * 2 > got + chunk ? cap * 2 : got + chunk;
            uint8_t *grown = realloc(buf, ncap);
            if (!grown) {
                rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
                break;
            }
            buf = grown;
            cap = ncap;
        }
        size_t nread = 0;
        smb_io *io = smb_read_submit(pipe, buf + got, chunk, 0, err);
        rc = io ? smb_io_wait(io, &nread, err) : (err ? err->code : SMB_ERR_NO_MEMORY);
        if (rc == 0 && nread == 0)
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the pipe ended before the RPC answer was complete");
        got += nread;
    }
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = got;
    return 0;
}

/* BIND to srvsvc with NDR 2.0; *max_recv the largest fragment the server takes. */
static int rpc_bind(smb_session *sess, smb_open *pipe, uint16_t *max_recv, smb_error *err)
{
    uint8_t pdu[128];
    smb_wr w;
    smb_wr_init(&w, pdu, sizeof pdu);
    dcerpc_bind_encode(&w, CALL_ID_BIND, RPC_MAX_FRAG, &srvsvc_syntax);
    if (!smb_wr_ok(&w))
        return smb_err_set(err, SMB_ERR_INTERNAL, 0, "RPC bind does not fit its buffer");
    uint8_t *ans = NULL;
    size_t ans_len = 0;
    int rc = transceive(sess, pipe, pdu, w.len, &ans, &ans_len, err);
    dcerpc_bind_ack ack;
    if (rc == 0)
        rc = dcerpc_bind_ack_decode(ans, ans_len, CALL_ID_BIND, &ack, err);
    free(ans);
    if (rc == 0)
        *max_recv = ack.max_recv_frag;
    return rc;
}

/* NetShareEnumAll on the bound pipe. */
static int rpc_enum(smb_session *sess, smb_open *pipe, uint16_t max_recv, smb_share_info **shares, size_t *n,
                    smb_error *err)
{
    const char *host = sess->conn->host;
    size_t unc_len = strlen(host) + 3;
    char *unc = malloc(unc_len);
    if (!unc)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    snprintf(unc, unc_len, "\\\\%s", host);
    smb_wr stub, pdu;
    smb_wr_init_grow(&stub, 128);
    smb_wr_init_grow(&pdu, 256);
    int rc = srvsvc_share_enum_all_encode(&stub, unc, err);
    free(unc);
    if (rc == 0 && !smb_wr_ok(&stub))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0)
        rc = dcerpc_request_encode(&pdu, CALL_ID_ENUM, SRVSVC_OPNUM_NET_SHARE_ENUM_ALL, stub.buf, stub.len, max_recv,
                                   err);
    if (rc == 0 && !smb_wr_ok(&pdu))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    uint8_t *ans = NULL;
    size_t ans_len = 0;
    if (rc == 0)
        rc = transceive(sess, pipe, pdu.buf, pdu.len, &ans, &ans_len, err);
    if (rc == 0)
        rc = srvsvc_share_enum_all_response(ans, ans_len, CALL_ID_ENUM, shares, n, err);
    free(ans);
    smb_wr_free(&stub);
    smb_wr_free(&pdu);
    return rc;
}

int smb_list_shares(smb_session *sess, smb_share_info **shares, size_t *n, smb_error *err)
{
    if (shares)
        *shares = NULL;
    if (n)
        *n = 0;
    if (!sess || !shares || !n)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "smb_list_shares needs a session and somewhere to put the list");
    smb_error local;
    if (!err)
        err = &local;
    smb_tree *ipc = smb_tree_connect(sess, "IPC$", err);
    if (!ipc)
        return err->code;
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_READ_DATA | SMB_FILE_WRITE_DATA;
    p.share_access = SMB_SHARE_READ | SMB_SHARE_WRITE;
    p.disposition = SMB_FILE_OPEN;
    int rc;
    smb_open *pipe = smb_create(ipc, "srvsvc", &p, NULL, NULL, err);
    if (!pipe) {
        rc = err->code;
    } else {
        uint16_t max_recv = 0;
        rc = rpc_bind(sess, pipe, &max_recv, err);
        if (rc == 0)
            rc = rpc_enum(sess, pipe, max_recv, shares, n, err);
        /* The list is had: a failing close changes nothing of it. */
        smb_close(pipe, NULL, NULL);
    }
    smb_tree_disconnect(ipc, NULL);
    return rc;
}

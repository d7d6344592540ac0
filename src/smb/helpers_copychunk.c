/*
 * Server-side copy of one file's bytes (MS-SMB2 3.2.4.20.1): the source's
 * resume key (FSCTL_SRV_REQUEST_RESUME_KEY, 2.2.32.3), then
 * FSCTL_SRV_COPYCHUNK_WRITE requests on the destination, each a list of
 * chunks (2.2.31.1) answered by the bytes written (2.2.32.1). The data
 * never crosses the network.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <smbcopy/ntstatus.h>

#include "error.h"
#include "helpers_internal.h"
#include "objects.h"
#include "pdu.h"

/* Smallest chunk tried when a server refuses larger ones without saying its limits. */
#define MIN_CHUNK (64u << 10)

/*
 * One FSCTL_SRV_COPYCHUNK_WRITE on dst with input in[0..in_len). Returns 0
 * once the server answered: its status in *status and, when the answer is
 * an IOCTL response carrying SRV_COPYCHUNK_RESPONSE (on success, and with
 * STATUS_INVALID_PARAMETER, where it holds the server's limits,
 * 3.3.5.15.6), that in *rsp with *have_rsp set. smb_fsctl is not used
 * because it drops the body of a failed IOCTL.
 */
static int copychunk_ioctl(smb_open *dst, const uint8_t *in, size_t in_len, uint32_t *status, smb2_copychunk_rsp *rsp,
                           bool *have_rsp, smb_error *err)
{
    *have_rsp = false;
    smb_req *r = smb_tree_req(dst->tree, SMB2_IOCTL);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_ioctl_req ir = {
        .ctl_code = SMB_FSCTL_SRV_COPYCHUNK_WRITE,
        .fid = dst->fid,
        .input = in,
        .input_len = in_len,
        .max_output = SMB2_COPYCHUNK_RSP_LEN,
        .flags = SMB2_0_IOCTL_IS_FSCTL,
    };
    smb2_ioctl_req_encode(smb_req_body(r), &ir);
    r->expect_len = ir.max_output;
    int rc = smb_req_send(r, err);
    if (rc == 0)
        rc = smb_req_wait(r, err);
    if (rc == 0) {
        *status = r->status;
        smb2_ioctl_rsp ior;
        smb_rd rd = smb_req_rsp_body(r);
        /* An error may come as an ERROR response (no IOCTL body): then there is nothing to read. */
        if (smb2_ioctl_rsp_decode(&rd, &ior) == 0 && ior.output.len >= SMB2_COPYCHUNK_RSP_LEN &&
            smb2_copychunk_rsp_decode(ior.output.data, ior.output.len, rsp) == 0)
            *have_rsp = true;
        else if (r->status == SMB_STATUS_SUCCESS)
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed copy chunk response");
    }
    smb_req_free(r);
    return rc;
}

/* The resume key of src (SRV_REQUEST_RESUME_KEY: ResumeKey, ContextLength, Context). */
static int resume_key(smb_open *src, const char *src_path, uint8_t key[SMB2_RESUME_KEY_LEN], smb_error *err)
{
    uint8_t out[64];
    size_t len = 0;
    smb_error le = {0};
    int rc = smb_fsctl(NULL, src, SMB_FSCTL_SRV_REQUEST_RESUME_KEY, NULL, 0, out, sizeof out, &len, &le);
    if (rc != 0)
        return smb_err_set(err, rc, le.ntstatus, "server-side copy from '%s': resume key: %s", src_path, le.message);
    smb_rd r;
    smb_rd_init(&r, out, len);
    smb_rd_bytes(&r, key, SMB2_RESUME_KEY_LEN);
    (void)smb_rd_u32(&r); /* ContextLength */
    if (!smb_rd_ok(&r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "server-side copy from '%s': malformed resume key", src_path);
    return 0;
}

/*
 * Take the limits the server states (3.3.5.15.6: ChunksWritten is its
 * MaxChunkCount, ChunkBytesWritten its MaxChunkSize, TotalBytesWritten its
 * MaxTotalSize); without them, or with limits that do not shrink the
 * request, halve it. False when nothing smaller is left to try.
 */
static bool lower_limits(smb2_copychunk_limits *lim, const smb2_copychunk_rsp *said, bool have)
{
    smb2_copychunk_limits old = *lim;
    if (have && said->chunks_written && said->chunk_bytes && said->total_bytes) {
        if (said->chunks_written < lim->chunks)
            lim->chunks = said->chunks_written;
        if (said->chunk_bytes < lim->chunk)
            lim->chunk = said->chunk_bytes;
        if (said->total_bytes < lim->total)
            lim->total = said->total_bytes;
    }
    if (lim->chunks == old.chunks && lim->chunk == old.chunk && lim->total == old.total) {
        if (lim->chunk > MIN_CHUNK)
            lim->chunk /= 2;
        else if (lim->chunks > 1)
            lim->chunks /= 2;
        else
            return false;
        if (lim->total > (uint64_t)lim->chunk * lim->chunks)
            lim->total = lim->chunk * lim->chunks;
    }
    return true;
}

int smb_copychunk(smb_open *src, smb_open *dst, uint64_t len, smb2_copychunk_limits *lim, const char *src_path,
                  const char *dst_path, smb_error *err)
{
    uint8_t key[SMB2_RESUME_KEY_LEN];
    int rc = resume_key(src, src_path, key, err);
    if (rc != 0)
        return rc;
    if (lim->chunks == 0 || lim->chunk == 0 || lim->total == 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "server-side copy: empty chunk limits");
    uint64_t done = 0;
    int refusals = 0;
    while (done < len) {
        smb_wr w;
        smb_wr_init_grow(&w, SMB2_COPYCHUNK_HEAD_LEN + (size_t)lim->chunks * SMB2_COPYCHUNK_CHUNK_LEN);
        uint32_t asked = 0;
        smb2_copychunk_encode(&w, key, lim, done, len - done, &asked);
        if (!smb_wr_ok(&w)) {
            smb_wr_free(&w);
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        }
        uint32_t status = 0;
        smb2_copychunk_rsp rsp = {0};
        bool have = false;
        smb_error le = {0};
        rc = copychunk_ioctl(dst, w.buf, w.len, &status, &rsp, &have, &le);
        smb_wr_free(&w);
        if (rc != 0)
            return smb_err_set(err, rc, le.ntstatus, "server-side copy '%s' to '%s': %s", src_path, dst_path,
                               le.message);
        /* Over the server's limits (3.3.5.15.6): ask again within them; a few times at most. */
        if (status == SMB_STATUS_INVALID_PARAMETER && refusals++ < 16 && lower_limits(lim, &rsp, have))
            continue;
        if (status != SMB_STATUS_SUCCESS) {
            char what[700];
            snprintf(what, sizeof what, "server-side copy '%s' to '%s'", src_path, dst_path);
            return smb_err_status(err, status, what);
        }
        if (rsp.total_bytes > asked)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                               "server-side copy to '%s': the server says it wrote %" PRIu32 " bytes of %" PRIu32,
                               dst_path, rsp.total_bytes, asked);
        /* A server that moves nothing would have us loop for ever. */
        if (rsp.total_bytes == 0)
            return smb_err_set(err, SMB_ERR_SERVER, 0,
                               "server-side copy to '%s' made no progress at offset %" PRIu64, dst_path, done);
        done += rsp.total_bytes;
    }
    return 0;
}

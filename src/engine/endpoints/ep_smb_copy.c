/*
 * Server-side copy (MS-SMB2 3.2.4.20.1): FSCTL_SRV_REQUEST_RESUME_KEY on
 * the source open names it to the server, then FSCTL_SRV_COPYCHUNK_WRITE
 * on the destination open sends chunk lists (SRV_COPYCHUNK_COPY, 2.2.31.1)
 * answered by SRV_COPYCHUNK_RESPONSE (2.2.32.1). No data passes through
 * the client.
 */
#include <inttypes.h>
#include <string.h>

#include <smbcopy/ntstatus.h>

#include "engine/endpoints/ep_smb.h"
#include "common/error.h"
#include "common/wire.h"

/* Per request, below the limits of Samba and Windows (256 chunks, 1 MiB, 16 MiB). */
#define CC_MAX_CHUNKS 16u
#define CC_MAX_CHUNK (1u << 20)
#define CC_MAX_TOTAL (16u << 20)
/* Smallest chunk tried after the server refused larger ones. */
#define CC_MIN_CHUNK (64u << 10)

#define CC_HEAD_LEN 32u  /* SourceKey, ChunkCount, Reserved */
#define CC_CHUNK_LEN 24u /* SourceOffset, TargetOffset, Length, Reserved */
#define CC_RSP_LEN 12u   /* ChunksWritten, ChunkBytesWritten, TotalBytesWritten */

typedef struct cc_limits {
    uint32_t chunks, chunk, total;
} cc_limits;

/* The source's resume key (SRV_REQUEST_RESUME_KEY, 2.2.32.3), asked once per open. */
static int resume_key(ep_file *src, uint8_t key[EP_SMB_RESUME_KEY_LEN], smb_error *err)
{
    int rc = 0;
    pthread_mutex_lock(&src->key_lock);
    if (!src->have_key) {
        uint8_t out[256];
        size_t len = 0;
        smb_error le = {0};
        rc = smb_fsctl(NULL, src->op, SMB_FSCTL_SRV_REQUEST_RESUME_KEY, NULL, 0, out, sizeof out, &len, &le);
        if (rc != 0) {
            smb_err_set(err, rc, le.ntstatus, "server-side copy from '%s': %s", src->path, le.message);
        } else {
            smb_rd r;
            smb_rd_init(&r, out, len);
            smb_rd_bytes(&r, src->resume_key, EP_SMB_RESUME_KEY_LEN);
            (void)smb_rd_u32(&r); /* ContextLength */
            if (smb_rd_ok(&r))
                src->have_key = true;
            else
                rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed resume key for '%s'", src->path);
        }
    }
    if (rc == 0)
        memcpy(key, src->resume_key, EP_SMB_RESUME_KEY_LEN);
    pthread_mutex_unlock(&src->key_lock);
    return rc;
}

/*
 * Encode one SRV_COPYCHUNK_COPY for [off, off + len) within lim; the same
 * offsets on both sides. *req_len gets the bytes it asks for.
 */
static size_t encode_copy(uint8_t *buf, size_t cap, const uint8_t *key, const cc_limits *lim, uint64_t off,
                          uint64_t len, uint32_t *req_len)
{
    smb_wr w;
    smb_wr_init(&w, buf, cap);
    smb_wr_bytes(&w, key, EP_SMB_RESUME_KEY_LEN);
    size_t count_pos = smb_wr_reserve(&w, 4);
    smb_wr_u32(&w, 0); /* Reserved */
    uint32_t n = 0, total = 0;
    while (n < lim->chunks && total < lim->total && total < len) {
        uint64_t left = len - total;
        uint32_t c = lim->chunk < lim->total - total ? lim->chunk : lim->total - total;
        if (left < c)
            c = (uint32_t)left;
        smb_wr_u64(&w, off + total); /* SourceOffset */
        smb_wr_u64(&w, off + total); /* TargetOffset */
        smb_wr_u32(&w, c);           /* Length */
        smb_wr_u32(&w, 0);           /* Reserved */
        total += c;
        n++;
    }
    smb_wr_put_u32(&w, count_pos, n);
    *req_len = total;
    return smb_wr_ok(&w) ? w.len : 0;
}

/*
 * A request over the server's limits fails with STATUS_INVALID_PARAMETER,
 * the limits in the response (3.3.5.15.6, 2.2.32.1); the library does not
 * return the body of a failed IOCTL, so ask for less: smaller chunks, then
 * fewer. False when nothing smaller is left to try.
 */
static bool shrink(cc_limits *lim)
{
    if (lim->chunk > CC_MIN_CHUNK)
        lim->chunk /= 2;
    else if (lim->chunks > 1)
        lim->chunks /= 2;
    else
        return false;
    lim->total = lim->chunk * lim->chunks;
    return true;
}

int ep_smb_server_copy(ep_file *src, ep_file *dst, uint64_t off, uint64_t len, smb_error *err)
{
    uint8_t key[EP_SMB_RESUME_KEY_LEN];
    int rc = resume_key(src, key, err);
    if (rc != 0)
        return rc;
    cc_limits lim = {CC_MAX_CHUNKS, CC_MAX_CHUNK, CC_MAX_TOTAL};
    uint8_t req[CC_HEAD_LEN + CC_MAX_CHUNKS * CC_CHUNK_LEN];
    uint64_t done = 0;
    while (done < len) {
        uint32_t want = 0;
        size_t req_len = encode_copy(req, sizeof req, key, &lim, off + done, len - done, &want);
        if (!req_len)
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "copy chunk request does not fit");
        uint8_t out[CC_RSP_LEN];
        size_t out_len = 0;
        smb_error le = {0};
        rc = smb_fsctl(NULL, dst->op, SMB_FSCTL_SRV_COPYCHUNK_WRITE, req, req_len, out, sizeof out, &out_len, &le);
        if (rc != 0 && le.ntstatus == SMB_STATUS_INVALID_PARAMETER && shrink(&lim))
            continue;
        if (rc != 0)
            return smb_err_set(err, rc, le.ntstatus, "server-side copy '%s' to '%s': %s", src->path, dst->path,
                               le.message);
        smb_rd r;
        smb_rd_init(&r, out, out_len);
        (void)smb_rd_u32(&r); /* ChunksWritten */
        (void)smb_rd_u32(&r); /* ChunkBytesWritten */
        uint32_t total = smb_rd_u32(&r);
        if (!smb_rd_ok(&r) || total > want)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed copy chunk response for '%s'", dst->path);
        /* A server that moves nothing would loop forever. */
        if (total == 0)
            return smb_err_set(err, SMB_ERR_SERVER, 0, "server-side copy to '%s' made no progress at offset %" PRIu64,
                               dst->path, off + done);
        done += total;
        EP_SMB_COUNT(dst->e, bytes_server_copied, total);
    }
    return 0;
}

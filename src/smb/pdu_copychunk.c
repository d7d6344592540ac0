/*
 * Server-side copy messages (MS-SMB2 2.2.31.1 SRV_COPYCHUNK_COPY, 2.2.32.1
 * SRV_COPYCHUNK_RESPONSE): pure encoder and decoder over common's bounded
 * writer and reader.
 */
#include "helpers_internal.h"

#include <smbcopy/smb.h>

uint32_t smb2_copychunk_encode(smb_wr *w, const uint8_t key[SMB2_RESUME_KEY_LEN], const smb2_copychunk_limits *lim,
                               uint64_t off, uint64_t len, uint32_t *asked)
{
    smb_wr_bytes(w, key, SMB2_RESUME_KEY_LEN);
    size_t count_at = smb_wr_reserve(w, 4); /* ChunkCount */
    smb_wr_u32(w, 0);                       /* Reserved */
    uint32_t n = 0, total = 0;
    while (n < lim->chunks && total < lim->total && total < len) {
        uint32_t c = lim->chunk < lim->total - total ? lim->chunk : lim->total - total;
        if (len - total < c)
            c = (uint32_t)(len - total);
        smb_wr_u64(w, off + total); /* SourceOffset */
        smb_wr_u64(w, off + total); /* TargetOffset */
        smb_wr_u32(w, c);           /* Length */
        smb_wr_u32(w, 0);           /* Reserved */
        total += c;
        n++;
    }
    if (smb_wr_ok(w))
        smb_wr_put_u32(w, count_at, n);
    *asked = total;
    return n;
}

int smb2_copychunk_rsp_decode(const uint8_t *buf, size_t len, smb2_copychunk_rsp *rsp)
{
    smb_rd r;
    smb_rd_init(&r, buf, len);
    rsp->chunks_written = smb_rd_u32(&r);
    rsp->chunk_bytes = smb_rd_u32(&r);
    rsp->total_bytes = smb_rd_u32(&r);
    return smb_rd_ok(&r) ? 0 : SMB_ERR_PROTOCOL;
}

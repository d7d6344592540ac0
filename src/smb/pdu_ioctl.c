/* IOCTL (MS-SMB2 2.2.31, 2.2.32) and FSCTL_VALIDATE_NEGOTIATE_INFO (2.2.31.4, 2.2.32.6). */
#include "pdu_internal.h"

void smb2_ioctl_req_encode(smb_wr *w, const smb2_ioctl_req *req)
{
    size_t start = w->len;
    if (req->input_len > UINT32_MAX)
        smb2_wr_fail(w);
    smb_wr_u16(w, 57); /* StructureSize */
    smb_wr_u16(w, 0);  /* Reserved */
    smb_wr_u32(w, req->ctl_code);
    smb2_wr_fileid(w, req->fid);
    smb_wr_u32(w, (uint32_t)(start + 56)); /* InputOffset: 0x78 */
    smb_wr_u32(w, (uint32_t)req->input_len);
    smb_wr_u32(w, 0); /* MaxInputResponse */
    smb_wr_u32(w, 0); /* OutputOffset: no output sent */
    smb_wr_u32(w, 0); /* OutputCount */
    smb_wr_u32(w, req->max_output);
    smb_wr_u32(w, req->flags);
    smb_wr_u32(w, 0); /* Reserved2 */
    smb2_wr_buffer(w, req->input, req->input_len);
}

int smb2_ioctl_rsp_decode(smb_rd *r, smb2_ioctl_rsp *rsp)
{
    size_t end = smb2_rd_body(r, 49);
    smb_rd_skip(r, 2); /* Reserved */
    rsp->ctl_code = smb_rd_u32(r);
    rsp->fid = smb2_rd_fileid(r);
    uint32_t in_off = smb_rd_u32(r);
    uint32_t in_len = smb_rd_u32(r);
    uint32_t out_off = smb_rd_u32(r);
    uint32_t out_len = smb_rd_u32(r);
    smb_rd_skip(r, 8); /* Flags, Reserved2 */
    smb2_blob input;   /* echoed input: checked, not returned */
    smb2_rd_buffer(r, end, in_off, in_len, &input);
    smb2_rd_buffer(r, end, out_off, out_len, &rsp->output);
    return smb2_rd_result(r);
}

void smb2_validate_negotiate_encode(smb_wr *w, uint32_t capabilities, const uint8_t guid[16],
                                    uint16_t security_mode, const uint16_t *dialects, int ndialects)
{
    int nd = ndialects > 0 ? ndialects : 0;
    smb_wr_u32(w, capabilities);
    smb_wr_bytes(w, guid, 16);
    smb_wr_u16(w, security_mode);
    smb_wr_u16(w, (uint16_t)nd);
    for (int i = 0; i < nd; i++)
        smb_wr_u16(w, dialects[i]);
}

int smb2_validate_negotiate_decode(const uint8_t *buf, size_t len, smb2_validate_negotiate_rsp *rsp)
{
    smb_rd r;
    smb_rd_init(&r, buf, len);
    rsp->capabilities = smb_rd_u32(&r);
    smb_rd_bytes(&r, rsp->guid, 16);
    rsp->security_mode = smb_rd_u16(&r);
    rsp->dialect = smb_rd_u16(&r);
    return smb2_rd_result(&r);
}

void smb2_alloc_range_encode(smb_wr *w, uint64_t off, uint64_t len)
{
    smb_wr_u64(w, off);
    smb_wr_u64(w, len);
}

int smb2_alloc_ranges_decode(const uint8_t *buf, size_t len, uint64_t from, uint64_t limit, smb_range *out,
                             size_t max, size_t *n, size_t *total)
{
    *n = 0;
    *total = 0;
    if (len % 16)
        return SMB_ERR_PROTOCOL;
    smb_rd r;
    smb_rd_init(&r, buf, len);
    while (smb_rd_left(&r) >= 16) {
        uint64_t off = smb_rd_u64(&r), rlen = smb_rd_u64(&r);
        /* Both fields are signed 64-bit values (LONGLONG). */
        if (off > INT64_MAX || rlen > INT64_MAX || off < from || rlen > INT64_MAX - off)
            return SMB_ERR_PROTOCOL;
        from = off + rlen;
        (*total)++;
        if (rlen == 0 || off >= limit)
            continue;
        if (off + rlen > limit)
            rlen = limit - off;
        if (*n < max) {
            out[*n].off = off;
            out[*n].len = rlen;
            (*n)++;
        }
    }
    return smb2_rd_result(&r);
}

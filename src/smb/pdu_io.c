/* READ (MS-SMB2 2.2.19, 2.2.20), WRITE (2.2.21, 2.2.22), FLUSH (2.2.17, 2.2.18). */
#include "pdu_internal.h"

void smb2_read_req_encode(smb_wr *w, const smb2_read_req *req)
{
    smb_wr_u16(w, 49);  /* StructureSize */
    smb_wr_u8(w, 0x50); /* Padding: where the data should start in the response */
    smb_wr_u8(w, 0);    /* Flags */
    smb_wr_u32(w, req->length);
    smb_wr_u64(w, req->offset);
    smb2_wr_fileid(w, req->fid);
    smb_wr_u32(w, req->minimum_count);
    smb_wr_u32(w, 0); /* Channel: none */
    smb_wr_u32(w, 0); /* RemainingBytes */
    smb_wr_u16(w, 0); /* ReadChannelInfoOffset */
    smb_wr_u16(w, 0); /* ReadChannelInfoLength */
    smb_wr_u8(w, 0);  /* Buffer: one byte, unused */
}

/* DataOffset may not point into the header or the fixed part when there
 * is data; the caller checks DataOffset + DataLength against the frame. */
int smb2_read_rsp_decode_fixed(smb_rd *r, smb2_read_rsp *rsp)
{
    size_t end = smb2_rd_body(r, 17);
    rsp->data_offset = smb_rd_u8(r);
    smb_rd_skip(r, 1); /* Reserved */
    rsp->data_length = smb_rd_u32(r);
    rsp->data_remaining = smb_rd_u32(r);
    smb_rd_skip(r, 4); /* Flags / Reserved2 */
    if (rsp->data_length && rsp->data_offset < end)
        smb2_rd_fail(r);
    return smb2_rd_result(r);
}

int smb2_read_rsp_data(const uint8_t *msg, size_t len, smb2_read_rsp *rsp, smb2_blob *data)
{
    *rsp = (smb2_read_rsp){0};
    *data = (smb2_blob){0};
    smb_rd rd;
    smb_rd_init(&rd, msg, len);
    smb_rd_seek(&rd, SMB2_HDR_LEN);
    if (smb2_read_rsp_decode_fixed(&rd, rsp) != 0)
        return SMB_ERR_PROTOCOL;
    smb_rd all;
    smb_rd_init(&all, msg, len);
    smb_rd in = smb_rd_sub(&all, rsp->data_offset, rsp->data_length);
    if (!smb_rd_ok(&in))
        return SMB_ERR_PROTOCOL;
    data->data = in.base;
    data->len = rsp->data_length;
    return 0;
}

void smb2_write_req_encode(smb_wr *w, const smb2_write_req *req)
{
    size_t start = w->len;
    smb_wr_u16(w, 49); /* StructureSize */
    smb_wr_u16(w, (uint16_t)(start + 48)); /* DataOffset: 0x70 */
    smb_wr_u32(w, req->length);
    smb_wr_u64(w, req->offset);
    smb2_wr_fileid(w, req->fid);
    smb_wr_u32(w, 0); /* Channel: none */
    smb_wr_u32(w, 0); /* RemainingBytes */
    smb_wr_u16(w, 0); /* WriteChannelInfoOffset */
    smb_wr_u16(w, 0); /* WriteChannelInfoLength */
    smb_wr_u32(w, req->flags);
    if (req->length == 0)
        smb_wr_u8(w, 0); /* the Buffer is never empty */
}

int smb2_write_rsp_decode(smb_rd *r, uint32_t *count)
{
    (void)smb2_rd_body(r, 17);
    smb_rd_skip(r, 2); /* Reserved */
    *count = smb_rd_u32(r);
    smb_rd_skip(r, 4); /* Remaining */
    smb_rd_skip(r, 4); /* WriteChannelInfoOffset, WriteChannelInfoLength */
    return smb2_rd_result(r);
}

void smb2_flush_req_encode(smb_wr *w, smb2_fileid fid)
{
    smb_wr_u16(w, 24); /* StructureSize */
    smb_wr_u16(w, 0);  /* Reserved1 */
    smb_wr_u32(w, 0);  /* Reserved2 */
    smb2_wr_fileid(w, fid);
}

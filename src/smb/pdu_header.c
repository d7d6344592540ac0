/* SMB2 header (MS-SMB2 2.2.1), ERROR response (2.2.2), transform header (2.2.41). */
#include <string.h>

#include "pdu_internal.h"

static const uint8_t smb2_protocol_id[4] = {0xFE, 'S', 'M', 'B'};
static const uint8_t smb2_transform_id[4] = {0xFD, 'S', 'M', 'B'};

void smb2_hdr_encode(smb_wr *w, const smb2_hdr *h)
{
    smb_wr_bytes(w, smb2_protocol_id, 4);
    smb_wr_u16(w, SMB2_HDR_LEN); /* StructureSize */
    smb_wr_u16(w, h->credit_charge);
    smb_wr_u32(w, h->status);
    smb_wr_u16(w, h->command);
    smb_wr_u16(w, h->credits);
    smb_wr_u32(w, h->flags);
    smb_wr_u32(w, h->next_command);
    smb_wr_u64(w, h->message_id);
    if (h->flags & SMB2_FLAGS_ASYNC_COMMAND) {
        smb_wr_u64(w, h->async_id); /* 2.2.1.1 */
    } else {
        smb_wr_u32(w, 0); /* Reserved (2.2.1.2) */
        smb_wr_u32(w, h->tree_id);
    }
    smb_wr_u64(w, h->session_id);
    smb_wr_bytes(w, h->signature, 16);
}

int smb2_hdr_decode(smb_rd *r, smb2_hdr *h)
{
    uint8_t id[4];
    smb_rd_bytes(r, id, 4);
    uint16_t size = smb_rd_u16(r);
    h->credit_charge = smb_rd_u16(r);
    h->status = smb_rd_u32(r);
    h->command = smb_rd_u16(r);
    h->credits = smb_rd_u16(r);
    h->flags = smb_rd_u32(r);
    h->next_command = smb_rd_u32(r);
    h->message_id = smb_rd_u64(r);
    if (h->flags & SMB2_FLAGS_ASYNC_COMMAND) {
        h->async_id = smb_rd_u64(r);
        h->tree_id = 0;
    } else {
        h->async_id = 0;
        smb_rd_skip(r, 4); /* Reserved */
        h->tree_id = smb_rd_u32(r);
    }
    h->session_id = smb_rd_u64(r);
    smb_rd_bytes(r, h->signature, 16);
    if (!smb_rd_ok(r) || memcmp(id, smb2_protocol_id, 4) != 0 || size != SMB2_HDR_LEN)
        return SMB_ERR_PROTOCOL;
    return 0;
}

/* ERROR response: StructureSize 9, ErrorContextCount, Reserved, ByteCount,
 * ErrorData right after the 8 fixed bytes (2.2.2). ByteCount 0 may come
 * with or without the one padding byte. */
int smb2_error_decode(smb_rd *r, smb2_blob *data)
{
    size_t end = smb2_rd_body(r, 9);
    smb_rd_skip(r, 2); /* ErrorContextCount, Reserved */
    uint32_t count = smb_rd_u32(r);
    smb2_rd_buffer(r, end, count ? (uint32_t)end : 0, count, data);
    return smb2_rd_result(r);
}

void smb2_transform_hdr_encode(smb_wr *w, const smb2_transform_hdr *h)
{
    smb_wr_bytes(w, smb2_transform_id, 4);
    smb_wr_bytes(w, h->signature, 16);
    smb_wr_bytes(w, h->nonce, 16);
    smb_wr_u32(w, h->original_size);
    smb_wr_u16(w, 0); /* Reserved */
    smb_wr_u16(w, h->flags);
    smb_wr_u64(w, h->session_id);
}

int smb2_transform_hdr_decode(smb_rd *r, smb2_transform_hdr *h)
{
    uint8_t id[4];
    smb_rd_bytes(r, id, 4);
    smb_rd_bytes(r, h->signature, 16);
    smb_rd_bytes(r, h->nonce, 16);
    h->original_size = smb_rd_u32(r);
    smb_rd_skip(r, 2); /* Reserved */
    h->flags = smb_rd_u16(r);
    h->session_id = smb_rd_u64(r);
    if (!smb_rd_ok(r) || memcmp(id, smb2_transform_id, 4) != 0)
        return SMB_ERR_PROTOCOL;
    return 0;
}

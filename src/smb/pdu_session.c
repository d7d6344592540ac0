/*
 * SESSION_SETUP (MS-SMB2 2.2.5, 2.2.6), the 4-byte bodies of LOGOFF, ECHO,
 * CANCEL and TREE_DISCONNECT (2.2.7, 2.2.8, 2.2.11, 2.2.12, 2.2.28-2.2.30),
 * TREE_CONNECT (2.2.9, 2.2.10).
 */
#include "pdu_internal.h"

void smb2_session_setup_req_encode(smb_wr *w, const smb2_session_setup_req *req)
{
    size_t start = w->len;
    if (req->token_len > UINT16_MAX)
        smb2_wr_fail(w);
    smb_wr_u16(w, 25); /* StructureSize */
    smb_wr_u8(w, req->flags);
    smb_wr_u8(w, req->security_mode);
    smb_wr_u32(w, req->capabilities);
    smb_wr_u32(w, 0); /* Channel */
    smb_wr_u16(w, (uint16_t)(start + 24)); /* SecurityBufferOffset: 0x58 */
    smb_wr_u16(w, (uint16_t)req->token_len);
    smb_wr_u64(w, req->previous_session_id);
    smb2_wr_buffer(w, req->token, req->token_len);
}

int smb2_session_setup_rsp_decode(smb_rd *r, smb2_session_setup_rsp *rsp)
{
    size_t end = smb2_rd_body(r, 9);
    rsp->session_flags = smb_rd_u16(r);
    uint16_t off = smb_rd_u16(r);
    uint16_t len = smb_rd_u16(r);
    smb2_rd_buffer(r, end, off, len, &rsp->token);
    return smb2_rd_result(r);
}

void smb2_simple_req_encode(smb_wr *w)
{
    smb_wr_u16(w, 4); /* StructureSize */
    smb_wr_u16(w, 0); /* Reserved */
}

int smb2_simple_rsp_decode(smb_rd *r)
{
    (void)smb2_rd_body(r, 4);
    smb_rd_skip(r, 2); /* Reserved */
    return smb2_rd_result(r);
}

void smb2_tree_connect_req_encode(smb_wr *w, const uint8_t *path_utf16, size_t path_len)
{
    size_t start = w->len;
    if (path_len > UINT16_MAX)
        smb2_wr_fail(w);
    smb_wr_u16(w, 9); /* StructureSize */
    smb_wr_u16(w, 0); /* Flags / Reserved */
    smb_wr_u16(w, (uint16_t)(start + 8)); /* PathOffset: 0x48 */
    smb_wr_u16(w, (uint16_t)path_len);
    smb2_wr_buffer(w, path_utf16, path_len);
}

int smb2_tree_connect_rsp_decode(smb_rd *r, smb2_tree_connect_rsp *rsp)
{
    (void)smb2_rd_body(r, 16);
    rsp->share_type = smb_rd_u8(r);
    smb_rd_skip(r, 1); /* Reserved */
    rsp->share_flags = smb_rd_u32(r);
    rsp->capabilities = smb_rd_u32(r);
    rsp->maximal_access = smb_rd_u32(r);
    return smb2_rd_result(r);
}

/* CREATE with its create contexts (MS-SMB2 2.2.13, 2.2.14) and CLOSE (2.2.15, 2.2.16). */
#include <string.h>

#include "pdu_internal.h"

/* Fixed part of one SMB2_CREATE_CONTEXT (2.2.13.2): Next, NameOffset,
 * NameLength, Reserved, DataOffset, DataLength. */
#define CTX_HDR_LEN 16

/* Append one create context at w's (8-aligned) position; when more follow,
 * pad it to 8 bytes and set Next to its padded length. */
static void wr_context(smb_wr *w, const smb2_create_ctx *c, bool last)
{
    size_t start = w->len;
    size_t name_len = strlen(c->name);
    if (name_len > UINT16_MAX || c->len > UINT32_MAX)
        smb2_wr_fail(w);
    size_t next_pos = smb_wr_reserve(w, 4);
    smb_wr_u16(w, CTX_HDR_LEN); /* NameOffset: the name follows the header */
    smb_wr_u16(w, (uint16_t)name_len);
    smb_wr_u16(w, 0); /* Reserved */
    size_t data_off_pos = smb_wr_reserve(w, 2);
    smb_wr_u32(w, (uint32_t)c->len);
    smb_wr_bytes(w, c->name, name_len);
    if (c->len) {
        /* Data 8-byte aligned; DataOffset stays 0 when there is no data. */
        smb_wr_align(w, 8);
        if (w->len - start > UINT16_MAX)
            smb2_wr_fail(w);
        smb_wr_put_u16(w, data_off_pos, (uint16_t)(w->len - start));
        smb_wr_bytes(w, c->data, c->len);
    }
    if (!last) {
        smb_wr_align(w, 8);
        smb_wr_put_u32(w, next_pos, (uint32_t)(w->len - start));
    }
}

void smb2_create_req_encode(smb_wr *w, const smb2_create_req *req)
{
    size_t start = w->len;
    if (req->name_len > UINT16_MAX)
        smb2_wr_fail(w);
    smb_wr_u16(w, 57); /* StructureSize */
    smb_wr_u8(w, 0);   /* SecurityFlags */
    smb_wr_u8(w, req->oplock);
    smb_wr_u32(w, req->impersonation);
    smb_wr_u64(w, 0); /* SmbCreateFlags */
    smb_wr_u64(w, 0); /* Reserved */
    smb_wr_u32(w, req->desired_access);
    smb_wr_u32(w, req->file_attributes);
    smb_wr_u32(w, req->share_access);
    smb_wr_u32(w, req->disposition);
    smb_wr_u32(w, req->options);
    /* NameOffset: the Buffer right after the fixed part (0x78), which is
     * 8-byte aligned; kept there for an empty name too. */
    smb_wr_u16(w, (uint16_t)(start + 56));
    smb_wr_u16(w, (uint16_t)req->name_len);
    size_t ctx_off_pos = smb_wr_reserve(w, 4);
    size_t ctx_len_pos = smb_wr_reserve(w, 4);
    if (req->name_len)
        smb_wr_bytes(w, req->name_utf16, req->name_len);

    if (req->ncontexts > 0) {
        /* CreateContextsOffset: the first context 8-byte aligned. */
        smb_wr_align(w, 8);
        size_t ctx_start = w->len;
        for (int i = 0; i < req->ncontexts; i++)
            wr_context(w, &req->contexts[i], i == req->ncontexts - 1);
        smb_wr_put_u32(w, ctx_off_pos, (uint32_t)ctx_start);
        smb_wr_put_u32(w, ctx_len_pos, (uint32_t)(w->len - ctx_start));
    }
    /* The Buffer is at least one byte even with no name and no context. */
    if (w->len == start + 56)
        smb_wr_u8(w, 0);
}

int smb2_create_rsp_decode(smb_rd *r, smb2_create_rsp *rsp)
{
    size_t end = smb2_rd_body(r, 89);
    rsp->oplock = smb_rd_u8(r);
    rsp->flags = smb_rd_u8(r);
    rsp->create_action = smb_rd_u32(r);
    smb2_rd_file_times(r, &rsp->times);
    smb_rd_skip(r, 4); /* Reserved2 */
    rsp->fid = smb2_rd_fileid(r);
    uint32_t off = smb_rd_u32(r);
    uint32_t len = smb_rd_u32(r);
    smb2_rd_buffer(r, end, off, len, &rsp->contexts);
    return smb2_rd_result(r);
}

/* A context is [start, start+size) of the chain, size being Next (or the
 * rest of the chain for the last one). Name and data lie inside it, past
 * the 16-byte header; a name is at least 4 bytes (2.2.13.2); DataOffset is
 * ignored when DataLength is 0. Next keeps the following context 8-byte
 * aligned and leaves room for it. */
int smb2_create_ctx_next(smb_rd *r, smb2_blob *name, smb2_blob *data)
{
    if (!smb_rd_ok(r))
        return SMB_ERR_PROTOCOL;
    size_t start = r->pos;
    size_t avail = smb_rd_left(r);
    if (avail == 0)
        return 0;
    uint32_t next = smb_rd_u32(r);
    uint16_t name_off = smb_rd_u16(r);
    uint16_t name_len = smb_rd_u16(r);
    smb_rd_skip(r, 2); /* Reserved */
    uint16_t data_off = smb_rd_u16(r);
    uint32_t data_len = smb_rd_u32(r);
    if (!smb_rd_ok(r))
        return SMB_ERR_PROTOCOL;
    if (next != 0 && (next % 8 != 0 || next < CTX_HDR_LEN || next >= avail))
        goto bad;
    if (name_off < CTX_HDR_LEN || name_len < 4 || (data_len && data_off < CTX_HDR_LEN))
        goto bad;

    smb_rd ctx = smb_rd_sub(r, start, next ? next : avail);
    smb_rd n = smb_rd_sub(&ctx, name_off, name_len);
    name->data = n.base;
    name->len = n.len;
    data->data = n.base;
    data->len = 0;
    if (data_len) {
        smb_rd d = smb_rd_sub(&ctx, data_off, data_len);
        data->data = d.base;
        data->len = d.len;
    }
    if (!smb_rd_ok(&ctx))
        goto bad;
    smb_rd_seek(r, next ? start + next : r->len);
    return 1;
bad:
    smb2_rd_fail(r);
    return SMB_ERR_PROTOCOL;
}

void smb2_close_req_encode(smb_wr *w, uint16_t flags, smb2_fileid fid)
{
    smb_wr_u16(w, 24); /* StructureSize */
    smb_wr_u16(w, flags);
    smb_wr_u32(w, 0); /* Reserved */
    smb2_wr_fileid(w, fid);
}

int smb2_close_rsp_decode(smb_rd *r, smb2_close_rsp *rsp)
{
    (void)smb2_rd_body(r, 60);
    rsp->flags = smb_rd_u16(r);
    smb_rd_skip(r, 4); /* Reserved */
    smb2_rd_file_times(r, &rsp->times);
    return smb2_rd_result(r);
}

/*
 * QUERY_DIRECTORY (MS-SMB2 2.2.33, 2.2.34) and the entries of
 * FileIdFullDirectoryInformation (MS-FSCC 2.4.23 in current numbering).
 */
#include "pdu_internal.h"

/* Fixed part of a FILE_ID_FULL_DIR_INFORMATION entry, up to FileName. */
#define DIRENT_FIXED 80

void smb2_query_dir_req_encode(smb_wr *w, const smb2_query_dir_req *req)
{
    size_t start = w->len;
    if (req->pattern_len > UINT16_MAX)
        smb2_wr_fail(w);
    smb_wr_u16(w, 33); /* StructureSize */
    smb_wr_u8(w, req->info_class);
    smb_wr_u8(w, req->flags);
    smb_wr_u32(w, req->file_index);
    smb2_wr_fileid(w, req->fid);
    smb_wr_u16(w, (uint16_t)(start + 32)); /* FileNameOffset: 0x60 */
    smb_wr_u16(w, (uint16_t)req->pattern_len);
    smb_wr_u32(w, req->output_buffer_length);
    smb2_wr_buffer(w, req->pattern_utf16, req->pattern_len);
}

/* Also the shape of QUERY_INFO (2.2.38): StructureSize 9, OutputBufferOffset,
 * OutputBufferLength, Buffer. */
int smb2_query_dir_rsp_decode(smb_rd *r, smb2_blob *out)
{
    size_t end = smb2_rd_body(r, 9);
    uint16_t off = smb_rd_u16(r);
    uint32_t len = smb_rd_u32(r);
    smb2_rd_buffer(r, end, off, len, out);
    return smb2_rd_result(r);
}

/* Each entry: the fixed part and the name inside the buffer; NextEntryOffset
 * 0 ends the list, otherwise it must cover this entry's fixed part and name
 * (so it moves forward) and leave the next entry's start inside the buffer. */
int smb2_dirent_next(const uint8_t *buf, size_t len, size_t *pos, smb2_dirent *ent)
{
    if (*pos == SIZE_MAX || (*pos == 0 && len == 0))
        return 0;
    size_t start = *pos;
    smb_rd r;
    smb_rd_init(&r, buf, len);
    smb_rd_seek(&r, start);
    uint32_t next = smb_rd_u32(&r);
    ent->file_index = smb_rd_u32(&r);
    ent->times.creation_time = smb_rd_u64(&r);
    ent->times.last_access_time = smb_rd_u64(&r);
    ent->times.last_write_time = smb_rd_u64(&r);
    ent->times.change_time = smb_rd_u64(&r);
    ent->times.end_of_file = smb_rd_u64(&r); /* EndOfFile comes first here */
    ent->times.allocation_size = smb_rd_u64(&r);
    ent->times.attributes = smb_rd_u32(&r);
    uint32_t name_len = smb_rd_u32(&r);
    ent->ea_size = smb_rd_u32(&r);
    smb_rd_skip(&r, 4); /* Reserved */
    ent->file_id = smb_rd_u64(&r);
    const uint8_t *name = smb_rd_ptr(&r, name_len);
    if (!smb_rd_ok(&r) || name_len % 2 != 0)
        return SMB_ERR_PROTOCOL;
    if (next != 0 && (next < DIRENT_FIXED + (uint64_t)name_len || next >= len - start))
        return SMB_ERR_PROTOCOL;
    ent->name_utf16.data = name;
    ent->name_utf16.len = name_len;
    *pos = next ? start + next : SIZE_MAX;
    return 1;
}

/*
 * QUERY_INFO (MS-SMB2 2.2.37, 2.2.38), SET_INFO (2.2.39, 2.2.40) and the
 * MS-FSCC file information classes this client reads and writes.
 */
#include "pdu_internal.h"

void smb2_query_info_req_encode(smb_wr *w, const smb2_query_info_req *req)
{
    size_t start = w->len;
    if (req->input_len > UINT32_MAX)
        smb2_wr_fail(w);
    smb_wr_u16(w, 41); /* StructureSize */
    smb_wr_u8(w, req->info_type);
    smb_wr_u8(w, req->info_class);
    smb_wr_u32(w, req->output_buffer_length);
    smb_wr_u16(w, req->input_len ? (uint16_t)(start + 40) : 0); /* InputBufferOffset: 0x68 */
    smb_wr_u16(w, 0); /* Reserved */
    smb_wr_u32(w, (uint32_t)req->input_len);
    smb_wr_u32(w, req->additional_info);
    smb_wr_u32(w, req->flags);
    smb2_wr_fileid(w, req->fid);
    smb2_wr_buffer(w, req->input, req->input_len);
}

/* Same layout as the QUERY_DIRECTORY response. */
int smb2_query_info_rsp_decode(smb_rd *r, smb2_blob *out) { return smb2_query_dir_rsp_decode(r, out); }

void smb2_set_info_req_encode(smb_wr *w, const smb2_set_info_req *req)
{
    size_t start = w->len;
    if (req->buffer_len > UINT32_MAX)
        smb2_wr_fail(w);
    smb_wr_u16(w, 33); /* StructureSize */
    smb_wr_u8(w, req->info_type);
    smb_wr_u8(w, req->info_class);
    smb_wr_u32(w, (uint32_t)req->buffer_len);
    smb_wr_u16(w, (uint16_t)(start + 32)); /* BufferOffset: 0x60 */
    smb_wr_u16(w, 0); /* Reserved */
    smb_wr_u32(w, req->additional_info);
    smb2_wr_fileid(w, req->fid);
    smb2_wr_buffer(w, req->buffer, req->buffer_len);
}

int smb2_set_info_rsp_decode(smb_rd *r)
{
    (void)smb2_rd_body(r, 2);
    return smb2_rd_result(r);
}

/* FileNetworkOpenInformation: 4 times, AllocationSize, EndOfFile,
 * FileAttributes, Reserved (56 bytes). */
int smb2_network_open_info_decode(const uint8_t *buf, size_t len, smb2_file_times *t)
{
    smb_rd r;
    smb_rd_init(&r, buf, len);
    smb2_rd_file_times(&r, t);
    smb_rd_skip(&r, 4); /* Reserved */
    return smb2_rd_result(&r);
}

/* FileInternalInformation: IndexNumber (8 bytes). */
int smb2_internal_info_decode(const uint8_t *buf, size_t len, uint64_t *file_id)
{
    smb_rd r;
    smb_rd_init(&r, buf, len);
    *file_id = smb_rd_u64(&r);
    return smb2_rd_result(&r);
}

/* FileStandardInformation: AllocationSize, EndOfFile, NumberOfLinks,
 * DeletePending, Directory, Reserved (24 bytes). */
int smb2_standard_info_decode(const uint8_t *buf, size_t len, uint64_t *alloc, uint64_t *eof, uint32_t *nlinks,
                              bool *delete_pending, bool *directory)
{
    smb_rd r;
    smb_rd_init(&r, buf, len);
    *alloc = smb_rd_u64(&r);
    *eof = smb_rd_u64(&r);
    *nlinks = smb_rd_u32(&r);
    *delete_pending = smb_rd_u8(&r) != 0;
    *directory = smb_rd_u8(&r) != 0;
    smb_rd_skip(&r, 2); /* Reserved */
    return smb2_rd_result(&r);
}

/* FileBasicInformation: 4 times, FileAttributes, Reserved (40 bytes). */
void smb2_basic_info_encode(smb_wr *w, uint64_t ctime, uint64_t atime, uint64_t mtime, uint64_t chtime,
                            uint32_t attributes)
{
    smb_wr_u64(w, ctime);
    smb_wr_u64(w, atime);
    smb_wr_u64(w, mtime);
    smb_wr_u64(w, chtime);
    smb_wr_u32(w, attributes);
    smb_wr_u32(w, 0); /* Reserved */
}

int smb2_basic_info_decode(const uint8_t *buf, size_t len, smb2_file_times *t)
{
    smb_rd r;
    smb_rd_init(&r, buf, len);
    t->creation_time = smb_rd_u64(&r);
    t->last_access_time = smb_rd_u64(&r);
    t->last_write_time = smb_rd_u64(&r);
    t->change_time = smb_rd_u64(&r);
    t->attributes = smb_rd_u32(&r);
    smb_rd_skip(&r, 4); /* Reserved */
    t->allocation_size = 0;
    t->end_of_file = 0;
    return smb2_rd_result(&r);
}

/* FileRenameInformation for SMB2 (FILE_RENAME_INFORMATION_TYPE_2):
 * ReplaceIfExists, Reserved (7), RootDirectory (0 over the network),
 * FileNameLength, FileName, then zero padding up to the 24-byte size of the
 * structure when the name is shorter than 4 bytes. */
void smb2_rename_info_encode(smb_wr *w, bool replace, const uint8_t *name_utf16, size_t name_len)
{
    if (name_len > UINT32_MAX)
        smb2_wr_fail(w);
    smb_wr_u8(w, replace ? 1 : 0);
    smb_wr_zero(w, 7);
    smb_wr_u64(w, 0);
    smb_wr_u32(w, (uint32_t)name_len);
    if (name_len)
        smb_wr_bytes(w, name_utf16, name_len);
    if (name_len < 4)
        smb_wr_zero(w, 4 - name_len);
}

/* FileDispositionInformation: DeletePending (1 byte). */
void smb2_disposition_info_encode(smb_wr *w, bool delete_pending) { smb_wr_u8(w, delete_pending ? 1 : 0); }

/* FileEndOfFileInformation: EndOfFile (8 bytes). */
void smb2_eof_info_encode(smb_wr *w, uint64_t eof) { smb_wr_u64(w, eof); }

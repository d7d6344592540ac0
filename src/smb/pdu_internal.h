/*
 * Helpers shared by the pdu_*.c encoders and decoders. Not part of the
 * pdu.h interface.
 */
#ifndef SMBCOPY_PDU_INTERNAL_H
#define SMBCOPY_PDU_INTERNAL_H

#include <smbcopy/smb.h>

#include "pdu.h"

/** Mark a reader as having met malformed data. */
static inline void smb2_rd_fail(smb_rd *r) { r->err = true; }

/** Mark a writer as failed (a length that does not fit its field). */
static inline void smb2_wr_fail(smb_wr *w) { w->err = true; }

/** 0 when r met no error, SMB_ERR_PROTOCOL otherwise. */
static inline int smb2_rd_result(const smb_rd *r) { return smb_rd_ok(r) ? 0 : SMB_ERR_PROTOCOL; }

/**
 * Read the StructureSize at r's position and check it is want, and that
 * the fixed part of the body (want rounded down to even: an odd size counts
 * the first byte of the variable buffer, MS-SMB2 2.2) is in the message.
 * Returns the absolute offset just past the fixed part; on mismatch the
 * reader's error flag is set.
 */
static inline size_t smb2_rd_body(smb_rd *r, uint16_t want)
{
    size_t start = r->pos;
    size_t fixed = (size_t)(want & ~1u);
    (void)smb_rd_sub(r, start, fixed);
    if (smb_rd_u16(r) != want)
        smb2_rd_fail(r);
    return start + fixed;
}

/**
 * Resolve an (offset, length) pair of a response body: offset counts from
 * the header start (r's base) and must not point into the header or the
 * fixed part (below min_off); the bytes must lie inside the message. An
 * empty buffer may carry offset 0 (or any offset inside the message).
 */
static inline void smb2_rd_buffer(smb_rd *r, size_t min_off, uint32_t off, uint32_t len, smb2_blob *out)
{
    out->data = r->base;
    out->len = 0;
    if (len == 0) {
        if (off > r->len)
            smb2_rd_fail(r);
        return;
    }
    if (off < min_off) {
        smb2_rd_fail(r);
        return;
    }
    smb_rd s = smb_rd_sub(r, off, len);
    if (smb_rd_ok(&s)) {
        out->data = s.base;
        out->len = s.len;
    }
}

/** Append a file id (MS-SMB2 2.2.14.1: Persistent, then Volatile). */
static inline void smb2_wr_fileid(smb_wr *w, smb2_fileid fid)
{
    smb_wr_u64(w, fid.persistent);
    smb_wr_u64(w, fid.volatile_);
}

/** Read a file id. */
static inline smb2_fileid smb2_rd_fileid(smb_rd *r)
{
    smb2_fileid fid;
    fid.persistent = smb_rd_u64(r);
    fid.volatile_ = smb_rd_u64(r);
    return fid;
}

/**
 * Append the variable buffer of a request whose StructureSize is odd: the
 * bytes, or one zero byte when there are none (MS-SMB2 2.2: the Buffer of
 * such a request is at least one byte long).
 */
static inline void smb2_wr_buffer(smb_wr *w, const void *p, size_t n)
{
    if (n)
        smb_wr_bytes(w, p, n);
    else
        smb_wr_u8(w, 0);
}

/**
 * Read times, sizes and attributes in the order of MS-FSCC
 * FileNetworkOpenInformation (Creation, LastAccess, LastWrite, Change,
 * AllocationSize, EndOfFile, FileAttributes), as CREATE and CLOSE responses
 * (MS-SMB2 2.2.14, 2.2.16) carry them too.
 */
static inline void smb2_rd_file_times(smb_rd *r, smb2_file_times *t)
{
    t->creation_time = smb_rd_u64(r);
    t->last_access_time = smb_rd_u64(r);
    t->last_write_time = smb_rd_u64(r);
    t->change_time = smb_rd_u64(r);
    t->allocation_size = smb_rd_u64(r);
    t->end_of_file = smb_rd_u64(r);
    t->attributes = smb_rd_u32(r);
}

#endif

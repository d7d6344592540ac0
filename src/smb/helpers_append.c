/*
 * Files open for appending: FILE_APPEND_DATA without FILE_WRITE_DATA
 * (MS-SMB2 2.2.13.1.1), and WRITEs at the offset that means "the end of
 * file" (MS-FSA 2.1.5.3: a ByteOffset of -1, 0xFFFFFFFFFFFFFFFF in the
 * WRITE's Offset, MS-SMB2 2.2.21).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbcopy/ntstatus.h>

#include "error.h"
#include "helpers_internal.h"
#include "objects.h"
#include "pdu.h"

/* FILE_WRITE_TO_END_OF_FILE: the WRITE's Offset that appends (MS-FSA 2.1.5.3). */
#define OFFSET_END_OF_FILE UINT64_MAX

smb_open *smb_open_append(smb_tree *tree, const char *path, bool create_if_missing, smb_error *err)
{
    char *norm = NULL;
    if (!tree) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "open for appending: no tree");
        return NULL;
    }
    if (smb_helpers_path_norm(path, "open for appending", &norm, err) != 0)
        return NULL;
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_APPEND_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    p.disposition = create_if_missing ? SMB_FILE_OPEN_IF : SMB_FILE_OPEN;
    p.options = SMB_FILE_NON_DIRECTORY_FILE;
    smb_error le = {0};
    smb_open *op = smb_create(tree, norm, &p, NULL, NULL, &le);
    if (!op)
        smb_err_set(err, le.code ? le.code : SMB_ERR_INTERNAL, le.ntstatus, "open '%s' for appending: %s", norm,
                    le.message);
    free(norm);
    return op;
}

/*
 * One WRITE of buf[0..len) (len within the open's limit) at offset: *status
 * the server's answer, *count what it wrote. Not smb_write_submit: that
 * refuses an offset past which the length does not fit, as
 * 0xFFFFFFFFFFFFFFFF is.
 */
static int write_once(smb_open *op, const void *buf, size_t len, uint64_t offset, uint32_t *status, uint32_t *count,
                      smb_error *err)
{
    *count = 0;
    smb_req *r = smb_tree_req(op->tree, SMB2_WRITE);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_write_req wr = {.length = (uint32_t)len, .offset = offset, .fid = op->fid};
    smb2_write_req_encode(smb_req_body(r), &wr);
    r->payload = buf;
    r->payload_len = len;
    r->charge_bytes = len;
    int rc = smb_req_send(r, err);
    if (rc == 0)
        rc = smb_req_wait(r, err);
    if (rc == 0) {
        *status = r->status;
        smb_rd rd = smb_req_rsp_body(r);
        if (r->status == SMB_STATUS_SUCCESS && (smb2_write_rsp_decode(&rd, count) != 0 || *count > len))
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed WRITE response");
    }
    smb_req_free(r);
    return rc;
}

/* The server will not append by offset: write at the end of file it reports now. */
static int append_at_eof(smb_open *op, const void *buf, size_t len, smb_error *err)
{
    uint8_t std[24];
    size_t got = 0;
    smb_error le = {0};
    int rc = smb_query_info(op, SMB_INFO_FILE, SMB_FILE_STANDARD_INFORMATION, 0, std, sizeof std, &got, &le);
    if (rc != 0)
        return smb_err_set(err, rc, le.ntstatus, "append: end of file: %s", le.message);
    /* FileStandardInformation (MS-FSCC 2.4.41): AllocationSize, EndOfFile, ... */
    smb_rd r;
    smb_rd_init(&r, std, got);
    (void)smb_rd_u64(&r);
    uint64_t eof = smb_rd_u64(&r);
    if (!smb_rd_ok(&r) || eof > INT64_MAX)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "append: malformed FileStandardInformation");
    rc = smb_pwrite(op, buf, len, eof, 0, &le);
    if (rc != 0)
        return smb_err_set(err, rc, le.ntstatus, "append: %s", le.message);
    return 0;
}

int smb_append(smb_open *op, const void *buf, size_t len, smb_error *err)
{
    if (!op || (!buf && len))
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "append: no open or no buffer");
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        size_t n = len - done;
        size_t max = smb_open_max_write(op);
        if (max && n > max)
            n = max;
        uint32_t status = 0, count = 0;
        smb_error le = {0};
        int rc = write_once(op, p + done, n, OFFSET_END_OF_FILE, &status, &count, &le);
        if (rc != 0)
            return smb_err_set(err, rc, le.ntstatus, "append: %s", le.message);
        /* Samba takes that offset only on a POSIX append handle: the end of file asked for instead. */
        if (status == SMB_STATUS_INVALID_PARAMETER && done == 0)
            return append_at_eof(op, p, len, err);
        if (status != SMB_STATUS_SUCCESS)
            return smb_err_status(err, status, "append");
        if (count == 0)
            return smb_err_set(err, SMB_ERR_SERVER, 0, "append: the server wrote nothing");
        done += count; /* the rest goes at the new end of file */
    }
    return 0;
}

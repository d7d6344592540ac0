/*
 * Path-based helpers. Each is one compounded round trip (MS-SMB2 3.2.4.1.4):
 * CREATE, then what the call needs on the new handle (QUERY_INFO or
 * SET_INFO, addressed with the related file id), then CLOSE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "objects.h"
#include "open.h"
#include "utf16.h"

#define STATUS_SUCCESS 0x00000000u

/*
 * Run CREATE(path, cr) [+ middle] + CLOSE as one related compound. The
 * CREATE's status decides the error; with info non-NULL the metadata comes
 * from the CREATE response and, when middle is a FileInternalInformation
 * query, the file id from it.
 */
static int path_compound(smb_tree *t, const char *path, smb2_create_req *cr, smb_req *middle, smb_file_info *info,
                         const char *what, smb_error *err)
{
    size_t wlen;
    uint8_t *wname = smb_path_utf16(path, &wlen, err);
    if (!wname) {
        smb_req_free(middle);
        return err ? err->code : SMB_ERR_BAD_NAME;
    }
    cr->name_utf16 = wname;
    cr->name_len = wlen;
    smb_req *rs[3];
    int n = 0;
    rs[n] = smb_tree_req(t, SMB2_CREATE);
    if (rs[n])
        smb2_create_req_encode(smb_req_body(rs[n]), cr);
    n++;
    if (middle)
        rs[n++] = middle;
    rs[n] = smb_tree_req(t, SMB2_CLOSE);
    if (rs[n])
        smb2_close_req_encode(smb_req_body(rs[n]), 0, SMB2_FILEID_RELATED);
    n++;
    free(wname);
    int rc = 0;
    for (int i = 0; i < n; i++)
        if (!rs[i])
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0)
        rc = smb_req_send_compound(rs, n, true, err);
    /* Wait for every member that went out, whatever happens to the first. */
    int wrc[3] = {0, 0, 0};
    for (int i = 0; rc == 0 && i < n; i++)
        wrc[i] = smb_req_wait(rs[i], i == 0 ? err : NULL);
    char msg[512];
    snprintf(msg, sizeof msg, "%s '%s'", what, path);
    if (rc == 0 && wrc[0])
        rc = wrc[0];
    else if (rc == 0 && rs[0]->status != STATUS_SUCCESS)
        rc = smb_req_status_error(rs[0], msg, err);
    if (rc == 0 && info) {
        smb2_create_rsp crsp;
        smb_rd rd = smb_req_rsp_body(rs[0]);
        if (smb2_create_rsp_decode(&rd, &crsp) != 0) {
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed CREATE response");
        } else {
            memset(info, 0, sizeof *info);
            smb_file_info_from_times(info, &crsp.times);
        }
    }
    if (rc == 0 && middle) {
        if (wrc[1])
            rc = wrc[1];
        else if (middle->status != STATUS_SUCCESS)
            rc = smb_req_status_error(middle, msg, err);
        else if (info && middle->command == SMB2_QUERY_INFO) {
            smb2_blob b;
            smb_rd rd = smb_req_rsp_body(middle);
            if (smb2_query_info_rsp_decode(&rd, &b) != 0 ||
                smb2_internal_info_decode(b.data, b.len, &info->file_id) != 0)
                rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed FileInternalInformation");
        }
    }
    /* The CLOSE can fail too (e.g. a delete that could not happen). */
    if (rc == 0 && wrc[n - 1])
        rc = wrc[n - 1];
    else if (rc == 0 && rs[n - 1]->status != STATUS_SUCCESS)
        rc = smb_req_status_error(rs[n - 1], msg, err);
    for (int i = 0; i < n; i++)
        smb_req_free(rs[i]);
    return rc;
}

static void create_defaults(smb2_create_req *cr, uint32_t access, uint32_t disposition, uint32_t options)
{
    memset(cr, 0, sizeof *cr);
    cr->impersonation = 2;
    cr->desired_access = access;
    cr->share_access = SMB_SHARE_READ | SMB_SHARE_WRITE | SMB_SHARE_DELETE;
    cr->disposition = disposition;
    cr->options = options;
}

int smb_stat(smb_tree *t, const char *path, smb_file_info *info, smb_error *err)
{
    smb2_create_req cr;
    create_defaults(&cr, SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE, SMB_FILE_OPEN, 0);
    smb_req *q = smb_tree_req(t, SMB2_QUERY_INFO);
    if (q) {
        smb2_query_info_req qi = {
            .info_type = SMB_INFO_FILE,
            .info_class = SMB_FILE_INTERNAL_INFORMATION,
            .output_buffer_length = 8,
            .fid = SMB2_FILEID_RELATED,
        };
        smb2_query_info_req_encode(smb_req_body(q), &qi);
    }
    smb_file_info tmp;
    return path_compound(t, path, &cr, q, info ? info : &tmp, "stat", err);
}

int smb_mkdir(smb_tree *t, const char *path, smb_error *err)
{
    smb2_create_req cr;
    create_defaults(&cr, SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE, SMB_FILE_CREATE, SMB_FILE_DIRECTORY_FILE);
    cr.file_attributes = SMB_ATTR_DIRECTORY;
    return path_compound(t, path, &cr, NULL, NULL, "create directory", err);
}

/* A SET_INFO on the related handle with data. */
static smb_req *set_info_req(smb_tree *t, uint8_t cls, const void *data, size_t len)
{
    smb_req *r = smb_tree_req(t, SMB2_SET_INFO);
    if (r) {
        smb2_set_info_req s = {
            .info_type = SMB_INFO_FILE,
            .info_class = cls,
            .fid = SMB2_FILEID_RELATED,
            .buffer = data,
            .buffer_len = len,
        };
        smb2_set_info_req_encode(smb_req_body(r), &s);
    }
    return r;
}

/* Delete through FileDispositionInformation on the related handle: unlike
 * FILE_DELETE_ON_CLOSE, it reports a non-empty directory (MS-FSA 2.1.5.14.3). */
static int delete_path(smb_tree *t, const char *path, uint32_t options, const char *what, smb_error *err)
{
    uint8_t one = 1;
    smb_req *s = set_info_req(t, SMB_FILE_DISPOSITION_INFORMATION, &one, 1);
    if (!s)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_create_req cr;
    create_defaults(&cr, SMB_DELETE | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE, SMB_FILE_OPEN, options);
    return path_compound(t, path, &cr, s, NULL, what, err);
}

int smb_rmdir(smb_tree *t, const char *path, smb_error *err)
{
    return delete_path(t, path, SMB_FILE_DIRECTORY_FILE, "remove directory", err);
}

int smb_unlink(smb_tree *t, const char *path, smb_error *err)
{
    return delete_path(t, path, SMB_FILE_NON_DIRECTORY_FILE, "delete", err);
}

int smb_rename(smb_tree *t, const char *from, const char *to, bool replace, smb_error *err)
{
    size_t wlen;
    uint8_t *wto = smb_path_utf16(to, &wlen, err);
    if (!wto)
        return err ? err->code : SMB_ERR_BAD_NAME;
    smb_wr w;
    smb_wr_init_grow(&w, 32 + wlen);
    smb2_rename_info_encode(&w, replace, wto, wlen);
    free(wto);
    smb_req *s = smb_wr_ok(&w) ? set_info_req(t, SMB_FILE_RENAME_INFORMATION, w.buf, w.len) : NULL;
    smb_wr_free(&w);
    if (!s)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_create_req cr;
    create_defaults(&cr, SMB_DELETE | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE, SMB_FILE_OPEN, 0);
    return path_compound(t, from, &cr, s, NULL, "rename", err);
}

int smb_set_times(smb_tree *t, const char *path, const smb_basic_info *bi, smb_error *err)
{
    uint8_t buf[40];
    smb_wr w;
    smb_wr_init(&w, buf, sizeof buf);
    smb2_basic_info_encode(&w, bi->creation_time, bi->last_access_time, bi->last_write_time, bi->change_time,
                           bi->attributes);
    smb_req *s = set_info_req(t, SMB_FILE_BASIC_INFORMATION, buf, w.len);
    if (!s)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_create_req cr;
    create_defaults(&cr, SMB_FILE_WRITE_ATTRIBUTES | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE, SMB_FILE_OPEN, 0);
    return path_compound(t, path, &cr, s, NULL, "set times of", err);
}

smb_open *smb_open_file(smb_tree *t, const char *path, int flags, smb_file_info *info, smb_error *err)
{
    smb_create_params p;
    smb_create_params_init(&p);
    int mode = flags & 0x3;
    p.desired_access = SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    if (mode == SMB_O_RDONLY || mode == SMB_O_RDWR)
        p.desired_access |= SMB_FILE_READ_DATA;
    if (mode == SMB_O_WRONLY || mode == SMB_O_RDWR)
        /* DELETE too: a writer may rename or delete what it writes. */
        p.desired_access |= SMB_FILE_WRITE_DATA | SMB_FILE_APPEND_DATA | SMB_FILE_WRITE_ATTRIBUTES | SMB_DELETE;
    p.options = SMB_FILE_NON_DIRECTORY_FILE;
    if ((flags & SMB_O_CREAT) && (flags & SMB_O_EXCL))
        p.disposition = SMB_FILE_CREATE;
    else if ((flags & SMB_O_CREAT) && (flags & SMB_O_TRUNC))
        p.disposition = SMB_FILE_OVERWRITE_IF;
    else if (flags & SMB_O_CREAT)
        p.disposition = SMB_FILE_OPEN_IF;
    else if (flags & SMB_O_TRUNC)
        p.disposition = SMB_FILE_OVERWRITE;
    else
        p.disposition = SMB_FILE_OPEN;
    return smb_create(t, path, &p, info, NULL, err);
}

smb_open *smb_open_dir(smb_tree *t, const char *path, smb_error *err)
{
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_LIST_DIRECTORY | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    p.options = SMB_FILE_DIRECTORY_FILE;
    return smb_create(t, path, &p, NULL, NULL, err);
}

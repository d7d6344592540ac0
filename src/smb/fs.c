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
#define STATUS_END_OF_FILE 0xC0000011u

/*
 * Run CREATE(path, cr) + middle[0..nmid) + CLOSE as one related compound.
 * The first failing member decides the error. With info non-NULL the
 * metadata comes from the CLOSE (post-query) when close_info is set, else
 * from the CREATE; a FileInternalInformation query among the middle ones
 * fills the file id. The middle requests stay the caller's to free.
 */
static int compound_run(smb_tree *t, const char *path, smb2_create_req *cr, smb_req **middle, int nmid,
                        bool close_info, smb_file_info *info, const char *what, int *failed_at, smb_error *err)
{
    if (failed_at)
        *failed_at = -1;
    smb_req *rs[8];
    int n = 0, rc = 0;
    size_t wlen;
    uint8_t *wname = smb_path_utf16(path, &wlen, err);
    if (!wname)
        rc = err ? err->code : SMB_ERR_BAD_NAME;
    if (rc == 0) {
        cr->name_utf16 = wname;
        cr->name_len = wlen;
        rs[n] = smb_tree_req(t, SMB2_CREATE);
        if (rs[n])
            smb2_create_req_encode(smb_req_body(rs[n]), cr);
        n++;
    }
    for (int i = 0; rc == 0 && i < nmid; i++)
        rs[n++] = middle[i];
    if (rc == 0) {
        rs[n] = smb_tree_req(t, SMB2_CLOSE);
        if (rs[n])
            smb2_close_req_encode(smb_req_body(rs[n]), close_info ? SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB : 0,
                                  SMB2_FILEID_RELATED);
        n++;
    }
    free(wname);
    for (int i = 0; rc == 0 && i < n; i++)
        if (!rs[i])
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0)
        rc = smb_req_send_compound(rs, n, true, err);
    /* Wait for every member that went out, whatever happens to the first. */
    int wrc[8] = {0};
    bool sent = rc == 0;
    for (int i = 0; sent && i < n; i++)
        wrc[i] = smb_req_wait(rs[i], NULL);
    char msg[512];
    snprintf(msg, sizeof msg, "%s '%s'", what, path);
    for (int i = 0; sent && rc == 0 && i < n; i++) {
        if (wrc[i])
            rc = smb_req_wait(rs[i], err); /* done: copies the error */
        else if (rs[i]->command == SMB2_READ && rs[i]->status == STATUS_END_OF_FILE)
            continue; /* an empty file */
        else if (rs[i]->status != STATUS_SUCCESS)
            rc = smb_req_status_error(rs[i], msg, err);
        if (rc && failed_at)
            *failed_at = i;
    }
    if (rc == 0 && info) {
        smb_rd rd = smb_req_rsp_body(close_info ? rs[n - 1] : rs[0]);
        memset(info, 0, sizeof *info);
        if (close_info) {
            smb2_close_rsp c;
            if (smb2_close_rsp_decode(&rd, &c) != 0)
                rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed CLOSE response");
            else
                smb_file_info_from_times(info, &c.times);
        } else {
            smb2_create_rsp c;
            if (smb2_create_rsp_decode(&rd, &c) != 0)
                rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed CREATE response");
            else
                smb_file_info_from_times(info, &c.times);
        }
        for (int i = 1; rc == 0 && i < n - 1; i++) {
            if (rs[i]->command != SMB2_QUERY_INFO)
                continue;
            smb2_blob b;
            smb_rd q = smb_req_rsp_body(rs[i]);
            if (smb2_query_info_rsp_decode(&q, &b) != 0 || smb2_internal_info_decode(b.data, b.len, &info->file_id) != 0)
                rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed FileInternalInformation");
        }
    }
    if (n > 0)
        smb_req_free(rs[0]);
    if (n > 1)
        smb_req_free(rs[n - 1]);
    return rc;
}

static int path_compound(smb_tree *t, const char *path, smb2_create_req *cr, smb_req *middle, smb_file_info *info,
                         const char *what, smb_error *err)
{
    int rc = compound_run(t, path, cr, &middle, middle ? 1 : 0, false, info, what, NULL, err);
    smb_req_free(middle);
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

/* A related SET_INFO of FileBasicInformation (times and attributes) from bi. */
static smb_req *basic_info_req(smb_tree *t, const smb_basic_info *bi)
{
    uint8_t basic[40];
    smb_wr bw;
    smb_wr_init(&bw, basic, sizeof basic);
    smb2_basic_info_encode(&bw, bi->creation_time, bi->last_access_time, bi->last_write_time, bi->change_time,
                           bi->attributes);
    return set_info_req(t, SMB_FILE_BASIC_INFORMATION, basic, bw.len); /* the request keeps its own copy */
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
    return smb_rename_set_times(t, from, to, replace, NULL, err);
}

int smb_rename_set_times(smb_tree *t, const char *from, const char *to, bool replace, const smb_basic_info *bi,
                         smb_error *err)
{
    size_t wlen;
    uint8_t *wto = smb_path_utf16(to, &wlen, err);
    if (!wto)
        return err ? err->code : SMB_ERR_BAD_NAME;
    smb_wr w;
    smb_wr_init_grow(&w, 32 + wlen);
    smb2_rename_info_encode(&w, replace, wto, wlen);
    free(wto);
    smb_req *mid[2] = {smb_wr_ok(&w) ? set_info_req(t, SMB_FILE_RENAME_INFORMATION, w.buf, w.len) : NULL, NULL};
    smb_wr_free(&w);
    int nmid = 1;
    if (bi)
        mid[nmid++] = basic_info_req(t, bi);
    int rc = 0;
    for (int i = 0; i < nmid; i++)
        if (!mid[i])
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0) {
        smb2_create_req cr;
        create_defaults(&cr,
                        SMB_DELETE | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE | (bi ? SMB_FILE_WRITE_ATTRIBUTES : 0),
                        SMB_FILE_OPEN, 0);
        rc = compound_run(t, from, &cr, mid, nmid, false, NULL, "rename", NULL, err);
    }
    for (int i = 0; i < nmid; i++)
        smb_req_free(mid[i]);
    return rc;
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


/* More than one READ may carry (a small MaxReadSize, or no multi-credit): open, pipelined READs, close. */
static int read_file_pipelined(smb_tree *t, const char *path, void *buf, size_t cap, size_t *n, smb_file_info *info,
                               smb_error *err)
{
    smb_error le = {0};
    size_t got = 0;
    smb_open *op = smb_open_file(t, path, SMB_O_RDONLY, NULL, &le);
    int rc = op ? smb_pread(op, buf, cap, 0, 0, &got, &le) : le.code;
    if (op) {
        smb_error ce = {0};
        int crc = smb_close(op, info, &ce);
        if (rc == 0 && crc != 0) {
            rc = crc;
            le = ce;
        }
    }
    if (n)
        *n = rc == 0 ? got : 0;
    if (rc != 0 && err)
        *err = le;
    return rc;
}

int smb_read_file(smb_tree *t, const char *path, void *buf, size_t cap, size_t *n, smb_file_info *info,
                  smb_error *err)
{
    smb_conn *c = t->sess->conn;
    if (cap > smb_conn_request_cap(c, c->neg.max_read))
        return read_file_pipelined(t, path, buf, cap, n, info, err);
    smb2_create_req cr;
    create_defaults(&cr, SMB_FILE_READ_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE, SMB_FILE_OPEN,
                    SMB_FILE_NON_DIRECTORY_FILE);
    smb_req *rd = smb_tree_req(t, SMB2_READ);
    if (!rd)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_read_req rr = {.length = (uint32_t)(cap ? cap : 1), .fid = SMB2_FILEID_RELATED};
    uint8_t one = 0; /* the target of a 1-byte read when the caller wants none */
    smb2_read_req_encode(smb_req_body(rd), &rr);
    rd->read_buf = cap ? buf : &one;
    rd->read_cap = cap ? cap : 1;
    rd->expect_len = rr.length;
    smb_file_info tmp;
    int rc = compound_run(t, path, &cr, &rd, 1, true, info ? info : &tmp, "read", NULL, err);
    if (n)
        *n = rc == 0 && cap ? rd->read_len : 0;
    smb_req_free(rd);
    return rc;
}

/*
 * The WRITE of smb_write_file's compound (w) taken in part (MS-SMB2
 * 3.3.5.13: Count below Length): the file is already under its final
 * name, so the rest is written there at Count, then the times again (a
 * write moves them) and the metadata asked again. When that fails, the
 * incomplete file is deleted: never a hole under a success, nor a partly
 * written file under its final name.
 */
static int write_file_rest(smb_tree *t, const char *final, smb_req *w, const uint8_t *buf, size_t len,
                           const smb_basic_info *bi, smb_file_info *info, smb_error *err)
{
    uint32_t count = 0;
    smb_rd rd = smb_req_rsp_body(w);
    smb_error le = {0};
    int rc = 0;
    if (smb2_write_rsp_decode(&rd, &count) != 0 || count > len)
        rc = smb_err_set(&le, SMB_ERR_PROTOCOL, 0, "malformed WRITE response");
    else if (count == len)
        return 0;
    else if (count == 0)
        rc = smb_err_set(&le, SMB_ERR_SERVER, 0, "the server wrote 0 of %zu bytes", len);
    smb_open *op = rc == 0 ? smb_open_file(t, final, SMB_O_WRONLY, NULL, &le) : NULL;
    if (rc == 0 && !op)
        rc = le.code;
    if (op) {
        rc = smb_pwrite(op, buf + count, len - count, count, 0, &le);
        if (rc == 0 && bi)
            rc = smb_set_basic_info(op, bi, &le);
        smb_error ce = {0};
        int crc = smb_close(op, rc == 0 ? info : NULL, &ce);
        if (rc == 0 && crc != 0) {
            rc = crc;
            le = ce;
        }
    }
    if (rc != 0) {
        smb_err_set(err, rc, le.ntstatus, "write '%s': %s", final, le.message);
        smb_unlink(t, final, NULL);
    }
    return rc;
}

/*
 * smb_write_file of more than one WRITE may carry (a small MaxWriteSize, no
 * multi-credit, or few credits granted): the same steps in more round trips
 * on one handle (create, pipelined WRITEs, rename, times, close), with the
 * same outcome: on a failure before the rename the file is deleted, after it
 * the file stays in place and the error says what failed.
 */
static int write_file_pipelined(smb_tree *t, const char *path, const uint8_t *buf, size_t len,
                                const smb_basic_info *bi, const char *rename_to, smb_file_info *info, smb_error *err)
{
    smb_error le = {0};
    smb_open *op = smb_open_file(t, path, SMB_O_WRONLY | SMB_O_CREAT | SMB_O_EXCL, NULL, &le);
    if (!op) {
        *err = le;
        return le.code ? le.code : SMB_ERR_NO_MEMORY;
    }
    bool renamed = false;
    const char *stage = "write";
    int rc = smb_pwrite(op, buf, len, 0, 0, &le);
    if (rc == 0 && rename_to) {
        stage = "rename";
        rc = smb_set_rename(op, rename_to, true, &le);
        renamed = rc == 0;
    }
    if (rc == 0 && bi) {
        stage = "set times of";
        rc = smb_set_basic_info(op, bi, &le);
    }
    /* Not in place yet: the handle deletes it as it closes. */
    if (rc != 0 && !renamed)
        smb_set_delete_on_close(op, true, NULL);
    smb_error ce = {0};
    int crc = smb_close(op, rc == 0 ? info : NULL, &ce);
    if (rc == 0 && crc != 0) {
        rc = crc;
        le = ce;
        stage = "close";
    }
    if (rc != 0)
        smb_err_set(err, rc, le.ntstatus, "%s '%s': %s", stage, renamed ? rename_to : path, le.message);
    return rc;
}

int smb_write_file(smb_tree *t, const char *path, const void *buf, size_t len, const smb_basic_info *bi,
                   const char *rename_to, smb_file_info *info, smb_error *err)
{
    smb_conn *c = t->sess->conn;
    if (len > smb_conn_request_cap(c, c->neg.max_write)) {
        smb_error le = {0};
        int rc = write_file_pipelined(t, path, buf, len, bi, rename_to, info, &le);
        if (rc != 0 && err)
            *err = le;
        return rc;
    }
    smb_req *mid[3];
    int nmid = 0, rc = 0;
    if (len) {
        smb_req *w = smb_tree_req(t, SMB2_WRITE);
        if (w) {
            smb2_write_req wr = {.length = (uint32_t)len, .fid = SMB2_FILEID_RELATED};
            smb2_write_req_encode(smb_req_body(w), &wr);
            w->payload = buf;
            w->payload_len = len;
            w->charge_bytes = len;
        }
        mid[nmid++] = w;
    }
    smb_wr rw = {0};
    int rename_at = -1; /* the rename's place in the compound (CREATE is 0) */
    if (rename_to) {
        size_t wlen;
        uint8_t *wto = smb_path_utf16(rename_to, &wlen, err);
        if (!wto)
            rc = err ? err->code : SMB_ERR_BAD_NAME;
        else {
            smb_wr_init_grow(&rw, 32 + wlen);
            smb2_rename_info_encode(&rw, true, wto, wlen);
            free(wto);
            mid[nmid++] = smb_wr_ok(&rw) ? set_info_req(t, SMB_FILE_RENAME_INFORMATION, rw.buf, rw.len) : NULL;
            rename_at = nmid;
        }
    }
    /*
     * Times and attributes after the rename: a server may derive attributes
     * from the name (Samba's "hide dot files" makes a temporary name
     * hidden) and store them over ours while the file still has it.
     */
    if (bi)
        mid[nmid++] = basic_info_req(t, bi);
    for (int i = 0; rc == 0 && i < nmid; i++)
        if (!mid[i])
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0) {
        smb2_create_req cr;
        create_defaults(&cr,
                        SMB_FILE_WRITE_DATA | SMB_FILE_APPEND_DATA | SMB_FILE_WRITE_ATTRIBUTES |
                            SMB_FILE_READ_ATTRIBUTES | SMB_DELETE | SMB_SYNCHRONIZE,
                        SMB_FILE_CREATE, SMB_FILE_NON_DIRECTORY_FILE);
        smb_file_info tmp;
        int failed_at;
        rc = compound_run(t, path, &cr, mid, nmid, true, info ? info : &tmp, "write", &failed_at, err);
        if (rc != 0 && failed_at > 0 && !(rename_at > 0 && failed_at > rename_at)) {
            /* The file was created but not completed (not renamed yet): it goes. */
            smb_unlink(t, path, NULL);
        }
        if (rc == 0 && len)
            rc = write_file_rest(t, rename_to ? rename_to : path, mid[0], buf, len, bi, info ? info : &tmp, err);
    }
    for (int i = 0; i < nmid; i++)
        smb_req_free(mid[i]);
    smb_wr_free(&rw);
    return rc;
}

/*
 * Path-based helpers. Each is one compounded round trip (MS-SMB2 3.2.4.1.4):
 * CREATE, then what the call needs on the new handle (QUERY_INFO or
 * SET_INFO, addressed with the related file id), then CLOSE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include <smbcopy/ntstatus.h>
#include "objects.h"
#include "open.h"
#include "utf16.h"

/*
 * Close the handle a compound's CREATE (c, answered) opened, by its file id,
 * with info (optional) from the CLOSE's post-query.
 */
static int close_created(smb_tree *t, const smb_req *c, smb_file_info *info, smb_error *err)
{
    smb2_create_rsp cr;
    smb_rd rd = smb_req_rsp_body(c);
    if (smb2_create_rsp_decode(&rd, &cr) != 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed CREATE response");
    smb_open *op = smb_open_register(t, cr.fid, false);
    if (!op)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    return smb_close(op, info, err);
}

/* Whether member i of a compound of n (CREATE, middle[0..n-2), CLOSE) is a middle one optional names. */
static bool member_optional(unsigned optional, int i, int n)
{
    return i > 0 && i < n - 1 && ((optional >> (i - 1)) & 1u);
}

/*
 * Run CREATE(path, cr) + middle[0..nmid) + CLOSE as one related compound.
 * The first failing member decides the error, except the middle members
 * whose bit is set in optional (bit i: middle[i]): their status the caller
 * reads, and their failure fails nothing. A server may fail what follows a
 * failed related request with the same status (MS-SMB2 3.3.5.2.7.2): a
 * CLOSE failed as an earlier member did (an optional one, or the one whose
 * failure decides the error) did not close, and the handle is closed by
 * its id. With info non-NULL the metadata comes from the CLOSE (post-query)
 * when close_info is set, else from the CREATE; a FileInternalInformation
 * query among the middle ones (not an optional one) fills the file id.
 * The middle requests stay the caller's to free.
 */
static int compound_run(smb_tree *t, const char *path, smb2_create_req *cr, smb_req **middle, int nmid,
                        unsigned optional, bool close_info, smb_file_info *info, const char *what, int *failed_at,
                        smb_error *err)
{
    if (failed_at)
        *failed_at = -1;
    smb_req *rs[8];
    int n = 0, rc = 0;
    size_t wlen;
    uint8_t *wname = smb_path_utf16(path, &wlen, err);
    if (!wname)
        rc = err ? err->code : SMB_ERR_BAD_NAME;
    if (rc == 0 && nmid > 6)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "too many requests in a compound");
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
    /* Whether the CLOSE (answered) failed as an answered optional member did before it. */
    bool close_as_optional = false;
    for (int i = 1; sent && i < n - 1; i++)
        if (member_optional(optional, i, n) && !wrc[i] && !wrc[n - 1] && rs[i]->status != SMB_STATUS_SUCCESS &&
            rs[n - 1]->status == rs[i]->status)
            close_as_optional = true;
    bool close_by_id = false;
    int failed = -1;
    for (int i = 0; sent && rc == 0 && i < n; i++) {
        if (wrc[i])
            rc = smb_req_wait(rs[i], err); /* done: copies the error */
        else if ((rs[i]->command == SMB2_READ && rs[i]->status == SMB_STATUS_END_OF_FILE) ||
                 member_optional(optional, i, n))
            continue; /* an empty file; or a member whose status the caller reads */
        else if (i == n - 1 && close_as_optional)
            close_by_id = true; /* failed as the optional member did: the handle is still open */
        else if (rs[i]->status != SMB_STATUS_SUCCESS)
            rc = smb_req_status_error(rs[i], msg, err);
        if (rc)
            failed = i;
    }
    if (failed_at)
        *failed_at = failed;
    /* A member after the CREATE failed, and the CLOSE alike: the handle is still open. */
    if (rc != 0 && failed > 0 && failed < n - 1 && !wrc[failed] && !wrc[n - 1] &&
        rs[n - 1]->status == rs[failed]->status)
        close_created(t, rs[0], NULL, NULL);
    if (rc == 0 && info)
        memset(info, 0, sizeof *info);
    if (rc == 0 && close_by_id) {
        rc = close_created(t, rs[0], close_info ? info : NULL, err); /* fills info from its own CLOSE */
        if (rc && failed_at)
            *failed_at = n - 1;
    }
    if (rc == 0 && info) {
        smb_rd rd = smb_req_rsp_body(close_info ? rs[n - 1] : rs[0]);
        if (close_info && !close_by_id) {
            smb2_close_rsp c;
            if (smb2_close_rsp_decode(&rd, &c) != 0)
                rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed CLOSE response");
            else
                smb_file_info_from_times(info, &c.times);
        } else if (!close_info) {
            smb2_create_rsp c;
            if (smb2_create_rsp_decode(&rd, &c) != 0)
                rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed CREATE response");
            else
                smb_file_info_from_times(info, &c.times);
        }
        for (int i = 1; rc == 0 && i < n - 1; i++) {
            if (rs[i]->command != SMB2_QUERY_INFO || member_optional(optional, i, n))
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
    int rc = compound_run(t, path, cr, &middle, middle ? 1 : 0, 0, false, info, what, NULL, err);
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
        rc = compound_run(t, from, &cr, mid, nmid, 0, false, NULL, "rename", NULL, err);
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

/* smb_open_file asking for extra access besides what flags need. */
static smb_open *open_with(smb_tree *t, const char *path, int flags, uint32_t extra, smb_file_info *info,
                           smb_error *err)
{
    smb_create_params p;
    smb_create_params_init(&p);
    int mode = flags & 0x3;
    p.desired_access = SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE | extra;
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

smb_open *smb_open_file(smb_tree *t, const char *path, int flags, smb_file_info *info, smb_error *err)
{
    return open_with(t, path, flags, 0, info, err);
}

smb_open *smb_open_dir(smb_tree *t, const char *path, smb_error *err)
{
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_LIST_DIRECTORY | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    p.options = SMB_FILE_DIRECTORY_FILE;
    return smb_create(t, path, &p, NULL, NULL, err);
}


/*
 * Room for each answer read with a file (smb_read_file_ex): a stream list
 * of about 500 streams with 50-character names, a descriptor of some 1,600
 * ACEs; an answer of 64 KiB costs one credit (MS-SMB2 3.1.5.2). A longer
 * list leaves the count unknown; a larger descriptor is refused
 * (STATUS_BUFFER_TOO_SMALL) and read on an open by the caller.
 */
#define EXTRA_ANSWER_MAX ((size_t)64 * 1024)
/* Less room than this for each answer (a frame the READ nearly fills): the pipelined path instead. */
#define EXTRA_ANSWER_MIN (4u * 1024u)
/* A compound's answers besides the data and the query answers: five headers, fixed parts, padding, a transform header. */
#define COMPOUND_OVERHEAD 1024u

int smb_streams_count(uint32_t status, const uint8_t *buf, size_t len)
{
    if (status != SMB_STATUS_SUCCESS)
        return smb_ntstatus_to_code(status) == SMB_ERR_UNSUPPORTED ? 0 : -1;
    smb_stream_info *streams = NULL;
    size_t n = 0;
    if (smb2_streams_decode(buf, len, &streams, &n) != 0)
        return -1;
    smb_streams_free(streams, n);
    return (int)n; /* at most SMB2_STREAMS_MAX */
}

/* The stream count of open op: one QUERY_INFO of FileStreamInformation (MS-FSCC 2.4.44). */
static int open_streams_count(smb_open *op)
{
    uint8_t *buf = malloc(EXTRA_ANSWER_MAX);
    if (!buf)
        return -1;
    size_t got = 0;
    smb_error le = {0};
    int rc = smb_query_info(op, SMB_INFO_FILE, SMB_FILE_STREAM_INFORMATION, 0, buf, EXTRA_ANSWER_MAX, &got, &le);
    int count = rc == 0 ? smb_streams_count(SMB_STATUS_SUCCESS, buf, got)
                        : le.ntstatus ? smb_streams_count(le.ntstatus, NULL, 0) : -1;
    free(buf);
    return count;
}

/* The access reading the descriptor parts secinfo takes (MS-SMB2 2.2.37): READ_CONTROL, and ACCESS_SYSTEM_SECURITY for the SACL. */
static uint32_t sd_read_access(uint32_t secinfo)
{
    if (!secinfo)
        return 0;
    return SMB_READ_CONTROL | ((secinfo & SMB_SECINFO_SACL) ? SMB_ACCESS_SYSTEM_SECURITY : 0);
}

/* The access setting the descriptor parts secinfo takes (MS-SMB2 2.2.39). */
static uint32_t sd_write_access(uint32_t secinfo)
{
    return ((secinfo & SMB_SECINFO_DACL) ? SMB_WRITE_DAC : 0) |
           ((secinfo & (SMB_SECINFO_OWNER | SMB_SECINFO_GROUP)) ? SMB_WRITE_OWNER : 0) |
           ((secinfo & SMB_SECINFO_SACL) ? SMB_ACCESS_SYSTEM_SECURITY : 0);
}

/* The outputs of x as a call that read nothing leaves them. */
static void extras_reset(smb_read_extras *x)
{
    if (!x)
        return;
    x->streams = -1;
    x->sd = NULL;
    x->sd_len = 0;
    memset(&x->sd_err, 0, sizeof x->sd_err);
}

/* Drop what x received: the call failed after all. */
static void extras_drop(smb_read_extras *x)
{
    if (x)
        free(x->sd);
    extras_reset(x);
}

/*
 * More than one READ may carry (a small MaxReadSize, or no multi-credit),
 * or the answers would not fit one frame: open, pipelined READs, what x
 * asks for on the open, close.
 */
static int read_file_pipelined(smb_tree *t, const char *path, void *buf, size_t cap, size_t *n, smb_file_info *info,
                               smb_read_extras *x, smb_error *err)
{
    smb_error le = {0};
    size_t got = 0;
    smb_open *op = open_with(t, path, SMB_O_RDONLY, x ? sd_read_access(x->secinfo) : 0, NULL, &le);
    int rc = op ? smb_pread(op, buf, cap, 0, 0, &got, &le) : le.code;
    if (rc == 0 && x && x->want_streams)
        x->streams = open_streams_count(op);
    if (rc == 0 && x && x->secinfo && smb_get_security(op, x->secinfo, &x->sd, &x->sd_len, &x->sd_err) != 0)
        x->sd_len = 0; /* its own failure, in x->sd_err */
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
    if (rc != 0) {
        extras_drop(x);
        if (err)
            *err = le;
    }
    return rc;
}

/* A related QUERY_INFO of type and class (additional: its AdditionalInformation), answered in at most `out` bytes. */
static smb_req *related_query_req(smb_tree *t, uint8_t type, uint8_t cls, uint32_t additional, uint32_t out)
{
    smb_req *q = smb_tree_req(t, SMB2_QUERY_INFO);
    if (q) {
        smb2_query_info_req qi = {
            .info_type = type,
            .info_class = cls,
            .output_buffer_length = out,
            .additional_info = additional,
            .fid = SMB2_FILEID_RELATED,
        };
        smb2_query_info_req_encode(smb_req_body(q), &qi);
        q->expect_len = out; /* charged by the answer's size (MS-SMB2 3.1.5.2) */
    }
    return q;
}

/* The stream count from the compound's answered QUERY_INFO q. */
static int streams_count_of(const smb_req *q)
{
    if (q->status != SMB_STATUS_SUCCESS)
        return smb_streams_count(q->status, NULL, 0);
    smb2_blob b;
    smb_rd rd = smb_req_rsp_body(q);
    if (smb2_query_info_rsp_decode(&rd, &b) != 0)
        return -1;
    return smb_streams_count(SMB_STATUS_SUCCESS, b.data, b.len);
}

/* The descriptor from the compound's answered QUERY_INFO q (asked for at most `asked` bytes) into *sd (malloc'd), *len; or *e. */
static void sd_answer(const smb_req *q, uint32_t asked, const char *path, uint8_t **sd, size_t *len, smb_error *e)
{
    char what[512];
    snprintf(what, sizeof what, "read the security descriptor of '%s'", path);
    if (q->status != SMB_STATUS_SUCCESS) {
        smb_err_status(e, q->status, what);
        return;
    }
    smb2_blob b;
    smb_rd rd = smb_req_rsp_body(q);
    if (smb2_query_info_rsp_decode(&rd, &b) != 0 || b.len > asked) {
        smb_err_set(e, SMB_ERR_PROTOCOL, 0, "%s: malformed QUERY_INFO response", what);
        return;
    }
    if (b.len == 0)
        return;
    *sd = malloc(b.len);
    if (!*sd) {
        smb_err_set(e, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return;
    }
    memcpy(*sd, b.data, b.len);
    *len = b.len;
}

/*
 * smb_read_file and smb_read_file_ex: CREATE + READ (+ QUERY_INFO of the
 * streams) (+ QUERY_INFO of the descriptor) + CLOSE in one round trip.
 */
static int read_file(smb_tree *t, const char *path, void *buf, size_t cap, size_t *n, smb_file_info *info,
                     smb_read_extras *x, smb_error *err)
{
    extras_reset(x);
    bool streams = x && x->want_streams;
    uint32_t secinfo = x ? x->secinfo : 0;
    smb_conn *c = t->sess->conn;
    /* Each answer in at most 64 KiB, all of them in one frame with the data. */
    uint32_t out = smb_conn_request_cap(c, c->neg.max_transact);
    if (out > EXTRA_ANSWER_MAX)
        out = EXTRA_ANSWER_MAX;
    unsigned nq = (streams ? 1u : 0u) + (secinfo ? 1u : 0u);
    size_t frame = smb_conn_max_frame(c);
    size_t room = frame > cap + COMPOUND_OVERHEAD ? frame - cap - COMPOUND_OVERHEAD : 0;
    if (nq && room / nq < out)
        out = (uint32_t)(room / nq);
    if (cap > smb_conn_request_cap(c, c->neg.max_read) || (nq && out < EXTRA_ANSWER_MIN))
        return read_file_pipelined(t, path, buf, cap, n, info, x, err);
    smb2_create_req cr;
    create_defaults(&cr, SMB_FILE_READ_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE | sd_read_access(secinfo),
                    SMB_FILE_OPEN, SMB_FILE_NON_DIRECTORY_FILE);
    smb_req *mid[3] = {smb_tree_req(t, SMB2_READ), NULL, NULL};
    int nmid = 1, streams_at = -1, sd_at = -1;
    if (streams) {
        streams_at = nmid;
        mid[nmid++] = related_query_req(t, SMB_INFO_FILE, SMB_FILE_STREAM_INFORMATION, 0, out);
    }
    if (secinfo) {
        sd_at = nmid;
        mid[nmid++] = related_query_req(t, SMB_INFO_SECURITY, 0, secinfo, out);
    }
    for (int i = 0; i < nmid; i++) {
        if (!mid[i]) {
            for (int j = 0; j < nmid; j++)
                smb_req_free(mid[j]);
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        }
    }
    smb_req *rd = mid[0];
    smb2_read_req rr = {.length = (uint32_t)(cap ? cap : 1), .fid = SMB2_FILEID_RELATED};
    uint8_t one = 0; /* the target of a 1-byte read when the caller wants none */
    smb2_read_req_encode(smb_req_body(rd), &rr);
    rd->read_buf = cap ? buf : &one;
    rd->read_cap = cap ? cap : 1;
    rd->expect_len = rr.length;
    smb_file_info tmp;
    /* The queries may fail (a file system without streams, a descriptor refused): the read still counts. */
    unsigned optional = (streams_at > 0 ? 1u << streams_at : 0u) | (sd_at > 0 ? 1u << sd_at : 0u);
    int rc = compound_run(t, path, &cr, mid, nmid, optional, true, info ? info : &tmp, "read", NULL, err);
    if (n)
        *n = rc == 0 && cap ? rd->read_len : 0;
    if (rc == 0 && streams)
        x->streams = streams_count_of(mid[streams_at]);
    if (rc == 0 && secinfo)
        sd_answer(mid[sd_at], out, path, &x->sd, &x->sd_len, &x->sd_err);
    for (int i = 0; i < nmid; i++)
        smb_req_free(mid[i]);
    return rc;
}

int smb_read_file(smb_tree *t, const char *path, void *buf, size_t cap, size_t *n, smb_file_info *info,
                  smb_error *err)
{
    return read_file(t, path, buf, cap, n, info, NULL, err);
}

int smb_read_file_ex(smb_tree *t, const char *path, void *buf, size_t cap, size_t *n, smb_file_info *info,
                     smb_read_extras *x, smb_error *err)
{
    return read_file(t, path, buf, cap, n, info, x, err);
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

/* Whether r, a member of a compound that was waited for, was answered with success. */
static bool answered_ok(const smb_req *r)
{
    return r->rsp && !r->err && r->status == SMB_STATUS_SUCCESS;
}

/* A failed call gives no read-back descriptor (smb_write_extras). */
static void drop_sd_back(smb_write_extras *x)
{
    if (!x)
        return;
    free(x->sd_back);
    x->sd_back = NULL;
    x->sd_back_len = 0;
}

/* Whether x carries a descriptor to set. */
static bool sets_sd(const smb_write_extras *x)
{
    return x && x->sd && x->sd_len && x->secinfo;
}

/* err (the compound's failure at the descriptor's SET_INFO) said as that: "set the security descriptor of 'PATH': ...". */
static void sd_set_failed(smb_error *err, const char *path)
{
    char what[512];
    snprintf(what, sizeof what, "set the security descriptor of '%s'", path);
    if (err->ntstatus) {
        smb_err_status(err, err->ntstatus, what);
    } else {
        smb_error le = *err;
        smb_err_set(err, le.code, 0, "%s: %s", what, le.message);
    }
}

/*
 * smb_write_file of more than one WRITE may carry (a small MaxWriteSize, no
 * multi-credit, or few credits granted): the same steps in more round trips
 * on one handle (create, pipelined WRITEs, descriptor, rename, times,
 * close), with the same outcome: on a failure before the rename the file is
 * deleted, after it the file stays in place and the error says what failed.
 */
static int write_file_pipelined(smb_tree *t, const char *path, const uint8_t *buf, size_t len,
                                const smb_basic_info *bi, const char *rename_to, smb_file_info *info,
                                smb_write_extras *x, smb_error *err)
{
    smb_error le = {0};
    bool sd = sets_sd(x);
    bool back = sd && x && x->read_back;
    smb_open *op = open_with(t, path, SMB_O_WRONLY | SMB_O_CREAT | SMB_O_EXCL,
                             (sd ? sd_write_access(x->secinfo) : 0) | (back ? SMB_READ_CONTROL : 0), NULL, &le);
    if (!op) {
        *err = le;
        return le.code ? le.code : SMB_ERR_NO_MEMORY;
    }
    bool renamed = false;
    const char *stage = "write";
    int rc = smb_pwrite(op, buf, len, 0, 0, &le);
    if (rc == 0 && sd) {
        stage = "set the security descriptor of";
        rc = smb_set_security(op, x->secinfo, x->sd, x->sd_len, &le);
        x->sd_refused = rc != 0;
        if (rc == 0 && back && smb_get_security(op, x->secinfo, &x->sd_back, &x->sd_back_len, &x->sd_back_err) != 0)
            x->sd_back_len = 0; /* its own failure, in x->sd_back_err */
    }
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

/*
 * smb_write_file and smb_write_file_ex: CREATE + WRITE (+ SET_INFO of the
 * descriptor) (+ SET_INFO rename) (+ SET_INFO times) + CLOSE in one round
 * trip.
 */
static int write_file(smb_tree *t, const char *path, const void *buf, size_t len, const smb_basic_info *bi,
                      const char *rename_to, smb_file_info *info, smb_write_extras *x, smb_error *err)
{
    if (x) {
        x->sd_refused = false;
        x->sd_back = NULL;
        x->sd_back_len = 0;
        memset(&x->sd_back_err, 0, sizeof x->sd_back_err);
    }
    bool sd = sets_sd(x);
    bool back = sd && x && x->read_back;
    if (sd && x && x->sd_len < 20) /* x again: for the analyser, which does not look into sets_sd */
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor shorter than its header");
    smb_conn *c = t->sess->conn;
    if (len > smb_conn_request_cap(c, c->neg.max_write)) {
        smb_error le = {0};
        int rc = write_file_pipelined(t, path, buf, len, bi, rename_to, info, x, &le);
        if (rc != 0 && err)
            *err = le;
        if (rc != 0)
            drop_sd_back(x);
        return rc;
    }
    smb_req *mid[5];
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
    int sd_at = -1; /* the descriptor's place in the compound (CREATE is 0) */
    if (sd) {
        smb_req *s = smb_tree_req(t, SMB2_SET_INFO);
        if (s) {
            smb2_set_info_req si = {
                .info_type = SMB_INFO_SECURITY,
                .additional_info = x->secinfo,
                .fid = SMB2_FILEID_RELATED,
                .buffer = x->sd,
                .buffer_len = x->sd_len,
            };
            smb2_set_info_req_encode(smb_req_body(s), &si); /* the request keeps its own copy */
        }
        mid[nmid++] = s;
        sd_at = nmid;
    }
    int back_at = -1; /* the read-back's place: what the server keeps of the descriptor */
    uint32_t back_out = smb_conn_request_cap(c, c->neg.max_transact);
    if (back_out > EXTRA_ANSWER_MAX)
        back_out = EXTRA_ANSWER_MAX;
    if (back) {
        mid[nmid++] = related_query_req(t, SMB_INFO_SECURITY, 0, x->secinfo, back_out);
        back_at = nmid;
    }
    smb_wr rw = {0};
    int rename_at = -1; /* the rename's place in the compound */
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
                            SMB_FILE_READ_ATTRIBUTES | SMB_DELETE | SMB_SYNCHRONIZE |
                            (sd ? sd_write_access(x->secinfo) : 0) | (back ? SMB_READ_CONTROL : 0),
                        SMB_FILE_CREATE, SMB_FILE_NON_DIRECTORY_FILE);
        smb_file_info tmp;
        int failed_at;
        /* The read-back may fail on its own: the file is written all the same. */
        unsigned optional = back_at > 0 ? 1u << back_at : 0u;
        rc = compound_run(t, path, &cr, mid, nmid, optional, true, info ? info : &tmp, "write", &failed_at, err);
        if (rc == 0 && back)
            sd_answer(mid[back_at - 1], back_out, rename_to ? rename_to : path, &x->sd_back, &x->sd_back_len,
                      &x->sd_back_err);
        if (rc != 0 && sd_at > 0 && failed_at == sd_at) {
            x->sd_refused = true;
            if (err)
                sd_set_failed(err, path);
        }
        if (rc != 0 && failed_at > 0 && !(rename_at > 0 && failed_at > rename_at)) {
            /*
             * The file was created but not completed: it goes. A server that
             * goes on after a failed member (Samba fails alike only what
             * follows a failed CREATE) renamed it all the same: from there.
             */
            bool renamed = rename_at > 0 && failed_at < rename_at && answered_ok(mid[rename_at - 1]);
            smb_unlink(t, renamed ? rename_to : path, NULL);
        }
        if (rc == 0 && len)
            rc = write_file_rest(t, rename_to ? rename_to : path, mid[0], buf, len, bi, info ? info : &tmp, err);
    }
    for (int i = 0; i < nmid; i++)
        smb_req_free(mid[i]);
    smb_wr_free(&rw);
    if (rc != 0)
        drop_sd_back(x);
    return rc;
}

int smb_write_file(smb_tree *t, const char *path, const void *buf, size_t len, const smb_basic_info *bi,
                   const char *rename_to, smb_file_info *info, smb_error *err)
{
    return write_file(t, path, buf, len, bi, rename_to, info, NULL, err);
}

int smb_write_file_ex(smb_tree *t, const char *path, const void *buf, size_t len, const smb_basic_info *bi,
                      const char *rename_to, smb_file_info *info, smb_write_extras *x, smb_error *err)
{
    return write_file(t, path, buf, len, bi, rename_to, info, x, err);
}

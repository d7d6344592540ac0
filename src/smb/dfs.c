/*
 * DFS referrals from a server (MS-DFSC 3.1.4.1) and the rewriting of a DFS
 * path onto a referral's target (MS-DFSC 3.1.4.2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbcopy/ntstatus.h>

#include "error.h"
#include "objects.h"
#include "pdu.h"
#include "pdu_dfs.h"

/* MS-FSCC 2.3 / MS-DFSC 3.1.4.1: sent over IPC$ with FileId all ones (MS-SMB2 2.2.31). */
#define SMB_FSCTL_DFS_GET_REFERRALS 0x00060194u
/* MS-SMB2 2.2.31: the extended request (MS-DFSC 2.2.3), for servers of dialect 3.0.2 and later. */
#define SMB_FSCTL_DFS_GET_REFERRALS_EX 0x000601B0u

/* Answers of a server that has no referral for the path, or no DFS at all. */
#define STATUS_NO_SUCH_DEVICE 0xC000000Eu
#define STATUS_OBJECT_NAME_NOT_FOUND 0xC0000034u
#define STATUS_OBJECT_PATH_NOT_FOUND 0xC000003Au
#define STATUS_FS_DRIVER_REQUIRED 0xC000019Cu
#define STATUS_NOT_FOUND 0xC0000225u
#define STATUS_PATH_NOT_COVERED 0xC0000257u

/* The first answer may take this much (capped by the server's
 * MaxTransactSize); a larger referral is asked for once more with the
 * whole MaxTransactSize, up to DFS_OUT_MAX. */
#define DFS_OUT_FIRST (64u * 1024)
#define DFS_OUT_MAX (16u * 1024 * 1024)

/*
 * One FSCTL_DFS_GET_REFERRALS on the IPC$ tree t with input in, output up
 * to want bytes (fewer when the credits held do not pay for more). Returns
 * 0 once the server answered: its status in *status and, for SUCCESS, the
 * output in *out (malloc'd) and *out_len. smb_fsctl is not used because it
 * hides STATUS_BUFFER_OVERFLOW, which says a larger buffer is needed.
 */
static int dfs_ioctl(smb_tree *t, uint32_t ctl_code, const smb_wr *in, uint32_t want, uint32_t *status, uint8_t **out,
                     size_t *out_len, smb_error *err)
{
    *out = NULL;
    *out_len = 0;
    smb_req *r = smb_tree_req(t, SMB2_IOCTL);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    /* An IOCTL is charged by its output too (MS-SMB2 3.2.4.20). */
    smb2_ioctl_req ir = {
        .ctl_code = ctl_code,
        .fid = SMB2_FILEID_RELATED, /* all ones: no open (MS-SMB2 3.2.4.20.3) */
        .input = in->buf,
        .input_len = in->len,
        .max_output = smb_conn_request_cap(t->sess->conn, want),
        .flags = SMB2_0_IOCTL_IS_FSCTL,
    };
    smb2_ioctl_req_encode(smb_req_body(r), &ir);
    r->expect_len = ir.max_output;
    int rc = smb_req_send(r, err);
    if (rc == 0)
        rc = smb_req_wait(r, err);
    if (rc == 0) {
        *status = r->status;
        smb2_ioctl_rsp ior;
        smb_rd rd = smb_req_rsp_body(r);
        if (r->status != SMB_STATUS_SUCCESS) {
            /* the caller judges the status */
        } else if (smb2_ioctl_rsp_decode(&rd, &ior) != 0 || ior.output.len > ir.max_output) {
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed IOCTL response (FSCTL_DFS_GET_REFERRALS)");
        } else if (!(*out = malloc(ior.output.len ? ior.output.len : 1))) {
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        } else {
            if (ior.output.len)
                memcpy(*out, ior.output.data, ior.output.len);
            *out_len = ior.output.len;
        }
    }
    smb_req_free(r);
    return rc;
}

/* The error for a status other than SUCCESS (and a BUFFER_OVERFLOW that
 * asking again did not cure). */
static int referral_status_error(smb_error *err, uint32_t status, const char *host, const char *path, uint32_t asked)
{
    char name[16];
    switch (status) {
    case STATUS_NOT_FOUND:
    case STATUS_OBJECT_NAME_NOT_FOUND:
    case STATUS_OBJECT_PATH_NOT_FOUND:
    case STATUS_NO_SUCH_DEVICE:
    case STATUS_PATH_NOT_COVERED:
        return smb_err_set(err, SMB_ERR_NOT_FOUND, status, "//%s: no DFS referral for %s (%s)", host, path,
                           smb_ntstatus_name(status, name));
    case STATUS_FS_DRIVER_REQUIRED:
    case SMB_STATUS_NOT_SUPPORTED:
    case SMB_STATUS_NOT_IMPLEMENTED:
    case SMB_STATUS_INVALID_DEVICE_REQUEST:
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, status, "//%s: the server has no DFS, no referral for %s (%s)",
                           host, path, smb_ntstatus_name(status, name));
    case SMB_STATUS_BUFFER_OVERFLOW:
        return smb_err_set(err, SMB_ERR_PROTOCOL, status,
                           "//%s: the DFS referral for %s is larger than %u bytes, the most one answer may hold", host,
                           path, asked);
    default: {
        char what[400];
        snprintf(what, sizeof what, "//%s: DFS referral for %s", host, path);
        return smb_err_status(err, status, what);
    }
    }
}

/*
 * One referral request for path over the IPC$ tree t: the extended one
 * (ex) or the plain one; 0 once the server answered, its status in *status
 * and a successful answer in *buf and *len (malloc'd); *asked, the size
 * asked for last.
 */
static int request(smb_tree *t, bool ex, const char *path, uint32_t *status, uint8_t **buf, size_t *len,
                   uint32_t *asked, smb_error *err)
{
    smb_conn *c = t->sess->conn;
    smb_wr in;
    smb_wr_init_grow(&in, 2 * strlen(path) + 16);
    int rc = ex ? smb_dfs_referral_req_ex_encode(&in, path) : smb_dfs_referral_req_encode(&in, path);
    if (rc != 0 || !smb_wr_ok(&in)) {
        smb_wr_free(&in);
        return rc != 0 ? smb_err_set(err, rc, 0, "DFS path '%s' is not valid UTF-8", path)
                       : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    uint32_t most = c->neg.max_transact < DFS_OUT_MAX ? c->neg.max_transact : DFS_OUT_MAX;
    uint32_t want = most < DFS_OUT_FIRST ? most : DFS_OUT_FIRST;
    *buf = NULL;
    for (int attempt = 0;; attempt++) {
        free(*buf); /* an answer of the first attempt, when there is one: the second replaces it */
        *buf = NULL;
        rc = dfs_ioctl(t, ex ? SMB_FSCTL_DFS_GET_REFERRALS_EX : SMB_FSCTL_DFS_GET_REFERRALS, &in, want, status, buf,
                       len, err);
        /* Too small a buffer: once more with all the server allows. */
        if (rc != 0 || *status != SMB_STATUS_BUFFER_OVERFLOW || attempt == 1 || want >= most)
            break;
        want = most;
    }
    *asked = want;
    smb_wr_free(&in);
    return rc;
}

/*
 * Statuses of a server that does not take the extended request: the plain
 * one is sent instead. Samba 4.17 answers STATUS_FS_DRIVER_REQUIRED to it
 * while it answers the plain request, and as an AD DC STATUS_ACCESS_DENIED
 * (a plain request refused so is then reported as such).
 */
static bool ex_refused(uint32_t status)
{
    return status == SMB_STATUS_INVALID_DEVICE_REQUEST || status == SMB_STATUS_NOT_SUPPORTED ||
           status == SMB_STATUS_NOT_IMPLEMENTED || status == SMB_STATUS_INVALID_PARAMETER ||
           status == STATUS_FS_DRIVER_REQUIRED || status == SMB_STATUS_ACCESS_DENIED;
}

/*
 * The referral for path, asked over the IPC$ tree t, decoded into *out.
 * A server of dialect 3.0.2 or later is asked with the extended request
 * first (MS-DFSC 3.1.4.2: the server's extended referral capability), and
 * with the plain one when it refuses that.
 */
static int ask_referral(smb_tree *t, const char *path, smb_dfs_referral **out, smb_error *err)
{
    smb_conn *c = t->sess->conn;
    uint32_t status = 0, asked = 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    bool ex = c->neg.dialect >= SMB_DIALECT_3_0_2 && !__atomic_load_n(&c->dfs_ex_refused, __ATOMIC_RELAXED);
    int rc = request(t, ex, path, &status, &buf, &len, &asked, err);
    if (rc == 0 && ex && ex_refused(status)) {
        __atomic_store_n(&c->dfs_ex_refused, true, __ATOMIC_RELAXED);
        free(buf);
        buf = NULL;
        rc = request(t, false, path, &status, &buf, &len, &asked, err);
    }
    if (rc == 0 && status != SMB_STATUS_SUCCESS)
        rc = referral_status_error(err, status, c->host, path, asked);
    if (rc == 0) {
        rc = smb_dfs_referral_decode(buf, len, path, out);
        if (rc == SMB_ERR_NO_MEMORY)
            smb_err_set(err, rc, 0, "out of memory");
        else if (rc != 0)
            smb_err_set(err, rc, 0, "//%s: malformed DFS referral for %s (%zu bytes, MS-DFSC 2.2.4)", c->host, path,
                        len);
    }
    free(buf);
    return rc;
}

int smb_dfs_get_referral(smb_session *sess, const char *dfs_path, smb_dfs_referral **out, smb_error *err)
{
    if (out)
        *out = NULL;
    if (!sess || !dfs_path || !out)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "smb_dfs_get_referral: no session, path or result");
    char *path = smb_dfs_path_normalize(dfs_path);
    if (!path)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb_error local;
    if (!err)
        err = &local;
    int rc = 0;
    smb_tree *ipc = smb_tree_connect(sess, "IPC$", err);
    if (!ipc) {
        rc = err->code;
    } else {
        rc = ask_referral(ipc, path, out, err);
        /* The tree is freed whatever the server says; the referral is what counts. */
        smb_error derr;
        (void)smb_tree_disconnect(ipc, &derr);
    }
    free(path);
    return rc;
}

/* ------------------------------------------------------------ rewrite */

/* *dst = s[0..n) as a new string. */
static bool dup_n(char **dst, const char *s, size_t n)
{
    *dst = strndup(s, n);
    return *dst != NULL;
}

char *smb_dfs_path_join(const char *server, const char *share, const char *rest)
{
    size_t n = strlen(server) + strlen(share) + strlen(rest) + 4;
    char *p = malloc(n);
    if (!p)
        return NULL;
    snprintf(p, n, "\\%s\\%s%s%s", server, share, *rest ? "\\" : "", rest);
    for (char *q = p; *q; q++)
        if (*q == '/')
            *q = '\\';
    return p;
}

int smb_dfs_rewrite(const smb_dfs_referral *r, size_t target, const char *dfs_path, char **server, char **share,
                    char **rest, smb_error *err)
{
    *server = *share = *rest = NULL;
    if (!r || !dfs_path || r->name_list || target >= r->ntargets)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "DFS rewrite: no such target in the referral");
    char *path = smb_dfs_path_normalize(dfs_path);
    if (!path)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    long plen = smb_dfs_prefix_covers(r->prefix, path);
    if (plen < 0) {
        int rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "DFS rewrite: the referral for %s does not cover %s",
                             r->prefix, path);
        free(path);
        return rc;
    }
    const smb_dfs_target *t = &r->targets[target];
    /* What follows the prefix ("" or "\\x\\y") goes after the target's own path. */
    const char *tail = path + plen;
    if (*tail == '\\')
        tail++;
    size_t tpath = strlen(t->path);
    size_t ttail = strlen(tail);
    bool ok = dup_n(server, t->server, strlen(t->server)) && dup_n(share, t->share, strlen(t->share)) &&
              (*rest = malloc(tpath + ttail + 2)) != NULL;
    if (ok) {
        memcpy(*rest, t->path, tpath);
        size_t o = tpath;
        if (tpath && ttail)
            (*rest)[o++] = '\\';
        memcpy(*rest + o, tail, ttail);
        (*rest)[o + ttail] = '\0';
    }
    free(path);
    if (!ok) {
        free(*server);
        free(*share);
        free(*rest);
        *server = *share = *rest = NULL;
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    return 0;
}

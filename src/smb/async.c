/*
 * Asynchronous READ, WRITE, CREATE, CLOSE and QUERY_DIRECTORY
 * (include/smbcopy/async.h): one request each, sent with a completion
 * callback that decodes the answer and calls the caller's.
 */
#include <stdlib.h>
#include <string.h>

#include <smbcopy/async.h>
#include <smbcopy/ntstatus.h>

#include "error.h"
#include "objects.h"
#include "open.h"
#include "utf16.h"

enum async_kind { A_READ, A_WRITE, A_CREATE, A_CLOSE, A_DIR };

typedef struct async_op {
    enum async_kind kind;
    void *arg;
    union {
        smb_io_done_fn io;
        smb_create_done_fn create;
        smb_close_done_fn close;
        smb_dir_done_fn dir;
    } cb;
    smb_tree *tree;  /* CREATE: where the open is registered */
    smb_open *op;    /* CLOSE: freed once answered */
    size_t len;      /* WRITE: bytes sent */
    bool first;      /* QUERY_DIRECTORY: a restarted scan */
} async_op;

/* The request's outcome as an error (0: a response with a success status, or one listed as fine by the caller). */
static int outcome(smb_req *r, const char *what, smb_error *err)
{
    if (r->err) {
        *err = r->err_detail;
        return r->err;
    }
    if (r->status != SMB_STATUS_SUCCESS)
        return smb_req_status_error(r, what, err);
    return 0;
}

static void done_io(async_op *a, smb_req *r)
{
    smb_error err = {0};
    size_t n = 0;
    int rc;
    if (a->kind == A_READ && !r->err && r->status == SMB_STATUS_END_OF_FILE) {
        rc = 0;
    } else if ((rc = outcome(r, a->kind == A_READ ? "read" : "write", &err)) == 0) {
        if (a->kind == A_READ) {
            n = r->read_len;
        } else {
            uint32_t count = 0;
            smb_rd rd = smb_req_rsp_body(r);
            if (smb2_write_rsp_decode(&rd, &count) != 0 || count > a->len)
                rc = smb_err_set(&err, SMB_ERR_PROTOCOL, 0, "malformed WRITE response");
            n = rc ? 0 : count;
        }
    }
    a->cb.io(rc, n, &err, a->arg);
}

static void done_create(async_op *a, smb_req *r)
{
    smb_error err = {0};
    smb2_create_rsp rsp;
    smb_open *op = NULL;
    smb_file_info info;
    memset(&info, 0, sizeof info);
    int rc = outcome(r, "open", &err);
    if (rc == 0) {
        smb_rd rd = smb_req_rsp_body(r);
        if (smb2_create_rsp_decode(&rd, &rsp) != 0) {
            rc = smb_err_set(&err, SMB_ERR_PROTOCOL, 0, "malformed CREATE response");
        } else if (!(op = smb_open_register(a->tree, rsp.fid, (rsp.times.attributes & SMB_ATTR_DIRECTORY) != 0))) {
            rc = smb_err_set(&err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            /* The handle stays open on the server until the tree's end: no
             * synchronous close may be made from here. */
        } else {
            op->oplock_level = rsp.oplock;
            smb_file_info_from_times(&info, &rsp.times);
        }
    }
    a->cb.create(op, rc ? NULL : &info, &err, a->arg);
}

static void done_close(async_op *a, smb_req *r)
{
    smb_error err = {0};
    int rc = outcome(r, "close", &err);
    smb_open_free(a->op); /* already off its tree's list */
    a->cb.close(rc, &err, a->arg);
}

static bool is_dot(const smb2_blob *n)
{
    const uint8_t *p = n->data;
    return (n->len == 2 && p[0] == '.' && p[1] == 0) || (n->len == 4 && p[0] == '.' && p[1] == 0 && p[2] == '.' && p[3] == 0);
}

/* The entries of one QUERY_DIRECTORY answer, decoded for the callback. */
static void done_dir(async_op *a, smb_req *r)
{
    smb_error err = {0};
    if (!r->err && (r->status == SMB_STATUS_NO_MORE_FILES || (a->first && r->status == SMB_STATUS_NO_SUCH_FILE))) {
        a->cb.dir(0, NULL, 0, true, &err, a->arg); /* the end (3.3.5.18: nothing matched, first query) */
        return;
    }
    int rc = outcome(r, "list directory", &err);
    smb2_blob out = {0};
    smb_rd rd = smb_req_rsp_body(r);
    if (rc == 0 && smb2_query_dir_rsp_decode(&rd, &out) != 0)
        rc = smb_err_set(&err, SMB_ERR_PROTOCOL, 0, "malformed QUERY_DIRECTORY response");
    smb_dirent *ents = NULL;
    char **names = NULL;
    size_t n = 0, cap = 0;
    size_t pos = 0;
    smb2_dirent de;
    int more;
    while (rc == 0 && out.len && (more = smb2_dirent_next(out.data, out.len, &pos, &de)) != 0) {
        if (more < 0) {
            rc = smb_err_set(&err, SMB_ERR_PROTOCOL, 0, "malformed directory listing from the server");
            break;
        }
        if (is_dot(&de.name_utf16))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            smb_dirent *e2 = realloc(ents, ncap * sizeof *ents);
            char **n2 = e2 ? realloc(names, ncap * sizeof *names) : NULL;
            if (e2)
                ents = e2;
            if (!n2) {
                rc = smb_err_set(&err, SMB_ERR_NO_MEMORY, 0, "out of memory");
                break;
            }
            names = n2;
            cap = ncap;
        }
        names[n] = smb_utf16le_to_utf8(de.name_utf16.data, de.name_utf16.len);
        if (!names[n] || !*names[n]) {
            free(names[n]);
            rc = smb_err_set(&err, SMB_ERR_BAD_NAME, 0, "server sent a directory entry with an empty or undecodable name");
            break;
        }
        memset(&ents[n], 0, sizeof ents[n]);
        ents[n].name = names[n];
        smb_file_info_from_times(&ents[n].info, &de.times);
        ents[n].info.file_id = de.file_id;
        n++;
    }
    if (rc == 0)
        a->cb.dir(0, ents, n, out.len == 0, &err, a->arg);
    else
        a->cb.dir(rc, NULL, 0, true, &err, a->arg);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(ents);
}

static void on_answer(smb_req *r, void *arg)
{
    async_op *a = arg;
    switch (a->kind) {
    case A_READ:
    case A_WRITE:
        done_io(a, r);
        break;
    case A_CREATE:
        done_create(a, r);
        break;
    case A_CLOSE:
        done_close(a, r);
        break;
    case A_DIR:
        done_dir(a, r);
        break;
    }
    free(a);
}

/*
 * Send r with a's callback. The answer may come (or the connection fail)
 * while the request is still being sent: whoever finishes last frees r. A
 * request that never left is freed here and its callback never runs.
 */
static int send_async(smb_req *r, async_op *a, smb_error *err)
{
    r->cb = on_answer;
    r->cb_arg = a;
    int rc = smb_req_send(r, err);
    smb_conn *c = r->conn;
    pthread_mutex_lock(&c->lock);
    bool answered = r->cb_done;
    bool never_sent = r->state == REQ_NEW;
    if (!answered && !never_sent)
        r->detached = true;
    pthread_mutex_unlock(&c->lock);
    if (answered || never_sent)
        smb_req_free(r);
    if (never_sent && !answered) {
        free(a);
        return rc ? rc : smb_err_set(err, SMB_ERR_INTERNAL, 0, "request not sent");
    }
    return 0;
}

static async_op *new_op(enum async_kind kind, void *arg, smb_error *err)
{
    async_op *a = calloc(1, sizeof *a);
    if (!a)
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    else {
        a->kind = kind;
        a->arg = arg;
    }
    return a;
}

static int io_async(smb_open *op, bool is_read, void *buf, size_t len, uint64_t offset, smb_io_done_fn cb, void *arg,
                    smb_error *err)
{
    if (!op || !cb || (!buf && len))
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad asynchronous %s arguments", is_read ? "read" : "write");
    SMB_OPEN_CHECK(op);
    uint32_t max = is_read ? smb_open_max_read(op) : smb_open_max_write(op);
    if (len > max)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "%zu bytes is more than one %s carries (%u)", len,
                           is_read ? "READ" : "WRITE", max);
    async_op *a = new_op(is_read ? A_READ : A_WRITE, arg, err);
    smb_req *r = a ? smb_tree_req(op->tree, is_read ? SMB2_READ : SMB2_WRITE) : NULL;
    if (!r) {
        free(a);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    a->cb.io = cb;
    a->len = len;
    if (is_read) {
        smb2_read_req rr = {.length = (uint32_t)len, .offset = offset, .fid = op->fid};
        smb2_read_req_encode(smb_req_body(r), &rr);
        r->read_buf = buf;
        r->read_cap = len;
        r->expect_len = (uint32_t)len;
    } else {
        smb2_write_req wr = {.length = (uint32_t)len, .offset = offset, .fid = op->fid};
        smb2_write_req_encode(smb_req_body(r), &wr);
        r->payload = buf;
        r->payload_len = len;
        r->charge_bytes = len;
    }
    return send_async(r, a, err);
}

int smb_read_async(smb_open *op, void *buf, size_t len, uint64_t offset, smb_io_done_fn cb, void *arg, smb_error *err)
{
    return io_async(op, true, buf, len, offset, cb, arg, err);
}

int smb_write_async(smb_open *op, const void *buf, size_t len, uint64_t offset, smb_io_done_fn cb, void *arg,
                    smb_error *err)
{
    return io_async(op, false, (void *)buf, len, offset, cb, arg, err);
}

int smb_create_async(smb_tree *tree, const char *path, const smb_create_params *params, smb_create_done_fn cb,
                     void *arg, smb_error *err)
{
    smb_create_params defaults;
    if (!params) {
        smb_create_params_init(&defaults);
        params = &defaults;
    }
    if (!tree || !cb || params->ncontexts > 16)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad asynchronous create arguments");
    size_t wlen;
    uint8_t *wname = smb_path_utf16(path, &wlen, err);
    if (!wname)
        return err ? err->code : SMB_ERR_BAD_NAME;
    smb2_create_ctx ctx[16];
    smb2_create_req cr;
    smb_create_req_from_params(&cr, params, ctx, wname, wlen);
    async_op *a = new_op(A_CREATE, arg, err);
    smb_req *r = a ? smb_tree_req(tree, SMB2_CREATE) : NULL;
    if (r)
        smb2_create_req_encode(smb_req_body(r), &cr);
    free(wname);
    if (!r) {
        free(a);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    a->cb.create = cb;
    a->tree = tree;
    return send_async(r, a, err);
}

int smb_close_async(smb_open *op, smb_close_done_fn cb, void *arg, smb_error *err)
{
    if (!op || !cb)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad asynchronous close arguments");
    SMB_OPEN_CHECK(op);
    async_op *a = new_op(A_CLOSE, arg, err);
    smb_req *r = a ? smb_tree_req(op->tree, SMB2_CLOSE) : NULL;
    if (!r) {
        free(a);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    smb2_close_req_encode(smb_req_body(r), 0, op->fid);
    a->cb.close = cb;
    a->op = op;
    /* Off the tree now: the open is this request's, freed with its answer
     * (or here, when the request could not be sent). */
    smb_open_unregister(op);
    int rc = send_async(r, a, err);
    if (rc != 0)
        smb_open_free(op);
    return rc;
}

int smb_query_directory_async(smb_open *dir, const char *pattern, bool restart, smb_dir_done_fn cb, void *arg,
                              smb_error *err)
{
    if (!dir || !cb)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad asynchronous directory query arguments");
    SMB_OPEN_CHECK(dir);
    size_t plen = 0;
    uint8_t *pat = smb_utf8_to_utf16le(pattern ? pattern : "*", strlen(pattern ? pattern : "*"), &plen);
    if (!pat)
        return smb_err_set(err, SMB_ERR_BAD_NAME, 0, "pattern is not valid UTF-8");
    smb_conn *c = dir->tree->sess->conn;
    uint32_t batch = smb_conn_request_cap(c, c->neg.max_transact < 65536 ? c->neg.max_transact : 65536);
    async_op *a = new_op(A_DIR, arg, err);
    smb_req *r = a ? smb_tree_req(dir->tree, SMB2_QUERY_DIRECTORY) : NULL;
    if (r) {
        smb2_query_dir_req q = {
            .info_class = SMB2_FILE_ID_FULL_DIRECTORY_INFORMATION,
            .flags = restart ? SMB2_RESTART_SCANS : 0,
            .fid = dir->fid,
            .pattern_utf16 = pat,
            .pattern_len = plen,
            .output_buffer_length = batch,
        };
        smb2_query_dir_req_encode(smb_req_body(r), &q);
        r->expect_len = batch;
    }
    free(pat);
    if (!r) {
        free(a);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    a->cb.dir = cb;
    a->first = restart;
    return send_async(r, a, err);
}

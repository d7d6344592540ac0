/*
 * Opens: CREATE and CLOSE (MS-SMB2 3.2.4.3, 3.2.4.5), FLUSH, QUERY_INFO,
 * SET_INFO and IOCTL on a handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include <smbcopy/ntstatus.h>
#include "objects.h"
#include "open.h"
#include "utf16.h"

void smb_file_info_from_times(smb_file_info *info, const smb2_file_times *t)
{
    info->creation_time = t->creation_time;
    info->last_access_time = t->last_access_time;
    info->last_write_time = t->last_write_time;
    info->change_time = t->change_time;
    info->allocation_size = t->allocation_size;
    info->end_of_file = t->end_of_file;
    info->attributes = t->attributes;
}

uint8_t *smb_path_utf16(const char *path, size_t *len, smb_error *err)
{
    char *wire = smb_path_to_wire(path ? path : "");
    if (!wire) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    uint8_t *w = NULL;
    if (!*wire) {
        w = malloc(1);
        *len = 0;
    } else {
        w = smb_utf8_to_utf16le(wire, strlen(wire), len);
        if (!w)
            smb_err_set(err, SMB_ERR_BAD_NAME, 0, "path '%s' is not valid UTF-8", path);
    }
    free(wire);
    return w;
}

void smb_create_req_from_params(smb2_create_req *cr, const smb_create_params *p, smb2_create_ctx *ctx,
                                const uint8_t *name, size_t name_len)
{
    memset(cr, 0, sizeof *cr);
    cr->oplock = p->oplock;
    cr->impersonation = p->impersonation;
    cr->desired_access = p->desired_access;
    cr->file_attributes = p->file_attributes;
    cr->share_access = p->share_access;
    cr->disposition = p->disposition;
    cr->options = p->options;
    cr->name_utf16 = name;
    cr->name_len = name_len;
    for (size_t i = 0; i < p->ncontexts; i++)
        ctx[i] = (smb2_create_ctx){p->contexts[i].name, p->contexts[i].data, p->contexts[i].len};
    cr->contexts = ctx;
    cr->ncontexts = (int)p->ncontexts;
}

smb_open *smb_open_register(smb_tree *t, smb2_fileid fid, bool is_dir)
{
    smb_open *op = calloc(1, sizeof *op);
    if (op)
        op->magic = SMB_OPEN_LIVE;
    if (!op)
        return NULL;
    op->tree = t;
    op->fid = fid;
    op->is_dir = is_dir;
    pthread_mutex_lock(&t->lock);
    op->next = t->opens;
    t->opens = op;
    pthread_mutex_unlock(&t->lock);
    return op;
}

void smb_open_unregister(smb_open *op)
{
    smb_tree *t = op->tree;
    pthread_mutex_lock(&t->lock);
    for (smb_open **pp = &t->opens; *pp; pp = &(*pp)->next) {
        if (*pp == op) {
            *pp = op->next;
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
}

void smb_open_move(smb_open *op, smb_tree *t)
{
    smb_open_unregister(op);
    op->tree = t;
    pthread_mutex_lock(&t->lock);
    op->next = t->opens;
    t->opens = op;
    pthread_mutex_unlock(&t->lock);
}

smb_open *smb_create(smb_tree *t, const char *path, const smb_create_params *params, smb_file_info *info,
                     uint32_t *create_action, smb_error *err)
{
    smb_create_reply reply;
    smb_open *op = smb_create_ex(t, path, params, info, &reply, err);
    if (op && create_action)
        *create_action = reply.create_action;
    return op;
}

/* Send CLOSE for op's handle (no freeing). */
static int close_handle(smb_open *op, smb_file_info *info, smb_error *err)
{
    smb_req *r = smb_tree_req(op->tree, SMB2_CLOSE);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_close_req_encode(smb_req_body(r), info ? SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB : 0, op->fid);
    int rc = smb_req_run(r, "close", err);
    if (rc == 0 && info) {
        smb2_close_rsp cr;
        smb_rd rd = smb_req_rsp_body(r);
        if (smb2_close_rsp_decode(&rd, &cr) != 0)
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed CLOSE response");
        else {
            memset(info, 0, sizeof *info);
            smb_file_info_from_times(info, &cr.times);
        }
    }
    smb_req_free(r);
    return rc;
}

#ifndef NDEBUG
void smb_open_check(const smb_open *op, const char *fn)
{
    if (op && op->magic != SMB_OPEN_LIVE) {
        fprintf(stderr,
                "%s: the smb_open was already closed (by smb_close, or when its tree, session or connection was "
                "closed): a use after close\n",
                fn);
        abort();
    }
}
#endif

uint8_t smb_open_oplock_level(const smb_open *op)
{
    SMB_OPEN_CHECK(op);
    return __atomic_load_n(&op->oplock_level, __ATOMIC_RELAXED);
}

void smb_open_free(smb_open *op)
{
    if (op->durable)
        free(op->durable->name);
    free(op->durable);
    op->magic = SMB_OPEN_CLOSED;
    free(op);
}

int smb_close(smb_open *op, smb_file_info *info, smb_error *err)
{
    if (!op)
        return 0;
    SMB_OPEN_CHECK(op);
    smb_conn *c = op->tree->sess->conn;
    pthread_mutex_lock(&c->lock);
    bool alive = !c->dead;
    pthread_mutex_unlock(&c->lock);
    int rc = alive ? close_handle(op, info, err) : 0;
    smb_open_unregister(op);
    smb_open_free(op);
    return rc;
}

void smb_tree_close_opens(smb_tree *t, bool send)
{
    for (;;) {
        pthread_mutex_lock(&t->lock);
        smb_open *op = t->opens;
        pthread_mutex_unlock(&t->lock);
        if (!op)
            break;
        if (send)
            close_handle(op, NULL, NULL);
        smb_open_unregister(op);
        smb_open_free(op);
    }
}

/* The server's limit, capped by the credits the connection holds (a server granting few takes smaller requests). */
uint32_t smb_open_max_read(const smb_open *op)
{
    smb_conn *c = op->tree->sess->conn;
    return smb_conn_request_cap(c, c->neg.max_read);
}

uint32_t smb_open_max_write(const smb_open *op)
{
    smb_conn *c = op->tree->sess->conn;
    return smb_conn_request_cap(c, c->neg.max_write);
}

int smb_flush(smb_open *op, smb_error *err)
{
    SMB_OPEN_CHECK(op);
    smb_req *r = smb_tree_req(op->tree, SMB2_FLUSH);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_flush_req_encode(smb_req_body(r), op->fid);
    int rc = smb_req_run(r, "flush", err);
    smb_req_free(r);
    return rc;
}

int smb_query_info(smb_open *op, uint8_t info_type, uint8_t info_class, uint32_t additional, void *out,
                   size_t cap, size_t *out_len, smb_error *err)
{
    SMB_OPEN_CHECK(op);
    smb_req *r = smb_tree_req(op->tree, SMB2_QUERY_INFO);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    /* Charged by the output's size: no more than the credits held pay for. */
    smb_conn *c = op->tree->sess->conn;
    uint32_t maxout = smb_conn_request_cap(c, c->neg.max_transact);
    smb2_query_info_req q = {
        .info_type = info_type,
        .info_class = info_class,
        .output_buffer_length = cap < maxout ? (uint32_t)cap : maxout,
        .additional_info = additional,
        .fid = op->fid,
    };
    smb2_query_info_req_encode(smb_req_body(r), &q);
    r->expect_len = q.output_buffer_length;
    int rc = smb_req_run(r, "query info", err);
    if (rc == 0) {
        smb2_blob b;
        smb_rd rd = smb_req_rsp_body(r);
        if (smb2_query_info_rsp_decode(&rd, &b) != 0 || b.len > cap) {
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed QUERY_INFO response");
        } else {
            memcpy(out, b.data, b.len);
            if (out_len)
                *out_len = b.len;
        }
    }
    smb_req_free(r);
    return rc;
}

int smb_set_info(smb_open *op, uint8_t info_type, uint8_t info_class, uint32_t additional, const void *data,
                 size_t len, smb_error *err)
{
    SMB_OPEN_CHECK(op);
    smb_req *r = smb_tree_req(op->tree, SMB2_SET_INFO);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_set_info_req s = {
        .info_type = info_type,
        .info_class = info_class,
        .additional_info = additional,
        .fid = op->fid,
        .buffer = data,
        .buffer_len = len,
    };
    smb2_set_info_req_encode(smb_req_body(r), &s);
    int rc = smb_req_run(r, "set info", err);
    smb_req_free(r);
    return rc;
}

int smb_query_file_info(smb_open *op, smb_file_info *info, smb_error *err)
{
    SMB_OPEN_CHECK(op);
    uint8_t buf[64];
    size_t len = 0;
    smb2_file_times t;
    int rc = smb_query_info(op, SMB_INFO_FILE, SMB_FILE_NETWORK_OPEN_INFORMATION, 0, buf, sizeof buf, &len, err);
    if (rc == 0 && smb2_network_open_info_decode(buf, len, &t) != 0)
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed FileNetworkOpenInformation");
    if (rc != 0)
        return rc;
    memset(info, 0, sizeof *info);
    smb_file_info_from_times(info, &t);
    rc = smb_query_info(op, SMB_INFO_FILE, SMB_FILE_INTERNAL_INFORMATION, 0, buf, sizeof buf, &len, err);
    if (rc == 0 && smb2_internal_info_decode(buf, len, &info->file_id) != 0)
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed FileInternalInformation");
    return rc;
}

int smb_set_basic_info(smb_open *op, const smb_basic_info *bi, smb_error *err)
{
    uint8_t buf[40];
    smb_wr w;
    smb_wr_init(&w, buf, sizeof buf);
    smb2_basic_info_encode(&w, bi->creation_time, bi->last_access_time, bi->last_write_time, bi->change_time,
                           bi->attributes);
    return smb_set_info(op, SMB_INFO_FILE, SMB_FILE_BASIC_INFORMATION, 0, buf, w.len, err);
}

int smb_set_end_of_file(smb_open *op, uint64_t size, smb_error *err)
{
    uint8_t buf[8];
    smb_wr w;
    smb_wr_init(&w, buf, sizeof buf);
    smb2_eof_info_encode(&w, size);
    return smb_set_info(op, SMB_INFO_FILE, SMB_FILE_END_OF_FILE_INFORMATION, 0, buf, w.len, err);
}

int smb_set_delete_on_close(smb_open *op, bool del, smb_error *err)
{
    uint8_t buf[1];
    smb_wr w;
    smb_wr_init(&w, buf, sizeof buf);
    smb2_disposition_info_encode(&w, del);
    return smb_set_info(op, SMB_INFO_FILE, SMB_FILE_DISPOSITION_INFORMATION, 0, buf, w.len, err);
}

int smb_set_rename(smb_open *op, const char *new_path, bool replace, smb_error *err)
{
    size_t wlen;
    uint8_t *wname = smb_path_utf16(new_path, &wlen, err);
    if (!wname)
        return err ? err->code : SMB_ERR_BAD_NAME;
    smb_wr w;
    smb_wr_init_grow(&w, 32 + wlen);
    smb2_rename_info_encode(&w, replace, wname, wlen);
    free(wname);
    int rc = smb_wr_ok(&w) ? smb_set_info(op, SMB_INFO_FILE, SMB_FILE_RENAME_INFORMATION, 0, w.buf, w.len, err)
                           : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb_wr_free(&w);
    return rc;
}

int smb_fsctl(smb_tree *t, smb_open *op, uint32_t ctl_code, const void *in, size_t in_len, void *out, size_t cap,
              size_t *out_len, smb_error *err)
{
    SMB_OPEN_CHECK(op);
    if (!t && op)
        t = op->tree;
    if (!t)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "fsctl needs a tree or an open");
    smb_req *r = smb_tree_req(t, SMB2_IOCTL);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    /* An IOCTL is charged by its output too (MS-SMB2 3.2.4.20): no more than the credits held pay for. */
    uint32_t maxout = smb_conn_request_cap(t->sess->conn, t->sess->conn->neg.max_transact);
    smb2_ioctl_req ir = {
        .ctl_code = ctl_code,
        .fid = op ? op->fid : SMB2_FILEID_RELATED,
        .input = in,
        .input_len = in_len,
        .max_output = cap < maxout ? (uint32_t)cap : maxout,
        .flags = SMB2_0_IOCTL_IS_FSCTL,
    };
    smb2_ioctl_req_encode(smb_req_body(r), &ir);
    r->expect_len = ir.max_output;
    int rc = smb_req_send(r, err);
    if (rc == 0)
        rc = smb_req_wait(r, err);
    if (rc == 0 && r->status != SMB_STATUS_SUCCESS && r->status != SMB_STATUS_BUFFER_OVERFLOW)
        rc = smb_req_status_error(r, "fsctl", err);
    if (rc == 0) {
        smb2_ioctl_rsp ior;
        smb_rd rd = smb_req_rsp_body(r);
        if (smb2_ioctl_rsp_decode(&rd, &ior) != 0 || ior.output.len > cap) {
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed IOCTL response");
        } else {
            if (ior.output.len)
                memcpy(out, ior.output.data, ior.output.len);
            if (out_len)
                *out_len = ior.output.len;
        }
    }
    smb_req_free(r);
    return rc;
}

/* One query's output: 4096 ranges (MS-FSCC 2.3.52: 16 bytes each). */
#define ALLOC_RANGES_OUT ((size_t)4096 * 16)

int smb_query_allocated_ranges(smb_open *op, uint64_t size, size_t max, smb_range **out, size_t *n, smb_error *err)
{
    *out = NULL;
    *n = 0;
    if (size == 0 || max == 0)
        return max == 0 && size ? smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no room for ranges") : 0;
    uint8_t *buf = malloc(ALLOC_RANGES_OUT);
    smb_range *ranges = calloc(max, sizeof *ranges);
    if (!buf || !ranges) {
        free(buf);
        free(ranges);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    int rc = 0;
    size_t have = 0;
    uint64_t start = 0;
    while (rc == 0 && start < size && have < max) {
        uint8_t in[16];
        smb_wr w;
        smb_wr_init(&w, in, sizeof in);
        smb2_alloc_range_encode(&w, start, size - start);
        size_t got = 0, added = 0, total = 0;
        rc = smb_fsctl(NULL, op, SMB_FSCTL_QUERY_ALLOCATED_RANGES, in, w.len, buf, ALLOC_RANGES_OUT, &got, err);
        if (rc == 0 && smb2_alloc_ranges_decode(buf, got, start, size, ranges + have, max - have, &added, &total) != 0)
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed allocated ranges (FSCTL_QUERY_ALLOCATED_RANGES)");
        if (rc != 0)
            break;
        have += added;
        /* A full buffer may mean more (SMB_STATUS_BUFFER_OVERFLOW): ask again after the last range. */
        if (got < ALLOC_RANGES_OUT || total == 0)
            break;
        uint64_t next = have ? ranges[have - 1].off + ranges[have - 1].len : size;
        if (next <= start)
            break;
        start = next;
    }
    if (rc == 0 && have == max && ranges[have - 1].off + ranges[have - 1].len < size)
        ranges[have - 1].len = size - ranges[have - 1].off; /* beyond max: data */
    free(buf);
    if (rc != 0 || have == 0) {
        free(ranges);
        return rc;
    }
    *out = ranges;
    *n = have;
    return 0;
}

/*
 * Public compounds (include/smbcopy/compound.h, MS-SMB2 3.2.4.1.4): the
 * operations compound_ops.c built go out as one frame through
 * smb_req_send_compound (credits, signing, encryption, channel), every
 * answer is waited for and decoded through the bounded decoders of pdu.h,
 * and the opens CREATEs made are registered on the tree unless a CLOSE of
 * the same compound closed them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbcopy/ntstatus.h>

#include "compound_internal.h"
#include "error.h"
#include "open.h"

smb_compound *smb_compound_new(smb_tree *tree, bool related, smb_error *err)
{
    if (!tree) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "a compound needs a tree");
        return NULL;
    }
    smb_compound *c = calloc(1, sizeof *c);
    if (!c) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    c->tree = tree;
    c->related = related;
    c->chain_create = -1;
    c->chain_closed_by = -1;
    return c;
}

int smb_compound_count(const smb_compound *c) { return c ? c->n : 0; }

/* A CLOSE answered with success: the open it closed is gone on the server, so here too. */
static void closed(smb_compound *c, smb_compound_op *op)
{
    if (op->closes >= 0 && c->ops[op->closes].open) {
        smb_open *o = c->ops[op->closes].open;
        smb_open_unregister(o);
        smb_open_free(o);
        c->ops[op->closes].open = NULL;
    }
    if (op->handed) {
        smb_open_unregister(op->handed);
        smb_open_free(op->handed);
        op->handed = NULL;
    }
}

/* Decode operation i's answer (its status the server's) into what the getters give. */
static void decode(smb_compound *c, int i)
{
    smb_compound_op *op = &c->ops[i];
    smb_req *r = op->req;
    uint32_t st = r->status;
    bool ok = st == SMB_STATUS_SUCCESS;
    smb_rd rd = smb_req_rsp_body(r);
    switch (op->command) {
    case SMB2_CREATE: {
        smb2_create_rsp cr;
        if (!ok)
            break;
        if (smb2_create_rsp_decode(&rd, &cr) != 0) {
            op->err = smb_err_set(&op->err_detail, SMB_ERR_PROTOCOL, 0, "%s: malformed CREATE response", op->what);
            break;
        }
        smb_open *o = smb_open_register(c->tree, cr.fid, (cr.times.attributes & SMB_ATTR_DIRECTORY) != 0);
        if (!o) {
            smb_close_fid(c->tree, cr.fid); /* open on the server: close it there */
            op->err = smb_err_set(&op->err_detail, SMB_ERR_NO_MEMORY, 0, "%s: out of memory", op->what);
            break;
        }
        __atomic_store_n(&o->oplock_level, cr.oplock, __ATOMIC_RELAXED);
        op->open = o;
        memset(&op->info, 0, sizeof op->info);
        smb_file_info_from_times(&op->info, &cr.times);
        op->has_info = true;
        break;
    }
    case SMB2_READ: {
        smb2_read_rsp rr;
        if (ok && (smb2_read_rsp_data(r->rsp, r->rsp_len, &rr, &op->output) != 0 || op->output.len > op->asked)) {
            op->output = (smb2_blob){0};
            op->err = smb_err_set(&op->err_detail, SMB_ERR_PROTOCOL, 0,
                                  "%s: malformed READ response, or more data than asked", op->what);
        }
        break;
    }
    case SMB2_WRITE:
        if (ok && (smb2_write_rsp_decode(&rd, &op->written) != 0 || op->written > op->asked)) {
            op->written = 0;
            op->err = smb_err_set(&op->err_detail, SMB_ERR_PROTOCOL, 0, "%s: malformed WRITE response", op->what);
        }
        break;
    case SMB2_QUERY_INFO:
        /* STATUS_BUFFER_OVERFLOW carries what fit (MS-SMB2 3.3.5.20.1). */
        if ((ok || st == SMB_STATUS_BUFFER_OVERFLOW) &&
            (smb2_query_info_rsp_decode(&rd, &op->output) != 0 || op->output.len > op->asked)) {
            op->output = (smb2_blob){0};
            op->err = smb_err_set(&op->err_detail, SMB_ERR_PROTOCOL, 0, "%s: malformed QUERY_INFO response", op->what);
        }
        break;
    case SMB2_SET_INFO:
        if (ok && smb2_set_info_rsp_decode(&rd) != 0)
            op->err = smb_err_set(&op->err_detail, SMB_ERR_PROTOCOL, 0, "%s: malformed SET_INFO response", op->what);
        break;
    case SMB2_FLUSH:
        if (ok && smb2_simple_rsp_decode(&rd) != 0)
            op->err = smb_err_set(&op->err_detail, SMB_ERR_PROTOCOL, 0, "%s: malformed FLUSH response", op->what);
        break;
    case SMB2_CLOSE: {
        if (!ok)
            break;
        closed(c, op); /* closed on the server, whatever the body says */
        smb2_close_rsp cl;
        if (smb2_close_rsp_decode(&rd, &cl) != 0) {
            op->err = smb_err_set(&op->err_detail, SMB_ERR_PROTOCOL, 0, "%s: malformed CLOSE response", op->what);
        } else if (cl.flags & SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB) {
            memset(&op->info, 0, sizeof op->info);
            smb_file_info_from_times(&op->info, &cl.times);
            op->has_info = true;
        }
        break;
    }
    default:
        break;
    }
}

/* The caller's opens handed to CLOSEs that did not close them: closed now, as smb_close does. */
static void close_handed(smb_compound *c)
{
    for (int i = 0; i < c->n; i++) {
        if (c->ops[i].handed) {
            (void)smb_close(c->ops[i].handed, NULL, NULL);
            c->ops[i].handed = NULL;
        }
    }
}

int smb_compound_send(smb_compound *c, smb_error *err)
{
    if (!c || c->sent || c->n == 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                           !c ? "no compound" : c->sent ? "the compound was already sent" : "the compound is empty");
    c->sent = true;
    smb_req *rs[SMB_COMPOUND_MAX_OPS];
    for (int i = 0; i < c->n; i++)
        rs[i] = c->ops[i].req;
    smb_error e = {0};
    int rc = smb_req_send_compound(rs, c->n, c->related, &e);
    for (int i = 0; i < c->n; i++) {
        smb_compound_op *op = &c->ops[i];
        if (rc != 0) {
            op->err = rc;
            op->err_detail = e;
            continue;
        }
        smb_error we = {0};
        int w = smb_req_wait(op->req, &we);
        if (w != 0) {
            op->err = w;
            op->err_detail = we;
            continue;
        }
        op->answered = true;
        decode(c, i);
    }
    close_handed(c);
    if (rc != 0 && err)
        *err = e;
    return rc;
}

uint32_t smb_compound_status(const smb_compound *c, int i)
{
    if (!c || i < 0 || i >= c->n || !c->ops[i].answered)
        return SMB_COMPOUND_NO_STATUS;
    return c->ops[i].req->status;
}

int smb_compound_error(const smb_compound *c, int i, smb_error *err)
{
    if (!c || i < 0 || i >= c->n)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no operation %d in the compound", i);
    const smb_compound_op *op = &c->ops[i];
    if (!c->sent)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "operation %d (%s): the compound was not sent", i, op->what);
    if (op->err) {
        if (err)
            *err = op->err_detail;
        return op->err;
    }
    if (op->req->status == SMB_STATUS_SUCCESS)
        return 0;
    char what[700];
    snprintf(what, sizeof what, "%s (operation %d of a compound)", op->what, i);
    int rc = smb_err_status(err, op->req->status, what);
    return rc ? rc : SMB_ERR_SERVER; /* a warning (STATUS_BUFFER_OVERFLOW) is not a success either */
}

smb_open *smb_compound_take_open(smb_compound *c, int i, smb_file_info *info)
{
    if (!c || i < 0 || i >= c->n || !c->ops[i].open)
        return NULL;
    smb_open *o = c->ops[i].open;
    c->ops[i].open = NULL;
    if (info)
        *info = c->ops[i].info;
    return o;
}

int smb_compound_create_reply(const smb_compound *c, int i, smb_create_reply *reply, smb_error *err)
{
    if (!c || i < 0 || i >= c->n || !reply || c->ops[i].command != SMB2_CREATE || !c->ops[i].answered ||
        c->ops[i].err || c->ops[i].req->status != SMB_STATUS_SUCCESS)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "operation %d is not a CREATE that succeeded", i);
    smb2_create_rsp cr;
    smb_rd rd = smb_req_rsp_body(c->ops[i].req);
    memset(reply, 0, sizeof *reply);
    if (smb2_create_rsp_decode(&rd, &cr) != 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s: malformed CREATE response", c->ops[i].what);
    reply->oplock = cr.oplock;
    reply->create_action = cr.create_action;
    if (smb2_create_reply_decode(&cr.contexts, reply) != 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s: malformed create context in the response", c->ops[i].what);
    return 0;
}

const void *smb_compound_output(const smb_compound *c, int i, size_t *len)
{
    if (len)
        *len = 0;
    if (!c || i < 0 || i >= c->n || c->ops[i].err || !c->ops[i].output.data)
        return NULL;
    if (len)
        *len = c->ops[i].output.len;
    return c->ops[i].output.data;
}

uint32_t smb_compound_written(const smb_compound *c, int i)
{
    if (!c || i < 0 || i >= c->n || c->ops[i].command != SMB2_WRITE)
        return 0;
    return c->ops[i].written;
}

int smb_compound_close_info(const smb_compound *c, int i, smb_file_info *info)
{
    if (!c || i < 0 || i >= c->n || !info || c->ops[i].command != SMB2_CLOSE || !c->ops[i].has_info)
        return SMB_ERR_INVALID_ARG;
    *info = c->ops[i].info;
    return 0;
}

void smb_compound_free(smb_compound *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++) {
        smb_compound_op *op = &c->ops[i];
        if (op->open)
            (void)smb_close(op->open, NULL, NULL);
        smb_req_free(op->req);
        free(op->what);
    }
    close_handed(c); /* never sent: the opens handed to CLOSEs */
    free(c);
}

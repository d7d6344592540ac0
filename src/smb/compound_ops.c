/*
 * Adding operations to a public compound (include/smbcopy/compound.h): each
 * request built and encoded at once, addressed to its open or to the
 * related one (FileId 0xFFFFFFFFFFFFFFFF, MS-SMB2 3.2.4.1.4), and refused
 * when the compound would pass what one frame may carry: the operations,
 * the credits the connection holds (3.2.4.1.5), the server's maximum sizes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/random.h"
#include "compound_internal.h"
#include "credits.h"
#include "error.h"
#include "open.h"

/* What an answer takes in the frame besides READ data or QUERY_INFO output (header, fixed part, create contexts). */
#define OP_OVERHEAD 1024u

static smb_conn *conn_of(const smb_compound *c) { return c->tree->sess->conn; }

/* The largest READ or WRITE (limit: the server's) one request carries: 64 KiB without multi-credit (3.2.4.1.5). */
static uint32_t io_limit(const smb_conn *conn, uint32_t limit)
{
    return !conn->neg.multi_credit && limit > SMB_CREDIT_UNIT ? SMB_CREDIT_UNIT : limit;
}

/* A copy of the printf-style text, or NULL. */
static char *what_new(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *what_new(const char *fmt, ...)
{
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

/* Whether another operation fits in c (the count only). */
static int check_room(const smb_compound *c, smb_error *err)
{
    if (!c)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no compound");
    if (c->sent)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "the compound was already sent");
    if (c->n >= SMB_COMPOUND_MAX_OPS)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "a compound holds at most %d operations",
                           SMB_COMPOUND_MAX_OPS);
    return 0;
}

/*
 * The FileId a new operation on op sends (*fid): the related one in a
 * related compound after its first operation (op must then be NULL), op's
 * own otherwise (op must then be a live open of c's tree that no CLOSE of
 * c has taken).
 */
static int target_fid(const smb_compound *c, smb_open *op, smb2_fileid *fid, smb_error *err)
{
    if (c->related && c->n > 0) {
        if (op)
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                               "operation %d of a related compound works on the previous one's open: pass NULL", c->n);
        if (c->chain_create < 0 && !c->chain_open)
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no related open for operation %d", c->n);
        if (c->chain_closed_by >= 0)
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "the related open was closed by operation %d",
                               c->chain_closed_by);
        *fid = SMB2_FILEID_RELATED;
        return 0;
    }
    if (!op)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                           c->related ? "the first operation of a related compound is a CREATE or names its open"
                                      : "an operation of an unrelated compound names its open");
    SMB_OPEN_CHECK(op);
    if (op->tree != c->tree)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "the open is not of the compound's tree");
    for (int j = 0; j < c->n; j++)
        if (c->ops[j].handed == op)
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "the open is closed by operation %d of this compound", j);
    *fid = op->fid;
    return 0;
}

/*
 * Take r (built, what and the sizes known) as c's next operation after
 * the limits of one frame: credits, answers, data. On failure r and what
 * are freed and c is unchanged. Returns the index or an error.
 */
static int add_req(smb_compound *c, smb_req *r, char *what, uint32_t asked, uint64_t out, uint64_t in,
                   smb_error *err)
{
    smb_conn *conn = conn_of(c);
    int rc = 0;
    if (!r || !what || !smb_wr_ok(&r->msg))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory building a request");
    uint16_t charge = 0;
    if (rc == 0) {
        size_t send = r->charge_bytes ? r->charge_bytes : r->msg.len - SMB2_HDR_LEN + r->payload_len;
        charge = smb_credit_charge(conn->neg.multi_credit && smb_credit_sized_command(r->command), send,
                                   r->expect_len);
        pthread_mutex_lock(&conn->lock);
        uint64_t held = (uint64_t)conn->credits + conn->outstanding;
        pthread_mutex_unlock(&conn->lock);
        if ((uint64_t)c->charge + charge > held)
            rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                             "%s: the compound would cost %u credits and the connection holds %llu (a READ, WRITE "
                             "or QUERY_INFO costs one per 64 KiB, MS-SMB2 3.2.4.1.5)",
                             what, c->charge + charge, (unsigned long long)held);
    }
    size_t frame = rc == 0 ? smb_conn_max_frame(conn) : 0;
    if (rc == 0 && c->out_bytes + out + (uint64_t)(c->n + 1) * OP_OVERHEAD > frame)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                         "%s: the compound's answers could come to %llu bytes, more than one frame of this "
                         "connection carries (%zu)",
                         what, (unsigned long long)(c->out_bytes + out + (uint64_t)(c->n + 1) * OP_OVERHEAD), frame);
    if (rc == 0 && c->in_bytes + in > conn->neg.max_write)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                         "%s: the compound's data would come to %llu bytes, more than the server's MaxWriteSize (%u)",
                         what, (unsigned long long)(c->in_bytes + in), conn->neg.max_write);
    if (rc != 0) {
        smb_req_free(r);
        free(what);
        return rc;
    }
    int i = c->n++;
    c->ops[i] = (smb_compound_op){.req = r, .command = r->command, .what = what, .asked = asked, .closes = -1};
    c->charge += charge;
    c->out_bytes += out;
    c->in_bytes += in;
    return i;
}

int smb_compound_add_create(smb_compound *c, const char *path, const smb_create_params *params, smb_error *err)
{
    int rc = check_room(c, err);
    if (rc != 0)
        return rc;
    smb_create_params p;
    if (params)
        p = *params;
    else
        smb_create_params_init(&p);
    if (p.durable != SMB_DURABLE_NONE)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                           "a durable handle is not asked for in a compound (smb_create_ex)");
    if (p.ncontexts > 16 || (p.ncontexts && !p.contexts))
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad create contexts (at most 16)");
    bool zero_key = true;
    for (int i = 0; i < 16; i++)
        zero_key = zero_key && p.lease_key[i] == 0;
    if (p.lease_state && zero_key && smb_random(p.lease_key, 16) != 0)
        return smb_err_set(err, SMB_ERR_INTERNAL, 0, "no random bytes for a lease key");
    static const uint8_t no_guid[16];
    smb_typed_ctx tc;
    rc = smb_typed_ctx_build(&tc, c->tree, &p, no_guid, err);
    if (rc != 0)
        return rc;
    size_t wlen;
    uint8_t *wname = smb_path_utf16(path, &wlen, err);
    if (!wname)
        return err && err->code ? err->code : SMB_ERR_BAD_NAME;
    smb2_create_ctx ctx[16 + 4];
    smb2_create_req cr;
    smb_create_req_from_params(&cr, &p, ctx, wname, wlen);
    for (int i = 0; i < tc.n; i++)
        ctx[cr.ncontexts++] = tc.ctx[i];
    if (p.lease_state)
        cr.oplock = SMB_OPLOCK_LEVEL_LEASE; /* RequestedOplockLevel for a lease (MS-SMB2 2.2.13) */
    smb_req *r = smb_tree_req(c->tree, SMB2_CREATE);
    if (r)
        smb2_create_req_encode(smb_req_body(r), &cr);
    free(wname);
    int i = add_req(c, r, what_new("open '%s'", path ? path : ""), 0, 0, 0, err);
    if (i >= 0 && c->related) {
        c->chain_create = i;
        c->chain_open = NULL;
        c->chain_closed_by = -1;
    }
    return i;
}

/* The first operation of a related compound that names op: op is the chain's open from then on. */
static void chain_from(smb_compound *c, int i, smb_open *op)
{
    if (i == 0 && c->related && op) {
        c->chain_open = op;
        c->chain_create = -1;
    }
}

int smb_compound_add_read(smb_compound *c, smb_open *op, uint64_t offset, uint32_t len, smb_error *err)
{
    smb2_fileid fid;
    int rc = check_room(c, err);
    if (rc == 0)
        rc = target_fid(c, op, &fid, err);
    if (rc != 0)
        return rc;
    uint32_t max = io_limit(conn_of(c), conn_of(c)->neg.max_read);
    if (len == 0 || len > max)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "a READ of %u bytes: 1 to %u (the server's MaxReadSize)", len,
                           max);
    smb_req *r = smb_tree_req(c->tree, SMB2_READ);
    if (r) {
        smb2_read_req rr = {.length = len, .offset = offset, .fid = fid};
        smb2_read_req_encode(smb_req_body(r), &rr);
        r->expect_len = len; /* the data stays in the response: no read_buf */
    }
    int i = add_req(c, r, what_new("read"), len, len, 0, err);
    chain_from(c, i, op);
    return i;
}

int smb_compound_add_write(smb_compound *c, smb_open *op, uint64_t offset, const void *buf, uint32_t len,
                           smb_error *err)
{
    smb2_fileid fid;
    int rc = check_room(c, err);
    if (rc == 0)
        rc = target_fid(c, op, &fid, err);
    if (rc != 0)
        return rc;
    uint32_t max = io_limit(conn_of(c), conn_of(c)->neg.max_write);
    if (len == 0 || len > max || !buf)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "a WRITE of %u bytes: 1 to %u (the server's MaxWriteSize)",
                           len, max);
    smb_req *r = smb_tree_req(c->tree, SMB2_WRITE);
    if (r) {
        smb2_write_req wr = {.length = len, .offset = offset, .fid = fid};
        smb2_write_req_encode(smb_req_body(r), &wr);
        r->payload = buf; /* borrowed until the send (folded into the message when not last) */
        r->payload_len = len;
        r->charge_bytes = len;
    }
    int i = add_req(c, r, what_new("write"), len, 0, len, err);
    chain_from(c, i, op);
    return i;
}

int smb_compound_add_query_info(smb_compound *c, smb_open *op, uint8_t info_type, uint8_t file_class,
                                uint32_t additional, uint32_t output_len, smb_error *err)
{
    smb2_fileid fid;
    int rc = check_room(c, err);
    if (rc == 0)
        rc = target_fid(c, op, &fid, err);
    if (rc != 0)
        return rc;
    uint32_t max = io_limit(conn_of(c), conn_of(c)->neg.max_transact);
    if (output_len == 0 || output_len > max)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                           "a QUERY_INFO answer of %u bytes: 1 to %u (the server's MaxTransactSize)", output_len, max);
    smb_req *r = smb_tree_req(c->tree, SMB2_QUERY_INFO);
    if (r) {
        smb2_query_info_req q = {
            .info_type = info_type,
            .info_class = file_class,
            .output_buffer_length = output_len,
            .additional_info = additional,
            .fid = fid,
        };
        smb2_query_info_req_encode(smb_req_body(r), &q);
        r->expect_len = output_len;
    }
    int i = add_req(c, r, what_new("query info (type %u, class %u)", info_type, file_class), output_len, output_len, 0,
                    err);
    chain_from(c, i, op);
    return i;
}

int smb_compound_add_set_info(smb_compound *c, smb_open *op, uint8_t info_type, uint8_t file_class,
                              uint32_t additional, const void *buf, uint32_t len, smb_error *err)
{
    smb2_fileid fid;
    int rc = check_room(c, err);
    if (rc == 0)
        rc = target_fid(c, op, &fid, err);
    if (rc != 0)
        return rc;
    uint32_t max = conn_of(c)->neg.max_transact;
    if (len > max || (len && !buf))
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                           "a SET_INFO of %u bytes: at most %u (the server's MaxTransactSize)", len, max);
    smb_req *r = smb_tree_req(c->tree, SMB2_SET_INFO);
    if (r) {
        smb2_set_info_req s = {
            .info_type = info_type,
            .info_class = file_class,
            .additional_info = additional,
            .fid = fid,
            .buffer = buf,
            .buffer_len = len,
        };
        smb2_set_info_req_encode(smb_req_body(r), &s); /* copies buf */
    }
    int i = add_req(c, r, what_new("set info (type %u, class %u)", info_type, file_class), 0, 0, len, err);
    chain_from(c, i, op);
    return i;
}

int smb_compound_add_flush(smb_compound *c, smb_open *op, smb_error *err)
{
    smb2_fileid fid;
    int rc = check_room(c, err);
    if (rc == 0)
        rc = target_fid(c, op, &fid, err);
    if (rc != 0)
        return rc;
    smb_req *r = smb_tree_req(c->tree, SMB2_FLUSH);
    if (r)
        smb2_flush_req_encode(smb_req_body(r), fid);
    int i = add_req(c, r, what_new("flush"), 0, 0, 0, err);
    chain_from(c, i, op);
    return i;
}

int smb_compound_add_close(smb_compound *c, smb_open *op, smb_error *err)
{
    smb2_fileid fid;
    int rc = check_room(c, err);
    if (rc == 0)
        rc = target_fid(c, op, &fid, err);
    if (rc != 0)
        return rc;
    smb_req *r = smb_tree_req(c->tree, SMB2_CLOSE);
    if (r)
        smb2_close_req_encode(smb_req_body(r), SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB, fid);
    /* Whose open it closes, known before it joins (c->n moves on). */
    smb_open *handed = op ? op : (c->related && c->n > 0 ? c->chain_open : NULL);
    int closes = c->related && c->n > 0 && !op ? c->chain_create : -1;
    int i = add_req(c, r, what_new("close"), 0, 0, 0, err);
    if (i < 0)
        return i;
    c->ops[i].handed = handed;
    c->ops[i].closes = closes;
    if (c->related)
        c->chain_closed_by = i;
    chain_from(c, i, op);
    return i;
}

/* SMB2 PDUs: CREATE with create contexts, the context iterator, CLOSE. */
#include "pdu_test_util.h"

#define FILE_READ_ATTRIBUTES 0x00000080u
#define FILE_SHARE_ALL 0x00000007u
#define FILE_OPEN 0x00000001u
#define FILE_NON_DIRECTORY_FILE 0x00000040u

static const smb2_create_ctx k_mxac_qfid[] = {{"MxAc", NULL, 0}, {"QFid", NULL, 0}};

/* MxAc then QFid, neither with data (MS-SMB2 2.2.13.2.5, 2.2.13.2.9). */
static const uint8_t k_mxac_qfid_bytes[44] = {
    0x18, 0x00, 0x00, 0x00, 0x10, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    'M', 'x', 'A', 'c', 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    'Q', 'F', 'i', 'd'};

/* Test-side decoder of a CREATE request: the fixed fields, the name and
 * the context chain, each (offset, length) checked against the message. */
typedef struct t_create {
    uint8_t oplock;
    uint32_t impersonation, access, attrs, share, disposition, options;
    uint16_t name_off, name_len;
    uint32_t ctx_off, ctx_len;
    smb_rd name, ctx;
} t_create;

static void t_decode_create_req(const uint8_t *msg, size_t len, t_create *c)
{
    smb_rd r = t_rd_body(msg, len);
    assert_int_equal(smb_rd_u16(&r), 57);
    assert_int_equal(smb_rd_u8(&r), 0); /* SecurityFlags */
    c->oplock = smb_rd_u8(&r);
    c->impersonation = smb_rd_u32(&r);
    assert_true(smb_rd_u64(&r) == 0); /* SmbCreateFlags */
    assert_true(smb_rd_u64(&r) == 0); /* Reserved */
    c->access = smb_rd_u32(&r);
    c->attrs = smb_rd_u32(&r);
    c->share = smb_rd_u32(&r);
    c->disposition = smb_rd_u32(&r);
    c->options = smb_rd_u32(&r);
    c->name_off = smb_rd_u16(&r);
    c->name_len = smb_rd_u16(&r);
    c->ctx_off = smb_rd_u32(&r);
    c->ctx_len = smb_rd_u32(&r);
    assert_true(smb_rd_ok(&r));
    assert_int_equal(r.pos, 0x78);
    assert_true(len > 0x78); /* the Buffer is never empty */
    assert_int_equal(c->name_off, 0x78);
    c->name = smb_rd_sub(&r, c->name_off, c->name_len);
    if (c->ctx_len) {
        assert_int_equal(c->ctx_off % 8, 0);
        assert_true(c->ctx_off >= (uint32_t)c->name_off + c->name_len);
        assert_int_equal(c->ctx_off + c->ctx_len, len); /* the chain ends the message */
    } else {
        assert_int_equal(c->ctx_off, 0);
    }
    c->ctx = smb_rd_sub(&r, c->ctx_off, c->ctx_len);
    assert_true(smb_rd_ok(&r));
}

static void test_create_req_bytes(void **state)
{
    (void)state;
    uint8_t name[64];
    size_t nlen = t_utf16("dir\\file.txt", name);
    smb2_create_req req = {.oplock = 0,
                           .impersonation = 2,
                           .desired_access = FILE_READ_ATTRIBUTES,
                           .file_attributes = 0,
                           .share_access = FILE_SHARE_ALL,
                           .disposition = FILE_OPEN,
                           .options = FILE_NON_DIRECTORY_FILE,
                           .name_utf16 = name,
                           .name_len = nlen,
                           .contexts = k_mxac_qfid,
                           .ncontexts = 2};
    smb_wr w;
    t_wr_msg(&w);
    smb2_create_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    static const uint8_t fixed[56] = {
        0x39, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,                   /* 57, flags, oplock, impersonation */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                   /* SmbCreateFlags */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                   /* Reserved */
        0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, /* access, attrs, share */
        0x01, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,                   /* disposition, options */
        0x78, 0x00, 0x18, 0x00, 0x90, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00};
    assert_int_equal(w.len, 64 + 56 + 24 + 44);
    assert_memory_equal(w.buf + 64, fixed, 56);
    assert_memory_equal(w.buf + 0x78, name, nlen);
    assert_memory_equal(w.buf + 0x90, k_mxac_qfid_bytes, sizeof k_mxac_qfid_bytes);

    t_create c;
    t_decode_create_req(w.buf, w.len, &c);
    assert_int_equal(c.impersonation, 2);
    assert_int_equal(c.access, FILE_READ_ATTRIBUTES);
    assert_int_equal(c.share, FILE_SHARE_ALL);
    assert_int_equal(c.disposition, FILE_OPEN);
    assert_int_equal(c.options, FILE_NON_DIRECTORY_FILE);
    assert_int_equal(c.name.len, nlen);
    smb_wr_free(&w);
}

static void test_create_req_contexts_roundtrip(void **state)
{
    (void)state;
    uint8_t name[8];
    size_t nlen = t_utf16("a.b", name); /* 6 bytes: the chain needs padding */
    uint8_t dh2q[32];
    for (int i = 0; i < 32; i++)
        dh2q[i] = (uint8_t)(0xC0 + i);
    uint8_t alsi[8] = {0, 0, 0x10, 0, 0, 0, 0, 0};
    const smb2_create_ctx ctx[] = {{"DH2Q", dh2q, sizeof dh2q}, {"MxAc", NULL, 0}, {"AlSi", alsi, 8}};
    smb2_create_req req = {.oplock = 0xFF, .impersonation = 2, .name_utf16 = name, .name_len = nlen,
                           .contexts = ctx, .ncontexts = 3};
    smb_wr w;
    t_wr_msg(&w);
    smb2_create_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));

    t_create c;
    t_decode_create_req(w.buf, w.len, &c);
    assert_int_equal(c.oplock, 0xFF);
    assert_int_equal(c.name_len, 6);
    assert_int_equal(c.ctx_off, 0x80);
    /* DH2Q: 16 + 4 + 4 padding + 32 = 56; MxAc: 24 padded; AlSi: 24 + 8. */
    assert_int_equal(c.ctx_len, 56 + 24 + 32);
    const uint8_t *chain = c.ctx.base;
    assert_int_equal(smb_le32(chain), 56);
    assert_int_equal(smb_le16(chain + 10), 24); /* DataOffset */
    assert_int_equal(smb_le32(chain + 56), 24);
    assert_int_equal(smb_le16(chain + 56 + 10), 0); /* no data: DataOffset 0 */
    assert_int_equal(smb_le32(chain + 80), 0);      /* last: Next 0 */

    smb_rd it = c.ctx;
    smb2_blob n, d;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(smb2_create_ctx_next(&it, &n, &d), 1);
        assert_int_equal(n.len, 4);
        assert_memory_equal(n.data, ctx[i].name, 4);
        assert_int_equal(d.len, ctx[i].len);
        if (d.len)
            assert_memory_equal(d.data, ctx[i].data, d.len);
        assert_int_equal((size_t)(n.data - w.buf) % 8, 0);
        if (d.len)
            assert_int_equal((size_t)(d.data - w.buf) % 8, 0);
    }
    assert_int_equal(smb2_create_ctx_next(&it, &n, &d), 0);
    assert_int_equal(smb2_create_ctx_next(&it, &n, &d), 0);
    smb_wr_free(&w);
}

static void test_create_req_empty_name(void **state)
{
    (void)state;
    smb2_create_req req = {.impersonation = 2, .desired_access = FILE_READ_ATTRIBUTES, .disposition = FILE_OPEN};
    smb_wr w;
    t_wr_msg(&w);
    smb2_create_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    /* The share root: NameOffset 0x78, NameLength 0, one Buffer byte. */
    assert_int_equal(w.len, 64 + 57);
    t_create c;
    t_decode_create_req(w.buf, w.len, &c);
    assert_int_equal(c.name_len, 0);
    assert_int_equal(c.ctx_len, 0);
    assert_int_equal(w.buf[0x78], 0);
    smb_wr_free(&w);

    /* With contexts they start right at 0x78. */
    req.contexts = k_mxac_qfid;
    req.ncontexts = 1;
    t_wr_msg(&w);
    smb2_create_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64 + 56 + 20);
    t_decode_create_req(w.buf, w.len, &c);
    assert_int_equal(c.ctx_off, 0x78);
    assert_int_equal(c.ctx_len, 20);
    static const uint8_t mxac_last[20] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x04, 0x00, 0x00, 0x00,
                                          0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 'M',  'x',  'A',  'c'};
    assert_memory_equal(w.buf + 0x78, mxac_last, 20);
    smb_wr_free(&w);

    /* A name longer than NameLength can hold fails the writer. */
    static uint8_t big[65536 + 2];
    req.name_utf16 = big;
    req.name_len = sizeof big;
    t_wr_msg(&w);
    smb2_create_req_encode(&w, &req);
    assert_false(smb_wr_ok(&w));
    smb_wr_free(&w);
}

/* ================================================================ create response */

/* A CREATE response as Samba sends it for a file opened with MxAc and QFid. */
static const uint8_t k_create_rsp_body[] = {
    0x59, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* 89, no oplock, FILE_OPENED */
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* CreationTime */
    0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* LastAccessTime */
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* LastWriteTime */
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* ChangeTime */
    0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* AllocationSize 4096 */
    0x0C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* EndofFile 12 */
    0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* ARCHIVE, Reserved2 */
    0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x98, 0x00, 0x00, 0x00, 0x58, 0x00, 0x00, 0x00, /* contexts at 0x98, 88 bytes */
    /* 0x98: MxAc: QueryStatus 0, MaximalAccess 0x001F01FF */
    0x20, 0x00, 0x00, 0x00, 0x10, 0x00, 0x04, 0x00, 0x00, 0x00, 0x18, 0x00, 0x08, 0x00, 0x00, 0x00,
    'M', 'x', 'A', 'c', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x01, 0x1F, 0x00,
    /* 0xB8: QFid: 32-byte on-disk id */
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x04, 0x00, 0x00, 0x00, 0x18, 0x00, 0x20, 0x00, 0x00, 0x00,
    'Q', 'F', 'i', 'd', 0x00, 0x00, 0x00, 0x00,
    0x2A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

#define CREATE_RSP_LEN (64 + sizeof k_create_rsp_body)

static void make_create_rsp(uint8_t *msg)
{
    memset(msg, 0, 64);
    memcpy(msg + 64, k_create_rsp_body, sizeof k_create_rsp_body);
}

static int dec_create(smb_rd *r)
{
    smb2_create_rsp rsp;
    return smb2_create_rsp_decode(r, &rsp);
}

static void test_create_rsp(void **state)
{
    (void)state;
    uint8_t msg[CREATE_RSP_LEN];
    make_create_rsp(msg);
    assert_int_equal(sizeof msg, 0xF0);
    smb_rd r = t_rd_body(msg, sizeof msg);
    smb2_create_rsp rsp;
    assert_int_equal(smb2_create_rsp_decode(&r, &rsp), 0);
    assert_int_equal(rsp.oplock, 0);
    assert_int_equal(rsp.flags, 0);
    assert_int_equal(rsp.create_action, 1);
    assert_true(rsp.times.creation_time == 0x0100000000000001ull);
    assert_true(rsp.times.last_access_time == 0x0100000000000002ull);
    assert_true(rsp.times.last_write_time == 0x0100000000000003ull);
    assert_true(rsp.times.change_time == 0x0100000000000004ull);
    assert_true(rsp.times.allocation_size == 4096);
    assert_true(rsp.times.end_of_file == 12);
    assert_int_equal(rsp.times.attributes, 0x20);
    assert_true(rsp.fid.persistent == 0x11);
    assert_true(rsp.fid.volatile_ == 0x0000000100000022ull);
    assert_ptr_equal(rsp.contexts.data, msg + 0x98);
    assert_int_equal(rsp.contexts.len, 88);

    smb_rd it;
    smb_rd_init(&it, rsp.contexts.data, rsp.contexts.len);
    smb2_blob n, d;
    assert_int_equal(smb2_create_ctx_next(&it, &n, &d), 1);
    assert_int_equal(n.len, 4);
    assert_memory_equal(n.data, "MxAc", 4);
    assert_int_equal(d.len, 8);
    assert_int_equal(smb_le32(d.data), 0);
    assert_int_equal(smb_le32(d.data + 4), 0x001F01FF);
    assert_int_equal(smb2_create_ctx_next(&it, &n, &d), 1);
    assert_memory_equal(n.data, "QFid", 4);
    assert_int_equal(d.len, 32);
    assert_int_equal(d.data[0], 0x2A);
    assert_int_equal(smb2_create_ctx_next(&it, &n, &d), 0);
}

static void test_create_rsp_rejects(void **state)
{
    (void)state;
    uint8_t msg[CREATE_RSP_LEN];
    make_create_rsp(msg);
    size_t n = sizeof msg;
    t_truncations_fail(msg, n, dec_create);
    t_patch16_expect(msg, n, 64, 88, dec_create, SMB_ERR_PROTOCOL);
    t_patch16_expect(msg, n, 64, 57, dec_create, SMB_ERR_PROTOCOL);
    t_patch32_expect(msg, n, 64 + 80, 0x90, dec_create, SMB_ERR_PROTOCOL);       /* into the fixed part */
    t_patch32_expect(msg, n, 64 + 80, 0x10, dec_create, SMB_ERR_PROTOCOL);       /* into the header */
    t_patch32_expect(msg, n, 64 + 80, 0xA0, dec_create, SMB_ERR_PROTOCOL);       /* past the end */
    t_patch32_expect(msg, n, 64 + 80, 0xFFFFFFF0, dec_create, SMB_ERR_PROTOCOL); /* offset + length wraps */
    t_patch32_expect(msg, n, 64 + 84, 0x59, dec_create, SMB_ERR_PROTOCOL);
    t_patch32_expect(msg, n, 64 + 84, 0xFFFFFFFF, dec_create, SMB_ERR_PROTOCOL);

    /* No contexts: length 0 and offset 0. */
    uint8_t plain[64 + 89];
    memcpy(plain, msg, sizeof plain);
    smb_put32(plain + 64 + 80, 0);
    smb_put32(plain + 64 + 84, 0);
    smb_rd r = t_rd_body(plain, sizeof plain);
    smb2_create_rsp rsp;
    assert_int_equal(smb2_create_rsp_decode(&r, &rsp), 0);
    assert_int_equal(rsp.contexts.len, 0);
    t_expect_decode(plain, 64 + 88, dec_create, 0); /* without the padding byte */
}

/* Walk the chain at chain[0..len) (copied to an exact-size block); returns
 * the last result of smb2_create_ctx_next and counts the contexts seen. */
static int t_walk_chain(const uint8_t *chain, size_t len, int *count)
{
    uint8_t *copy = t_exact_copy(chain, len);
    smb_rd it;
    smb_rd_init(&it, copy, len);
    smb2_blob n, d;
    int rc;
    *count = 0;
    while ((rc = smb2_create_ctx_next(&it, &n, &d)) == 1) {
        (*count)++;
        assert_true(n.data >= copy && n.data + n.len <= copy + len);
        assert_true(d.len == 0 || (d.data >= copy && d.data + d.len <= copy + len));
    }
    /* After an error the iterator stays failed. */
    if (rc < 0)
        assert_int_equal(smb2_create_ctx_next(&it, &n, &d), SMB_ERR_PROTOCOL);
    free(copy);
    return rc;
}

/* The response's chain with one field replaced must be refused. */
static void t_chain_patch(size_t pos, int width, uint32_t v, int want)
{
    uint8_t chain[88];
    memcpy(chain, k_create_rsp_body + 88, sizeof chain);
    if (width == 2)
        smb_put16(chain + pos, (uint16_t)v);
    else
        smb_put32(chain + pos, v);
    int count;
    assert_int_equal(t_walk_chain(chain, sizeof chain, &count), want);
}

static void test_create_ctx_rejects(void **state)
{
    (void)state;
    const uint8_t *chain = k_create_rsp_body + 88;
    int count;
    assert_int_equal(t_walk_chain(chain, 88, &count), 0);
    assert_int_equal(count, 2);
    assert_int_equal(t_walk_chain(chain, 0, &count), 0);
    assert_int_equal(count, 0);
    for (size_t n = 1; n < 88; n++)
        assert_int_equal(t_walk_chain(chain, n, &count), SMB_ERR_PROTOCOL);

    t_chain_patch(0, 4, 0x1C, SMB_ERR_PROTOCOL);        /* Next not 8-aligned */
    t_chain_patch(0, 4, 8, SMB_ERR_PROTOCOL);           /* Next inside its own header */
    t_chain_patch(0, 4, 88, SMB_ERR_PROTOCOL);          /* Next at the very end */
    t_chain_patch(0, 4, 0x100, SMB_ERR_PROTOCOL);       /* Next past the end */
    t_chain_patch(0, 4, 0xFFFFFFF8, SMB_ERR_PROTOCOL);
    t_chain_patch(4, 2, 8, SMB_ERR_PROTOCOL);           /* name inside the header */
    t_chain_patch(6, 2, 2, SMB_ERR_PROTOCOL);           /* name shorter than 4 */
    t_chain_patch(6, 2, 0x20, SMB_ERR_PROTOCOL);        /* name past its context */
    t_chain_patch(4, 2, 30, SMB_ERR_PROTOCOL);          /* name across the next context */
    t_chain_patch(10, 2, 4, SMB_ERR_PROTOCOL);          /* data inside the header */
    t_chain_patch(10, 2, 0xFFFF, SMB_ERR_PROTOCOL);     /* data past its context */
    t_chain_patch(12, 4, 9, SMB_ERR_PROTOCOL);          /* data across the next context */
    t_chain_patch(12, 4, 0xFFFFFFFF, SMB_ERR_PROTOCOL); /* data length overflows */
    t_chain_patch(32 + 12, 4, 33, SMB_ERR_PROTOCOL);    /* last data past the chain */
    t_chain_patch(32 + 6, 2, 0xFFFF, SMB_ERR_PROTOCOL);
    t_chain_patch(12, 4, 0, 0);                         /* no data: DataOffset ignored */

    /* Two data-less contexts packed without padding: each fits, but the
     * second does not start on an 8-byte boundary. */
    static const uint8_t packed[40] = {0x14, 0x00, 0x00, 0x00, 0x10, 0x00, 0x04, 0x00, 0x00, 0x00,
                                       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 'M',  'x',  'A',  'c',
                                       0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x04, 0x00, 0x00, 0x00,
                                       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 'Q',  'F',  'i',  'd'};
    assert_int_equal(t_walk_chain(packed, sizeof packed, &count), SMB_ERR_PROTOCOL);
    assert_int_equal(count, 0);
}

/* ================================================================ close */

static void test_close_req(void **state)
{
    (void)state;
    smb2_fileid fid = {0x0102030405060708ull, 0x1112131415161718ull};
    smb_wr w;
    t_wr_msg(&w);
    smb2_close_req_encode(&w, SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB, fid);
    static const uint8_t want[24] = {0x18, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x07, 0x06, 0x05,
                                     0x04, 0x03, 0x02, 0x01, 0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11};
    assert_int_equal(w.len, 64 + 24);
    assert_memory_equal(w.buf + 64, want, 24);
    smb_wr_free(&w);
}

static int dec_close(smb_rd *r)
{
    smb2_close_rsp rsp;
    return smb2_close_rsp_decode(r, &rsp);
}

static void test_close_rsp(void **state)
{
    (void)state;
    uint8_t msg[64 + 60] = {0};
    uint8_t *b = msg + 64;
    smb_put16(b, 60);
    smb_put16(b + 2, SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB);
    for (int i = 0; i < 4; i++)
        smb_put64(b + 8 + 8 * i, 0x01D0000000000000ull + (uint64_t)i);
    smb_put64(b + 40, 8192);
    smb_put64(b + 48, 5000);
    smb_put32(b + 56, 0x80);
    smb_rd r = t_rd_body(msg, sizeof msg);
    smb2_close_rsp rsp;
    assert_int_equal(smb2_close_rsp_decode(&r, &rsp), 0);
    assert_int_equal(rsp.flags, SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB);
    assert_true(rsp.times.creation_time == 0x01D0000000000000ull);
    assert_true(rsp.times.change_time == 0x01D0000000000003ull);
    assert_true(rsp.times.allocation_size == 8192);
    assert_true(rsp.times.end_of_file == 5000);
    assert_int_equal(rsp.times.attributes, 0x80);
    t_truncations_fail(msg, sizeof msg, dec_close);
    t_patch16_expect(msg, sizeof msg, 64, 61, dec_close, SMB_ERR_PROTOCOL);
}

/* ================================================================ typed contexts */

static void test_reply_contexts_decoded(void **state)
{
    (void)state;
    uint8_t msg[CREATE_RSP_LEN];
    make_create_rsp(msg);
    smb_rd r = t_rd_body(msg, sizeof msg);
    smb2_create_rsp rsp;
    assert_int_equal(smb2_create_rsp_decode(&r, &rsp), 0);
    smb_create_reply rep;
    memset(&rep, 0, sizeof rep);
    assert_int_equal(smb2_create_reply_decode(&rsp.contexts, &rep), 0);
    assert_true(rep.has_maximal_access);
    assert_int_equal(rep.maximal_access_status, 0);
    assert_int_equal(rep.maximal_access, 0x001F01FF);
    assert_true(rep.has_on_disk_id);
    assert_true(rep.on_disk_file_id == 0x2A);
    assert_true(rep.on_disk_volume_id == 1);
    assert_false(rep.has_lease);
    assert_int_equal(rep.durable, SMB_DURABLE_NONE);
    assert_int_equal(rep.other_contexts, 0);
}

/* One context named tag with data[0..len), alone in a chain. */
static size_t one_context(uint8_t *out, const char *tag, const uint8_t *data, size_t len)
{
    memset(out, 0, 24 + len);
    smb_put16(out + 4, 16);       /* NameOffset */
    smb_put16(out + 6, 4);        /* NameLength */
    smb_put16(out + 10, len ? 24 : 0); /* DataOffset */
    smb_put32(out + 12, (uint32_t)len);
    memcpy(out + 16, tag, 4);
    memcpy(out + 24, data, len);
    return 24 + len;
}

static int decode_chain(const uint8_t *chain, size_t len, smb_create_reply *rep)
{
    memset(rep, 0, sizeof *rep);
    smb2_blob b = {chain, len};
    return smb2_create_reply_decode(&b, rep);
}

static void test_lease_and_durable_replies(void **state)
{
    (void)state;
    uint8_t key[16];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)(i + 1);
    /* A version 2 lease reply has the request's layout (2.2.14.2.11). */
    uint8_t lease[SMB2_LEASE_V2_LEN];
    assert_int_equal(smb2_lease_req_encode(lease, 2, key, 0x7, 5), SMB2_LEASE_V2_LEN);
    assert_memory_equal(lease, key, 16);
    assert_int_equal(smb_le32(lease + 16), 7);
    assert_int_equal(smb_le16(lease + 48), 5); /* Epoch */
    uint8_t chain[128];
    smb_create_reply rep;
    assert_int_equal(decode_chain(chain, one_context(chain, "RqLs", lease, sizeof lease), &rep), 0);
    assert_true(rep.has_lease);
    assert_memory_equal(rep.lease_key, key, 16);
    assert_int_equal(rep.lease_state, 7);
    assert_int_equal(rep.lease_epoch, 5);
    /* Version 1: 32 bytes, no epoch. */
    assert_int_equal(smb2_lease_req_encode(lease, 1, key, 0x3, 9), SMB2_LEASE_V1_LEN);
    assert_int_equal(decode_chain(chain, one_context(chain, "RqLs", lease, SMB2_LEASE_V1_LEN), &rep), 0);
    assert_int_equal(rep.lease_state, 3);
    assert_int_equal(rep.lease_epoch, 0);
    /* DH2Q reply: Timeout, Flags (2.2.14.2.12). */
    const uint8_t dh2q[8] = {0x60, 0xEA, 0, 0, 0x02, 0, 0, 0};
    assert_int_equal(decode_chain(chain, one_context(chain, "DH2Q", dh2q, sizeof dh2q), &rep), 0);
    assert_int_equal(rep.durable, SMB_DURABLE_V2);
    assert_int_equal(rep.durable_timeout_ms, 60000);
    assert_true(rep.persistent);
    /* DHnQ reply: 8 reserved bytes (2.2.14.2.3). */
    const uint8_t dhnq[8] = {0};
    assert_int_equal(decode_chain(chain, one_context(chain, "DHnQ", dhnq, sizeof dhnq), &rep), 0);
    assert_int_equal(rep.durable, SMB_DURABLE_V1);
    /* A context the library does not know is counted, not an error. */
    assert_int_equal(decode_chain(chain, one_context(chain, "ZZZZ", dhnq, 3), &rep), 0);
    assert_int_equal(rep.other_contexts, 1);
}

static void test_short_reply_contexts_rejected(void **state)
{
    (void)state;
    /* Each known context one byte short of its fixed size is malformed. */
    static const struct {
        const char *tag;
        size_t need;
    } known[] = {{"MxAc", 8}, {"QFid", 16}, {"RqLs", SMB2_LEASE_V1_LEN}, {"DHnQ", 8}, {"DH2Q", 8}};
    uint8_t data[64] = {0}, chain[128];
    smb_create_reply rep;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        assert_int_equal(decode_chain(chain, one_context(chain, known[i].tag, data, known[i].need), &rep), 0);
        assert_int_equal(decode_chain(chain, one_context(chain, known[i].tag, data, known[i].need - 1), &rep),
                         SMB_ERR_PROTOCOL);
    }
    /* A lease reply between v1 and v2 sizes is v1 and its tail ignored; v2's epoch needs all 52. */
    assert_int_equal(decode_chain(chain, one_context(chain, "RqLs", data, 40), &rep), 0);
    assert_int_equal(decode_chain(chain, one_context(chain, "RqLs", data, SMB2_LEASE_V2_LEN - 1), &rep), 0);
}

static void test_durable_request_data(void **state)
{
    (void)state;
    uint8_t guid[16], out[36];
    for (int i = 0; i < 16; i++)
        guid[i] = (uint8_t)(0xF0 | i);
    assert_int_equal(smb2_dhnq_encode(out), 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(out[i], 0);
    /* DH2Q: Timeout, Flags, 8 reserved, CreateGuid (2.2.13.2.11). */
    assert_int_equal(smb2_dh2q_encode(out, 30000, true, guid), 32);
    assert_int_equal(smb_le32(out), 30000);
    assert_int_equal(smb_le32(out + 4), SMB2_DHANDLE_FLAG_PERSISTENT);
    assert_true(smb_le64(out + 8) == 0);
    assert_memory_equal(out + 16, guid, 16);
    smb2_fileid fid = {0x1122334455667788ull, 0x99AABBCCDDEEFF00ull};
    /* DHnC: the FileId (2.2.13.2.4). */
    assert_int_equal(smb2_dhnc_encode(out, fid), 16);
    assert_true(smb_le64(out) == fid.persistent);
    assert_true(smb_le64(out + 8) == fid.volatile_);
    /* DH2C: FileId, CreateGuid, Flags (2.2.13.2.12). */
    assert_int_equal(smb2_dh2c_encode(out, fid, guid, false), 36);
    assert_true(smb_le64(out + 8) == fid.volatile_);
    assert_memory_equal(out + 16, guid, 16);
    assert_int_equal(smb_le32(out + 32), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_req_bytes),
        cmocka_unit_test(test_create_req_contexts_roundtrip),
        cmocka_unit_test(test_create_req_empty_name),
        cmocka_unit_test(test_create_rsp),
        cmocka_unit_test(test_create_rsp_rejects),
        cmocka_unit_test(test_create_ctx_rejects),
        cmocka_unit_test(test_close_req),
        cmocka_unit_test(test_close_rsp),
        cmocka_unit_test(test_reply_contexts_decoded),
        cmocka_unit_test(test_lease_and_durable_replies),
        cmocka_unit_test(test_short_reply_contexts_rejected),
        cmocka_unit_test(test_durable_request_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

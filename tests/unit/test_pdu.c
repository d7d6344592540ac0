/*
 * SMB2 PDUs: header, ERROR, transform header, NEGOTIATE, SESSION_SETUP,
 * the 4-byte bodies, TREE_CONNECT and IOCTL / VALIDATE_NEGOTIATE_INFO.
 * CREATE/CLOSE are in test_pdu_create.c; READ/WRITE/FLUSH, directory and
 * info classes in test_pdu_dir.c.
 */
#include "pdu_test_util.h"

/* ================================================================ header */

static void test_hdr_bytes(void **state)
{
    (void)state;
    /* A first NEGOTIATE: everything zero but StructureSize and one credit. */
    static const uint8_t want[64] = {0xFE, 'S', 'M', 'B', 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x01, 0x00};
    smb2_hdr h = {.credits = 1};
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    smb2_hdr_encode(&w, &h);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64);
    assert_memory_equal(w.buf, want, 64);
    smb_wr_free(&w);
}

static void test_hdr_roundtrip_sync(void **state)
{
    (void)state;
    smb2_hdr h = {.credit_charge = 3,
                  .status = 0xC0000016,
                  .command = SMB2_READ,
                  .credits = 64,
                  .flags = SMB2_FLAGS_SERVER_TO_REDIR | SMB2_FLAGS_SIGNED,
                  .next_command = 0x88,
                  .message_id = 0x0102030405060708ull,
                  .tree_id = 0xAABBCCDD,
                  .session_id = 0x1122334455667788ull};
    for (int i = 0; i < 16; i++)
        h.signature[i] = (uint8_t)(0xE0 + i);
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    smb2_hdr_encode(&w, &h);
    assert_int_equal(w.len, 64);
    /* Field positions of MS-SMB2 2.2.1.2. */
    assert_int_equal(smb_le16(w.buf + 4), 64);
    assert_int_equal(smb_le16(w.buf + 6), 3);
    assert_int_equal(smb_le32(w.buf + 8), 0xC0000016);
    assert_int_equal(smb_le16(w.buf + 12), SMB2_READ);
    assert_int_equal(smb_le16(w.buf + 14), 64);
    assert_int_equal(smb_le32(w.buf + 16), 9);
    assert_int_equal(smb_le32(w.buf + 20), 0x88);
    assert_true(smb_le64(w.buf + 24) == 0x0102030405060708ull);
    assert_int_equal(smb_le32(w.buf + 32), 0);
    assert_int_equal(smb_le32(w.buf + 36), 0xAABBCCDD);
    assert_true(smb_le64(w.buf + 40) == 0x1122334455667788ull);
    assert_memory_equal(w.buf + 48, h.signature, 16);

    smb2_hdr d;
    smb_rd r;
    smb_rd_init(&r, w.buf, w.len);
    assert_int_equal(smb2_hdr_decode(&r, &d), 0);
    assert_int_equal(r.pos, 64);
    assert_int_equal(d.credit_charge, 3);
    assert_int_equal(d.status, 0xC0000016);
    assert_int_equal(d.command, SMB2_READ);
    assert_int_equal(d.credits, 64);
    assert_int_equal(d.flags, h.flags);
    assert_int_equal(d.next_command, 0x88);
    assert_true(d.message_id == h.message_id);
    assert_int_equal(d.tree_id, 0xAABBCCDD);
    assert_true(d.async_id == 0);
    assert_true(d.session_id == h.session_id);
    assert_memory_equal(d.signature, h.signature, 16);
    smb_wr_free(&w);
}

static void test_hdr_roundtrip_async(void **state)
{
    (void)state;
    smb2_hdr h = {.status = 0x00000103, /* STATUS_PENDING */
                  .command = SMB2_CHANGE_NOTIFY,
                  .flags = SMB2_FLAGS_SERVER_TO_REDIR | SMB2_FLAGS_ASYNC_COMMAND,
                  .message_id = 7,
                  .async_id = 0x0000000500000001ull,
                  .session_id = 9};
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    smb2_hdr_encode(&w, &h);
    assert_int_equal(w.len, 64);
    assert_true(smb_le64(w.buf + 32) == 0x0000000500000001ull);
    smb2_hdr d;
    smb_rd r;
    smb_rd_init(&r, w.buf, w.len);
    assert_int_equal(smb2_hdr_decode(&r, &d), 0);
    assert_true(d.async_id == h.async_id);
    assert_int_equal(d.tree_id, 0);
    assert_true(d.session_id == 9);
    smb_wr_free(&w);
}

static void test_hdr_rejects(void **state)
{
    (void)state;
    smb2_hdr h = {.command = SMB2_ECHO};
    uint8_t buf[64];
    smb_wr w;
    smb_wr_init(&w, buf, sizeof buf);
    smb2_hdr_encode(&w, &h);
    assert_true(smb_wr_ok(&w));

    for (size_t n = 0; n < 64; n++) {
        uint8_t *copy = t_exact_copy(buf, n);
        smb_rd r;
        smb_rd_init(&r, copy, n);
        smb2_hdr d;
        assert_int_equal(smb2_hdr_decode(&r, &d), SMB_ERR_PROTOCOL);
        free(copy);
    }
    uint8_t bad[64];
    smb2_hdr d;
    smb_rd r;
    memcpy(bad, buf, 64);
    bad[0] = 0xFF; /* SMB1 */
    smb_rd_init(&r, bad, 64);
    assert_int_equal(smb2_hdr_decode(&r, &d), SMB_ERR_PROTOCOL);
    memcpy(bad, buf, 64);
    bad[0] = 0xFD; /* a transform header is not a header */
    smb_rd_init(&r, bad, 64);
    assert_int_equal(smb2_hdr_decode(&r, &d), SMB_ERR_PROTOCOL);
    memcpy(bad, buf, 64);
    bad[4] = 0x41; /* StructureSize 65 */
    smb_rd_init(&r, bad, 64);
    assert_int_equal(smb2_hdr_decode(&r, &d), SMB_ERR_PROTOCOL);
}

/* ================================================================ transform */

static void test_transform_roundtrip(void **state)
{
    (void)state;
    smb2_transform_hdr h = {.original_size = 0x1234, .flags = 1, .session_id = 0x4400000000000011ull};
    for (int i = 0; i < 16; i++) {
        h.signature[i] = (uint8_t)i;
        h.nonce[i] = (uint8_t)(0x80 + i);
    }
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    smb2_transform_hdr_encode(&w, &h);
    assert_int_equal(w.len, SMB2_TRANSFORM_HDR_LEN);
    static const uint8_t id[4] = {0xFD, 'S', 'M', 'B'};
    assert_memory_equal(w.buf, id, 4);
    assert_memory_equal(w.buf + 4, h.signature, 16);
    assert_memory_equal(w.buf + 20, h.nonce, 16);
    assert_int_equal(smb_le32(w.buf + 36), 0x1234);
    assert_int_equal(smb_le16(w.buf + 40), 0);
    assert_int_equal(smb_le16(w.buf + 42), 1);
    assert_true(smb_le64(w.buf + 44) == h.session_id);

    smb2_transform_hdr d;
    smb_rd r;
    smb_rd_init(&r, w.buf, w.len);
    assert_int_equal(smb2_transform_hdr_decode(&r, &d), 0);
    assert_memory_equal(d.signature, h.signature, 16);
    assert_memory_equal(d.nonce, h.nonce, 16);
    assert_int_equal(d.original_size, 0x1234);
    assert_int_equal(d.flags, 1);
    assert_true(d.session_id == h.session_id);

    for (size_t n = 0; n < w.len; n++) {
        uint8_t *copy = t_exact_copy(w.buf, n);
        smb_rd_init(&r, copy, n);
        assert_int_equal(smb2_transform_hdr_decode(&r, &d), SMB_ERR_PROTOCOL);
        free(copy);
    }
    w.buf[0] = 0xFE; /* a plain header is not a transform header */
    smb_rd_init(&r, w.buf, w.len);
    assert_int_equal(smb2_transform_hdr_decode(&r, &d), SMB_ERR_PROTOCOL);
    smb_wr_free(&w);
}

/* ================================================================ error */

static int dec_error(smb_rd *r)
{
    smb2_blob b;
    return smb2_error_decode(r, &b);
}

static void test_error_rsp(void **state)
{
    (void)state;
    /* A body with 4 bytes of ErrorData (a symlink error would be longer). */
    uint8_t msg[64 + 12] = {0};
    static const uint8_t body[12] = {0x09, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0xDE, 0xAD, 0xBE, 0xEF};
    memcpy(msg + 64, body, sizeof body);
    smb_rd r = t_rd_body(msg, sizeof msg);
    smb2_blob b;
    assert_int_equal(smb2_error_decode(&r, &b), 0);
    assert_int_equal(b.len, 4);
    assert_ptr_equal(b.data, msg + 72);
    t_truncations_fail(msg, sizeof msg, dec_error);
    t_patch16_expect(msg, sizeof msg, 64, 8, dec_error, SMB_ERR_PROTOCOL);
    t_patch32_expect(msg, sizeof msg, 68, 5, dec_error, SMB_ERR_PROTOCOL);
    t_patch32_expect(msg, sizeof msg, 68, 0xFFFFFFFF, dec_error, SMB_ERR_PROTOCOL);

    /* The usual body: ByteCount 0, with or without the one padding byte. */
    t_expect_decode(msg, 64 + 9, dec_error, SMB_ERR_PROTOCOL); /* ByteCount 4, 1 byte there */
    uint8_t empty[64 + 9] = {0};
    empty[64] = 0x09;
    t_expect_decode(empty, sizeof empty, dec_error, 0);
    t_expect_decode(empty, 64 + 8, dec_error, 0);
    t_expect_decode(empty, 64 + 7, dec_error, SMB_ERR_PROTOCOL);
}

/* ================================================================ negotiate request */

static const uint16_t k_dialects[] = {0x0202, 0x0210, 0x0300, 0x0302, 0x0311};
static const uint16_t k_ciphers[] = {0x0002, 0x0001};     /* AES-128-GCM, AES-128-CCM */
static const uint16_t k_signing[] = {0x0002, 0x0001};     /* AES-GMAC, AES-CMAC */

static smb2_negotiate_req make_negotiate_req(void)
{
    smb2_negotiate_req req = {.security_mode = SMB2_NEGOTIATE_SIGNING_ENABLED,
                              .capabilities = 0x7F,
                              .dialects = k_dialects,
                              .ndialects = 5,
                              .ciphers = k_ciphers,
                              .nciphers = 2,
                              .signing_algs = k_signing,
                              .nsigning_algs = 2,
                              .netname = "srv"};
    for (int i = 0; i < 16; i++)
        req.client_guid[i] = (uint8_t)i;
    for (int i = 0; i < 32; i++)
        req.preauth_salt[i] = (uint8_t)(0x20 + i);
    return req;
}

/* The request above, byte for byte, from the body start (offset 64). */
static const uint8_t k_negotiate_req_body[] = {
    0x24, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, /* StructureSize 36, 5 dialects, signing enabled */
    0x7F, 0x00, 0x00, 0x00,                         /* Capabilities */
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
    0x70, 0x00, 0x00, 0x00, /* NegotiateContextOffset 0x70 */
    0x04, 0x00, 0x00, 0x00, /* 4 contexts, Reserved2 */
    0x02, 0x02, 0x10, 0x02, 0x00, 0x03, 0x02, 0x03, 0x11, 0x03, /* dialects, ending at 0x6E */
    0x00, 0x00,                                                 /* pad to 0x70 */
    /* 0x70: preauth integrity, 38 bytes: 1 algorithm, 32-byte salt, SHA-512 */
    0x01, 0x00, 0x26, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x20, 0x00, 0x01, 0x00,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    0x00, 0x00, /* pad to 0xA0 */
    /* 0xA0: encryption capabilities: GCM, CCM */
    0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x01, 0x00,
    0x00, 0x00, /* pad to 0xB0 */
    /* 0xB0: netname "srv" in UTF-16LE, no terminator */
    0x05, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 's', 0x00, 'r', 0x00, 'v', 0x00,
    0x00, 0x00, /* pad to 0xC0 */
    /* 0xC0: signing capabilities: GMAC, CMAC; the message ends after it */
    0x08, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x01, 0x00};

static void test_negotiate_req_bytes(void **state)
{
    (void)state;
    smb2_negotiate_req req = make_negotiate_req();
    smb_wr w;
    t_wr_msg(&w);
    smb2_negotiate_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(sizeof k_negotiate_req_body, 0xCE - 64);
    assert_int_equal(w.len, 64 + sizeof k_negotiate_req_body);
    assert_memory_equal(w.buf + 64, k_negotiate_req_body, sizeof k_negotiate_req_body);
    smb_wr_free(&w);
}

/* Test-side decoder of a NEGOTIATE request: checks the layout rules
 * generically and collects the context types and their data. */
typedef struct t_neg_ctx {
    uint16_t type;
    smb_rd data;
} t_neg_ctx;

static int t_decode_negotiate_req(const uint8_t *msg, size_t len, uint16_t *dialects, t_neg_ctx *ctx, int max_ctx)
{
    smb_rd r = t_rd_body(msg, len);
    assert_int_equal(smb_rd_u16(&r), 36);
    uint16_t nd = smb_rd_u16(&r);
    smb_rd_skip(&r, 2 + 2 + 4 + 16);
    uint32_t off = smb_rd_u32(&r);
    uint16_t count = smb_rd_u16(&r);
    smb_rd_skip(&r, 2);
    for (int i = 0; i < nd; i++)
        dialects[i] = smb_rd_u16(&r);
    assert_true(smb_rd_ok(&r));
    if (count == 0) {
        assert_int_equal(off, 0);
        assert_int_equal(smb_rd_left(&r), 0);
        return 0;
    }
    assert_int_equal(off % 8, 0);
    assert_true(off >= r.pos && off < r.pos + 8);
    smb_rd_seek(&r, off);
    assert_true(count <= max_ctx);
    for (int i = 0; i < count; i++) {
        if (i)
            smb_rd_align(&r, 8);
        assert_int_equal(r.pos % 8, 0);
        ctx[i].type = smb_rd_u16(&r);
        uint16_t dl = smb_rd_u16(&r);
        assert_int_equal(smb_rd_u32(&r), 0);
        ctx[i].data = smb_rd_sub(&r, r.pos, dl);
        smb_rd_skip(&r, dl);
        assert_true(smb_rd_ok(&r));
    }
    assert_int_equal(smb_rd_left(&r), 0);
    return count;
}

static void test_negotiate_req_roundtrip(void **state)
{
    (void)state;
    smb2_negotiate_req req = make_negotiate_req();
    req.netname = "h\xC3\xA9\xF0\x9F\x98\x80"; /* "hé" and U+1F600 */
    req.nciphers = 1;
    smb_wr w;
    t_wr_msg(&w);
    smb2_negotiate_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));

    uint16_t d[8];
    t_neg_ctx c[8];
    int n = t_decode_negotiate_req(w.buf, w.len, d, c, 8);
    assert_memory_equal(d, k_dialects, sizeof k_dialects);
    assert_int_equal(n, 4);
    assert_int_equal(c[0].type, SMB2_PREAUTH_INTEGRITY_CAPABILITIES);
    assert_int_equal(smb_rd_u16(&c[0].data), 1);
    assert_int_equal(smb_rd_u16(&c[0].data), 32);
    assert_int_equal(smb_rd_u16(&c[0].data), SMB2_PREAUTH_SHA512);
    assert_memory_equal(smb_rd_ptr(&c[0].data, 32), req.preauth_salt, 32);
    assert_int_equal(smb_rd_left(&c[0].data), 0);
    assert_int_equal(c[1].type, SMB2_ENCRYPTION_CAPABILITIES);
    assert_int_equal(smb_rd_u16(&c[1].data), 1);
    assert_int_equal(smb_rd_u16(&c[1].data), 0x0002);
    assert_int_equal(smb_rd_left(&c[1].data), 0);
    assert_int_equal(c[2].type, SMB2_NETNAME_NEGOTIATE_CONTEXT_ID);
    static const uint8_t name[] = {'h', 0, 0xE9, 0, 0x3D, 0xD8, 0x00, 0xDE};
    assert_int_equal(c[2].data.len, sizeof name);
    assert_memory_equal(c[2].data.base, name, sizeof name);
    assert_int_equal(c[3].type, SMB2_SIGNING_CAPABILITIES);
    assert_int_equal(smb_rd_u16(&c[3].data), 2);
    assert_int_equal(smb_rd_u16(&c[3].data), 0x0002);
    assert_int_equal(smb_rd_u16(&c[3].data), 0x0001);
    smb_wr_free(&w);

    /* A name that is not UTF-8 is left out; so are empty lists. */
    req.netname = "bad\xFF";
    req.nsigning_algs = 0;
    req.nciphers = 0;
    t_wr_msg(&w);
    smb2_negotiate_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    n = t_decode_negotiate_req(w.buf, w.len, d, c, 8);
    assert_int_equal(n, 1);
    assert_int_equal(c[0].type, SMB2_PREAUTH_INTEGRITY_CAPABILITIES);
    smb_wr_free(&w);
}

static void test_negotiate_req_without_311(void **state)
{
    (void)state;
    static const uint16_t dialects[] = {0x0202, 0x0210, 0x0300, 0x0302};
    smb2_negotiate_req req = make_negotiate_req();
    req.dialects = dialects;
    req.ndialects = 4;
    smb_wr w;
    t_wr_msg(&w);
    smb2_negotiate_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64 + 36 + 8);
    /* ClientStartTime (the context fields without 3.1.1) is 0. */
    static const uint8_t zero[8] = {0};
    assert_memory_equal(w.buf + 64 + 28, zero, 8);
    uint16_t d[4];
    t_neg_ctx c[1];
    assert_int_equal(t_decode_negotiate_req(w.buf, w.len, d, c, 1), 0);
    assert_memory_equal(d, dialects, sizeof dialects);
    smb_wr_free(&w);
}

/* ================================================================ negotiate response */

/* A 3.1.1 NEGOTIATE response as Samba sends it: the SPNEGO hint blob at
 * 0x80, then contexts from 0xD0: preauth, cipher, compression (unused by
 * the client, skipped), signing. */
static const uint8_t k_negotiate_rsp[] = {
    /* header */
    0xFE, 'S', 'M', 'B', 0x40, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 0x40: StructureSize 65, SecurityMode, DialectRevision 0x0311, 4 contexts */
    0x41, 0x00, 0x01, 0x00, 0x11, 0x03, 0x04, 0x00,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F,
    0x07, 0x00, 0x00, 0x00, /* Capabilities */
    0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00, /* 8 MiB each */
    0x00, 0x80, 0x3E, 0xD5, 0xDE, 0xB1, 0x9D, 0x01, /* SystemTime */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* ServerStartTime */
    0x80, 0x00, 0x4A, 0x00,                         /* SecurityBuffer 0x80, 74 bytes */
    0xD0, 0x00, 0x00, 0x00,                         /* NegotiateContextOffset */
    /* 0x80: SPNEGO negTokenInit with the NTLMSSP mechanism and the RFC 4178 hint */
    0x60, 0x48, 0x06, 0x06, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x02, 0xA0, 0x3E, 0x30, 0x3C, 0xA0, 0x0E,
    0x30, 0x0C, 0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0A, 0xA3, 0x2A,
    0x30, 0x28, 0xA0, 0x26, 0x1B, 0x24, 'n', 'o', 't', '_', 'd', 'e', 'f', 'i', 'n', 'e', 'd', '_', 'i',
    'n', '_', 'R', 'F', 'C', '4', '1', '7', '8', '@', 'p', 'l', 'e', 'a', 's', 'e', '_', 'i', 'g', 'n',
    'o', 'r', 'e',
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* pad to 0xD0 */
    /* 0xD0: preauth: 1 algorithm (SHA-512), 32-byte salt */
    0x01, 0x00, 0x26, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x20, 0x00, 0x01, 0x00,
    0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF,
    0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xBB, 0xBC, 0xBD, 0xBE, 0xBF,
    0x00, 0x00,
    /* 0x100: encryption: AES-128-GCM */
    0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00,
    0x00, 0x00, 0x00, 0x00,
    /* 0x110: compression (count 1, padding, flags, LZNT1): skipped */
    0x03, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 0x128: signing: AES-GMAC */
    0x08, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00};

static int dec_negotiate(smb_rd *r)
{
    smb2_negotiate_rsp rsp;
    return smb2_negotiate_rsp_decode(r, &rsp);
}

static void test_negotiate_rsp(void **state)
{
    (void)state;
    assert_int_equal(sizeof k_negotiate_rsp, 0x134);
    smb_rd r = t_rd_body(k_negotiate_rsp, sizeof k_negotiate_rsp);
    smb2_negotiate_rsp rsp;
    assert_int_equal(smb2_negotiate_rsp_decode(&r, &rsp), 0);
    assert_int_equal(rsp.security_mode, 1);
    assert_int_equal(rsp.dialect, 0x0311);
    assert_int_equal(rsp.server_guid[0], 0x10);
    assert_int_equal(rsp.server_guid[15], 0x1F);
    assert_int_equal(rsp.capabilities, 7);
    assert_int_equal(rsp.max_transact_size, 0x800000);
    assert_int_equal(rsp.max_read_size, 0x800000);
    assert_int_equal(rsp.max_write_size, 0x800000);
    assert_true(rsp.system_time == 0x019DB1DED53E8000ull);
    assert_true(rsp.server_start_time == 0);
    assert_ptr_equal(rsp.security_buffer.data, k_negotiate_rsp + 0x80);
    assert_int_equal(rsp.security_buffer.len, 74);
    assert_true(rsp.have_preauth);
    assert_int_equal(rsp.preauth_hash_alg, SMB2_PREAUTH_SHA512);
    assert_true(rsp.have_cipher);
    assert_int_equal(rsp.cipher, 0x0002);
    assert_true(rsp.have_signing);
    assert_int_equal(rsp.signing_alg, 0x0002);
}

static void test_negotiate_rsp_rejects(void **state)
{
    (void)state;
    const uint8_t *m = k_negotiate_rsp;
    size_t n = sizeof k_negotiate_rsp;
    t_truncations_fail(m, n, dec_negotiate);
    t_patch16_expect(m, n, 0x40, 64, dec_negotiate, SMB_ERR_PROTOCOL);          /* StructureSize */
    t_patch16_expect(m, n, 0x40 + 56, 0x40, dec_negotiate, SMB_ERR_PROTOCOL);   /* blob in the header */
    t_patch16_expect(m, n, 0x40 + 56, 0x7E, dec_negotiate, SMB_ERR_PROTOCOL);   /* blob in the fixed part */
    t_patch16_expect(m, n, 0x40 + 56, 0xFFFF, dec_negotiate, SMB_ERR_PROTOCOL); /* blob past the end */
    t_patch16_expect(m, n, 0x40 + 58, 0xFFFF, dec_negotiate, SMB_ERR_PROTOCOL); /* blob too long */
    t_patch32_expect(m, n, 0x40 + 60, 0xD4, dec_negotiate, SMB_ERR_PROTOCOL);   /* contexts not aligned */
    t_patch32_expect(m, n, 0x40 + 60, 0xCC, dec_negotiate, SMB_ERR_PROTOCOL);   /* even when padding fits */
    t_patch32_expect(m, n, 0x40 + 60, 0x40, dec_negotiate, SMB_ERR_PROTOCOL);   /* contexts in the header */
    t_patch32_expect(m, n, 0x40 + 60, 0xFFFFFFF8, dec_negotiate, SMB_ERR_PROTOCOL);
    t_patch16_expect(m, n, 0x40 + 6, 5, dec_negotiate, SMB_ERR_PROTOCOL);       /* one context too many */
    t_patch16_expect(m, n, 0xD2, 0xFFFF, dec_negotiate, SMB_ERR_PROTOCOL);      /* DataLength overruns */
    t_patch16_expect(m, n, 0x12A, 5, dec_negotiate, SMB_ERR_PROTOCOL);          /* last one past the end */
    t_patch16_expect(m, n, 0xD8, 2, dec_negotiate, SMB_ERR_PROTOCOL);           /* 2 hash algorithms */
    t_patch16_expect(m, n, 0xDA, 0x21, dec_negotiate, SMB_ERR_PROTOCOL);        /* salt past the context */
    t_patch16_expect(m, n, 0x108, 0, dec_negotiate, SMB_ERR_PROTOCOL);          /* CipherCount 0 */
    t_patch16_expect(m, n, 0x102, 2, dec_negotiate, SMB_ERR_PROTOCOL);          /* cipher context too short */
    t_patch16_expect(m, n, 0x110, SMB2_ENCRYPTION_CAPABILITIES, dec_negotiate, SMB_ERR_PROTOCOL); /* repeated */
    t_patch16_expect(m, n, 0x110, SMB2_PREAUTH_INTEGRITY_CAPABILITIES, dec_negotiate, SMB_ERR_PROTOCOL);
    t_patch16_expect(m, n, 0x110, SMB2_SIGNING_CAPABILITIES, dec_negotiate, SMB_ERR_PROTOCOL);
    t_patch16_expect(m, n, 0x130, 2, dec_negotiate, SMB_ERR_PROTOCOL);          /* 2 signing algorithms */

    /* Fewer contexts than present: the rest is not looked at. */
    uint8_t *copy = t_exact_copy(m, n);
    smb_put16(copy + 0x46, 2);
    smb_rd r = t_rd_body(copy, n);
    smb2_negotiate_rsp rsp;
    assert_int_equal(smb2_negotiate_rsp_decode(&r, &rsp), 0);
    assert_true(rsp.have_preauth && rsp.have_cipher && !rsp.have_signing);

    /* Below 3.1.1 the context fields are reserved and ignored. */
    smb_put16(copy + 0x44, 0x0302);
    smb_put32(copy + 0x40 + 60, 0xFFFFFFFF);
    r = t_rd_body(copy, n);
    assert_int_equal(smb2_negotiate_rsp_decode(&r, &rsp), 0);
    assert_false(rsp.have_preauth || rsp.have_cipher || rsp.have_signing);
    assert_int_equal(rsp.dialect, 0x0302);

    /* An empty security buffer may have offset 0. */
    smb_put16(copy + 0x40 + 56, 0);
    smb_put16(copy + 0x40 + 58, 0);
    r = t_rd_body(copy, n);
    assert_int_equal(smb2_negotiate_rsp_decode(&r, &rsp), 0);
    assert_int_equal(rsp.security_buffer.len, 0);
    free(copy);
}

/* ================================================================ session setup */

static void test_session_setup_req(void **state)
{
    (void)state;
    static const uint8_t token[10] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 1, 0};
    smb2_session_setup_req req = {.flags = SMB2_SESSION_FLAG_BINDING,
                                  .security_mode = SMB2_NEGOTIATE_SIGNING_ENABLED,
                                  .capabilities = SMB2_GLOBAL_CAP_DFS,
                                  .previous_session_id = 0x1122334455667788ull,
                                  .token = token,
                                  .token_len = sizeof token};
    smb_wr w;
    t_wr_msg(&w);
    smb2_session_setup_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64 + 24 + sizeof token);
    static const uint8_t fixed[24] = {0x19, 0x00, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x58, 0x00, 0x0A, 0x00, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
    assert_memory_equal(w.buf + 64, fixed, 24);
    assert_memory_equal(w.buf + 0x58, token, sizeof token);
    smb_wr_free(&w);

    /* No token: offset still 0x58, one buffer byte. */
    req.token = NULL;
    req.token_len = 0;
    t_wr_msg(&w);
    smb2_session_setup_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64 + 25);
    assert_int_equal(smb_le16(w.buf + 64 + 12), 0x58);
    assert_int_equal(smb_le16(w.buf + 64 + 14), 0);
    assert_int_equal(w.buf[64 + 24], 0);
    smb_wr_free(&w);

    /* A token longer than its 16-bit length field fails the writer. */
    static uint8_t big[70000];
    req.token = big;
    req.token_len = sizeof big;
    t_wr_msg(&w);
    smb2_session_setup_req_encode(&w, &req);
    assert_false(smb_wr_ok(&w));
    smb_wr_free(&w);
}

static int dec_session_setup(smb_rd *r)
{
    smb2_session_setup_rsp rsp;
    return smb2_session_setup_rsp_decode(r, &rsp);
}

static void test_session_setup_rsp(void **state)
{
    (void)state;
    uint8_t msg[64 + 8 + 6] = {0};
    static const uint8_t body[] = {0x09, 0x00, 0x01, 0x00, 0x48, 0x00, 0x06, 0x00, /* guest, blob at 0x48 */
                                   0xA1, 0x04, 0x30, 0x02, 0xA0, 0x00};
    memcpy(msg + 64, body, sizeof body);
    smb_rd r = t_rd_body(msg, sizeof msg);
    smb2_session_setup_rsp rsp;
    assert_int_equal(smb2_session_setup_rsp_decode(&r, &rsp), 0);
    assert_int_equal(rsp.session_flags, SMB2_SESSION_FLAG_IS_GUEST);
    assert_ptr_equal(rsp.token.data, msg + 0x48);
    assert_int_equal(rsp.token.len, 6);

    t_truncations_fail(msg, sizeof msg, dec_session_setup);
    t_patch16_expect(msg, sizeof msg, 64, 8, dec_session_setup, SMB_ERR_PROTOCOL);
    t_patch16_expect(msg, sizeof msg, 68, 0x40, dec_session_setup, SMB_ERR_PROTOCOL);   /* into the header */
    t_patch16_expect(msg, sizeof msg, 68, 0x46, dec_session_setup, SMB_ERR_PROTOCOL);   /* into the fixed part */
    t_patch16_expect(msg, sizeof msg, 68, 0x49, dec_session_setup, SMB_ERR_PROTOCOL);   /* one past */
    t_patch16_expect(msg, sizeof msg, 68, 0xFFFF, dec_session_setup, SMB_ERR_PROTOCOL);
    t_patch16_expect(msg, sizeof msg, 70, 7, dec_session_setup, SMB_ERR_PROTOCOL);
    t_patch16_expect(msg, sizeof msg, 70, 0xFFFF, dec_session_setup, SMB_ERR_PROTOCOL);

    /* The final response may carry no token, at offset 0. */
    uint8_t fin[64 + 8] = {0};
    fin[64] = 0x09;
    r = t_rd_body(fin, sizeof fin);
    assert_int_equal(smb2_session_setup_rsp_decode(&r, &rsp), 0);
    assert_int_equal(rsp.token.len, 0);
    assert_int_equal(rsp.session_flags, 0);
}

/* ================================================================ logoff, echo, tree */

static int dec_simple(smb_rd *r) { return smb2_simple_rsp_decode(r); }

static void test_simple(void **state)
{
    (void)state;
    smb_wr w;
    t_wr_msg(&w);
    smb2_simple_req_encode(&w);
    smb2_tree_disconnect_req_encode(&w);
    static const uint8_t want[8] = {0x04, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00};
    assert_int_equal(w.len, 64 + 8);
    assert_memory_equal(w.buf + 64, want, 8);
    smb_wr_free(&w);

    uint8_t msg[68] = {0};
    msg[64] = 4;
    t_truncations_fail(msg, sizeof msg, dec_simple);
    t_patch16_expect(msg, sizeof msg, 64, 2, dec_simple, SMB_ERR_PROTOCOL);
    t_patch16_expect(msg, sizeof msg, 64, 5, dec_simple, SMB_ERR_PROTOCOL);
}

static void test_tree_connect_req(void **state)
{
    (void)state;
    uint8_t path[64];
    size_t plen = t_utf16("\\\\srv\\share", path);
    smb_wr w;
    t_wr_msg(&w);
    smb2_tree_connect_req_encode(&w, path, plen);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64 + 8 + plen);
    static const uint8_t fixed[8] = {0x09, 0x00, 0x00, 0x00, 0x48, 0x00, 0x16, 0x00};
    assert_memory_equal(w.buf + 64, fixed, 8);
    assert_memory_equal(w.buf + 0x48, path, plen);
    smb_wr_free(&w);
}

static int dec_tree_connect(smb_rd *r)
{
    smb2_tree_connect_rsp rsp;
    return smb2_tree_connect_rsp_decode(r, &rsp);
}

static void test_tree_connect_rsp(void **state)
{
    (void)state;
    uint8_t msg[64 + 16] = {0};
    static const uint8_t body[16] = {0x10, 0x00, 0x01, 0x00, 0x00, 0x80, 0x00, 0x00,
                                     0x08, 0x00, 0x00, 0x00, 0xFF, 0x01, 0x1F, 0x00};
    memcpy(msg + 64, body, 16);
    smb_rd r = t_rd_body(msg, sizeof msg);
    smb2_tree_connect_rsp rsp;
    assert_int_equal(smb2_tree_connect_rsp_decode(&r, &rsp), 0);
    assert_int_equal(rsp.share_type, 1);
    assert_int_equal(rsp.share_flags, SMB2_SHAREFLAG_ENCRYPT_DATA);
    assert_int_equal(rsp.capabilities, 8);
    assert_int_equal(rsp.maximal_access, 0x001F01FF);
    t_truncations_fail(msg, sizeof msg, dec_tree_connect);
    t_patch16_expect(msg, sizeof msg, 64, 17, dec_tree_connect, SMB_ERR_PROTOCOL);
}

/* ================================================================ ioctl */

#define FSCTL_VALIDATE_NEGOTIATE_INFO 0x00140204u

static void test_ioctl_req_validate_negotiate(void **state)
{
    (void)state;
    uint8_t guid[16];
    for (int i = 0; i < 16; i++)
        guid[i] = (uint8_t)(0x40 + i);
    static const uint16_t dialects[] = {0x0300, 0x0302, 0x0311};
    smb_wr in;
    smb_wr_init_grow(&in, 64);
    smb2_validate_negotiate_encode(&in, 0x44, guid, 1, dialects, 3);
    assert_int_equal(in.len, 24 + 6);
    assert_int_equal(smb_le32(in.buf), 0x44);
    assert_memory_equal(in.buf + 4, guid, 16);
    assert_int_equal(smb_le16(in.buf + 20), 1);
    assert_int_equal(smb_le16(in.buf + 22), 3);
    assert_int_equal(smb_le16(in.buf + 28), 0x0311);

    smb2_ioctl_req req = {.ctl_code = FSCTL_VALIDATE_NEGOTIATE_INFO,
                          .fid = SMB2_FILEID_RELATED,
                          .input = in.buf,
                          .input_len = in.len,
                          .max_output = 24,
                          .flags = SMB2_0_IOCTL_IS_FSCTL};
    smb_wr w;
    t_wr_msg(&w);
    smb2_ioctl_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64 + 56 + in.len);
    const uint8_t *b = w.buf + 64;
    assert_int_equal(smb_le16(b), 57);
    assert_int_equal(smb_le32(b + 4), FSCTL_VALIDATE_NEGOTIATE_INFO);
    assert_true(smb_le64(b + 8) == UINT64_MAX && smb_le64(b + 16) == UINT64_MAX);
    assert_int_equal(smb_le32(b + 24), 0x78); /* InputOffset */
    assert_int_equal(smb_le32(b + 28), in.len);
    assert_int_equal(smb_le32(b + 32), 0); /* MaxInputResponse */
    assert_int_equal(smb_le32(b + 36), 0); /* OutputOffset */
    assert_int_equal(smb_le32(b + 40), 0); /* OutputCount */
    assert_int_equal(smb_le32(b + 44), 24); /* MaxOutputResponse */
    assert_int_equal(smb_le32(b + 48), SMB2_0_IOCTL_IS_FSCTL);
    assert_memory_equal(w.buf + 0x78, in.buf, in.len);
    smb_wr_free(&w);
    smb_wr_free(&in);

    /* Without input the Buffer is still one byte. */
    req.input = NULL;
    req.input_len = 0;
    t_wr_msg(&w);
    smb2_ioctl_req_encode(&w, &req);
    assert_int_equal(w.len, 64 + 57);
    assert_int_equal(smb_le32(w.buf + 64 + 28), 0);
    smb_wr_free(&w);
}

/* The VALIDATE_NEGOTIATE_INFO response as Samba sends it. */
static const uint8_t k_ioctl_rsp_body[] = {
    0x31, 0x00, 0x00, 0x00, 0x04, 0x02, 0x14, 0x00, /* StructureSize 49, CtlCode */
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0x70, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* no input */
    0x70, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, /* 24 bytes of output at 0x70 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    /* 0x70: Capabilities, Guid, SecurityMode, Dialect */
    0x2F, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B,
    0x1C, 0x1D, 0x1E, 0x1F, 0x01, 0x00, 0x02, 0x03};

static int dec_ioctl(smb_rd *r)
{
    smb2_ioctl_rsp rsp;
    return smb2_ioctl_rsp_decode(r, &rsp);
}

static void test_ioctl_rsp(void **state)
{
    (void)state;
    uint8_t msg[64 + sizeof k_ioctl_rsp_body] = {0};
    memcpy(msg + 64, k_ioctl_rsp_body, sizeof k_ioctl_rsp_body);
    smb_rd r = t_rd_body(msg, sizeof msg);
    smb2_ioctl_rsp rsp;
    assert_int_equal(smb2_ioctl_rsp_decode(&r, &rsp), 0);
    assert_int_equal(rsp.ctl_code, FSCTL_VALIDATE_NEGOTIATE_INFO);
    assert_true(rsp.fid.persistent == UINT64_MAX && rsp.fid.volatile_ == UINT64_MAX);
    assert_ptr_equal(rsp.output.data, msg + 0x70);
    assert_int_equal(rsp.output.len, 24);

    smb2_validate_negotiate_rsp v;
    assert_int_equal(smb2_validate_negotiate_decode(rsp.output.data, rsp.output.len, &v), 0);
    assert_int_equal(v.capabilities, 0x2F);
    assert_int_equal(v.guid[0], 0x10);
    assert_int_equal(v.guid[15], 0x1F);
    assert_int_equal(v.security_mode, 1);
    assert_int_equal(v.dialect, 0x0302);
    for (size_t n = 0; n < 24; n++) {
        uint8_t *copy = t_exact_copy(rsp.output.data, n);
        assert_int_equal(smb2_validate_negotiate_decode(copy, n, &v), SMB_ERR_PROTOCOL);
        free(copy);
    }

    t_truncations_fail(msg, sizeof msg, dec_ioctl);
    t_patch16_expect(msg, sizeof msg, 64, 48, dec_ioctl, SMB_ERR_PROTOCOL);
    t_patch32_expect(msg, sizeof msg, 64 + 32, 0x6C, dec_ioctl, SMB_ERR_PROTOCOL);       /* into fixed part */
    t_patch32_expect(msg, sizeof msg, 64 + 32, 0x71, dec_ioctl, SMB_ERR_PROTOCOL);       /* one past */
    t_patch32_expect(msg, sizeof msg, 64 + 32, 0xFFFFFFF0, dec_ioctl, SMB_ERR_PROTOCOL); /* wraps */
    t_patch32_expect(msg, sizeof msg, 64 + 36, 0xFFFFFFFF, dec_ioctl, SMB_ERR_PROTOCOL);
    t_patch32_expect(msg, sizeof msg, 64 + 28, 0x100, dec_ioctl, SMB_ERR_PROTOCOL);      /* echoed input */
    t_patch32_expect(msg, sizeof msg, 64 + 24, 0xFFFFFFFF, dec_ioctl, SMB_ERR_PROTOCOL); /* empty, outside */
    t_patch32_expect(msg, sizeof msg, 64 + 24, 0, dec_ioctl, 0);                         /* empty at 0 */
}

/* FILE_ALLOCATED_RANGE_BUFFER array (MS-FSCC 2.3.52): checked, clipped, bounded. */
static void put_range(uint8_t *p, uint64_t off, uint64_t len)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(off >> (8 * i));
        p[8 + i] = (uint8_t)(len >> (8 * i));
    }
}

static void test_alloc_ranges(void **state)
{
    (void)state;
    uint8_t in[16];
    smb_wr w;
    smb_wr_init(&w, in, sizeof in);
    smb2_alloc_range_encode(&w, 0x1122334455667788ull, 0x10);
    assert_int_equal(w.len, 16);
    assert_int_equal(in[0], 0x88);
    assert_int_equal(in[7], 0x11);
    assert_int_equal(in[8], 0x10);

    uint8_t buf[64];
    smb_range r[4];
    size_t n, total;
    put_range(buf, 0, 4096);
    put_range(buf + 16, 65536, 8192);
    put_range(buf + 32, 1 << 20, 1 << 20); /* runs past the limit: clipped */
    assert_int_equal(smb2_alloc_ranges_decode(buf, 48, 0, (1 << 20) + 100, r, 4, &n, &total), 0);
    assert_int_equal(n, 3);
    assert_int_equal(total, 3);
    assert_int_equal(r[1].off, 65536);
    assert_int_equal(r[1].len, 8192);
    assert_int_equal(r[2].len, 100);
    /* Only max kept; total still counts them all. */
    assert_int_equal(smb2_alloc_ranges_decode(buf, 48, 0, 1u << 30, r, 2, &n, &total), 0);
    assert_int_equal(n, 2);
    assert_int_equal(total, 3);
    /* A range past the limit is dropped, an empty one skipped. */
    put_range(buf + 48, 3u << 20, 0);
    assert_int_equal(smb2_alloc_ranges_decode(buf, 64, 0, 65536, r, 4, &n, &total), 0);
    assert_int_equal(n, 1);
    /* Hostile answers: out of order, overlapping, before the query's start, negative, overflowing, cut. */
    put_range(buf, 65536, 4096);
    put_range(buf + 16, 0, 4096);
    assert_int_equal(smb2_alloc_ranges_decode(buf, 32, 0, 1u << 30, r, 4, &n, &total), SMB_ERR_PROTOCOL);
    put_range(buf, 0, 8192);
    put_range(buf + 16, 4096, 4096);
    assert_int_equal(smb2_alloc_ranges_decode(buf, 32, 0, 1u << 30, r, 4, &n, &total), SMB_ERR_PROTOCOL);
    put_range(buf, 0, 4096);
    assert_int_equal(smb2_alloc_ranges_decode(buf, 16, 8192, 1u << 30, r, 4, &n, &total), SMB_ERR_PROTOCOL);
    put_range(buf, 0x8000000000000000ull, 1);
    assert_int_equal(smb2_alloc_ranges_decode(buf, 16, 0, UINT64_MAX, r, 4, &n, &total), SMB_ERR_PROTOCOL);
    put_range(buf, 0x7000000000000000ull, 0x7000000000000000ull);
    assert_int_equal(smb2_alloc_ranges_decode(buf, 16, 0, UINT64_MAX, r, 4, &n, &total), SMB_ERR_PROTOCOL);
    assert_int_equal(smb2_alloc_ranges_decode(buf, 15, 0, UINT64_MAX, r, 4, &n, &total), SMB_ERR_PROTOCOL);
    assert_int_equal(smb2_alloc_ranges_decode(buf, 0, 0, UINT64_MAX, r, 4, &n, &total), 0);
    assert_int_equal(n, 0);
}

/* NETWORK_INTERFACE_INFO chain (MS-SMB2 2.2.32.5): IPv4 and IPv6 entries, checked offsets. */
static void put_iface(uint8_t *p, uint32_t next, uint32_t idx, uint32_t cap, uint64_t speed, uint16_t family,
                      const uint8_t *addr)
{
    memset(p, 0, 152);
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(next >> (8 * i));
        p[4 + i] = (uint8_t)(idx >> (8 * i));
        p[8 + i] = (uint8_t)(cap >> (8 * i));
    }
    for (int i = 0; i < 8; i++)
        p[16 + i] = (uint8_t)(speed >> (8 * i));
    p[24] = (uint8_t)family;
    p[25] = (uint8_t)(family >> 8);
    if (family == 0x0002)
        memcpy(p + 28, addr, 4);
    else if (family == 0x0017)
        memcpy(p + 32, addr, 16);
}

static void test_iface_list(void **state)
{
    (void)state;
    uint8_t buf[152 * 4];
    const uint8_t v4[4] = {127, 0, 0, 2}, v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    put_iface(buf, 152, 3, 0x1, 10000000000ull, 0x0002, v4);
    put_iface(buf + 152, 152, 4, 0x2, 1000000000ull, 0x0017, v6);
    put_iface(buf + 304, 0, 5, 0, 1, 0x0099, v4); /* an unknown family: skipped */
    smb_iface l[4];
    size_t n = 0;
    assert_int_equal(smb2_iface_list_decode(buf, 456, l, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(l[0].if_index, 3);
    assert_true(l[0].rss);
    assert_false(l[0].rdma);
    assert_int_equal(l[0].link_speed, 10000000000ull);
    assert_false(l[0].ipv6);
    assert_string_equal(l[0].addr, "127.0.0.2");
    assert_true(l[1].ipv6);
    assert_true(l[1].rdma);
    assert_string_equal(l[1].addr, "2001:db8::1");
    /* At most max. */
    assert_int_equal(smb2_iface_list_decode(buf, 456, l, 1, &n), 0);
    assert_int_equal(n, 1);
    /* Hostile chains: past the end, backwards/looping (0 < next < entry), unaligned, cut. */
    put_iface(buf + 304, 152, 5, 0, 1, 0x0002, v4);
    assert_int_equal(smb2_iface_list_decode(buf, 456, l, 4, &n), SMB_ERR_PROTOCOL);
    put_iface(buf + 304, 8, 5, 0, 1, 0x0002, v4);
    assert_int_equal(smb2_iface_list_decode(buf, 456, l, 4, &n), SMB_ERR_PROTOCOL);
    put_iface(buf, 156, 3, 0, 1, 0x0002, v4);
    assert_int_equal(smb2_iface_list_decode(buf, 456, l, 4, &n), SMB_ERR_PROTOCOL);
    put_iface(buf, 0, 3, 0, 1, 0x0002, v4);
    assert_int_equal(smb2_iface_list_decode(buf, 100, l, 4, &n), SMB_ERR_PROTOCOL);
    assert_int_equal(smb2_iface_list_decode(buf, 0, l, 4, &n), SMB_ERR_PROTOCOL);
    assert_int_equal(smb2_iface_list_decode(buf, 152, l, 4, &n), 0);
    assert_int_equal(n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hdr_bytes),
        cmocka_unit_test(test_hdr_roundtrip_sync),
        cmocka_unit_test(test_hdr_roundtrip_async),
        cmocka_unit_test(test_hdr_rejects),
        cmocka_unit_test(test_transform_roundtrip),
        cmocka_unit_test(test_error_rsp),
        cmocka_unit_test(test_negotiate_req_bytes),
        cmocka_unit_test(test_negotiate_req_roundtrip),
        cmocka_unit_test(test_negotiate_req_without_311),
        cmocka_unit_test(test_negotiate_rsp),
        cmocka_unit_test(test_negotiate_rsp_rejects),
        cmocka_unit_test(test_session_setup_req),
        cmocka_unit_test(test_session_setup_rsp),
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_tree_connect_req),
        cmocka_unit_test(test_tree_connect_rsp),
        cmocka_unit_test(test_ioctl_req_validate_negotiate),
        cmocka_unit_test(test_ioctl_rsp),
        cmocka_unit_test(test_alloc_ranges),
        cmocka_unit_test(test_iface_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

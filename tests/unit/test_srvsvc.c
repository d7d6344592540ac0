/*
 * NetShareEnumAll over DCE/RPC (src/smb/rpc/): the BIND and REQUEST bytes
 * against the layouts of C706 12.6 and MS-SRVS 3.1.4.8, BIND_ACK and
 * BIND_NAK answers, RESPONSE stubs built field by field from the NDR
 * layout (C706 14) and one captured from Samba, fragments put back
 * together, and malformed answers refused without output.
 */
#include "pdu_test_util.h"

#include <smbcopy/shares.h>

#include "rpc/dcerpc.h"
#include "rpc/ndr.h"
#include "rpc/srvsvc.h"
#include "utf16.h"

#define CALL_ID 2u

/* ---------------------------------------------------------------- captured bytes */

/* Captured from Samba 4.17.12's srvsvc (samba-dcerpcd) on the test fixture's
 * "main" instance: the BIND_ACK to a BIND of call 1 offering srvsvc v3.0
 * with NDR 2.0 and fragments of 4280 bytes. */
static const uint8_t samba_bind_ack[] = {
    0x05, 0x00, 0x0c, 0x03, 0x10, 0x00, 0x00, 0x00, 0x44, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0xb8, 0x10, 0xb8, 0x10, 0xa1, 0xc0, 0x00, 0x00,
    0x0d, 0x00, 0x5c, 0x70, 0x69, 0x70, 0x65, 0x5c, 0x73, 0x72, 0x76, 0x73,
    0x76, 0x63, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00,
    0x2b, 0x10, 0x48, 0x60, 0x02, 0x00, 0x00, 0x00,
};

/* Captured likewise: the RESPONSE (call 2, one fragment) to NetShareEnumAll
 * at level 1 for the fixture's seven shares. */
static const uint8_t samba_response[] = {
    0x05, 0x00, 0x02, 0x03, 0x10, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x02, 0x00,
    0x07, 0x00, 0x00, 0x00, 0x10, 0x00, 0x02, 0x00, 0x07, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x02, 0x00,
    0x1c, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x02, 0x00,
    0x24, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x02, 0x00,
    0x2c, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x02, 0x00,
    0x34, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x38, 0x00, 0x02, 0x00,
    0x3c, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x02, 0x00,
    0x44, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x80, 0x48, 0x00, 0x02, 0x00,
    0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
    0x64, 0x00, 0x61, 0x00, 0x74, 0x00, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x06, 0x00, 0x00, 0x00, 0x67, 0x00, 0x75, 0x00, 0x65, 0x00, 0x73, 0x00,
    0x74, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x72, 0x00, 0x65, 0x00,
    0x61, 0x00, 0x64, 0x00, 0x6f, 0x00, 0x6e, 0x00, 0x6c, 0x00, 0x79, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x73, 0x00, 0x65, 0x00,
    0x63, 0x00, 0x72, 0x00, 0x65, 0x00, 0x74, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x09, 0x00, 0x00, 0x00, 0x66, 0x00, 0x69, 0x00, 0x64, 0x00, 0x65, 0x00,
    0x6c, 0x00, 0x69, 0x00, 0x74, 0x00, 0x79, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x0e, 0x00, 0x00, 0x00, 0x66, 0x00, 0x69, 0x00, 0x64, 0x00, 0x65, 0x00,
    0x6c, 0x00, 0x69, 0x00, 0x74, 0x00, 0x79, 0x00, 0x64, 0x00, 0x65, 0x00,
    0x70, 0x00, 0x6f, 0x00, 0x74, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
    0x49, 0x00, 0x50, 0x00, 0x43, 0x00, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00,
    0x49, 0x00, 0x50, 0x00, 0x43, 0x00, 0x20, 0x00, 0x53, 0x00, 0x65, 0x00,
    0x72, 0x00, 0x76, 0x00, 0x69, 0x00, 0x63, 0x00, 0x65, 0x00, 0x20, 0x00,
    0x28, 0x00, 0x73, 0x00, 0x6d, 0x00, 0x62, 0x00, 0x63, 0x00, 0x6f, 0x00,
    0x70, 0x00, 0x79, 0x00, 0x20, 0x00, 0x74, 0x00, 0x65, 0x00, 0x73, 0x00,
    0x74, 0x00, 0x20, 0x00, 0x73, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00,
    0x65, 0x00, 0x72, 0x00, 0x20, 0x00, 0x28, 0x00, 0x6d, 0x00, 0x61, 0x00,
    0x69, 0x00, 0x6e, 0x00, 0x29, 0x00, 0x29, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x07, 0x00, 0x00, 0x00, 0x4c, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00,
};

/* ---------------------------------------------------------------- builders */

typedef struct t_share {
    const char *name; /* NULL: a null shi1_netname pointer */
    uint32_t type;
    const char *comment; /* NULL: a null shi1_remark pointer */
} t_share;

/* A conformant varying string: max_count, offset, actual_count, the units. */
static void put_wstring_counts(smb_wr *w, const char *s, uint32_t max_count, uint32_t offset, uint32_t actual)
{
    size_t len = 0;
    uint8_t *u = smb_utf8_to_utf16le(s, strlen(s), &len);
    assert_non_null(u);
    smb_wr_align(w, 4);
    smb_wr_u32(w, max_count);
    smb_wr_u32(w, offset);
    smb_wr_u32(w, actual);
    smb_wr_bytes(w, u, len);
    smb_wr_u16(w, 0);
    free(u);
}

static uint32_t units_of(const char *s)
{
    size_t len = 0;
    uint8_t *u = smb_utf8_to_utf16le(s, strlen(s), &len);
    assert_non_null(u);
    free(u);
    return (uint32_t)(len / 2) + 1;
}

static void put_wstring(smb_wr *w, const char *s)
{
    uint32_t n = units_of(s);
    put_wstring_counts(w, s, n, 0, n);
}

/* The response stub of NetShareEnumAll (MS-SRVS 3.1.4.8) for shares,
 * field by field: InfoStruct (Level, union discriminant, Level1 pointer;
 * the container: EntriesRead, Buffer pointer; the array: max_count, the
 * entries' flat parts, then their strings), TotalEntries, ResumeHandle,
 * the WERROR. entries_read and max_count as given (normally n). */
static void build_stub_counts(smb_wr *w, const t_share *s, size_t n, uint32_t entries_read, uint32_t max_count,
                              uint32_t werror)
{
    smb_wr_init_grow(w, 256);
    uint32_t ref = 0x00020000;
    smb_wr_u32(w, 1);     /* Level */
    smb_wr_u32(w, 1);     /* discriminant */
    smb_wr_u32(w, ref);   /* Level1 */
    ref += 4;
    smb_wr_u32(w, entries_read);
    smb_wr_u32(w, n ? ref : 0); /* Buffer */
    ref += 4;
    if (n) {
        smb_wr_u32(w, max_count);
        for (size_t i = 0; i < n; i++) {
            smb_wr_u32(w, s[i].name ? ref : 0);
            ref += 4;
            smb_wr_u32(w, s[i].type);
            smb_wr_u32(w, s[i].comment ? ref : 0);
            ref += 4;
        }
        for (size_t i = 0; i < n; i++) {
            if (s[i].name)
                put_wstring(w, s[i].name);
            if (s[i].comment)
                put_wstring(w, s[i].comment);
        }
    }
    smb_wr_align(w, 4);
    smb_wr_u32(w, (uint32_t)n); /* TotalEntries */
    smb_wr_u32(w, ref);         /* ResumeHandle */
    smb_wr_u32(w, 0);
    smb_wr_u32(w, werror);
    assert_true(smb_wr_ok(w));
}

static void build_stub(smb_wr *w, const t_share *s, size_t n, uint32_t werror)
{
    build_stub_counts(w, s, n, (uint32_t)n, (uint32_t)n, werror);
}

/* One RESPONSE fragment (C706 12.6.4.10) holding stub[0..n). */
static void put_fragment(smb_wr *out, uint8_t flags, uint32_t call_id, uint32_t alloc_hint, const uint8_t *stub,
                         size_t n)
{
    smb_wr_u8(out, 5);
    smb_wr_u8(out, 0);
    smb_wr_u8(out, DCERPC_PTYPE_RESPONSE);
    smb_wr_u8(out, flags);
    smb_wr_u32(out, 0x00000010); /* drep 10 00 00 00 */
    smb_wr_u16(out, (uint16_t)(24 + n));
    smb_wr_u16(out, 0); /* auth_length */
    smb_wr_u32(out, call_id);
    smb_wr_u32(out, alloc_hint);
    smb_wr_u16(out, 0); /* p_cont_id */
    smb_wr_u8(out, 0);  /* cancel_count */
    smb_wr_u8(out, 0);
    smb_wr_bytes(out, stub, n);
}

/* The stub as RESPONSE fragments of at most per_frag stub bytes each. */
static void wrap(smb_wr *out, const smb_wr *stub, size_t per_frag)
{
    smb_wr_init_grow(out, stub->len + 64);
    size_t off = 0;
    do {
        size_t n = stub->len - off < per_frag ? stub->len - off : per_frag;
        uint8_t flags = (off == 0 ? DCERPC_PFC_FIRST_FRAG : 0) | (off + n == stub->len ? DCERPC_PFC_LAST_FRAG : 0);
        put_fragment(out, flags, CALL_ID, (uint32_t)(stub->len - off), stub->buf + off, n);
        off += n;
    } while (off < stub->len);
    assert_true(smb_wr_ok(out));
}

/* A FAULT PDU (C706 12.6.4.7) with status. */
static void build_fault(smb_wr *out, uint32_t call_id, uint32_t status)
{
    smb_wr_init_grow(out, 32);
    smb_wr_u8(out, 5);
    smb_wr_u8(out, 0);
    smb_wr_u8(out, DCERPC_PTYPE_FAULT);
    smb_wr_u8(out, DCERPC_PFC_FIRST_FRAG | DCERPC_PFC_LAST_FRAG);
    smb_wr_u32(out, 0x00000010);
    smb_wr_u16(out, 32);
    smb_wr_u16(out, 0);
    smb_wr_u32(out, call_id);
    smb_wr_u32(out, 0);  /* alloc_hint */
    smb_wr_u16(out, 0);  /* p_cont_id */
    smb_wr_u8(out, 0);   /* cancel_count */
    smb_wr_u8(out, 0);
    smb_wr_u32(out, status);
    smb_wr_u32(out, 0);
    assert_true(smb_wr_ok(out));
}

/* ---------------------------------------------------------------- decoding helpers */

/* The answer pdus[0..len) through srvsvc_share_enum_all_response, from an
 * exact-size heap copy (the address sanitizer reports reads past it). */
static int decode_pdus(const uint8_t *pdus, size_t len, smb_share_info **s, size_t *n, smb_error *err)
{
    uint8_t *copy = t_exact_copy(pdus, len);
    int rc = srvsvc_share_enum_all_response(copy, len, CALL_ID, s, n, err);
    free(copy);
    return rc;
}

static int decode_stub(const uint8_t *stub, size_t len, smb_share_info **s, size_t *n, smb_error *err)
{
    uint8_t *copy = t_exact_copy(stub, len);
    int rc = srvsvc_share_enum_all_decode(copy, len, s, n, err);
    free(copy);
    return rc;
}

/* The answer must be refused with want, leaving no list. */
static void expect_pdus_refused(const uint8_t *pdus, size_t len, int want)
{
    smb_share_info *s = (smb_share_info *)&s; /* not NULL: the decoder must clear it */
    size_t n = 99;
    smb_error err = {0};
    assert_int_equal(decode_pdus(pdus, len, &s, &n, &err), want);
    assert_int_equal(err.code, want);
    assert_true(err.message[0] != '\0');
    assert_null(s);
    assert_int_equal(n, 0);
}

static void expect_stub_refused(const smb_wr *stub, int want, const char *in_message)
{
    smb_share_info *s = (smb_share_info *)&s;
    size_t n = 99;
    smb_error err = {0};
    assert_int_equal(decode_stub(stub->buf, stub->len, &s, &n, &err), want);
    assert_null(s);
    assert_int_equal(n, 0);
    if (in_message && !strstr(err.message, in_message))
        fail_msg("message '%s' lacks '%s'", err.message, in_message);
}

static const t_share three[] = {
    {"data", SMB_STYPE_DISKTREE, "Data for everyone"},
    {"IPC$", SMB_STYPE_IPC | SMB_STYPE_SPECIAL, "IPC Service (café)"},
    {"laser", SMB_STYPE_PRINTQ, ""},
};

static void expect_three(const smb_share_info *s, size_t n)
{
    assert_int_equal(n, 3);
    assert_string_equal(s[0].name, "data");
    assert_int_equal(s[0].type, SMB_STYPE_DISKTREE);
    assert_string_equal(s[0].comment, "Data for everyone");
    assert_string_equal(s[1].name, "IPC$");
    assert_int_equal(s[1].type, 0x80000003u);
    assert_string_equal(s[1].comment, "IPC Service (caf\xc3\xa9)");
    assert_string_equal(smb_share_type_name(s[1].type), "ipc");
    assert_string_equal(s[2].name, "laser");
    assert_int_equal(s[2].type, SMB_STYPE_PRINTQ);
    assert_string_equal(s[2].comment, "");
    assert_string_equal(smb_share_type_name(s[2].type), "printer");
}

/* ---------------------------------------------------------------- requests */

/* BIND (C706 12.6.4.3): header, max_xmit/recv_frag, assoc_group_id, one
 * context with srvsvc v3.0 and NDR 2.0, byte for byte. */
static void test_bind_bytes(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        0x05, 0x00, 0x0b, 0x03, 0x10, 0x00, 0x00, 0x00, /* 5.0, BIND, first|last, drep */
        0x48, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* frag_length 72, auth_length 0, call_id 1 */
        0xb8, 0x10, 0xb8, 0x10, 0x00, 0x00, 0x00, 0x00, /* 4280, 4280, assoc_group_id 0 */
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, /* one context; p_cont_id 0, one transfer syntax */
        /* 4b324fc8-1670-01d3-1278-5a47bf6ee188 version 3.0 */
        0xc8, 0x4f, 0x32, 0x4b, 0x70, 0x16, 0xd3, 0x01, 0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88,
        0x03, 0x00, 0x00, 0x00,
        /* 8a885d04-1ceb-11c9-9fe8-08002b104860 version 2 */
        0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60,
        0x02, 0x00, 0x00, 0x00,
    };
    uint8_t buf[128];
    smb_wr w;
    smb_wr_init(&w, buf, sizeof buf);
    dcerpc_bind_encode(&w, 1, 4280, &srvsvc_syntax);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
}

/* REQUEST (C706 12.6.4.9) of opnum 15 with the NetShareEnumAll stub
 * (MS-SRVS 3.1.4.8): ServerName "\\\\ab" (5 units: two bytes of padding
 * follow), Level 1, the union's discriminant 1, a Level1 referent, an empty
 * container, PreferedMaximumLength 0xFFFFFFFF, ResumeHandle -> 0. */
static void test_request_bytes(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        0x05, 0x00, 0x00, 0x03, 0x10, 0x00, 0x00, 0x00, /* 5.0, REQUEST, first|last, drep */
        0x54, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, /* frag_length 84, auth 0, call_id 2 */
        0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x00, /* alloc_hint 60, p_cont_id 0, opnum 15 */
        0x00, 0x00, 0x02, 0x00,                         /* ServerName referent */
        0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, /* max 5, offset 0, actual 5 */
        0x5c, 0x00, 0x5c, 0x00, 0x61, 0x00, 0x62, 0x00, 0x00, 0x00,             /* "\\\\ab" NUL */
        0x00, 0x00,                                     /* padding to 4 */
        0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* Level 1, discriminant 1 */
        0x04, 0x00, 0x02, 0x00,                         /* Level1 referent */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* EntriesRead 0, Buffer null */
        0xff, 0xff, 0xff, 0xff,                         /* PreferedMaximumLength */
        0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, /* ResumeHandle referent, 0 */
    };
    smb_wr stub, pdu;
    smb_wr_init_grow(&stub, 64);
    smb_wr_init_grow(&pdu, 128);
    assert_int_equal(srvsvc_share_enum_all_encode(&stub, "\\\\ab", NULL), 0);
    assert_int_equal(dcerpc_request_encode(&pdu, 2, SRVSVC_OPNUM_NET_SHARE_ENUM_ALL, stub.buf, stub.len, 4280, NULL),
                     0);
    assert_true(smb_wr_ok(&pdu));
    assert_int_equal(pdu.len, sizeof want);
    assert_memory_equal(pdu.buf, want, sizeof want);
    /* Too large for the server's fragments: refused, nothing written. */
    smb_wr small;
    smb_wr_init_grow(&small, 16);
    assert_int_equal(dcerpc_request_encode(&small, 2, 15, stub.buf, stub.len, 80, NULL), SMB_ERR_INVALID_ARG);
    assert_int_equal(small.len, 0);
    smb_wr_free(&small);
    smb_wr_free(&stub);
    smb_wr_free(&pdu);
}

/* A null ServerName is a null referent, and the rest follows at once. */
static void test_request_null_server(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x02, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x08, 0x00, 0x02, 0x00,
        0x00, 0x00, 0x00, 0x00,
    };
    smb_wr stub;
    smb_wr_init_grow(&stub, 64);
    assert_int_equal(srvsvc_share_enum_all_encode(&stub, NULL, NULL), 0);
    assert_int_equal(stub.len, sizeof want);
    assert_memory_equal(stub.buf, want, sizeof want);
    smb_wr_free(&stub);
}

/* ---------------------------------------------------------------- binds */

static void test_bind_ack_samba(void **state)
{
    (void)state;
    uint8_t *copy = t_exact_copy(samba_bind_ack, sizeof samba_bind_ack);
    dcerpc_bind_ack ack = {0};
    smb_error err = {0};
    assert_int_equal(dcerpc_bind_ack_decode(copy, sizeof samba_bind_ack, 1, &ack, &err), 0);
    assert_int_equal(ack.max_xmit_frag, 4280);
    assert_int_equal(ack.max_recv_frag, 4280);
    assert_int_equal(ack.assoc_group_id, 0x0000c0a1);
    /* Another call's answer, or one cut short anywhere, is refused. */
    assert_int_equal(dcerpc_bind_ack_decode(copy, sizeof samba_bind_ack, 2, &ack, &err), SMB_ERR_PROTOCOL);
    for (size_t len = 0; len < sizeof samba_bind_ack; len++) {
        uint8_t *part = t_exact_copy(samba_bind_ack, len);
        assert_int_equal(dcerpc_bind_ack_decode(part, len, 1, &ack, NULL), SMB_ERR_PROTOCOL);
        free(part);
    }
    free(copy);
}

/* A BIND_ACK with one result: result, reason, transfer syntax. */
static void build_bind_ack(smb_wr *w, uint16_t result, uint16_t reason, const dcerpc_syntax *ts)
{
    smb_wr_init_grow(w, 80);
    smb_wr_u8(w, 5);
    smb_wr_u8(w, 0);
    smb_wr_u8(w, DCERPC_PTYPE_BIND_ACK);
    smb_wr_u8(w, 3);
    smb_wr_u32(w, 0x10);
    smb_wr_u16(w, 0); /* frag_length, below */
    smb_wr_u16(w, 0);
    smb_wr_u32(w, 1);
    smb_wr_u16(w, 5840);
    smb_wr_u16(w, 5840);
    smb_wr_u32(w, 0x1234);
    smb_wr_u16(w, 4); /* sec_addr "135" NUL: 2 + 4 bytes, then 2 of padding */
    smb_wr_bytes(w, "135", 4);
    smb_wr_align(w, 4);
    smb_wr_u8(w, 1);
    smb_wr_zero(w, 3);
    smb_wr_u16(w, result);
    smb_wr_u16(w, reason);
    smb_wr_u32(w, ts->time_low);
    smb_wr_u16(w, ts->time_mid);
    smb_wr_u16(w, ts->time_hi_and_version);
    smb_wr_bytes(w, ts->clock_seq_and_node, 8);
    smb_wr_u16(w, ts->major);
    smb_wr_u16(w, ts->minor);
    smb_wr_put_u16(w, 8, (uint16_t)w->len);
    assert_true(smb_wr_ok(w));
}

static void test_bind_ack_accepted_and_rejected(void **state)
{
    (void)state;
    smb_wr w;
    dcerpc_bind_ack ack = {0};
    smb_error err = {0};
    build_bind_ack(&w, DCERPC_RESULT_ACCEPTANCE, 0, &dcerpc_syntax_ndr20);
    assert_int_equal(dcerpc_bind_ack_decode(w.buf, w.len, 1, &ack, &err), 0);
    assert_int_equal(ack.max_recv_frag, 5840);
    assert_int_equal(ack.assoc_group_id, 0x1234);
    smb_wr_free(&w);

    /* Provider rejection, abstract syntax not supported. */
    build_bind_ack(&w, DCERPC_RESULT_PROVIDER_REJECTION, 1, &dcerpc_syntax_ndr20);
    assert_int_equal(dcerpc_bind_ack_decode(w.buf, w.len, 1, &ack, &err), SMB_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "abstract syntax not supported"));
    smb_wr_free(&w);

    /* Accepted with a transfer syntax that was not offered (NDR64). */
    dcerpc_syntax ndr64 = {0x71710533, 0xbeba, 0x4937, {0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36}, 1, 0};
    build_bind_ack(&w, DCERPC_RESULT_ACCEPTANCE, 0, &ndr64);
    assert_int_equal(dcerpc_bind_ack_decode(w.buf, w.len, 1, &ack, &err), SMB_ERR_PROTOCOL);
    smb_wr_free(&w);

    /* BIND_NAK (C706 12.6.4.5): protocol version not supported. */
    static const uint8_t nak[] = {0x05, 0x00, 0x0d, 0x03, 0x10, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
                                  0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00};
    assert_int_equal(dcerpc_bind_ack_decode(nak, sizeof nak, 1, &ack, &err), SMB_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "protocol version not supported"));

    /* A FAULT in answer to the BIND. */
    build_fault(&w, 1, DCERPC_NCA_S_UNK_IF);
    assert_int_equal(dcerpc_bind_ack_decode(w.buf, w.len, 1, &ack, &err), SMB_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "nca_s_unk_if"));
    smb_wr_free(&w);
}

/* ---------------------------------------------------------------- responses */

static void test_samba_response(void **state)
{
    (void)state;
    smb_share_info *s = NULL;
    size_t n = 0;
    smb_error err = {0};
    assert_int_equal(decode_pdus(samba_response, sizeof samba_response, &s, &n, &err), 0);
    static const char *const names[] = {"data", "guest", "readonly", "secret", "fidelity", "fidelitydepot", "IPC$"};
    assert_int_equal(n, 7);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(s[i].name, names[i]);
        assert_int_equal(s[i].type, SMB_STYPE_DISKTREE);
        assert_string_equal(s[i].comment, "");
        assert_string_equal(smb_share_type_name(s[i].type), "disk");
    }
    assert_string_equal(s[6].name, "IPC$");
    assert_int_equal(s[6].type, SMB_STYPE_IPC | SMB_STYPE_SPECIAL);
    assert_string_equal(s[6].comment, "IPC Service (smbcopy test server (main))");
    smb_shares_free(s, n);
}

static void test_three_shares(void **state)
{
    (void)state;
    smb_wr stub, pdus;
    build_stub(&stub, three, 3, 0);
    wrap(&pdus, &stub, 4096);
    smb_share_info *s = NULL;
    size_t n = 0;
    smb_error err = {0};
    assert_int_equal(decode_pdus(pdus.buf, pdus.len, &s, &n, &err), 0);
    expect_three(s, n);
    smb_shares_free(s, n);
    /* The stub alone decodes the same; padding to 8 bytes with zeros is taken. */
    assert_int_equal(decode_stub(stub.buf, stub.len, &s, &n, &err), 0);
    expect_three(s, n);
    smb_shares_free(s, n);
    smb_wr_zero(&stub, 4);
    assert_int_equal(decode_stub(stub.buf, stub.len, &s, &n, &err), 0);
    smb_shares_free(s, n);
    smb_wr_free(&stub);
    smb_wr_free(&pdus);
}

/* Null remark pointers give "", an empty list decodes to none. */
static void test_null_comment_and_empty_list(void **state)
{
    (void)state;
    static const t_share one[] = {{"x", SMB_STYPE_DEVICE | SMB_STYPE_TEMPORARY, NULL}};
    smb_wr stub;
    build_stub(&stub, one, 1, 0);
    smb_share_info *s = NULL;
    size_t n = 0;
    assert_int_equal(decode_stub(stub.buf, stub.len, &s, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].comment, "");
    assert_int_equal(s[0].type & SMB_STYPE_MASK, SMB_STYPE_DEVICE);
    assert_true(s[0].type & SMB_STYPE_TEMPORARY);
    assert_string_equal(smb_share_type_name(s[0].type), "device");
    smb_shares_free(s, n);
    smb_wr_free(&stub);

    build_stub(&stub, NULL, 0, 0);
    s = (smb_share_info *)&s;
    assert_int_equal(decode_stub(stub.buf, stub.len, &s, &n, NULL), 0);
    assert_null(s);
    assert_int_equal(n, 0);
    smb_wr_free(&stub);
    assert_string_equal(smb_share_type_name(7), "unknown");
}

/* The same stub in fragments of 8, 16 and 24 stub bytes (and one of
 * 40 then the rest): put back together, every dcerpc_stream_need before the
 * last byte asks for more. */
static void test_fragments_reassembled(void **state)
{
    (void)state;
    smb_wr stub;
    build_stub(&stub, three, 3, 0);
    static const size_t sizes[] = {8, 16, 24, 40};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        smb_wr pdus;
        wrap(&pdus, &stub, sizes[k]);
        assert_true(pdus.len > stub.len + 24 * 2); /* several fragments */
        smb_share_info *s = NULL;
        size_t n = 0;
        smb_error err = {0};
        if (decode_pdus(pdus.buf, pdus.len, &s, &n, &err) != 0)
            fail_msg("fragments of %zu: %s", sizes[k], err.message);
        expect_three(s, n);
        smb_shares_free(s, n);
        uint8_t *joined = NULL;
        size_t joined_len = 0;
        assert_int_equal(dcerpc_response_stub(pdus.buf, pdus.len, CALL_ID, &joined, &joined_len, NULL), 0);
        assert_int_equal(joined_len, stub.len);
        assert_memory_equal(joined, stub.buf, stub.len);
        free(joined);
        size_t need = 0;
        assert_int_equal(dcerpc_stream_need(pdus.buf, pdus.len, &need, NULL), 0);
        assert_int_equal(need, 0);
        for (size_t len = 0; len < pdus.len; len++) {
            assert_int_equal(dcerpc_stream_need(pdus.buf, len, &need, NULL), 0);
            assert_true(need > 0 && need <= pdus.len - len);
        }
        smb_wr_free(&pdus);
    }
    smb_wr_free(&stub);
}

/* Every prefix of a good answer fails cleanly: the captured one, the
 * hand-built one in fragments, and the stubs alone. */
static void test_every_truncation_refused(void **state)
{
    (void)state;
    for (size_t len = 0; len < sizeof samba_response; len++)
        expect_pdus_refused(samba_response, len, SMB_ERR_PROTOCOL);
    smb_wr stub, pdus;
    build_stub(&stub, three, 3, 0);
    wrap(&pdus, &stub, 16);
    for (size_t len = 0; len < pdus.len; len++)
        expect_pdus_refused(pdus.buf, len, SMB_ERR_PROTOCOL);
    for (size_t len = 0; len < stub.len; len++) {
        smb_wr part = {.buf = stub.buf, .len = len};
        expect_stub_refused(&part, SMB_ERR_PROTOCOL, NULL);
    }
    uint8_t *joined = NULL;
    size_t joined_len = 0;
    assert_int_equal(dcerpc_response_stub(samba_response, sizeof samba_response, CALL_ID, &joined, &joined_len, NULL),
                     0);
    for (size_t len = 0; len < joined_len; len++) {
        smb_wr part = {.buf = joined, .len = len};
        expect_stub_refused(&part, SMB_ERR_PROTOCOL, NULL);
    }
    free(joined);
    smb_wr_free(&stub);
    smb_wr_free(&pdus);
}

/* Strings whose counts disagree, are not terminated or hold a NUL. */
static void test_bad_strings(void **state)
{
    (void)state;
    struct {
        uint32_t max, offset, actual;
        const char *text;
        const char *why;
    } bad[] = {
        {3, 0, 4, "abc", "max_count 3"},         /* actual_count > max_count */
        {4, 1, 4, "abc", "offset 1"},            /* offset not 0 */
        {0, 0, 0, "", "actual_count 0"},         /* not even the NUL */
        {3, 0, 3, "abc", "terminating NUL"},     /* three units, no NUL */
        {4, 0, 4, "a\0c", "holds a NUL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smb_wr w;
        smb_wr_init_grow(&w, 64);
        smb_wr_u32(&w, bad[i].max);
        smb_wr_u32(&w, bad[i].offset);
        smb_wr_u32(&w, bad[i].actual);
        for (uint32_t k = 0; k < bad[i].actual; k++)
            smb_wr_u16(&w, k < 3 ? (uint8_t)bad[i].text[k] : 0);
        smb_rd r;
        smb_rd_init(&r, w.buf, w.len);
        char *out = (char *)&out;
        smb_error err = {0};
        assert_int_equal(ndr_rd_wstring(&r, 100, "name", &out, &err), SMB_ERR_PROTOCOL);
        assert_null(out);
        if (!strstr(err.message, bad[i].why))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.message, bad[i].why);
        smb_wr_free(&w);
    }
    /* max_count above actual_count is a larger buffer: taken. Over the cap: refused. */
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    put_wstring_counts(&w, "ab", 10, 0, 3);
    smb_rd r;
    smb_rd_init(&r, w.buf, w.len);
    char *out = NULL;
    assert_int_equal(ndr_rd_wstring(&r, 100, "name", &out, NULL), 0);
    assert_string_equal(out, "ab");
    free(out);
    smb_rd_init(&r, w.buf, w.len);
    assert_int_equal(ndr_rd_wstring(&r, 2, "name", &out, NULL), SMB_ERR_PROTOCOL);
    smb_wr_free(&w);

    /* In a whole answer: a name whose actual_count is above its max_count. */
    smb_wr stub;
    smb_wr_init_grow(&stub, 128);
    static const uint32_t head[] = {1, 1, 0x20000, 1, 0x20004, 1, 0x20008, 0, 0};
    for (size_t i = 0; i < 9; i++)
        smb_wr_u32(&stub, head[i]);
    put_wstring_counts(&stub, "abc", 3, 0, 4);
    smb_wr_u32(&stub, 1);
    smb_wr_u32(&stub, 0);
    smb_wr_u32(&stub, 0);
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "actual_count 4");
    smb_wr_free(&stub);
}

static void test_bad_counts(void **state)
{
    (void)state;
    smb_wr stub;
    /* EntriesRead unlike the array's max_count, either way. */
    build_stub_counts(&stub, three, 3, 3, 2, 0);
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "EntriesRead 3");
    smb_wr_free(&stub);
    build_stub_counts(&stub, three, 3, 4, 4, 0);
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, NULL);
    smb_wr_free(&stub);
    /* A huge count in a small answer: refused before any allocation. */
    build_stub_counts(&stub, three, 3, 0x7FFFFFFF, 0x7FFFFFFF, 0);
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "the most taken");
    smb_wr_free(&stub);
    build_stub_counts(&stub, three, 3, 60000, 60000, 0);
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "cut short");
    smb_wr_free(&stub);
    /* EntriesRead without an array. */
    smb_wr_init_grow(&stub, 64);
    static const uint32_t no_array[] = {1, 1, 0x20000, 2, 0, 2, 0, 0, 0};
    for (size_t i = 0; i < 9; i++)
        smb_wr_u32(&stub, no_array[i]);
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "without a share list");
    smb_wr_free(&stub);
    /* Another level; a null container with no error. */
    smb_wr_init_grow(&stub, 64);
    static const uint32_t level2[] = {2, 2, 0, 0, 0, 0};
    for (size_t i = 0; i < 6; i++)
        smb_wr_u32(&stub, level2[i]);
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "level 2");
    smb_wr_free(&stub);
    smb_wr_init_grow(&stub, 64);
    static const uint32_t null_ctr[] = {1, 1, 0, 0, 0, 0};
    for (size_t i = 0; i < 6; i++)
        smb_wr_u32(&stub, null_ctr[i]);
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "SHARE_INFO_1_CONTAINER");
    smb_wr_free(&stub);
}

/* A null or empty share name; bytes after the WERROR. */
static void test_bad_layouts(void **state)
{
    (void)state;
    smb_wr stub;
    static const t_share nameless[] = {{"a", 0, "x"}, {NULL, 0, "y"}};
    build_stub(&stub, nameless, 2, 0);
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "no name");
    smb_wr_free(&stub);
    static const t_share empty[] = {{"", 0, "x"}};
    build_stub(&stub, empty, 1, 0);
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "empty name");
    smb_wr_free(&stub);
    build_stub(&stub, three, 3, 0);
    smb_wr_u32(&stub, 0);
    smb_wr_u32(&stub, 0); /* 8 bytes more: more than padding */
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "after the end");
    smb_wr_free(&stub);
    build_stub(&stub, three, 3, 0);
    smb_wr_u8(&stub, 1); /* padding that is not zero */
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "after the end");
    smb_wr_free(&stub);
}

/* The most shares taken decode; one more is refused. */
static void test_share_cap(void **state)
{
    (void)state;
    t_share *many = calloc(SRVSVC_MAX_SHARES + 1, sizeof *many);
    assert_non_null(many);
    for (size_t i = 0; i <= SRVSVC_MAX_SHARES; i++)
        many[i] = (t_share){"s", 0, NULL};
    smb_wr stub;
    build_stub(&stub, many, SRVSVC_MAX_SHARES, 0);
    smb_share_info *s = NULL;
    size_t n = 0;
    assert_int_equal(decode_stub(stub.buf, stub.len, &s, &n, NULL), 0);
    assert_int_equal(n, SRVSVC_MAX_SHARES);
    assert_string_equal(s[SRVSVC_MAX_SHARES - 1].name, "s");
    smb_shares_free(s, n);
    smb_wr_free(&stub);
    build_stub(&stub, many, SRVSVC_MAX_SHARES + 1, 0);
    expect_stub_refused(&stub, SMB_ERR_PROTOCOL, "the most taken");
    smb_wr_free(&stub);
    free(many);
}

/* A WERROR refuses the call and names the error; no list comes with it. */
static void test_werror(void **state)
{
    (void)state;
    smb_wr stub, pdus;
    build_stub(&stub, NULL, 0, SRVSVC_WERR_ACCESS_DENIED);
    wrap(&pdus, &stub, 4096);
    smb_share_info *s = (smb_share_info *)&s;
    size_t n = 99;
    smb_error err = {0};
    assert_int_equal(decode_pdus(pdus.buf, pdus.len, &s, &n, &err), SMB_ERR_ACCESS);
    assert_null(s);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.message, "ERROR_ACCESS_DENIED"));
    smb_wr_free(&stub);
    smb_wr_free(&pdus);
    /* With shares in the answer too: still an error, nothing returned. */
    build_stub(&stub, three, 3, SRVSVC_WERR_MORE_DATA);
    expect_stub_refused(&stub, SMB_ERR_SERVER, "ERROR_MORE_DATA");
    smb_wr_free(&stub);
    build_stub(&stub, NULL, 0, 0x0000ABCD);
    expect_stub_refused(&stub, SMB_ERR_SERVER, "WERROR 43981");
    smb_wr_free(&stub);
}

/* FAULT PDUs (C706 12.6.4.7) map to clear errors. */
static void test_fault(void **state)
{
    (void)state;
    smb_wr w;
    smb_share_info *s = NULL;
    size_t n = 0;
    smb_error err = {0};
    build_fault(&w, CALL_ID, DCERPC_NCA_S_OP_RNG_ERROR);
    assert_int_equal(decode_pdus(w.buf, w.len, &s, &n, &err), SMB_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "nca_s_op_rng_error"));
    smb_wr_free(&w);
    build_fault(&w, CALL_ID, DCERPC_FAULT_ACCESS_DENIED);
    assert_int_equal(decode_pdus(w.buf, w.len, &s, &n, &err), SMB_ERR_ACCESS);
    smb_wr_free(&w);
    build_fault(&w, CALL_ID, 0x1C00001Bu);
    expect_pdus_refused(w.buf, w.len, SMB_ERR_PROTOCOL);
    assert_int_equal(decode_pdus(w.buf, w.len, &s, &n, &err), SMB_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "0x1C00001B"));
    /* A FAULT is whole at once: nothing more is waited for. */
    size_t need = 1;
    assert_int_equal(dcerpc_stream_need(w.buf, w.len, &need, NULL), 0);
    assert_int_equal(need, 0);
    smb_wr_free(&w);
}

/* Fragments that do not belong together, headers out of the one layout read. */
static void test_bad_fragments(void **state)
{
    (void)state;
    smb_wr stub, pdus;
    build_stub(&stub, three, 3, 0);
    wrap(&pdus, &stub, 64);
    size_t second = 24 + 64; /* offset of the second fragment */

    /* Another call id in the second fragment. */
    smb_wr_put_u32(&pdus, second + 12, CALL_ID + 1);
    expect_pdus_refused(pdus.buf, pdus.len, SMB_ERR_PROTOCOL);
    smb_wr_put_u32(&pdus, second + 12, CALL_ID);
    /* The second fragment flagged first. */
    pdus.buf[second + 3] |= DCERPC_PFC_FIRST_FRAG;
    expect_pdus_refused(pdus.buf, pdus.len, SMB_ERR_PROTOCOL);
    pdus.buf[second + 3] &= (uint8_t)~DCERPC_PFC_FIRST_FRAG;
    /* Authentication data, another version, a big-endian representation. */
    smb_wr_put_u16(&pdus, 10, 8);
    expect_pdus_refused(pdus.buf, pdus.len, SMB_ERR_PROTOCOL);
    smb_wr_put_u16(&pdus, 10, 0);
    pdus.buf[0] = 4;
    expect_pdus_refused(pdus.buf, pdus.len, SMB_ERR_PROTOCOL);
    pdus.buf[0] = 5;
    pdus.buf[4] = 0x00;
    expect_pdus_refused(pdus.buf, pdus.len, SMB_ERR_PROTOCOL);
    pdus.buf[4] = 0x10;
    /* Another context. */
    smb_wr_put_u16(&pdus, 20, 1);
    expect_pdus_refused(pdus.buf, pdus.len, SMB_ERR_PROTOCOL);
    smb_wr_put_u16(&pdus, 20, 0);
    /* A frag_length below the RESPONSE header. */
    smb_wr_put_u16(&pdus, 8, 20);
    expect_pdus_refused(pdus.buf, pdus.len, SMB_ERR_PROTOCOL);
    smb_wr_put_u16(&pdus, 8, 24 + 64);
    /* Sane again. */
    smb_share_info *s = NULL;
    size_t n = 0;
    assert_int_equal(decode_pdus(pdus.buf, pdus.len, &s, &n, NULL), 0);
    smb_shares_free(s, n);
    /* Bytes after the last fragment. */
    smb_wr_zero(&pdus, 4);
    expect_pdus_refused(pdus.buf, pdus.len, SMB_ERR_PROTOCOL);
    size_t need = 0;
    assert_int_equal(dcerpc_stream_need(pdus.buf, pdus.len, &need, NULL), SMB_ERR_PROTOCOL);
    smb_wr_free(&pdus);

    /* No last fragment: the answer never ends. */
    smb_wr_init_grow(&pdus, 128);
    put_fragment(&pdus, DCERPC_PFC_FIRST_FRAG, CALL_ID, 0, stub.buf, 16);
    expect_pdus_refused(pdus.buf, pdus.len, SMB_ERR_PROTOCOL);
    assert_int_equal(dcerpc_stream_need(pdus.buf, pdus.len, &need, NULL), 0);
    assert_int_equal(need, DCERPC_HDR_LEN);
    smb_wr_free(&pdus);
    smb_wr_free(&stub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_bytes),
        cmocka_unit_test(test_request_bytes),
        cmocka_unit_test(test_request_null_server),
        cmocka_unit_test(test_bind_ack_samba),
        cmocka_unit_test(test_bind_ack_accepted_and_rejected),
        cmocka_unit_test(test_samba_response),
        cmocka_unit_test(test_three_shares),
        cmocka_unit_test(test_null_comment_and_empty_list),
        cmocka_unit_test(test_fragments_reassembled),
        cmocka_unit_test(test_every_truncation_refused),
        cmocka_unit_test(test_bad_strings),
        cmocka_unit_test(test_bad_counts),
        cmocka_unit_test(test_bad_layouts),
        cmocka_unit_test(test_share_cap),
        cmocka_unit_test(test_werror),
        cmocka_unit_test(test_fault),
        cmocka_unit_test(test_bad_fragments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The DER reader and writer: round trips with short and long lengths,
 * OIDs, integers, and malformed encodings (truncated, oversized lengths,
 * wrong tags, inner elements overrunning outer ones, deep nesting).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/asn1.h"
#include "common/wire.h"

/* Read everything of p[0..len) as one element of tag; true when it parses. */
static bool one(const uint8_t *p, size_t len, uint8_t tag, smb_rd *content)
{
    smb_rd r;
    smb_rd_init(&r, p, len);
    return smb_asn1_expect(&r, tag, content) && smb_rd_left(&r) == 0 && smb_rd_ok(&r);
}

static void test_lengths_round_trip(void **state)
{
    (void)state;
    static const size_t sizes[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 70000};
    static const uint8_t hdr_len[] = {2, 2, 2, 3, 3, 4, 4, 5, 5};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *data = malloc(sizes[i] + 1);
        assert_non_null(data);
        for (size_t k = 0; k < sizes[i]; k++)
            data[k] = (uint8_t)(k * 7);
        smb_wr w;
        smb_wr_init_grow(&w, 16);
        smb_asn1_put(&w, SMB_ASN1_OCTET_STRING, data, sizes[i]);
        assert_true(smb_wr_ok(&w));
        assert_int_equal(w.len, sizes[i] + hdr_len[i]);
        smb_rd c;
        assert_true(one(w.buf, w.len, SMB_ASN1_OCTET_STRING, &c));
        assert_int_equal(c.len, sizes[i]);
        if (sizes[i])
            assert_memory_equal(c.base, data, sizes[i]);
        smb_wr_free(&w);
        free(data);
    }
}

static void test_nested_round_trip(void **state)
{
    (void)state;
    /* a0 { 30 { 04 <300 bytes>, 06 <oid>, a3 { 0a 01 02 } } }: the inner
     * long length forces the outer headers to grow after the fact. */
    uint8_t big[300];
    memset(big, 0x5a, sizeof big);
    static const uint8_t oid[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};
    smb_wr w;
    smb_wr_init_grow(&w, 8);
    size_t a0 = smb_asn1_begin(&w, SMB_ASN1_CONTEXT(0));
    size_t seq = smb_asn1_begin(&w, SMB_ASN1_SEQUENCE);
    smb_asn1_put(&w, SMB_ASN1_OCTET_STRING, big, sizeof big);
    smb_asn1_put(&w, SMB_ASN1_OID, oid, sizeof oid);
    size_t a3 = smb_asn1_begin(&w, SMB_ASN1_CONTEXT(3));
    smb_asn1_put_uint(&w, SMB_ASN1_ENUMERATED, 2);
    smb_asn1_end(&w, a3);
    smb_asn1_end(&w, seq);
    smb_asn1_end(&w, a0);
    assert_true(smb_wr_ok(&w));
    assert_true(smb_asn1_valid(w.buf, w.len, SMB_ASN1_MAX_DEPTH));

    smb_rd c0, cs, c, ce;
    assert_true(one(w.buf, w.len, SMB_ASN1_CONTEXT(0), &c0));
    assert_true(smb_asn1_expect(&c0, SMB_ASN1_SEQUENCE, &cs));
    assert_int_equal(smb_asn1_peek(&cs), SMB_ASN1_OCTET_STRING);
    assert_true(smb_asn1_expect(&cs, SMB_ASN1_OCTET_STRING, &c));
    assert_int_equal(c.len, sizeof big);
    assert_false(smb_asn1_optional(&cs, SMB_ASN1_CONTEXT(2), &c)); /* absent: nothing consumed */
    assert_true(smb_asn1_optional(&cs, SMB_ASN1_OID, &c));
    assert_memory_equal(c.base, oid, sizeof oid);
    assert_true(smb_asn1_expect(&cs, SMB_ASN1_CONTEXT(3), &c));
    assert_true(smb_asn1_expect(&c, SMB_ASN1_ENUMERATED, &ce));
    int32_t v = -1;
    assert_true(smb_asn1_get_int(&ce, &v));
    assert_int_equal(v, 2);
    assert_int_equal(smb_asn1_peek(&cs), -1);
    assert_true(smb_rd_ok(&cs));
    smb_wr_free(&w);
}

static void test_integers(void **state)
{
    (void)state;
    static const uint32_t vals[] = {0, 1, 127, 128, 255, 256, 0x7fffff, 0x800000, 0x7fffffff};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        uint8_t buf[16];
        smb_wr w;
        smb_wr_init(&w, buf, sizeof buf);
        smb_asn1_put_uint(&w, SMB_ASN1_INTEGER, vals[i]);
        assert_true(smb_wr_ok(&w));
        smb_rd c;
        assert_true(one(buf, w.len, SMB_ASN1_INTEGER, &c));
        int32_t v;
        assert_true(smb_asn1_get_int(&c, &v));
        assert_int_equal((uint32_t)v, vals[i]);
    }
    /* 128 needs a leading zero octet. */
    uint8_t buf[8];
    smb_wr w;
    smb_wr_init(&w, buf, sizeof buf);
    smb_asn1_put_uint(&w, SMB_ASN1_INTEGER, 128);
    assert_int_equal(w.len, 4);
    assert_memory_equal(buf, "\x02\x02\x00\x80", 4);
    /* Negative, empty and too long. */
    static const uint8_t neg[] = {0xff, 0x7f};
    smb_rd c;
    int32_t v;
    smb_rd_init(&c, neg, 2);
    assert_true(smb_asn1_get_int(&c, &v));
    assert_int_equal(v, -129);
    smb_rd_init(&c, neg, 0);
    assert_false(smb_asn1_get_int(&c, &v));
    static const uint8_t five[5] = {1, 2, 3, 4, 5};
    smb_rd_init(&c, five, 5);
    assert_false(smb_asn1_get_int(&c, &v));
    assert_false(smb_rd_ok(&c));
}

static void test_oids(void **state)
{
    (void)state;
    static const struct {
        uint32_t arcs[10];
        size_t n;
        const char *text;
        const char *der;
        size_t der_len;
    } v[] = {
        {{1, 3, 6, 1, 5, 5, 2}, 7, "1.3.6.1.5.5.2", "\x2b\x06\x01\x05\x05\x02", 6},
        {{1, 3, 6, 1, 4, 1, 311, 2, 2, 10}, 10, "1.3.6.1.4.1.311.2.2.10", "\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a", 10},
        {{1, 2, 840, 113554, 1, 2, 2}, 7, "1.2.840.113554.1.2.2", "\x2a\x86\x48\x86\xf7\x12\x01\x02\x02", 9},
        {{1, 2, 840, 48018, 1, 2, 2}, 7, "1.2.840.48018.1.2.2", "\x2a\x86\x48\x82\xf7\x12\x01\x02\x02", 9},
        {{2, 999, 3}, 3, "2.999.3", "\x88\x37\x03", 3},
        {{1, 2, 4294967295u}, 3, "1.2.4294967295", "\x2a\x8f\xff\xff\xff\x7f", 6},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t der[32];
        char text[64];
        size_t n = smb_asn1_oid_encode(v[i].arcs, v[i].n, der, sizeof der);
        assert_int_equal(n, v[i].der_len);
        assert_memory_equal(der, v[i].der, n);
        assert_true(smb_asn1_oid_str(der, n, text, sizeof text));
        assert_string_equal(text, v[i].text);
    }
    uint8_t der[4];
    static const uint32_t bad1[] = {3, 1}, bad2[] = {1, 40}, one_arc[] = {1};
    assert_int_equal(smb_asn1_oid_encode(bad1, 2, der, sizeof der), 0);
    assert_int_equal(smb_asn1_oid_encode(bad2, 2, der, sizeof der), 0);
    assert_int_equal(smb_asn1_oid_encode(one_arc, 1, der, sizeof der), 0);
    assert_int_equal(smb_asn1_oid_encode(v[1].arcs, v[1].n, der, sizeof der), 0); /* does not fit */

    char text[64];
    assert_false(smb_asn1_oid_str((const uint8_t *)"", 0, text, sizeof text));
    assert_false(smb_asn1_oid_str((const uint8_t *)"\x2b\x86", 2, text, sizeof text));  /* unfinished arc */
    assert_false(smb_asn1_oid_str((const uint8_t *)"\x2b\x80\x01", 3, text, sizeof text)); /* leading 0x80 */
    assert_false(smb_asn1_oid_str((const uint8_t *)"\x2a\x90\x80\x80\x80\x00", 6, text, sizeof text)); /* > 32 bits */
    assert_false(smb_asn1_oid_str((const uint8_t *)v[1].der, v[1].der_len, text, 8)); /* buffer too small */
}

static void test_malformed_headers(void **state)
{
    (void)state;
    static const struct {
        const char *p;
        size_t n;
    } bad[] = {
        {"", 0},                              /* nothing */
        {"\x04", 1},                          /* no length */
        {"\x04\x05\x01\x02", 4},              /* contents truncated */
        {"\x04\x80\x00\x00", 4},              /* indefinite length */
        {"\x04\x85\x00\x00\x00\x00\x01\x00", 8}, /* five length octets */
        {"\x04\x84\xff\xff\xff\xff", 6},      /* huge length */
        {"\x04\x82\x01", 3},                  /* length octets truncated */
        {"\x1f\x01\x00", 3},                  /* high tag number form */
        {"\x04\x81", 2},                      /* long form, no octet */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smb_rd r, c;
        uint8_t tag = 0xee;
        smb_rd_init(&r, bad[i].p, bad[i].n);
        assert_false(smb_asn1_next(&r, &tag, &c));
        assert_false(smb_rd_ok(&r));
        assert_false(smb_rd_ok(&c));
        assert_int_equal(c.len, 0);
        assert_int_equal(tag, 0xee);
        assert_int_equal(smb_asn1_peek(&r), -1);
        assert_false(smb_asn1_valid((const uint8_t *)bad[i].p, bad[i].n, 4) && bad[i].n > 0);
    }
    /* Wrong tag. */
    smb_rd r, c;
    smb_rd_init(&r, "\x04\x01\x00", 3);
    assert_false(smb_asn1_expect(&r, SMB_ASN1_SEQUENCE, &c));
    assert_false(smb_rd_ok(&r));
    /* An inner element claiming more than its outer element holds, even
     * though the bytes exist after the outer one. */
    static const uint8_t overrun[] = {0x30, 0x03, 0x04, 0x05, 0x01, 0x02, 0x03, 0x04, 0x05};
    smb_rd_init(&r, overrun, sizeof overrun);
    assert_true(smb_asn1_expect(&r, SMB_ASN1_SEQUENCE, &c));
    smb_rd in;
    assert_false(smb_asn1_expect(&c, SMB_ASN1_OCTET_STRING, &in));
    assert_false(smb_asn1_valid(overrun, sizeof overrun, 4));
    /* Non-minimal long-form lengths are accepted. */
    static const uint8_t long1[] = {0x04, 0x81, 0x01, 0xaa};
    assert_true(one(long1, sizeof long1, SMB_ASN1_OCTET_STRING, &c));
    assert_int_equal(c.len, 1);
    /* Operations on a failed reader stay failed. */
    smb_rd_init(&r, "\x04", 1);
    assert_false(smb_asn1_next(&r, (uint8_t[1]){0}, &c));
    smb_rd_init(&c, NULL, 0);
    assert_false(smb_asn1_optional(&r, SMB_ASN1_OCTET_STRING, &c));
}

static void test_nesting_depth(void **state)
{
    (void)state;
    /* 40 nested SEQUENCEs around an empty OCTET STRING. */
    smb_wr w;
    smb_wr_init_grow(&w, 16);
    size_t marks[40];
    for (int i = 0; i < 40; i++)
        marks[i] = smb_asn1_begin(&w, SMB_ASN1_SEQUENCE);
    smb_asn1_put(&w, SMB_ASN1_OCTET_STRING, NULL, 0);
    for (int i = 39; i >= 0; i--)
        smb_asn1_end(&w, marks[i]);
    assert_true(smb_wr_ok(&w));
    assert_true(smb_asn1_valid(w.buf, w.len, 41));
    assert_false(smb_asn1_valid(w.buf, w.len, 40));
    assert_false(smb_asn1_valid(w.buf, w.len, SMB_ASN1_MAX_DEPTH));
    assert_false(smb_asn1_valid(w.buf, w.len, 0));
    /* Every truncation is rejected, at any depth limit. */
    for (size_t n = 0; n < w.len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, w.buf, n);
        assert_false(smb_asn1_valid(copy, n, 64) && n > 0);
        free(copy);
    }
    smb_wr_free(&w);
}

static void test_fixed_writer_overflow(void **state)
{
    (void)state;
    uint8_t buf[8];
    smb_wr w;
    smb_wr_init(&w, buf, sizeof buf);
    size_t m = smb_asn1_begin(&w, SMB_ASN1_SEQUENCE);
    uint8_t data[200] = {0};
    smb_asn1_put(&w, SMB_ASN1_OCTET_STRING, data, sizeof data);
    smb_asn1_end(&w, m);
    assert_false(smb_wr_ok(&w));
    /* A bad mark is refused too. */
    smb_wr_init(&w, buf, sizeof buf);
    smb_asn1_end(&w, 5);
    assert_false(smb_wr_ok(&w));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths_round_trip), cmocka_unit_test(test_nested_round_trip),
        cmocka_unit_test(test_integers),           cmocka_unit_test(test_oids),
        cmocka_unit_test(test_malformed_headers),  cmocka_unit_test(test_nesting_depth),
        cmocka_unit_test(test_fixed_writer_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

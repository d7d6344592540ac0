/*
 * FileStreamInformation (MS-FSCC 2.4.44) through smb2_streams_decode:
 * buffers shaped as servers send them (entries 8-byte aligned, the last one
 * unpadded) decode to the named $DATA streams; malformed ones are refused.
 */
#include "pdu_test_util.h"
#include "utf16.h"

/* Append one entry named name16[0..name_len) (raw UTF-16LE) at the next
 * 8-byte boundary, linking the previous entry (at *prev, SIZE_MAX for none)
 * to it. */
static void add_raw(smb_wr *w, size_t *prev, const uint8_t *name16, uint32_t name_len, uint64_t size,
                    uint64_t alloc)
{
    smb_wr_align(w, 8);
    if (*prev != SIZE_MAX)
        smb_wr_put_u32(w, *prev, (uint32_t)(w->len - *prev));
    *prev = w->len;
    smb_wr_u32(w, 0); /* NextEntryOffset, patched by the next entry */
    smb_wr_u32(w, name_len);
    smb_wr_u64(w, size);
    smb_wr_u64(w, alloc);
    smb_wr_bytes(w, name16, name_len);
    assert_true(smb_wr_ok(w));
}

/* add_raw with a UTF-8 name (no NUL). */
static void add(smb_wr *w, size_t *prev, const char *name, uint64_t size, uint64_t alloc)
{
    size_t len = 0;
    uint8_t *u = smb_utf8_to_utf16le(name, strlen(name), &len);
    assert_non_null(u);
    add_raw(w, prev, u, (uint32_t)len, size, alloc);
    free(u);
}

/* Decode w's bytes from a heap block of exactly their size (the address
 * sanitizer reports any read past the end). */
static int decode(const smb_wr *w, smb_stream_info **s, size_t *n)
{
    uint8_t *copy = t_exact_copy(w->buf, w->len);
    int rc = smb2_streams_decode(copy, w->len, s, n);
    free(copy);
    return rc;
}

/* The buffer must be refused, leaving no list behind. */
static void expect_refused(const smb_wr *w)
{
    smb_stream_info *s = (smb_stream_info *)&s; /* not NULL: the decoder must clear it */
    size_t n = 99;
    assert_int_equal(decode(w, &s, &n), SMB_ERR_PROTOCOL);
    assert_null(s);
    assert_int_equal(n, 0);
}

/* A buffer with the main stream and then one entry named name: refused. */
static void expect_name_refused(const char *name)
{
    smb_wr w;
    smb_wr_init_grow(&w, 128);
    size_t prev = SIZE_MAX;
    add(&w, &prev, "::$DATA", 5, 8);
    add(&w, &prev, name, 1, 8);
    expect_refused(&w);
    smb_wr_free(&w);
}

/* A file with its main stream and one named stream, the main stream first
 * as Windows answers. */
static void test_one_stream(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 128);
    size_t prev = SIZE_MAX;
    add(&w, &prev, "::$DATA", 11, 4096);
    add(&w, &prev, ":one:$DATA", 3, 8);
    /* The layout itself: the main stream's entry is 24 + 14 bytes, padded
     * to 40, and the last entry has no padding. */
    assert_int_equal(smb_le32(w.buf), 40);
    assert_int_equal(w.len, 40 + 24 + 20);
    smb_stream_info *s = NULL;
    size_t n = 0;
    assert_int_equal(decode(&w, &s, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].name, "one");
    assert_true(s[0].size == 3);
    assert_true(s[0].allocation_size == 8);
    smb_streams_free(s, n);
    smb_wr_free(&w);
}

/* Several streams in the server's order; names beyond ASCII (a pair of
 * surrogates included) come back as UTF-8; the type compares without case;
 * streams of other types are left out. */
static void test_several_streams(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 256);
    size_t prev = SIZE_MAX;
    add(&w, &prev, ":Zone.Identifier:$DATA", 26, 32);
    add(&w, &prev, "::$DATA", 1000000, 1048576);
    add(&w, &prev, ":caf\xc3\xa9 \xf0\x9f\x98\x80:$data", 0, 0);
    add(&w, &prev, ":idx:$INDEX_ALLOCATION", 4096, 4096);
    add(&w, &prev, ":big:$DATA", 0x123456789ull, 0x123460000ull);
    smb_stream_info *s = NULL;
    size_t n = 0;
    assert_int_equal(decode(&w, &s, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(s[0].name, "Zone.Identifier");
    assert_true(s[0].size == 26 && s[0].allocation_size == 32);
    assert_string_equal(s[1].name, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    assert_true(s[1].size == 0 && s[1].allocation_size == 0);
    assert_string_equal(s[2].name, "big");
    assert_true(s[2].size == 0x123456789ull && s[2].allocation_size == 0x123460000ull);
    smb_streams_free(s, n);
    smb_wr_free(&w);
}

/* Only the main stream ("::$data" in any case), or nothing at all (a
 * directory without streams): an empty list, NULL. */
static void test_no_named_streams(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    size_t prev = SIZE_MAX;
    add(&w, &prev, "::$DATA", 7, 8);
    smb_stream_info *s = (smb_stream_info *)&s;
    size_t n = 99;
    assert_int_equal(decode(&w, &s, &n), 0);
    assert_null(s);
    assert_int_equal(n, 0);
    smb_wr_free(&w);

    smb_wr_init_grow(&w, 64);
    prev = SIZE_MAX;
    add(&w, &prev, "::$data", 7, 8);
    s = (smb_stream_info *)&s;
    assert_int_equal(decode(&w, &s, &n), 0);
    assert_null(s);
    assert_int_equal(n, 0);
    smb_wr_free(&w);

    s = (smb_stream_info *)&s;
    n = 99;
    assert_int_equal(smb2_streams_decode(NULL, 0, &s, &n), 0);
    assert_null(s);
    assert_int_equal(n, 0);
    smb_streams_free(NULL, 0);
}

/* The answer of Samba 4.17 (streams_xattr) for a file of 11 bytes with
 * the streams "one" (0 bytes) and "two" (5 bytes), as captured: the named
 * streams first, entries padded to 8 bytes, the main stream last. */
static void test_captured_samba(void **state)
{
    (void)state;
    static const uint8_t buf[] = {
        0x30, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x00, 0x6f, 0x00, 0x6e, 0x00, 0x65, 0x00,
        0x3a, 0x00, 0x24, 0x00, 0x44, 0x00, 0x41, 0x00, 0x54, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x30, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x00, 0x74, 0x00, 0x77, 0x00, 0x6f, 0x00,
        0x3a, 0x00, 0x24, 0x00, 0x44, 0x00, 0x41, 0x00, 0x54, 0x00, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x00, 0x3a, 0x00, 0x24, 0x00, 0x44, 0x00,
        0x41, 0x00, 0x54, 0x00, 0x41, 0x00,
    };
    uint8_t *copy = t_exact_copy(buf, sizeof buf);
    smb_stream_info *s = NULL;
    size_t n = 0;
    assert_int_equal(smb2_streams_decode(copy, sizeof buf, &s, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].name, "one");
    assert_true(s[0].size == 0);
    assert_true(s[0].allocation_size == 0);
    assert_string_equal(s[1].name, "two");
    assert_true(s[1].size == 5);
    assert_true(s[1].allocation_size == 5);
    smb_streams_free(s, n);
    free(copy);
}

/* impacket's answer for any file, as captured: one zeroed entry, no name.
 * Such an entry is left out, also in the middle of a list. */
static void test_nameless_entry(void **state)
{
    (void)state;
    static const uint8_t impacket[24] = {0};
    smb_stream_info *s = (smb_stream_info *)&s;
    size_t n = 99;
    assert_int_equal(smb2_streams_decode(impacket, sizeof impacket, &s, &n), 0);
    assert_null(s);
    assert_int_equal(n, 0);

    smb_wr w;
    smb_wr_init_grow(&w, 128);
    size_t prev = SIZE_MAX;
    add(&w, &prev, ":a:$DATA", 1, 8);
    add_raw(&w, &prev, NULL, 0, 0, 0);
    add(&w, &prev, ":b:$DATA", 2, 8);
    assert_int_equal(decode(&w, &s, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].name, "a");
    assert_string_equal(s[1].name, "b");
    smb_streams_free(s, n);
    smb_wr_free(&w);
}

/* An offset that is not a multiple of 8 is read like any other (as for
 * directory entries): the bounds, not the alignment, keep reads inside. */
static void test_unaligned_next_accepted(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 128);
    size_t prev = SIZE_MAX;
    add(&w, &prev, ":a:$DATA", 1, 8); /* 24 + 16 = 40 bytes */
    smb_wr_zero(&w, 2);
    smb_wr_put_u32(&w, 0, 42); /* the second entry at 42 */
    size_t len = 0;
    uint8_t *u = smb_utf8_to_utf16le(":b:$DATA", 8, &len);
    assert_non_null(u);
    smb_wr_u32(&w, 0);
    smb_wr_u32(&w, (uint32_t)len);
    smb_wr_u64(&w, 2);
    smb_wr_u64(&w, 8);
    smb_wr_bytes(&w, u, len);
    free(u);
    assert_int_equal(w.len, 82);
    smb_stream_info *s = NULL;
    size_t n = 0;
    assert_int_equal(decode(&w, &s, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(s[1].name, "b");
    assert_true(s[1].size == 2);
    smb_streams_free(s, n);
    smb_wr_free(&w);
}

/* NextEntryOffset past the end, onto the end, backwards, onto itself, or
 * into the entry's own name: refused (no walk can loop). */
static void test_bad_next_offset(void **state)
{
    (void)state;
    static const uint32_t bad[] = {
        84,         /* the buffer's length: no room for an entry */
        85,         /* past the end */
        4096,       /* far past the end */
        UINT32_MAX, /* wraps on 32-bit size_t arithmetic if done carelessly */
        38,         /* inside the first entry's name (24 + 14 bytes) */
        24,         /* the end of the fixed part, the name overlapping the next entry */
        8,          /* backwards into the entry itself */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smb_wr w;
        smb_wr_init_grow(&w, 128);
        size_t prev = SIZE_MAX;
        add(&w, &prev, "::$DATA", 11, 4096);
        add(&w, &prev, ":one:$DATA", 3, 8);
        assert_int_equal(w.len, 84);
        smb_wr_put_u32(&w, 0, bad[i]);
        expect_refused(&w);
        smb_wr_free(&w);
    }
    /* The second entry pointing back at the first (a loop). */
    smb_wr w;
    smb_wr_init_grow(&w, 128);
    size_t prev = SIZE_MAX;
    add(&w, &prev, ":a:$DATA", 1, 8);
    add(&w, &prev, ":b:$DATA", 1, 8);
    add(&w, &prev, ":c:$DATA", 1, 8);
    smb_wr_put_u32(&w, 40, (uint32_t)-40);
    expect_refused(&w);
    smb_wr_free(&w);
}

/* StreamNameLength odd or beyond the buffer; a fixed part cut short;
 * negative sizes. */
static void test_bad_lengths(void **state)
{
    (void)state;
    smb_wr w;
    size_t prev;

    smb_wr_init_grow(&w, 128);
    prev = SIZE_MAX;
    add(&w, &prev, ":one:$DATA", 3, 8);
    smb_wr_put_u32(&w, 4, 19); /* odd */
    expect_refused(&w);
    smb_wr_put_u32(&w, 4, 22); /* past the end */
    expect_refused(&w);
    smb_wr_put_u32(&w, 4, 0x7FFFFFFE);
    expect_refused(&w);
    smb_wr_put_u32(&w, 4, 20);
    smb_stream_info *s = NULL;
    size_t n = 0;
    assert_int_equal(decode(&w, &s, &n), 0); /* restored: fine again */
    assert_int_equal(n, 1);
    smb_streams_free(s, n);
    smb_wr_free(&w);

    /* StreamSize and StreamAllocationSize are signed: negative is refused. */
    smb_wr_init_grow(&w, 128);
    prev = SIZE_MAX;
    add(&w, &prev, ":one:$DATA", UINT64_MAX, 8);
    expect_refused(&w);
    smb_wr_free(&w);
    smb_wr_init_grow(&w, 128);
    prev = SIZE_MAX;
    add(&w, &prev, ":one:$DATA", 1, (uint64_t)INT64_MAX + 1);
    expect_refused(&w);
    smb_wr_free(&w);

    /* Every proper prefix of a valid buffer is refused. */
    smb_wr_init_grow(&w, 128);
    prev = SIZE_MAX;
    add(&w, &prev, "::$DATA", 11, 4096);
    add(&w, &prev, ":one:$DATA", 3, 8);
    size_t full = w.len;
    for (size_t cut = 1; cut < full; cut++) {
        w.len = cut;
        expect_refused(&w);
    }
    smb_wr_free(&w);
}

/* Names that are not ":NAME:TYPE", with an empty NAME or TYPE, or whose
 * NAME holds ':', '/', '\\' or NUL. */
static void test_bad_names(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "one",            /* no colon */
        "one:$DATA",      /* no leading colon */
        ":one",           /* no type */
        ":",              /* nothing */
        "::",             /* empty name and type */
        ":one:",          /* empty type */
        "::$INDEX",       /* empty name of another type */
        ":a:b:$DATA",     /* ':' in the name */
        ":a/b:$DATA",     /* '/' */
        ":a\\b:$DATA",    /* '\\' */
        ":/:$DATA",       /* '/' alone */
        ":..\\x:$DATA",   /* a path */
        ":a/b:$FOO",      /* another type: still checked */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_name_refused(bad[i]);

    /* A NUL unit inside the name: ":a\0b:$DATA". */
    static const uint8_t nul_name[] = {':', 0, 'a', 0, 0, 0, 'b', 0, ':', 0, '$', 0, 'D', 0, 'A', 0, 'T', 0, 'A', 0};
    smb_wr w;
    smb_wr_init_grow(&w, 128);
    size_t prev = SIZE_MAX;
    add_raw(&w, &prev, nul_name, sizeof nul_name, 1, 8);
    expect_refused(&w);
    smb_wr_free(&w);
}

/* At most SMB2_STREAMS_MAX named streams. */
static void test_count_cap(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 1 << 20);
    size_t prev = SIZE_MAX;
    for (size_t i = 0; i < SMB2_STREAMS_MAX; i++)
        add(&w, &prev, ":s:$DATA", i, 0);
    smb_stream_info *s = NULL;
    size_t n = 0;
    assert_int_equal(decode(&w, &s, &n), 0);
    assert_int_equal(n, SMB2_STREAMS_MAX);
    assert_true(s[SMB2_STREAMS_MAX - 1].size == SMB2_STREAMS_MAX - 1);
    smb_streams_free(s, n);
    add(&w, &prev, ":s:$DATA", 0, 0);
    expect_refused(&w);
    smb_wr_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_stream),
        cmocka_unit_test(test_several_streams),
        cmocka_unit_test(test_no_named_streams),
        cmocka_unit_test(test_captured_samba),
        cmocka_unit_test(test_nameless_entry),
        cmocka_unit_test(test_unaligned_next_accepted),
        cmocka_unit_test(test_bad_next_offset),
        cmocka_unit_test(test_bad_lengths),
        cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_count_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

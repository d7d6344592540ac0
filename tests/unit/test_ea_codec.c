/*
 * Extended attribute lists (FILE_FULL_EA_INFORMATION, MS-FSCC 2.4.15)
 * through smb2_ea_list_decode and smb2_ea_encode, and the copy chunk
 * messages (MS-SMB2 2.2.31.1, 2.2.32.1): lists shaped as servers send them
 * decode; every truncation and every malformed length or chain is refused
 * without a read past the buffer (each decode runs on an exact-size heap
 * copy, for the sanitizers and valgrind).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers_internal.h"

/* Append an entry at the next 4-byte boundary (MS-FSCC 2.4.15 aligns them), linking the previous one at *prev. */
static void add(smb_wr *w, size_t *prev, const char *name, const void *value, uint16_t vlen, uint8_t flags)
{
    smb_wr_align(w, 4);
    if (*prev != SIZE_MAX)
        smb_wr_put_u32(w, *prev, (uint32_t)(w->len - *prev));
    *prev = w->len;
    smb_wr_u32(w, 0);
    smb_wr_u8(w, flags);
    smb_wr_u8(w, (uint8_t)strlen(name));
    smb_wr_u16(w, vlen);
    smb_wr_bytes(w, name, strlen(name));
    smb_wr_u8(w, 0);
    smb_wr_bytes(w, value, vlen);
    assert_true(smb_wr_ok(w));
}

static int decode(const uint8_t *buf, size_t len, smb_ea_list **out)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, buf, len);
    int rc = smb2_ea_list_decode(copy, len, out);
    free(copy);
    return rc;
}

static void expect_refused(const uint8_t *buf, size_t len)
{
    smb_ea_list *l = (smb_ea_list *)&l; /* not NULL: the decoder must clear it */
    assert_int_equal(decode(buf, len, &l), SMB_ERR_PROTOCOL);
    assert_null(l);
}

static void test_one(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    size_t prev = SIZE_MAX;
    add(&w, &prev, "COLOR", "blue", 4, 0);
    smb_ea_list *l = NULL;
    assert_int_equal(decode(w.buf, w.len, &l), 0);
    assert_int_equal(l->count, 1);
    assert_string_equal(l->eas[0].name, "COLOR");
    assert_int_equal(l->eas[0].value_len, 4);
    assert_memory_equal(l->eas[0].value, "blue", 4);
    assert_int_equal(l->eas[0].flags, 0);
    smb_ea_list_free(l);
    smb_wr_free(&w);
}

static void test_several(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    size_t prev = SIZE_MAX;
    uint8_t bin[300];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)i;
    add(&w, &prev, "A", "x", 1, 0);
    add(&w, &prev, "EMPTY", "", 0, 0);
    add(&w, &prev, "BINARY.VALUE", bin, sizeof bin, 0x80);
    smb_ea_list *l = NULL;
    assert_int_equal(decode(w.buf, w.len, &l), 0);
    assert_int_equal(l->count, 3);
    assert_string_equal(l->eas[0].name, "A");
    assert_memory_equal(l->eas[0].value, "x", 1);
    assert_string_equal(l->eas[1].name, "EMPTY");
    assert_int_equal(l->eas[1].value_len, 0);
    assert_null(l->eas[1].value);
    assert_string_equal(l->eas[2].name, "BINARY.VALUE");
    assert_int_equal(l->eas[2].value_len, sizeof bin);
    assert_memory_equal(l->eas[2].value, bin, sizeof bin);
    assert_int_equal(l->eas[2].flags, 0x80);
    smb_ea_list_free(l);
    /* Every prefix shorter than the whole is refused (the chain or an entry is cut). */
    for (size_t n = 1; n < w.len; n++)
        expect_refused(w.buf, n);
    smb_wr_free(&w);
}

static void test_empty(void **state)
{
    (void)state;
    smb_ea_list *l = NULL;
    assert_int_equal(decode(NULL, 0, &l), 0);
    assert_non_null(l);
    assert_int_equal(l->count, 0);
    assert_null(l->eas);
    smb_ea_list_free(l);
    smb_ea_list_free(NULL);
}

/* What the encoder writes decodes back. */
static void test_round_trip(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 16);
    smb2_ea_encode(&w, "user.note", 9, "hello", 5);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, SMB2_EA_HEADER_LEN + 9 + 1 + 5);
    static const uint8_t want[] = {0, 0, 0, 0, 0, 9, 5, 0, 'u', 's', 'e', 'r', '.', 'n', 'o', 't', 'e', 0,
                                   'h', 'e', 'l', 'l', 'o'};
    assert_memory_equal(w.buf, want, sizeof want);
    smb_ea_list *l = NULL;
    assert_int_equal(decode(w.buf, w.len, &l), 0);
    assert_int_equal(l->count, 1);
    assert_string_equal(l->eas[0].name, "user.note");
    smb_ea_list_free(l);
    smb_wr_free(&w);
}

static void test_bad_lengths(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    size_t prev = SIZE_MAX;
    add(&w, &prev, "NAME", "value", 5, 0);
    uint8_t *b = w.buf;
    /* A value longer than what is left. */
    smb_put16(b + 6, 6);
    expect_refused(b, w.len);
    smb_put16(b + 6, 0xFFFF);
    expect_refused(b, w.len);
    smb_put16(b + 6, 5);
    /* A name longer than what is left, and one shorter (the terminator then falls on a letter). */
    b[5] = 0xFF;
    expect_refused(b, w.len);
    b[5] = 3;
    expect_refused(b, w.len);
    /* An empty name. */
    b[5] = 0;
    expect_refused(b, w.len);
    b[5] = 4;
    /* A NUL inside the name. */
    b[9] = 0;
    expect_refused(b, w.len);
    b[9] = 'A';
    /* The terminator missing. */
    b[12] = 'X';
    expect_refused(b, w.len);
    b[12] = 0;
    smb_ea_list *l = NULL;
    assert_int_equal(decode(b, w.len, &l), 0); /* restored: fine again */
    smb_ea_list_free(l);
    /* Shorter than a header. */
    expect_refused(b, 7);
    smb_wr_free(&w);
}

static void test_bad_chain(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    size_t prev = SIZE_MAX;
    add(&w, &prev, "FIRST", "1", 1, 0);
    add(&w, &prev, "SECOND", "2", 1, 0);
    uint8_t *b = w.buf;
    uint32_t good = smb_le32(b);
    /* Into the entry itself, backwards (a loop), past the end, to the last byte. */
    const uint32_t bad[] = {1, 8, SMB2_EA_HEADER_LEN + 5, (uint32_t)w.len, (uint32_t)w.len - 1, 0xFFFFFFFFu, 0x80000000u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smb_put32(b, bad[i]);
        expect_refused(b, w.len);
    }
    /* An unaligned but forward offset inside the buffer is taken (servers pad, the decoder need not insist). */
    smb_put32(b, good);
    smb_ea_list *l = NULL;
    assert_int_equal(decode(b, w.len, &l), 0);
    assert_int_equal(l->count, 2);
    assert_string_equal(l->eas[1].name, "SECOND");
    smb_ea_list_free(l);
    /* The second entry pointing on to nothing. */
    smb_put32(b + good, 16);
    expect_refused(b, w.len);
    smb_wr_free(&w);
}

/* At most SMB_EA_LIST_MAX entries. */
static void test_count_cap(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 1 << 20);
    size_t prev = SIZE_MAX;
    for (size_t i = 0; i < SMB_EA_LIST_MAX; i++)
        add(&w, &prev, "E", "", 0, 0);
    smb_ea_list *l = NULL;
    assert_int_equal(decode(w.buf, w.len, &l), 0);
    assert_int_equal(l->count, SMB_EA_LIST_MAX);
    smb_ea_list_free(l);
    add(&w, &prev, "E", "", 0, 0);
    expect_refused(w.buf, w.len);
    smb_wr_free(&w);
}

static void test_names(void **state)
{
    (void)state;
    assert_true(smb2_ea_name_ok("user.test"));
    assert_true(smb2_ea_name_ok("A"));
    char longest[256];
    memset(longest, 'x', 255);
    longest[255] = '\0';
    assert_true(smb2_ea_name_ok(longest));
    char too_long[257];
    memset(too_long, 'x', 256);
    too_long[256] = '\0';
    assert_false(smb2_ea_name_ok(too_long));
    assert_false(smb2_ea_name_ok(""));
    assert_false(smb2_ea_name_ok("a:b"));
    assert_false(smb2_ea_name_ok("a*"));
    assert_false(smb2_ea_name_ok("tab\there"));
    assert_false(smb2_ea_name_ok("caf\xc3\xa9"));
}

static void test_copychunk(void **state)
{
    (void)state;
    uint8_t key[SMB2_RESUME_KEY_LEN];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0xA0 + i);
    smb2_copychunk_limits lim = {3, 1000, 2500};
    uint8_t buf[SMB2_COPYCHUNK_HEAD_LEN + 3 * SMB2_COPYCHUNK_CHUNK_LEN];
    smb_wr w;
    smb_wr_init(&w, buf, sizeof buf);
    uint32_t asked = 0;
    /* 2500 bytes at most: chunks of 1000, 1000, 500 from offset 7. */
    assert_int_equal(smb2_copychunk_encode(&w, key, &lim, 7, 10000, &asked), 3);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(asked, 2500);
    assert_int_equal(w.len, sizeof buf);
    assert_memory_equal(buf, key, sizeof key);
    assert_int_equal(smb_le32(buf + 24), 3);
    const uint8_t *c = buf + SMB2_COPYCHUNK_HEAD_LEN;
    assert_int_equal(smb_le64(c), 7);
    assert_int_equal(smb_le64(c + 8), 7);
    assert_int_equal(smb_le32(c + 16), 1000);
    assert_int_equal(smb_le64(c + 48), 2007);
    assert_int_equal(smb_le32(c + 64), 500);
    /* The tail of a file: fewer, shorter chunks. */
    smb_wr_init(&w, buf, sizeof buf);
    assert_int_equal(smb2_copychunk_encode(&w, key, &lim, 0, 1200, &asked), 2);
    assert_int_equal(asked, 1200);
    assert_int_equal(smb_le32(buf + SMB2_COPYCHUNK_HEAD_LEN + 24 + 16), 200);

    static const uint8_t rsp[] = {16, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 1};
    smb2_copychunk_rsp r;
    assert_int_equal(smb2_copychunk_rsp_decode(rsp, sizeof rsp, &r), 0);
    assert_int_equal(r.chunks_written, 16);
    assert_int_equal(r.chunk_bytes, 1u << 20);
    assert_int_equal(r.total_bytes, 1u << 24);
    for (size_t n = 0; n < sizeof rsp; n++)
        assert_int_equal(smb2_copychunk_rsp_decode(rsp, n, &r), SMB_ERR_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one),         cmocka_unit_test(test_several),   cmocka_unit_test(test_empty),
        cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_bad_lengths), cmocka_unit_test(test_bad_chain),
        cmocka_unit_test(test_count_cap),   cmocka_unit_test(test_names),     cmocka_unit_test(test_copychunk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

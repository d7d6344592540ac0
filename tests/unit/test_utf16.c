/* UTF-8 (WTF-8) <-> UTF-16LE conversion and the wire form of paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "utf16.h"

/* UTF-8 string s must convert to exactly the UTF-16LE bytes want and back. */
static void check_both_ways(const char *s, const uint8_t *want, size_t want_len)
{
    size_t n = 12345;
    uint8_t *u = smb_utf8_to_utf16le(s, strlen(s), &n);
    assert_non_null(u);
    assert_int_equal(n, want_len);
    if (want_len)
        assert_memory_equal(u, want, want_len);
    char *back = smb_utf16le_to_utf8(u, n);
    assert_non_null(back);
    assert_string_equal(back, s);
    free(back);
    free(u);
}

/* UTF-16LE bytes must convert to UTF-8 `want` and back to the same bytes. */
static void check_from_wire(const uint8_t *w, size_t len, const char *want)
{
    char *s = smb_utf16le_to_utf8(w, len);
    assert_non_null(s);
    if (want)
        assert_string_equal(s, want);
    size_t n = 0;
    uint8_t *u = smb_utf8_to_utf16le(s, strlen(s), &n);
    assert_non_null(u);
    assert_int_equal(n, len);
    assert_memory_equal(u, w, len);
    free(u);
    free(s);
}

static void refused_utf8(const char *s, size_t len)
{
    size_t n = 0;
    uint8_t *u = smb_utf8_to_utf16le(s, len, &n);
    assert_null(u);
}

static void test_empty(void **state)
{
    (void)state;
    check_both_ways("", NULL, 0);
    char *s = smb_utf16le_to_utf8((const uint8_t *)"", 0);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void test_ascii(void **state)
{
    (void)state;
    static const uint8_t w[] = {'a', 0, 'B', 0, '/', 0, '~', 0, 0x7F, 0};
    check_both_ways("aB/~\x7F", w, sizeof w);
}

static void test_two_and_three_bytes(void **state)
{
    (void)state;
    /* U+00E9, U+07FF, U+0800, U+20AC, U+FFFD, U+FFFF */
    static const uint8_t w[] = {0xE9, 0x00, 0xFF, 0x07, 0x00, 0x08, 0xAC, 0x20, 0xFD, 0xFF, 0xFF, 0xFF};
    check_both_ways("\xC3\xA9\xDF\xBF\xE0\xA0\x80\xE2\x82\xAC\xEF\xBF\xBD\xEF\xBF\xBF", w, sizeof w);
    /* U+0080 (lowest 2-byte) and U+E000 (just past the surrogates) */
    static const uint8_t w2[] = {0x80, 0x00, 0x00, 0xE0};
    check_both_ways("\xC2\x80\xEE\x80\x80", w2, sizeof w2);
}

static void test_supplementary(void **state)
{
    (void)state;
    /* U+1F600 = D83D DE00 */
    static const uint8_t w[] = {0x3D, 0xD8, 0x00, 0xDE};
    check_both_ways("\xF0\x9F\x98\x80", w, sizeof w);
    /* U+10000 = D800 DC00, U+10FFFF = DBFF DFFF */
    static const uint8_t w2[] = {0x00, 0xD8, 0x00, 0xDC, 'x', 0, 0xFF, 0xDB, 0xFF, 0xDF};
    check_both_ways("\xF0\x90\x80\x80x\xF4\x8F\xBF\xBF", w2, sizeof w2);
}

static void test_lone_surrogates(void **state)
{
    (void)state;
    /* lone high */
    static const uint8_t hi[] = {'a', 0, 0x3D, 0xD8, 'b', 0};
    check_from_wire(hi, sizeof hi, "a\xED\xA0\xBD" "b");
    /* lone low */
    static const uint8_t lo[] = {0x00, 0xDE, 'c', 0};
    check_from_wire(lo, sizeof lo, "\xED\xB8\x80" "c");
    /* high at the very end */
    static const uint8_t end[] = {'z', 0, 0xFF, 0xDB};
    check_from_wire(end, sizeof end, "z\xED\xAF\xBF");
    /* low then high: two lone units, not a pair */
    static const uint8_t rev[] = {0x00, 0xDC, 0x00, 0xD8};
    check_from_wire(rev, sizeof rev, "\xED\xB0\x80\xED\xA0\x80");
    /* two highs, then a real pair made of the second high and a low */
    static const uint8_t hh[] = {0x3D, 0xD8, 0x3D, 0xD8, 0x00, 0xDE};
    check_from_wire(hh, sizeof hh, "\xED\xA0\xBD\xF0\x9F\x98\x80");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    /* stray continuation bytes */
    refused_utf8("\x80", 1);
    refused_utf8("a\xBF", 2);
    /* overlong forms */
    refused_utf8("\xC0\xAF", 2);
    refused_utf8("\xC1\xBF", 2);
    refused_utf8("\xE0\x80\xAF", 3);
    refused_utf8("\xE0\x9F\xBF", 3);
    refused_utf8("\xF0\x80\x80\xAF", 4);
    refused_utf8("\xF0\x8F\xBF\xBF", 4);
    refused_utf8("\xC0\x80", 2); /* overlong NUL */
    /* above U+10FFFF */
    refused_utf8("\xF4\x90\x80\x80", 4);
    refused_utf8("\xF5\x80\x80\x80", 4);
    refused_utf8("\xF8\x88\x80\x80\x80", 5);
    refused_utf8("\xFF", 1);
    refused_utf8("\xFE", 1);
    /* truncated sequences, at the end and in the middle */
    refused_utf8("\xC3", 1);
    refused_utf8("\xE2\x82", 2);
    refused_utf8("\xF0\x9F\x98", 3);
    refused_utf8("\xE2\x82x", 3);
    refused_utf8("\xF0\x9F\x98x", 4);
    refused_utf8("\xC3\xC3\xA9", 3);
    /* a surrogate pair written as two 3-byte forms (should be one 4-byte) */
    refused_utf8("\xED\xA0\xBD\xED\xB8\x80", 6);
    refused_utf8("x\xED\xAF\xBF\xED\xBF\xBFy", 8);
    /* NUL inside the given length */
    refused_utf8("a\0b", 3);
    refused_utf8("\0", 1);
}

static void test_valid_wtf8_pairs_apart(void **state)
{
    (void)state;
    /* high, other char, low: both stay lone */
    static const uint8_t w[] = {0x3D, 0xD8, 'x', 0, 0x00, 0xDE};
    check_both_ways("\xED\xA0\xBDx\xED\xB8\x80", w, sizeof w);
    /* low then high in WTF-8 is fine (not a pair) */
    static const uint8_t w2[] = {0x00, 0xDE, 0x3D, 0xD8};
    check_both_ways("\xED\xB8\x80\xED\xA0\xBD", w2, sizeof w2);
}

static void test_length_is_honoured(void **state)
{
    (void)state;
    size_t n = 0;
    /* only the first 2 bytes are converted */
    uint8_t *u = smb_utf8_to_utf16le("abcdef", 2, &n);
    assert_non_null(u);
    assert_int_equal(n, 4);
    assert_memory_equal(u, "a\0b\0", 4);
    free(u);
    /* a multi-byte sequence cut by the length is truncated */
    refused_utf8("\xC3\xA9", 1);
}

static void test_invalid_utf16(void **state)
{
    (void)state;
    static const uint8_t w[] = {'a', 0, 'b'};
    assert_null(smb_utf16le_to_utf8(w, 3));
    assert_null(smb_utf16le_to_utf8(w, 1));
    static const uint8_t nul[] = {'a', 0, 0, 0, 'b', 0};
    assert_null(smb_utf16le_to_utf8(nul, sizeof nul));
    static const uint8_t only_nul[] = {0, 0};
    assert_null(smb_utf16le_to_utf8(only_nul, sizeof only_nul));
}

static void test_all_single_units(void **state)
{
    (void)state;
    for (uint32_t c = 1; c <= 0xFFFF; c++) {
        uint8_t w[2] = {(uint8_t)(c & 0xFF), (uint8_t)(c >> 8)};
        char *s = smb_utf16le_to_utf8(w, 2);
        assert_non_null(s);
        size_t sl = strlen(s);
        assert_int_equal(sl, c < 0x80 ? 1 : c < 0x800 ? 2 : 3);
        size_t n = 0;
        uint8_t *u = smb_utf8_to_utf16le(s, sl, &n);
        assert_non_null(u);
        assert_int_equal(n, 2);
        assert_memory_equal(u, w, 2);
        free(u);
        free(s);
    }
}

static void test_supplementary_sample(void **state)
{
    (void)state;
    for (uint32_t c = 0x10000; c <= 0x10FFFF; c += 0x1F1) {
        uint32_t v = c - 0x10000;
        uint32_t hi = 0xD800 | (v >> 10), lo = 0xDC00 | (v & 0x3FF);
        uint8_t w[4] = {(uint8_t)hi, (uint8_t)(hi >> 8), (uint8_t)lo, (uint8_t)(lo >> 8)};
        char want[5] = {(char)(0xF0 | (c >> 18)), (char)(0x80 | ((c >> 12) & 0x3F)),
                        (char)(0x80 | ((c >> 6) & 0x3F)), (char)(0x80 | (c & 0x3F)), 0};
        check_from_wire(w, sizeof w, want);
    }
    static const uint8_t last[] = {0xFF, 0xDB, 0xFF, 0xDF};
    check_from_wire(last, sizeof last, "\xF4\x8F\xBF\xBF");
}

/* A small deterministic generator, state kept by the caller. */
static uint32_t next_rand(uint32_t *x)
{
    *x = *x * 1664525u + 1013904223u;
    return *x >> 8;
}

static void test_random_bytes(void **state)
{
    (void)state;
    /* Whatever UTF-8 is accepted converts back to the same bytes. */
    static const uint8_t pool[] = {'a', 0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF,
                                   0xA0, 0x9F, 0xB0, 0xF0, 0xF4, 0x90, 0x8F, 0xF5, 0xFF};
    uint32_t x = 12345;
    size_t accepted = 0;
    for (int round = 0; round < 200000; round++) {
        char s[8];
        size_t len = next_rand(&x) % sizeof s;
        for (size_t i = 0; i < len; i++)
            s[i] = (char)pool[next_rand(&x) % sizeof pool];
        size_t n = 0;
        uint8_t *u = smb_utf8_to_utf16le(s, len, &n);
        if (!u)
            continue;
        accepted++;
        char *back = smb_utf16le_to_utf8(u, n);
        assert_non_null(back);
        assert_int_equal(strlen(back), len);
        assert_memory_equal(back, s, len);
        free(back);
        free(u);
    }
    assert_true(accepted > 1000);

    /* Any UTF-16 without NUL converts to WTF-8 and back to the same units. */
    static const uint16_t units[] = {'a', 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xD800, 0xDBFF,
                                     0xDC00, 0xDFFF, 0xE000, 0xFFFF};
    for (int round = 0; round < 100000; round++) {
        uint8_t w[12];
        size_t nu = next_rand(&x) % (sizeof w / 2 + 1);
        for (size_t i = 0; i < nu; i++) {
            uint16_t c = units[next_rand(&x) % (sizeof units / sizeof units[0])];
            w[2 * i] = (uint8_t)c;
            w[2 * i + 1] = (uint8_t)(c >> 8);
        }
        check_from_wire(w, nu * 2, NULL);
    }
}

static void check_path(const char *in, const char *want)
{
    char *w = smb_path_to_wire(in);
    assert_non_null(w);
    assert_string_equal(w, want);
    free(w);
}

static void test_path_to_wire(void **state)
{
    (void)state;
    check_path("", "");
    check_path("/", "");
    check_path("\\\\//", "");
    check_path("a", "a");
    check_path("/a/b/c.txt", "a\\b\\c.txt");
    check_path("a//b\\\\c", "a\\b\\c");
    check_path("\\a\\/b", "a\\b");
    check_path("dir/", "dir");
    check_path("dir/sub//", "dir\\sub");
    check_path("caf\xC3\xA9/x", "caf\xC3\xA9\\x");
    check_path(NULL, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_two_and_three_bytes),
        cmocka_unit_test(test_supplementary),
        cmocka_unit_test(test_lone_surrogates),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_valid_wtf8_pairs_apart),
        cmocka_unit_test(test_length_is_honoured),
        cmocka_unit_test(test_invalid_utf16),
        cmocka_unit_test(test_all_single_units),
        cmocka_unit_test(test_supplementary_sample),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_path_to_wire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

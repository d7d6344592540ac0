/*
 * The one UTF-8 decoder (utf16.h): RFC 3629's rules, strict for credentials
 * and the NEGOTIATE netname, WTF-8 (lone surrogates) for names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "utf16.h"

/* s decodes to one code point, want, of strlen(s) bytes in both modes. */
static void accepted_both(const char *s, uint32_t want)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t n = strlen(s);
    uint32_t cp = 0;
    assert_int_equal(smb_utf8_decode(u, n, SMB_UTF8_STRICT, &cp), n);
    assert_int_equal(cp, want);
    cp = 0;
    assert_int_equal(smb_utf8_decode(u, n, SMB_UTF8_WTF8, &cp), n);
    assert_int_equal(cp, want);
}

/* s (len bytes) is refused in both modes. */
static void refused_both(const char *s, size_t len)
{
    uint32_t cp;
    assert_int_equal(smb_utf8_decode((const uint8_t *)s, len, SMB_UTF8_STRICT, &cp), 0);
    assert_int_equal(smb_utf8_decode((const uint8_t *)s, len, SMB_UTF8_WTF8, &cp), 0);
}

static void test_boundaries(void **state)
{
    (void)state;
    accepted_both("\x7F", 0x7F);
    accepted_both("\xC2\x80", 0x80);
    accepted_both("\xDF\xBF", 0x7FF);
    accepted_both("\xE0\xA0\x80", 0x800);
    accepted_both("\xED\x9F\xBF", 0xD7FF); /* just below the surrogates */
    accepted_both("\xEE\x80\x80", 0xE000); /* just above */
    accepted_both("\xEF\xBF\xBF", 0xFFFF);
    accepted_both("\xF0\x90\x80\x80", 0x10000);
    accepted_both("\xF4\x8F\xBF\xBF", 0x10FFFF);
}

static void test_overlong_refused(void **state)
{
    (void)state;
    refused_both("\xC0\xAF", 2); /* '/' in two bytes */
    refused_both("\xC1\xBF", 2);
    refused_both("\xE0\x9F\xBF", 3); /* U+07FF in three */
    refused_both("\xF0\x8F\xBF\xBF", 4); /* U+FFFF in four */
    refused_both("\xE0\x80\xAF", 3);
}

static void test_beyond_unicode_refused(void **state)
{
    (void)state;
    refused_both("\xF4\x90\x80\x80", 4); /* U+110000 */
    refused_both("\xF5\x80\x80\x80", 4);
    refused_both("\xFF", 1);
}

static void test_malformed_refused(void **state)
{
    (void)state;
    refused_both("\x80", 1); /* a lone continuation byte */
    refused_both("\xE2\x82", 2); /* truncated */
    refused_both("\xE2\x28\xA1", 3); /* a bad continuation byte */
    refused_both("\xF0\x90\x80\x41", 4);
}

static void test_surrogates_by_mode(void **state)
{
    (void)state;
    static const char *surrogates[] = {"\xED\xA0\x80", "\xED\xAF\xBF", "\xED\xB0\x80", "\xED\xBF\xBF"};
    static const uint32_t values[] = {0xD800, 0xDBFF, 0xDC00, 0xDFFF};
    for (size_t i = 0; i < 4; i++) {
        uint32_t cp = 0;
        const uint8_t *u = (const uint8_t *)surrogates[i];
        assert_int_equal(smb_utf8_decode(u, 3, SMB_UTF8_STRICT, &cp), 0);
        assert_int_equal(smb_utf8_decode(u, 3, SMB_UTF8_WTF8, &cp), 3);
        assert_int_equal(cp, values[i]);
    }
}

/* Refused text leaves the writer as it was; accepted text is appended. */
static void test_writer(void **state)
{
    (void)state;
    uint8_t buf[32];
    smb_wr w;
    smb_wr_init(&w, buf, sizeof buf);
    smb_wr_u16(&w, 0x1234);
    static const char *strict_bad[] = {"ok\xED\xA0\x80", "ok\xC0\xAF", "ok\xF4\x90\x80\x80", "ok\xE2\x82"};
    for (size_t i = 0; i < 4; i++) {
        assert_false(smb_wr_utf8_as_utf16le(&w, strict_bad[i], strlen(strict_bad[i]), SMB_UTF8_STRICT));
        assert_int_equal(w.len, 2);
    }
    /* A NUL inside the text, and an encoded pair in WTF-8, are refused too. */
    assert_false(smb_wr_utf8_as_utf16le(&w, "a\0b", 3, SMB_UTF8_WTF8));
    assert_false(smb_wr_utf8_as_utf16le(&w, "\xED\xA0\xBD\xED\xB8\x80", 6, SMB_UTF8_WTF8));
    assert_int_equal(w.len, 2);
    /* A lone high surrogate is a name's, not a credential's. */
    assert_false(smb_wr_utf8_as_utf16le(&w, "\xED\xA0\xBD", 3, SMB_UTF8_STRICT));
    assert_true(smb_wr_utf8_as_utf16le(&w, "\xED\xA0\xBD", 3, SMB_UTF8_WTF8));
    /* U+00E9 and U+1F600 (a pair). */
    assert_true(smb_wr_utf8_as_utf16le(&w, "\xC3\xA9\xF0\x9F\x98\x80", 6, SMB_UTF8_STRICT));
    static const uint8_t want[] = {0x34, 0x12, 0x3D, 0xD8, 0xE9, 0x00, 0x3D, 0xD8, 0x00, 0xDE};
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundaries),
        cmocka_unit_test(test_overlong_refused),
        cmocka_unit_test(test_beyond_unicode_refused),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_surrogates_by_mode),
        cmocka_unit_test(test_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

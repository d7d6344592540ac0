/*
 * Symbolic link reparse data (MS-FSCC 2.1.2.1, 2.1.2.4) through
 * smb2_symlink_decode and smb2_symlink_encode: buffers laid out by hand as
 * the specification gives them decode to their names and flag; malformed
 * ones are refused; what the encoder writes decodes to what it was given.
 */
#include "pdu_test_util.h"
#include "utf16.h"

/* UTF-16LE of s, appended. */
static void put16(smb_wr *w, const char *s)
{
    size_t n = 0;
    uint8_t *u = smb_utf8_to_utf16le(s, strlen(s), &n);
    assert_non_null(u);
    smb_wr_bytes(w, u, n);
    free(u);
}

static uint16_t len16(const char *s)
{
    size_t n = 0;
    uint8_t *u = smb_utf8_to_utf16le(s, strlen(s), &n);
    assert_non_null(u);
    free(u);
    return (uint16_t)n;
}

/*
 * A symbolic link buffer: tag, the names (print first in PathBuffer when
 * print_first), flags; extra bytes added to ReparseDataLength (negative:
 * taken off) and trailing bytes after the data.
 */
static void build(smb_wr *w, uint32_t tag, const char *sub, const char *print, bool print_first, uint32_t flags,
                  int extra, size_t trailing)
{
    uint16_t sn = len16(sub), pn = len16(print);
    smb_wr_u32(w, tag);
    smb_wr_u16(w, (uint16_t)(12 + sn + pn + extra)); /* ReparseDataLength */
    smb_wr_u16(w, 0);                                /* Reserved */
    smb_wr_u16(w, print_first ? pn : 0);             /* SubstituteNameOffset */
    smb_wr_u16(w, sn);
    smb_wr_u16(w, print_first ? 0 : sn); /* PrintNameOffset */
    smb_wr_u16(w, pn);
    smb_wr_u32(w, flags);
    put16(w, print_first ? print : sub);
    put16(w, print_first ? sub : print);
    smb_wr_zero(w, trailing);
    assert_true(smb_wr_ok(w));
}

/* Decode w's bytes from a heap block of exactly their size (the address sanitizer sees any read past it). */
static int decode(const smb_wr *w, uint32_t *tag, smb2_symlink *out)
{
    uint8_t *copy = malloc(w->len ? w->len : 1);
    assert_non_null(copy);
    memcpy(copy, w->buf, w->len);
    int rc = smb2_symlink_decode(copy, w->len, tag, out);
    free(copy);
    return rc;
}

static void test_relative_and_absolute(void **state)
{
    (void)state;
    smb_wr w;
    smb2_symlink s;
    uint32_t tag = 0;
    smb_wr_init_grow(&w, 64);
    build(&w, SMB2_IO_REPARSE_TAG_SYMLINK, "..\\dir\\caf\xc3\xa9", "..\\dir\\caf\xc3\xa9", false, 1, 0, 0);
    assert_int_equal(decode(&w, &tag, &s), 0);
    assert_int_equal(tag, SMB2_IO_REPARSE_TAG_SYMLINK);
    assert_string_equal(s.substitute, "..\\dir\\caf\xc3\xa9");
    assert_string_equal(s.print, "..\\dir\\caf\xc3\xa9");
    assert_true(s.relative);
    smb2_symlink_free(&s);
    assert_null(s.substitute);

    /* As Windows writes an absolute one: the print name first, the substitute name in NT form. */
    w.len = 0;
    build(&w, SMB2_IO_REPARSE_TAG_SYMLINK, "\\??\\C:\\data\\x", "C:\\data\\x", true, 0, 0, 0);
    assert_int_equal(decode(&w, NULL, &s), 0);
    assert_string_equal(s.substitute, "\\??\\C:\\data\\x");
    assert_string_equal(s.print, "C:\\data\\x");
    assert_false(s.relative);
    smb2_symlink_free(&s);

    /* No print name; bytes after ReparseDataLength are not the link's. */
    w.len = 0;
    build(&w, SMB2_IO_REPARSE_TAG_SYMLINK, "x", "", false, 1 | 0x10, 0, 6);
    assert_int_equal(decode(&w, NULL, &s), 0);
    assert_string_equal(s.substitute, "x");
    assert_string_equal(s.print, "");
    assert_true(s.relative);
    smb2_symlink_free(&s);
    smb_wr_free(&w);
}

static void test_other_tag(void **state)
{
    (void)state;
    smb_wr w;
    smb2_symlink s;
    uint32_t tag = 0;
    smb_wr_init_grow(&w, 64);
    build(&w, 0xA0000003u /* IO_REPARSE_TAG_MOUNT_POINT */, "\\??\\C:\\x", "C:\\x", false, 0, 0, 0);
    assert_int_equal(decode(&w, &tag, &s), SMB_ERR_UNSUPPORTED);
    assert_int_equal(tag, 0xA0000003u);
    assert_null(s.substitute);
    smb_wr_free(&w);
}

/* The buffer built, with byte at off replaced by v (off SIZE_MAX: none), must be refused. */
static void refused(const smb_wr *w, size_t off, uint8_t v)
{
    smb_wr c;
    smb_wr_init_grow(&c, w->len + 1);
    smb_wr_bytes(&c, w->buf, w->len);
    if (off != SIZE_MAX)
        c.buf[off] = v;
    smb2_symlink s;
    int rc = decode(&c, NULL, &s);
    if (rc != SMB_ERR_PROTOCOL)
        fail_msg("len %zu, byte %zu set to %u: %d", c.len, off, v, rc);
    assert_null(s.substitute);
    assert_null(s.print);
    smb_wr_free(&c);
}

static void test_malformed(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    build(&w, SMB2_IO_REPARSE_TAG_SYMLINK, "ab", "ab", false, 1, 0, 0); /* 8 + 12 + 4 + 4 = 28 bytes */
    assert_int_equal(w.len, 28);
    for (size_t cut = 0; cut < w.len; cut++) { /* every truncation */
        smb_wr t = w;
        t.len = cut;
        refused(&t, SIZE_MAX, 0);
    }
    refused(&w, 4, 29);  /* ReparseDataLength past the buffer */
    refused(&w, 4, 11);  /* shorter than the symbolic link fields */
    refused(&w, 8, 6);   /* SubstituteName past PathBuffer */
    refused(&w, 10, 3);  /* odd SubstituteNameLength */
    refused(&w, 10, 0);  /* empty SubstituteName */
    refused(&w, 12, 6);  /* PrintName past PathBuffer */
    refused(&w, 14, 1);  /* odd PrintNameLength */
    refused(&w, 20, 0);  /* a NUL in the name (its first unit 0x0000) */
    /* A name that lies in the bytes after ReparseDataLength. */
    w.len = 0;
    build(&w, SMB2_IO_REPARSE_TAG_SYMLINK, "ab", "ab", false, 1, -4, 4);
    refused(&w, SIZE_MAX, 0);
    smb_wr_free(&w);
}

static void test_encode_round_trip(void **state)
{
    (void)state;
    smb_wr w;
    smb2_symlink s;
    smb_wr_init_grow(&w, 64);
    assert_true(smb2_symlink_encode(&w, "..\\d\\\xe2\x98\x95", "..\\d\\\xe2\x98\x95", true));
    assert_int_equal(w.len, 8 + 12 + 2 * 2 * 6);
    assert_int_equal(smb_le16(w.buf + 4), 12 + 2 * 2 * 6); /* ReparseDataLength */
    assert_int_equal(decode(&w, NULL, &s), 0);
    assert_string_equal(s.substitute, "..\\d\\\xe2\x98\x95");
    assert_true(s.relative);
    smb2_symlink_free(&s);

    w.len = 0;
    assert_true(smb2_symlink_encode(&w, "\\??\\C:\\x", "C:\\x", false));
    assert_int_equal(decode(&w, NULL, &s), 0);
    assert_false(s.relative);
    assert_string_equal(s.print, "C:\\x");
    smb2_symlink_free(&s);

    w.len = 0;
    assert_false(smb2_symlink_encode(&w, "", "", true));            /* no target */
    assert_false(smb2_symlink_encode(&w, "a\xff", "a", true));      /* not UTF-8 */
    char *big = malloc(8200);
    assert_non_null(big);
    memset(big, 'a', 8199);
    big[8199] = '\0';
    assert_false(smb2_symlink_encode(&w, big, big, true)); /* past MAXIMUM_REPARSE_DATA_BUFFER_SIZE */
    free(big);
    smb_wr_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relative_and_absolute),
        cmocka_unit_test(test_other_tag),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_encode_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

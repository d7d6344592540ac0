/*
 * The extended attributes archive_in.c reads back (archive_out.h): the
 * creation time "<seconds>.<7 digits>" and the DOS attributes "0x<hex>".
 * An archive is untrusted: a value out of range, signed, padded or with
 * anything after the number is ignored (0), never wrapped or half-read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "engine/archive_in.h"
#include "engine/archive_out.h"

#define FT(unix_s, hundreds_ns) (116444736000000000ull + (uint64_t)(unix_s) * 10000000ull + (hundreds_ns))

typedef struct {
    const char *ctime, *dosattrib; /* the values written (NULL: none) */
    uint64_t want_ctime;
    uint32_t want_attributes;
} xattr_case;

static const xattr_case cases[] = {
    {"1500000000.0000001", "0x21", FT(1500000000, 1), 0x21},
    {"1700000000", "0x1", FT(1700000000, 0), 0x1},
    {"1.5", "0X1", FT(1, 5000000), 0},                         /* a fraction's digits are the leading ones */
    {"99999999999999999999", "0x1ffffffff", 0, 0},            /* beyond long long, beyond 32 bits */
    {"1833029933770", "0x", 0, 0},                            /* its FILETIME would not fit in 64 bits */
    {"1833029933769.9999999", NULL, 18446744073699999999ull, 0}, /* the last second that fits */
    {"-5", "21", 0, 0},
    {" 5", " 0x1", 0, 0},
    {"+5", "0x+1", 0, 0},
    {"5x", "0x1 ", 0, 0},
    {"5.", "0x0x1", 0, 0},
    {"5.12345678", "0x-1", 0, 0},
    {"", "", 0, 0},
};
#define NCASES (sizeof cases / sizeof cases[0])

static char path[300];

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "%s/test_archive_in.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    struct archive *a = archive_write_new();
    if (!a || archive_write_set_format_pax(a) != ARCHIVE_OK || archive_write_open_filename(a, path) != ARCHIVE_OK)
        return -1;
    for (size_t i = 0; i < NCASES; i++) {
        struct archive_entry *e = archive_entry_new();
        char name[16];
        snprintf(name, sizeof name, "f%zu", i);
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, 0);
        if (cases[i].ctime)
            archive_entry_xattr_add_entry(e, ARC_CTIME_XATTR, cases[i].ctime, strlen(cases[i].ctime));
        if (cases[i].dosattrib)
            archive_entry_xattr_add_entry(e, ARC_DOSATTRIB_XATTR, cases[i].dosattrib, strlen(cases[i].dosattrib));
        int r = archive_write_header(a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
            return -1;
    }
    return archive_write_close(a) == ARCHIVE_OK && archive_write_free(a) == ARCHIVE_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return unlink(path);
}

static void test_xattr_values(void **state)
{
    (void)state;
    smb_error err = {0};
    arc_in *a = NULL;
    assert_int_equal(arc_in_open(path, &a, &err), 0);
    for (size_t i = 0; i < NCASES; i++) {
        arc_in_entry e;
        assert_int_equal(arc_in_next(a, &e, &err), 1);
        assert_null(e.refused);
        if (e.st.ctime != cases[i].want_ctime || e.st.attributes != cases[i].want_attributes)
            fail_msg("ctime '%s', attributes '%s': got %llu, 0x%x; want %llu, 0x%x", cases[i].ctime,
                     cases[i].dosattrib ? cases[i].dosattrib : "(none)", (unsigned long long)e.st.ctime,
                     (unsigned)e.st.attributes, (unsigned long long)cases[i].want_ctime,
                     (unsigned)cases[i].want_attributes);
    }
    arc_in_entry e;
    assert_int_equal(arc_in_next(a, &e, &err), 0);
    arc_in_close(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xattr_values),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

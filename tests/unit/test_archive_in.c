/*
 * The extended attributes archive_in.c reads back (archive_out.h): the
 * creation time "<seconds>.<7 digits>" and the DOS attributes "0x<hex>".
 * An archive is untrusted: a value out of range, signed, padded or with
 * anything after the number is ignored (0), never wrapped or half-read.
 * Paths: a name of ARC_IN_MAX_DEPTH components is restored, one more is
 * refused, and so is one of 100,000 components (a 200 KB name), with the
 * entries after it read as usual; arc_in_unsafe_path, which also checks the
 * paths of an incremental archive's deletion list, refuses what it must.
 */
#include <setjmp.h>
#include <stdbool.h>
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

/* "d/d/.../d/f" of n components: malloc'd. */
static char *deep_name(size_t n)
{
    char *p = malloc(2 * n);
    assert_non_null(p);
    for (size_t i = 0; i + 1 < n; i++)
        memcpy(p + 2 * i, "d/", 2);
    memcpy(p + 2 * (n - 1), "f", 2);
    return p;
}

static void test_depth_limit(void **state)
{
    (void)state;
    char deep_path[sizeof path + 8];
    snprintf(deep_path, sizeof deep_path, "%s.deep", path);
    const size_t depths[] = {ARC_IN_MAX_DEPTH, ARC_IN_MAX_DEPTH + 1, 100000, 1};
    struct archive *w = archive_write_new();
    assert_non_null(w);
    assert_int_equal(archive_write_set_format_pax(w), ARCHIVE_OK);
    assert_int_equal(archive_write_open_filename(w, deep_path), ARCHIVE_OK);
    for (size_t i = 0; i < 4; i++) {
        char *name = deep_name(depths[i]);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, 0);
        assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
        archive_entry_free(e);
        free(name);
    }
    assert_int_equal(archive_write_close(w), ARCHIVE_OK);
    archive_write_free(w);

    smb_error err = {0};
    arc_in *a = NULL;
    assert_int_equal(arc_in_open(deep_path, &a, &err), 0);
    for (size_t i = 0; i < 4; i++) {
        arc_in_entry e;
        assert_int_equal(arc_in_next(a, &e, &err), 1);
        char *name = deep_name(depths[i]);
        if (depths[i] <= ARC_IN_MAX_DEPTH) {
            assert_null(e.refused);
            assert_string_equal(e.rel, name);
        } else {
            assert_non_null(e.refused);
            assert_non_null(strstr(e.refused, "more than 1024 components"));
        }
        free(name);
    }
    arc_in_entry e;
    assert_int_equal(arc_in_next(a, &e, &err), 0);
    arc_in_close(a);
    unlink(deep_path);
}

static void test_unsafe_path(void **state)
{
    (void)state;
    static const struct {
        const char *p;
        bool safe;
    } paths[] = {
        {"a", true},           {"a/b/c.txt", true}, {"..", false},    {"a/../b", false},  {"../x", false},
        {"/etc/passwd", false}, {"a\\b", false},   {"a//b", false},  {"./a", false},     {"a/", false},
        {"", false},           {"C:/x", false},     {"a/./b", false}, {"a/..", false},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const char *why = arc_in_unsafe_path(paths[i].p, strlen(paths[i].p));
        if ((why == NULL) != paths[i].safe)
            fail_msg("'%s': %s, expected %s", paths[i].p, why ? why : "safe", paths[i].safe ? "safe" : "refused");
    }
    char *name = deep_name(ARC_IN_MAX_DEPTH);
    assert_null(arc_in_unsafe_path(name, strlen(name)));
    free(name);
    name = deep_name(ARC_IN_MAX_DEPTH + 1);
    assert_non_null(arc_in_unsafe_path(name, strlen(name)));
    free(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xattr_values),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_unsafe_path),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

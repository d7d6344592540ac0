/*
 * Writing tar archives (archive_out.c): every compression, read back with
 * libarchive's reader: entry names (long, non-ASCII), types, sizes, content,
 * modification times to 100 ns, creation times, DOS attributes; the file
 * appears under its final name only when complete; bad levels refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "engine/archive_out.h"

#define FT(unix_s, hundreds_ns) (116444736000000000ull + (uint64_t)(unix_s) * 10000000ull + (hundreds_ns))

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/test_archive_out.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(arc_filter_from_name("x.tar"), ARC_NONE);
    assert_int_equal(arc_filter_from_name("/b/x-2026.TAR.ZST"), ARC_ZSTD);
    assert_int_equal(arc_filter_from_name("x.tgz"), ARC_GZIP);
    assert_int_equal(arc_filter_from_name("x.tar.xz"), ARC_XZ);
    assert_int_equal(arc_filter_from_name("x.tar.bz2"), ARC_BZIP2);
    assert_int_equal(arc_filter_from_name("x.zst"), -1);
    assert_int_equal(arc_filter_from_name(".tar"), -1);
    assert_int_equal(arc_filter_from_name("//srv/share/dir"), -1);
    assert_int_equal(arc_filter_from_format("zstd"), ARC_ZSTD);
    assert_int_equal(arc_filter_from_format("tar.gz"), ARC_GZIP);
    assert_int_equal(arc_filter_from_format("tar"), ARC_NONE);
    assert_int_equal(arc_filter_from_format("zip"), -1);
}

/* The entries every archive of the round trip holds. */
static char long_name[400];
static uint8_t data[300000];

static void write_sample(const char *path, arc_filter f)
{
    arc_out_opts o = {.filter = f, .level = -1, .threads = 2};
    arc_out *a = NULL;
    smb_error err = {0};
    assert_int_equal(arc_out_open(path, &o, &a, &err), 0);
    ep_stat d = {.type = EP_DIR, .mtime = FT(1700000000, 1234567)};
    assert_int_equal(arc_out_dir(a, "dir", &d, &err), 0);
    ep_stat s = {.type = EP_FILE, .size = sizeof data, .mtime = FT(1600000000, 9999999), .ctime = FT(1500000000, 1),
                 .attributes = SMB_ATTR_READONLY | SMB_ATTR_HIDDEN};
    assert_int_equal(arc_out_file(a, "dir/caf\xc3\xa9 \xe2\x98\x95.bin", &s, &err), 0);
    assert_int_equal(arc_out_data(a, data, 1000, &err), 0);
    assert_int_equal(arc_out_data(a, data + 1000, sizeof data - 1000, &err), 0);
    assert_int_equal(arc_out_file_end(a, &err), 0);
    ep_stat e = {.type = EP_FILE, .size = 0, .mtime = FT(1600000001, 0)};
    assert_int_equal(arc_out_file(a, long_name, &e, &err), 0);
    assert_int_equal(arc_out_file_end(a, &err), 0);
    ep_stat empty_dir = {.type = EP_DIR, .mtime = FT(1700000001, 0)};
    assert_int_equal(arc_out_dir(a, "dir/empty", &empty_dir, &err), 0);
    /* Not there under its final name until complete. */
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
    assert_int_equal(arc_out_close(a, true, &err), 0);
    assert_int_equal(stat(path, &st), 0);
}

static void read_sample(const char *path)
{
    /* libarchive's reader converts names through the thread's locale too. */
    locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0), old = uselocale(loc);
    struct archive *r = archive_read_new();
    archive_read_support_filter_all(r);
    archive_read_support_format_all(r);
    assert_int_equal(archive_read_open_filename(r, path, 65536), ARCHIVE_OK);
    struct archive_entry *e;
    int n = 0;
    int hr;
    while ((hr = archive_read_next_header(r, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname_utf8(e);
        assert_non_null(name);
        if (n == 0) {
            assert_string_equal(name, "dir/");
            assert_int_equal(archive_entry_filetype(e), AE_IFDIR);
            assert_int_equal(archive_entry_mtime(e), 1700000000);
            assert_int_equal(archive_entry_mtime_nsec(e), 123456700);
        } else if (n == 1) {
            assert_string_equal(name, "dir/caf\xc3\xa9 \xe2\x98\x95.bin");
            assert_int_equal(archive_entry_size(e), sizeof data);
            assert_int_equal(archive_entry_mtime(e), 1600000000);
            assert_int_equal(archive_entry_mtime_nsec(e), 999999900);
            assert_int_equal(archive_entry_perm(e), 0444);
            const char *xn;
            const void *xv;
            size_t xl;
            assert_int_equal(archive_entry_xattr_reset(e), 2);
            bool ctime_seen = false, dos_seen = false;
            while (archive_entry_xattr_next(e, &xn, &xv, &xl) == ARCHIVE_OK) {
                if (strcmp(xn, ARC_CTIME_XATTR) == 0) {
                    assert_int_equal(xl, strlen("1500000000.0000001"));
                    assert_memory_equal(xv, "1500000000.0000001", xl);
                    ctime_seen = true;
                } else {
                    assert_string_equal(xn, ARC_DOSATTRIB_XATTR);
                    assert_int_equal(xl, 3);
                    assert_memory_equal(xv, "0x3", 3);
                    dos_seen = true;
                }
            }
            assert_true(ctime_seen && dos_seen);
            static uint8_t back[sizeof data];
            assert_int_equal(archive_read_data(r, back, sizeof back), sizeof back);
            assert_memory_equal(back, data, sizeof data);
        } else if (n == 2) {
            assert_string_equal(name, long_name);
            assert_int_equal(archive_entry_size(e), 0);
            assert_int_equal(archive_entry_perm(e), 0644);
        } else if (n == 3) {
            assert_string_equal(name, "dir/empty/");
        }
        n++;
    }
    if (hr != ARCHIVE_EOF)
        fprintf(stderr, "%s: entry %d: %d %s\n", path, n, hr, archive_error_string(r));
    assert_int_equal(hr, ARCHIVE_EOF);
    assert_int_equal(n, 4);
    archive_read_free(r);
    uselocale(old);
    freelocale(loc);
}

static void test_round_trip(void **state)
{
    (void)state;
    memset(long_name, 0, sizeof long_name);
    for (size_t i = 0; i < 300; i++)
        long_name[i] = (char)('a' + i % 26);
    long_name[100] = '/';
    long_name[250] = '/';
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7u + i / 1000u);
    static const char *const ends[] = {".tar", ".tar.gz", ".tar.xz", ".tar.bz2", ".tar.zst"};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/sample%s", dir, ends[i]);
        write_sample(path, (arc_filter)arc_filter_from_name(path));
        read_sample(path);
    }
}

/* Not complete: nothing under the final name, no temporary left. */
static void test_abandoned(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/abandoned.tar.zst", dir);
    arc_out_opts o = {.filter = ARC_ZSTD, .level = 3};
    arc_out *a = NULL;
    smb_error err = {0};
    assert_int_equal(arc_out_open(path, &o, &a, &err), 0);
    ep_stat s = {.type = EP_FILE, .size = 10, .mtime = FT(1600000000, 0)};
    assert_int_equal(arc_out_file(a, "f", &s, &err), 0);
    assert_int_equal(arc_out_data(a, "12345", 5, &err), 0);
    /* more than the size: refused */
    assert_int_not_equal(arc_out_data(a, "123456", 6, &err), 0);
    /* ending short: refused */
    assert_int_not_equal(arc_out_file_end(a, &err), 0);
    assert_int_equal(arc_out_close(a, false, &err), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep -v '^sample')\"", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_bad_options(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/bad.tar.gz", dir);
    arc_out *a = NULL;
    smb_error err = {0};
    arc_out_opts o = {.filter = ARC_GZIP, .level = 10};
    assert_int_equal(arc_out_open(path, &o, &a, &err), SMB_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "out of range"));
    assert_null(a);
    arc_out_opts z = {.filter = ARC_ZSTD, .level = 19};
    assert_int_equal(arc_out_open(dir, &z, &a, &err), SMB_ERR_EXISTS);
    arc_out_opts t = {.filter = ARC_NONE, .level = 3};
    assert_int_equal(arc_out_open(path, &t, &a, &err), SMB_ERR_INVALID_ARG);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_abandoned),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

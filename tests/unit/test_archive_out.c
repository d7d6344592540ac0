/*
 * Writing tar archives (archive_out.c): every compression, read back with
 * libarchive's reader: entry names (long, non-ASCII), types, sizes, content,
 * modification times to 100 ns, creation times, DOS attributes; the file
 * appears under its final name only when complete; bad levels refused.
 * Named streams and security descriptors as SCHILY.xattr records only
 * (what GNU tar reads): each stream's bytes and a NUL, the descriptor's
 * bytes, names as libarchive writes them; extras that do not fit in the
 * header refused, and a header filled up to the bound still read by this
 * libarchive (before 3.7.5 it refuses one past 1 MiB); stream names too long
 * for newer readers refused.
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

#include "engine/archive/archive_out.h"

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
    assert_int_equal(arc_out_dir(a, "dir", &d, NULL, &err), 0);
    ep_stat s = {.type = EP_FILE, .size = sizeof data, .mtime = FT(1600000000, 9999999), .ctime = FT(1500000000, 1),
                 .attributes = SMB_ATTR_READONLY | SMB_ATTR_HIDDEN};
    assert_int_equal(arc_out_file(a, "dir/caf\xc3\xa9 \xe2\x98\x95.bin", &s, NULL, &err), 0);
    assert_int_equal(arc_out_data(a, data, 1000, &err), 0);
    assert_int_equal(arc_out_data(a, data + 1000, sizeof data - 1000, &err), 0);
    assert_int_equal(arc_out_file_end(a, &err), 0);
    ep_stat e = {.type = EP_FILE, .size = 0, .mtime = FT(1600000001, 0)};
    assert_int_equal(arc_out_file(a, long_name, &e, NULL, &err), 0);
    assert_int_equal(arc_out_file_end(a, &err), 0);
    ep_stat empty_dir = {.type = EP_DIR, .mtime = FT(1700000001, 0)};
    assert_int_equal(arc_out_dir(a, "dir/empty", &empty_dir, NULL, &err), 0);
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
    assert_int_equal(arc_out_file(a, "f", &s, NULL, &err), 0);
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

/* The value of xattr name of e (NULL: none), its length in *len. */
static const void *xattr_of(struct archive_entry *e, const char *name, size_t *len)
{
    const char *xn;
    const void *xv;
    size_t xl;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &xn, &xv, &xl) == ARCHIVE_OK) {
        if (strcmp(xn, name) == 0) {
            *len = xl;
            return xv;
        }
    }
    return NULL;
}

/* A stream of len bytes (byte i: i * seed + 1), name copied. */
static ep_stream stream_of(const char *name, size_t len, unsigned seed)
{
    ep_stream s = {.name = strdup(name), .len = len, .data = len ? malloc(len) : NULL};
    assert_non_null(s.name);
    for (size_t i = 0; i < len; i++)
        s.data[i] = (uint8_t)(i * seed + 1);
    return s;
}

/* The whole file at path (its length in *len), malloc'd. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static bool contains(const char *hay, size_t n, const char *needle)
{
    return memmem(hay, n, needle, strlen(needle)) != NULL;
}

static void test_streams_and_sd(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/streams.tar", dir);
    arc_out_opts o = {.filter = ARC_NONE, .level = -1};
    arc_out *a = NULL;
    smb_error err = {0};
    assert_int_equal(arc_out_open(path, &o, &a, &err), 0);

    ep_stream v[3] = {stream_of("Zone.Identifier", 0, 0), stream_of("empty", 0, 0),
                      stream_of("caf\xc3\xa9 x=%", 256, 1)};
    free(v[0].name);
    v[0].name = strdup("Zone.Identifier");
    v[0].data = (uint8_t *)strdup("[ZoneTransfer]\r\nZoneId=3\r\n");
    v[0].len = strlen((char *)v[0].data);
    ep_streams streams = {.v = v, .n = 3};
    uint8_t sd_bytes[20] = {0x01, 0x00, 0x04, 0x80}; /* a self-relative descriptor with a NULL DACL */
    ep_sd sd = {.bytes = sd_bytes, .len = sizeof sd_bytes, .parts = EP_SD_DACL};
    arc_out_extra x = {.streams = &streams, .sd = &sd};

    ep_stat s = {.type = EP_FILE, .size = 5, .mtime = FT(1600000000, 0)};
    assert_int_equal(arc_out_file(a, "f", &s, &x, &err), 0);
    assert_int_equal(arc_out_data(a, "hello", 5, &err), 0);
    assert_int_equal(arc_out_file_end(a, &err), 0);

    /* A sparse entry carries them too. */
    ep_stat sp = {.type = EP_FILE, .size = 1 << 20, .mtime = FT(1600000000, 0)};
    ep_range ranges[1] = {{.off = 4096, .len = 5}};
    arc_out_extra only_sd = {.sd = &sd};
    assert_int_equal(arc_out_file_sparse(a, "sparse", &sp, ranges, 1, &only_sd, &err), 0);
    assert_int_equal(arc_out_skip_to(a, 4096, &err), 0);
    assert_int_equal(arc_out_data(a, "12345", 5, &err), 0);
    assert_int_equal(arc_out_file_end(a, &err), 0);

    /* Past the header's room: refused, nothing written, the archive goes on. */
    size_t room = arc_out_extra_room("big");
    assert_true(room < ARC_PAX_HEADER_MAX && room > ARC_PAX_HEADER_MAX - 8192);
    ep_stream huge = stream_of("huge", room, 3);
    ep_streams too_much = {.v = &huge, .n = 1};
    arc_out_extra big = {.streams = &too_much};
    assert_int_equal(arc_out_file(a, "big", &s, &big, &err), SMB_ERR_NO_SPACE);
    assert_int_equal(arc_out_file(a, "big", &s, NULL, &err), 0);
    assert_int_equal(arc_out_data(a, "hello", 5, &err), 0);
    assert_int_equal(arc_out_file_end(a, &err), 0);
    assert_int_equal(arc_out_close(a, true, &err), 0);

    /* SCHILY.xattr records only: GNU tar reads them (and warns of LIBARCHIVE.xattr ones). */
    size_t n;
    char *raw = slurp(path, &n);
    assert_true(contains(raw, n, "SCHILY.xattr.user.DosStream.Zone.Identifier:$DATA=[ZoneTransfer]\r\nZoneId=3\r\n"));
    assert_true(contains(raw, n, "SCHILY.xattr.user.smbcopy.ntsd="));
    assert_false(contains(raw, n, "LIBARCHIVE.xattr"));
    free(raw);

    locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0), old = uselocale(loc);
    struct archive *r = archive_read_new();
    archive_read_support_format_all(r);
    assert_int_equal(archive_read_open_filename(r, path, 65536), ARCHIVE_OK);
    struct archive_entry *e;
    assert_int_equal(archive_read_next_header(r, &e), ARCHIVE_OK);
    assert_string_equal(archive_entry_pathname(e), "f");
    assert_int_equal(archive_entry_xattr_count(e), 4);
    size_t len;
    const uint8_t *val = xattr_of(e, "user.DosStream.Zone.Identifier:$DATA", &len);
    assert_non_null(val);
    assert_int_equal(len, v[0].len + 1);
    assert_memory_equal(val, v[0].data, v[0].len);
    assert_int_equal(val[v[0].len], 0);
    val = xattr_of(e, "user.DosStream.empty:$DATA", &len);
    assert_non_null(val);
    assert_int_equal(len, 1);
    assert_int_equal(val[0], 0);
    /* libarchive writes a name's bytes outside '!'..'~', '%' and '=' as %XX (and reads them back as written). */
    val = xattr_of(e, "user.DosStream.caf%C3%A9%20x%3D%25:$DATA", &len);
    assert_non_null(val);
    assert_int_equal(len, 257);
    assert_memory_equal(val, v[2].data, 256);
    assert_int_equal(val[256], 0);
    val = xattr_of(e, "user.smbcopy.ntsd", &len);
    assert_non_null(val);
    assert_int_equal(len, sizeof sd_bytes);
    assert_memory_equal(val, sd_bytes, sizeof sd_bytes);
    assert_int_equal(archive_read_next_header(r, &e), ARCHIVE_OK);
    assert_string_equal(archive_entry_pathname(e), "sparse");
    assert_true(archive_entry_sparse_count(e) > 0);
    assert_non_null(xattr_of(e, "user.smbcopy.ntsd", &len));
    assert_int_equal(archive_read_next_header(r, &e), ARCHIVE_OK);
    assert_string_equal(archive_entry_pathname(e), "big");
    assert_int_equal(archive_entry_xattr_count(e), 0);
    assert_int_equal(archive_read_next_header(r, &e), ARCHIVE_EOF);
    archive_read_free(r);
    uselocale(old);
    freelocale(loc);
    free(huge.name);
    free(huge.data);
    for (size_t i = 0; i < 3; i++) {
        free(v[i].name);
        free(v[i].data);
    }
}

/*
 * Streams filling a sparse entry's header as far as arc_out_extra_room
 * lets them, under a 3000-byte name, with every other record: libarchive
 * reads the entry, every stream whole.
 */
static void test_header_bound(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/full.tar.gz", dir);
    char rel[3001];
    for (size_t i = 0; i < 3000; i++)
        rel[i] = i % 100 == 50 ? '/' : (char)('a' + i % 26);
    rel[3000] = 0;
    size_t room = arc_out_extra_room(rel), used = 0, n = 0;
    static ep_stream v[64];
    const size_t each = 60000;
    for (; n < 63; n++) {
        char name[16];
        snprintf(name, sizeof name, "s%02zu", n);
        size_t cost = arc_out_stream_cost(name, each);
        if (used + cost > room)
            break;
        used += cost;
        v[n] = stream_of(name, each, (unsigned)n + 1);
    }
    assert_true(n > 10 && room - used < arc_out_stream_cost("s99", each));
    /* And one taking the rest of the room to the byte. */
    size_t last = room - used - arc_out_stream_cost("last", 0);
    v[n] = stream_of("last", last, 7);
    assert_int_equal(used + arc_out_stream_cost("last", last), room);
    n++;
    ep_streams streams = {.v = v, .n = n};
    arc_out_extra x = {.streams = &streams};
    arc_out_opts o = {.filter = ARC_GZIP, .level = 1};
    arc_out *a = NULL;
    smb_error err = {0};
    assert_int_equal(arc_out_open(path, &o, &a, &err), 0);
    ep_stat s = {.type = EP_FILE, .size = (uint64_t)10 << 30, .mtime = FT(1600000000, 1), .ctime = FT(1500000000, 1),
                 .attributes = SMB_ATTR_READONLY | SMB_ATTR_HIDDEN | SMB_ATTR_SYSTEM | SMB_ATTR_ARCHIVE};
    ep_range ranges[2] = {{.off = 0, .len = 3}, {.off = (uint64_t)9 << 30, .len = 3}};
    assert_int_equal(arc_out_file_sparse(a, rel, &s, ranges, 2, &x, &err), 0);
    assert_int_equal(arc_out_data(a, "abc", 3, &err), 0);
    assert_int_equal(arc_out_skip_to(a, (uint64_t)9 << 30, &err), 0);
    assert_int_equal(arc_out_data(a, "xyz", 3, &err), 0);
    assert_int_equal(arc_out_file_end(a, &err), 0);
    assert_int_equal(arc_out_close(a, true, &err), 0);

    struct archive *r = archive_read_new();
    archive_read_support_filter_all(r);
    archive_read_support_format_all(r);
    assert_int_equal(archive_read_open_filename(r, path, 65536), ARCHIVE_OK);
    struct archive_entry *e;
    int hr = archive_read_next_header(r, &e);
    if (hr != ARCHIVE_OK)
        fail_msg("header of %zu streams (%zu of %zu bytes of room): %s", n, used, room, archive_error_string(r));
    assert_string_equal(archive_entry_pathname(e), rel);
    assert_int_equal(archive_entry_xattr_count(e), n + 2); /* and the creation time, the DOS attributes */
    for (size_t i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "user.DosStream.%s:$DATA", v[i].name);
        size_t len;
        const uint8_t *val = xattr_of(e, name, &len);
        assert_non_null(val);
        assert_int_equal(len, v[i].len + 1);
        assert_memory_equal(val, v[i].data, v[i].len);
        free(v[i].name);
        free(v[i].data);
    }
    hr = archive_read_next_header(r, &e);
    if (hr != ARCHIVE_EOF)
        fail_msg("after the entry: %d %s", hr, archive_error_string(r));
    archive_read_free(r);
}

/* Names: at most ARC_XATTR_NAME_MAX bytes as written, %XX counted. */
static void test_stream_name_bound(void **state)
{
    (void)state;
    char name[200];
    const size_t fixed = strlen("user.DosStream.:$DATA");
    memset(name, 'n', sizeof name);
    name[ARC_XATTR_NAME_MAX - fixed] = 0;
    assert_int_not_equal(arc_out_stream_cost(name, 10), 0);
    name[ARC_XATTR_NAME_MAX - fixed] = 'n';
    name[ARC_XATTR_NAME_MAX - fixed + 1] = 0;
    assert_int_equal(arc_out_stream_cost(name, 10), 0);
    /* Each byte of a non-ASCII letter is three as written: 36 letters of two bytes are 216. */
    for (size_t i = 0; i < 36; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[72] = 0;
    assert_int_equal(arc_out_stream_cost(name, 10), 0);
    name[2 * 12] = 0;
    assert_int_not_equal(arc_out_stream_cost(name, 10), 0); /* 72 bytes as written */
    assert_true(arc_out_stream_cost("a", 100) > 100 && arc_out_sd_cost(100) > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_abandoned),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_streams_and_sd),
        cmocka_unit_test(test_header_bound),
        cmocka_unit_test(test_stream_name_bound),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

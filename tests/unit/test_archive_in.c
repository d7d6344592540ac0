/*
 * The extended attributes archive_in.c reads back (archive_out.h): the
 * creation time "<seconds>.<7 digits>" and the DOS attributes "0x<hex>".
 * An archive is untrusted: a value out of range, signed, padded or with
 * anything after the number is ignored (0), never wrapped or half-read.
 * Paths: a name of ARC_IN_MAX_DEPTH components is restored, one more is
 * refused, and so is one of 100,000 components (a 200 KB name), with the
 * entries after it read as usual; arc_in_unsafe_path, which also checks the
 * paths of an incremental archive's deletion list, refuses what it must.
 * Named streams and descriptors from pax records written here byte by
 * byte, as GNU tar and libarchive write them: names decoded from %XX
 * (libarchive's form, and GNU tar's %3D and %25), each value less its NUL;
 * what is not a stream's name (empty, a separator or NUL once decoded, a
 * broken %XX, not UTF-8, no ":$DATA") ignored; of two records of one name
 * (LIBARCHIVE.xattr and SCHILY.xattr, or twice) the later; a descriptor
 * whole, with the parts asked for that it has, and bytes that are none
 * refused.
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

#include <smbcopy/security.h>

#include "engine/archive/archive_in.h"
#include "engine/archive/archive_out.h"

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

/* ---------------------------------------------------------------- pax records by hand */

/* A 512-byte ustar header of name (type '0' or 'x') and size. */
static void tar_header(FILE *f, const char *name, char type, size_t size)
{
    unsigned char h[512] = {0};
    snprintf((char *)h, 100, "%s", name);
    memcpy(h + 100, "0000644", 8);
    memcpy(h + 108, "0000000", 8);
    memcpy(h + 116, "0000000", 8);
    snprintf((char *)h + 124, 12, "%011zo", size);
    snprintf((char *)h + 136, 12, "%011o", 1600000000u);
    memset(h + 148, ' ', 8);
    h[156] = (unsigned char)type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    unsigned sum = 0;
    for (size_t i = 0; i < sizeof h; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    assert_int_equal(fwrite(h, 1, sizeof h, f), sizeof h);
}

typedef struct {
    char buf[8192];
    size_t n;
} pax;

/* The record "<len> key=value\n", len counting its own digits. */
static void pax_add(pax *p, const char *key, const void *value, size_t vlen)
{
    size_t body = 1 + strlen(key) + 1 + vlen + 1, digits = 1;
    while ((size_t)snprintf(NULL, 0, "%zu", body + digits) != digits)
        digits++;
    assert_true(p->n + body + digits <= sizeof p->buf);
    p->n += (size_t)sprintf(p->buf + p->n, "%zu %s=", body + digits, key);
    memcpy(p->buf + p->n, value, vlen);
    p->n += vlen;
    p->buf[p->n++] = '\n';
}

static void pax_xattr(pax *p, const char *name, const void *value, size_t vlen)
{
    char key[300];
    snprintf(key, sizeof key, "SCHILY.xattr.%s", name);
    pax_add(p, key, value, vlen);
}

/* An empty file entry name with the records of p. */
static void pax_file(FILE *f, const char *name, const pax *p)
{
    static const char zeros[512];
    if (p->n) {
        tar_header(f, "PaxHeader/x", 'x', p->n);
        assert_int_equal(fwrite(p->buf, 1, p->n, f), p->n);
        assert_int_equal(fwrite(zeros, 1, (512 - p->n % 512) % 512, f), (512 - p->n % 512) % 512);
    }
    tar_header(f, name, '0', 0);
}

/* The valid descriptor O:BAG:SYD:(A;;FA;;;WD) and its length. */
static uint8_t *valid_sd(size_t *len)
{
    smb_security_descriptor *sd;
    smb_error err = {0};
    assert_int_equal(smb_sd_from_sddl("O:BAG:SYD:(A;;FA;;;WD)", &sd, &err), 0);
    uint8_t *b = NULL;
    assert_int_equal(smb_sd_encode(sd, &b, len, &err), 0);
    smb_sd_free(sd);
    return b;
}

/* The stream named name of s (NULL: none). */
static const ep_stream *stream_named(const ep_streams *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

static void test_streams_and_sd(void **state)
{
    (void)state;
    char meta_path[sizeof path + 8];
    snprintf(meta_path, sizeof meta_path, "%s.meta", path);
    FILE *f = fopen(meta_path, "wb");
    assert_non_null(f);
    size_t sd_len;
    uint8_t *sd = valid_sd(&sd_len);

    /* As GNU tar writes them: names raw but for %3D ('=') and %25 ('%'); also what is no stream. */
    static pax p;
    pax_xattr(&p, "user.DosStream.Zone.Identifier:$DATA", "[Z]\r\n", 6);
    pax_xattr(&p, "user.DosStream.caf\xc3\xa9 x%3D%25:$DATA", "\x00\x01\xff", 4);
    pax_xattr(&p, "user.DosStream.empty:$DATA", "", 1);
    pax_xattr(&p, "user.DosStream.nonul:$DATA", "", 0);
    pax_xattr(&p, ARC_SD_XATTR, sd, sd_len);
    pax_xattr(&p, "user.other", "x", 1);
    static const char *const not_streams[] = {
        "user.DosStream.:$DATA",     "user.DosStream.a/b:$DATA",   "user.DosStream.a\\b:$DATA",
        "user.DosStream.a:b:$DATA",  "user.DosStream.a%3Ab:$DATA", "user.DosStream.a%2Fb:$DATA",
        "user.DosStream.a%5Cb:$DATA", "user.DosStream.a%00b:$DATA", "user.DosStream.a%zz:$DATA",
        "user.DosStream.a%4:$DATA",  "user.DosStream.a%:$DATA",    "user.DosStream.%FF:$DATA",
        "user.DosStream.%C0%AF:$DATA", "user.DosStream.x",         "user.DosStreamx:$DATA",
        "user.DosStream.x:$DATA:$DATA", "user.DosStream.x:$data",  "user.DosStream:$DATA",
    };
    for (size_t i = 0; i < sizeof not_streams / sizeof not_streams[0]; i++)
        pax_xattr(&p, not_streams[i], "v", 2);
    pax_file(f, "gnu", &p);

    /* As libarchive writes them (both record kinds, %XX names); and a name twice: the later. */
    p.n = 0;
    pax_add(&p, "LIBARCHIVE.xattr.user.DosStream.b%20c:$DATA", "MQA=", 4); /* base64 of "1\0" */
    pax_xattr(&p, "user.DosStream.b%20c:$DATA", "1", 2);
    pax_xattr(&p, "user.DosStream.dup:$DATA", "first", 6);
    pax_xattr(&p, "user.DosStream.dup:$DATA", "second", 7);
    pax_file(f, "libarchive", &p);

    p.n = 0;
    pax_file(f, "plain", &p);

    static const uint8_t not_sd[20] = {0};
    pax_xattr(&p, ARC_SD_XATTR, not_sd, sizeof not_sd);
    pax_file(f, "badsd", &p);

    static const char zeros[1024];
    assert_int_equal(fwrite(zeros, 1, sizeof zeros, f), sizeof zeros);
    assert_int_equal(fclose(f), 0);

    smb_error err = {0};
    arc_in *a = NULL;
    assert_int_equal(arc_in_open(meta_path, &a, &err), 0);
    ep_streams s = {0};
    ep_sd got = {0};
    assert_int_equal(arc_in_streams(a, &s, &err), SMB_ERR_INVALID_ARG); /* no entry yet */

    arc_in_entry e;
    assert_int_equal(arc_in_next(a, &e, &err), 1);
    assert_string_equal(e.rel, "gnu");
    assert_int_equal(e.st.streams, EP_STREAMS_SOME);
    assert_int_equal(arc_in_streams(a, &s, &err), 0);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.v[0].name, "Zone.Identifier");
    assert_int_equal(s.v[0].len, 5);
    assert_memory_equal(s.v[0].data, "[Z]\r\n", 5);
    assert_string_equal(s.v[1].name, "caf\xc3\xa9 x=%");
    assert_int_equal(s.v[1].len, 3);
    assert_memory_equal(s.v[1].data, "\x00\x01\xff", 3);
    assert_string_equal(s.v[2].name, "empty");
    assert_int_equal(s.v[2].len, 0);
    assert_string_equal(s.v[3].name, "nonul");
    assert_int_equal(s.v[3].len, 0);
    assert_int_equal(arc_in_sd(a, EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL | EP_SD_SACL, &got, &err), 0);
    assert_int_equal(got.len, sd_len);
    assert_memory_equal(got.bytes, sd, sd_len);
    assert_int_equal(got.parts, EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL);
    assert_int_equal(arc_in_sd(a, EP_SD_DACL, &got, &err), 0); /* the bytes whole, the parts asked for */
    assert_int_equal(got.len, sd_len);
    assert_int_equal(got.parts, EP_SD_DACL);

    assert_int_equal(arc_in_next(a, &e, &err), 1);
    assert_string_equal(e.rel, "libarchive");
    assert_int_equal(e.st.streams, EP_STREAMS_SOME);
    assert_int_equal(arc_in_streams(a, &s, &err), 0);
    assert_int_equal(s.n, 2);
    const ep_stream *bc = stream_named(&s, "b c"), *dup = stream_named(&s, "dup");
    assert_non_null(bc);
    assert_int_equal(bc->len, 1);
    assert_memory_equal(bc->data, "1", 1);
    assert_non_null(dup);
    assert_int_equal(dup->len, 6);
    assert_memory_equal(dup->data, "second", 6);
    assert_int_equal(arc_in_sd(a, EP_SD_DACL, &got, &err), 0);
    assert_int_equal(got.len, 0);

    assert_int_equal(arc_in_next(a, &e, &err), 1);
    assert_string_equal(e.rel, "plain");
    assert_int_equal(e.st.streams, EP_STREAMS_NONE);
    assert_int_equal(arc_in_streams(a, &s, &err), 0);
    assert_int_equal(s.n, 0);

    assert_int_equal(arc_in_next(a, &e, &err), 1);
    assert_string_equal(e.rel, "badsd");
    assert_int_equal(e.st.streams, EP_STREAMS_NONE);
    assert_int_equal(arc_in_sd(a, EP_SD_DACL, &got, &err), SMB_ERR_PROTOCOL);
    assert_int_equal(got.len, 0);
    assert_non_null(strstr(err.message, ARC_SD_XATTR));

    assert_int_equal(arc_in_next(a, &e, &err), 0);
    assert_int_equal(arc_in_streams(a, &s, &err), SMB_ERR_INVALID_ARG); /* no entry after the end */
    ep_streams_clear(&s);
    ep_sd_clear(&got);
    arc_in_close(a);
    free(sd);
    unlink(meta_path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xattr_values),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_unsafe_path),
        cmocka_unit_test(test_streams_and_sd),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Archives as sequential endpoints (ep_archive.c): a tree written through
 * the endpoint operations reads back through them with the same entries,
 * bytes and metadata; the stream's rules are enforced (data in order, one
 * file at a time, only the current entry readable, no random access); an
 * entry left incomplete makes the commit fail and leaves nothing under the
 * final name; counters count the entries' bytes. Named streams and
 * security descriptors given before a file's data come back with it; after
 * the data, or with a bad name or descriptor, they are refused; those past
 * the header's room are left out and said so, the others kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <smbcopy/security.h>

#include "engine/endpoints/ep_archive.h"

#define FT(unix_s, hundreds_ns) (116444736000000000ull + (uint64_t)(unix_s) * 10000000ull + (hundreds_ns))

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/test_ep_archive.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write len bytes at off; the result of io_wait. */
static int put(ep *e, ep_file *f, const void *buf, size_t len, uint64_t off, smb_error *err)
{
    ep_io *io = e->ops->write_submit(f, buf, len, off, err);
    if (!io)
        return err->code;
    size_t n = 99;
    int rc = e->ops->io_wait(io, &n, err);
    if (rc == 0)
        assert_int_equal(n, len);
    return rc;
}

/* Read up to len bytes at off; the count or an error. */
static long get(ep *e, ep_file *f, void *buf, size_t len, uint64_t off, smb_error *err)
{
    ep_io *io = e->ops->read_submit(f, buf, len, off, err);
    if (!io)
        return err->code;
    size_t n = 0;
    int rc = e->ops->io_wait(io, &n, err);
    return rc ? rc : (long)n;
}

static uint8_t *pattern(size_t len, unsigned seed)
{
    uint8_t *b = malloc(len ? len : 1);
    assert_non_null(b);
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)((i * 131 + seed) ^ (i >> 9));
    return b;
}

static void test_round_trip(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/t.tar.zst", dir);
    ep_counters wc = {0}, rcnt = {0};
    smb_error err = {0};
    arc_out_opts o = {.filter = ARC_ZSTD, .level = -1, .threads = 2};
    ep *w = ep_archive_create(path, &o, &wc, &err);
    assert_non_null(w);
    assert_true(w->caps & EP_CAP_SEQUENTIAL);

    /* No random access. */
    ep_stat st;
    assert_int_equal(w->ops->stat(w, "", &st, &err), SMB_ERR_UNSUPPORTED);
    assert_int_equal(w->ops->rename(w, "a", "b", NULL, &err), SMB_ERR_UNSUPPORTED);

    ep_stat d = {.type = EP_DIR, .mtime = FT(1700000000, 1234567), .attributes = 0x10};
    assert_int_equal(w->ops->mkdir(w, "dir", &err), 0);
    assert_int_equal(w->ops->set_meta(w, "dir", &d, &err), 0);

    const size_t big = (3u << 20) + 17;
    uint8_t *data = pattern(big, 7);
    ep_stat fs = {.type = EP_FILE, .size = big, .mtime = FT(1600000000, 9999999), .ctime = FT(1500000000, 1),
                  .attributes = 0x21};
    ep_file *f = NULL;
    assert_int_equal(w->ops->open_write(w, "dir/big.bin", &fs, &f, &err), 0);
    /* One file at a time, data in order. */
    ep_file *g = NULL;
    assert_int_equal(w->ops->open_write(w, "other", &fs, &g, &err), SMB_ERR_INVALID_ARG);
    assert_null(g);
    assert_int_equal(put(w, f, data + 4096, 4096, 4096, &err), SMB_ERR_INVALID_ARG);
    for (size_t off = 0; off < big; off += 1u << 20) {
        size_t n = big - off < (1u << 20) ? big - off : 1u << 20;
        assert_int_equal(put(w, f, data + off, n, off, &err), 0);
    }
    ep_stat got = {0};
    assert_int_equal(w->ops->finish(f, &fs, &got, &err), 0);
    assert_int_equal(got.size, big);
    assert_int_equal(got.mtime, fs.mtime);
    assert_int_equal(w->ops->close(f, &err), 0);

    ep_stat es = {.type = EP_FILE, .size = 0, .mtime = FT(1650000000, 0)};
    assert_int_equal(w->ops->open_write(w, "empty", &es, &f, &err), 0);
    assert_int_equal(w->ops->finish(f, &es, NULL, &err), 0);
    assert_int_equal(w->ops->close(f, &err), 0);

    /* Nothing under the final name before the commit. */
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0);
    assert_int_equal(w->ops->commit(w, true, &err), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(wc.bytes_written, big);
    w->ops->free(w);

    /* Read back through the source side. */
    ep *r = ep_archive_open(path, &rcnt, &err);
    assert_non_null(r);
    assert_true(r->caps & EP_CAP_SEQUENTIAL);
    const char *rel, *refused;
    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 1);
    assert_string_equal(rel, "dir");
    assert_null(refused);
    assert_int_equal(st.type, EP_DIR);
    assert_int_equal(st.mtime, d.mtime);

    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 1);
    assert_string_equal(rel, "dir/big.bin");
    assert_int_equal(st.type, EP_FILE);
    assert_int_equal(st.size, big);
    assert_int_equal(st.mtime, fs.mtime);
    assert_int_equal(st.ctime, fs.ctime);
    assert_int_equal(st.attributes & 0x27, 0x21);
    /* Only the current entry can be opened. */
    ep_file *in = NULL;
    assert_int_equal(r->ops->open_read(r, "empty", &in, &err), SMB_ERR_INVALID_ARG);
    assert_null(in);
    assert_int_equal(r->ops->open_read(r, "dir/big.bin", &in, &err), 0);
    uint8_t *back = malloc(big + 1);
    assert_non_null(back);
    assert_int_equal(get(r, in, back, 10, 5, &err), SMB_ERR_INVALID_ARG); /* out of order */
    size_t have = 0;
    for (;;) {
        long n = get(r, in, back + have, (size_t)1 << 20, have, &err);
        assert_true(n >= 0);
        if (n == 0)
            break;
        have += (size_t)n;
        assert_true(have <= big);
    }
    assert_int_equal(have, big);
    assert_memory_equal(back, data, big);
    assert_int_equal(r->ops->close(in, &err), 0);

    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 1);
    assert_string_equal(rel, "empty");
    assert_int_equal(st.size, 0);
    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 0);
    assert_int_equal(rcnt.bytes_read, big);
    r->ops->free(r);
    free(back);
    free(data);
}

/*
 * A sparse entry: only the data ranges are written (and stored), the
 * archive stays small, and it reads back whole: data where it was, zeros
 * in the holes, the trailing hole included; an all-hole file too.
 */
static void test_sparse_entry(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/sparse.tar", dir);
    smb_error err = {0};
    arc_out_opts o = {.filter = ARC_NONE, .level = -1};
    ep *w = ep_archive_create(path, &o, NULL, &err);
    assert_non_null(w);
    const uint64_t size = 256u << 20; /* 2 x 1 MiB of data */
    const ep_range ranges[] = {{1u << 20, 1u << 20}, {200u << 20, 1u << 20}};
    uint8_t *data = pattern(1u << 20, 3);
    ep_stat fs = {.type = EP_FILE, .size = size, .mtime = FT(1600000000, 0)};
    ep_file *f = NULL;
    assert_int_equal(w->ops->open_write(w, "disk.img", &fs, &f, &err), 0);
    assert_int_equal(w->ops->set_data_ranges(f, ranges, 2, &err), 0);
    assert_int_equal(put(w, f, data, 1u << 20, ranges[0].off, &err), 0);
    assert_int_equal(put(w, f, data, 1u << 20, ranges[1].off, &err), 0);
    assert_int_equal(put(w, f, data, 10, 0, &err), SMB_ERR_INVALID_ARG); /* backwards */
    assert_int_equal(w->ops->finish(f, &fs, NULL, &err), 0);
    assert_int_equal(w->ops->close(f, &err), 0);
    ep_stat hs = {.type = EP_FILE, .size = 5000, .mtime = FT(1600000000, 0)};
    assert_int_equal(w->ops->open_write(w, "hole", &hs, &f, &err), 0);
    assert_int_equal(w->ops->set_data_ranges(f, NULL, 0, &err), 0);
    assert_int_equal(w->ops->finish(f, &hs, NULL, &err), 0);
    assert_int_equal(w->ops->close(f, &err), 0);
    assert_int_equal(w->ops->commit(w, true, &err), 0);
    w->ops->free(w);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size < 4 << 20);

    ep *r = ep_archive_open(path, NULL, &err);
    assert_non_null(r);
    const char *rel, *refused;
    ep_stat st;
    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 1);
    assert_string_equal(rel, "disk.img");
    assert_int_equal(st.size, size);
    assert_int_equal(st.allocated, 2u << 20);
    ep_file *in = NULL;
    assert_int_equal(r->ops->open_read(r, rel, &in, &err), 0);
    uint8_t *back = malloc(4u << 20);
    assert_non_null(back);
    uint64_t pos = 0;
    bool ok = true;
    while (pos < size) {
        long n = get(r, in, back, 4u << 20, pos, &err);
        assert_true(n > 0);
        for (long i = 0; i < n && ok; i++) {
            uint64_t at = pos + (uint64_t)i;
            uint8_t want = 0;
            for (int k = 0; k < 2; k++)
                if (at >= ranges[k].off && at < ranges[k].off + ranges[k].len)
                    want = data[at - ranges[k].off];
            if (back[i] != want) {
                print_error("byte %llu: %u, expected %u\n", (unsigned long long)at, back[i], want);
                ok = false;
            }
        }
        pos += (uint64_t)n;
    }
    assert_true(ok);
    assert_int_equal(pos, size);
    assert_int_equal(get(r, in, back, 16, pos, &err), 0);
    assert_int_equal(r->ops->close(in, &err), 0);
    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 1);
    assert_string_equal(rel, "hole");
    assert_int_equal(st.size, 5000);
    assert_int_equal(r->ops->open_read(r, rel, &in, &err), 0);
    assert_int_equal(get(r, in, back, 1u << 20, 0, &err), 5000);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(back[i], 0);
    assert_int_equal(r->ops->close(in, &err), 0);
    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 0);
    r->ops->free(r);
    free(back);
    free(data);
}

static void test_incomplete_entry(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/cut.tar", dir);
    smb_error err = {0};
    arc_out_opts o = {.filter = ARC_NONE, .level = -1};
    ep *w = ep_archive_create(path, &o, NULL, &err);
    assert_non_null(w);
    ep_stat fs = {.type = EP_FILE, .size = 1000, .mtime = FT(1600000000, 0)};
    ep_file *f = NULL;
    assert_int_equal(w->ops->open_write(w, "short", &fs, &f, &err), 0);
    uint8_t buf[400] = {1};
    assert_int_equal(put(w, f, buf, sizeof buf, 0, &err), 0);
    /* Closed with 600 bytes missing: the archive can no longer be whole. */
    assert_int_not_equal(w->ops->close(f, &err), 0);
    assert_int_not_equal(w->ops->commit(w, true, &err), 0);
    struct stat sb;
    assert_int_not_equal(stat(path, &sb), 0);
    w->ops->free(w);
    /* And no temporary file beside it. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep cut)\"", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_freed_uncommitted(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/never.tar.gz", dir);
    smb_error err = {0};
    arc_out_opts o = {.filter = ARC_GZIP, .level = 1};
    ep *w = ep_archive_create(path, &o, NULL, &err);
    assert_non_null(w);
    ep_stat d = {.type = EP_DIR, .mtime = FT(1700000000, 0)};
    assert_int_equal(w->ops->set_meta(w, "d", &d, &err), 0);
    w->ops->free(w); /* never committed: discarded */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s' | grep never)\"", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_missing_archive(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/absent.tar", dir);
    smb_error err = {0};
    assert_null(ep_archive_open(path, NULL, &err));
    assert_int_equal(err.code, SMB_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "absent.tar"));
}

/*
 * An archive whose first bytes claim lrzip compression: reading it must not
 * run any program. A fake `lrzip` first on PATH leaves a mark if it is run.
 */
static void test_no_external_decompressor(void **state)
{
    (void)state;
    char bin[300], mark[300], fake[320], path[300];
    snprintf(bin, sizeof bin, "%s/bin", dir);
    snprintf(mark, sizeof mark, "%s/ran", dir);
    snprintf(fake, sizeof fake, "%s/lrzip", bin);
    snprintf(path, sizeof path, "%s/evil.tar.lrz", dir);
    assert_int_equal(mkdir(bin, 0700), 0);
    FILE *f = fopen(fake, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\ntouch '%s'\ncat\n", mark);
    fclose(f);
    assert_int_equal(chmod(fake, 0700), 0);
    f = fopen(path, "wb");
    assert_non_null(f);
    static const uint8_t head[] = {'L', 'R', 'Z', 'I', 0, 6};
    uint8_t zeros[512] = {0};
    fwrite(head, 1, sizeof head, f);
    fwrite(zeros, 1, sizeof zeros, f);
    fclose(f);

    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", bin, 1);
    smb_error err = {0};
    ep *e = ep_archive_open(path, NULL, &err);
    if (e) {
        const char *name = NULL, *refused = NULL;
        ep_stat st;
        int rc = e->ops->next(e, &name, &st, &refused, &err);
        e->ops->free(e);
        assert_true(rc < 0);
    }
    if (old) {
        setenv("PATH", old, 1);
        free(old);
    }
    assert_int_not_equal(access(mark, F_OK), 0);
}

/* A stream named name of len bytes of pattern seed (name copied). */
static ep_stream stream_of(const char *name, size_t len, unsigned seed)
{
    ep_stream s = {.name = strdup(name), .len = len, .data = len ? pattern(len, seed) : NULL};
    assert_non_null(s.name);
    return s;
}

static void free_streams(ep_stream *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].data);
    }
}

/* Write an entry of rel holding "data", its streams s (NULL: none) and descriptor sd (NULL: none) given first. */
static void put_entry(ep *w, const char *rel, ep_streams *s, int streams_rc, const ep_sd *sd)
{
    smb_error err = {0};
    ep_stat fs = {.type = EP_FILE, .size = 4, .mtime = FT(1600000000, 0)};
    ep_file *f = NULL;
    assert_int_equal(w->ops->open_write(w, rel, &fs, &f, &err), 0);
    if (sd)
        assert_int_equal(w->ops->put_sd(f, sd, &err), 0);
    if (s) {
        assert_int_equal(w->ops->put_streams(f, s, &err), streams_rc);
        if (streams_rc)
            print_message("%s: %s\n", rel, err.message);
    }
    assert_int_equal(put(w, f, "data", 4, 0, &err), 0);
    /* After the data: too late, the header is written. */
    if (s)
        assert_int_equal(w->ops->put_streams(f, s, &err), SMB_ERR_INVALID_ARG);
    if (sd)
        assert_int_equal(w->ops->put_sd(f, sd, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(w->ops->finish(f, &fs, NULL, &err), 0);
    assert_int_equal(w->ops->close(f, &err), 0);
}

/* Open the next entry, rel, of r: its streams into *s and its descriptor into *sd. */
static void get_entry(ep *r, const char *want, uint8_t streams_state, ep_streams *s, ep_sd *sd)
{
    smb_error err = {0};
    const char *rel, *refused;
    ep_stat st;
    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 1);
    assert_string_equal(rel, want);
    assert_int_equal(st.streams, streams_state);
    ep_file *in = NULL;
    assert_int_equal(r->ops->open_read(r, rel, &in, &err), 0);
    assert_int_equal(r->ops->put_streams(in, s, &err), SMB_ERR_UNSUPPORTED); /* a source */
    assert_int_equal(r->ops->get_streams(in, s, &err), 0);
    assert_int_equal(r->ops->get_sd(in, EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL | EP_SD_SACL, sd, &err), 0);
    char data[8];
    assert_int_equal(get(r, in, data, 4, 0, &err), 4);
    assert_memory_equal(data, "data", 4);
    assert_int_equal(r->ops->close(in, &err), 0);
}

static void same_streams(const ep_streams *got, const ep_stream *want, size_t n)
{
    assert_int_equal(got->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(got->v[i].name, want[i].name);
        assert_int_equal(got->v[i].len, want[i].len);
        if (want[i].len)
            assert_memory_equal(got->v[i].data, want[i].data, want[i].len);
    }
}

static void test_streams_and_sd(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/meta.tar.xz", dir);
    smb_error err = {0};
    arc_out_opts o = {.filter = ARC_XZ, .level = 1};
    ep *w = ep_archive_create(path, &o, NULL, &err);
    assert_non_null(w);

    smb_security_descriptor *d;
    assert_int_equal(smb_sd_from_sddl("O:BAG:SYD:P(A;;FA;;;WD)(D;;WD;;;BU)", &d, &err), 0);
    ep_sd sd = {.parts = EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL};
    assert_int_equal(smb_sd_encode(d, &sd.bytes, &sd.len, &err), 0);
    smb_sd_free(d);

    ep_stream a[3] = {stream_of("Zone.Identifier", 26, 1), stream_of("empty", 0, 0), stream_of("caf\xc3\xa9 b=%", 3000, 2)};
    ep_streams as = {.v = a, .n = 3};
    put_entry(w, "a", &as, 0, &sd);

    /* A name no stream may have: nothing kept. A descriptor that is none: refused. */
    ep_stream bad[2] = {stream_of("fine", 3, 3), stream_of("x:y", 3, 4)};
    ep_streams bs = {.v = bad, .n = 2};
    put_entry(w, "bad", &bs, SMB_ERR_BAD_NAME, NULL);
    ep_file *f = NULL;
    ep_stat fs = {.type = EP_FILE, .size = 0, .mtime = FT(1600000000, 0)};
    assert_int_equal(w->ops->open_write(w, "badsd", &fs, &f, &err), 0);
    uint8_t zeros[20] = {0};
    assert_int_equal(w->ops->put_sd(f, &(ep_sd){.bytes = zeros, .len = sizeof zeros}, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(w->ops->get_streams(f, &bs, &err), SMB_ERR_UNSUPPORTED); /* a destination */
    assert_int_equal(w->ops->finish(f, &fs, NULL, &err), 0);
    assert_int_equal(w->ops->close(f, &err), 0);

    /* More than the header's room: the third is left out, the others kept. */
    ep_stream full[4] = {stream_of("s1", 400000, 5), stream_of("s2", 400000, 6), stream_of("s3", 400000, 7),
                         stream_of("s4", 10, 8)};
    ep_streams fsx = {.v = full, .n = 4};
    put_entry(w, "full", &fsx, SMB_ERR_NO_SPACE, &sd);

    /* A name longer than newer libarchive reads: left out, the other kept. */
    char long_name[120];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    ep_stream lng[2] = {stream_of(long_name, 5, 9), stream_of("ok", 5, 10)};
    ep_streams ls = {.v = lng, .n = 2};
    put_entry(w, "long", &ls, SMB_ERR_BAD_NAME, NULL);

    /* A sparse file's header goes out with its data ranges: streams only before. */
    ep_stat ss = {.type = EP_FILE, .size = 1 << 20, .mtime = FT(1600000000, 0)};
    ep_range rg = {0, 4};
    assert_int_equal(w->ops->open_write(w, "sparse", &ss, &f, &err), 0);
    assert_int_equal(w->ops->put_streams(f, &ls, &err), SMB_ERR_BAD_NAME);
    assert_int_equal(w->ops->set_data_ranges(f, &rg, 1, &err), 0);
    assert_int_equal(w->ops->put_streams(f, &as, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(put(w, f, "data", 4, 0, &err), 0);
    assert_int_equal(w->ops->finish(f, &ss, NULL, &err), 0);
    assert_int_equal(w->ops->close(f, &err), 0);
    assert_int_equal(w->ops->commit(w, true, &err), 0);
    w->ops->free(w);

    ep *r = ep_archive_open(path, NULL, &err);
    assert_non_null(r);
    ep_streams s = {0};
    ep_sd got = {0};
    get_entry(r, "a", EP_STREAMS_SOME, &s, &got);
    same_streams(&s, a, 3);
    assert_int_equal(got.len, sd.len);
    assert_memory_equal(got.bytes, sd.bytes, sd.len);
    assert_int_equal(got.parts, EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL);
    get_entry(r, "bad", EP_STREAMS_NONE, &s, &got);
    assert_int_equal(s.n, 0);
    assert_int_equal(got.len, 0);
    const char *rel, *refused;
    ep_stat st;
    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 1);
    assert_string_equal(rel, "badsd");
    get_entry(r, "full", EP_STREAMS_SOME, &s, &got);
    ep_stream kept[3] = {full[0], full[1], full[3]};
    same_streams(&s, kept, 3);
    assert_int_equal(got.len, sd.len);
    get_entry(r, "long", EP_STREAMS_SOME, &s, &got);
    same_streams(&s, &lng[1], 1);
    get_entry(r, "sparse", EP_STREAMS_SOME, &s, &got);
    same_streams(&s, &lng[1], 1);
    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 0);
    r->ops->free(r);

    ep_streams_clear(&s);
    ep_sd_clear(&got);
    free_streams(a, 3);
    free_streams(bad, 2);
    free_streams(full, 4);
    free_streams(lng, 2);
    free(sd.bytes);
}

/* A directory's streams and descriptor: open_meta's file keeps them for the header the directory's set_meta writes. */
static void test_dir_streams_and_sd(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/dirmeta.tar", dir);
    smb_error err = {0};
    arc_out_opts o = {.filter = ARC_NONE, .level = -1};
    ep *w = ep_archive_create(path, &o, NULL, &err);
    assert_non_null(w);
    smb_security_descriptor *d;
    assert_int_equal(smb_sd_from_sddl("O:BAG:SYD:P(A;;FA;;;WD)", &d, &err), 0);
    ep_sd sd = {.parts = EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL};
    assert_int_equal(smb_sd_encode(d, &sd.bytes, &sd.len, &err), 0);
    smb_sd_free(d);
    ep_stream a[2] = {stream_of("dz", 17, 11), stream_of("caf\xc3\xa9 d", 300, 12)};
    ep_streams as = {.v = a, .n = 2};
    ep_stat ds = {.type = EP_DIR, .mtime = FT(1600000000, 0)};

    ep_file *f = NULL;
    assert_int_equal(w->ops->open_meta(w, "d", false, true, &f, &err), SMB_ERR_UNSUPPORTED); /* a file: no */
    assert_int_equal(w->ops->open_meta(w, "d", true, false, &f, &err), SMB_ERR_UNSUPPORTED); /* reading: no */
    assert_int_equal(w->ops->open_meta(w, "d", true, true, &f, &err), 0);
    assert_int_equal(w->ops->put_sd(f, &sd, &err), 0);
    assert_int_equal(w->ops->put_streams(f, &as, &err), 0);
    assert_int_equal(w->ops->close(f, &err), 0);
    assert_int_equal(w->ops->set_meta(w, "d", &ds, &err), 0);
    /* Given for one directory, dropped by the set_meta of another. */
    assert_int_equal(w->ops->open_meta(w, "x", true, true, &f, &err), 0);
    assert_int_equal(w->ops->put_streams(f, &as, &err), 0);
    assert_int_equal(w->ops->close(f, &err), 0);
    assert_int_equal(w->ops->set_meta(w, "d/e", &ds, &err), 0);
    assert_int_equal(w->ops->set_meta(w, "x", &ds, &err), 0);
    put_entry(w, "d/f", NULL, 0, NULL);
    assert_int_equal(w->ops->commit(w, true, &err), 0);
    w->ops->free(w);

    ep *r = ep_archive_open(path, NULL, &err);
    assert_non_null(r);
    const char *rel, *refused;
    ep_stat st;
    ep_streams s = {0};
    ep_sd got = {0};
    const char *names[3] = {"d", "d/e", "x"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 1);
        assert_string_equal(rel, names[i]);
        assert_int_equal(st.type, EP_DIR);
        assert_int_equal(st.streams, i == 0 ? EP_STREAMS_SOME : EP_STREAMS_NONE);
        assert_int_equal(r->ops->open_meta(r, "other", true, false, &f, &err), SMB_ERR_INVALID_ARG);
        assert_int_equal(r->ops->open_meta(r, rel, true, true, &f, &err), SMB_ERR_UNSUPPORTED);
        assert_int_equal(r->ops->open_meta(r, rel, true, false, &f, &err), 0);
        assert_int_equal(r->ops->get_streams(f, &s, &err), 0);
        assert_int_equal(r->ops->get_sd(f, EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL, &got, &err), 0);
        assert_int_equal(r->ops->close(f, &err), 0);
        if (i == 0) {
            same_streams(&s, a, 2);
            assert_int_equal(got.len, sd.len);
            assert_memory_equal(got.bytes, sd.bytes, sd.len);
        } else {
            assert_int_equal(s.n, 0);
            assert_int_equal(got.len, 0);
        }
    }
    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 1);
    assert_string_equal(rel, "d/f");
    assert_int_equal(r->ops->open_meta(r, rel, true, false, &f, &err), SMB_ERR_INVALID_ARG); /* not a directory */
    assert_int_equal(r->ops->next(r, &rel, &st, &refused, &err), 0);
    r->ops->free(r);
    ep_streams_clear(&s);
    ep_sd_clear(&got);
    free_streams(a, 2);
    free(sd.bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_sparse_entry),
        cmocka_unit_test(test_incomplete_entry),
        cmocka_unit_test(test_freed_uncommitted),
        cmocka_unit_test(test_missing_archive),
        cmocka_unit_test(test_no_external_decompressor),
        cmocka_unit_test(test_streams_and_sd),
        cmocka_unit_test(test_dir_streams_and_sd),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

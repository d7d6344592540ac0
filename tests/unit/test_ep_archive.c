/*
 * Archives as sequential endpoints (ep_archive.c): a tree written through
 * the endpoint operations reads back through them with the same entries,
 * bytes and metadata; the stream's rules are enforced (data in order, one
 * file at a time, only the current entry readable, no random access); an
 * entry left incomplete makes the commit fail and leaves nothing under the
 * final name; counters count the entries' bytes.
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

#include "engine/ep_archive.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_sparse_entry),
        cmocka_unit_test(test_incomplete_entry),
        cmocka_unit_test(test_freed_uncommitted),
        cmocka_unit_test(test_missing_archive),
        cmocka_unit_test(test_no_external_decompressor),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

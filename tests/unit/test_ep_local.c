/* The local filesystem endpoint, in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/resume/checkpoint.h"
#include "engine/endpoints/endpoint.h"
#include "engine/job_internal.h"
#include "engine/names/temp_names.h"

#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)

typedef struct fixture {
    char dir[64];
    ep *e;
    ep_counters counters;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/test_ep_local.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    smb_error err;
    fx->e = ep_local_open(fx->dir, &fx->counters, &err);
    assert_non_null(fx->e);
    *state = fx;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fx->e->ops->free(fx->e);
    nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

/* Absolute path of rel under the fixture directory. */
static void abs_path(const fixture *fx, const char *rel, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", fx->dir, rel);
}

static void make_file(const fixture *fx, const char *rel, const char *text)
{
    char p[256];
    abs_path(fx, rel, p, sizeof p);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Write len bytes at off through the endpoint. */
static void ep_write(ep *e, ep_file *f, const void *buf, size_t len, uint64_t off)
{
    smb_error err;
    size_t n = 0;
    ep_io *io = e->ops->write_submit(f, buf, len, off, &err);
    assert_non_null(io);
    assert_int_equal(e->ops->io_wait(io, &n, &err), 0);
    assert_int_equal(n, len);
}

static size_t ep_read(ep *e, ep_file *f, void *buf, size_t len, uint64_t off)
{
    smb_error err;
    size_t n = 0;
    ep_io *io = e->ops->read_submit(f, buf, len, off, &err);
    assert_non_null(io);
    assert_int_equal(e->ops->io_wait(io, &n, &err), 0);
    return n;
}

static void test_stat(void **state)
{
    fixture *fx = *state;
    ep *e = fx->e;
    smb_error err;
    ep_stat st;
    char p[256], t[256];

    assert_string_equal(e->ops->kind, "local");
    assert_string_equal(e->display, fx->dir);
    assert_int_equal(e->caps & EP_CAP_CREATION_TIME, 0);
    assert_null(e->ops->server_copy);

    make_file(fx, "f.txt", "hello");
    assert_int_equal(e->ops->stat(e, "f.txt", &st, &err), 0);
    assert_int_equal(st.type, EP_FILE);
    assert_int_equal(st.size, 5);
    assert_int_equal(st.ctime, 0);
    assert_int_equal(st.attributes, SMB_ATTR_ARCHIVE);
    struct stat s;
    abs_path(fx, "f.txt", p, sizeof p);
    assert_int_equal(lstat(p, &s), 0);
    assert_int_equal(st.file_id, s.st_ino);
    assert_int_equal(st.mtime, smb_filetime_from_unix(s.st_mtim.tv_sec, s.st_mtim.tv_nsec));

    assert_int_equal(e->ops->stat(e, "", &st, &err), 0);
    assert_int_equal(st.type, EP_DIR);
    assert_true(st.attributes & SMB_ATTR_DIRECTORY);

    abs_path(fx, "link", t, sizeof t);
    assert_int_equal(symlink("f.txt", t), 0);
    assert_int_equal(e->ops->stat(e, "link", &st, &err), 0);
    assert_int_equal(st.type, EP_SYMLINK);

    assert_int_equal(e->ops->stat(e, "missing", &st, &err), SMB_ERR_NOT_FOUND);
    assert_int_equal(err.code, SMB_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "missing"));
    /* A file used as a directory: the entry below it is not found. */
    assert_int_equal(e->ops->stat(e, "f.txt/x", &st, &err), SMB_ERR_NOT_FOUND);
}

typedef struct seen {
    unsigned char hit[1000];
    int others;
} seen;

static int list_cb(void *arg, const char *name, const ep_stat *st)
{
    seen *s = arg;
    unsigned i;
    char tail;
    if (sscanf(name, "e%u%c", &i, &tail) == 1 && i < 1000 && st->type == EP_FILE)
        s->hit[i]++;
    else
        s->others++;
    return 0;
}

static int stop_cb(void *arg, const char *name, const ep_stat *st)
{
    (void)name;
    (void)st;
    ++*(int *)arg;
    return 1;
}

static void test_list(void **state)
{
    fixture *fx = *state;
    ep *e = fx->e;
    smb_error err;

    assert_int_equal(e->ops->mkdir(e, "d", &err), 0);
    for (int i = 0; i < 1000; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "d/e%d", i);
        make_file(fx, rel, "");
    }
    seen *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_int_equal(e->ops->list(e, "d", list_cb, s, &err), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(s->hit[i], 1);
    assert_int_equal(s->others, 0);
    free(s);

    int calls = 0;
    assert_int_equal(e->ops->list(e, "d", stop_cb, &calls, &err), 0);
    assert_int_equal(calls, 1);

    assert_int_equal(e->ops->list(e, "nope", stop_cb, &calls, &err), SMB_ERR_NOT_FOUND);
    assert_int_equal(e->ops->list(e, "d/e1", stop_cb, &calls, &err), SMB_ERR_NOT_DIR);
}

static void test_mkdir(void **state)
{
    fixture *fx = *state;
    ep *e = fx->e;
    smb_error err;
    ep_stat st;

    assert_int_equal(e->ops->mkdir(e, "sub", &err), 0);
    assert_int_equal(e->ops->mkdir(e, "sub", &err), SMB_ERR_EXISTS);
    assert_non_null(strstr(err.message, "sub"));
    assert_int_equal(e->ops->mkdir(e, "no/parent", &err), SMB_ERR_NOT_FOUND);

    /* An endpoint whose root does not exist yet creates it with mkdir(""). */
    char root[256];
    abs_path(fx, "newroot/", root, sizeof root);
    ep *e2 = ep_local_open(root, NULL, &err);
    assert_non_null(e2);
    assert_int_equal(e2->ops->stat(e2, "", &st, &err), SMB_ERR_NOT_FOUND);
    assert_int_equal(e2->ops->mkdir(e2, "", &err), 0);
    assert_int_equal(e2->ops->stat(e2, "", &st, &err), 0);
    assert_int_equal(st.type, EP_DIR);
    assert_int_equal(e2->ops->mkdir(e2, "x", &err), 0);
    assert_int_equal(e->ops->stat(e, "newroot/x", &st, &err), 0);
    e2->ops->free(e2);
}

static void test_write_read(void **state)
{
    fixture *fx = *state;
    ep *e = fx->e;
    smb_error err;
    ep_file *f;
    ep_stat st, got;
    const uint64_t big = 5 * GIB;
    const uint64_t size = big + 6;

    fx->counters = (ep_counters){0};
    assert_int_equal(e->ops->open_write(e, "out.tmp", &(ep_stat){.type = EP_FILE, .size = size}, &f, &err), 0);
    assert_int_equal(e->ops->io_size(f), 4 * MIB);
    ep_write(e, f, "world", 5, 6);
    ep_write(e, f, "hello ", 6, 0);
    ep_write(e, f, "far", 3, big);
    ep_write(e, f, "end", 3, big + 3);

    /* 2001-09-09 01:46:40.1234567 UTC, a FILETIME with every 100 ns digit. */
    ep_stat meta = {.type = EP_FILE, .size = size, .attributes = SMB_ATTR_ARCHIVE};
    meta.mtime = smb_filetime_from_unix(1000000000, 123456700);
    assert_int_equal(e->ops->finish(f, &meta, &got, &err), 0);
    assert_int_equal(got.size, size);
    assert_int_equal(got.mtime, meta.mtime);
    assert_int_equal(got.attributes, SMB_ATTR_ARCHIVE);
    assert_int_equal(e->ops->close(f, &err), 0);
    assert_int_equal(fx->counters.bytes_written, 17);

    char p[256];
    struct stat s;
    abs_path(fx, "out.tmp", p, sizeof p);
    assert_int_equal(stat(p, &s), 0);
    assert_int_equal(s.st_mtim.tv_sec, 1000000000);
    assert_int_equal(s.st_mtim.tv_nsec, 123456700);
    assert_int_equal(s.st_atim.tv_nsec, 123456700);

    /* Rename over an existing file. */
    make_file(fx, "out.bin", "old");
    assert_int_equal(e->ops->rename(e, "out.tmp", "out.bin", NULL, &err), 0);
    assert_int_equal(e->ops->stat(e, "out.tmp", &st, &err), SMB_ERR_NOT_FOUND);
    assert_int_equal(e->ops->stat(e, "out.bin", &st, &err), 0);
    assert_int_equal(st.size, size);
    assert_int_equal(st.mtime, meta.mtime);

    /* Read it back. */
    char buf[16];
    assert_int_equal(e->ops->open_read(e, "out.bin", &f, &err), 0);
    assert_int_equal(ep_read(e, f, buf, 11, 0), 11);
    assert_memory_equal(buf, "hello world", 11);
    memset(buf, 'x', sizeof buf);
    assert_int_equal(ep_read(e, f, buf, sizeof buf, big), 6);
    assert_memory_equal(buf, "farend", 6);
    assert_int_equal(ep_read(e, f, buf, 4, 100), 4);
    assert_memory_equal(buf, "\0\0\0\0", 4);
    assert_int_equal(ep_read(e, f, buf, sizeof buf, size), 0);
    assert_int_equal(e->ops->close(f, &err), 0);
    assert_int_equal(fx->counters.bytes_read, 11 + 6 + 4);

    /* Directories cannot be opened as files. */
    assert_int_equal(e->ops->mkdir(e, "dir", &err), 0);
    assert_int_equal(e->ops->open_read(e, "dir", &f, &err), SMB_ERR_IS_DIR);
    assert_null(f);
}

static void test_sparse(void **state)
{
    fixture *fx = *state;
    ep *e = fx->e;
    smb_error err;
    ep_file *f;
    ep_stat got;
    const uint64_t size = 64 * MIB;
    char *zeros = calloc(1, 4 * MIB);
    char tail[4096];
    assert_non_null(zeros);
    memset(tail, 0xa5, sizeof tail);

    assert_int_equal(e->ops->open_write(e, "sparse", &(ep_stat){.type = EP_FILE, .size = size}, &f, &err), 0);
    /* Zero blocks are given too; they must not take space. */
    for (uint64_t off = 0; off < 8 * MIB; off += 4 * MIB)
        ep_write(e, f, zeros, 4 * MIB, off);
    ep_write(e, f, tail, sizeof tail, size - sizeof tail);
    ep_stat meta = {.type = EP_FILE, .size = size, .mtime = smb_filetime_from_unix(1, 0)};
    assert_int_equal(e->ops->finish(f, &meta, &got, &err), 0);
    assert_int_equal(got.size, size);
    assert_int_equal(e->ops->close(f, &err), 0);

    char p[256];
    struct stat s;
    abs_path(fx, "sparse", p, sizeof p);
    assert_int_equal(stat(p, &s), 0);
    assert_int_equal((uint64_t)s.st_size, size);
    assert_true((uint64_t)s.st_blocks * 512 < MIB);

    /* The data is where it belongs. */
    char back[4096];
    assert_int_equal(e->ops->open_read(e, "sparse", &f, &err), 0);
    assert_int_equal(ep_read(e, f, back, sizeof back, size - sizeof back), sizeof back);
    assert_memory_equal(back, tail, sizeof tail);
    /* Its data ranges: only the tail's block (the filesystem's block size rounds it). */
    ep_range *r = NULL;
    size_t n = 0;
    assert_int_equal(e->ops->data_ranges(f, size, &r, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_true(r[0].off <= size - sizeof tail && r[0].off >= size - 64 * 1024);
    assert_int_equal(r[0].off + r[0].len, size);
    free(r);
    /* Asked for less than the file: nothing in the first half. */
    assert_int_equal(e->ops->data_ranges(f, size / 2, &r, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_null(r);
    assert_int_equal(e->ops->close(f, &err), 0);

    /* Zeros past the size set at open are written, not skipped. */
    assert_int_equal(e->ops->open_write(e, "grow", &(ep_stat){.type = EP_FILE, .size = 0}, &f, &err), 0);
    ep_write(e, f, zeros, 4096, 0);
    assert_int_equal(e->ops->finish(f, &meta, &got, &err), 0);
    assert_int_equal(got.size, 4096);
    assert_int_equal(e->ops->close(f, &err), 0);
    free(zeros);
}

static void test_readonly(void **state)
{
    fixture *fx = *state;
    ep *e = fx->e;
    smb_error err;
    ep_file *f;
    ep_stat st, got;

    assert_int_equal(e->ops->open_write(e, "ro", &(ep_stat){.type = EP_FILE, .size = 3}, &f, &err), 0);
    ep_write(e, f, "abc", 3, 0);
    ep_stat meta = {.type = EP_FILE,
                    .size = 3,
                    .mtime = smb_filetime_from_unix(1500000000, 0),
                    .attributes = SMB_ATTR_READONLY};
    assert_int_equal(e->ops->finish(f, &meta, &got, &err), 0);
    assert_int_equal(got.attributes, SMB_ATTR_READONLY);
    assert_int_equal(got.mtime, meta.mtime);
    assert_int_equal(e->ops->close(f, &err), 0);

    assert_int_equal(e->ops->stat(e, "ro", &st, &err), 0);
    assert_int_equal(st.attributes, SMB_ATTR_READONLY);
    char p[256];
    struct stat s;
    abs_path(fx, "ro", p, sizeof p);
    assert_int_equal(stat(p, &s), 0);
    assert_int_equal(s.st_mode & 0222, 0);

    /* Directories: times are set, READONLY is ignored. */
    assert_int_equal(e->ops->mkdir(e, "d", &err), 0);
    ep_stat dm = {.type = EP_DIR,
                  .mtime = smb_filetime_from_unix(1400000000, 500),
                  .attributes = SMB_ATTR_DIRECTORY | SMB_ATTR_READONLY};
    assert_int_equal(e->ops->set_meta(e, "d", &dm, &err), 0);
    assert_int_equal(e->ops->stat(e, "d", &st, &err), 0);
    assert_int_equal(st.mtime, dm.mtime);
    assert_int_equal(st.attributes, SMB_ATTR_DIRECTORY);
    abs_path(fx, "d", p, sizeof p);
    assert_int_equal(stat(p, &s), 0);
    assert_int_not_equal(s.st_mode & 0200, 0);
}

static void test_escape(void **state)
{
    fixture *fx = *state;
    ep *e = fx->e;
    smb_error err;
    ep_stat st;
    ep_file *f;
    static const char *const bad[] = {"../x", "/etc/passwd", "a/../../b", "..", "a/.."};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(e->ops->stat(e, bad[i], &st, &err), SMB_ERR_BAD_NAME);
        assert_int_equal(err.code, SMB_ERR_BAD_NAME);
        assert_int_equal(e->ops->open_read(e, bad[i], &f, &err), SMB_ERR_BAD_NAME);
        assert_int_equal(e->ops->open_write(e, bad[i], &(ep_stat){.type = EP_FILE, .size = 0}, &f, &err), SMB_ERR_BAD_NAME);
        assert_int_equal(e->ops->mkdir(e, bad[i], &err), SMB_ERR_BAD_NAME);
        assert_int_equal(e->ops->unlink(e, bad[i], &err), SMB_ERR_BAD_NAME);
        assert_int_equal(e->ops->rename(e, "x", bad[i], NULL, &err), SMB_ERR_BAD_NAME);
        assert_int_equal(e->ops->rename(e, bad[i], "x", NULL, &err), SMB_ERR_BAD_NAME);
    }
    /* Names that merely contain dots are fine. */
    make_file(fx, "..a", "");
    assert_int_equal(e->ops->stat(e, "..a", &st, &err), 0);
}

static void test_errors(void **state)
{
    fixture *fx = *state;
    ep *e = fx->e;
    smb_error err;
    ep_file *f;

    make_file(fx, "there", "x");
    assert_int_equal(e->ops->open_write(e, "there", &(ep_stat){.type = EP_FILE, .size = 0}, &f, &err), SMB_ERR_EXISTS);
    assert_null(f);
    assert_non_null(strstr(err.message, "create '"));
    assert_non_null(strstr(err.message, "/there'"));

    assert_int_equal(e->ops->unlink(e, "missing", &err), SMB_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "missing"));

    assert_int_equal(e->ops->mkdir(e, "full", &err), 0);
    make_file(fx, "full/x", "");
    assert_int_equal(e->ops->rmdir(e, "full", &err), SMB_ERR_NOT_EMPTY);
    assert_int_equal(e->ops->rmdir(e, "there", &err), SMB_ERR_NOT_DIR);
    assert_int_equal(e->ops->unlink(e, "full", &err), SMB_ERR_IS_DIR);
    assert_int_equal(e->ops->open_read(e, "missing", &f, &err), SMB_ERR_NOT_FOUND);

    assert_int_equal(e->ops->unlink(e, "full/x", &err), 0);
    assert_int_equal(e->ops->rmdir(e, "full", &err), 0);
    assert_int_equal(e->ops->unlink(e, "there", &err), 0);
}

/*
 * The change time (st_ctime) tells a file rewritten in place with its size
 * and modification time restored, through a path stat, a listing and the
 * open file's fstat alike.
 */
static int list_one(void *arg, const char *name, const ep_stat *st)
{
    if (name && strcmp(name, "c.txt") == 0)
        *(ep_stat *)arg = *st;
    return 0;
}

static void test_change_time(void **state)
{
    fixture *fx = *state;
    ep *e = fx->e;
    smb_error err;
    make_file(fx, "c.txt", "version one");
    char p[256];
    abs_path(fx, "c.txt", p, sizeof p);
    struct timespec old[2] = {{1500000000, 0}, {1500000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
    ep_stat a, l, f, b;
    assert_int_equal(ep_stat_path(e, "c.txt", &a, &err), 0);
    struct stat s;
    assert_int_equal(stat(p, &s), 0);
    assert_true(a.change_time == smb_filetime_from_unix((int64_t)s.st_ctim.tv_sec, s.st_ctim.tv_nsec));
    assert_true(a.change_time != 0 && a.change_time != a.mtime);
    memset(&l, 0, sizeof l);
    assert_int_equal(e->ops->list(e, "", list_one, &l, &err), 0);
    assert_true(l.change_time == a.change_time);
    ep_file *fh = NULL;
    assert_int_equal(e->ops->open_read(e, "c.txt", &fh, &err), 0);
    assert_non_null(e->ops->fstat);
    assert_int_equal(e->ops->fstat(fh, &f, &err), 0);
    assert_true(f.change_time == a.change_time && f.size == a.size && f.mtime == a.mtime && f.file_id == a.file_id);
    /* Rewritten in place, same size, mtime put back. */
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
    make_file(fx, "c.txt", "version two");
    assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
    assert_int_equal(ep_stat_path(e, "c.txt", &b, &err), 0);
    assert_true(b.size == a.size && b.mtime == a.mtime && b.file_id == a.file_id);
    assert_true(b.change_time > a.change_time);
    assert_int_equal(e->ops->fstat(fh, &f, &err), 0);
    assert_true(f.change_time == b.change_time);
    assert_int_equal(e->ops->close(fh, &err), 0);
}

/* ---------------------------------------------------------------- jobs between local directories */

/* Write n pseudo-random bytes to the absolute path p, with mode. */
static void write_bytes(const char *p, size_t n, mode_t mode)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        fputc((int)(x & 0xff), f);
    }
    fclose(f);
    assert_int_equal(chmod(p, mode), 0);
}

/* True when the files a and b hold the same bytes. */
static bool same_bytes(const char *a, const char *b)
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

/* A job copying sources into dest (checkpoint NULL unless given, job_id as given). */
static sc_job *new_job(const char **srcs, size_t n, const char *dest, const char *journal, uint8_t id_byte)
{
    sc_job_opts o;
    sc_job_opts_init(&o);
    o.sources = srcs;
    o.nsources = n;
    o.dest = dest;
    o.threads = 4;
    o.checkpoint = journal;
    memset(o.job_id, id_byte, sizeof o.job_id);
    smb_error err = {0};
    sc_job *job = sc_job_new(&o, &err);
    assert_non_null(job);
    return job;
}

static void run_job(const char **srcs, size_t n, const char *dest, const char *journal, sc_summary *sum)
{
    sc_job *job = new_job(srcs, n, dest, journal, 0);
    smb_error err = {0};
    int rc = sc_job_run(job, sum, &err);
    if (rc != 0)
        fail_msg("job failed: %s", err.message);
    for (size_t i = 0; i < sum->nfailures; i++)
        print_message("failure: %s: %s\n", sum->failures[i].path, sum->failures[i].message);
    sc_job_free(job);
}

static mode_t mode_of(const char *p)
{
    struct stat s;
    assert_int_equal(stat(p, &s), 0);
    return s.st_mode & 07777;
}

/*
 * With no checkpoint journal (checkpoint NULL, as a library caller or the
 * command without a state directory), files over 1 MiB (the range copy,
 * which looks the journal up) copy like any other: this aborted with
 * "free(): invalid pointer" once.
 */
static void test_job_no_checkpoint(void **state)
{
    fixture *fx = *state;
    char src[256], dst[256], a[300], b[300];
    abs_path(fx, "src", src, sizeof src);
    abs_path(fx, "dst", dst, sizeof dst);
    assert_int_equal(mkdir(src, 0755), 0);
    snprintf(a, sizeof a, "%s/big.bin", src);
    write_bytes(a, 3 * MIB + 5, 0644);
    snprintf(a, sizeof a, "%s/small.bin", src);
    write_bytes(a, 1000, 0644);
    const char *srcs[] = {src};
    sc_summary sum;
    run_job(srcs, 1, dst, NULL, &sum);
    assert_int_equal(sum.files_copied, 2);
    assert_int_equal(sum.nfailures, 0);
    sc_summary_free(&sum);
    for (int i = 0; i < 2; i++) {
        const char *leaf = i ? "small.bin" : "big.bin";
        snprintf(a, sizeof a, "%s/%s", src, leaf);
        snprintf(b, sizeof b, "%s/%s", dst, leaf);
        assert_true(same_bytes(a, b));
    }
    /* A single large file to a name of its own, still without a journal. */
    snprintf(a, sizeof a, "%s/big.bin", src);
    snprintf(b, sizeof b, "%s/renamed.bin", dst);
    const char *one[] = {a};
    run_job(one, 1, b, NULL, &sum);
    assert_int_equal(sum.files_copied, 1);
    sc_summary_free(&sum);
    assert_true(same_bytes(a, b));
}

/*
 * Modes on a local destination: a local source's permission bits arrive
 * as they are (files and directories, new and updated); an update keeps
 * the source's mode, never the umask's.
 */
static void test_job_modes(void **state)
{
    fixture *fx = *state;
    char src[256], dst[256], p[300];
    abs_path(fx, "src", src, sizeof src);
    abs_path(fx, "dst", dst, sizeof dst);
    assert_int_equal(mkdir(src, 0755), 0);
    snprintf(p, sizeof p, "%s/private", src);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(chmod(p, 0700), 0);
    snprintf(p, sizeof p, "%s/private/key", src);
    write_bytes(p, 100, 0600);
    snprintf(p, sizeof p, "%s/script", src);
    write_bytes(p, 2 * MIB, 0750);
    snprintf(p, sizeof p, "%s/shared", src);
    write_bytes(p, 10, 0664);
    mode_t old = umask(022);
    const char *srcs[] = {src};
    sc_summary sum;
    run_job(srcs, 1, dst, NULL, &sum);
    assert_int_equal(sum.files_copied, 3);
    sc_summary_free(&sum);
    snprintf(p, sizeof p, "%s/private", dst);
    assert_int_equal(mode_of(p), 0700);
    snprintf(p, sizeof p, "%s/private/key", dst);
    assert_int_equal(mode_of(p), 0600);
    snprintf(p, sizeof p, "%s/script", dst);
    assert_int_equal(mode_of(p), 0750);
    snprintf(p, sizeof p, "%s/shared", dst);
    assert_int_equal(mode_of(p), 0664);
    /* An update (the source changed) keeps the source's mode. */
    snprintf(p, sizeof p, "%s/private/key", src);
    write_bytes(p, 200, 0600);
    run_job(srcs, 1, dst, NULL, &sum);
    assert_int_equal(sum.files_copied, 1);
    sc_summary_free(&sum);
    snprintf(p, sizeof p, "%s/private/key", dst);
    assert_int_equal(mode_of(p), 0600);
    umask(old);
}

/*
 * Symbolic links named on the command line are followed (a source that
 * is a link to a directory or to a file; a destination that is a link to a
 * directory); links inside a tree are not.
 */
static void test_job_symlinks(void **state)
{
    fixture *fx = *state;
    char src[256], dst[256], p[300], q[300];
    abs_path(fx, "src", src, sizeof src);
    abs_path(fx, "dst", dst, sizeof dst);
    assert_int_equal(mkdir(src, 0755), 0);
    assert_int_equal(mkdir(dst, 0755), 0);
    snprintf(p, sizeof p, "%s/a.txt", src);
    write_bytes(p, 100, 0644);
    snprintf(p, sizeof p, "%s/inner", src);
    assert_int_equal(symlink("a.txt", p), 0);
    /* A source that is a link to a directory: its tree is copied. */
    abs_path(fx, "srclink", p, sizeof p);
    assert_int_equal(symlink(src, p), 0);
    snprintf(q, sizeof q, "%s/fromlink", dst);
    const char *s1[] = {p};
    sc_summary sum;
    run_job(s1, 1, q, NULL, &sum);
    assert_int_equal(sum.files_copied, 1);
    assert_int_equal(sum.nfailures, 0);
    sc_summary_free(&sum);
    snprintf(q, sizeof q, "%s/fromlink/a.txt", dst);
    snprintf(p, sizeof p, "%s/a.txt", src);
    assert_true(same_bytes(p, q));
    struct stat st;
    snprintf(q, sizeof q, "%s/fromlink/inner", dst);
    assert_int_equal(lstat(q, &st), -1); /* the link inside the tree is not followed */
    /* A destination that is a link to a directory: the file goes inside it, the link stays. */
    abs_path(fx, "dstlink", q, sizeof q);
    assert_int_equal(symlink(dst, q), 0);
    const char *s2[] = {p};
    run_job(s2, 1, q, NULL, &sum);
    assert_int_equal(sum.files_copied, 1);
    sc_summary_free(&sum);
    assert_int_equal(lstat(q, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    snprintf(q, sizeof q, "%s/a.txt", dst);
    assert_true(same_bytes(p, q));
    /* A source that is a link to a file: the file's bytes under the link's name. */
    abs_path(fx, "filelink", q, sizeof q);
    assert_int_equal(symlink(p, q), 0);
    const char *s3[] = {q};
    run_job(s3, 1, dst, NULL, &sum);
    assert_int_equal(sum.files_copied, 1);
    assert_int_equal(sum.nfailures, 0);
    sc_summary_free(&sum);
    snprintf(q, sizeof q, "%s/filelink", dst);
    assert_int_equal(lstat(q, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_true(same_bytes(p, q));
}

/* Count the entries of dir whose names are temporaries. */
static int count_temps(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += is_temp_name(de->d_name);
    closedir(d);
    return n;
}

/*
 * A run killed right after creating a temporary (the journal says
 * "started", the file is empty): the next successful run removes it,
 * whether it copies the file whole (small), over ranges (large) or finds
 * it up to date.
 */
static void test_job_started_temps_removed(void **state)
{
    fixture *fx = *state;
    char src[256], dst[256], jpath[256], p[700];
    abs_path(fx, "src", src, sizeof src);
    abs_path(fx, "dst", dst, sizeof dst);
    abs_path(fx, "journal", jpath, sizeof jpath);
    assert_int_equal(mkdir(src, 0755), 0);
    assert_int_equal(mkdir(dst, 0755), 0);
    const char *names[] = {"small.bin", "large.bin", "same.bin"};
    size_t sizes[] = {100, 2 * MIB, 50};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", src, names[i]);
        write_bytes(p, sizes[i], 0644);
    }
    /* same.bin is already up to date at the destination. */
    snprintf(p, sizeof p, "cp -p '%s/same.bin' '%s/same.bin'", src, dst);
    assert_int_equal(system(p), 0);
    const char *srcs[] = {src};
    sc_job *job = new_job(srcs, 1, dst, jpath, 7);
    uint32_t tag = job->tag;
    /* What the killed run left: a started record per file, and its empty temporary. */
    checkpoint *cp = NULL;
    smb_error err = {0};
    uint8_t id[16];
    memset(id, 7, sizeof id);
    assert_int_equal(checkpoint_open(jpath, id, false, &cp, &err), 0);
    for (int i = 0; i < 3; i++) {
        char *tmp = temp_name_tagged(names[i], tag);
        assert_non_null(tmp);
        ep_stat st = {.type = EP_FILE, .size = sizes[i]};
        snprintf(p, sizeof p, "%s/%s", src, names[i]);
        struct stat s;
        assert_int_equal(stat(p, &s), 0);
        st.mtime = smb_filetime_from_unix((int64_t)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
        st.file_id = s.st_ino;
        assert_int_equal(checkpoint_started(cp, names[i], tmp, &st, &err), 0);
        snprintf(p, sizeof p, "%s/%s", dst, tmp);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fclose(f);
        free(tmp);
    }
    assert_int_equal(checkpoint_close(cp, false, &err), 0);
    assert_int_equal(count_temps(dst), 3);
    sc_summary sum;
    assert_int_equal(sc_job_run(job, &sum, &err), 0);
    assert_int_equal(sum.nfailures, 0);
    assert_int_equal(sum.files_copied, 2);
    sc_summary_free(&sum);
    sc_job_free(job);
    assert_int_equal(count_temps(dst), 0);
    assert_int_equal(access(jpath, F_OK), -1); /* a successful run removes its journal */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mkdir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sparse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_no_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_started_temps_removed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

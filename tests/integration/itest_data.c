/*
 * Data paths against the main Samba server (SMB 3.1.1): large directories,
 * unicode names, path helpers, a 50 MiB file, offsets past 4 GiB in a
 * sparse file, and eight threads reading through one connection.
 */
#include "itest_smb.h"

#include <pthread.h>
#include <sys/time.h>
#include <utime.h>

#define MAIN "main"

static void test_list_10000_entries(void **state)
{
    (void)state;
    const char *dir = "list10k";
    it_fresh_dir(MAIN, dir);
    char path[PATH_MAX];
    char body[97];
    memset(body, 'x', sizeof body);
    const int count = 10000;
    for (int i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/%s/entry-%05d.txt", itest_share_dir(itest_require_env(), MAIN), dir, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        /* Each file's size derives from its index, so sizes differ and are checkable. */
        assert_int_equal(write(fd, body, (size_t)(i % 97)), i % 97);
        close(fd);
    }
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    smb_open *d = smb_open_dir(c.tree, dir, &err);
    if (!d)
        fail_msg("open dir: %s", err.message);
    smb_dir *l = smb_dir_start(d, NULL, &err);
    assert_non_null(l);
    unsigned char *seen = calloc((size_t)count, 1);
    int n = 0, rc;
    smb_dirent ent;
    while ((rc = smb_dir_next(l, &ent, &err)) == 1) {
        int idx;
        char tail;
        if (sscanf(ent.name, "entry-%05d.tx%c", &idx, &tail) != 2 || idx < 0 || idx >= count)
            fail_msg("unexpected entry '%s'", ent.name);
        assert_false(seen[idx]);
        seen[idx] = 1;
        assert_int_equal(ent.info.end_of_file, (uint64_t)(idx % 97));
        assert_false(smb_file_info_is_dir(&ent.info));
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, count);
    free(seen);
    smb_dir_finish(l);
    /* A pattern narrows the listing: entry-09990 .. entry-09999. */
    l = smb_dir_start(d, "entry-0999*", &err);
    n = 0;
    while ((rc = smb_dir_next(l, &ent, &err)) == 1) {
        assert_memory_equal(ent.name, "entry-0999", 10);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 10);
    smb_dir_finish(l);
    /*
     * A pattern nothing matches: an empty listing, not an error. The server
     * answers the first query STATUS_NO_SUCH_FILE (MS-SMB2 3.3.5.18), the
     * way an empty result is told; smbprotocol returns nothing too.
     */
    static const char *const nomatch[] = {"nomatch*", "nomatch", "*.nomatch", "entry-1?????"};
    for (size_t i = 0; i < sizeof nomatch / sizeof *nomatch; i++) {
        /* On a handle that listed before (a restarted scan) and on a new one (the first query). */
        smb_open *fresh = smb_open_dir(c.tree, dir, &err);
        assert_non_null(fresh);
        l = smb_dir_start(i % 2 ? d : fresh, nomatch[i], &err);
        assert_non_null(l);
        memset(&err, 0, sizeof err);
        rc = smb_dir_next(l, &ent, &err);
        if (rc != 0)
            fail_msg("pattern '%s', which nothing matches: smb_dir_next returned %d (%s), expected 0 (no entries)",
                     nomatch[i], rc, err.message);
        assert_int_equal(smb_dir_next(l, &ent, &err), 0); /* and stays at the end */
        smb_dir_finish(l);
        smb_close(fresh, NULL, NULL);
    }
    smb_close(d, NULL, NULL);
    it_close(&c);

    /*
     * The bounds on a listing against a real server: its pages (two or more
     * here) are never taken for a repeat, a ceiling equal to the count lets
     * the listing end, one less stops it after exactly that many entries.
     */
    for (uint64_t max = count; max >= (uint64_t)count - 1; max--) {
        smb_conn_opts o;
        smb_conn_opts_init(&o);
        o.max_dir_entries = max;
        it_connect_opts(&c, MAIN, &o);
        d = smb_open_dir(c.tree, dir, &err);
        assert_non_null(d);
        l = smb_dir_start(d, NULL, &err);
        assert_non_null(l);
        n = 0;
        while ((rc = smb_dir_next(l, &ent, &err)) == 1)
            n++;
        if (max == (uint64_t)count) {
            if (rc != 0)
                fail_msg("listing with a ceiling of %d: %s", count, err.message);
        } else {
            assert_int_equal(rc, SMB_ERR_PROTOCOL);
            assert_string_equal(err.message, "the server sent more than 9999 entries");
        }
        assert_int_equal(n, (int)max);
        smb_dir_finish(l);
        smb_close(d, NULL, NULL);
        it_close(&c);
    }
}

static const char *unicode_names[] = {
    "café ☕.txt",           /* 2- and 3-byte UTF-8 */
    "emoji 😀 smile.txt",    /* a surrogate pair in UTF-16 */
    "日本語のファイル名",     /* CJK */
    "Ωmega – ﬁle ‽",         /* symbols, a ligature */
    "𝄞 clef 𝄞.bin",          /* two supplementary-plane characters */
};

static void test_unicode_names(void **state)
{
    (void)state;
    const char *dir = "unicode";
    it_fresh_dir(MAIN, dir);
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    size_t nnames = sizeof unicode_names / sizeof unicode_names[0];
    for (size_t i = 0; i < nnames; i++) {
        char rel[256], disk[PATH_MAX];
        snprintf(rel, sizeof rel, "%s/%s", dir, unicode_names[i]);
        smb_open *f = smb_open_file(c.tree, rel, SMB_O_WRONLY | SMB_O_CREAT | SMB_O_EXCL, NULL, &err);
        if (!f)
            fail_msg("create '%s': %s", rel, err.message);
        IT_OK(smb_pwrite(f, unicode_names[i], strlen(unicode_names[i]), 0, 1, &err), err);
        IT_OK(smb_close(f, NULL, &err), err);
        /* The server stored exactly that UTF-8 name, with that content. */
        it_disk_path(MAIN, rel, disk, sizeof disk);
        assert_int_equal(itest_compare_file(disk, unicode_names[i], strlen(unicode_names[i])), 0);
        /* Creating it again exclusively fails with "exists". */
        f = smb_open_file(c.tree, rel, SMB_O_WRONLY | SMB_O_CREAT | SMB_O_EXCL, NULL, &err);
        assert_null(f);
        assert_int_equal(err.code, SMB_ERR_EXISTS);
    }
    /* Listing returns every name intact. */
    smb_open *d = smb_open_dir(c.tree, dir, &err);
    assert_non_null(d);
    smb_dir *l = smb_dir_start(d, NULL, &err);
    size_t found = 0;
    smb_dirent ent;
    while (smb_dir_next(l, &ent, &err) == 1)
        for (size_t i = 0; i < nnames; i++)
            if (!strcmp(ent.name, unicode_names[i]))
                found++;
    assert_int_equal(found, nnames);
    smb_dir_finish(l);
    /* smbclient lists the same names. */
    const itest_env *env = itest_require_env();
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s/*", dir);
    assert_int_equal(itest_smbclient(env, env->port, env->share, cmd), 0);
    it_close(&c);
}

static void test_path_helpers(void **state)
{
    (void)state;
    const char *dir = "paths";
    it_fresh_dir(MAIN, dir);
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    char disk[PATH_MAX];
    struct stat st;

    IT_OK(smb_mkdir(c.tree, "paths/sub", &err), err);
    assert_int_equal(stat(it_disk_path(MAIN, "paths/sub", disk, sizeof disk), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(smb_mkdir(c.tree, "paths/sub", &err), SMB_ERR_EXISTS);

    assert_int_equal(itest_write_share_file(itest_require_env(), "paths/sub/a.bin", 12345, 5), 0);
    smb_file_info fi;
    IT_OK(smb_stat(c.tree, "paths/sub/a.bin", &fi, &err), err);
    assert_int_equal(fi.end_of_file, 12345);
    assert_false(smb_file_info_is_dir(&fi));
    assert_int_equal(stat(it_disk_path(MAIN, "paths/sub/a.bin", disk, sizeof disk), &st), 0);
    assert_int_equal(fi.file_id, (uint64_t)st.st_ino);
    struct timespec mt = smb_filetime_to_timespec(fi.last_write_time);
    assert_int_equal(mt.tv_sec, st.st_mtim.tv_sec);

    /* Set a modification time and read it back from the disk. */
    smb_basic_info bi = {.last_write_time = smb_filetime_from_unix(1234567890, 500000000)};
    IT_OK(smb_set_times(c.tree, "paths/sub/a.bin", &bi, &err), err);
    assert_int_equal(stat(disk, &st), 0);
    assert_int_equal(st.st_mtim.tv_sec, 1234567890);
    assert_int_equal(st.st_mtim.tv_nsec, 500000000);

    IT_OK(smb_rename(c.tree, "paths/sub/a.bin", "paths/b.bin", false, &err), err);
    assert_int_equal(itest_check_file_pattern(it_disk_path(MAIN, "paths/b.bin", disk, sizeof disk), 12345, 5), 0);
    assert_int_equal(smb_stat(c.tree, "paths/sub/a.bin", &fi, &err), SMB_ERR_NOT_FOUND);
    /* Rename onto an existing file needs replace. */
    assert_int_equal(itest_write_share_file(itest_require_env(), "paths/c.bin", 10, 6), 0);
    assert_int_equal(smb_rename(c.tree, "paths/b.bin", "paths/c.bin", false, &err), SMB_ERR_EXISTS);
    IT_OK(smb_rename(c.tree, "paths/b.bin", "paths/c.bin", true, &err), err);
    assert_int_equal(itest_check_file_pattern(it_disk_path(MAIN, "paths/c.bin", disk, sizeof disk), 12345, 5), 0);

    assert_int_equal(smb_rmdir(c.tree, "paths", &err), SMB_ERR_NOT_EMPTY);
    IT_OK(smb_unlink(c.tree, "paths/c.bin", &err), err);
    assert_int_equal(stat(disk, &st), -1);
    assert_int_equal(smb_unlink(c.tree, "paths/c.bin", &err), SMB_ERR_NOT_FOUND);
    IT_OK(smb_rmdir(c.tree, "paths/sub", &err), err);
    assert_int_equal(stat(it_disk_path(MAIN, "paths/sub", disk, sizeof disk), &st), -1);

    /* Set end of file and delete on close through handles. */
    smb_open *f = smb_open_file(c.tree, "paths/t.bin", SMB_O_RDWR | SMB_O_CREAT, NULL, &err);
    assert_non_null(f);
    IT_OK(smb_set_end_of_file(f, 1000000, &err), err);
    IT_OK(smb_query_file_info(f, &fi, &err), err);
    assert_int_equal(fi.end_of_file, 1000000);
    IT_OK(smb_flush(f, &err), err);
    IT_OK(smb_set_delete_on_close(f, true, &err), err);
    IT_OK(smb_close(f, NULL, &err), err);
    assert_int_equal(stat(it_disk_path(MAIN, "paths/t.bin", disk, sizeof disk), &st), -1);
    it_close(&c);
}

static void test_50mib_file(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    size_t size = 50u << 20;
    uint8_t *buf = malloc(size), *back = malloc(size);
    itest_pattern_fill(buf, size, 50, 0);
    smb_open *f = smb_open_file(c.tree, "big50.bin", SMB_O_WRONLY | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    assert_non_null(f);
    IT_OK(smb_pwrite(f, buf, size, 0, 8, &err), err);
    IT_OK(smb_close(f, NULL, &err), err);
    char disk[PATH_MAX];
    assert_int_equal(itest_check_file_pattern(it_disk_path(MAIN, "big50.bin", disk, sizeof disk), size, 50), 0);
    f = smb_open_file(c.tree, "big50.bin", SMB_O_RDONLY, NULL, &err);
    assert_non_null(f);
    size_t n = 0;
    IT_OK(smb_pread(f, back, size, 0, 16, &n, &err), err);
    assert_int_equal(n, size);
    assert_memory_equal(buf, back, size);
    IT_OK(smb_close(f, NULL, &err), err);
    /* smbclient reads back what the library wrote. */
    const itest_env *env = itest_require_env();
    assert_int_equal(itest_smbclient(env, env->port, env->share, "get big50.bin /tmp/itest-big50.bin"), 0);
    assert_int_equal(itest_check_file_pattern("/tmp/itest-big50.bin", size, 50), 0);
    unlink("/tmp/itest-big50.bin");
    unlink(disk);
    free(buf);
    free(back);
    it_close(&c);
}

/*
 * Writes from a file descriptor (sendfile): the bytes on the server are the
 * file's; a file shorter than the write fails that write with
 * SMB_ERR_SERVER and leaves the connection working; a signed open refuses.
 */
static void test_write_from_fd(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    size_t size = 3u << 20;
    char local[] = "/tmp/itest-sendfile-XXXXXX";
    int fd = mkstemp(local);
    assert_true(fd >= 0);
    uint8_t *buf = malloc(size);
    itest_pattern_fill(buf, size, 61, 0);
    assert_int_equal(write(fd, buf, size), (ssize_t)size);
    smb_open *f = smb_open_file(c.tree, "from-fd.bin", SMB_O_WRONLY | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    assert_non_null(f);
    assert_true(smb_open_sends_plain(f));
    /* Two writes in flight, the second from the middle of the file. */
    smb_io *a = smb_write_submit_fd(f, fd, 0, size / 2, 0, &err);
    smb_io *b = smb_write_submit_fd(f, fd, size / 2, size - size / 2, size / 2, &err);
    assert_non_null(a);
    assert_non_null(b);
    size_t na = 0, nb = 0;
    IT_OK(smb_io_wait(a, &na, &err), err);
    IT_OK(smb_io_wait(b, &nb, &err), err);
    assert_int_equal(na + nb, size);
    /* Past the end of the file: zeros go on the wire, the write fails. */
    smb_io *s = smb_write_submit_fd(f, fd, size - 1000, 5000, size, &err);
    assert_non_null(s);
    size_t ns = 0;
    assert_int_equal(smb_io_wait(s, &ns, &err), SMB_ERR_SERVER);
    assert_non_null(strstr(err.message, "shorter"));
    /* The connection carries on: the first bytes are still the file's. */
    uint8_t head[4096];
    size_t nh = 0;
    IT_OK(smb_close(f, NULL, &err), err);
    f = smb_open_file(c.tree, "from-fd.bin", SMB_O_RDONLY, NULL, &err);
    assert_non_null(f);
    IT_OK(smb_pread(f, head, sizeof head, 0, 1, &nh, &err), err);
    assert_int_equal(nh, sizeof head);
    assert_memory_equal(head, buf, sizeof head);
    IT_OK(smb_close(f, NULL, &err), err);
    char disk[PATH_MAX];
    it_disk_path(MAIN, "from-fd.bin", disk, sizeof disk);
    FILE *df = fopen(disk, "rb");
    assert_non_null(df);
    uint8_t *back = malloc(size);
    assert_int_equal(fread(back, 1, size, df), size);
    fclose(df);
    assert_memory_equal(back, buf, size);
    unlink(disk);
    it_close(&c);

    /* A signed session cannot send file data unread. */
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    o.signing = SMB_POLICY_REQUIRED;
    it_connect_opts(&c, MAIN, &o);
    f = smb_open_file(c.tree, "from-fd-signed.bin", SMB_O_WRONLY | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    assert_non_null(f);
    assert_false(smb_open_sends_plain(f));
    assert_null(smb_write_submit_fd(f, fd, 0, 100, 0, &err));
    assert_int_equal(err.code, SMB_ERR_INVALID_ARG);
    IT_OK(smb_close(f, NULL, &err), err);
    it_disk_path(MAIN, "from-fd-signed.bin", disk, sizeof disk);
    unlink(disk);
    it_close(&c);
    close(fd);
    unlink(local);
    free(buf);
    free(back);
}

static void test_sparse_past_4gib(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    const uint64_t off = (5ull << 30) + 12345; /* past 4 GiB, not aligned */
    const size_t len = 200000;
    uint8_t *buf = malloc(len), *back = malloc(len);
    itest_pattern_fill(buf, len, 4, off);
    smb_open *f = smb_open_file(c.tree, "sparse.bin", SMB_O_RDWR | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    assert_non_null(f);
    IT_OK(smb_pwrite(f, buf, len, off, 4, &err), err);
    size_t n = 0;
    IT_OK(smb_pread(f, back, len, off, 4, &n, &err), err);
    assert_int_equal(n, len);
    assert_memory_equal(buf, back, len);
    /* The hole reads as zeros. */
    IT_OK(smb_pread(f, back, 4096, 1ull << 32, 1, &n, &err), err);
    assert_int_equal(n, 4096);
    for (size_t i = 0; i < 4096; i++)
        assert_int_equal(back[i], 0);
    smb_file_info fi;
    IT_OK(smb_close(f, &fi, &err), err);
    assert_int_equal(fi.end_of_file, off + len);
    /* On disk: the same bytes at the same 64-bit offset. */
    char disk[PATH_MAX];
    int fd = open(it_disk_path(MAIN, "sparse.bin", disk, sizeof disk), O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, back, len, (off_t)off), (ssize_t)len);
    assert_memory_equal(buf, back, len);
    struct stat st;
    fstat(fd, &st);
    assert_int_equal((uint64_t)st.st_size, off + len);
    close(fd);
    unlink(disk);
    free(buf);
    free(back);
    it_close(&c);
}

/*
 * FSCTL_QUERY_ALLOCATED_RANGES against Samba: a plain file is all data
 * (Samba reports holes only for files marked sparse); the same file marked
 * sparse on the open (FSCTL_SET_SPARSE) reports exactly the ranges written
 * (Samba finds them with SEEK_DATA), checked against the disk.
 */
static void test_allocated_ranges(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    const size_t len = 64 * 1024;
    const uint64_t size = 8u << 20, second = 4u << 20;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    itest_pattern_fill(buf, len, 9, 0);
    smb_open *f = smb_open_file(c.tree, "ranges.bin", SMB_O_RDWR | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    assert_non_null(f);
    IT_OK(smb_set_end_of_file(f, size, &err), err);
    IT_OK(smb_pwrite(f, buf, len, 0, 1, &err), err);
    IT_OK(smb_pwrite(f, buf, len, second, 1, &err), err);

    smb_range *r = NULL;
    size_t n = 0;
    IT_OK(smb_query_allocated_ranges(f, size, 16, &r, &n, &err), err);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].off, 0);
    assert_int_equal(r[0].len, size);
    free(r);

    IT_OK(smb_fsctl(NULL, f, SMB_FSCTL_SET_SPARSE, NULL, 0, NULL, 0, NULL, &err), err);
    IT_OK(smb_query_allocated_ranges(f, size, 16, &r, &n, &err), err);
    assert_int_equal(n, 2);
    assert_int_equal(r[0].off, 0);
    assert_int_equal(r[0].len, len);
    assert_int_equal(r[1].off, second);
    assert_int_equal(r[1].len, len);
    free(r);
    /* At most one range: the rest counts as data. */
    IT_OK(smb_query_allocated_ranges(f, size, 1, &r, &n, &err), err);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].off, 0);
    assert_int_equal(r[0].len, size);
    free(r);
    /* Asked for less than the file: clipped. */
    IT_OK(smb_query_allocated_ranges(f, second + 100, 16, &r, &n, &err), err);
    assert_int_equal(n, 2);
    assert_int_equal(r[1].off, second);
    assert_int_equal(r[1].len, 100);
    free(r);

    IT_OK(smb_close(f, NULL, &err), err);
    char disk[PATH_MAX];
    struct stat st;
    assert_int_equal(stat(it_disk_path(MAIN, "ranges.bin", disk, sizeof disk), &st), 0);
    assert_true((uint64_t)st.st_blocks * 512 < size / 2); /* the holes are holes on disk too */
    unlink(disk);
    free(buf);
    it_close(&c);
}

typedef struct reader_arg {
    smb_open *f;
    size_t size;
    int id;
    int failures;
    char msg[400];
} reader_arg;

/* Each thread reads the whole file in its own order of chunks. */
static void *reader_main(void *p)
{
    reader_arg *a = p;
    size_t chunk = 300000 + (size_t)a->id * 4099;
    uint8_t *buf = malloc(chunk), *want = malloc(chunk);
    for (int round = 0; round < 3; round++) {
        for (size_t k = 0; k * chunk < a->size; k++) {
            size_t idx = (k * 7 + (size_t)a->id) % ((a->size + chunk - 1) / chunk);
            uint64_t off = idx * chunk;
            size_t len = a->size - off < chunk ? a->size - off : chunk;
            size_t n = 0;
            smb_error err = {0};
            if (smb_pread(a->f, buf, len, off, 2, &n, &err) != 0 || n != len) {
                snprintf(a->msg, sizeof a->msg, "read at %llu: %s", (unsigned long long)off, err.message);
                a->failures++;
                continue;
            }
            itest_pattern_fill(want, len, 8, off);
            if (memcmp(buf, want, len) != 0) {
                snprintf(a->msg, sizeof a->msg, "wrong bytes at %llu", (unsigned long long)off);
                a->failures++;
            }
        }
    }
    free(buf);
    free(want);
    return NULL;
}

static void test_eight_threads_one_connection(void **state)
{
    (void)state;
    const size_t size = 24u << 20;
    assert_int_equal(itest_write_share_file(itest_require_env(), "threads.bin", size, 8), 0);
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    smb_open *f = smb_open_file(c.tree, "threads.bin", SMB_O_RDONLY, NULL, &err);
    assert_non_null(f);
    pthread_t th[8];
    reader_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (reader_arg){.f = f, .size = size, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, reader_main, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        if (args[i].failures)
            fail_msg("thread %d: %d failures, last: %s", i, args[i].failures, args[i].msg);
    }
    smb_conn_stats st;
    smb_conn_get_stats(c.conn, &st);
    assert_int_equal(st.in_flight, 0);
    assert_true(st.bytes_received >= 3 * 8 * (uint64_t)size);
    IT_OK(smb_close(f, NULL, &err), err);
    it_close(&c);
}

static void test_closing_parent_closes_children(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    /* Several opens and a second tree, left open on purpose. */
    for (int i = 0; i < 5; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "children-%d.txt", i);
        assert_non_null(smb_open_file(c.tree, rel, SMB_O_WRONLY | SMB_O_CREAT, NULL, &err));
    }
    assert_non_null(smb_tree_connect(c.sess, itest_require_env()->share, &err));
    /* Logging off closes both trees and every open (ASan checks the frees). */
    IT_OK(smb_session_logoff(c.sess, &err), err);
    /* The connection is still good for a new session. */
    const itest_env *env = itest_require_env();
    smb_creds cr = {.username = env->user, .password = env->password, .domain = env->domain};
    smb_session *s = smb_session_setup(c.conn, &cr, &err);
    assert_non_null(s);
    smb_tree *t = smb_tree_connect(s, env->share, &err);
    assert_non_null(t);
    for (int i = 0; i < 5; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "children-%d.txt", i);
        /* Exclusive access works again: the old handles are really closed. */
        smb_create_params p;
        smb_create_params_init(&p);
        p.desired_access = SMB_DELETE | SMB_FILE_READ_ATTRIBUTES;
        p.share_access = 0;
        p.options = SMB_FILE_DELETE_ON_CLOSE;
        smb_open *o = smb_create(t, rel, &p, NULL, NULL, &err);
        if (!o)
            fail_msg("reopen %s exclusively: %s", rel, err.message);
    }
    smb_conn_close(c.conn);
}


static void test_whole_file_round_trips(void **state)
{
    (void)state;
    it_fresh_dir(MAIN, "whole");
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    smb_conn_stats before, after;
    const size_t sizes[] = {0, 1, 4096, 65537, 1u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i];
        uint8_t *buf = malloc(len + 1), *back = malloc(len + 16);
        itest_pattern_fill(buf, len, 900 + i, 0);
        char tmp[64], fin[64], disk[PATH_MAX];
        snprintf(tmp, sizeof tmp, "whole/.tmp-%zu", i);
        snprintf(fin, sizeof fin, "whole/file-%zu", i);
        smb_basic_info bi = {.last_write_time = smb_filetime_from_unix(1600000000 + (int64_t)i, 123456700),
                             .creation_time = smb_filetime_from_unix(1500000000, 0)};
        smb_file_info info;
        smb_conn_get_stats(c.conn, &before);
        IT_OK(smb_write_file(c.tree, tmp, buf, len, &bi, fin, &info, &err), err);
        smb_conn_get_stats(c.conn, &after);
        /* One round trip: five requests in one frame. */
        assert_int_equal(after.requests - before.requests, len ? 5 : 4);
        assert_int_equal(info.end_of_file, len);
        assert_int_equal(info.last_write_time, bi.last_write_time);
        struct stat st;
        assert_int_equal(stat(it_disk_path(MAIN, tmp, disk, sizeof disk), &st), -1);
        assert_int_equal(itest_compare_file(it_disk_path(MAIN, fin, disk, sizeof disk), buf, len), 0);
        assert_int_equal(stat(disk, &st), 0);
        assert_int_equal(st.st_mtim.tv_sec, 1600000000 + (time_t)i);
        assert_int_equal(st.st_mtim.tv_nsec, 123456700);
        size_t n = 99;
        IT_OK(smb_read_file(c.tree, fin, back, len + 16, &n, &info, &err), err);
        assert_int_equal(n, len);
        assert_memory_equal(back, buf, len);
        assert_int_equal(info.end_of_file, len);
        /* Creating over an existing name fails and leaves that file alone. */
        assert_int_equal(smb_write_file(c.tree, fin, "x", 1, NULL, NULL, NULL, &err), SMB_ERR_EXISTS);
        assert_int_equal(itest_compare_file(disk, buf, len), 0);
        free(buf);
        free(back);
    }
    assert_int_equal(smb_read_file(c.tree, "whole/missing", NULL, 0, NULL, NULL, &err), SMB_ERR_NOT_FOUND);
    /* A rename that cannot happen: the created file is removed, nothing is left. */
    assert_int_equal(smb_write_file(c.tree, "whole/.tmp-orphan", "abc", 3, NULL, "whole/no-such-dir/f", NULL, &err),
                     SMB_ERR_NOT_FOUND);
    char disk2[PATH_MAX];
    struct stat st2;
    assert_int_equal(stat(it_disk_path(MAIN, "whole/.tmp-orphan", disk2, sizeof disk2), &st2), -1);
    it_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_10000_entries),
        cmocka_unit_test(test_unicode_names),
        cmocka_unit_test(test_allocated_ranges),
        cmocka_unit_test(test_path_helpers),
        cmocka_unit_test(test_50mib_file),
        cmocka_unit_test(test_write_from_fd),
        cmocka_unit_test(test_sparse_past_4gib),
        cmocka_unit_test(test_eight_threads_one_connection),
        cmocka_unit_test(test_closing_parent_closes_children),
        cmocka_unit_test(test_whole_file_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Servers with small limits, against the library: every read and write
 * call takes any length and splits it to what the server allows.
 *
 *   - "maxio" (smb2 max write/read/trans = 65536; "smb2_02" when the
 *     fixture has no maxio) and "2_0_2" (no multi-credit: 64 KiB per
 *     request): smb_write_file, smb_write_submit (from memory and from a
 *     file), smb_pwrite, smb_read_submit, smb_pread and smb_read_file of
 *     65,537 B, 1 MiB and 20 MiB files, compared byte for byte on disk;
 *   - "credits" (smb2 max credits = 32: the server never grants more than
 *     32 credits in all): 8 MiB in one submitted WRITE and READ, a 20 MiB
 *     pwrite and whole-file write, four threads writing at once on one
 *     connection; no request is ever charged more credits than the
 *     connection can hold (MS-SMB2 3.2.4.1.5), so none fails.
 */
#include "itest_smb.h"

#include <pthread.h>

/* The 64 KiB-I/O instance: maxio when the fixture has it, else SMB 2.0.2. */
static const char *small_io_instance(void)
{
    return itest_port(itest_require_env(), "maxio") > 0 ? "maxio" : "2_0_2";
}

/* The credits instance; fails under CI, skips otherwise, when missing. */
static const char *credits_instance(void)
{
    if (itest_port(itest_require_env(), "credits") > 0)
        return "credits";
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0)
        fail_msg("the fixture has no 'credits' instance (smb2 max credits = 32)");
    print_message("SKIPPED: the fixture has no 'credits' instance\n");
    skip();
    return NULL;
}

static uint8_t *pattern(size_t len, uint64_t seed)
{
    uint8_t *b = malloc(len ? len : 1);
    assert_non_null(b);
    itest_pattern_fill(b, len, seed, 0);
    return b;
}

/* The file rel of instance holds exactly len bytes of seed's pattern. */
static void disk_has(const char *instance, const char *rel, size_t len, uint64_t seed)
{
    char path[PATH_MAX];
    it_disk_path(instance, rel, path, sizeof path);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail_msg("%s: %s", path, strerror(errno));
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    if ((size_t)st.st_size != len)
        fail_msg("%s holds %lld bytes, expected %zu", path, (long long)st.st_size, len);
    uint8_t *got = malloc(len ? len : 1), *want = pattern(len, seed);
    assert_non_null(got);
    size_t n = 0;
    while (n < len) {
        ssize_t r = read(fd, got + n, len - n);
        assert_true(r > 0);
        n += (size_t)r;
    }
    close(fd);
    if (memcmp(got, want, len) != 0)
        fail_msg("%s: bytes differ", path);
    free(got);
    free(want);
}

static void disk_put(const char *instance, const char *rel, size_t len, uint64_t seed)
{
    char path[PATH_MAX];
    it_disk_path(instance, rel, path, sizeof path);
    uint8_t *b = pattern(len, seed);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, len), (ssize_t)len);
    close(fd);
    free(b);
}

static const size_t sizes[] = {65537, 1u << 20, 20u << 20};

/* smb_write_file of files above MaxWriteSize: renamed into place, times set, bytes right. */
static void write_file_on(const char *inst)
{
    it_fresh_dir(inst, "lim-wf");
    it_client c;
    it_connect(&c, inst);
    smb_error err = {0};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char tmp[64], fin[64];
        snprintf(tmp, sizeof tmp, "lim-wf/t%zu.tmp", i);
        snprintf(fin, sizeof fin, "lim-wf/f%zu", i);
        uint8_t *b = pattern(sizes[i], 100 + i);
        smb_basic_info bi = {.last_write_time = smb_filetime_from_unix(1500000000 + (int64_t)i, 0)};
        smb_file_info info = {0};
        IT_OK(smb_write_file(c.tree, tmp, b, sizes[i], &bi, fin, &info, &err), err);
        assert_int_equal(info.end_of_file, sizes[i]);
        assert_int_equal(info.last_write_time, bi.last_write_time);
        free(b);
        disk_has(inst, fin, sizes[i], 100 + i);
        char p[PATH_MAX];
        assert_int_not_equal(access(it_disk_path(inst, tmp, p, sizeof p), F_OK), 0);
        /* Without a rename: written under its own name. */
        snprintf(fin, sizeof fin, "lim-wf/g%zu", i);
        b = pattern(sizes[i], 200 + i);
        IT_OK(smb_write_file(c.tree, fin, b, sizes[i], NULL, NULL, NULL, &err), err);
        free(b);
        disk_has(inst, fin, sizes[i], 200 + i);
    }
    /* A failure before the rename leaves nothing: the name exists already. */
    uint8_t *b = pattern(sizes[1], 7);
    assert_int_not_equal(smb_write_file(c.tree, "lim-wf/f0", b, sizes[1], NULL, "lim-wf/x", NULL, &err), 0);
    free(b);
    disk_has(inst, "lim-wf/f0", sizes[0], 100);
    it_close(&c);
}

static void test_write_file_small_io(void **state)
{
    (void)state;
    write_file_on(small_io_instance());
}

static void test_write_file_2_0_2(void **state)
{
    (void)state;
    write_file_on("2_0_2");
}

static void test_write_file_credits(void **state)
{
    (void)state;
    write_file_on(credits_instance());
}

/* The asynchronous and pipelined calls with lengths above one request. */
static void submit_on(const char *inst)
{
    it_fresh_dir(inst, "lim-io");
    it_client c;
    it_connect(&c, inst);
    smb_error err = {0};
    smb_conn_info ci;
    smb_conn_get_info(c.conn, &ci);
    print_message("%s: MaxWrite %u, MaxRead %u\n", inst, ci.max_write_size, ci.max_read_size);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i];
        char name[64];
        snprintf(name, sizeof name, "lim-io/s%zu", i);
        smb_open *op = smb_open_file(c.tree, name, SMB_O_RDWR | SMB_O_CREAT | SMB_O_EXCL, NULL, &err);
        if (!op)
            fail_msg("open %s: %s", name, err.message);
        uint8_t *b = pattern(len, 300 + i);
        /* One submitted WRITE of the whole length. */
        smb_io *io = smb_write_submit(op, b, len, 0, &err);
        if (!io)
            fail_msg("write submit of %zu bytes: %s", len, err.message);
        size_t n = 0;
        IT_OK(smb_io_wait(io, &n, &err), err);
        assert_int_equal(n, len);
        /* One submitted READ of the whole length, and one past the end. */
        uint8_t *got = malloc(len + 100);
        assert_non_null(got);
        memset(got, 0, len + 100);
        io = smb_read_submit(op, got, len + 100, 0, &err);
        if (!io)
            fail_msg("read submit of %zu bytes: %s", len + 100, err.message);
        IT_OK(smb_io_wait(io, &n, &err), err);
        assert_int_equal(n, len);
        assert_memory_equal(got, b, len);
        IT_OK(smb_close(op, NULL, &err), err);
        disk_has(inst, name, len, 300 + i);

        /* Pipelined, at an odd offset, window 3. */
        snprintf(name, sizeof name, "lim-io/p%zu", i);
        op = smb_open_file(c.tree, name, SMB_O_RDWR | SMB_O_CREAT | SMB_O_EXCL, NULL, &err);
        assert_non_null(op);
        uint8_t *head = pattern(7, 400 + i);
        IT_OK(smb_pwrite(op, head, 7, 0, 3, &err), err);
        free(head);
        uint8_t *all = pattern(len + 7, 400 + i);
        IT_OK(smb_pwrite(op, all + 7, len, 7, 3, &err), err);
        IT_OK(smb_pread(op, got, len, 7, 3, &n, &err), err);
        assert_int_equal(n, len);
        assert_memory_equal(got, all + 7, len);
        IT_OK(smb_close(op, NULL, &err), err);
        disk_has(inst, name, len + 7, 400 + i);
        free(all);

        /* smb_read_file of a file larger than one READ. */
        memset(got, 0, len);
        IT_OK(smb_read_file(c.tree, name, got, len + 7, &n, NULL, &err), err);
        assert_int_equal(n, len + 7);
        free(got);
        free(b);
    }
    it_close(&c);
}

static void test_submit_small_io(void **state)
{
    (void)state;
    submit_on(small_io_instance());
}

static void test_submit_2_0_2(void **state)
{
    (void)state;
    submit_on("2_0_2");
}

static void test_submit_credits(void **state)
{
    (void)state;
    submit_on(credits_instance());
}

/* Sendfile writes (plain sessions) above one request. */
static void test_write_fd_small_io(void **state)
{
    (void)state;
    const char *inst = small_io_instance();
    it_fresh_dir(inst, "lim-fd");
    char src[] = "/tmp/itest-limits-XXXXXX";
    int fd = mkstemp(src);
    assert_true(fd >= 0);
    unlink(src);
    size_t len = (3u << 20) + 5;
    uint8_t *b = pattern(len, 500);
    assert_int_equal(write(fd, b, len), (ssize_t)len);
    free(b);
    it_client c;
    it_connect(&c, inst);
    smb_error err = {0};
    smb_open *op = smb_open_file(c.tree, "lim-fd/f", SMB_O_WRONLY | SMB_O_CREAT | SMB_O_EXCL, NULL, &err);
    assert_non_null(op);
    assert_true(smb_open_sends_plain(op));
    smb_io *io = smb_write_submit_fd(op, fd, 0, len, 0, &err);
    if (!io)
        fail_msg("write submit from a file of %zu bytes: %s", len, err.message);
    size_t n = 0;
    IT_OK(smb_io_wait(io, &n, &err), err);
    assert_int_equal(n, len);
    IT_OK(smb_close(op, NULL, &err), err);
    close(fd);
    disk_has(inst, "lim-fd/f", len, 500);
    it_close(&c);
}

/* A whole file read by smb_read_file through the small-I/O server. */
static void test_read_file_small_io(void **state)
{
    (void)state;
    const char *inst = small_io_instance();
    it_fresh_dir(inst, "lim-rf");
    disk_put(inst, "lim-rf/f", 20u << 20, 600);
    it_client c;
    it_connect(&c, inst);
    smb_error err = {0};
    size_t len = 20u << 20, n = 0;
    uint8_t *got = malloc(len), *want = pattern(len, 600);
    smb_file_info info;
    IT_OK(smb_read_file(c.tree, "lim-rf/f", got, len, &n, &info, &err), err);
    assert_int_equal(n, len);
    assert_int_equal(info.end_of_file, len);
    assert_memory_equal(got, want, len);
    free(got);
    free(want);
    it_close(&c);
}

struct writer {
    smb_tree *tree;
    int index;
    int rc;
    char msg[sizeof ((smb_error *)0)->message];
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    char name[64];
    snprintf(name, sizeof name, "lim-thr/w%d", w->index);
    size_t len = 4u << 20;
    uint8_t *b = pattern(len, 700 + (uint64_t)w->index);
    smb_error err = {0};
    smb_open *op = smb_open_file(w->tree, name, SMB_O_WRONLY | SMB_O_CREAT | SMB_O_EXCL, NULL, &err);
    w->rc = op ? smb_pwrite(op, b, len, 0, 8, &err) : err.code;
    if (op) {
        smb_error ce = {0};
        int crc = smb_close(op, NULL, &ce);
        if (w->rc == 0 && crc != 0) {
            w->rc = crc;
            err = ce;
        }
    }
    snprintf(w->msg, sizeof w->msg, "%s", err.message);
    free(b);
    return NULL;
}

/* Four threads writing at once through one connection to a 32-credit server. */
static void test_threads_credits(void **state)
{
    (void)state;
    const char *inst = credits_instance();
    it_fresh_dir(inst, "lim-thr");
    it_client c;
    it_connect(&c, inst);
    struct writer w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct writer){.tree = c.tree, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        if (w[i].rc != 0)
            fail_msg("writer %d: %s", i, w[i].msg);
    }
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "lim-thr/w%d", i);
        disk_has(inst, name, 4u << 20, 700 + (uint64_t)i);
    }
    smb_conn_stats st;
    smb_conn_get_stats(c.conn, &st);
    assert_true(st.credits <= 32);
    it_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_file_small_io),
        cmocka_unit_test(test_write_file_2_0_2),
        cmocka_unit_test(test_write_file_credits),
        cmocka_unit_test(test_submit_small_io),
        cmocka_unit_test(test_submit_2_0_2),
        cmocka_unit_test(test_submit_credits),
        cmocka_unit_test(test_write_fd_small_io),
        cmocka_unit_test(test_read_file_small_io),
        cmocka_unit_test(test_threads_credits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

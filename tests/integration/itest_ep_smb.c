/*
 * The SMB endpoint against the main Samba server: paths rooted inside the
 * share, stat/list/mkdir/rename/delete, a 5 MiB write with several writes
 * in flight and times set at the end, a read back, server-side copy of a
 * 40 MiB file, the session pool, and the errors of ep_smb_open.
 * Everything lives under "ep-smb" in the data share.
 */
#include "itest_smb.h"

#include "engine/endpoints/endpoint.h"

#define MAIN "main"
#define TOP "ep-smb"
#define MIB (1024u * 1024u)

/* Two FILETIMEs with every 100 ns digit significant. */
#define T_CREATED 132000000007654321ull
#define T_WRITTEN 132500000001234567ull

static sc_location make_loc(const itest_env *env, const char *share, const char *path)
{
    sc_location loc;
    memset(&loc, 0, sizeof loc);
    loc.is_smb = true;
    loc.host = (char *)env->host;
    loc.port = (uint16_t)env->port;
    loc.share = (char *)share;
    loc.path = (char *)path;
    return loc;
}

static ep_smb_pool *new_pool(const itest_env *env)
{
    sc_credentials cr = {.username = env->user, .password = env->password, .domain = env->domain};
    ep_smb_pool *pool = ep_smb_pool_new(NULL, &cr);
    assert_non_null(pool);
    return pool;
}

static ep *open_ep(ep_smb_pool *pool, const char *path, ep_counters *counters)
{
    const itest_env *env = itest_require_env();
    sc_location loc = make_loc(env, env->share, path);
    smb_error err = {0};
    ep *e = ep_smb_open(pool, &loc, counters, &err);
    if (!e)
        fail_msg("ep_smb_open(%s): %s", path, err.message);
    return e;
}

/* The on-disk mtime of rel as a FILETIME. */
static uint64_t disk_mtime(const char *rel)
{
    char path[PATH_MAX];
    struct stat st;
    if (stat(it_disk_path(MAIN, rel, path, sizeof path), &st) != 0)
        fail_msg("stat %s: %s", path, strerror(errno));
    return smb_filetime_from_unix(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static bool disk_exists(const char *rel, bool *is_dir)
{
    char path[PATH_MAX];
    struct stat st;
    if (stat(it_disk_path(MAIN, rel, path, sizeof path), &st) != 0)
        return false;
    if (is_dir)
        *is_dir = S_ISDIR(st.st_mode);
    return true;
}

static void disk_mkdir(const char *rel)
{
    char path[PATH_MAX];
    if (mkdir(it_disk_path(MAIN, rel, path, sizeof path), 0755) != 0)
        fail_msg("mkdir %s: %s", path, strerror(errno));
}

static void check_disk_pattern(const char *rel, uint64_t size, uint64_t seed)
{
    char path[PATH_MAX];
    assert_int_equal(itest_check_file_pattern(it_disk_path(MAIN, rel, path, sizeof path), size, seed), 0);
}

/* --- listing ---------------------------------------------------------------- */

typedef struct listing {
    int n, nulls, stop_after;
    char names[8][64];
    ep_stat st[8];
} listing;

static int collect(void *arg, const char *name, const ep_stat *st)
{
    listing *l = arg;
    if (!name) {
        assert_null(st);
        l->nulls++;
        return 0;
    }
    assert_true(l->n < 8);
    snprintf(l->names[l->n], sizeof l->names[0], "%s", name);
    l->st[l->n] = *st;
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

static const ep_stat *find(const listing *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->names[i], name) == 0)
            return &l->st[i];
    return NULL;
}

static void test_paths(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    it_fresh_dir(MAIN, TOP "/paths");
    disk_mkdir(TOP "/paths/root");
    disk_mkdir(TOP "/paths/root/sub");
    char disk[PATH_MAX];
    assert_int_equal(itest_write_file(it_disk_path(MAIN, TOP "/paths/root/a.txt", disk, sizeof disk), 1000, 1), 0);
    assert_int_equal(itest_write_file(it_disk_path(MAIN, TOP "/paths/root/sub/b.bin", disk, sizeof disk), 10, 2), 0);

    ep_smb_pool *pool = new_pool(env);
    ep *e = open_ep(pool, TOP "/paths/root/", NULL);
    char want[512];
    snprintf(want, sizeof want, "//%s/%s/%s/paths/root", env->host, env->share, TOP);
    assert_string_equal(e->display, want);
    assert_string_equal(e->ops->kind, "smb");
    assert_int_equal(e->caps, EP_CAP_CREATION_TIME | EP_CAP_DOS_ATTRS | EP_CAP_WINDOWS_NAMES);

    smb_error err = {0};
    ep_stat st;
    IT_OK(ep_stat_path(e, "", &st, &err), err);
    assert_int_equal(st.type, EP_DIR);
    IT_OK(ep_stat_path(e, "a.txt", &st, &err), err);
    assert_int_equal(st.type, EP_FILE);
    assert_int_equal(st.size, 1000);
    assert_true(st.mtime == disk_mtime(TOP "/paths/root/a.txt"));
    assert_true(st.file_id != 0);
    assert_true(st.ctime != 0);
    IT_OK(ep_stat_path(e, "sub/b.bin", &st, &err), err);
    assert_int_equal(st.size, 10);
    assert_int_equal(ep_stat_path(e, "missing", &st, &err), SMB_ERR_NOT_FOUND);
    assert_int_equal(err.code, SMB_ERR_NOT_FOUND);

    listing l = {0};
    IT_OK(e->ops->list(e, "", collect, &l, &err), err);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.nulls, 0);
    const ep_stat *a = find(&l, "a.txt"), *sub = find(&l, "sub");
    assert_non_null(a);
    assert_non_null(sub);
    assert_int_equal(a->type, EP_FILE);
    assert_int_equal(a->size, 1000);
    assert_int_equal(sub->type, EP_DIR);
    /* A callback that stops ends the listing without an error. */
    listing one = {.stop_after = 1};
    IT_OK(e->ops->list(e, "", collect, &one, &err), err);
    assert_int_equal(one.n, 1);
    assert_int_equal(e->ops->list(e, "missing", collect, &l, &err), SMB_ERR_NOT_FOUND);

    IT_OK(e->ops->mkdir(e, "newdir", &err), err);
    bool is_dir = false;
    assert_true(disk_exists(TOP "/paths/root/newdir", &is_dir) && is_dir);
    assert_int_equal(e->ops->mkdir(e, "newdir", &err), SMB_ERR_EXISTS);
    assert_int_equal(e->ops->mkdir(e, "a.txt", &err), SMB_ERR_EXISTS);

    ep_stat meta = {.type = EP_DIR, .mtime = T_WRITTEN, .ctime = T_CREATED, .attributes = SMB_ATTR_HIDDEN};
    IT_OK(e->ops->set_meta(e, "newdir", &meta, &err), err);
    assert_true(disk_mtime(TOP "/paths/root/newdir") == T_WRITTEN);
    IT_OK(ep_stat_path(e, "newdir", &st, &err), err);
    assert_int_equal(st.type, EP_DIR);
    assert_true(st.mtime == T_WRITTEN);
    assert_true(st.ctime == T_CREATED);
    assert_true(st.attributes & SMB_ATTR_HIDDEN);

    IT_OK(e->ops->rmdir(e, "newdir", &err), err);
    assert_false(disk_exists(TOP "/paths/root/newdir", NULL));
    assert_int_equal(e->ops->rmdir(e, "sub", &err), SMB_ERR_NOT_EMPTY);
    IT_OK(e->ops->unlink(e, "sub/b.bin", &err), err);
    assert_false(disk_exists(TOP "/paths/root/sub/b.bin", NULL));
    IT_OK(e->ops->rename(e, "a.txt", "sub/c.txt", NULL, &err), err);
    check_disk_pattern(TOP "/paths/root/sub/c.txt", 1000, 1);
    assert_false(disk_exists(TOP "/paths/root/a.txt", NULL));

    /* An endpoint at the share root sees the same tree. */
    ep *top = open_ep(pool, "", NULL);
    snprintf(want, sizeof want, "//%s/%s", env->host, env->share);
    assert_string_equal(top->display, want);
    IT_OK(ep_stat_path(top, TOP "/paths/root/sub/c.txt", &st, &err), err);
    assert_int_equal(st.size, 1000);
    top->ops->free(top);
    e->ops->free(e);
    ep_smb_pool_free(pool);
}

/* --- data ------------------------------------------------------------------- */

/* Write buf[0..len) at offset 0 with up to `window` writes in flight. */
static void write_all(ep *e, ep_file *f, const uint8_t *buf, size_t len, size_t chunk, int window)
{
    ep_io *ios[16];
    size_t sizes[16];
    int head = 0, inflight = 0;
    size_t off = 0;
    smb_error err = {0};
    while (off < len || inflight > 0) {
        if (off < len && inflight < window) {
            size_t n = len - off < chunk ? len - off : chunk;
            ep_io *io = e->ops->write_submit(f, buf + off, n, off, &err);
            if (!io)
                fail_msg("write_submit at %zu: %s", off, err.message);
            ios[(head + inflight) % 16] = io;
            sizes[(head + inflight) % 16] = n;
            inflight++;
            off += n;
            continue;
        }
        size_t done = 0;
        IT_OK(e->ops->io_wait(ios[head], &done, &err), err);
        assert_int_equal(done, sizes[head]);
        head = (head + 1) % 16;
        inflight--;
    }
}

/* Read len bytes at offset 0 into buf with up to `window` reads in flight. */
static void read_all(ep *e, ep_file *f, uint8_t *buf, size_t len, size_t chunk, int window)
{
    ep_io *ios[16];
    size_t sizes[16];
    int head = 0, inflight = 0;
    size_t off = 0;
    smb_error err = {0};
    while (off < len || inflight > 0) {
        if (off < len && inflight < window) {
            size_t n = len - off < chunk ? len - off : chunk;
            ep_io *io = e->ops->read_submit(f, buf + off, n, off, &err);
            if (!io)
                fail_msg("read_submit at %zu: %s", off, err.message);
            ios[(head + inflight) % 16] = io;
            sizes[(head + inflight) % 16] = n;
            inflight++;
            off += n;
            continue;
        }
        size_t done = 0;
        IT_OK(e->ops->io_wait(ios[head], &done, &err), err);
        assert_int_equal(done, sizes[head]);
        head = (head + 1) % 16;
        inflight--;
    }
}

static void test_write_read(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    it_fresh_dir(MAIN, TOP "/io");
    char disk[PATH_MAX];
    assert_int_equal(itest_write_file(it_disk_path(MAIN, TOP "/io/big.bin", disk, sizeof disk), 100, 9), 0);

    ep_smb_pool *pool = new_pool(env);
    ep_counters counters = {0};
    ep *e = open_ep(pool, TOP "/io", &counters);
    smb_error err = {0};

    const size_t len = 5 * MIB;
    uint8_t *buf = malloc(len), *back = malloc(len);
    assert_non_null(buf);
    assert_non_null(back);
    itest_pattern_fill(buf, len, 7, 0);

    ep_file *f = NULL;
    IT_OK(e->ops->open_write(e, "big.tmp", &(ep_stat){.type = EP_FILE, .size = len}, &f, &err), err);
    /* The temporary name must be new. */
    ep_file *again = NULL;
    assert_int_equal(e->ops->open_write(e, "big.tmp", &(ep_stat){.type = EP_FILE, .size = len}, &again, &err), SMB_ERR_EXISTS);
    size_t io = e->ops->io_size(f);
    assert_true(io >= 64 * 1024);
    size_t chunk = io < MIB / 2 ? io : MIB / 2; /* ten writes, six in flight */
    write_all(e, f, buf, len, chunk, 6);
    assert_int_equal(counters.bytes_written, len);

    ep_stat meta = {.type = EP_FILE, .size = len, .mtime = T_WRITTEN, .ctime = T_CREATED,
                    .attributes = SMB_ATTR_ARCHIVE};
    ep_stat got = {0};
    IT_OK(e->ops->finish(f, &meta, &got, &err), err);
    assert_int_equal(got.type, EP_FILE);
    assert_int_equal(got.size, len);
    assert_true(got.mtime == T_WRITTEN);
    assert_true(got.ctime == T_CREATED);
    IT_OK(e->ops->close(f, &err), err);

    /* Rename over the existing file. */
    IT_OK(e->ops->rename(e, "big.tmp", "big.bin", NULL, &err), err);
    assert_false(disk_exists(TOP "/io/big.tmp", NULL));
    check_disk_pattern(TOP "/io/big.bin", len, 7);
    assert_true(disk_mtime(TOP "/io/big.bin") == T_WRITTEN); /* exact to 100 ns */
    ep_stat st;
    IT_OK(ep_stat_path(e, "big.bin", &st, &err), err);
    assert_int_equal(st.size, len);
    assert_true(st.mtime == T_WRITTEN);
    assert_true(st.ctime == T_CREATED);

    /* Read it back, several reads in flight, then a read at the end. */
    IT_OK(e->ops->open_read(e, "big.bin", &f, &err), err);
    read_all(e, f, back, len, chunk, 8);
    assert_memory_equal(back, buf, len);
    assert_int_equal(counters.bytes_read, len);
    ep_io *eof = e->ops->read_submit(f, back, 4096, len, &err);
    if (!eof)
        fail_msg("read_submit at the end: %s", err.message);
    size_t n = 1;
    IT_OK(e->ops->io_wait(eof, &n, &err), err);
    assert_int_equal(n, 0);
    /* Any length in one submission: split by the library when bigger than one request. */
    memset(back, 0, len);
    ep_io *whole = e->ops->read_submit(f, back, len, 0, &err);
    if (!whole)
        fail_msg("read_submit of the whole file: %s", err.message);
    IT_OK(e->ops->io_wait(whole, &n, &err), err);
    assert_int_equal(n, len);
    assert_memory_equal(back, buf, len);
    assert_int_equal(counters.bytes_read, 2 * len);
    IT_OK(e->ops->close(f, &err), err);
    assert_int_equal(counters.bytes_read, 2 * len);
    assert_int_equal(counters.bytes_server_copied, 0);

    assert_int_equal(e->ops->open_read(e, "missing.bin", &f, &err), SMB_ERR_NOT_FOUND);

    /* A sized file that is never written reads back as zeros (a hole). */
    IT_OK(e->ops->open_write(e, "holes.bin", &(ep_stat){.type = EP_FILE, .size = 3 * MIB}, &f, &err), err);
    IT_OK(e->ops->close(f, &err), err);
    char *zeros = calloc(1, 3 * MIB + 4096);
    assert_int_equal(itest_compare_file(it_disk_path(MAIN, TOP "/io/holes.bin", disk, sizeof disk), zeros, 3 * MIB),
                     0);
    /* Zeros written inside the size are not sent (the file stays sparse); zeros past it are. */
    uint64_t sent = counters.bytes_written;
    IT_OK(e->ops->open_write(e, "zeros.bin", &(ep_stat){.type = EP_FILE, .size = 3 * MIB}, &f, &err), err);
    ep_io *zw = e->ops->write_submit(f, zeros, 2 * MIB, 0, &err);
    assert_non_null(zw);
    IT_OK(e->ops->io_wait(zw, &n, &err), err);
    assert_int_equal(n, 2 * MIB);
    zw = e->ops->write_submit(f, "tail", 4, 3 * MIB - 4, &err);
    assert_non_null(zw);
    IT_OK(e->ops->io_wait(zw, &n, &err), err);
    zw = e->ops->write_submit(f, zeros, 4096, 3 * MIB, &err); /* past the size: written */
    assert_non_null(zw);
    IT_OK(e->ops->io_wait(zw, &n, &err), err);
    IT_OK(e->ops->close(f, &err), err);
    assert_int_equal(counters.bytes_written - sent, 4 + 4096);
    memcpy(zeros + 3 * MIB - 4, "tail", 4);
    it_disk_path(MAIN, TOP "/io/zeros.bin", disk, sizeof disk);
    assert_int_equal(itest_compare_file(disk, zeros, 3 * MIB + 4096), 0);
    struct stat zst;
    assert_int_equal(stat(disk, &zst), 0);
    assert_int_equal((uint64_t)zst.st_size, 3 * MIB + 4096);
    assert_true((uint64_t)zst.st_blocks * 512 < MIB);
    free(zeros);

    free(buf);
    free(back);
    e->ops->free(e);
    ep_smb_pool_free(pool);
}

/* --- server-side copy --------------------------------------------------------- */

static void server_copy_file(ep *se, const char *src, ep *de, const char *dst, uint64_t len, uint64_t split)
{
    smb_error err = {0};
    ep_file *in = NULL, *out = NULL;
    IT_OK(se->ops->open_read(se, src, &in, &err), err);
    IT_OK(de->ops->open_write(de, dst, &(ep_stat){.type = EP_FILE, .size = len}, &out, &err), err);
    if (split) {
        IT_OK(de->ops->server_copy(in, out, 0, split, &err), err);
        IT_OK(de->ops->server_copy(in, out, split, len - split, &err), err);
    } else {
        IT_OK(de->ops->server_copy(in, out, 0, len, &err), err);
    }
    ep_stat meta = {.type = EP_FILE, .size = len, .mtime = T_WRITTEN}, got = {0};
    IT_OK(de->ops->finish(out, &meta, &got, &err), err);
    assert_int_equal(got.size, len);
    assert_true(got.mtime == T_WRITTEN);
    IT_OK(de->ops->close(out, &err), err);
    IT_OK(se->ops->close(in, &err), err);
}

static void test_server_copy(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    const uint64_t len = 40 * MIB;
    it_fresh_dir(MAIN, TOP "/copy");
    char disk[PATH_MAX];
    assert_int_equal(itest_write_file(it_disk_path(MAIN, TOP "/copy/src.bin", disk, sizeof disk), len, 11), 0);

    ep_smb_pool *pool = new_pool(env);
    ep_counters c1 = {0}, c2 = {0};
    ep *e1 = open_ep(pool, TOP "/copy", &c1);
    smb_error err = {0};
    IT_OK(e1->ops->mkdir(e1, "other", &err), err);
    ep *e2 = open_ep(pool, TOP "/copy/other", &c2);
    assert_non_null(e1->ops->server_copy);
    assert_true(e1->ops->same_server(e1, e2));

    server_copy_file(e1, "src.bin", e1, "copy.tmp", len, 0);
    IT_OK(e1->ops->rename(e1, "copy.tmp", "copy.bin", NULL, &err), err);
    check_disk_pattern(TOP "/copy/copy.bin", len, 11);
    assert_true(disk_mtime(TOP "/copy/copy.bin") == T_WRITTEN);
    assert_int_equal(c1.bytes_server_copied, len);
    assert_int_equal(c1.bytes_read, 0);
    assert_int_equal(c1.bytes_written, 0);

    /* Into another directory, in two ranges that do not fall on chunk edges. */
    server_copy_file(e1, "src.bin", e2, "copy2.bin", len, 7 * MIB + 3);
    check_disk_pattern(TOP "/copy/other/copy2.bin", len, 11);
    assert_int_equal(c2.bytes_server_copied, len);
    assert_int_equal(c2.bytes_read + c2.bytes_written + c1.bytes_read + c1.bytes_written, 0);

    /* Another share of the same session: the server copies across trees. */
    const char *guest_dir = itest_env_value(env, "SMBCOPY_TEST_GUEST_SHARE_DIR");
    if (guest_dir && *env->guest_share) {
        char path[PATH_MAX], cmd[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/%s", guest_dir, TOP);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(mkdir(path, 0777), 0);
        sc_location loc = make_loc(env, env->guest_share, TOP);
        ep_counters c3 = {0};
        ep *e3 = ep_smb_open(pool, &loc, &c3, &err);
        if (!e3)
            fail_msg("ep_smb_open(guest): %s", err.message);
        assert_true(e1->ops->same_server(e1, e3));
        server_copy_file(e1, "src.bin", e3, "copy3.bin", len, 0);
        snprintf(path, sizeof path, "%s/%s/copy3.bin", guest_dir, TOP);
        assert_int_equal(itest_check_file_pattern(path, len, 11), 0);
        assert_int_equal(c3.bytes_server_copied, len);
        e3->ops->free(e3);
    }

    e2->ops->free(e2);
    e1->ops->free(e1);
    ep_smb_pool_free(pool);
}

/* --- pool and errors ---------------------------------------------------------- */

static void test_shared_session(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    it_fresh_dir(MAIN, TOP "/pool");
    disk_mkdir(TOP "/pool/a");
    ep_smb_pool *pool = new_pool(env), *other = new_pool(env);
    ep *a = open_ep(pool, TOP "/pool/a", NULL);
    ep *b = open_ep(pool, TOP "/pool", NULL);
    assert_true(a->ops->same_server(a, b));
    assert_true(b->ops->same_server(b, a));

    /* The URL's credentials, when they are the defaults, reuse the session too. */
    sc_location loc = make_loc(env, env->share, TOP "/pool");
    loc.user = (char *)env->user;
    loc.password = (char *)env->password;
    loc.domain = (char *)env->domain;
    smb_error err = {0};
    ep *c = ep_smb_open(pool, &loc, NULL, &err);
    if (!c)
        fail_msg("ep_smb_open: %s", err.message);
    assert_true(a->ops->same_server(a, c));

    /* Another pool is another session. */
    ep *d = open_ep(other, TOP "/pool", NULL);
    assert_false(a->ops->same_server(a, d));

    ep_stat st;
    IT_OK(ep_stat_path(b, "a", &st, &err), err);
    assert_int_equal(st.type, EP_DIR);
    d->ops->free(d);
    c->ops->free(c);
    b->ops->free(b);
    a->ops->free(a);
    ep_smb_pool_free(other);
    ep_smb_pool_free(pool);
}

static void test_open_errors(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    ep_smb_pool *pool = new_pool(env);
    smb_error err = {0};

    sc_location loc = make_loc(env, "no-such-share", "");
    assert_null(ep_smb_open(pool, &loc, NULL, &err));
    assert_int_equal(err.code, SMB_ERR_BAD_SHARE);
    assert_non_null(strstr(err.message, "no-such-share"));
    assert_non_null(strstr(err.message, env->host));

    loc = make_loc(env, env->share, "");
    loc.user = (char *)env->user;
    loc.password = (char *)"not-the-password";
    memset(&err, 0, sizeof err);
    assert_null(ep_smb_open(pool, &loc, NULL, &err));
    assert_int_equal(err.code, SMB_ERR_AUTH);
    assert_null(strstr(err.message, "not-the-password"));

    loc = make_loc(env, env->share, "");
    loc.port = 1; /* nothing listens there */
    memset(&err, 0, sizeof err);
    assert_null(ep_smb_open(pool, &loc, NULL, &err));
    assert_int_equal(err.code, SMB_ERR_CONNECT);

    /* Failures leave nothing behind: the right credentials still work. */
    ep *e = open_ep(pool, "", NULL);
    ep_stat st;
    IT_OK(ep_stat_path(e, "", &st, &err), err);
    e->ops->free(e);
    ep_smb_pool_free(pool);
}

static int group_setup(void **state)
{
    (void)state;
    itest_require_env();
    it_fresh_dir(MAIN, TOP);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_server_copy),
        cmocka_unit_test(test_shared_session),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}

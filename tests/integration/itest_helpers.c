/*
 * The high-level helpers (include/smbcopy/helpers.h) against the fixture's
 * Samba, each checked on the server's disk (the share's directory) and,
 * where it helps, with smbclient: smb_makedirs (nested, existing, over a
 * file), smb_rmtree (a tree with a read-only file, a missing path, a file
 * held open by another client naming the entry that failed), smb_walk
 * (every entry of a tree on disk, top-down, sizes and kinds), smb_copyfile
 * (a server-side copy of a multi-MiB file with the data never crossing the
 * network, the server's copy chunk limits honoured, a copy through the
 * client between sessions and with a 64 KiB WRITE limit, a copy to
 * another share, refusing to overwrite, times kept on request, no
 * temporary left behind), smb_open_append / smb_append (twice, from two
 * handles, in chunks), smb_statvfs (against statvfs(2) of the share's
 * file system) and extended attributes (set, read back, seen as user.*
 * extended attributes of the file on disk, removed).
 */
#include <dirent.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>

#include "itest_smb.h"

#include <smbcopy/helpers.h>
#include <smbcopy/ntstatus.h>

#include "helpers_internal.h"

#define DIR_BASE "helpers-itest"

/* Fresh directory DIR_BASE/sub on disk (and DIR_BASE itself); its share path into rel. */
static void fresh(const char *sub, char *rel, size_t len)
{
    char base[PATH_MAX];
    it_disk_path("main", DIR_BASE, base, sizeof base);
    if (mkdir(base, 0755) != 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", base, strerror(errno));
    snprintf(rel, len, DIR_BASE "/%s", sub);
    it_fresh_dir("main", rel);
}

static bool disk_is_dir(const char *rel)
{
    char p[PATH_MAX];
    struct stat st;
    return stat(it_disk_path("main", rel, p, sizeof p), &st) == 0 && S_ISDIR(st.st_mode);
}

static bool disk_exists(const char *rel)
{
    char p[PATH_MAX];
    struct stat st;
    return lstat(it_disk_path("main", rel, p, sizeof p), &st) == 0;
}

static void disk_write(const char *rel, const char *text)
{
    char p[PATH_MAX];
    it_disk_path("main", rel, p, sizeof p);
    if (itest_mkdir_parents(p) != 0)
        fail_msg("mkdir parents of %s", p);
    FILE *f = fopen(p, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        fail_msg("cannot write %s", p);
}

/* The whole file rel on disk into a malloc'd NUL-terminated buffer. */
static char *disk_read(const char *rel, size_t *len)
{
    char p[PATH_MAX];
    it_disk_path("main", rel, p, sizeof p);
    FILE *f = fopen(p, "rb");
    if (!f) {
        fail_msg("cannot open %s: %s", p, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            cap *= 2;
            char *bigger = realloc(buf, cap + 1);
            assert_non_null(bigger);
            buf = bigger;
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* Entries of the disk directory rel whose names contain part. */
static int disk_count_named(const char *rel, const char *part)
{
    char p[PATH_MAX];
    DIR *d = opendir(it_disk_path("main", rel, p, sizeof p));
    if (!d) {
        fail_msg("opendir %s: %s", p, strerror(errno));
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, part))
            n++;
    closedir(d);
    return n;
}

/* ---------------------------------------------------------------- makedirs */

static void test_makedirs(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    char rel[256], p[512];
    fresh("mk", rel, sizeof rel);
    smb_error err = {0};

    snprintf(p, sizeof p, "%s/a/b/c", rel);
    IT_OK(smb_makedirs(c.tree, p, false, &err), err);
    snprintf(p, sizeof p, "%s/a", rel);
    assert_true(disk_is_dir(p));
    snprintf(p, sizeof p, "%s/a/b/c", rel);
    assert_true(disk_is_dir(p));
    /* smbclient sees the directory too. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cd %s/a/b/c", rel);
    assert_int_equal(itest_smbclient(itest_require_env(), itest_port(itest_require_env(), "main"), "data", cmd), 0);

    /* It exists now: an error without exist_ok, fine with it. */
    assert_int_equal(smb_makedirs(c.tree, p, false, &err), SMB_ERR_EXISTS);
    assert_non_null(strstr(err.message, "a/b/c"));
    IT_OK(smb_makedirs(c.tree, p, true, &err), err);

    /* Mixed separators, "." and doubled separators; a parent that exists. */
    snprintf(p, sizeof p, "%s\\a//./x\\y/", rel);
    IT_OK(smb_makedirs(c.tree, p, false, &err), err);
    snprintf(p, sizeof p, "%s/a/x/y", rel);
    assert_true(disk_is_dir(p));

    /* Over a file: the last component, and one in the middle, named in the message. */
    snprintf(p, sizeof p, "%s/file", rel);
    disk_write(p, "not a directory\n");
    assert_int_equal(smb_makedirs(c.tree, p, true, &err), SMB_ERR_NOT_DIR);
    assert_non_null(strstr(err.message, "file"));
    snprintf(p, sizeof p, "%s/file/sub/deeper", rel);
    assert_int_equal(smb_makedirs(c.tree, p, true, &err), SMB_ERR_NOT_DIR);
    assert_non_null(strstr(err.message, "'" DIR_BASE "/mk/file'"));
    snprintf(p, sizeof p, "%s/file/sub", rel);
    assert_false(disk_exists(p));

    /* ".." is refused before anything is sent. */
    snprintf(p, sizeof p, "%s/../escape", rel);
    assert_int_equal(smb_makedirs(c.tree, p, true, &err), SMB_ERR_BAD_NAME);
    assert_false(disk_exists(DIR_BASE "/escape"));
    /* The share root exists. */
    IT_OK(smb_makedirs(c.tree, "", true, &err), err);
    assert_int_equal(smb_makedirs(c.tree, "/", false, &err), SMB_ERR_EXISTS);
    it_close(&c);
}

/* ---------------------------------------------------------------- rmtree */

static void test_rmtree(void **state)
{
    (void)state;
    it_client c, other;
    it_connect(&c, "main");
    char rel[200], p[512], t[256];
    fresh("rm", rel, sizeof rel);
    smb_error err = {0};
    snprintf(t, sizeof t, "%s/t", rel);
    /* A tree: files at every level, an empty directory, a wide directory. */
    const char *files[] = {"f1", "d1/f2", "d1/d2/f3", "d1/d2/d3/f4", "d4/x"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", t, files[i]);
        disk_write(p, files[i]);
    }
    for (int i = 0; i < 150; i++) {
        snprintf(p, sizeof p, "%s/wide/file-%03d.txt", t, i);
        disk_write(p, "w");
    }
    snprintf(p, sizeof p, "%s/empty", t);
    IT_OK(smb_mkdir(c.tree, p, &err), err);
    /* A read-only file (DOS attribute, as a Windows client sets it): removed all the same. */
    snprintf(p, sizeof p, "%s/d1/readonly.txt", t);
    disk_write(p, "read-only");
    smb_basic_info ro = {.attributes = SMB_ATTR_READONLY};
    IT_OK(smb_set_times(c.tree, p, &ro, &err), err);
    smb_file_info fi;
    IT_OK(smb_stat(c.tree, p, &fi, &err), err);
    assert_true(fi.attributes & SMB_ATTR_READONLY);
    assert_int_equal(smb_unlink(c.tree, p, &err), SMB_ERR_ACCESS); /* the server does refuse it */

    /* A file another client holds open without FILE_SHARE_DELETE: the failure names it. */
    it_connect(&other, "main");
    snprintf(p, sizeof p, "%s/d1/d2/busy.txt", t);
    disk_write(p, "busy");
    smb_create_params cp;
    smb_create_params_init(&cp);
    cp.share_access = SMB_SHARE_READ;
    smb_open *held = smb_create(other.tree, p, &cp, NULL, NULL, &err);
    assert_non_null(held);
    assert_int_not_equal(smb_rmtree(c.tree, t, &err), 0);
    assert_int_equal(err.code, SMB_ERR_SHARING);
    assert_non_null(strstr(err.message, "d1/d2/busy.txt"));
    assert_non_null(strstr(err.message, "rmtree '" DIR_BASE "/rm/t'"));
    assert_true(disk_exists(p));
    IT_OK(smb_close(held, NULL, &err), err);
    it_close(&other);

    IT_OK(smb_rmtree(c.tree, t, &err), err);
    assert_false(disk_exists(t));
    assert_true(disk_is_dir(rel));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cd %s", t);
    assert_int_not_equal(itest_smbclient(itest_require_env(), itest_port(itest_require_env(), "main"), "data", cmd), 0);

    /* A missing path, a file, the share root. */
    assert_int_equal(smb_rmtree(c.tree, t, &err), SMB_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, DIR_BASE "/rm/t"));
    snprintf(p, sizeof p, "%s/plain", rel);
    disk_write(p, "x");
    assert_int_equal(smb_rmtree(c.tree, p, &err), SMB_ERR_NOT_DIR);
    assert_true(disk_exists(p));
    assert_int_equal(smb_rmtree(c.tree, "", &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(smb_rmtree(c.tree, "/.", &err), SMB_ERR_INVALID_ARG);
    it_close(&c);
}

/* ---------------------------------------------------------------- walk */

typedef struct seen {
    char path[256];
    bool is_dir;
    uint64_t size;
    unsigned depth;
} seen;

static void test_walk(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    char rel[256], p[512];
    fresh("walk", rel, sizeof rel);
    smb_error err = {0};
    /* On disk: files of known sizes at three levels, an empty directory. */
    const struct {
        const char *path;
        uint64_t size;
    } files[] = {{"a.txt", 10}, {"sub/b.bin", 70000}, {"sub/deep/c.txt", 1}, {"sub/deep/d.txt", 0},
                 {"other/e.txt", 5}};
    size_t nfiles = sizeof files / sizeof files[0];
    for (size_t i = 0; i < nfiles; i++) {
        snprintf(p, sizeof p, "%s/%s", rel, files[i].path);
        assert_int_equal(itest_write_share_file(itest_require_env(), p, files[i].size, i + 1), 0);
    }
    snprintf(p, sizeof p, "%s/empty", rel);
    IT_OK(smb_mkdir(c.tree, p, &err), err);

    smb_walk *w = smb_walk_open(c.tree, rel, &err);
    if (!w)
        fail_msg("walk open: %s", err.message);
    seen got[32];
    memset(got, 0, sizeof got);
    size_t n = 0;
    smb_walk_entry e;
    int rc;
    while ((rc = smb_walk_next(w, &e, &err)) == 1) {
        assert_true(n < 32);
        snprintf(got[n].path, sizeof got[n].path, "%s", e.path);
        got[n].is_dir = e.is_dir;
        got[n].size = e.info.end_of_file;
        got[n].depth = e.depth;
        assert_false(e.is_reparse);
        /* name is path's last component; path lies below top. */
        assert_int_equal(strncmp(e.path, rel, strlen(rel)), 0);
        assert_string_equal(e.name, strrchr(e.path, '/') + 1);
        n++;
    }
    if (rc != 0)
        fail_msg("walk: %s", err.message);
    smb_walk_close(w);

    /* Exactly what find(1) lists on disk: 5 files, 4 directories (sub, sub/deep, other, empty). */
    assert_int_equal(n, nfiles + 4);
    for (size_t i = 0; i < nfiles; i++) {
        snprintf(p, sizeof p, "%s/%s", rel, files[i].path);
        size_t j = 0;
        while (j < n && strcmp(got[j].path, p) != 0)
            j++;
        if (j == n)
            fail_msg("walk did not give %s", p);
        assert_false(got[j].is_dir);
        assert_int_equal(got[j].size, files[i].size);
        /* depth: components below top */
        unsigned depth = 1;
        for (const char *s = files[i].path; *s; s++)
            depth += *s == '/';
        assert_int_equal(got[j].depth, depth);
        /* Top-down: the file's directory came before it. */
        char parent[512];
        snprintf(parent, sizeof parent, "%s", p);
        *strrchr(parent, '/') = '\0';
        if (strcmp(parent, rel) != 0) {
            size_t k = 0;
            while (k < j && strcmp(got[k].path, parent) != 0)
                k++;
            if (k == j)
                fail_msg("%s came before its directory %s", p, parent);
            assert_true(got[k].is_dir);
        }
    }
    const char *dirs[] = {"sub", "sub/deep", "other", "empty"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", rel, dirs[i]);
        size_t j = 0;
        while (j < n && strcmp(got[j].path, p) != 0)
            j++;
        if (j == n)
            fail_msg("walk did not give directory %s", p);
        assert_true(got[j].is_dir);
        assert_true(disk_is_dir(p));
    }

    /* A missing top, a file as top. */
    snprintf(p, sizeof p, "%s/missing", rel);
    assert_null(smb_walk_open(c.tree, p, &err));
    assert_int_equal(err.code, SMB_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "missing"));
    snprintf(p, sizeof p, "%s/a.txt", rel);
    assert_null(smb_walk_open(c.tree, p, &err));
    assert_int_equal(err.code, SMB_ERR_NOT_DIR);

    /* An empty directory: over at once; closing midway frees everything (valgrind checks). */
    snprintf(p, sizeof p, "%s/empty", rel);
    w = smb_walk_open(c.tree, p, &err);
    assert_non_null(w);
    assert_int_equal(smb_walk_next(w, &e, &err), 0);
    assert_int_equal(smb_walk_next(w, &e, &err), 0);
    smb_walk_close(w);
    w = smb_walk_open(c.tree, rel, &err);
    assert_non_null(w);
    assert_int_equal(smb_walk_next(w, &e, &err), 1);
    assert_int_equal(smb_walk_next(w, &e, &err), 1);
    smb_walk_close(w);
    smb_walk_close(NULL);
    it_close(&c);
}

/* ---------------------------------------------------------------- copyfile */

#define BIG_SIZE ((uint64_t)5 * 1024 * 1024 + 12345)

static uint64_t conn_bytes(smb_conn *conn)
{
    smb_conn_stats st;
    smb_conn_get_stats(conn, &st);
    return st.bytes_sent + st.bytes_received;
}

static void test_copy_server_side(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    char rel[256], src[512], dst[512], disk[PATH_MAX];
    fresh("cp", rel, sizeof rel);
    smb_error err = {0};
    snprintf(src, sizeof src, "%s/big.bin", rel);
    snprintf(dst, sizeof dst, "%s/big.copy", rel);
    assert_int_equal(itest_write_share_file(itest_require_env(), src, BIG_SIZE, 42), 0);

    /* The server copies: the bytes on the wire are a small part of the file's. */
    uint64_t before = conn_bytes(c.conn);
    IT_OK(smb_copyfile(c.tree, src, c.tree, dst, SMB_COPY_SERVER_SIDE_ONLY, &err), err);
    uint64_t wire = conn_bytes(c.conn) - before;
    print_message("server-side copy of %llu bytes: %llu bytes on the wire\n", (unsigned long long)BIG_SIZE,
                  (unsigned long long)wire);
    assert_true(wire < BIG_SIZE / 20);
    assert_int_equal(itest_check_file_pattern(it_disk_path("main", dst, disk, sizeof disk), BIG_SIZE, 42), 0);
    assert_int_equal(disk_count_named(rel, ".smbcopy-"), 0);
    smb_file_info fi;
    IT_OK(smb_stat(c.tree, dst, &fi, &err), err);
    assert_int_equal(fi.end_of_file, BIG_SIZE);
    assert_false(fi.attributes & SMB_ATTR_HIDDEN); /* not the temporary ".name"'s */

    /* Refusing to overwrite: the destination stays as it was, no temporary left. */
    char small[512];
    snprintf(small, sizeof small, "%s/small.txt", rel);
    disk_write(small, "small file\n");
    assert_int_equal(smb_copyfile(c.tree, small, c.tree, dst, SMB_COPY_NO_OVERWRITE, &err), SMB_ERR_EXISTS);
    assert_non_null(strstr(err.message, dst));
    assert_int_equal(itest_check_file_pattern(disk, BIG_SIZE, 42), 0);
    assert_int_equal(disk_count_named(rel, ".smbcopy-"), 0);
    /* Overwriting by default. */
    IT_OK(smb_copyfile(c.tree, small, c.tree, dst, 0, &err), err);
    assert_int_equal(itest_compare_file(disk, "small file\n", 11), 0);

    /* An empty file. */
    char empty[512], empty_copy[512];
    snprintf(empty, sizeof empty, "%s/empty", rel);
    snprintf(empty_copy, sizeof empty_copy, "%s/empty.copy", rel);
    disk_write(empty, "");
    IT_OK(smb_copyfile(c.tree, empty, c.tree, empty_copy, 0, &err), err);
    assert_int_equal(itest_compare_file(it_disk_path("main", empty_copy, disk, sizeof disk), "", 0), 0);

    /* Times and attributes kept on request (like shutil.copy2), not otherwise. */
    smb_basic_info bi = {.last_write_time = smb_filetime_from_unix(1000000000, 0),
                         .creation_time = smb_filetime_from_unix(999999000, 0)};
    IT_OK(smb_set_times(c.tree, src, &bi, &err), err);
    char kept[512];
    snprintf(kept, sizeof kept, "%s/kept.bin", rel);
    IT_OK(smb_copyfile(c.tree, src, c.tree, kept, SMB_COPY_METADATA, &err), err);
    IT_OK(smb_stat(c.tree, kept, &fi, &err), err);
    assert_true(fi.last_write_time == bi.last_write_time);
    struct stat st;
    assert_int_equal(stat(it_disk_path("main", kept, disk, sizeof disk), &st), 0);
    assert_int_equal(st.st_mtime, 1000000000);
    IT_OK(smb_copyfile(c.tree, src, c.tree, dst, 0, &err), err);
    IT_OK(smb_stat(c.tree, dst, &fi, &err), err);
    assert_true(fi.last_write_time != bi.last_write_time);

    /* Errors: a missing source, a directory, a missing destination directory, the same file. */
    char p[512];
    snprintf(p, sizeof p, "%s/nothing", rel);
    assert_int_equal(smb_copyfile(c.tree, p, c.tree, dst, 0, &err), SMB_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "nothing"));
    assert_int_equal(smb_copyfile(c.tree, rel, c.tree, dst, 0, &err), SMB_ERR_IS_DIR);
    snprintf(p, sizeof p, "%s/no/such/dir/x", rel);
    assert_int_equal(smb_copyfile(c.tree, src, c.tree, p, 0, &err), SMB_ERR_NOT_FOUND);
    assert_int_equal(smb_copyfile(c.tree, src, c.tree, src, 0, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(smb_copyfile(c.tree, src, c.tree, dst, SMB_COPY_NO_SERVER_SIDE | SMB_COPY_SERVER_SIDE_ONLY, &err),
                     SMB_ERR_INVALID_ARG);
    assert_int_equal(itest_check_file_pattern(it_disk_path("main", src, disk, sizeof disk), BIG_SIZE, 42), 0);
    assert_int_equal(disk_count_named(rel, ".smbcopy-"), 0);
    it_close(&c);
}

/* Limits above what Samba takes (256 chunks, 1 MiB, 16 MiB): lowered to those it states (MS-SMB2 3.3.5.15.6). */
static void test_copychunk_limits(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    char rel[256], src[512], dst[512], disk[PATH_MAX];
    fresh("cc", rel, sizeof rel);
    smb_error err = {0};
    snprintf(src, sizeof src, "%s/src.bin", rel);
    snprintf(dst, sizeof dst, "%s/dst.bin", rel);
    const uint64_t size = (uint64_t)20 * 1024 * 1024 + 7;
    assert_int_equal(itest_write_share_file(itest_require_env(), src, size, 7), 0);
    smb_open *s = smb_open_file(c.tree, src, SMB_O_RDONLY, NULL, &err);
    assert_non_null(s);
    smb_open *d = smb_open_file(c.tree, dst, SMB_O_RDWR | SMB_O_CREAT | SMB_O_EXCL, NULL, &err);
    assert_non_null(d);
    smb2_copychunk_limits lim = {300, 4u << 20, 64u << 20};
    IT_OK(smb_copychunk(s, d, size, &lim, src, dst, &err), err);
    print_message("copy chunk limits after the server's answer: %u chunks, %u bytes each, %u in all\n", lim.chunks,
                  lim.chunk, lim.total);
    assert_int_equal(lim.chunks, 256);
    assert_int_equal(lim.chunk, 1u << 20);
    assert_int_equal(lim.total, 16u << 20);
    IT_OK(smb_close(d, NULL, &err), err);
    IT_OK(smb_close(s, NULL, &err), err);
    assert_int_equal(itest_check_file_pattern(it_disk_path("main", dst, disk, sizeof disk), size, 7), 0);
    it_close(&c);
}

static void test_copy_client_and_cross_share(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    it_client c, c2, m;
    it_connect(&c, "main");
    it_connect(&c2, "main");
    char rel[256], src[512], dst[512], disk[PATH_MAX];
    fresh("cx", rel, sizeof rel);
    smb_error err = {0};
    snprintf(src, sizeof src, "%s/big.bin", rel);
    assert_int_equal(itest_write_share_file(env, src, BIG_SIZE, 9), 0);

    /* Another session: the data crosses the client. */
    snprintf(dst, sizeof dst, "%s/via-client.bin", rel);
    assert_int_equal(smb_copyfile(c.tree, src, c2.tree, dst, SMB_COPY_SERVER_SIDE_ONLY, &err), SMB_ERR_UNSUPPORTED);
    assert_false(disk_exists(dst));
    uint64_t before = conn_bytes(c.conn);
    IT_OK(smb_copyfile(c.tree, src, c2.tree, dst, 0, &err), err);
    assert_true(conn_bytes(c.conn) - before >= BIG_SIZE);
    assert_int_equal(itest_check_file_pattern(it_disk_path("main", dst, disk, sizeof disk), BIG_SIZE, 9), 0);
    /* Asked to, on one session too. */
    snprintf(dst, sizeof dst, "%s/forced-client.bin", rel);
    IT_OK(smb_copyfile(c.tree, src, c.tree, dst, SMB_COPY_NO_SERVER_SIDE, &err), err);
    assert_int_equal(itest_check_file_pattern(it_disk_path("main", dst, disk, sizeof disk), BIG_SIZE, 9), 0);

    /* A server that takes 64 KiB per READ and WRITE: many requests, the same bytes (its own share). */
    it_connect(&m, "maxio");
    char mdisk[PATH_MAX];
    assert_non_null(itest_share_path(env, "maxio", "cx-src.bin", mdisk, sizeof mdisk));
    assert_int_equal(itest_write_file(mdisk, 1000000, 11), 0);
    IT_OK(smb_copyfile(m.tree, "cx-src.bin", m.tree, "cx-dst.bin", SMB_COPY_NO_SERVER_SIDE, &err), err);
    assert_non_null(itest_share_path(env, "maxio", "cx-dst.bin", mdisk, sizeof mdisk));
    assert_int_equal(itest_check_file_pattern(mdisk, 1000000, 11), 0);
    /* From one server to another (two instances). */
    IT_OK(smb_copyfile(m.tree, "cx-src.bin", c.tree, dst, 0, &err), err);
    assert_int_equal(itest_check_file_pattern(it_disk_path("main", dst, disk, sizeof disk), 1000000, 11), 0);
    IT_OK(smb_unlink(m.tree, "cx-src.bin", &err), err);
    IT_OK(smb_unlink(m.tree, "cx-dst.bin", &err), err);
    it_close(&m);

    /* Another share of the same session: the server copies between them. */
    const char *fid = itest_env_value(env, "SMBCOPY_TEST_FIDELITY_SHARE");
    const char *fid_dir = itest_env_value(env, "SMBCOPY_TEST_FIDELITY_SHARE_DIR");
    if (!fid || !fid_dir)
        fail_msg("the fixture has no fidelity share");
    smb_tree *ft = smb_tree_connect(c.sess, fid, &err);
    if (!ft)
        fail_msg("tree connect %s: %s", fid, err.message);
    smb_error le = {0};
    smb_rmtree(ft, "helpers-cross", &le);
    IT_OK(smb_makedirs(ft, "helpers-cross/in", false, &err), err);
    before = conn_bytes(c.conn);
    IT_OK(smb_copyfile(c.tree, src, ft, "helpers-cross/in/from-data.bin", SMB_COPY_SERVER_SIDE_ONLY, &err), err);
    assert_true(conn_bytes(c.conn) - before < BIG_SIZE / 20);
    snprintf(disk, sizeof disk, "%s/helpers-cross/in/from-data.bin", fid_dir);
    assert_int_equal(itest_check_file_pattern(disk, BIG_SIZE, 9), 0);
    /* smbclient reads the same bytes from that share. */
    char local[PATH_MAX], cmd[PATH_MAX + 64];
    snprintf(local, sizeof local, "%s/itest-helpers-get-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    snprintf(cmd, sizeof cmd, "get helpers-cross/in/from-data.bin %s", local);
    assert_int_equal(itest_smbclient(env, itest_port(env, "main"), fid, cmd), 0);
    assert_int_equal(itest_check_file_pattern(local, BIG_SIZE, 9), 0);
    unlink(local);
    /* And back, refusing to overwrite what is there. */
    assert_int_equal(smb_copyfile(ft, "helpers-cross/in/from-data.bin", c.tree, src, SMB_COPY_NO_OVERWRITE, &err),
                     SMB_ERR_EXISTS);
    IT_OK(smb_rmtree(ft, "helpers-cross", &err), err);
    snprintf(disk, sizeof disk, "%s/helpers-cross", fid_dir);
    struct stat st;
    assert_int_not_equal(lstat(disk, &st), 0);
    it_close(&c2);
    it_close(&c);
}

/* ---------------------------------------------------------------- append */

static void test_append(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    char rel[256], p[512];
    fresh("ap", rel, sizeof rel);
    smb_error err = {0};
    snprintf(p, sizeof p, "%s/log.txt", rel);
    disk_write(p, "first\n");

    smb_open *op = smb_open_append(c.tree, p, false, &err);
    if (!op)
        fail_msg("open append: %s", err.message);
    IT_OK(smb_append(op, "second\n", 7, &err), err);
    IT_OK(smb_append(op, "third\n", 6, &err), err);
    IT_OK(smb_append(op, "", 0, &err), err);
    IT_OK(smb_close(op, NULL, &err), err);
    size_t len;
    char *got = disk_read(p, &len);
    assert_string_equal(got, "first\nsecond\nthird\n");
    free(got);

    /* Two handles taking turns: every line lands at the end, none over another. */
    smb_open *a = smb_open_append(c.tree, p, false, &err);
    smb_open *b = smb_open_append(c.tree, p, false, &err);
    assert_non_null(a);
    assert_non_null(b);
    IT_OK(smb_append(a, "a1\n", 3, &err), err);
    IT_OK(smb_append(b, "b1\n", 3, &err), err);
    IT_OK(smb_append(a, "a2\n", 3, &err), err);
    IT_OK(smb_close(a, NULL, &err), err);
    IT_OK(smb_close(b, NULL, &err), err);
    got = disk_read(p, &len);
    assert_string_equal(got, "first\nsecond\nthird\na1\nb1\na2\n");
    free(got);

    /* A missing file: refused, or created when asked. */
    snprintf(p, sizeof p, "%s/new.txt", rel);
    assert_null(smb_open_append(c.tree, p, false, &err));
    assert_int_equal(err.code, SMB_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "new.txt"));
    op = smb_open_append(c.tree, p, true, &err);
    assert_non_null(op);
    IT_OK(smb_append(op, "x", 1, &err), err);
    IT_OK(smb_append(op, "yz", 2, &err), err);
    IT_OK(smb_close(op, NULL, &err), err);
    got = disk_read(p, &len);
    assert_string_equal(got, "xyz");
    free(got);
    it_close(&c);

    /* Appends larger than one WRITE (64 KiB on the maxio instance), twice. */
    const itest_env *env = itest_require_env();
    it_client m;
    it_connect(&m, "maxio");
    char mdisk[PATH_MAX];
    assert_non_null(itest_share_path(env, "maxio", "ap-big.bin", mdisk, sizeof mdisk));
    unlink(mdisk);
    const size_t half = 300000;
    uint8_t *buf = malloc(2 * half);
    assert_non_null(buf);
    itest_pattern_fill(buf, 2 * half, 5, 0);
    op = smb_open_append(m.tree, "ap-big.bin", true, &err);
    assert_non_null(op);
    IT_OK(smb_append(op, buf, half, &err), err);
    IT_OK(smb_append(op, buf + half, half, &err), err);
    IT_OK(smb_close(op, NULL, &err), err);
    assert_int_equal(itest_check_file_pattern(mdisk, 2 * half, 5), 0);
    free(buf);
    IT_OK(smb_unlink(m.tree, "ap-big.bin", &err), err);
    it_close(&m);
}

/* ---------------------------------------------------------------- statvfs */

static void test_statvfs(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    smb_statvfs_info v;
    IT_OK(smb_statvfs(c.tree, &v, &err), err);
    struct statvfs sv;
    assert_int_equal(statvfs(itest_require_env()->share_dir, &sv), 0);
    uint64_t disk_total = (uint64_t)sv.f_blocks * sv.f_frsize;
    print_message("statvfs: %llu units of %u x %u bytes: %llu bytes (disk %llu), %llu available (%llu for the "
                  "caller)\n",
                  (unsigned long long)v.total_units, v.sectors_per_unit, v.bytes_per_sector,
                  (unsigned long long)v.total_bytes, (unsigned long long)disk_total,
                  (unsigned long long)v.actual_available_bytes, (unsigned long long)v.caller_available_bytes);
    assert_true(v.sectors_per_unit > 0 && v.bytes_per_sector > 0);
    assert_int_equal(v.unit_bytes, (uint64_t)v.sectors_per_unit * v.bytes_per_sector);
    assert_int_equal(v.total_bytes, v.total_units * v.unit_bytes);
    assert_int_equal(v.actual_available_bytes, v.actual_available_units * v.unit_bytes);
    assert_true(v.caller_available_units <= v.total_units);
    assert_true(v.actual_available_units <= v.total_units);
    /* The same file system as statvfs(2) sees: sizes within 1% (the server rounds to its units). */
    uint64_t diff = v.total_bytes > disk_total ? v.total_bytes - disk_total : disk_total - v.total_bytes;
    assert_true(diff <= disk_total / 100);
    uint64_t disk_free = (uint64_t)sv.f_bavail * sv.f_frsize;
    diff = v.caller_available_bytes > disk_free ? v.caller_available_bytes - disk_free
                                                : disk_free - v.caller_available_bytes;
    assert_true(diff <= disk_total / 100); /* other tests write meanwhile: within 1% of the disk */
    assert_int_equal(smb_statvfs(c.tree, NULL, &err), SMB_ERR_INVALID_ARG);
    it_close(&c);
}

/* ---------------------------------------------------------------- EAs */

static const smb_ea *find_ea(const smb_ea_list *l, const char *name)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcasecmp(l->eas[i].name, name) == 0)
            return &l->eas[i];
    return NULL;
}

static void test_eas(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    char rel[256], p[512], disk[PATH_MAX];
    fresh("ea", rel, sizeof rel);
    smb_error err = {0};
    snprintf(p, sizeof p, "%s/f.txt", rel);
    disk_write(p, "file with extended attributes\n");
    it_disk_path("main", p, disk, sizeof disk);

    smb_ea_list *l = NULL;
    IT_OK(smb_get_eas(c.tree, p, &l, &err), err);
    assert_non_null(l);
    assert_int_equal(l->count, 0);
    smb_ea_list_free(l);

    uint8_t bin[1000];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(i * 7);
    IT_OK(smb_set_ea(c.tree, p, "COLOR", "blue", 4, &err), err);
    IT_OK(smb_set_ea(c.tree, p, "Binary.Value", bin, sizeof bin, &err), err);
    IT_OK(smb_get_eas(c.tree, p, &l, &err), err);
    assert_int_equal(l->count, 2);
    const smb_ea *e = find_ea(l, "COLOR");
    assert_non_null(e);
    assert_int_equal(e->value_len, 4);
    assert_memory_equal(e->value, "blue", 4);
    e = find_ea(l, "Binary.Value");
    assert_non_null(e);
    assert_int_equal(e->value_len, sizeof bin);
    assert_memory_equal(e->value, bin, sizeof bin);
    smb_ea_list_free(l);

    /* On the server's disk: user.NAME extended attributes of the file. */
    char val[2048];
    ssize_t n = getxattr(disk, "user.COLOR", val, sizeof val);
    if (n < 0)
        fail_msg("getxattr user.COLOR of %s: %s", disk, strerror(errno));
    assert_int_equal(n, 4);
    assert_memory_equal(val, "blue", 4);
    n = getxattr(disk, "user.Binary.Value", val, sizeof val);
    assert_int_equal(n, (ssize_t)sizeof bin);
    assert_memory_equal(val, bin, sizeof bin);
    /* And one set on disk is read through SMB. */
    assert_int_equal(setxattr(disk, "user.FROMDISK", "42", 2, 0), 0);
    IT_OK(smb_get_eas(c.tree, p, &l, &err), err);
    assert_int_equal(l->count, 3);
    e = find_ea(l, "FROMDISK");
    assert_non_null(e);
    assert_memory_equal(e->value, "42", 2);
    smb_ea_list_free(l);

    /* Replaced, then removed (an empty value). */
    IT_OK(smb_set_ea(c.tree, p, "COLOR", "green", 5, &err), err);
    n = getxattr(disk, "user.COLOR", val, sizeof val);
    assert_int_equal(n, 5);
    assert_memory_equal(val, "green", 5);
    IT_OK(smb_set_ea(c.tree, p, "COLOR", NULL, 0, &err), err);
    assert_int_equal(getxattr(disk, "user.COLOR", val, sizeof val), -1);
    assert_int_equal(errno, ENODATA);
    IT_OK(smb_get_eas(c.tree, p, &l, &err), err);
    assert_int_equal(l->count, 2);
    assert_null(find_ea(l, "COLOR"));
    smb_ea_list_free(l);

    /* A directory has them too. */
    IT_OK(smb_set_ea(c.tree, rel, "DIRNOTE", "d", 1, &err), err);
    IT_OK(smb_get_eas(c.tree, rel, &l, &err), err);
    assert_non_null(find_ea(l, "DIRNOTE"));
    smb_ea_list_free(l);

    /* Refused before anything is sent; a missing file. */
    assert_int_equal(smb_set_ea(c.tree, p, "bad:name", "x", 1, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(smb_set_ea(c.tree, p, "", "x", 1, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(smb_set_ea(c.tree, p, "BIG", bin, 70000, &err), SMB_ERR_INVALID_ARG);
    snprintf(p, sizeof p, "%s/missing", rel);
    assert_int_equal(smb_get_eas(c.tree, p, &l, &err), SMB_ERR_NOT_FOUND);
    assert_null(l);
    assert_non_null(strstr(err.message, "missing"));
    assert_int_equal(smb_set_ea(c.tree, p, "X", "x", 1, &err), SMB_ERR_NOT_FOUND);
    it_close(&c);
}

/* Last: remove this test's directory through the helper itself. */
static void test_cleanup(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    IT_OK(smb_rmtree(c.tree, DIR_BASE, &err), err);
    assert_false(disk_exists(DIR_BASE));
    it_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_makedirs),
        cmocka_unit_test(test_rmtree),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_copy_server_side),
        cmocka_unit_test(test_copychunk_limits),
        cmocka_unit_test(test_copy_client_and_cross_share),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_statvfs),
        cmocka_unit_test(test_eas),
        cmocka_unit_test(test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Windows-fidelity calls against the fixture's Samba: an open's security
 * descriptor read and written back as raw self-relative bytes; named
 * streams (MS-FSCC 2.4.44) written through "FILE:NAME" paths, listed with
 * smb_get_streams and read back, on the "fidelity" share (streams_xattr)
 * and the "fidelitydepot" share (streams_depot, streams of any size).
 */
#include <unistd.h>

#include "itest_smb.h"

#define MAIN "main"
#define TOP "fidelity"

static void test_security_roundtrip(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_READ_CONTROL | SMB_WRITE_DAC | SMB_FILE_READ_ATTRIBUTES;
    p.disposition = SMB_FILE_OVERWRITE_IF;
    smb_open *op = smb_create(c.tree, TOP "\\sd.txt", &p, NULL, NULL, &err);
    assert_non_null(op);

    uint8_t *sd = NULL;
    size_t len = 0;
    IT_OK(smb_get_security(op, SMB_SECINFO_DACL, &sd, &len, &err), err);
    assert_true(len >= 20);
    assert_int_equal(sd[0], 1); /* Revision (MS-DTYP 2.4.6) */
    IT_OK(smb_set_security(op, SMB_SECINFO_DACL, sd, len, &err), err);

    uint8_t *again = NULL;
    size_t again_len = 0;
    IT_OK(smb_get_security(op, SMB_SECINFO_DACL, &again, &again_len, &err), err);
    /* Without acl_xattr Samba maps the DACL to POSIX ACLs and back, so the
     * first round trip may reshape it; the reshaped one is then stable. */
    IT_OK(smb_set_security(op, SMB_SECINFO_DACL, again, again_len, &err), err);
    uint8_t *third = NULL;
    size_t third_len = 0;
    IT_OK(smb_get_security(op, SMB_SECINFO_DACL, &third, &third_len, &err), err);
    assert_int_equal(third_len, again_len);
    assert_memory_equal(third, again, again_len);
    free(third);
    assert_int_equal(smb_set_security(op, SMB_SECINFO_DACL, sd, 4, &err), SMB_ERR_INVALID_ARG);
    free(sd);
    free(again);
    IT_OK(smb_close(op, NULL, &err), err);
    it_close(&c);
}

/* ---------------------------------------------------------------- named streams */

/* A tree on the main instance's share named by the env key (the connection
 * is c's: it_close ends both). */
static smb_tree *share_tree(it_client *c, const char *key)
{
    const char *share = itest_env_value(itest_require_env(), key);
    if (!share || !*share)
        fail_msg("the fixture's env has no %s (a fixture older than the test?)", key);
    it_connect(c, MAIN);
    smb_error err = {0};
    smb_tree *t = smb_tree_connect(c->sess, share, &err);
    if (!t)
        fail_msg("tree connect %s: %s", share, err.message);
    return t;
}

/* A directory of its own per run, made through SMB: files of the
 * streams_xattr share are deleted through SMB too (its xattr tdb is keyed
 * by inode, so deleting on disk would leave streams for a later file). */
static void run_dir(smb_tree *t, char *buf, size_t len)
{
    snprintf(buf, len, "streams-%ld", (long)getpid());
    smb_error err = {0};
    IT_OK(smb_mkdir(t, buf, &err), err);
}

/* Create path (a file or a stream) holding data[0..len). */
static void put(smb_tree *t, const char *path, const void *data, size_t len)
{
    smb_error err = {0};
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_READ_DATA | SMB_FILE_WRITE_DATA | SMB_FILE_READ_ATTRIBUTES;
    p.disposition = SMB_FILE_CREATE;
    smb_open *op = smb_create(t, path, &p, NULL, NULL, &err);
    if (!op)
        fail_msg("create %s: %s", path, err.message);
    if (len)
        IT_OK(smb_pwrite(op, data, len, 0, 0, &err), err);
    IT_OK(smb_close(op, NULL, &err), err);
}

/* Path (a file or a stream) must hold exactly want[0..len). */
static void expect_content(smb_tree *t, const char *path, const void *want, size_t len)
{
    smb_error err = {0};
    smb_open *op = smb_create(t, path, NULL, NULL, NULL, &err);
    if (!op)
        fail_msg("open %s: %s", path, err.message);
    uint8_t *got = malloc(len + 1);
    assert_non_null(got);
    size_t n = 0;
    IT_OK(smb_pread(op, got, len + 1, 0, 0, &n, &err), err); /* one byte more: the end must be there */
    if (n != len)
        fail_msg("%s: %zu bytes, expected %zu", path, n, len);
    if (len && memcmp(got, want, len) != 0)
        fail_msg("%s: bytes differ", path);
    free(got);
    IT_OK(smb_close(op, NULL, &err), err);
}

/* The streams of path, listed through an open with FILE_READ_ATTRIBUTES only. */
static smb_stream_info *list_streams(smb_tree *t, const char *path, bool dir, size_t *n)
{
    smb_error err = {0};
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_READ_ATTRIBUTES;
    if (dir)
        p.options = SMB_FILE_DIRECTORY_FILE;
    smb_open *op = smb_create(t, path, &p, NULL, NULL, &err);
    if (!op)
        fail_msg("open %s: %s", path, err.message);
    smb_stream_info *s = NULL;
    IT_OK(smb_get_streams(op, &s, n, &err), err);
    assert_true((*n == 0) == (s == NULL));
    IT_OK(smb_close(op, NULL, &err), err);
    return s;
}

/* The entry named name in s[0..n), which must be there exactly once. */
static const smb_stream_info *find_stream(const smb_stream_info *s, size_t n, const char *name)
{
    const smb_stream_info *found = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s[i].name, name) == 0) {
            if (found)
                fail_msg("stream %s listed twice", name);
            found = &s[i];
        }
    }
    if (!found)
        fail_msg("stream %s not listed", name);
    return found;
}

static uint8_t *pattern(size_t len, uint64_t seed)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    itest_pattern_fill(p, len, seed, 0);
    return p;
}

/* Three streams of a file (empty, small, 40 KiB) written through
 * "FILE:NAME" and "FILE:NAME:$DATA" paths, listed with names and sizes
 * exact, read back byte for byte, also by smbclient; a directory's stream;
 * a file without streams lists none. */
static void test_streams_xattr(void **state)
{
    (void)state;
    it_client c;
    smb_tree *t = share_tree(&c, "SMBCOPY_TEST_FIDELITY_SHARE");
    smb_error err = {0};
    char top[64], file[128], path[256];
    run_dir(t, top, sizeof top);
    snprintf(file, sizeof file, "%s\\file.txt", top);

    static const char main_data[] = "the main stream\n";
    put(t, file, main_data, sizeof main_data - 1);
    static const char small[] = "small";
    const size_t big_len = 40 * 1024;
    uint8_t *big = pattern(big_len, 41);
    snprintf(path, sizeof path, "%s:one", file);
    put(t, path, NULL, 0);
    snprintf(path, sizeof path, "%s:two:$DATA", file);
    put(t, path, small, sizeof small - 1);
    snprintf(path, sizeof path, "%s/file.txt:three", top); /* '/' works as '\\' */
    put(t, path, big, big_len);

    size_t n = 0;
    smb_stream_info *s = list_streams(t, file, false, &n);
    assert_int_equal(n, 3);
    assert_true(find_stream(s, n, "one")->size == 0);
    assert_true(find_stream(s, n, "two")->size == sizeof small - 1);
    assert_true(find_stream(s, n, "three")->size == big_len);
    smb_streams_free(s, n);

    snprintf(path, sizeof path, "%s:one", file);
    expect_content(t, path, NULL, 0);
    snprintf(path, sizeof path, "%s:two", file);
    expect_content(t, path, small, sizeof small - 1);
    snprintf(path, sizeof path, "%s:three:$DATA", file);
    expect_content(t, path, big, big_len);
    /* The main stream is untouched, by its name and by "::$DATA". */
    expect_content(t, file, main_data, sizeof main_data - 1);
    snprintf(path, sizeof path, "%s::$DATA", file);
    expect_content(t, path, main_data, sizeof main_data - 1);
    smb_file_info fi;
    IT_OK(smb_stat(t, file, &fi, &err), err);
    assert_true(fi.end_of_file == sizeof main_data - 1);

    /* Another client reads the same bytes. */
    const itest_env *env = itest_require_env();
    char local[PATH_MAX], cmd[PATH_MAX + 256];
    snprintf(local, sizeof local, "%s/itest-fidelity-%ld.three", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    snprintf(cmd, sizeof cmd, "get \"%s\\file.txt:three\" \"%s\"", top, local);
    assert_int_equal(itest_smbclient(env, itest_port(env, MAIN), itest_env_value(env, "SMBCOPY_TEST_FIDELITY_SHARE"),
                                     cmd),
                     0);
    assert_int_equal(itest_compare_file(local, big, big_len), 0);
    unlink(local);
    free(big);

    /* A directory with a stream (opened without FILE_DIRECTORY_FILE). */
    char dir[128];
    snprintf(dir, sizeof dir, "%s\\sub", top);
    IT_OK(smb_mkdir(t, dir, &err), err);
    static const char note[] = "a note\n";
    snprintf(path, sizeof path, "%s:note", dir);
    put(t, path, note, sizeof note - 1);
    s = list_streams(t, dir, true, &n);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].name, "note");
    assert_true(s[0].size == sizeof note - 1);
    smb_streams_free(s, n);
    expect_content(t, path, note, sizeof note - 1);

    /* A name beyond ASCII comes back as the same UTF-8. */
    char uni[128];
    snprintf(uni, sizeof uni, "%s\\uni.txt", top);
    put(t, uni, "x", 1);
    snprintf(path, sizeof path, "%s:caf\xc3\xa9 \xe2\x98\x95", uni);
    put(t, path, "y", 1);
    s = list_streams(t, uni, false, &n);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].name, "caf\xc3\xa9 \xe2\x98\x95");
    smb_streams_free(s, n);

    /* Without streams: an empty list, NULL. */
    char plain[128];
    snprintf(plain, sizeof plain, "%s\\plain.txt", top);
    put(t, plain, "plain", 5);
    s = list_streams(t, plain, false, &n);
    assert_int_equal(n, 0);
    assert_null(s);

    IT_OK(smb_unlink(t, file, &err), err);
    IT_OK(smb_unlink(t, uni, &err), err);
    IT_OK(smb_unlink(t, plain, &err), err);
    IT_OK(smb_rmdir(t, dir, &err), err);
    IT_OK(smb_rmdir(t, top, &err), err);
    it_close(&c);
}

/* A 3 MiB stream on streams_depot, written and read back exactly and
 * listed with its size; and a list larger than the first 64 KiB buffer
 * (160 streams with 200-character names), which takes the second query. */
static void test_streams_depot(void **state)
{
    (void)state;
    it_client c;
    smb_tree *t = share_tree(&c, "SMBCOPY_TEST_FIDELITY_DEPOT_SHARE");
    smb_error err = {0};
    char top[64], file[128], path[512];
    run_dir(t, top, sizeof top);
    snprintf(file, sizeof file, "%s\\big.bin", top);
    put(t, file, "main", 4);
    const size_t big_len = 3u << 20;
    uint8_t *big = pattern(big_len, 3);
    snprintf(path, sizeof path, "%s:blob", file);
    put(t, path, big, big_len);
    size_t n = 0;
    smb_stream_info *s = list_streams(t, file, false, &n);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].name, "blob");
    assert_true(s[0].size == big_len);
    assert_true(s[0].allocation_size >= big_len);
    smb_streams_free(s, n);
    expect_content(t, path, big, big_len);
    expect_content(t, file, "main", 4);
    free(big);

    /* Each entry: 24 bytes, then ":NAME:$DATA" in UTF-16, padded to 8. */
    enum { MANY = 160, NAME_LEN = 200 };
    size_t list_bytes = 0;
    char many[128];
    snprintf(many, sizeof many, "%s\\many.txt", top);
    put(t, many, NULL, 0);
    for (int i = 0; i < MANY; i++) {
        char name[NAME_LEN + 1];
        memset(name, 'a' + i % 26, NAME_LEN);
        name[NAME_LEN] = '\0';
        snprintf(name, sizeof name, "%03d", i);
        name[3] = '-'; /* "007-aaa...": the number, then the letters up to NAME_LEN */
        snprintf(path, sizeof path, "%s:%s", many, name);
        put(t, path, name, (size_t)i);
        list_bytes += (24 + 2 * (NAME_LEN + 7) + 7) / 8 * 8;
    }
    assert_true(list_bytes > 64 * 1024); /* the first buffer cannot hold it */
    s = list_streams(t, many, false, &n);
    assert_int_equal(n, MANY);
    for (int i = 0; i < MANY; i++) {
        char name[NAME_LEN + 1];
        memset(name, 'a' + i % 26, NAME_LEN);
        name[NAME_LEN] = '\0';
        snprintf(name, sizeof name, "%03d", i);
        name[3] = '-'; /* "007-aaa...": the number, then the letters up to NAME_LEN */
        assert_true(find_stream(s, n, name)->size == (uint64_t)i);
    }
    smb_streams_free(s, n);

    IT_OK(smb_unlink(t, file, &err), err);
    IT_OK(smb_unlink(t, many, &err), err);
    IT_OK(smb_rmdir(t, top, &err), err);
    it_close(&c);
}

/* On a share without a streams module Samba lists the main stream only (an
 * empty list) and refuses a stream's name (SMB_ERR_BAD_NAME). */
static void test_no_streams_module(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, MAIN);
    smb_error err = {0};
    put(c.tree, TOP "\\nostreams.txt", "data", 4);
    size_t n = 99;
    smb_stream_info *s = list_streams(c.tree, TOP "\\nostreams.txt", false, &n);
    assert_int_equal(n, 0);
    assert_null(s);
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_WRITE_DATA;
    p.disposition = SMB_FILE_CREATE;
    assert_null(smb_create(c.tree, TOP "\\nostreams.txt:s", &p, NULL, NULL, &err));
    assert_int_equal(err.code, SMB_ERR_BAD_NAME);
    /* Arguments the call cannot use. */
    smb_open *op = smb_create(c.tree, TOP "\\nostreams.txt", NULL, NULL, NULL, &err);
    assert_non_null(op);
    assert_int_equal(smb_get_streams(op, NULL, &n, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(smb_get_streams(NULL, &s, &n, &err), SMB_ERR_INVALID_ARG);
    IT_OK(smb_close(op, NULL, &err), err);
    it_close(&c);
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
        cmocka_unit_test(test_security_roundtrip),
        cmocka_unit_test(test_streams_xattr),
        cmocka_unit_test(test_streams_depot),
        cmocka_unit_test(test_no_streams_module),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}

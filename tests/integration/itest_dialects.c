/*
 * Each dialect from 2.0.2 to 3.1.1 against a Samba server pinned to it:
 * negotiate, authenticate, write and read files at credit boundaries, and
 * cross-check every byte with the share on disk and with smbclient.
 */
#include "itest_smb.h"

static const uint64_t sizes[] = {0, 1, 65535, 65536, 65537, 1048576 + 3};

static const char *smbclient_protocol(const char *instance)
{
    if (!strcmp(instance, "2_0_2"))
        return "SMB2_02";
    if (!strcmp(instance, "2_1"))
        return "SMB2_10";
    if (!strcmp(instance, "3_0"))
        return "SMB3_00";
    if (!strcmp(instance, "3_0_2"))
        return "SMB3_02";
    return "SMB3_11";
}

static uint16_t expected_dialect(const char *instance)
{
    char name[16];
    snprintf(name, sizeof name, "%s", instance);
    for (char *p = name; *p; p++)
        if (*p == '_')
            *p = '.';
    return smb_dialect_parse(name);
}

/* Write `size` pattern bytes to rel through the library. */
static void lib_write(it_client *c, const char *rel, uint64_t size, uint64_t seed)
{
    smb_error err = {0};
    uint8_t *buf = malloc(size ? size : 1);
    itest_pattern_fill(buf, size, seed, 0);
    smb_open *f = smb_open_file(c->tree, rel, SMB_O_WRONLY | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    if (!f)
        fail_msg("open %s for writing: %s", rel, err.message);
    IT_OK(smb_pwrite(f, buf, size, 0, 4, &err), err);
    smb_file_info info;
    IT_OK(smb_close(f, &info, &err), err);
    assert_int_equal(info.end_of_file, size);
    free(buf);
}

/* Read rel through the library and compare with the pattern. */
static void lib_read_check(it_client *c, const char *rel, uint64_t size, uint64_t seed)
{
    smb_error err = {0};
    smb_file_info info;
    smb_open *f = smb_open_file(c->tree, rel, SMB_O_RDONLY, &info, &err);
    if (!f)
        fail_msg("open %s for reading: %s", rel, err.message);
    assert_int_equal(info.end_of_file, size);
    /* Ask for more than there is: the read must stop at end of file. */
    size_t cap = size + 70000;
    uint8_t *got = malloc(cap), *want = malloc(size ? size : 1);
    itest_pattern_fill(want, size, seed, 0);
    size_t n = 0;
    IT_OK(smb_pread(f, got, cap, 0, 4, &n, &err), err);
    assert_int_equal(n, size);
    assert_memory_equal(got, want, size);
    IT_OK(smb_close(f, NULL, &err), err);
    free(got);
    free(want);
}

static void test_dialect(void **state)
{
    const char *instance = *state;
    const itest_env *env = itest_require_env();
    char dir[64];
    snprintf(dir, sizeof dir, "dialect-%s", instance);
    it_fresh_dir(instance, dir);

    it_client c;
    it_connect(&c, instance);
    smb_conn_info ci;
    smb_conn_get_info(c.conn, &ci);
    assert_int_equal(ci.dialect, expected_dialect(instance));
    smb_session_info si;
    smb_session_get_info(c.sess, &si);
    assert_false(si.guest);
    assert_false(si.anonymous);
    assert_string_equal(si.mech, "NTLM");
    if (ci.dialect == SMB_DIALECT_2_0_2)
        assert_int_equal(ci.max_read_size, 65536);

    char tmpl[] = "/tmp/itest-dialect-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t size = sizes[i];
        char rel[128], disk[PATH_MAX], local[PATH_MAX + 64], cmd[2 * PATH_MAX + 256];
        /* Library writes; the disk and smbclient see the same bytes. */
        snprintf(rel, sizeof rel, "%s/lib-%zu.bin", dir, i);
        lib_write(&c, rel, size, 100 + i);
        assert_int_equal(itest_check_file_pattern(it_disk_path(instance, rel, disk, sizeof disk), size, 100 + i), 0);
        snprintf(local, sizeof local, "%s/get-%zu.bin", tmpl, i);
        snprintf(cmd, sizeof cmd, "get %s/lib-%zu.bin %s", dir, i, local);
        const char *args[] = {"-m", smbclient_protocol(instance), NULL};
        assert_int_equal(itest_smbclient_args(env, itest_port(env, instance), env->share, cmd, args), 0);
        assert_int_equal(itest_check_file_pattern(local, size, 100 + i), 0);
        /* smbclient writes; the library reads the same bytes. */
        snprintf(local, sizeof local, "%s/put-%zu.bin", tmpl, i);
        assert_int_equal(itest_write_file(local, size, 200 + i), 0);
        snprintf(cmd, sizeof cmd, "put %s %s/put-%zu.bin", local, dir, i);
        assert_int_equal(itest_smbclient_args(env, itest_port(env, instance), env->share, cmd, args), 0);
        snprintf(rel, sizeof rel, "%s/put-%zu.bin", dir, i);
        lib_read_check(&c, rel, size, 200 + i);
        /* And the library reads back what it wrote. */
        snprintf(rel, sizeof rel, "%s/lib-%zu.bin", dir, i);
        lib_read_check(&c, rel, size, 100 + i);
    }
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
    assert_int_equal(system(cmd), 0);
    it_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_dialect, "2_0_2"), cmocka_unit_test_prestate(test_dialect, "2_1"),
        cmocka_unit_test_prestate(test_dialect, "3_0"),   cmocka_unit_test_prestate(test_dialect, "3_0_2"),
        cmocka_unit_test_prestate(test_dialect, "3_1_1"),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * SMB3 encryption against real Samba: every cipher on a server that
 * requires encryption, AES-128-CCM on 3.0, a share that alone requires it,
 * the user's policies (required, off), and smbclient reading what was
 * written encrypted.
 */
#include "itest_smb.h"

static const uint16_t ciphers[] = {SMB_CIPHER_AES_128_CCM, SMB_CIPHER_AES_128_GCM, SMB_CIPHER_AES_256_CCM,
                                   SMB_CIPHER_AES_256_GCM};

/* Write then read back files of several sizes (one past 4 GiB) on t, compare on disk. */
static void roundtrip(smb_tree *t, const char *disk_dir, const char *tag)
{
    smb_error err = {0};
    static const struct {
        uint64_t off;
        size_t len;
    } cases[] = {{0, 1}, {0, 65537}, {0, 5u << 20}, {(4ull << 30) + 77, 100000}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char rel[64], disk[PATH_MAX];
        snprintf(rel, sizeof rel, "enc-%s-%zu.bin", tag, i);
        size_t len = cases[i].len;
        uint8_t *buf = malloc(len), *back = malloc(len);
        itest_pattern_fill(buf, len, 3000 + i, cases[i].off);
        smb_open *f = smb_open_file(t, rel, SMB_O_RDWR | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
        if (!f)
            fail_msg("%s: open %s: %s", tag, rel, err.message);
        IT_OK(smb_pwrite(f, buf, len, cases[i].off, 4, &err), err);
        size_t n = 0;
        IT_OK(smb_pread(f, back, len, cases[i].off, 4, &n, &err), err);
        assert_int_equal(n, len);
        assert_memory_equal(buf, back, len);
        IT_OK(smb_close(f, NULL, &err), err);
        snprintf(disk, sizeof disk, "%s/%s", disk_dir, rel);
        int fd = open(disk, O_RDONLY);
        assert_true(fd >= 0);
        assert_int_equal(pread(fd, back, len, (off_t)cases[i].off), (ssize_t)len);
        close(fd);
        assert_memory_equal(buf, back, len);
        unlink(disk);
        free(buf);
        free(back);
    }
}

static void test_each_cipher_on_encrypting_server(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
        smb_conn_opts o;
        smb_conn_opts_init(&o);
        o.cipher = ciphers[i];
        it_client c;
        it_connect_opts(&c, "encrypt", &o);
        smb_conn_info ci;
        smb_conn_get_info(c.conn, &ci);
        assert_int_equal(ci.dialect, SMB_DIALECT_3_1_1);
        assert_int_equal(ci.cipher, ciphers[i]);
        smb_session_info si;
        smb_session_get_info(c.sess, &si);
        assert_true(si.encryption);
        char tag[16];
        snprintf(tag, sizeof tag, "c%u", ciphers[i]);
        roundtrip(c.tree, itest_share_dir(env, "encrypt"), tag);
        /* smbclient (encrypting) reads back what was written encrypted. */
        char rel[32], disk[PATH_MAX], cmd[PATH_MAX + 64];
        snprintf(rel, sizeof rel, "enc-x-%u.bin", ciphers[i]);
        uint8_t *buf = malloc(300000);
        itest_pattern_fill(buf, 300000, 4000 + i, 0);
        smb_error err = {0};
        smb_open *f = smb_open_file(c.tree, rel, SMB_O_WRONLY | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
        assert_non_null(f);
        IT_OK(smb_pwrite(f, buf, 300000, 0, 2, &err), err);
        IT_OK(smb_close(f, NULL, &err), err);
        snprintf(disk, sizeof disk, "/tmp/itest-enc-%u.bin", ciphers[i]);
        snprintf(cmd, sizeof cmd, "get %s %s", rel, disk);
        const char *args[] = {"--client-protection=encrypt", NULL};
        assert_int_equal(itest_smbclient_args(env, itest_port(env, "encrypt"), env->share, cmd, args), 0);
        assert_int_equal(itest_compare_file(disk, buf, 300000), 0);
        unlink(disk);
        free(buf);
        it_close(&c);
    }
}

static void test_ccm_on_smb30(void **state)
{
    (void)state;
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    o.min_dialect = o.max_dialect = SMB_DIALECT_3_0;
    it_client c;
    it_connect_opts(&c, "encrypt", &o);
    smb_conn_info ci;
    smb_conn_get_info(c.conn, &ci);
    assert_int_equal(ci.dialect, SMB_DIALECT_3_0);
    assert_int_equal(ci.cipher, SMB_CIPHER_AES_128_CCM);
    roundtrip(c.tree, itest_share_dir(itest_require_env(), "encrypt"), "smb30");
    it_close(&c);
}

static void test_share_requires_encryption(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    it_client c;
    it_connect(&c, "main");
    smb_session_info si;
    smb_session_get_info(c.sess, &si);
    assert_false(si.encryption);
    smb_error err = {0};
    smb_tree *t = smb_tree_connect(c.sess, "secret", &err);
    if (!t)
        fail_msg("connect the encrypted share: %s", err.message);
    smb_tree_info ti;
    smb_tree_get_info(t, &ti);
    assert_true(ti.share_flags & 0x8000);
    roundtrip(t, itest_env_value(env, "SMBCOPY_TEST_SECRET_SHARE_DIR"), "share");
    /* The clear share on the same session stays usable. */
    IT_OK(smb_stat(c.tree, "", NULL, &err), err);
    it_close(&c);
    /* Every cipher on the encrypted share. */
    for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
        smb_conn_opts o;
        smb_conn_opts_init(&o);
        o.cipher = ciphers[i];
        it_connect_opts(&c, "main", &o);
        t = smb_tree_connect(c.sess, "secret", &err);
        if (!t)
            fail_msg("cipher %u: connect the encrypted share: %s", ciphers[i], err.message);
        smb_conn_info ci;
        smb_conn_get_info(c.conn, &ci);
        assert_int_equal(ci.cipher, ciphers[i]);
        char tag[16];
        snprintf(tag, sizeof tag, "share-c%u", ciphers[i]);
        roundtrip(t, itest_env_value(env, "SMBCOPY_TEST_SECRET_SHARE_DIR"), tag);
        it_close(&c);
    }
}

static void test_encryption_turned_off(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    o.encryption = SMB_POLICY_OFF;
    smb_error err = {0};
    /* A share that requires it: an explicit message, not a bare access denied. */
    smb_conn *c = smb_conn_connect(env->host, (uint16_t)env->port, &o, &err);
    assert_non_null(c);
    smb_creds cr = {.username = env->user, .password = env->password, .domain = env->domain};
    smb_session *s = smb_session_setup(c, &cr, &err);
    assert_non_null(s);
    smb_tree *t = smb_tree_connect(s, "secret", &err);
    assert_null(t);
    assert_int_equal(err.code, SMB_ERR_ENCRYPTION);
    assert_non_null(strstr(err.message, "requires encryption"));
    assert_non_null(strstr(err.message, "turned off"));
    smb_conn_close(c);
    /* A server that requires it for every session. */
    c = smb_conn_connect(env->host, (uint16_t)itest_port(env, "encrypt"), &o, &err);
    if (c) {
        s = smb_session_setup(c, &cr, &err);
        assert_null(s);
        smb_conn_close(c);
    }
    assert_int_equal(err.code, SMB_ERR_ENCRYPTION);
    assert_non_null(strstr(err.message, "encryption"));
}

static void test_encryption_required_but_impossible(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    o.encryption = SMB_POLICY_REQUIRED;
    o.max_dialect = SMB_DIALECT_2_1;
    smb_error err = {0};
    smb_conn *c = smb_conn_connect(env->host, (uint16_t)env->port, &o, &err);
    assert_null(c);
    assert_int_equal(err.code, SMB_ERR_ENCRYPTION);
    assert_non_null(strstr(err.message, "without encryption"));
}

static void test_encryption_required_by_client(void **state)
{
    (void)state;
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    o.encryption = SMB_POLICY_REQUIRED;
    it_client c;
    it_connect_opts(&c, "main", &o);
    smb_session_info si;
    smb_session_get_info(c.sess, &si);
    assert_true(si.encryption);
    roundtrip(c.tree, itest_share_dir(itest_require_env(), "main"), "client");
    it_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_cipher_on_encrypting_server),
        cmocka_unit_test(test_ccm_on_smb30),
        cmocka_unit_test(test_share_requires_encryption),
        cmocka_unit_test(test_encryption_turned_off),
        cmocka_unit_test(test_encryption_required_but_impossible),
        cmocka_unit_test(test_encryption_required_by_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Negotiation and authentication against real Samba servers: dialect
 * pinning, SMB1-only servers, user name forms, wrong passwords, guest and
 * anonymous sessions, signing with each algorithm, missing shares.
 */
#include "itest_smb.h"

/* Connect to instance with opts; returns the connection or NULL with err. */
static smb_conn *connect_to(const char *instance, const smb_conn_opts *opts, smb_error *err)
{
    const itest_env *env = itest_require_env();
    int port = itest_port(env, instance);
    if (port < 0)
        fail_msg("fixture has no instance '%s'", instance);
    return smb_conn_connect(env->host, (uint16_t)port, opts, err);
}

static void test_dialect_pinning(void **state)
{
    (void)state;
    static const struct {
        uint16_t min, max, want;
    } cases[] = {
        {SMB_DIALECT_2_0_2, SMB_DIALECT_2_0_2, SMB_DIALECT_2_0_2}, {SMB_DIALECT_2_0_2, SMB_DIALECT_2_1, SMB_DIALECT_2_1},
        {SMB_DIALECT_2_0_2, SMB_DIALECT_3_0, SMB_DIALECT_3_0},     {SMB_DIALECT_3_0, SMB_DIALECT_3_0_2, SMB_DIALECT_3_0_2},
        {SMB_DIALECT_2_0_2, SMB_DIALECT_3_1_1, SMB_DIALECT_3_1_1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        smb_conn_opts o;
        smb_conn_opts_init(&o);
        o.min_dialect = cases[i].min;
        o.max_dialect = cases[i].max;
        smb_error err = {0};
        smb_conn *c = connect_to("main", &o, &err);
        if (!c)
            fail_msg("connect with %s..%s: %s", smb_dialect_name(o.min_dialect), smb_dialect_name(o.max_dialect),
                     err.message);
        smb_conn_info ci;
        smb_conn_get_info(c, &ci);
        assert_int_equal(ci.dialect, cases[i].want);
        assert_int_equal(smb_conn_echo(c, &err), 0);
        smb_conn_close(c);
    }
    /* No common dialect: a 3.1.1-only client against a 2.1-only server. */
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    o.min_dialect = SMB_DIALECT_3_1_1;
    smb_error err = {0};
    smb_conn *c = connect_to("2_1", &o, &err);
    assert_null(c);
    assert_true(err.code == SMB_ERR_NEGOTIATE || err.code == SMB_ERR_DISCONNECTED || err.code == SMB_ERR_SERVER ||
                err.code == SMB_ERR_UNSUPPORTED);
    assert_true(strlen(err.message) > 10);
}

static void test_smb1_only_server(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    if (itest_port(env, "smb1") < 0) {
        const char *ci = getenv("CI");
        if (ci && !strcmp(ci, "true"))
            fail_msg("the fixture could not start an SMB1-only server");
        skip();
    }
    smb_error err = {0};
    smb_conn *c = connect_to("smb1", NULL, &err);
    assert_null(c);
    assert_int_equal(err.code, SMB_ERR_SMB1_ONLY);
    assert_string_equal(err.message,
                        "server supports only SMB1, which smbcopy does not speak; enable SMB2/3 on the server");
}

/* Log on with a user name in some form; return the session or NULL. */
static smb_session *logon(smb_conn *c, const char *user, const char *password, const char *domain, bool guest,
                          smb_error *err)
{
    smb_creds cr = {.username = user, .password = password, .domain = domain, .guest = guest};
    return smb_session_setup(c, &cr, err);
}

static void test_user_name_forms(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    char forms[3][256];
    snprintf(forms[0], sizeof forms[0], "%s", env->user);
    snprintf(forms[1], sizeof forms[1], "%s\\%s", env->domain, env->user);
    snprintf(forms[2], sizeof forms[2], "%s@%s", env->user, env->domain);
    for (int i = 0; i < 3; i++) {
        smb_error err = {0};
        smb_conn *c = connect_to("main", NULL, &err);
        assert_non_null(c);
        smb_session *s = logon(c, forms[i], env->password, NULL, false, &err);
        if (!s)
            fail_msg("logon as '%s': %s", forms[i], err.message);
        smb_session_info si;
        smb_session_get_info(s, &si);
        assert_false(si.guest);
        smb_tree *t = smb_tree_connect(s, env->share, &err);
        if (!t)
            fail_msg("tree connect as '%s': %s", forms[i], err.message);
        IT_OK(smb_session_logoff(s, &err), err);
        smb_conn_close(c);
    }
}

static void test_wrong_password(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    smb_error err = {0};
    smb_conn *c = connect_to("main", NULL, &err);
    assert_non_null(c);
    smb_session *s = logon(c, env->user, "definitely-not-the-password", env->domain, false, &err);
    assert_null(s);
    assert_int_equal(err.code, SMB_ERR_AUTH);
    assert_int_equal(err.ntstatus, 0xC000006Du); /* STATUS_LOGON_FAILURE */
    assert_non_null(strstr(err.message, "STATUS_LOGON_FAILURE"));
    assert_non_null(strstr(err.message, "DOMAIN\\user"));
    assert_null(strstr(err.message, "definitely-not-the-password"));
    /* The connection is still usable after a failed logon. */
    s = logon(c, env->user, env->password, env->domain, false, &err);
    if (!s)
        fail_msg("logon after a failed one: %s", err.message);
    smb_conn_close(c);
}

static void test_guest_session(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    smb_error err = {0};
    smb_conn *c = connect_to("main", NULL, &err);
    assert_non_null(c);
    smb_session *s = logon(c, "nosuchuser", "", NULL, true, &err);
    if (!s)
        fail_msg("guest logon: %s", err.message);
    smb_session_info si;
    smb_session_get_info(s, &si);
    assert_true(si.guest);
    assert_false(si.signing);
    smb_tree *t = smb_tree_connect(s, env->guest_share, &err);
    if (!t)
        fail_msg("guest tree connect: %s", err.message);
    smb_open *d = smb_open_dir(t, "", &err);
    if (!d)
        fail_msg("guest open root: %s", err.message);
    smb_dir *l = smb_dir_start(d, NULL, &err);
    smb_dirent ent;
    assert_true(smb_dir_next(l, &ent, &err) >= 0);
    smb_dir_finish(l);
    smb_conn_close(c); /* closes the open, the tree and the session */
}

static void test_anonymous_session(void **state)
{
    (void)state;
    smb_error err = {0};
    smb_conn *c = connect_to("main", NULL, &err);
    assert_non_null(c);
    smb_session *s = smb_session_setup(c, NULL, &err);
    if (!s)
        fail_msg("anonymous logon: %s", err.message);
    smb_session_info si;
    smb_session_get_info(s, &si);
    assert_true(si.anonymous || si.guest);
    assert_false(si.signing);
    /* IPC$ is open to anonymous sessions. */
    smb_tree *t = smb_tree_connect(s, "IPC$", &err);
    if (!t)
        fail_msg("anonymous IPC$: %s", err.message);
    smb_tree_info ti;
    smb_tree_get_info(t, &ti);
    assert_int_equal(ti.share_type, SMB_SHARE_PIPE);
    smb_conn_close(c);
}

static void test_missing_share(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    smb_tree *t = smb_tree_connect(c.sess, "no-such-share", &err);
    assert_null(t);
    assert_int_equal(err.code, SMB_ERR_BAD_SHARE);
    assert_non_null(strstr(err.message, "no-such-share"));
    it_close(&c);
}

/* Write and read back a file on a signed session; check the algorithm. */
static void signed_roundtrip(const char *instance, const smb_conn_opts *o, uint16_t want_alg)
{
    it_client c;
    it_connect_opts(&c, instance, o);
    smb_conn_info ci;
    smb_conn_get_info(c.conn, &ci);
    smb_session_info si;
    smb_session_get_info(c.sess, &si);
    assert_true(si.signing);
    assert_int_equal(ci.signing_alg, want_alg);
    char rel[64];
    snprintf(rel, sizeof rel, "signed-%s-%u.bin", instance, ci.dialect);
    size_t size = 3 * 65536 + 17;
    uint8_t *buf = malloc(size), *back = malloc(size);
    itest_pattern_fill(buf, size, 77, 0);
    smb_error err = {0};
    smb_open *f = smb_open_file(c.tree, rel, SMB_O_RDWR | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    if (!f)
        fail_msg("open: %s", err.message);
    IT_OK(smb_pwrite(f, buf, size, 0, 4, &err), err);
    size_t n = 0;
    IT_OK(smb_pread(f, back, size, 0, 4, &n, &err), err);
    assert_int_equal(n, size);
    assert_memory_equal(buf, back, size);
    smb_file_info fi;
    IT_OK(smb_query_file_info(f, &fi, &err), err);
    assert_int_equal(fi.end_of_file, size);
    IT_OK(smb_close(f, NULL, &err), err);
    IT_OK(smb_unlink(c.tree, rel, &err), err);
    free(buf);
    free(back);
    it_close(&c);
}

static void test_signing_required_by_server(void **state)
{
    (void)state;
    signed_roundtrip("signreq", NULL, SMB_SIGN_AES_GMAC);
}

static void test_signing_each_algorithm(void **state)
{
    (void)state;
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    o.signing = SMB_POLICY_REQUIRED;
    /* 2.x: HMAC-SHA256; 3.0 and 3.0.2: AES-CMAC (with secure dialect
     * validation); 3.1.1: AES-GMAC as negotiated. */
    signed_roundtrip("2_0_2", &o, SMB_SIGN_HMAC_SHA256);
    signed_roundtrip("2_1", &o, SMB_SIGN_HMAC_SHA256);
    signed_roundtrip("3_0", &o, SMB_SIGN_AES_CMAC);
    signed_roundtrip("3_0_2", &o, SMB_SIGN_AES_CMAC);
    signed_roundtrip("3_1_1", &o, SMB_SIGN_AES_GMAC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dialect_pinning),
        cmocka_unit_test(test_smb1_only_server),
        cmocka_unit_test(test_user_name_forms),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_guest_session),
        cmocka_unit_test(test_anonymous_session),
        cmocka_unit_test(test_missing_share),
        cmocka_unit_test(test_signing_required_by_server),
        cmocka_unit_test(test_signing_each_algorithm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

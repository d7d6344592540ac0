/*
 * Kerberos against a real Samba AD DC (started by kerberos.sh, which runs
 * this program inside the DC's network namespace with KRB5_CONFIG set):
 * logons with a password, a keytab and a ticket cache; wrong passwords and
 * missing tickets; NTLM for the same account; a server reached by an alias;
 * Kerberos keys driving SMB3 encryption.
 */
#include "itest.h"

#include <smbcopy/smb.h>

static itest_env krb_env;

static const char *v(const char *key) { return itest_env_need(&krb_env, "Kerberos", key); }

static int load(void **state)
{
    (void)state;
    return itest_env_from_var(&krb_env, "SMBCOPY_KRB_ENV", "itest_krb", "tests/integration/kerberos.sh");
}

typedef struct logon {
    const char *host;        /* server to connect to */
    const char *user;
    const char *password;    /* NULL: none */
    const char *domain;
    int mech;
    const char *target_host; /* principal host, NULL: host */
    int encryption;
} logon;

/* Connect and log on; returns the connection (session in *sess) or NULL with err. */
static smb_conn *try_logon(const logon *l, smb_session **sess, smb_error *err)
{
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    o.encryption = l->encryption;
    smb_conn *c = smb_conn_connect(l->host, 445, &o, err);
    if (!c)
        return NULL;
    smb_creds cr = {.username = l->user, .password = l->password, .domain = l->domain, .mech = l->mech,
                    .target_host = l->target_host};
    *sess = smb_session_setup(c, &cr, err);
    if (!*sess) {
        smb_conn_close(c);
        return NULL;
    }
    return c;
}

/* Log on, write and read a file on the share, compare on disk. */
static void logon_and_copy(const logon *l, const char *want_mech, const char *tag)
{
    smb_error err = {0};
    smb_session *s = NULL;
    smb_conn *c = try_logon(l, &s, &err);
    if (!c)
        fail_msg("%s: logon: %s", tag, err.message);
    smb_session_info si;
    smb_session_get_info(s, &si);
    assert_string_equal(si.mech, want_mech);
    assert_true(si.signing || si.encryption);
    smb_tree *t = smb_tree_connect(s, v("SMBCOPY_KRB_SHARE"), &err);
    if (!t)
        fail_msg("%s: tree connect: %s", tag, err.message);
    char rel[64], disk[PATH_MAX];
    snprintf(rel, sizeof rel, "krb-%s.bin", tag);
    size_t len = 700000;
    uint8_t *buf = malloc(len), *back = malloc(len);
    itest_pattern_fill(buf, len, 77, 0);
    smb_open *f = smb_open_file(t, rel, SMB_O_RDWR | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    if (!f)
        fail_msg("%s: open: %s", tag, err.message);
    assert_int_equal(smb_pwrite(f, buf, len, 0, 4, &err), 0);
    size_t n = 0;
    assert_int_equal(smb_pread(f, back, len, 0, 4, &n, &err), 0);
    assert_int_equal(n, len);
    assert_memory_equal(buf, back, len);
    assert_int_equal(smb_close(f, NULL, &err), 0);
    snprintf(disk, sizeof disk, "%s/%s", v("SMBCOPY_KRB_SHARE_DIR"), rel);
    assert_int_equal(itest_compare_file(disk, buf, len), 0);
    free(buf);
    free(back);
    smb_conn_close(c);
}

static void test_password(void **state)
{
    (void)state;
    setenv("KRB5CCNAME", "MEMORY:itest-password", 1);
    unsetenv("KRB5_CLIENT_KTNAME");
    logon l = {v("SMBCOPY_KRB_HOST"), v("SMBCOPY_KRB_USER"), v("SMBCOPY_KRB_PASSWORD"), v("SMBCOPY_KRB_REALM"),
               SMB_AUTH_KERBEROS, NULL, SMB_POLICY_AUTO};
    logon_and_copy(&l, "Kerberos", "password");
    /* With the policy automatic, a realm password prefers Kerberos too. */
    l.mech = SMB_AUTH_AUTO;
    logon_and_copy(&l, "Kerberos", "auto");
}

/*
 * A second channel bound to a Kerberos session (a new AP-REQ on the new
 * connection, the channel's signing key from its session key): 64 MiB
 * written and read back over both channels, compared on disk.
 */
static void test_kerberos_channel(void **state)
{
    (void)state;
    setenv("KRB5CCNAME", "MEMORY:itest-channel", 1);
    unsetenv("KRB5_CLIENT_KTNAME");
    logon l = {v("SMBCOPY_KRB_HOST"), v("SMBCOPY_KRB_USER"), v("SMBCOPY_KRB_PASSWORD"), v("SMBCOPY_KRB_REALM"),
               SMB_AUTH_KERBEROS, NULL, SMB_POLICY_AUTO};
    smb_error err = {0};
    smb_session *s = NULL;
    smb_conn *c = try_logon(&l, &s, &err);
    if (!c)
        fail_msg("logon: %s", err.message);
    smb_tree *t = smb_tree_connect(s, v("SMBCOPY_KRB_SHARE"), &err);
    if (!t)
        fail_msg("tree connect: %s", err.message);
    smb_conn_opts o;
    smb_session_channel_opts(s, &o);
    smb_conn *c2 = smb_conn_connect(v("SMBCOPY_KRB_HOST"), 445, &o, &err);
    if (!c2)
        fail_msg("connect a channel: %s", err.message);
    smb_creds cr = {.username = l.user, .password = l.password, .domain = l.domain, .mech = SMB_AUTH_KERBEROS};
    if (smb_session_bind(s, c2, &cr, &err) != 0)
        fail_msg("bind a Kerberos channel: %s", err.message);
    const size_t len = 64u << 20;
    uint8_t *buf = malloc(len), *back = malloc(len);
    assert_non_null(buf);
    assert_non_null(back);
    itest_pattern_fill(buf, len, 5, 0);
    smb_open *f = smb_open_file(t, "krb-channels.bin", SMB_O_RDWR | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    if (!f)
        fail_msg("open: %s", err.message);
    assert_int_equal(smb_pwrite(f, buf, len, 0, 16, &err), 0);
    size_t n = 0;
    assert_int_equal(smb_pread(f, back, len, 0, 16, &n, &err), 0);
    assert_int_equal(n, len);
    assert_memory_equal(buf, back, len);
    assert_int_equal(smb_close(f, NULL, &err), 0);
    smb_channel_info ch[2];
    assert_int_equal(smb_session_channels(s, ch, 2), 2);
    for (int k = 0; k < 2; k++) {
        assert_true(ch[k].alive);
        assert_true(ch[k].stats.bytes_sent > len / 8);
        assert_true(ch[k].stats.bytes_received > len / 8);
    }
    char disk[PATH_MAX];
    snprintf(disk, sizeof disk, "%s/krb-channels.bin", v("SMBCOPY_KRB_SHARE_DIR"));
    assert_int_equal(itest_compare_file(disk, buf, len), 0);
    free(buf);
    free(back);
    smb_conn_close(c);
}

static void test_keytab(void **state)
{
    (void)state;
    setenv("KRB5CCNAME", "MEMORY:itest-keytab", 1);
    setenv("KRB5_CLIENT_KTNAME", v("SMBCOPY_KRB_KEYTAB"), 1);
    logon l = {v("SMBCOPY_KRB_HOST"), v("SMBCOPY_KRB_USER"), NULL, NULL, SMB_AUTH_KERBEROS, NULL, SMB_POLICY_AUTO};
    logon_and_copy(&l, "Kerberos", "keytab");
    unsetenv("KRB5_CLIENT_KTNAME");
}

static void test_ticket_cache(void **state)
{
    (void)state;
    const char *cc = getenv("SMBCOPY_KRB_CCACHE"); /* filled by kinit in kerberos.sh */
    if (!cc)
        fail_msg("kerberos.sh gives a ticket cache in SMBCOPY_KRB_CCACHE");
    setenv("KRB5CCNAME", cc, 1);
    unsetenv("KRB5_CLIENT_KTNAME");
    logon l = {v("SMBCOPY_KRB_HOST"), v("SMBCOPY_KRB_USER"), NULL, NULL, SMB_AUTH_AUTO, NULL, SMB_POLICY_AUTO};
    logon_and_copy(&l, "Kerberos", "ccache");
    /* Kerberos keys drive encryption exactly as NTLM's. */
    l.encryption = SMB_POLICY_REQUIRED;
    logon_and_copy(&l, "Kerberos", "ccache-encrypted");
}

static void test_failures(void **state)
{
    (void)state;
    smb_error err = {0};
    smb_session *s = NULL;
    /* A wrong password. */
    setenv("KRB5CCNAME", "MEMORY:itest-wrong", 1);
    logon l = {v("SMBCOPY_KRB_HOST"), v("SMBCOPY_KRB_USER"), "not-the-password", v("SMBCOPY_KRB_REALM"),
               SMB_AUTH_KERBEROS, NULL, SMB_POLICY_AUTO};
    assert_null(try_logon(&l, &s, &err));
    assert_int_equal(err.code, SMB_ERR_AUTH);
    assert_non_null(strstr(err.message, "Kerberos"));
    assert_null(strstr(err.message, "not-the-password"));
    /* No ticket, no keytab, no password, Kerberos required. */
    setenv("KRB5CCNAME", "FILE:/nonexistent/itest-ccache", 1);
    unsetenv("KRB5_CLIENT_KTNAME");
    l.password = NULL;
    assert_null(try_logon(&l, &s, &err));
    assert_int_equal(err.code, SMB_ERR_AUTH);
    assert_non_null(strstr(err.message, "kinit"));
    /* A server reached by an alias the domain does not know... */
    l.host = v("SMBCOPY_KRB_ALIAS");
    l.password = v("SMBCOPY_KRB_PASSWORD");
    setenv("KRB5CCNAME", "MEMORY:itest-alias", 1);
    assert_null(try_logon(&l, &s, &err));
    assert_int_equal(err.code, SMB_ERR_AUTH);
    assert_non_null(strstr(err.message, "cifs@"));
    /* ...works once the principal's host is named. */
    l.target_host = v("SMBCOPY_KRB_HOST");
    logon_and_copy(&l, "Kerberos", "alias");
}

static void test_ntlm_same_account(void **state)
{
    (void)state;
    setenv("KRB5CCNAME", "FILE:/nonexistent/itest-ccache", 1);
    logon l = {v("SMBCOPY_KRB_HOST"), v("SMBCOPY_KRB_USER"), v("SMBCOPY_KRB_PASSWORD"), v("SMBCOPY_KRB_DOMAIN"),
               SMB_AUTH_NTLM, NULL, SMB_POLICY_AUTO};
    logon_and_copy(&l, "NTLM", "ntlm");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password),      cmocka_unit_test(test_keytab),
        cmocka_unit_test(test_ticket_cache),  cmocka_unit_test(test_failures),
        cmocka_unit_test(test_ntlm_same_account),
        cmocka_unit_test(test_kerberos_channel),
    };
    return cmocka_run_group_tests(tests, load, NULL);
}

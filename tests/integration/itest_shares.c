/*
 * smb_list_shares (NetShareEnumAll over \srvsvc, MS-SRVS 3.1.4.8) against
 * the fixture's Samba: the list equals what `smbclient -L -g` prints for
 * the same server (names, kinds, comments), holds every share the
 * instance's smb.conf defines, and IPC$ is an IPC share flagged special.
 * Instances with other dialects, mandatory signing and encryption list
 * the same way; the session stays usable after a listing.
 */
#include "itest_smb.h"

#include <smbcopy/shares.h>

#define MAX_REF 64

/* One line of `smbclient -L -g`: TYPE|NAME|COMMENT. */
typedef struct ref_share {
    char type[16];
    char name[256];
    char comment[512];
} ref_share;

/* Copy src into dst[cap]; a field that does not fit fails the test. */
static void copy_field(char *dst, size_t cap, const char *src)
{
    size_t len = strlen(src);
    if (len >= cap)
        fail_msg("smbclient printed a field of %zu bytes: '%s'", len, src);
    memcpy(dst, src, len + 1);
}

/* The shares smbclient lists on port, into out; their count. */
static size_t smbclient_list(const itest_env *env, int port, ref_share *out, size_t max)
{
    const char *dir = itest_env_value(env, "SMBCOPY_TEST_FIXTURE_DIR");
    if (!dir || !*dir)
        fail_msg("the fixture's environment names no SMBCOPY_TEST_FIXTURE_DIR");
    char cmd[PATH_MAX + 256];
    /* The fixture's smbclient.auth (mode 0600) keeps the password out of the process list. */
    snprintf(cmd, sizeof cmd, "smbclient -L '//%s' -p %d -A '%s/smbclient.auth' -g 2>/dev/null", env->host, port,
             dir);
    FILE *p = popen(cmd, "r");
    if (!p)
        fail_msg("cannot run smbclient: %s", strerror(errno));
    char line[1024];
    size_t n = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *bar1 = strchr(line, '|');
        char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
        if (!bar2)
            continue; /* "SMB1 disabled -- no workgroup available" and the like */
        *bar1 = *bar2 = '\0';
        if (strcmp(line, "Disk") && strcmp(line, "IPC") && strcmp(line, "Printer") && strcmp(line, "Device"))
            continue; /* servers and workgroups (SMB1 browsing) */
        if (n == max)
            fail_msg("smbclient lists more than %zu shares", max);
        copy_field(out[n].type, sizeof out[n].type, line);
        copy_field(out[n].name, sizeof out[n].name, bar1 + 1);
        copy_field(out[n].comment, sizeof out[n].comment, bar2 + 1);
        n++;
    }
    int status = pclose(p);
    if (status != 0)
        fail_msg("smbclient -L on port %d failed (status %d)", port, status);
    if (n == 0)
        fail_msg("smbclient -L on port %d listed no shares", port);
    return n;
}

/* smbclient's word for a share type (source3/client/client.c browse_fn). */
static const char *smbclient_type(uint32_t type)
{
    switch (type & SMB_STYPE_MASK) {
    case SMB_STYPE_DISKTREE: return "Disk";
    case SMB_STYPE_PRINTQ: return "Printer";
    case SMB_STYPE_DEVICE: return "Device";
    case SMB_STYPE_IPC: return "IPC";
    default: return "?";
    }
}

static const smb_share_info *find_share(const smb_share_info *s, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s[i].name, name) == 0)
            return &s[i];
    return NULL;
}

/* smb_list_shares on c's session: exactly smbclient's list for port. */
static void expect_same_as_smbclient(it_client *c, int port)
{
    const itest_env *env = itest_require_env();
    ref_share ref[MAX_REF];
    size_t nref = smbclient_list(env, port, ref, MAX_REF);
    smb_share_info *s = NULL;
    size_t n = 0;
    smb_error err = {0};
    IT_OK(smb_list_shares(c->sess, &s, &n, &err), err);
    if (n != nref)
        fail_msg("port %d: the library lists %zu shares, smbclient %zu", port, n, nref);
    for (size_t i = 0; i < nref; i++) {
        const smb_share_info *got = find_share(s, n, ref[i].name);
        if (!got)
            fail_msg("port %d: smbclient lists '%s', the library does not", port, ref[i].name);
        assert_string_equal(smbclient_type(got->type), ref[i].type);
        assert_string_equal(got->comment, ref[i].comment);
    }
    smb_shares_free(s, n);
}

static void test_main_matches_smbclient(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    expect_same_as_smbclient(&c, itest_require_env()->port);
    it_close(&c);
}

/* Every [section] of the main instance's smb.conf but [global] is listed as
 * a disk share without flags; IPC$ is there too, an IPC share flagged
 * special, with Samba's comment "IPC Service (<server string>)". */
static void test_every_configured_share(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    char conf[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/main/smb.conf", itest_env_value(env, "SMBCOPY_TEST_FIXTURE_DIR"));
    FILE *f = fopen(conf, "r");
    if (!f)
        fail_msg("cannot read %s: %s", conf, strerror(errno));
    it_client c;
    it_connect(&c, "main");
    smb_share_info *s = NULL;
    size_t n = 0;
    smb_error err = {0};
    IT_OK(smb_list_shares(c.sess, &s, &n, &err), err);
    char line[1024], server_string[256] = "";
    size_t sections = 0;
    while (fgets(line, sizeof line, f)) {
        char name[256];
        if (sscanf(line, " server string = %255[^\n]", server_string) == 1)
            continue;
        if (sscanf(line, " [%255[^]]]", name) != 1 || strcmp(name, "global") == 0)
            continue;
        const smb_share_info *got = find_share(s, n, name);
        if (!got)
            fail_msg("share [%s] of %s is not listed", name, conf);
        assert_int_equal(got->type, SMB_STYPE_DISKTREE);
        assert_string_equal(smb_share_type_name(got->type), "disk");
        sections++;
    }
    fclose(f);
    assert_true(sections >= 4); /* data, guest, readonly, secret at least */
    assert_int_equal(n, sections + 1); /* and IPC$ */
    const smb_share_info *ipc = find_share(s, n, "IPC$");
    assert_non_null(ipc);
    assert_int_equal(ipc->type, SMB_STYPE_IPC | SMB_STYPE_SPECIAL);
    assert_string_equal(smb_share_type_name(ipc->type), "ipc");
    char want[300];
    snprintf(want, sizeof want, "IPC Service (%s)", server_string);
    assert_string_equal(ipc->comment, want);
    smb_shares_free(s, n);
    it_close(&c);
}

/* Other dialects, mandatory signing, an encrypting server: the same list. */
static void test_other_instances(void **state)
{
    (void)state;
    static const char *const instances[] = {"2_0_2", "2_1", "3_0", "3_1_1", "signreq", "encrypt"};
    for (size_t i = 0; i < sizeof instances / sizeof instances[0]; i++) {
        it_client c;
        it_connect(&c, instances[i]);
        expect_same_as_smbclient(&c, itest_port(itest_require_env(), instances[i]));
        it_close(&c);
    }
}

/* The listing leaves the session's other trees alone and can be repeated;
 * bad arguments are refused. */
static void test_session_usable_after(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    smb_share_info *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    IT_OK(smb_list_shares(c.sess, &a, &na, &err), err);
    IT_OK(smb_list_shares(c.sess, &b, &nb, &err), err);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(a[i].name, b[i].name);
        assert_int_equal(a[i].type, b[i].type);
    }
    smb_shares_free(a, na);
    smb_shares_free(b, nb);
    smb_file_info info;
    IT_OK(smb_stat(c.tree, "", &info, &err), err);
    assert_true(smb_file_info_is_dir(&info));

    smb_share_info *s = (smb_share_info *)&s;
    size_t n = 5;
    assert_int_equal(smb_list_shares(NULL, &s, &n, &err), SMB_ERR_INVALID_ARG);
    assert_null(s);
    assert_int_equal(n, 0);
    it_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_main_matches_smbclient),
        cmocka_unit_test(test_every_configured_share),
        cmocka_unit_test(test_other_instances),
        cmocka_unit_test(test_session_usable_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

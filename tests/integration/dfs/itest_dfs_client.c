/*
 * The library's client (include/smbcopy/client.h) through a real DFS
 * namespace: tests/integration/cli_dfs.sh runs this program inside the
 * fidelity fixture's network namespace (tests/fixtures/samba-fidelity.sh)
 * with SMBCOPY_FID_ENV naming its environment file. The DFS root
 * \\127.0.0.1\dfsroot links remote -> \\127.0.0.2\dfstarget, failover ->
 * \\127.0.0.3\dfstarget (down), \\127.0.0.2\dfstarget, and deadc ->
 * \\127.0.0.3\dfstarget only (made by cli_dfs.sh for this program);
 * \\127.0.0.1\dfsproxy is referred to \\127.0.0.2\dfstarget. Every byte read
 * through a link is compared with the target share's directory on disk, and
 * every byte written through one is looked for there.
 */
#include "itest.h"

#include <smbcopy/client.h>
#include <smbcopy/ntstatus.h>

static itest_env fid_env;

static const char *v(const char *key) { return itest_env_need(&fid_env, "fidelity", key); }

static int load(void **state)
{
    (void)state;
    return itest_env_from_var(&fid_env, "SMBCOPY_FID_ENV", "itest_dfs_client", "tests/integration/cli_dfs.sh");
}

static smb_client *client(unsigned flags)
{
    smb_creds cr = {.username = v("SMBCOPY_FID_USER"),
                    .password = v("SMBCOPY_FID_PASSWORD"),
                    .domain = v("SMBCOPY_FID_DOMAIN"),
                    .mech = SMB_AUTH_NTLM};
    smb_error err = {0};
    smb_client *c = smb_client_new(0, NULL, &cr, flags, &err);
    if (!c)
        fail_msg("smb_client_new: %s", err.message);
    return c;
}

/* The target share's directory on disk + "/" + rel, into buf. */
static const char *on_target(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/%s", v("SMBCOPY_FID_DIR_TWO_DFSTARGET"), rel);
    return buf;
}

/* The whole of a local file, malloc'd, its size in *n. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

/* Through a link: stat and read match the target's bytes; the second call is routed by the cache. */
static void test_read_through_link(void **state)
{
    (void)state;
    smb_client *c = client(0);
    char disk[PATH_MAX];
    size_t want_n = 0;
    uint8_t *want = slurp(on_target(disk, sizeof disk, "sub/big.bin"), &want_n);

    smb_error err = {0};
    smb_file_info info;
    if (smb_client_stat(c, "\\\\127.0.0.1\\dfsroot\\remote\\sub\\big.bin", &info, &err) != 0)
        fail_msg("stat through the link: %s", err.message);
    assert_int_equal(info.end_of_file, want_n);
    smb_client_stats st;
    smb_client_get_stats(c, &st);
    assert_int_equal(st.referrals, 1);
    assert_int_equal(st.connections, 2); /* the root's server, the link's target */

    uint8_t *got = malloc(want_n + 16);
    assert_non_null(got);
    size_t n = 0;
    /* '/' separators and a leading "//" are a UNC path too. */
    if (smb_client_read_file(c, "//127.0.0.1/dfsroot/remote/sub/big.bin", got, want_n + 16, &n, NULL, &err) != 0)
        fail_msg("read through the link: %s", err.message);
    assert_int_equal(n, want_n);
    assert_memory_equal(got, want, want_n);
    smb_client_get_stats(c, &st);
    assert_int_equal(st.referrals, 1); /* known: not asked again */
    assert_true(st.referrals_cached >= 1);

    /* Resolved now: the target's tree and the path inside it. */
    smb_tree *t = NULL;
    char *path = NULL;
    if (smb_client_resolve(c, "\\\\127.0.0.1\\dfsroot\\remote\\sub\\big.bin", &t, &path, &err) != 0)
        fail_msg("resolve: %s", err.message);
    assert_string_equal(path, "sub\\big.bin");
    free(path);
    free(got);
    free(want);
    smb_client_free(c);
}

/* Write through a link: the file lands in the target share; then removed through it. */
static void test_write_through_link(void **state)
{
    (void)state;
    smb_client *c = client(0);
    smb_error err = {0};
    if (smb_client_mkdir(c, "\\\\127.0.0.1\\dfsroot\\remote\\from-client", &err) != 0)
        fail_msg("mkdir through the link: %s", err.message);
    smb_open *op = smb_client_open_file(c, "\\\\127.0.0.1\\dfsroot\\remote\\from-client\\w.bin",
                                        SMB_O_WRONLY | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    if (!op)
        fail_msg("open through the link: %s", err.message);
    uint8_t data[70001];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 131 + 7);
    assert_int_equal(smb_pwrite(op, data, sizeof data, 0, 4, &err), 0);
    assert_int_equal(smb_close(op, NULL, &err), 0);
    char disk[PATH_MAX];
    size_t n = 0;
    uint8_t *back = slurp(on_target(disk, sizeof disk, "from-client/w.bin"), &n);
    assert_int_equal(n, sizeof data);
    assert_memory_equal(back, data, sizeof data);
    free(back);
    if (smb_client_unlink(c, "\\\\127.0.0.1\\dfsroot\\remote\\from-client\\w.bin", &err) != 0 ||
        smb_client_rmdir(c, "\\\\127.0.0.1\\dfsroot\\remote\\from-client", &err) != 0)
        fail_msg("remove through the link: %s", err.message);
    struct stat sb;
    assert_int_not_equal(stat(on_target(disk, sizeof disk, "from-client"), &sb), 0);
    smb_client_free(c);
}

/* A link whose first target is down: the second; a link with none up: a clear failure. */
static void test_failover_and_dead(void **state)
{
    (void)state;
    smb_client *c = client(0);
    smb_error err = {0};
    smb_file_info info;
    if (smb_client_stat(c, "\\\\127.0.0.1\\dfsroot\\failover\\sub\\big.bin", &info, &err) != 0)
        fail_msg("stat through the failover link: %s", err.message);
    assert_int_equal(info.end_of_file, 300000);
    smb_error dead = {0};
    int rc = smb_client_stat(c, "\\\\127.0.0.1\\dfsroot\\deadc\\x", &info, &dead);
    assert_int_equal(rc, SMB_ERR_NOT_FOUND);
    if (!strstr(dead.message, "no target"))
        fail_msg("a dead link's message names no target: %s", dead.message);
    /* A missing file through a live link: the target's own answer. */
    smb_error missing = {0};
    assert_int_equal(smb_client_stat(c, "\\\\127.0.0.1\\dfsroot\\remote\\no-such-file", &info, &missing),
                     SMB_ERR_NOT_FOUND);
    smb_client_free(c);
}

/* A share its server refers elsewhere (msdfs proxy): reached by a root referral. */
static void test_proxy_share(void **state)
{
    (void)state;
    smb_client *c = client(0);
    smb_error err = {0};
    char disk[PATH_MAX];
    size_t want_n = 0;
    uint8_t *want = slurp(on_target(disk, sizeof disk, "sub/big.bin"), &want_n);
    uint8_t *got = malloc(want_n);
    size_t n = 0;
    assert_non_null(got);
    if (smb_client_read_file(c, "\\\\127.0.0.1\\dfsproxy\\sub\\big.bin", got, want_n, &n, NULL, &err) != 0)
        fail_msg("read through the proxy share: %s", err.message);
    assert_int_equal(n, want_n);
    assert_memory_equal(got, want, want_n);
    smb_open *d = smb_client_open_dir(c, "\\\\127.0.0.1\\dfsproxy\\sub", &err);
    if (!d)
        fail_msg("open_dir through the proxy share: %s", err.message);
    smb_close(d, NULL, NULL);
    free(got);
    free(want);
    smb_client_free(c);
}

/* SMB_CLIENT_NO_DFS: the servers' answers, untouched. */
static void test_no_dfs(void **state)
{
    (void)state;
    smb_client *c = client(SMB_CLIENT_NO_DFS);
    smb_error err = {0};
    smb_file_info info;
    assert_int_not_equal(smb_client_stat(c, "\\\\127.0.0.1\\dfsroot\\remote\\sub\\big.bin", &info, &err), 0);
    assert_int_equal(err.ntstatus, SMB_STATUS_PATH_NOT_COVERED);
    smb_error px = {0};
    assert_int_not_equal(smb_client_stat(c, "\\\\127.0.0.1\\dfsproxy\\sub", &info, &px), 0);
    assert_int_equal(px.ntstatus, SMB_STATUS_BAD_NETWORK_NAME);
    smb_client_stats st;
    smb_client_get_stats(c, &st);
    assert_int_equal(st.referrals, 0);
    /* A path that is not through a link works as on any share. */
    if (smb_client_stat(c, "\\\\127.0.0.1\\dfsroot\\r.txt", &info, &err) != 0)
        fail_msg("stat of a file in the root: %s", err.message);
    smb_client_free(c);
}

/* Paths without a server and a share, and a share that is not there. */
static void test_bad_paths(void **state)
{
    (void)state;
    smb_client *c = client(0);
    smb_error err = {0};
    smb_file_info info;
    assert_int_equal(smb_client_stat(c, "\\\\127.0.0.1", &info, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(smb_client_stat(c, "", &info, &err), SMB_ERR_INVALID_ARG);
    smb_error ns = {0};
    assert_int_equal(smb_client_stat(c, "\\\\127.0.0.1\\no-such-share\\x", &info, &ns), SMB_ERR_BAD_SHARE);
    smb_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_through_link), cmocka_unit_test(test_write_through_link),
        cmocka_unit_test(test_failover_and_dead), cmocka_unit_test(test_proxy_share),
        cmocka_unit_test(test_no_dfs),           cmocka_unit_test(test_bad_paths),
    };
    return cmocka_run_group_tests(tests, load, NULL);
}

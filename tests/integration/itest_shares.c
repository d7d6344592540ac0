/*
 * smb_list_shares (NetShareEnumAll over \srvsvc, MS-SRVS 3.1.4.8) against
 * the fixture's Samba: the list equals what `smbclient -L -g` prints for
 * the same server (names, kinds, comments), holds every share the
 * instance's smb.conf defines, and IPC$ is an IPC share flagged special.
 * Instances with other dialects, mandatory signing and encryption list
 * the same way; the session stays usable after a listing. A server of
 * its own with hundreds of shares answers in many RPC fragments, read from
 * the pipe after the TRANSCEIVE.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

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
    if (!p) {
        fail_msg("cannot run smbclient: %s", strerror(errno));
        return 0;
    }
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

/* The fixture disables Samba's RPC helpers where it cannot give them
 * private directories: then no server lists its shares. */
static bool rpc_helpers_enabled(const itest_env *env)
{
    char conf[PATH_MAX];
    snprintf(conf, sizeof conf, "%s/main/smb.conf", itest_env_value(env, "SMBCOPY_TEST_FIXTURE_DIR"));
    FILE *f = fopen(conf, "r");
    if (!f) {
        fail_msg("cannot read %s: %s", conf, strerror(errno));
        return false;
    }
    char line[1024];
    bool enabled = true;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "rpc start on demand helpers = no"))
            enabled = false;
    fclose(f);
    return enabled;
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
    if (!rpc_helpers_enabled(itest_require_env()))
        skip();
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
    if (!rpc_helpers_enabled(itest_require_env()))
        skip();
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
    if (!rpc_helpers_enabled(itest_require_env()))
        skip();
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
    if (!rpc_helpers_enabled(itest_require_env()))
        skip();
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

/* ---------------------------------------------------------------- many shares */

#define MANY_SHARES 300

/* A TCP port free on the loopback now. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        fail_msg("no free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

/* Replace every "from" in line by "to", into out[cap]. */
static void replace_all(const char *line, const char *from, const char *to, char *out, size_t cap)
{
    size_t o = 0, flen = strlen(from), tlen = strlen(to);
    for (const char *p = line; *p;) {
        if (strncmp(p, from, flen) == 0) {
            if (o + tlen >= cap)
                fail_msg("configuration line too long");
            memcpy(out + o, to, tlen);
            o += tlen;
            p += flen;
        } else {
            if (o + 1 >= cap)
                fail_msg("configuration line too long");
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
}

/* The comment of share i: long enough, and not ASCII only, so that the list
 * takes many fragments of 4280 bytes. */
static void many_comment(char *buf, size_t len, int i)
{
    snprintf(buf, len, "Share %d of many, its comment long enough to fill fragments: \u00fcn\u00efc\u00f6d\u00e9 \u2713", i);
}

/*
 * A private smbd: the main instance's [global] section (its paths moved to
 * dir, its port to port: the same users and passwords) and MANY_SHARES
 * disk shares with comments. Returns its process id.
 */
static pid_t start_many_server(const itest_env *env, const char *dir, int port)
{
    const char *fixture = itest_env_value(env, "SMBCOPY_TEST_FIXTURE_DIR");
    char main_dir[PATH_MAX], path[PATH_MAX + 64], cmd[4 * PATH_MAX + 128];
    snprintf(main_dir, sizeof main_dir, "%s/main", fixture);
    snprintf(cmd, sizeof cmd,
             "cp -a '%s/private' '%s/private' && cd '%s' && mkdir lock state cache pid ncalrpc bind-dns usershares log share",
             main_dir, dir, dir);
    if (system(cmd) != 0)
        fail_msg("cannot prepare %s", dir);
    snprintf(path, sizeof path, "%s/smb.conf", main_dir);
    FILE *in = fopen(path, "r");
    snprintf(path, sizeof path, "%s/smb.conf", dir);
    FILE *out = fopen(path, "w");
    if (!in || !out)
        fail_msg("cannot write %s", path);
    char line[1024], moved[2048];
    bool global = false;
    while (fgets(line, sizeof line, in)) {
        char section[64];
        if (sscanf(line, " [%63[^]]]", section) == 1) {
            global = strcmp(section, "global") == 0;
            if (global)
                fputs(line, out);
            continue;
        }
        if (!global || strstr(line, "smb ports") || strstr(line, "username map"))
            continue;
        replace_all(line, main_dir, dir, moved, sizeof moved);
        fputs(moved, out);
    }
    fprintf(out, "    smb ports = %d\n", port);
    for (int i = 1; i <= MANY_SHARES; i++) {
        char comment[256];
        many_comment(comment, sizeof comment, i);
        fprintf(out, "\n[many%03d]\n    path = %s/share\n    comment = %s\n", i, dir, comment);
    }
    fclose(in);
    if (fclose(out) != 0)
        fail_msg("cannot write %s", path);
    /* As the fixture runs smbd: a session of its own, and a private mount
     * namespace in which Samba's built-in directories (where samba-dcerpcd
     * and its workers log whatever smb.conf says) are dir's. */
    static const char script[] =
        "for d in /var/log/samba /var/lib/samba /var/cache/samba /run/samba; do"
        "  [ -d \"$d\" ] || continue;"
        "  mkdir -p \"$0/host$d\" && mount --bind \"$0/host$d\" \"$d\" || exit 1;"
        "done;"
        "exec smbd -s \"$0/smb.conf\" --foreground --no-process-group --debug-stdout";
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        char log[PATH_MAX + 32];
        snprintf(log, sizeof log, "%s/log/smbd.out", dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        setsid();
        execlp("unshare", "unshare", "--mount", "--propagation", "private", "--", "bash", "-c", script, dir,
               (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* True when a process's command line mentions dir (its arguments joined). */
static bool mentions(const char *proc_pid, const char *dir)
{
    char path[320], args[4096];
    snprintf(path, sizeof path, "/proc/%s/cmdline", proc_pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(args, 1, sizeof args - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (args[i] == '\0')
            args[i] = ' ';
    args[n] = '\0';
    return strstr(args, dir) != NULL;
}

/* Stop smbd (pid) and the RPC helpers it started, which leave its session:
 * every process whose command line names the server's own directory. */
static void stop_many_server(pid_t pid, const char *dir)
{
    for (int round = 0; round < 100; round++) {
        int found = 0;
        while (waitpid(pid, NULL, WNOHANG) > 0)
            ;
        DIR *d = opendir("/proc");
        if (!d)
            break;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9' || !mentions(e->d_name, dir))
                continue;
            kill((pid_t)atoi(e->d_name), round < 50 ? SIGTERM : SIGKILL);
            found++;
        }
        closedir(d);
        if (!found)
            break;
        usleep(100 * 1000);
    }
    waitpid(pid, NULL, WNOHANG);
}

static void test_many_shares_in_fragments(void **state)
{
    (void)state;
    if (!rpc_helpers_enabled(itest_require_env()))
        skip();
    const itest_env *env = itest_require_env();
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/itest-shares-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        fail_msg("mkdtemp: %s", strerror(errno));
    int port = free_port();
    pid_t pid = start_many_server(env, dir, port);

    smb_error err = {0};
    smb_conn *conn = NULL;
    for (int tries = 0; !conn && tries < 150; tries++) {
        conn = smb_conn_connect(env->host, (uint16_t)port, NULL, &err);
        if (!conn)
            usleep(100 * 1000);
    }
    int rc = -1;
    smb_share_info *s = NULL;
    size_t n = 0;
    if (conn) {
        smb_creds cr = {.username = env->user, .password = env->password, .domain = env->domain};
        smb_session *sess = smb_session_setup(conn, &cr, &err);
        if (sess)
            rc = smb_list_shares(sess, &s, &n, &err);
    }
    smb_conn_close(conn);
    stop_many_server(pid, dir);
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (rc != 0)
        fail_msg("listing %d shares on port %d: %s (server log in %s/log)", MANY_SHARES, port, err.message, dir);
    if (system(cmd) != 0)
        print_error("cannot remove %s\n", dir);

    assert_int_equal(n, MANY_SHARES + 1); /* and IPC$ */
    for (int i = 1; i <= MANY_SHARES; i++) {
        char name[16], comment[256];
        snprintf(name, sizeof name, "many%03d", i);
        many_comment(comment, sizeof comment, i);
        const smb_share_info *got = find_share(s, n, name);
        if (!got)
            fail_msg("share %s is not listed", name);
        assert_int_equal(got->type, SMB_STYPE_DISKTREE);
        assert_string_equal(got->comment, comment);
    }
    const smb_share_info *ipc = find_share(s, n, "IPC$");
    assert_non_null(ipc);
    assert_int_equal(ipc->type, SMB_STYPE_IPC | SMB_STYPE_SPECIAL);
    smb_shares_free(s, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_main_matches_smbclient),
        cmocka_unit_test(test_every_configured_share),
        cmocka_unit_test(test_other_instances),
        cmocka_unit_test(test_session_usable_after),
        cmocka_unit_test(test_many_shares_in_fragments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The client library against hostile_smbd, one mode per test: each checks
 * the specific error code and message, that the call returns within a
 * bound tied to the configured timeouts (a hang check, not a speed test),
 * and (under ASan/UBSan) that nothing crashes. HOSTILE_SMBD names the
 * server binary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <smbcopy/smb.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAS_ASAN 1
#endif
#endif
#ifndef HAS_ASAN
#define HAS_ASAN 0
#endif

/* Short timeouts so that the hang checks stay quick. */
#define REQUEST_MS 1500u
#define PENDING_MS 1500u
#define CONNECT_MS 3000u
/* The watchdog looks once a second; a call may take its timeout plus that, plus slack for sanitizers on a
 * busy machine (6.9 s seen under ASan beside the other lanes): a call that never returns still fails. */
#define BOUND_MS (REQUEST_MS + PENDING_MS + 12000u)

typedef struct server {
    pid_t pid;
    uint16_t port;
} server;

static const char *current_mode = "?";
/* The server of the running test, stopped by the teardown even when the test failed, or on a hang. */
static server *running;

static void on_alarm(int sig)
{
    (void)sig;
    if (running)
        kill(running->pid, SIGTERM);
    static const char msg[] = "test_hostile: HANG: the client did not return within 30 s\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(1);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Start the server in mode; store (optional) is its writable directory (--store). */
static void server_start_store(server *s, const char *mode, const char *store)
{
    const char *bin = getenv("HOSTILE_SMBD");
    assert_non_null(bin);
    current_mode = mode;
    int p[2];
    assert_int_equal(pipe(p), 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        if (store)
            execl(bin, bin, "--mode", mode, "--store", store, (char *)NULL);
        else
            execl(bin, bin, "--mode", mode, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char line[32] = {0};
    size_t n = 0;
    while (n + 1 < sizeof line) {
        ssize_t r = read(p[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    close(p[0]);
    s->port = (uint16_t)atoi(line);
    running = s;
    assert_true(s->port > 0);
    alarm(30);
}

static void server_start(server *s, const char *mode) { server_start_store(s, mode, NULL); }

static void server_stop(server *s)
{
    alarm(0);
    kill(s->pid, SIGTERM);
    waitpid(s->pid, NULL, 0);
    running = NULL;
}

static int teardown(void **state)
{
    (void)state;
    if (running)
        server_stop(running);
    return 0;
}

static void opts_init(smb_conn_opts *o)
{
    smb_conn_opts_init(o);
    o->connect_timeout_ms = CONNECT_MS;
    o->request_timeout_ms = REQUEST_MS;
    o->pending_timeout_ms = PENDING_MS;
}

static const smb_creds CREDS = {.username = "tester", .password = "hostile-pass", .mech = SMB_AUTH_NTLM};

/* A logged-on session with the share connected (each step must work). */
typedef struct client {
    smb_conn *conn;
    smb_session *sess;
    smb_tree *tree;
} client;

static void client_up_opts(client *cl, const server *s, const smb_conn_opts *o)
{
    smb_error err = {0};
    cl->conn = smb_conn_connect("127.0.0.1", s->port, o, &err);
    if (!cl->conn)
        fail_msg("[%s] connect: %s", current_mode, err.message);
    cl->sess = smb_session_setup(cl->conn, &CREDS, &err);
    if (!cl->sess)
        fail_msg("[%s] session setup: %s", current_mode, err.message);
    cl->tree = smb_tree_connect(cl->sess, "share", &err);
    if (!cl->tree)
        fail_msg("[%s] tree connect: %s", current_mode, err.message);
}

static void client_up(client *cl, const server *s)
{
    smb_conn_opts o;
    opts_init(&o);
    client_up_opts(cl, s, &o);
}

static void client_down(client *cl) { smb_conn_close(cl->conn); }

/* The server in mode, and a client logged on to its share. */
static void client_start(client *cl, server *s, const char *mode)
{
    server_start(s, mode);
    client_up(cl, s);
}

/* The client closed, then its server stopped. */
static void client_stop(client *cl, server *s)
{
    client_down(cl);
    server_stop(s);
}

/* The error must be code, with text in its message, and have come within the bound. */
static void expect_error(int rc, const smb_error *err, int code, const char *text, uint64_t t0)
{
    uint64_t took = now_ms() - t0;
    if (rc != code || !strstr(err->message, text))
        fail_msg("[%s] expected %s containing '%s', got %d (%s): %s", current_mode, smb_strerror(code), text, rc,
                 smb_strerror(rc), err->message);
    if (took > BOUND_MS)
        fail_msg("[%s] took %llu ms, beyond %u ms", current_mode, (unsigned long long)took, BOUND_MS);
    assert_null(strchr(err->message, '\n'));
}

/* ------------------------------------------------------------ working modes */

static uint8_t pattern_byte(size_t i) { return (uint8_t)(i % 251); }

/* The whole tree reads right: listing, small and large files, a compounded read, allocated ranges. */
static void check_tree(client *cl)
{
    smb_error err = {0};
    smb_open *d = smb_open_dir(cl->tree, "", &err);
    assert_non_null(d);
    smb_dir *it = smb_dir_start(d, NULL, &err);
    assert_non_null(it);
    int seen = 0;
    smb_dirent e;
    int rc;
    while ((rc = smb_dir_next(it, &e, &err)) == 1) {
        if (strcmp(e.name, "good1.txt") == 0 || strcmp(e.name, "good2.bin") == 0 || strcmp(e.name, "sub") == 0)
            seen++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(seen, 3);
    smb_dir_finish(it);
    assert_int_equal(smb_close(d, NULL, &err), 0);

    char small[64];
    size_t n = 0;
    smb_file_info info;
    assert_int_equal(smb_read_file(cl->tree, "sub/good3.txt", small, sizeof small, &n, &info, &err), 0);
    assert_int_equal(n, 11);
    assert_memory_equal(small, "third file\n", 11);

    smb_open *f = smb_open_file(cl->tree, "good2.bin", SMB_O_RDONLY, &info, &err);
    assert_non_null(f);
    assert_int_equal(info.end_of_file, 100000);
    uint8_t *buf = malloc(100000);
    assert_int_equal(smb_pread(f, buf, 100000, 0, 0, &n, &err), 0);
    assert_int_equal(n, 100000);
    for (size_t i = 0; i < n; i++)
        if (buf[i] != pattern_byte(i))
            fail_msg("[%s] byte %zu of good2.bin is wrong", current_mode, i);
    /* Whole, by path, though one READ cannot carry it (MaxReadSize 64 KiB). */
    memset(buf, 0, 100000);
    n = 0;
    assert_int_equal(smb_read_file(cl->tree, "good2.bin", buf, 100000, &n, &info, &err), 0);
    assert_int_equal(n, 100000);
    assert_int_equal(info.end_of_file, 100000);
    for (size_t i = 0; i < n; i++)
        if (buf[i] != pattern_byte(i))
            fail_msg("[%s] byte %zu of good2.bin read by path is wrong", current_mode, i);
    free(buf);
    smb_range *ranges = NULL;
    size_t nr = 0;
    assert_int_equal(smb_query_allocated_ranges(f, 100000, 16, &ranges, &nr, &err), 0);
    assert_int_equal(nr, 1);
    free(ranges);
    assert_int_equal(smb_close(f, NULL, &err), 0);
}

/* A working mode: the tree reads right, on a session signed or encrypted when the mode says so. */
static void working_mode(const char *mode, bool signing, bool encryption)
{
    static server s;
    client cl;
    client_start(&cl, &s, mode);
    smb_session_info si;
    smb_session_get_info(cl.sess, &si);
    if (signing)
        assert_true(si.signing);
    if (encryption)
        assert_true(si.encryption);
    check_tree(&cl);
    client_stop(&cl, &s);
}

static void test_good(void **state)
{
    (void)state;
    working_mode("good", false, false);
}

static void test_signed(void **state)
{
    (void)state;
    working_mode("signed", true, false);
}

static void test_encrypted(void **state)
{
    (void)state;
    working_mode("encrypted", false, true);
}

static void test_credits_65535(void **state)
{
    (void)state;
    static server s;
    client cl;
    client_start(&cl, &s, "credits-65535");
    check_tree(&cl);
    check_tree(&cl);
    /* Dozens of responses each granted 65535: the client holds no more than that. */
    smb_conn_stats st;
    smb_conn_get_stats(cl.conn, &st);
    assert_int_equal(st.credits, 65535);
    client_stop(&cl, &s);
}

/* ------------------------------------------------------------ failing modes */

/* The call of a failing mode that must return its error; every call before it must work. */
typedef enum {
    AT_CONNECT,
    AT_SESSION,
    AT_TREE,
    AT_READ,  /* good2.bin: two READs of 64 KiB in flight at once */
    AT_READ1, /* good1.txt: one READ alone in flight */
} fail_step;

/* A mode that fails one call with the error code, its message holding text. */
typedef struct failing_mode {
    const char *test; /* the test's name (HOSTILE_FILTER) */
    const char *mode;
    fail_step at;
    int code;
    const char *text;
} failing_mode;

static const failing_mode FAILING_MODES[] = {
    {"test_neg_secbuf_oob", "neg-secbuf-oob", AT_CONNECT, SMB_ERR_PROTOCOL, "malformed NEGOTIATE response"},
    {"test_credits_0", "credits-0", AT_SESSION, SMB_ERR_PROTOCOL, "granted 0 credits"},
    {"test_setup_secbuf_oob", "setup-secbuf-oob", AT_SESSION, SMB_ERR_PROTOCOL, "malformed SESSION_SETUP response"},
    {"test_unknown_mid", "unknown-mid", AT_TREE, SMB_ERR_PROTOCOL, "never sent"},
    {"test_bad_signature", "bad-signature", AT_TREE, SMB_ERR_SIGNATURE, "signature does not verify"},
    {"test_plain_on_encrypted", "plain-on-encrypted", AT_TREE, SMB_ERR_SIGNATURE,
     "unencrypted response on an encrypted session"},
    {"test_read_oob", "read-oob", AT_READ, SMB_ERR_PROTOCOL, "outside the frame"},
    {"test_huge_frame", "huge-frame", AT_READ, SMB_ERR_PROTOCOL, "frame of 2097152 bytes"},
    {"test_pending_forever", "pending-forever", AT_READ, SMB_ERR_TIMEOUT, "did not answer (READ request)"},
    {"test_pending_forever_one_read", "pending-forever", AT_READ1, SMB_ERR_TIMEOUT, "did not answer (READ request)"},
    {"test_bad_signature_read", "bad-signature-read", AT_READ, SMB_ERR_SIGNATURE, "signature does not verify"},
    {"test_close_mid_nbss", "close-mid-nbss", AT_READ, SMB_ERR_DISCONNECTED, "connection to 127.0.0.1 lost"},
    {"test_close_mid_nbss_one_read", "close-mid-nbss", AT_READ1, SMB_ERR_DISCONNECTED,
     "connection to 127.0.0.1 lost"},
    {"test_close_mid_header", "close-mid-header", AT_READ, SMB_ERR_DISCONNECTED, "connection to 127.0.0.1 lost"},
    {"test_close_mid_header_one_read", "close-mid-header", AT_READ1, SMB_ERR_DISCONNECTED,
     "connection to 127.0.0.1 lost"},
    {"test_close_mid_read", "close-mid-read", AT_READ, SMB_ERR_DISCONNECTED, "connection to 127.0.0.1 lost"},
    {"test_close_mid_read_one_read", "close-mid-read", AT_READ1, SMB_ERR_DISCONNECTED,
     "connection to 127.0.0.1 lost"},
    {"test_stall_mid_read", "stall-mid-read", AT_READ, SMB_ERR_TIMEOUT, "did not answer (READ request)"},
    {"test_stall_mid_read_one_read", "stall-mid-read", AT_READ1, SMB_ERR_TIMEOUT, "did not answer (READ request)"},
};
#define N_FAILING_MODES (sizeof FAILING_MODES / sizeof FAILING_MODES[0])

/*
 * The modes that never answer wait out the request timeout: a short one,
 * so that they stay quick. The watchdog looks once a second, so a request
 * sent just after connecting fails at its first look either way, and the
 * calls before it (done in milliseconds) are as safe as with the longer one.
 */
#define TIMEOUT_CASE_MS 500u

/* The failing mode of *state: each call up to f->at works, that one fails as f says, within the bound. */
static void test_failing_mode(void **state)
{
    const failing_mode *f = *state;
    static server s;
    server_start(&s, f->mode);
    smb_conn_opts o;
    opts_init(&o);
    if (f->code == SMB_ERR_TIMEOUT)
        o.request_timeout_ms = o.pending_timeout_ms = TIMEOUT_CASE_MS;
    smb_error err = {0};
    uint64_t t0 = now_ms();
    smb_conn *c = smb_conn_connect("127.0.0.1", s.port, &o, &err);
    if (f->at == AT_CONNECT) {
        assert_null(c);
        expect_error(err.code, &err, f->code, f->text, t0);
        server_stop(&s);
        return;
    }
    if (!c)
        fail_msg("[%s] connect: %s", f->mode, err.message);
    t0 = now_ms();
    smb_session *ss = smb_session_setup(c, &CREDS, &err);
    if (f->at == AT_SESSION) {
        assert_null(ss);
        expect_error(err.code, &err, f->code, f->text, t0);
    } else if (!ss) {
        fail_msg("[%s] session setup: %s", f->mode, err.message);
    } else {
        t0 = now_ms();
        smb_tree *t = smb_tree_connect(ss, "share", &err);
        if (f->at == AT_TREE) {
            assert_null(t);
            expect_error(err.code, &err, f->code, f->text, t0);
        } else {
            if (!t)
                fail_msg("[%s] tree connect: %s", f->mode, err.message);
            const char *path = f->at == AT_READ ? "good2.bin" : "good1.txt";
            size_t size = f->at == AT_READ ? 100000 : 20;
            smb_open *fh = smb_open_file(t, path, SMB_O_RDONLY, NULL, &err);
            if (!fh)
                fail_msg("[%s] open: %s", f->mode, err.message);
            static uint8_t buf[100000];
            size_t n = 0;
            t0 = now_ms();
            int rc = smb_pread(fh, buf, size, 0, 0, &n, &err);
            expect_error(rc, &err, f->code, f->text, t0);
            smb_close(fh, NULL, NULL);
        }
    }
    smb_conn_close(c);
    server_stop(&s);
}

/*
 * The server took the password (STATUS_SUCCESS) but its final response
 * does not verify: an authentication failure (the CLI's exit 3) that does
 * not blame the password.
 */
static void test_bad_logon_signature(void **state)
{
    (void)state;
    static server s;
    server_start(&s, "bad-logon-signature");
    smb_conn_opts o;
    opts_init(&o);
    smb_error err = {0};
    smb_conn *c = smb_conn_connect("127.0.0.1", s.port, &o, &err);
    assert_non_null(c);
    uint64_t t0 = now_ms();
    assert_null(smb_session_setup(c, &CREDS, &err));
    expect_error(err.code, &err, SMB_ERR_AUTH, "accepted the logon but signed its answer with another session key",
                 t0);
    if (strstr(err.message, "password"))
        fail_msg("the message blames the password: %s", err.message);
    smb_conn_close(c);
    server_stop(&s);
}

static void test_create_ctx_oob(void **state)
{
    (void)state;
    static server s;
    client cl;
    client_start(&cl, &s, "create-ctx-oob");
    smb_error err = {0};
    uint64_t t0 = now_ms();
    smb_open *f = smb_open_file(cl.tree, "good1.txt", SMB_O_RDONLY, NULL, &err);
    assert_null(f);
    expect_error(err.code, &err, SMB_ERR_PROTOCOL, "malformed CREATE response", t0);
    smb_file_info info;
    t0 = now_ms();
    expect_error(smb_stat(cl.tree, "good1.txt", &info, &err), &err, SMB_ERR_PROTOCOL, "malformed CREATE", t0);
    client_stop(&cl, &s);
}

/* List the root; returns the smb_dir_next result that ended it, *names the good names seen. */
static int list_root(client *cl, int *good, int *bad_names, smb_error *err)
{
    smb_open *d = smb_open_dir(cl->tree, "", err);
    assert_non_null(d);
    smb_dir *it = smb_dir_start(d, NULL, err);
    assert_non_null(it);
    *good = *bad_names = 0;
    smb_dirent e;
    int rc;
    while ((rc = smb_dir_next(it, &e, err)) != 0) {
        if (rc == SMB_ERR_BAD_NAME) {
            (*bad_names)++;
            continue;
        }
        if (rc < 0)
            break;
        assert_true(strcmp(e.name, ".") != 0 && strcmp(e.name, "..") != 0);
        if (strcmp(e.name, "good1.txt") == 0 || strcmp(e.name, "good2.bin") == 0 || strcmp(e.name, "sub") == 0)
            (*good)++;
    }
    smb_dir_finish(it);
    smb_close(d, NULL, NULL);
    return rc;
}

static void test_dir_oob(void **state)
{
    (void)state;
    static server s;
    client cl;
    client_start(&cl, &s, "dir-oob");
    smb_error err = {0};
    int good, bad;
    uint64_t t0 = now_ms();
    int rc = list_root(&cl, &good, &bad, &err);
    expect_error(rc, &err, SMB_ERR_PROTOCOL, "malformed QUERY_DIRECTORY response", t0);
    assert_int_equal(good, 0);
    client_stop(&cl, &s);
}

static void test_dirent_oob(void **state)
{
    (void)state;
    static server s;
    client cl;
    client_start(&cl, &s, "dirent-oob");
    smb_error err = {0};
    int good, bad;
    uint64_t t0 = now_ms();
    int rc = list_root(&cl, &good, &bad, &err);
    expect_error(rc, &err, SMB_ERR_PROTOCOL, "malformed directory listing", t0);
    assert_int_equal(good, 2); /* the entries before the bad one: good1.txt, good2.bin ("sub" is the last) */
    client_stop(&cl, &s);
}

/* The library hands out names it can decode and refuses the one with a NUL;
 * the engine refuses the rest (cli_hostile.sh). A lone surrogate is kept as WTF-8. */
static void test_evil_listing(void **state)
{
    (void)state;
    static server s;
    client cl;
    client_start(&cl, &s, "evil-listing");
    smb_error err = {0};
    smb_open *d = smb_open_dir(cl.tree, "", &err);
    assert_non_null(d);
    smb_dir *it = smb_dir_start(d, NULL, &err);
    assert_non_null(it);
    int good = 0, nul = 0, names = 0;
    bool surrogate = false;
    smb_dirent e;
    int rc;
    while ((rc = smb_dir_next(it, &e, &err)) != 0) {
        if (rc == SMB_ERR_BAD_NAME) {
            assert_non_null(strstr(err.message, "undecodable name"));
            nul++;
            continue;
        }
        assert_int_equal(rc, 1);
        names++;
        assert_true(strcmp(e.name, ".") != 0 && strcmp(e.name, "..") != 0);
        if (strcmp(e.name, "good1.txt") == 0 || strcmp(e.name, "good2.bin") == 0 || strcmp(e.name, "sub") == 0)
            good++;
        if (strcmp(e.name, "s\xed\xa0\x80x") == 0)
            surrogate = true;
    }
    assert_int_equal(good, 3);
    assert_int_equal(nul, 1);
    assert_true(surrogate);
    assert_int_equal(names, 3 + 5); /* ../x, a/b, a\b, C:x, s<U+D800>x */
    smb_dir_finish(it);
    smb_close(d, NULL, NULL);
    client_stop(&cl, &s);
}

static void test_ioctl_oob(void **state)
{
    (void)state;
    static server s;
    client cl;
    client_start(&cl, &s, "ioctl-oob");
    smb_error err = {0};
    smb_iface *ifs = NULL;
    size_t n = 0;
    uint64_t t0 = now_ms();
    expect_error(smb_query_interfaces(cl.tree, &ifs, &n, &err), &err, SMB_ERR_PROTOCOL, "malformed IOCTL response",
                 t0);
    smb_open *f = smb_open_file(cl.tree, "good2.bin", SMB_O_RDONLY, NULL, &err);
    assert_non_null(f);
    smb_range *r = NULL;
    t0 = now_ms();
    expect_error(smb_query_allocated_ranges(f, 100000, 16, &r, &n, &err), &err, SMB_ERR_PROTOCOL,
                 "malformed IOCTL response", t0);
    smb_close(f, NULL, NULL);
    client_stop(&cl, &s);
}

/* ------------------------------------------------------------ short WRITEs */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* A fresh store directory for the server (removed by store_remove). */
static void store_make(char *dir, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, cap, "%s/hostile-store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
}

static void store_remove(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

/* Byte i of the uploaded test data: not a multiple of any WRITE size, no zeros runs. */
static uint8_t up_byte(size_t i) { return (uint8_t)(i * 7 + i / 253 + 1); }

/* path (in the share) reads back as len bytes of up_byte, and so does the store's copy (dir/rel). */
static void check_uploaded(client *cl, const char *path, const char *store, size_t len)
{
    uint8_t *buf = malloc(len + 1);
    assert_non_null(buf);
    smb_error err = {0};
    size_t n = 0;
    smb_file_info info;
    if (smb_read_file(cl->tree, path, buf, len + 1, &n, &info, &err) != 0)
        fail_msg("[%s] read back '%s': %s", current_mode, path, err.message);
    if (n != len || info.end_of_file != len)
        fail_msg("[%s] '%s' holds %zu bytes (size %llu), expected %zu", current_mode, path, n,
                 (unsigned long long)info.end_of_file, len);
    for (size_t i = 0; i < len; i++)
        if (buf[i] != up_byte(i))
            fail_msg("[%s] byte %zu of '%s' is %u, expected %u", current_mode, i, path, buf[i], up_byte(i));
    /* The same bytes on the server's disk. */
    char file[512];
    snprintf(file, sizeof file, "%s/%s", store, path);
    int fd = open(file, O_RDONLY);
    assert_true(fd >= 0);
    memset(buf, 0, len + 1);
    ssize_t got = read(fd, buf, len + 1);
    close(fd);
    assert_int_equal(got, (ssize_t)len);
    for (size_t i = 0; i < len; i++)
        if (buf[i] != up_byte(i))
            fail_msg("[%s] byte %zu of the stored '%s' is wrong", current_mode, i, path);
    free(buf);
}

/*
 * A server taking half of every WRITE (MS-SMB2 3.3.5.13 allows a Count
 * below the Length): every write call of the library still writes every
 * byte, or fails; never a hole of zeros under a success.
 */
static void short_writes(int signing)
{
    static server s;
    char store[256];
    store_make(store, sizeof store);
    server_start_store(&s, "short-write", store);
    smb_conn_opts o;
    opts_init(&o);
    o.signing = signing;
    client cl;
    client_up_opts(&cl, &s, &o);
    smb_error err = {0};
    assert_int_equal(smb_mkdir(cl.tree, "up", &err), 0);
    size_t len = 300001; /* five 64 KiB WRITEs in flight, the last one short of a multiple */
    uint8_t *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = up_byte(i);

    /* Pipelined writes. */
    smb_open *f = smb_open_file(cl.tree, "up/pwrite.bin", SMB_O_WRONLY | SMB_O_CREAT | SMB_O_EXCL, NULL, &err);
    assert_non_null(f);
    uint64_t t0 = now_ms();
    if (smb_pwrite(f, data, len, 0, 4, &err) != 0)
        fail_msg("[%s] smb_pwrite: %s", current_mode, err.message);
    assert_true(now_ms() - t0 < BOUND_MS);
    assert_int_equal(smb_close(f, NULL, &err), 0);
    check_uploaded(&cl, "up/pwrite.bin", store, len);

    /* One asynchronous WRITE: the wait reports every byte written. */
    f = smb_open_file(cl.tree, "up/submit.bin", SMB_O_WRONLY | SMB_O_CREAT | SMB_O_EXCL, NULL, &err);
    assert_non_null(f);
    size_t one = smb_open_max_write(f) < len ? smb_open_max_write(f) : len;
    smb_io *io = smb_write_submit(f, data, one, 0, &err);
    assert_non_null(io);
    size_t n = 0;
    if (smb_io_wait(io, &n, &err) != 0)
        fail_msg("[%s] smb_io_wait: %s", current_mode, err.message);
    assert_int_equal(n, one);
    assert_int_equal(smb_close(f, NULL, &err), 0);
    check_uploaded(&cl, "up/submit.bin", store, one);

    /* A whole file in one compound (CREATE + WRITE + rename + times + CLOSE). */
    size_t small = 20000;
    smb_basic_info bi = {.last_write_time = 133000000000000000ull};
    smb_file_info info;
    if (smb_write_file(cl.tree, "up/.tmp-whole", data, small, &bi, "up/whole.bin", &info, &err) != 0)
        fail_msg("[%s] smb_write_file: %s", current_mode, err.message);
    assert_int_equal(info.end_of_file, small);
    check_uploaded(&cl, "up/whole.bin", store, small);
    smb_file_info st;
    assert_int_equal(smb_stat(cl.tree, "up/.tmp-whole", &st, &err), SMB_ERR_NOT_FOUND);
    assert_int_equal(smb_stat(cl.tree, "up/whole.bin", &st, &err), 0);
    assert_int_equal(st.last_write_time, bi.last_write_time);

    free(data);
    client_stop(&cl, &s);
    store_remove(store);
}

static void test_short_write(void **state)
{
    (void)state;
    short_writes(SMB_POLICY_AUTO);
}

static void test_short_write_signed(void **state)
{
    (void)state;
    short_writes(SMB_POLICY_REQUIRED);
}

/* ------------------------------------------------------------ listings that never end */

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

/*
 * List the root with opts o: the entries delivered in *count, the end's
 * code returned; *grown (optional): how much the process grew from the
 * first entry to the end.
 */
static int list_count(const server *s, const smb_conn_opts *o, uint64_t *count, long *grown, smb_error *err)
{
    client cl;
    client_up_opts(&cl, s, o);
    smb_open *d = smb_open_dir(cl.tree, "", err);
    assert_non_null(d);
    smb_dir *it = smb_dir_start(d, NULL, err);
    assert_non_null(it);
    smb_dirent e;
    int rc;
    *count = 0;
    long rss0 = 0;
    while ((rc = smb_dir_next(it, &e, err)) == 1)
        if ((*count)++ == 0)
            rss0 = rss_kib();
    if (grown)
        *grown = rss_kib() - rss0;
    smb_dir_finish(it);
    smb_close(d, NULL, NULL);
    client_down(&cl);
    return rc;
}

static void test_endless_same_page(void **state)
{
    (void)state;
    static server s;
    server_start(&s, "endless-same-page");
    smb_conn_opts o;
    opts_init(&o);
    smb_error err = {0};
    uint64_t count = 0, t0 = now_ms();
    int rc = list_count(&s, &o, &count, NULL, &err);
    expect_error(rc, &err, SMB_ERR_PROTOCOL, "the server repeated the same entries", t0);
    assert_int_equal(count, 3); /* the first page: good1.txt, good2.bin, sub */
    server_stop(&s);
}

static void test_endless_new_names(void **state)
{
    (void)state;
    static server s;
    server_start(&s, "endless-new-names");
    smb_conn_opts o;
    opts_init(&o);
    o.max_dir_entries = 400000;
    smb_error err = {0};
    uint64_t count = 0, t0 = now_ms();
    long grown = 0;
    int rc = list_count(&s, &o, &count, &grown, &err);
    expect_error(rc, &err, SMB_ERR_PROTOCOL, "the server sent more than 400000 entries", t0);
    assert_int_equal(count, 400000); /* every entry up to the limit, none after */
    /*
     * One page at a time: 1000 pages (about 40 KiB each) did not make the
     * client grow; keeping the names would take more than 12 MiB. Not under
     * AddressSanitizer, whose quarantine keeps freed memory.
     */
    fprintf(stderr, "[%s] %llu entries listed, the client grew by %ld KiB\n", current_mode, (unsigned long long)count,
            grown);
#if !defined(__SANITIZE_ADDRESS__) && !HAS_ASAN
    if (grown > 4096)
        fail_msg("[%s] the client grew by %ld KiB while listing", current_mode, grown);
#endif
    server_stop(&s);
}

/* The library passes both entries of a name listed twice through; the engine refuses the name. */
static void test_duplicate_names(void **state)
{
    (void)state;
    static server s;
    client cl;
    client_start(&cl, &s, "duplicate-names");
    smb_error err = {0};
    smb_open *d = smb_open_dir(cl.tree, "", &err);
    assert_non_null(d);
    smb_dir *it = smb_dir_start(d, NULL, &err);
    assert_non_null(it);
    smb_dirent e;
    int rc, dups = 0;
    uint64_t sizes = 0;
    while ((rc = smb_dir_next(it, &e, &err)) == 1)
        if (strcmp(e.name, "dup.txt") == 0) {
            dups++;
            sizes += e.info.end_of_file;
        }
    assert_int_equal(rc, 0);
    assert_int_equal(dups, 2);
    assert_int_equal(sizes, 5 + 7);
    smb_dir_finish(it);
    smb_close(d, NULL, NULL);
    client_stop(&cl, &s);
}

/*
 * smb_read_file_ex counting streams on a server without
 * FileStreamInformation, which fails what follows a failed related request
 * alike (MS-SMB2 3.3.5.2.7.2): the refused query fails nothing, the CLOSE
 * failed with it is made by the file id (else the read would fail with
 * STATUS_NOT_SUPPORTED), and the count says the file system keeps no
 * streams.
 */
static void test_streams_query_refused(void **state)
{
    (void)state;
    static server s;
    client cl;
    client_start(&cl, &s, "good");
    smb_error err = {0};
    char small[64];
    size_t n = 0;
    smb_file_info info;
    memset(&info, 0, sizeof info);
    smb_read_extras x = {.want_streams = true};
    for (int i = 0; i < 3; i++) { /* each time the handle is closed by its id */
        x.streams = -7;
        assert_int_equal(smb_read_file_ex(cl.tree, "good1.txt", small, sizeof small, &n, &info, &x, &err), 0);
        assert_int_equal(n, 20);
        assert_memory_equal(small, "hello hostile world\n", 20);
        assert_int_equal(info.end_of_file, 20); /* from the CLOSE by id */
        assert_int_equal(x.streams, 0);
    }
    /* Past one READ (MaxReadSize 64 KiB): open, READs, the query on the open, close. */
    uint8_t *buf = malloc(100000);
    assert_non_null(buf);
    x.streams = -7;
    assert_int_equal(smb_read_file_ex(cl.tree, "good2.bin", buf, 100000, &n, &info, &x, &err), 0);
    assert_int_equal(n, 100000);
    assert_int_equal(buf[99999], pattern_byte(99999));
    assert_int_equal(x.streams, 0);
    free(buf);
    client_stop(&cl, &s);
}

/*
 * smb_read_file_ex with streams and a descriptor on a server that keeps
 * neither: the stream query is refused, the descriptor query fails alike
 * (its own error, STATUS_NOT_SUPPORTED), the CLOSE too and is made by the
 * file id; the data comes all the same, on the one-compound path and on
 * the open past one READ.
 */
static void test_sd_query_refused(void **state)
{
    (void)state;
    static server s;
    client cl;
    client_start(&cl, &s, "good");
    smb_error err = {0};
    char small[64];
    size_t n = 0;
    smb_file_info info;
    smb_read_extras x = {.want_streams = true, .secinfo = SMB_SECINFO_OWNER | SMB_SECINFO_DACL};
    for (int i = 0; i < 3; i++) {
        memset(&info, 0, sizeof info);
        assert_int_equal(smb_read_file_ex(cl.tree, "good1.txt", small, sizeof small, &n, &info, &x, &err), 0);
        assert_int_equal(n, 20);
        assert_memory_equal(small, "hello hostile world\n", 20);
        assert_int_equal(info.end_of_file, 20); /* from the CLOSE by id */
        assert_int_equal(x.streams, 0);
        assert_null(x.sd);
        assert_int_equal(x.sd_len, 0);
        assert_int_equal(x.sd_err.code, SMB_ERR_UNSUPPORTED);
        assert_non_null(strstr(x.sd_err.message, "STATUS_NOT_SUPPORTED"));
    }
    uint8_t *buf = malloc(100000);
    assert_non_null(buf);
    assert_int_equal(smb_read_file_ex(cl.tree, "good2.bin", buf, 100000, &n, &info, &x, &err), 0);
    assert_int_equal(n, 100000);
    assert_int_equal(buf[99999], pattern_byte(99999));
    assert_int_equal(x.sd_err.code, SMB_ERR_UNSUPPORTED);
    assert_null(x.sd);
    free(buf);
    client_stop(&cl, &s);
}

/*
 * bad-sd: a descriptor answer whose buffer runs past its frame, or is
 * longer than asked, is the query's own SMB_ERR_PROTOCOL; the data read in
 * the same compound (or on the open) is kept, and the connection goes on.
 */
static void test_bad_sd(void **state)
{
    (void)state;
    static server s;
    client cl;
    client_start(&cl, &s, "bad-sd");
    smb_error err = {0};
    char small[64];
    size_t n = 0;
    smb_file_info info;
    smb_read_extras x = {.secinfo = SMB_SECINFO_DACL};
    static const struct {
        const char *path, *text;
        size_t len;
    } cases[] = {{"good1.txt", "hello hostile world\n", 20}, {"sub/good3.txt", "third file\n", 11}};
    for (size_t i = 0; i < 2; i++) {
        memset(small, 0, sizeof small);
        assert_int_equal(smb_read_file_ex(cl.tree, cases[i].path, small, sizeof small, &n, &info, &x, &err), 0);
        assert_int_equal(n, cases[i].len);
        assert_memory_equal(small, cases[i].text, cases[i].len);
        assert_int_equal(info.end_of_file, cases[i].len);
        if (x.sd_err.code != SMB_ERR_PROTOCOL || !strstr(x.sd_err.message, "malformed"))
            fail_msg("[%s] %s: expected a malformed descriptor answer, got %d: %s", current_mode, cases[i].path,
                     x.sd_err.code, x.sd_err.message);
        assert_null(x.sd);
        assert_int_equal(x.sd_len, 0);
    }
    /* On the open (past one READ): the query asks 4 KiB and gets 8 bytes more. */
    uint8_t *buf = malloc(100000);
    assert_non_null(buf);
    assert_int_equal(smb_read_file_ex(cl.tree, "good2.bin", buf, 100000, &n, &info, &x, &err), 0);
    assert_int_equal(n, 100000);
    assert_int_equal(buf[99999], pattern_byte(99999));
    assert_int_equal(x.sd_err.code, SMB_ERR_PROTOCOL);
    assert_null(x.sd);
    free(buf);
    /* The connection is fine: a plain read works. */
    assert_int_equal(smb_read_file(cl.tree, "good1.txt", small, sizeof small, &n, &info, &err), 0);
    assert_int_equal(n, 20);
    client_stop(&cl, &s);
}

/*
 * smb_write_file_ex with a descriptor the store refuses (it keeps none:
 * STATUS_NOT_SUPPORTED; what follows in the compound fails alike):
 * the call fails saying so, nothing is left under either name, and the
 * handle the CREATE opened is closed by its id each time (the server holds
 * 64 opens: 70 such writes would run out).
 */
static void test_sd_set_refused(void **state)
{
    (void)state;
    static server s;
    char store[256];
    store_make(store, sizeof store);
    server_start_store(&s, "good", store);
    client cl;
    client_up(&cl, &s);
    smb_error err = {0};
    assert_int_equal(smb_mkdir(cl.tree, "up", &err), 0);
    /* Self-relative (MS-DTYP 2.4.6): a header whose DACL (empty, 8 bytes) follows at 20. */
    static const uint8_t sd[28] = {1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,
                                   2, 0, 8, 0,    0, 0, 0, 0};
    smb_write_extras x = {.sd = sd, .sd_len = sizeof sd, .secinfo = SMB_SECINFO_DACL};
    uint8_t data[100];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = up_byte(i);
    smb_basic_info bi = {.last_write_time = 133000000000000000ull};
    smb_file_info info, st;
    for (int i = 0; i < 70; i++) {
        uint64_t t0 = now_ms();
        int rc = smb_write_file_ex(cl.tree, "up/.tmp-sd", data, sizeof data, &bi, "up/sd.bin", &info, &x, &err);
        expect_error(rc, &err, SMB_ERR_UNSUPPORTED, "set the security descriptor of 'up/.tmp-sd'", t0);
        assert_non_null(strstr(err.message, "STATUS_NOT_SUPPORTED"));
        assert_true(x.sd_refused);
        assert_int_equal(smb_stat(cl.tree, "up/.tmp-sd", &st, &err), SMB_ERR_NOT_FOUND);
        assert_int_equal(smb_stat(cl.tree, "up/sd.bin", &st, &err), SMB_ERR_NOT_FOUND);
    }
    /* A descriptor shorter than its header is refused before anything is sent. */
    x.sd_len = 12;
    assert_int_equal(smb_write_file_ex(cl.tree, "up/.tmp-sd", data, sizeof data, &bi, "up/sd.bin", &info, &x, &err),
                     SMB_ERR_INVALID_ARG);
    assert_false(x.sd_refused);
    /* Without one the same call works, and so it does with x NULL. */
    x.sd = NULL;
    x.sd_refused = true;
    assert_int_equal(smb_write_file_ex(cl.tree, "up/.tmp-sd", data, sizeof data, &bi, "up/sd.bin", &info, &x, &err),
                     0);
    assert_false(x.sd_refused);
    check_uploaded(&cl, "up/sd.bin", store, sizeof data);
    assert_int_equal(smb_write_file_ex(cl.tree, "up/.tmp-2", data, sizeof data, &bi, "up/two.bin", &info, NULL, &err),
                     0);
    check_uploaded(&cl, "up/two.bin", store, sizeof data);
    char left[512];
    snprintf(left, sizeof left, "%s/up/.tmp-sd", store);
    assert_int_equal(access(left, F_OK), -1);
    client_stop(&cl, &s);
    store_remove(store);
}

/* The tests of one mode each, beside the table of FAILING_MODES. */
static const struct CMUnitTest FIXED_TESTS[] = {
    cmocka_unit_test_teardown(test_good, teardown),
    cmocka_unit_test_teardown(test_signed, teardown),
    cmocka_unit_test_teardown(test_encrypted, teardown),
    cmocka_unit_test_teardown(test_credits_65535, teardown),
    cmocka_unit_test_teardown(test_bad_logon_signature, teardown),
    cmocka_unit_test_teardown(test_create_ctx_oob, teardown),
    cmocka_unit_test_teardown(test_dir_oob, teardown),
    cmocka_unit_test_teardown(test_dirent_oob, teardown),
    cmocka_unit_test_teardown(test_evil_listing, teardown),
    cmocka_unit_test_teardown(test_ioctl_oob, teardown),
    cmocka_unit_test_teardown(test_short_write, teardown),
    cmocka_unit_test_teardown(test_short_write_signed, teardown),
    cmocka_unit_test_teardown(test_endless_same_page, teardown),
    cmocka_unit_test_teardown(test_endless_new_names, teardown),
    cmocka_unit_test_teardown(test_duplicate_names, teardown),
    cmocka_unit_test_teardown(test_streams_query_refused, teardown),
    cmocka_unit_test_teardown(test_sd_query_refused, teardown),
    cmocka_unit_test_teardown(test_bad_sd, teardown),
    cmocka_unit_test_teardown(test_sd_set_refused, teardown),
};
#define N_FIXED_TESTS (sizeof FIXED_TESTS / sizeof FIXED_TESTS[0])

int main(void)
{
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    struct CMUnitTest tests[N_FIXED_TESTS + N_FAILING_MODES];
    memcpy(tests, FIXED_TESTS, sizeof FIXED_TESTS);
    for (size_t i = 0; i < N_FAILING_MODES; i++)
        tests[N_FIXED_TESTS + i] = (struct CMUnitTest){.name = FAILING_MODES[i].test,
                                                       .test_func = test_failing_mode,
                                                       .teardown_func = teardown,
                                                       .initial_state = (void *)&FAILING_MODES[i]};
    if (getenv("HOSTILE_FILTER"))
        cmocka_set_test_filter(getenv("HOSTILE_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}

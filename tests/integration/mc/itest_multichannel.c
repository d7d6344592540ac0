/*
 * Multichannel against a real Samba with "server multi channel support"
 * (started by multichannel.sh, which runs this program inside the server's
 * network namespace, where loopback holds 127.0.0.1 and 127.0.0.2):
 *   - the server's interfaces are discovered (both addresses, RSS, speed);
 *   - a channel on the second address binds to a session of the first, with
 *     signing (the server requires it) and on an encrypted share, in SMB
 *     3.1.1 and 3.0.2;
 *   - 1 GiB written and read back through the two channels: the bytes on
 *     the server's disk and the bytes read back equal what was written, and
 *     the per-channel counters show each channel carried a fair share;
 *   - the second channel's TCP connection killed (ss -K) in the middle of a
 *     1 GiB write: the requests in flight on it are replayed on the first,
 *     the write completes without an error, and the file is identical;
 *   - a server without multichannel refuses the binding with
 *     SMB_ERR_UNSUPPORTED and the session goes on on its one channel.
 */
#include "itest.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include <smbcopy/smb.h>

#include "objects.h" /* the channel's socket, to cut it at a moment with requests in flight */

static itest_env mc_env;

static const char *v(const char *key) { return itest_env_need(&mc_env, "multichannel", key); }

/*
 * The size moved each way (BIG): 1 GiB, or SMBCOPY_TEST_MIB MiB (a multiple
 * of 64, at least 256) for the slower ThreadSanitizer and sanitizer runs.
 */
static size_t big_bytes = (size_t)1 << 30;
#define BIG big_bytes

static int load(void **state)
{
    (void)state;
    const char *mib_s = getenv("SMBCOPY_TEST_MIB");
    long mib = mib_s ? strtol(mib_s, NULL, 10) : 1024;
    if (mib >= 256 && mib % 64 == 0)
        big_bytes = (size_t)mib << 20;
    return itest_env_from_var(&mc_env, "SMBCOPY_MC_ENV", "itest_multichannel", "tests/integration/multichannel.sh");
}

typedef struct client {
    smb_conn *conn;
    smb_session *sess;
    smb_tree *tree;
} client;

static smb_creds creds(void)
{
    smb_creds cr = {.username = v("SMBCOPY_MC_USER"), .password = v("SMBCOPY_MC_PASSWORD"),
                    .domain = v("SMBCOPY_MC_DOMAIN"), .mech = SMB_AUTH_NTLM};
    return cr;
}

static uint16_t max_dialect; /* 0: the library's default (3.1.1) */

static void connect_to(client *c, int port, const char *share)
{
    smb_error err = {0};
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    if (max_dialect)
        o.max_dialect = max_dialect;
    c->conn = smb_conn_connect(v("SMBCOPY_MC_HOST"), (uint16_t)port, &o, &err);
    if (!c->conn)
        fail_msg("connect: %s", err.message);
    smb_creds cr = creds();
    c->sess = smb_session_setup(c->conn, &cr, &err);
    if (!c->sess)
        fail_msg("session: %s", err.message);
    c->tree = smb_tree_connect(c->sess, share, &err);
    if (!c->tree)
        fail_msg("tree %s: %s", share, err.message);
}

/* Bind a channel on addr to c's session; returns the binding's result. */
static int bind_on(client *c, const char *addr, int port, smb_error *err)
{
    smb_conn_opts o;
    smb_session_channel_opts(c->sess, &o);
    smb_conn *c2 = smb_conn_connect(addr, (uint16_t)port, &o, err);
    if (!c2)
        fail_msg("connect a channel to %s: %s", addr, err->message);
    smb_creds cr = creds();
    int rc = smb_session_bind(c->sess, c2, &cr, err);
    if (rc != 0)
        smb_conn_close(c2);
    return rc;
}

static void test_interfaces(void **state)
{
    (void)state;
    client c;
    connect_to(&c, atoi(v("SMBCOPY_MC_PORT")), "data");
    smb_error err = {0};
    smb_iface *list = NULL;
    size_t n = 0;
    if (smb_query_interfaces(c.tree, &list, &n, &err) != 0)
        fail_msg("query interfaces: %s", err.message);
    bool one = false, two = false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i].addr, "127.0.0.1") == 0)
            one = true;
        if (strcmp(list[i].addr, "127.0.0.2") == 0)
            two = true;
        if (!list[i].ipv6) {
            assert_true(list[i].rss);
            assert_int_equal(list[i].link_speed, 10000000000ull);
        }
    }
    assert_true(one);
    assert_true(two);
    free(list);
    smb_conn_close(c.conn);
}

#define PIECE ((size_t)64 << 20)

/*
 * Write and read BIG bytes through the session's channels; check the file on
 * disk (dir) and the bytes read back, and that both channels carried at
 * least a fifth of the data each way.
 */
static void transfer_over_two(const char *share, const char *dir_key, const char *name)
{
    client c;
    connect_to(&c, atoi(v("SMBCOPY_MC_PORT")), share);
    smb_error err = {0};
    if (bind_on(&c, v("SMBCOPY_MC_HOST2"), atoi(v("SMBCOPY_MC_PORT")), &err) != 0)
        fail_msg("bind a channel on %s: %s", v("SMBCOPY_MC_HOST2"), err.message);
    smb_channel_info ch[4];
    assert_int_equal(smb_session_channels(c.sess, ch, 4), 2);
    assert_string_equal(ch[1].host, v("SMBCOPY_MC_HOST2"));
    uint64_t sent0[2] = {ch[0].stats.bytes_sent, ch[1].stats.bytes_sent};

    uint8_t *buf = malloc(PIECE), *back = malloc(PIECE);
    assert_non_null(buf);
    assert_non_null(back);
    smb_open *f = smb_open_file(c.tree, name, SMB_O_RDWR | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    if (!f)
        fail_msg("create %s: %s", name, err.message);
    for (size_t off = 0; off < BIG; off += PIECE) {
        itest_pattern_fill(buf, PIECE, 77, off);
        if (smb_pwrite(f, buf, PIECE, off, 16, &err) != 0)
            fail_msg("write at %zu: %s", off, err.message);
    }
    smb_channel_info mid[4];
    smb_session_channels(c.sess, mid, 4);
    uint64_t recv0[2] = {mid[0].stats.bytes_received, mid[1].stats.bytes_received};
    for (size_t off = 0; off < BIG; off += PIECE) {
        size_t n = 0;
        if (smb_pread(f, back, PIECE, off, 16, &n, &err) != 0)
            fail_msg("read at %zu: %s", off, err.message);
        assert_int_equal(n, PIECE);
        itest_pattern_fill(buf, PIECE, 77, off);
        assert_memory_equal(back, buf, PIECE);
    }
    if (smb_close(f, NULL, &err) != 0)
        fail_msg("close: %s", err.message);
    smb_channel_info end[4];
    assert_int_equal(smb_session_channels(c.sess, end, 4), 2);
    for (int k = 0; k < 2; k++) {
        uint64_t sent = mid[k].stats.bytes_sent - sent0[k], got = end[k].stats.bytes_received - recv0[k];
        print_message("%s channel %d (%s): %llu MiB written, %llu MiB read\n", share, k, end[k].host,
                      (unsigned long long)(sent >> 20), (unsigned long long)(got >> 20));
        assert_true(end[k].alive);
        assert_true(sent > BIG / 5);
        assert_true(got > BIG / 5);
    }
    /* On the server's disk: the same bytes. */
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", v(dir_key), name);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal((uint64_t)st.st_size, (uint64_t)BIG);
    for (size_t off = 0; off < BIG; off += PIECE) {
        assert_int_equal(pread(fd, back, PIECE, (off_t)off), (ssize_t)PIECE);
        itest_pattern_fill(buf, PIECE, 77, off);
        assert_memory_equal(back, buf, PIECE);
    }
    close(fd);
    unlink(path);
    free(buf);
    free(back);
    smb_conn_close(c.conn); /* closes the session and its second channel */
}

static void test_signed_two_channels(void **state)
{
    (void)state;
    transfer_over_two("data", "SMBCOPY_MC_SHARE_DIR", "signed-1g.bin");
}

static void test_encrypted_two_channels(void **state)
{
    (void)state;
    transfer_over_two("secret", "SMBCOPY_MC_SECRET_DIR", "sealed-1g.bin");
}

/* SMB 3.0.2: no preauth hash, the channel's signing key from the binding's session key alone (AES-CMAC). */
static void test_smb302_two_channels(void **state)
{
    (void)state;
    max_dialect = SMB_DIALECT_3_0_2;
    transfer_over_two("secret", "SMBCOPY_MC_SECRET_DIR", "sealed-302.bin");
    transfer_over_two("data", "SMBCOPY_MC_SHARE_DIR", "signed-302.bin");
    max_dialect = 0;
}

typedef struct writer {
    smb_open *f;
    const uint8_t *buf;
    int rc;
    smb_error err;
} writer;

/* One pipelined write of the whole buffer (filled beforehand): requests in flight all along. */
static void *write_big(void *p)
{
    writer *w = p;
    w->rc = smb_pwrite(w->f, w->buf, BIG, 0, 16, &w->err);
    return NULL;
}

static void test_channel_lost(void **state)
{
    (void)state;
    client c;
    connect_to(&c, atoi(v("SMBCOPY_MC_PORT")), "secret");
    smb_error err = {0};
    if (bind_on(&c, v("SMBCOPY_MC_HOST2"), atoi(v("SMBCOPY_MC_PORT")), &err) != 0)
        fail_msg("bind: %s", err.message);
    writer w = {.f = smb_open_file(c.tree, "lost.bin", SMB_O_RDWR | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err)};
    if (!w.f)
        fail_msg("create: %s", err.message);
    uint8_t *all = malloc(BIG);
    assert_non_null(all);
    itest_pattern_fill(all, BIG, 91, 0);
    w.buf = all;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, write_big, &w), 0);
    /*
     * Once the second channel has carried 200 MiB, cut its connection at a
     * moment it has requests in flight (the way a dying path does; smbcopy's
     * test kills one from outside with ss -K).
     */
    smb_channel_info ch[4];
    bool cut = false;
    for (int i = 0; i < 100000 && !cut; i++) {
        smb_session_channels(c.sess, ch, 4);
        if (ch[1].stats.bytes_sent > BIG / 5 && ch[1].stats.in_flight > 0) {
            shutdown(c.sess->chan[1].conn->fd, SHUT_RDWR);
            cut = true;
        } else {
            nanosleep(&(struct timespec){0, 100000}, NULL);
        }
    }
    assert_true(cut);
    pthread_join(th, NULL);
    free(all);
    if (w.rc != 0)
        fail_msg("the write failed after the channel was lost: %s", w.err.message);
    assert_int_equal(smb_session_channels(c.sess, ch, 4), 2);
    print_message("after the loss: channel 1 alive=%d, %llu requests replayed\n", ch[1].alive,
                  (unsigned long long)ch[1].replayed);
    assert_false(ch[1].alive);
    assert_true(ch[0].alive);
    assert_true(ch[1].replayed > 0);
    /* Read back through the one channel left, and on disk. */
    uint8_t *buf = malloc(PIECE), *back = malloc(PIECE);
    assert_non_null(buf);
    assert_non_null(back);
    char path[4096];
    snprintf(path, sizeof path, "%s/lost.bin", v("SMBCOPY_MC_SECRET_DIR"));
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    for (size_t off = 0; off < BIG; off += PIECE) {
        size_t n = 0;
        if (smb_pread(w.f, back, PIECE, off, 16, &n, &err) != 0)
            fail_msg("read back at %zu: %s", off, err.message);
        assert_int_equal(n, PIECE);
        itest_pattern_fill(buf, PIECE, 91, off);
        assert_memory_equal(back, buf, PIECE);
        assert_int_equal(pread(fd, back, PIECE, (off_t)off), (ssize_t)PIECE);
        assert_memory_equal(back, buf, PIECE);
    }
    close(fd);
    unlink(path);
    free(buf);
    free(back);
    smb_close(w.f, NULL, &err);
    smb_conn_close(c.conn);
}

/* A connection made with other options (another client GUID) or to another server is refused before any exchange. */
static void test_binding_mismatch(void **state)
{
    (void)state;
    client c;
    connect_to(&c, atoi(v("SMBCOPY_MC_PORT")), "data");
    smb_error err = {0};
    smb_conn_opts o;
    smb_conn_opts_init(&o); /* a fresh random client GUID */
    smb_conn *other = smb_conn_connect(v("SMBCOPY_MC_HOST2"), (uint16_t)atoi(v("SMBCOPY_MC_PORT")), &o, &err);
    if (!other)
        fail_msg("connect: %s", err.message);
    smb_creds cr = creds();
    assert_int_equal(smb_session_bind(c.sess, other, &cr, &err), SMB_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "client GUID"));
    smb_conn_close(other);
    smb_session_channel_opts(c.sess, &o);
    smb_conn *elsewhere = smb_conn_connect(v("SMBCOPY_MC_HOST"), (uint16_t)atoi(v("SMBCOPY_MC_PORT_NOMC")), &o, &err);
    if (!elsewhere)
        fail_msg("connect: %s", err.message);
    assert_int_equal(smb_session_bind(c.sess, elsewhere, &cr, &err), SMB_ERR_INVALID_ARG);
    smb_conn_close(elsewhere);
    /* Nothing changed: one channel, and it works. */
    smb_channel_info ch[2];
    assert_int_equal(smb_session_channels(c.sess, ch, 2), 1);
    smb_file_info fi;
    assert_int_equal(smb_stat(c.tree, "", &fi, &err), 0);
    smb_conn_close(c.conn);
}

static void test_binding_refused(void **state)
{
    (void)state;
    client c;
    int port = atoi(v("SMBCOPY_MC_PORT_NOMC"));
    connect_to(&c, port, "data");
    smb_error err = {0};
    assert_int_equal(bind_on(&c, v("SMBCOPY_MC_HOST2"), port, &err), SMB_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "multichannel"));
    smb_channel_info ch[2];
    assert_int_equal(smb_session_channels(c.sess, ch, 2), 1);
    /* The session goes on. */
    const char text[] = "one channel is enough\n";
    assert_int_equal(smb_write_file(c.tree, "one.txt", text, sizeof text - 1, NULL, NULL, NULL, &err), 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/one.txt", v("SMBCOPY_MC_NOMC_SHARE_DIR"));
    char got[64] = {0};
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, got, sizeof got), (ssize_t)(sizeof text - 1));
    close(fd);
    assert_string_equal(got, text);
    unlink(path);
    smb_conn_close(c.conn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interfaces),
        cmocka_unit_test(test_signed_two_channels),
        cmocka_unit_test(test_encrypted_two_channels),
        cmocka_unit_test(test_smb302_two_channels),
        cmocka_unit_test(test_channel_lost),
        cmocka_unit_test(test_binding_mismatch),
        cmocka_unit_test(test_binding_refused),
    };
    return cmocka_run_group_tests(tests, load, NULL);
}

/*
 * Reply create contexts and durable handles against the fixture's Samba:
 * maximal access, on-disk id and a lease decoded from the CREATE response;
 * a durable open (v2 with a lease, v1 with a batch oplock) that goes on,
 * same object and same bytes, after its TCP connection was destroyed with
 * `ss -K` and a new connection reopened it (MS-SMB2 3.2.4.4).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "itest_smb.h"

#define DURABLE_SHARE "durable"
#define FILE_BYTES (1024 * 1024)

/* The durable share's directory on disk: beside the data share's. */
static const char *durable_disk_path(const char *rel, char *buf, size_t len)
{
    const itest_env *env = itest_require_env();
    const char *data = itest_share_dir(env, "main");
    if (!data)
        fail_msg("no share directory for the main instance");
    snprintf(buf, len, "%s/../durable/%s", data, rel);
    return buf;
}

/* Connect to the main instance's durable share: with like's options
 * (smb_session_channel_opts: its client GUID and dialect) when like is
 * given, else with a dialect up to max_dialect (0: any). */
static void connect_durable_like(it_client *c, uint16_t max_dialect, const it_client *like)
{
    const itest_env *env = itest_require_env();
    smb_conn_opts opts;
    smb_conn_opts_init(&opts);
    if (like)
        smb_session_channel_opts(like->sess, &opts);
    else if (max_dialect)
        opts.max_dialect = max_dialect;
    smb_error err = {0};
    memset(c, 0, sizeof *c);
    c->instance = "main";
    c->conn = smb_conn_connect(env->host, (uint16_t)itest_port(env, "main"), &opts, &err);
    if (!c->conn)
        fail_msg("connect: %s", err.message);
    smb_creds cr = {.username = env->user, .password = env->password, .domain = env->domain};
    c->sess = smb_session_setup(c->conn, &cr, &err);
    if (!c->sess)
        fail_msg("session setup: %s", err.message);
    c->tree = smb_tree_connect(c->sess, DURABLE_SHARE, &err);
    if (!c->tree)
        fail_msg("tree connect to %s: %s", DURABLE_SHARE, err.message);
}

static void connect_durable(it_client *c, uint16_t max_dialect) { connect_durable_like(c, max_dialect, NULL); }

/* Destroy conn's TCP connection in the kernel, both ends (ss -K, as a
 * network failure would): the server sees a reset, the client an abort. */
static void kill_connection(smb_conn *conn)
{
    struct sockaddr_in sa;
    socklen_t slen = sizeof sa;
    assert_int_equal(getsockname(smb_conn_socket(conn), (struct sockaddr *)&sa, &slen), 0);
    int port = ntohs(sa.sin_port);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ss -K -t -n '( sport = :%d or dport = :%d )' >/dev/null 2>&1", port, port);
    if (system(cmd) != 0)
        fail_msg("ss -K could not destroy the connection from port %d (needs root and CONFIG_INET_DIAG_DESTROY)", port);
}

static void fresh_pattern_file(const char *rel, uint64_t seed)
{
    char path[PATH_MAX];
    durable_disk_path(rel, path, sizeof path);
    unlink(path);
    assert_int_equal(itest_write_file(path, FILE_BYTES, seed), 0);
}

/* Read the whole file through op and compare with the pattern seed, with
 * changed[0..clen) written at coff. */
static void expect_bytes(smb_open *op, uint64_t seed, uint64_t coff, const char *changed, size_t clen)
{
    uint8_t *want = malloc(FILE_BYTES), *got = malloc(FILE_BYTES);
    assert_non_null(want);
    assert_non_null(got);
    itest_pattern_fill(want, FILE_BYTES, seed, 0);
    memcpy(want + coff, changed, clen);
    size_t n = 0;
    smb_error err = {0};
    IT_OK(smb_pread(op, got, FILE_BYTES, 0, 8, &n, &err), err);
    assert_int_equal(n, FILE_BYTES);
    assert_memory_equal(got, want, FILE_BYTES);
    free(want);
    free(got);
}

/* Reopen op on tree; the server may take a moment to see the old
 * connection's end (until then it refuses with NOT_FOUND). */
static void reconnect(smb_open *op, smb_tree *tree, smb_create_reply *reply)
{
    smb_error err = {0};
    for (int i = 0; i < 50; i++) {
        if (smb_open_reconnect(op, tree, reply, &err) == 0)
            return;
        if (err.code != SMB_ERR_NOT_FOUND)
            break;
        usleep(100 * 1000);
    }
    fail_msg("reconnect: %s", err.message);
}

static void test_reply_contexts(void **state)
{
    (void)state;
    fresh_pattern_file("contexts.bin", 1);
    char path[PATH_MAX];
    struct stat st;
    assert_int_equal(stat(durable_disk_path("contexts.bin", path, sizeof path), &st), 0);
    it_client c;
    connect_durable(&c, 0);
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_READ_DATA | SMB_FILE_WRITE_DATA | SMB_FILE_READ_ATTRIBUTES;
    p.query_maximal_access = true;
    p.query_on_disk_id = true;
    p.lease_state = SMB_LEASE_READ | SMB_LEASE_HANDLE | SMB_LEASE_WRITE;
    for (int i = 0; i < 16; i++)
        p.lease_key[i] = (uint8_t)(0xA0 + i);
    smb_create_reply reply;
    smb_error err = {0};
    smb_open *op = smb_create_ex(c.tree, "contexts.bin", &p, NULL, &reply, &err);
    assert_non_null(op);
    assert_int_equal(reply.create_action, SMB_CREATE_ACTION_OPENED);
    /* MxAc: the owner may read, write and delete its file. */
    assert_true(reply.has_maximal_access);
    assert_int_equal(reply.maximal_access_status, 0);
    assert_true((reply.maximal_access & (SMB_FILE_READ_DATA | SMB_FILE_WRITE_DATA | SMB_DELETE)) ==
                (SMB_FILE_READ_DATA | SMB_FILE_WRITE_DATA | SMB_DELETE));
    /* QFid: Samba's on-disk id is the inode number. */
    assert_true(reply.has_on_disk_id);
    assert_int_equal(reply.on_disk_file_id, (uint64_t)st.st_ino);
    /* The lease: our key, every state asked (no other opener). */
    assert_true(reply.has_lease);
    assert_memory_equal(reply.lease_key, p.lease_key, 16);
    assert_int_equal(reply.lease_state, p.lease_state);
    assert_int_equal(reply.oplock, SMB_OPLOCK_LEVEL_LEASE);
    assert_int_equal(smb_open_oplock_level(op), SMB_OPLOCK_LEVEL_LEASE);
    assert_int_equal(reply.durable, SMB_DURABLE_NONE);
    assert_int_equal(smb_open_durable(op), SMB_DURABLE_NONE);
    /* Not durable: nothing to reconnect. */
    it_client c2;
    connect_durable(&c2, 0);
    assert_int_equal(smb_open_reconnect(op, c2.tree, NULL, &err), SMB_ERR_INVALID_ARG);
    IT_OK(smb_close(op, NULL, &err), err);
    it_close(&c2);
    it_close(&c);
}

static void test_v2_needs_smb3(void **state)
{
    (void)state;
    fresh_pattern_file("v2-on-21.bin", 2);
    it_client c;
    connect_durable(&c, SMB_DIALECT_2_1);
    smb_create_params p;
    smb_create_params_init(&p);
    p.oplock = SMB_OPLOCK_BATCH;
    p.durable = SMB_DURABLE_V2;
    smb_error err = {0};
    assert_null(smb_create_ex(c.tree, "v2-on-21.bin", &p, NULL, NULL, &err));
    assert_int_equal(err.code, SMB_ERR_INVALID_ARG);
    it_close(&c);
}

/* Open rel durably with p on a connection of max_dialect, read, destroy
 * the connection, reopen on a new one, write and read through the same
 * smb_open, close the old connection, and check the bytes on disk. */
static void survive_killed_connection(const char *rel, uint64_t seed, uint16_t max_dialect,
                                      const smb_create_params *p, uint8_t want_durable)
{
    fresh_pattern_file(rel, seed);
    it_client c1;
    connect_durable(&c1, max_dialect);
    smb_create_reply reply;
    smb_error err = {0};
    smb_open *op = smb_create_ex(c1.tree, rel, p, NULL, &reply, &err);
    if (!op)
        fail_msg("open %s: %s", rel, err.message);
    assert_int_equal(reply.durable, want_durable);
    assert_int_equal(smb_open_durable(op), want_durable);
    expect_bytes(op, seed, 0, "", 0);

    kill_connection(c1.conn);
    uint8_t buf[16];
    size_t n;
    assert_true(smb_pread(op, buf, sizeof buf, 0, 1, &n, &err) != 0); /* the connection is gone */

    it_client c2;
    if (p->lease_state) {
        /* A lease is its client GUID's: another connection's is refused before anything is sent. */
        connect_durable(&c2, max_dialect);
        assert_int_equal(smb_open_reconnect(op, c2.tree, NULL, &err), SMB_ERR_INVALID_ARG);
        it_close(&c2);
    }
    connect_durable_like(&c2, max_dialect, &c1);
    smb_create_reply again;
    reconnect(op, c2.tree, &again);
    static const char changed[] = "written after the reconnect";
    IT_OK(smb_pwrite(op, changed, sizeof changed - 1, 4096, 1, &err), err);
    expect_bytes(op, seed, 4096, changed, sizeof changed - 1);
    /* The old connection's end leaves the open alone: it is c2's now. */
    it_close(&c1);
    expect_bytes(op, seed, 4096, changed, sizeof changed - 1);
    IT_OK(smb_close(op, NULL, &err), err);

    uint8_t *want = malloc(FILE_BYTES);
    assert_non_null(want);
    itest_pattern_fill(want, FILE_BYTES, seed, 0);
    memcpy(want + 4096, changed, sizeof changed - 1);
    char path[PATH_MAX];
    assert_int_equal(itest_compare_file(durable_disk_path(rel, path, sizeof path), want, FILE_BYTES), 0);
    free(want);
    it_close(&c2);
}

static void test_v2_lease_survives_killed_connection(void **state)
{
    (void)state;
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_READ_DATA | SMB_FILE_WRITE_DATA | SMB_FILE_READ_ATTRIBUTES;
    p.lease_state = SMB_LEASE_READ | SMB_LEASE_HANDLE | SMB_LEASE_WRITE;
    p.durable = SMB_DURABLE_V2;
    p.durable_timeout_ms = 60000;
    survive_killed_connection("v2-lease.bin", 3, 0, &p, SMB_DURABLE_V2);
}

static void test_v1_batch_survives_killed_connection(void **state)
{
    (void)state;
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_READ_DATA | SMB_FILE_WRITE_DATA | SMB_FILE_READ_ATTRIBUTES;
    p.oplock = SMB_OPLOCK_BATCH;
    p.durable = SMB_DURABLE_V1;
    survive_killed_connection("v1-batch.bin", 4, SMB_DIALECT_2_1, &p, SMB_DURABLE_V1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_contexts),
        cmocka_unit_test(test_v2_needs_smb3),
        cmocka_unit_test(test_v2_lease_survives_killed_connection),
        cmocka_unit_test(test_v1_batch_survives_killed_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Public compounds (include/smbcopy/compound.h) against real Samba: related
 * CREATE + QUERY_INFO + CLOSE in one frame (counted by a proxy that
 * forwards whole frames), CREATE + WRITE + CLOSE, a related chain whose
 * CREATE fails, unrelated stats, an open taken and used afterwards, the
 * limits (operations, credits, sizes), and an open not taken closed by
 * smb_compound_free.
 */
#include "itest_smb.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <smbcopy/compound.h>
#include <smbcopy/ntstatus.h>

#include "pdu.h"

#define STATUS_OBJECT_NAME_NOT_FOUND 0xC0000034u

/* ---------------------------------------------------------------- a proxy counting frames */

typedef struct counting_proxy {
    int listen_fd;
    uint16_t port, server_port;
    pthread_mutex_t lock;
    unsigned frames_up;   /* client to server */
    unsigned frames_down; /* server to client */
    pthread_t thread;
} counting_proxy;

typedef struct leg {
    counting_proxy *px;
    int from, to;
    unsigned *count;
} leg;

/* Forward whole NetBIOS-framed messages (MS-SMB2 2.1), counting them. */
static void *leg_main(void *p)
{
    leg *l = p;
    uint8_t *buf = malloc(1 << 24);
    for (;;) {
        uint8_t nb[4];
        if (!buf || itest_recv_all(l->from, nb, 4))
            break;
        size_t len = ((size_t)nb[1] << 16) | ((size_t)nb[2] << 8) | nb[3];
        if (itest_recv_all(l->from, buf, len))
            break;
        pthread_mutex_lock(&l->px->lock);
        (*l->count)++;
        pthread_mutex_unlock(&l->px->lock);
        if (itest_send_all(l->to, nb, 4) || itest_send_all(l->to, buf, len))
            break;
    }
    shutdown(l->to, SHUT_RDWR);
    shutdown(l->from, SHUT_RDWR);
    free(buf);
    return NULL;
}

static void *proxy_main(void *p)
{
    counting_proxy *px = p;
    int cfd = accept(px->listen_fd, NULL, NULL);
    if (cfd < 0)
        return NULL;
    int sfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(px->server_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (sfd < 0 || connect(sfd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(cfd);
        if (sfd >= 0)
            close(sfd);
        return NULL;
    }
    leg up = {px, cfd, sfd, &px->frames_up}, down = {px, sfd, cfd, &px->frames_down};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, leg_main, &up);
    pthread_create(&t2, NULL, leg_main, &down);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    close(cfd);
    close(sfd);
    return NULL;
}

static void proxy_start(counting_proxy *px, uint16_t server_port)
{
    memset(px, 0, sizeof *px);
    pthread_mutex_init(&px->lock, NULL);
    px->server_port = server_port;
    px->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(px->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(px->listen_fd, 1), 0);
    socklen_t sl = sizeof sa;
    getsockname(px->listen_fd, (struct sockaddr *)&sa, &sl);
    px->port = ntohs(sa.sin_port);
    pthread_create(&px->thread, NULL, proxy_main, px);
}

static unsigned proxy_frames_up(counting_proxy *px)
{
    pthread_mutex_lock(&px->lock);
    unsigned n = px->frames_up;
    pthread_mutex_unlock(&px->lock);
    return n;
}

static void proxy_stop(counting_proxy *px)
{
    shutdown(px->listen_fd, SHUT_RDWR);
    close(px->listen_fd);
    pthread_join(px->thread, NULL);
    pthread_mutex_destroy(&px->lock);
}

/* A connection, session and tree to the main instance through px. */
static void connect_via(it_client *c, counting_proxy *px)
{
    const itest_env *env = itest_require_env();
    proxy_start(px, (uint16_t)itest_port(env, "main"));
    smb_error err = {0};
    memset(c, 0, sizeof *c);
    c->instance = "main";
    c->conn = smb_conn_connect("127.0.0.1", px->port, NULL, &err);
    if (!c->conn)
        fail_msg("connect through the proxy: %s", err.message);
    smb_creds cr = {.username = env->user, .password = env->password, .domain = env->domain};
    c->sess = smb_session_setup(c->conn, &cr, &err);
    if (!c->sess)
        fail_msg("logon through the proxy: %s", err.message);
    c->tree = smb_tree_connect(c->sess, env->share, &err);
    if (!c->tree)
        fail_msg("tree connect through the proxy: %s", err.message);
}

/* ---------------------------------------------------------------- helpers */

static smb_create_params read_params(void)
{
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_READ_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    return p;
}

/* Assert op i of c succeeded, printing its error otherwise. */
static void assert_op_ok(const smb_compound *c, int i)
{
    smb_error e = {0};
    int rc = smb_compound_error(c, i, &e);
    if (rc != 0)
        fail_msg("operation %d failed: %d %s", i, rc, e.message);
    assert_int_equal(smb_compound_status(c, i), SMB_STATUS_SUCCESS);
}

/* ---------------------------------------------------------------- tests */

/* CREATE + QUERY_INFO(FileStandardInformation) + CLOSE: one frame out, the size disk says. */
static void test_related_stat_one_frame(void **state)
{
    (void)state;
    it_fresh_dir("main", "cmp_stat");
    char disk[PATH_MAX];
    assert_int_equal(itest_write_file(it_disk_path("main", "cmp_stat/f.bin", disk, sizeof disk), 123457, 7), 0);
    counting_proxy px;
    it_client c;
    connect_via(&c, &px);
    smb_error err = {0};
    smb_conn_stats before, after;
    smb_conn_get_stats(c.conn, &before);
    unsigned frames = proxy_frames_up(&px);

    smb_compound *cp = smb_compound_new(c.tree, true, &err);
    assert_non_null(cp);
    smb_create_params p = read_params();
    assert_int_equal(smb_compound_add_create(cp, "cmp_stat/f.bin", &p, &err), 0);
    assert_int_equal(
        smb_compound_add_query_info(cp, NULL, SMB_INFO_FILE, SMB_FILE_STANDARD_INFORMATION, 0, 24, &err), 1);
    assert_int_equal(smb_compound_add_close(cp, NULL, &err), 2);
    assert_int_equal(smb_compound_count(cp), 3);
    IT_OK(smb_compound_send(cp, &err), err);

    smb_conn_get_stats(c.conn, &after);
    assert_int_equal(after.requests - before.requests, 3);
    assert_int_equal(proxy_frames_up(&px) - frames, 1); /* the three requests in one frame */
    for (int i = 0; i < 3; i++)
        assert_op_ok(cp, i);
    size_t len = 0;
    const uint8_t *out = smb_compound_output(cp, 1, &len);
    assert_non_null(out);
    assert_int_equal(len, 24);
    uint64_t alloc = 0, eof = 0;
    uint32_t links = 0;
    bool del = true, dir = true;
    assert_int_equal(smb2_standard_info_decode(out, len, &alloc, &eof, &links, &del, &dir), 0);
    assert_int_equal(eof, 123457);
    assert_false(dir);
    assert_false(del);
    smb_file_info info;
    IT_OK(smb_compound_close_info(cp, 2, &info), err);
    assert_int_equal(info.end_of_file, 123457);
    /* Closed by the compound's CLOSE: nothing to take, nothing left on the tree. */
    assert_null(smb_compound_take_open(cp, 0, NULL));
    assert_null(smb_compound_output(cp, 0, NULL));
    assert_int_equal(smb_compound_error(cp, 0, &err), 0);
    assert_int_equal(smb_compound_send(cp, &err), SMB_ERR_INVALID_ARG); /* sent once */
    smb_compound_free(cp);
    /* The proxy counts what it should: one ECHO, one frame. */
    frames = proxy_frames_up(&px);
    IT_OK(smb_conn_echo(c.conn, &err), err);
    assert_int_equal(proxy_frames_up(&px) - frames, 1);
    it_close(&c);
    proxy_stop(&px);
}

/* CREATE (new) + WRITE + CLOSE; the bytes on disk. */
static void test_related_create_write_close(void **state)
{
    (void)state;
    it_fresh_dir("main", "cmp_write");
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    const size_t n = 100000;
    uint8_t *buf = malloc(n);
    assert_non_null(buf);
    itest_pattern_fill(buf, n, 11, 0);

    smb_compound *cp = smb_compound_new(c.tree, true, &err);
    assert_non_null(cp);
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_WRITE_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    p.disposition = SMB_FILE_CREATE;
    p.options = SMB_FILE_NON_DIRECTORY_FILE;
    assert_int_equal(smb_compound_add_create(cp, "cmp_write/new.bin", &p, &err), 0);
    assert_int_equal(smb_compound_add_write(cp, NULL, 0, buf, (uint32_t)n, &err), 1);
    assert_int_equal(smb_compound_add_close(cp, NULL, &err), 2);
    IT_OK(smb_compound_send(cp, &err), err);
    for (int i = 0; i < 3; i++)
        assert_op_ok(cp, i);
    assert_int_equal(smb_compound_written(cp, 1), n);
    smb_create_reply reply;
    IT_OK(smb_compound_create_reply(cp, 0, &reply, &err), err);
    assert_int_equal(reply.create_action, SMB_CREATE_ACTION_CREATED);
    smb_file_info info;
    IT_OK(smb_compound_close_info(cp, 2, &info), err);
    assert_int_equal(info.end_of_file, n);
    smb_compound_free(cp);
    char disk[PATH_MAX];
    assert_int_equal(itest_compare_file(it_disk_path("main", "cmp_write/new.bin", disk, sizeof disk), buf, n), 0);
    free(buf);
    it_close(&c);
}

/* A related chain whose CREATE fails: every later operation fails too, and there is no open. */
static void test_related_failed_create(void **state)
{
    (void)state;
    it_fresh_dir("main", "cmp_missing");
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    smb_compound *cp = smb_compound_new(c.tree, true, &err);
    assert_non_null(cp);
    smb_create_params p = read_params();
    assert_int_equal(smb_compound_add_create(cp, "cmp_missing/nothing.bin", &p, &err), 0);
    assert_int_equal(smb_compound_add_query_info(cp, NULL, SMB_INFO_FILE, SMB_FILE_STANDARD_INFORMATION, 0, 24, &err),
                     1);
    assert_int_equal(smb_compound_add_read(cp, NULL, 0, 4096, &err), 2);
    assert_int_equal(smb_compound_add_close(cp, NULL, &err), 3);
    IT_OK(smb_compound_send(cp, &err), err); /* sent and answered: the failures are each operation's */
    assert_int_equal(smb_compound_status(cp, 0), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(smb_compound_error(cp, 0, &err), SMB_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "cmp_missing/nothing.bin"));
    for (int i = 1; i < 4; i++) {
        uint32_t st = smb_compound_status(cp, i);
        print_message("operation %d: 0x%08x\n", i, st);
        /* The CREATE's status or STATUS_INVALID_PARAMETER (MS-SMB2 3.3.5.2.7.2), as the server says. */
        assert_true(st == STATUS_OBJECT_NAME_NOT_FOUND || st == SMB_STATUS_INVALID_PARAMETER);
        assert_int_not_equal(smb_compound_error(cp, i, &err), 0);
        assert_null(smb_compound_output(cp, i, NULL));
    }
    assert_null(smb_compound_take_open(cp, 0, NULL));
    assert_int_equal(smb_compound_close_info(cp, 3, &(smb_file_info){0}), SMB_ERR_INVALID_ARG);
    smb_compound_free(cp);
    /* The connection carries on. */
    IT_OK(smb_stat(c.tree, "cmp_missing", NULL, &err), err);
    it_close(&c);
}

/* Unrelated: three CREATEs (one missing), then QUERY_INFO and CLOSE of the two opens in a second compound. */
static void test_unrelated_stats(void **state)
{
    (void)state;
    it_fresh_dir("main", "cmp_unrel");
    char disk[PATH_MAX];
    assert_int_equal(itest_write_file(it_disk_path("main", "cmp_unrel/a", disk, sizeof disk), 1000, 1), 0);
    assert_int_equal(itest_write_file(it_disk_path("main", "cmp_unrel/c", disk, sizeof disk), 300000, 3), 0);
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    smb_compound *cp = smb_compound_new(c.tree, false, &err);
    assert_non_null(cp);
    smb_create_params p = read_params();
    assert_int_equal(smb_compound_add_create(cp, "cmp_unrel/a", &p, &err), 0);
    assert_int_equal(smb_compound_add_create(cp, "cmp_unrel/b", &p, &err), 1);
    assert_int_equal(smb_compound_add_create(cp, "cmp_unrel/c", &p, &err), 2);
    IT_OK(smb_compound_send(cp, &err), err);
    assert_op_ok(cp, 0);
    assert_op_ok(cp, 2);
    assert_int_equal(smb_compound_status(cp, 1), STATUS_OBJECT_NAME_NOT_FOUND);
    assert_int_equal(smb_compound_error(cp, 1, &err), SMB_ERR_NOT_FOUND);
    smb_file_info ia, ic;
    smb_open *a = smb_compound_take_open(cp, 0, &ia);
    smb_open *b = smb_compound_take_open(cp, 1, NULL);
    smb_open *o = smb_compound_take_open(cp, 2, &ic);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(o);
    assert_null(smb_compound_take_open(cp, 0, NULL)); /* taken once */
    assert_int_equal(ia.end_of_file, 1000);
    assert_int_equal(ic.end_of_file, 300000);
    smb_compound_free(cp);

    /* The opens named, each operation on its own. */
    cp = smb_compound_new(c.tree, false, &err);
    assert_non_null(cp);
    assert_int_equal(smb_compound_add_query_info(cp, a, SMB_INFO_FILE, SMB_FILE_STANDARD_INFORMATION, 0, 24, &err), 0);
    assert_int_equal(smb_compound_add_query_info(cp, o, SMB_INFO_FILE, SMB_FILE_STANDARD_INFORMATION, 0, 24, &err), 1);
    assert_int_equal(smb_compound_add_close(cp, a, &err), 2);
    assert_int_equal(smb_compound_add_close(cp, o, &err), 3); /* both the compound's now */
    assert_int_equal(smb_compound_add_read(cp, o, 0, 10, &err), SMB_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "closed by operation 3"));
    IT_OK(smb_compound_send(cp, &err), err);
    uint64_t want[2] = {1000, 300000};
    for (int i = 0; i < 2; i++) {
        assert_op_ok(cp, i);
        size_t len;
        const uint8_t *out = smb_compound_output(cp, i, &len);
        uint64_t alloc, eof;
        uint32_t links;
        bool del, dir;
        assert_non_null(out);
        assert_int_equal(smb2_standard_info_decode(out, len, &alloc, &eof, &links, &del, &dir), 0);
        assert_int_equal(eof, want[i]);
    }
    assert_op_ok(cp, 2);
    assert_op_ok(cp, 3);
    smb_compound_free(cp);
    it_close(&c);
}

/* An open taken from a compound, used afterwards with the ordinary calls. */
static void test_take_open_then_read(void **state)
{
    (void)state;
    it_fresh_dir("main", "cmp_take");
    const size_t size = 200000;
    char disk[PATH_MAX];
    assert_int_equal(itest_write_file(it_disk_path("main", "cmp_take/f", disk, sizeof disk), size, 5), 0);
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    smb_compound *cp = smb_compound_new(c.tree, true, &err);
    assert_non_null(cp);
    smb_create_params p = read_params();
    assert_int_equal(smb_compound_add_create(cp, "cmp_take/f", &p, &err), 0);
    assert_int_equal(smb_compound_add_read(cp, NULL, 1000, 5000, &err), 1);
    IT_OK(smb_compound_send(cp, &err), err);
    assert_op_ok(cp, 0);
    assert_op_ok(cp, 1);
    size_t len = 0;
    const uint8_t *data = smb_compound_output(cp, 1, &len);
    assert_int_equal(len, 5000);
    uint8_t want[5000];
    itest_pattern_fill(want, sizeof want, 5, 1000);
    assert_memory_equal(data, want, sizeof want);
    smb_file_info info;
    smb_open *op = smb_compound_take_open(cp, 0, &info);
    assert_non_null(op);
    assert_int_equal(info.end_of_file, size);
    smb_compound_free(cp); /* the open is the caller's: left open */

    uint8_t *buf = malloc(size);
    size_t n = 0;
    IT_OK(smb_pread(op, buf, size, 0, 4, &n, &err), err);
    assert_int_equal(n, size);
    assert_int_equal(itest_compare_file(disk, buf, size), 0);
    free(buf);
    IT_OK(smb_close(op, NULL, &err), err);
    it_close(&c);
}

/* The limits: operations, credits, sizes, and misuse; a compound at the limit goes. */
static void test_limits(void **state)
{
    (void)state;
    it_fresh_dir("main", "cmp_limits");
    char disk[PATH_MAX];
    assert_int_equal(itest_write_file(it_disk_path("main", "cmp_limits/f", disk, sizeof disk), 4u << 20, 9), 0);
    it_client c, lean;
    it_connect(&c, "main");
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    o.credits_target = 16; /* a connection holding few credits */
    it_connect_opts(&lean, "main", &o);
    smb_error err = {0};
    smb_create_params p = read_params();

    /* SMB_COMPOUND_MAX_OPS operations, not one more; those go and succeed. */
    smb_compound *cp = smb_compound_new(c.tree, true, &err);
    assert_int_equal(smb_compound_add_create(cp, "cmp_limits/f", &p, &err), 0);
    for (int i = 1; i < SMB_COMPOUND_MAX_OPS - 1; i++)
        assert_int_equal(
            smb_compound_add_query_info(cp, NULL, SMB_INFO_FILE, SMB_FILE_STANDARD_INFORMATION, 0, 24, &err), i);
    assert_int_equal(smb_compound_add_close(cp, NULL, &err), SMB_COMPOUND_MAX_OPS - 1);
    assert_int_equal(smb_compound_add_flush(cp, NULL, &err), SMB_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "at most 16 operations"));
    assert_int_equal(smb_compound_count(cp), SMB_COMPOUND_MAX_OPS);
    IT_OK(smb_compound_send(cp, &err), err);
    for (int i = 0; i < SMB_COMPOUND_MAX_OPS; i++)
        assert_op_ok(cp, i);
    smb_compound_free(cp);

    /* Credits: READs of 256 KiB (4 credits each) until the compound would cost more than the connection holds. */
    smb_conn_stats st;
    smb_conn_get_stats(lean.conn, &st);
    assert_int_equal(st.in_flight, 0);
    print_message("credits held: %u\n", st.credits);
    cp = smb_compound_new(lean.tree, true, &err);
    assert_int_equal(smb_compound_add_create(cp, "cmp_limits/f", &p, &err), 0);
    int reads = 0, rc = 0;
    while ((rc = smb_compound_add_read(cp, NULL, (uint64_t)reads * 262144u, 262144u, &err)) >= 0)
        reads++;
    assert_int_equal(rc, SMB_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "credits"));
    print_message("refused after %d reads: %s\n", reads, err.message);
    assert_true(reads >= 1);
    assert_true(1u + 4u * (unsigned)reads <= st.credits);
    assert_true(1u + 4u * (unsigned)(reads + 1) > st.credits);
    assert_int_equal(smb_compound_count(cp), 1 + reads); /* the refused one left nothing behind */
    IT_OK(smb_compound_send(cp, &err), err);
    for (int i = 0; i <= reads; i++)
        assert_op_ok(cp, i);
    size_t len = 0;
    const uint8_t *data = smb_compound_output(cp, reads, &len);
    assert_int_equal(len, 262144);
    uint8_t *want = malloc(len);
    itest_pattern_fill(want, len, 9, (uint64_t)(reads - 1) * 262144u);
    assert_memory_equal(data, want, len);
    free(want);
    smb_compound_free(cp); /* closes the open nobody took */

    /* Sizes and misuse. */
    smb_conn_info ci;
    smb_conn_get_info(c.conn, &ci);
    cp = smb_compound_new(c.tree, false, &err);
    assert_int_equal(smb_compound_add_read(cp, NULL, 0, 10, &err), SMB_ERR_INVALID_ARG); /* unrelated: name the open */
    smb_open *f = smb_create(c.tree, "cmp_limits/f", &p, NULL, NULL, &err);
    assert_non_null(f);
    assert_int_equal(smb_compound_add_read(cp, f, 0, ci.max_read_size + 1u, &err), SMB_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "MaxReadSize"));
    assert_int_equal(smb_compound_add_read(cp, f, 0, 0, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(smb_compound_send(cp, &err), SMB_ERR_INVALID_ARG); /* empty */
    smb_compound_free(cp);
    cp = smb_compound_new(c.tree, true, &err);
    assert_int_equal(smb_compound_add_read(cp, NULL, 0, 10, &err), SMB_ERR_INVALID_ARG); /* no related open */
    assert_int_equal(smb_compound_add_read(cp, f, 0, 10, &err), 0);
    assert_int_equal(smb_compound_add_read(cp, f, 10, 10, &err), SMB_ERR_INVALID_ARG); /* related: NULL */
    assert_int_equal(smb_compound_add_read(cp, NULL, 10, 10, &err), 1);
    IT_OK(smb_compound_send(cp, &err), err);
    assert_op_ok(cp, 0);
    assert_op_ok(cp, 1);
    smb_compound_free(cp);
    IT_OK(smb_close(f, NULL, &err), err);
    assert_null(smb_compound_new(NULL, false, &err));
    it_close(&lean);
    it_close(&c);
}

/* An open not taken is closed by smb_compound_free: an exclusive open works only afterwards. */
static void test_free_closes_untaken(void **state)
{
    (void)state;
    it_fresh_dir("main", "cmp_free");
    char disk[PATH_MAX];
    assert_int_equal(itest_write_file(it_disk_path("main", "cmp_free/f", disk, sizeof disk), 100, 2), 0);
    it_client c, d;
    it_connect(&c, "main");
    it_connect(&d, "main");
    smb_error err = {0};
    smb_compound *cp = smb_compound_new(c.tree, true, &err);
    smb_create_params p = read_params();
    assert_int_equal(smb_compound_add_create(cp, "cmp_free/f", &p, &err), 0);
    assert_int_equal(smb_compound_add_query_info(cp, NULL, SMB_INFO_FILE, SMB_FILE_STANDARD_INFORMATION, 0, 24, &err),
                     1);
    IT_OK(smb_compound_send(cp, &err), err);
    assert_op_ok(cp, 0);
    assert_op_ok(cp, 1);

    smb_create_params excl = read_params();
    excl.share_access = 0;
    smb_open *x = smb_create(d.tree, "cmp_free/f", &excl, NULL, NULL, &err);
    assert_null(x); /* the compound's open is still there */
    assert_int_equal(err.code, SMB_ERR_SHARING);
    smb_compound_free(cp);
    x = smb_create(d.tree, "cmp_free/f", &excl, NULL, NULL, &err);
    if (!x)
        fail_msg("exclusive open after smb_compound_free: %s", err.message);
    IT_OK(smb_close(x, NULL, &err), err);

    /* A compound never sent that was handed an open closes it too. */
    smb_open *h = smb_create(c.tree, "cmp_free/f", &p, NULL, NULL, &err);
    assert_non_null(h);
    cp = smb_compound_new(c.tree, false, &err);
    assert_int_equal(smb_compound_add_close(cp, h, &err), 0);
    smb_compound_free(cp);
    x = smb_create(d.tree, "cmp_free/f", &excl, NULL, NULL, &err);
    if (!x)
        fail_msg("exclusive open after freeing a compound holding the open: %s", err.message);
    IT_OK(smb_close(x, NULL, &err), err);
    it_close(&d);
    it_close(&c);
}

/*
 * A failure in the middle of a related chain (a READ past the end): the
 * CLOSE after it closed the open (nothing to take) or failed as well (the
 * open is still there, to take and close); either way nothing stays open.
 */
static void test_middle_failure(void **state)
{
    (void)state;
    it_fresh_dir("main", "cmp_mid");
    char disk[PATH_MAX];
    assert_int_equal(itest_write_file(it_disk_path("main", "cmp_mid/f", disk, sizeof disk), 100, 4), 0);
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    smb_compound *cp = smb_compound_new(c.tree, true, &err);
    smb_create_params p = read_params();
    assert_int_equal(smb_compound_add_create(cp, "cmp_mid/f", &p, &err), 0);
    assert_int_equal(smb_compound_add_read(cp, NULL, 1000, 10, &err), 1);
    assert_int_equal(smb_compound_add_close(cp, NULL, &err), 2);
    IT_OK(smb_compound_send(cp, &err), err);
    assert_op_ok(cp, 0);
    assert_int_equal(smb_compound_status(cp, 1), SMB_STATUS_END_OF_FILE);
    assert_null(smb_compound_output(cp, 1, NULL));
    uint32_t close_status = smb_compound_status(cp, 2);
    print_message("CLOSE after the failed READ: 0x%08x\n", close_status);
    smb_open *left = smb_compound_take_open(cp, 0, NULL);
    if (close_status == SMB_STATUS_SUCCESS)
        assert_null(left);
    else
        assert_non_null(left);
    smb_compound_free(cp);
    IT_OK(smb_close(left, NULL, &err), err);
    smb_create_params excl = read_params();
    excl.share_access = 0;
    smb_open *x = smb_create(c.tree, "cmp_mid/f", &excl, NULL, NULL, &err);
    if (!x)
        fail_msg("exclusive open after the compound: %s", err.message);
    IT_OK(smb_close(x, NULL, &err), err);
    it_close(&c);
}

/*
 * Signed (signing required) and encrypted sessions: CREATE + WRITE (its data
 * in the middle of the frame) + READ + SET_INFO (delete on close) + CLOSE.
 */
static void test_signed_and_encrypted(void **state)
{
    (void)state;
    const char *instances[] = {"signreq", "encrypt"};
    uint8_t data[5000];
    itest_pattern_fill(data, sizeof data, 21, 0);
    for (size_t k = 0; k < 2; k++) {
        it_client c;
        it_connect(&c, instances[k]);
        smb_session_info si;
        smb_session_get_info(c.sess, &si);
        assert_true(k == 0 ? si.signing : si.encryption);
        smb_error err = {0};
        smb_compound *cp = smb_compound_new(c.tree, true, &err);
        smb_create_params p;
        smb_create_params_init(&p);
        p.desired_access = SMB_FILE_READ_DATA | SMB_FILE_WRITE_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_DELETE;
        p.disposition = SMB_FILE_OVERWRITE_IF;
        p.options = SMB_FILE_NON_DIRECTORY_FILE;
        uint8_t del = 1;
        assert_int_equal(smb_compound_add_create(cp, "cmp_protected.bin", &p, &err), 0);
        assert_int_equal(smb_compound_add_write(cp, NULL, 0, data, sizeof data, &err), 1);
        assert_int_equal(smb_compound_add_read(cp, NULL, 0, sizeof data, &err), 2);
        assert_int_equal(
            smb_compound_add_set_info(cp, NULL, SMB_INFO_FILE, SMB_FILE_DISPOSITION_INFORMATION, 0, &del, 1, &err), 3);
        assert_int_equal(smb_compound_add_close(cp, NULL, &err), 4);
        IT_OK(smb_compound_send(cp, &err), err);
        for (int i = 0; i < 5; i++)
            assert_op_ok(cp, i);
        size_t len = 0;
        const void *back = smb_compound_output(cp, 2, &len);
        assert_int_equal(len, sizeof data);
        assert_memory_equal(back, data, sizeof data);
        smb_compound_free(cp);
        assert_int_equal(smb_stat(c.tree, "cmp_protected.bin", NULL, &err), SMB_ERR_NOT_FOUND); /* deleted on close */
        it_close(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_related_stat_one_frame),
        cmocka_unit_test(test_related_create_write_close),
        cmocka_unit_test(test_related_failed_create),
        cmocka_unit_test(test_unrelated_stats),
        cmocka_unit_test(test_take_open_then_read),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_free_closes_untaken),
        cmocka_unit_test(test_middle_failure),
        cmocka_unit_test(test_signed_and_encrypted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

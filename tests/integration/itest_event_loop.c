/*
 * Event-loop mode (include/smbcopy/async.h) against the fixture's Samba: a
 * connection without threads of its own, driven by a single-threaded poll
 * loop: an asynchronous CREATE, then READs kept 8 in flight until the whole
 * file has come (bytes compared with the disk), WRITEs 8 in flight and an
 * asynchronous CLOSE (the disk compared), a listing by asynchronous
 * QUERY_DIRECTORY calls, and a lost connection failing what is pending.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <smbcopy/async.h>

#include "itest_smb.h"

#define FILE_BYTES (6u * 1024 * 1024 + 12345)
#define CHUNK (256u * 1024)
#define IN_FLIGHT 8

/* Threads of this process now (/proc/self/task). */
static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void connect_event_loop(it_client *c)
{
    smb_conn_opts opts;
    smb_conn_opts_init(&opts);
    opts.event_loop = true;
    it_connect_opts(c, "main", &opts);
}

/* One pass of the program's loop: poll the socket, then service it. */
static void loop_once(smb_conn *conn)
{
    struct pollfd p = {.fd = smb_conn_socket(conn), .events = (short)smb_conn_which_events(conn)};
    assert_true(p.events & POLLIN);
    int n = poll(&p, 1, 1000);
    assert_true(n >= 0);
    smb_error err = {0};
    IT_OK(smb_conn_service(conn, p.revents, &err), err);
}

typedef struct {
    smb_open *op;
    bool done;
    int rc;
} create_state;

static void on_create(smb_open *op, const smb_file_info *info, const smb_error *err, void *arg)
{
    create_state *s = arg;
    s->op = op;
    s->rc = op ? 0 : err->code;
    if (op)
        assert_non_null(info);
    s->done = true;
}

static smb_open *create_async(smb_conn *conn, smb_tree *tree, const char *path, const smb_create_params *p)
{
    create_state s = {0};
    smb_error err = {0};
    IT_OK(smb_create_async(tree, path, p, on_create, &s, &err), err);
    while (!s.done)
        loop_once(conn);
    if (!s.op)
        fail_msg("asynchronous create of %s failed: %d", path, s.rc);
    return s.op;
}

/* The reads (or writes) of a whole file, IN_FLIGHT at a time. */
typedef struct {
    smb_open *op;
    uint8_t *buf;
    bool is_read;
    size_t next;        /* offset of the next request to send */
    size_t done_bytes;
    int in_flight, most_in_flight;
    int failures;
} transfer;

static void start_next(transfer *t);

static void on_io(int rc, size_t bytes, const smb_error *err, void *arg)
{
    transfer *t = arg;
    t->in_flight--;
    if (rc != 0) {
        fprintf(stderr, "io failed: %s\n", err->message);
        t->failures++;
        return;
    }
    t->done_bytes += bytes;
    start_next(t); /* from inside the callback: asynchronous calls are allowed */
}

static void start_next(transfer *t)
{
    while (t->in_flight < IN_FLIGHT && t->next < FILE_BYTES) {
        size_t len = FILE_BYTES - t->next < CHUNK ? FILE_BYTES - t->next : CHUNK;
        smb_error err = {0};
        int rc = t->is_read ? smb_read_async(t->op, t->buf + t->next, len, t->next, on_io, t, &err)
                            : smb_write_async(t->op, t->buf + t->next, len, t->next, on_io, t, &err);
        if (rc != 0)
            fail_msg("submit at %zu: %s", t->next, err.message);
        t->next += len;
        t->in_flight++;
        if (t->in_flight > t->most_in_flight)
            t->most_in_flight = t->in_flight;
    }
}

static void run_transfer(smb_conn *conn, transfer *t)
{
    start_next(t);
    while (t->in_flight > 0)
        loop_once(conn);
    assert_int_equal(t->failures, 0);
    assert_int_equal(t->done_bytes, FILE_BYTES);
    assert_int_equal(t->most_in_flight, IN_FLIGHT);
}

typedef struct {
    bool done;
    int rc;
} close_state;

static void on_close(int rc, const smb_error *err, void *arg)
{
    (void)err;
    close_state *s = arg;
    s->rc = rc;
    s->done = true;
}

static void test_reads_and_writes_in_flight(void **state)
{
    (void)state;
    it_fresh_dir("main", "evloop");
    char disk[PATH_MAX];
    assert_int_equal(itest_write_file(it_disk_path("main", "evloop/source.bin", disk, sizeof disk), FILE_BYTES, 11), 0);
    int threads_before = thread_count();
    it_client c;
    connect_event_loop(&c); /* negotiate, session setup and tree connect read the socket themselves */
    assert_int_equal(thread_count(), threads_before);

    transfer rd = {.is_read = true, .buf = malloc(FILE_BYTES)};
    assert_non_null(rd.buf);
    rd.op = create_async(c.conn, c.tree, "evloop/source.bin", NULL);
    run_transfer(c.conn, &rd);
    uint8_t *want = malloc(FILE_BYTES);
    assert_non_null(want);
    itest_pattern_fill(want, FILE_BYTES, 11, 0);
    assert_memory_equal(rd.buf, want, FILE_BYTES);
    close_state cs = {0};
    smb_error err = {0};
    IT_OK(smb_close_async(rd.op, on_close, &cs, &err), err);
    while (!cs.done)
        loop_once(c.conn);
    assert_int_equal(cs.rc, 0);

    /* Writes: the bytes read, 8 in flight, into a new file. */
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_WRITE_DATA | SMB_FILE_READ_ATTRIBUTES;
    p.disposition = SMB_FILE_CREATE;
    transfer wr = {.is_read = false, .buf = rd.buf};
    wr.op = create_async(c.conn, c.tree, "evloop/written.bin", &p);
    run_transfer(c.conn, &wr);
    cs.done = false;
    IT_OK(smb_close_async(wr.op, on_close, &cs, &err), err);
    while (!cs.done)
        loop_once(c.conn);
    assert_int_equal(cs.rc, 0);
    assert_int_equal(itest_compare_file(it_disk_path("main", "evloop/written.bin", disk, sizeof disk), want,
                                        FILE_BYTES),
                     0);
    /* A synchronous call on the same connection, from the same thread. */
    smb_file_info info;
    IT_OK(smb_stat(c.tree, "evloop/written.bin", &info, &err), err);
    assert_int_equal(info.end_of_file, FILE_BYTES);
    assert_int_equal(thread_count(), threads_before);
    free(want);
    free(rd.buf);
    it_close(&c);
}

typedef struct {
    int names;
    bool end;
    int rc;
    int answers;
    bool saw_file_0;
} dir_state;

static void on_dir(int rc, const smb_dirent *entries, size_t n, bool end, const smb_error *err, void *arg)
{
    (void)err;
    dir_state *s = arg;
    s->answers++;
    s->rc = rc;
    s->end = end || rc != 0;
    for (size_t i = 0; i < n; i++) {
        s->names++;
        if (strcmp(entries[i].name, "file-000.txt") == 0 && entries[i].info.end_of_file == 3)
            s->saw_file_0 = true;
    }
}

static void test_listing(void **state)
{
    (void)state;
    it_fresh_dir("main", "evlist");
    char disk[PATH_MAX], rel[64];
    for (int i = 0; i < 400; i++) {
        snprintf(rel, sizeof rel, "evlist/file-%03d.txt", i);
        FILE *f = fopen(it_disk_path("main", rel, disk, sizeof disk), "w");
        assert_non_null(f);
        fputs("abc", f);
        fclose(f);
    }
    it_client c;
    connect_event_loop(&c);
    smb_error err = {0};
    smb_open *dir = smb_open_dir(c.tree, "evlist", &err);
    assert_non_null(dir);
    dir_state s = {0};
    bool restart = true;
    while (!s.end) {
        int answers = s.answers;
        IT_OK(smb_query_directory_async(dir, "*", restart, on_dir, &s, &err), err);
        restart = false;
        while (s.answers == answers)
            loop_once(c.conn);
    }
    assert_int_equal(s.rc, 0);
    assert_int_equal(s.names, 400);
    assert_true(s.saw_file_0);
    /* A pattern nothing matches: the end at once, no entries. */
    dir_state none = {0};
    IT_OK(smb_query_directory_async(dir, "nomatch*", true, on_dir, &none, &err), err);
    while (!none.answers)
        loop_once(c.conn);
    assert_int_equal(none.rc, 0);
    assert_true(none.end);
    assert_int_equal(none.names, 0);
    IT_OK(smb_close(dir, NULL, &err), err);
    it_close(&c);
}

static void on_lost_read(int rc, size_t bytes, const smb_error *err, void *arg)
{
    (void)bytes;
    (void)err;
    *(int *)arg = rc;
}

static void test_lost_connection(void **state)
{
    (void)state;
    it_client c;
    connect_event_loop(&c);
    smb_error err = {0};
    smb_open *op = smb_create(c.tree, "sample/random-1MiB.bin", NULL, NULL, NULL, &err);
    assert_non_null(op);
    /* A threaded connection refuses to be serviced. */
    it_client threaded;
    it_connect(&threaded, "main");
    assert_int_equal(smb_conn_service(threaded.conn, POLLIN, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(smb_conn_which_events(threaded.conn), 0);
    it_close(&threaded);

    struct sockaddr_in sa;
    socklen_t slen = sizeof sa;
    assert_int_equal(getsockname(smb_conn_socket(c.conn), (struct sockaddr *)&sa, &slen), 0);
    char cmd[160];
    int port = ntohs(sa.sin_port);
    snprintf(cmd, sizeof cmd, "ss -K -t -n '( sport = :%d or dport = :%d )' >/dev/null 2>&1", port, port);
    if (system(cmd) != 0)
        fail_msg("ss -K could not destroy the connection from port %d", port);
    static uint8_t buf[4096];
    int rc = 1;
    /* The read may fail as it is sent, or when the loop finds the socket closed. */
    if (smb_read_async(op, buf, sizeof buf, 0, on_lost_read, &rc, &err) != 0)
        rc = err.code;
    for (int i = 0; i < 50 && rc == 1; i++) {
        struct pollfd p = {.fd = smb_conn_socket(c.conn), .events = POLLIN};
        (void)poll(&p, 1, 100);
        (void)smb_conn_service(c.conn, p.revents, &err);
    }
    assert_true(rc < 0);
    assert_int_equal(smb_conn_service(c.conn, 0, &err), SMB_ERR_DISCONNECTED);
    assert_int_equal(smb_conn_which_events(c.conn), 0);
    it_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_and_writes_in_flight),
        cmocka_unit_test(test_listing),
        cmocka_unit_test(test_lost_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

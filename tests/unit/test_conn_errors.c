/*
 * Connection error paths against a scripted fake server on loopback: each
 * case answers the client's NEGOTIATE with something broken and checks the
 * client fails with the right error and a clear message, never a crash or
 * a hang.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <smbcopy/smb.h>

#include "pdu.h"
#include "common/wire.h"

typedef enum {
    FAKE_SMB1_REPLY,
    FAKE_CLOSE,
    FAKE_HUGE_FRAME,
    FAKE_TRUNCATED_NEGOTIATE,
    FAKE_SILENT,
    FAKE_UNKNOWN_MID,
    FAKE_BAD_NEXT_COMMAND,
    FAKE_HALF_FRAME,
    FAKE_NOT_SMB,
} fake_mode;

typedef struct fake_server {
    int listen_fd;
    uint16_t port;
    fake_mode mode;
    pthread_t thread;
} fake_server;

static void send_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        b += w;
        n -= (size_t)w;
    }
}

/* Read one whole frame from the client (the NEGOTIATE request). */
static int read_frame(int fd, uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t nb[4];
    size_t got = 0;
    while (got < 4) {
        ssize_t r = recv(fd, nb + got, 4 - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    size_t n = ((size_t)nb[1] << 16) | ((size_t)nb[2] << 8) | nb[3];
    if (n > cap)
        return -1;
    got = 0;
    while (got < n) {
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    *len = n;
    return 0;
}

/* A response header for the request's message id. */
static void response_header(smb_wr *w, uint64_t mid, uint32_t next)
{
    smb2_hdr h = {
        .command = SMB2_NEGOTIATE,
        .credits = 1,
        .flags = SMB2_FLAGS_SERVER_TO_REDIR,
        .message_id = mid,
        .next_command = next,
    };
    smb2_hdr_encode(w, &h);
}

static void send_frame(int fd, const uint8_t *p, size_t n)
{
    uint8_t nb[4] = {0, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    send_all(fd, nb, 4);
    send_all(fd, p, n);
}

/* Answer the first connection as fs->mode says. */
static void fake_answer(fake_server *fs, int fd)
{
    uint8_t req[4096];
    size_t len = 0;
    if (read_frame(fd, req, sizeof req, &len) != 0 || len < 64)
        return;
    uint64_t mid = smb_le64(req + 24);
    uint8_t out[512];
    smb_wr w;
    smb_wr_init(&w, out, sizeof out);
    switch (fs->mode) {
    case FAKE_SMB1_REPLY: {
        /* An SMB1 NEGOTIATE response header: 0xFF 'S' 'M' 'B', command 0x72. */
        uint8_t smb1[39] = {0xFF, 'S', 'M', 'B', 0x72};
        send_frame(fd, smb1, sizeof smb1);
        break;
    }
    case FAKE_CLOSE:
        break;
    case FAKE_HUGE_FRAME: {
        uint8_t nb[4] = {0, 0xFF, 0xFF, 0xFF};
        send_all(fd, nb, 4);
        break;
    }
    case FAKE_TRUNCATED_NEGOTIATE:
        response_header(&w, mid, 0);
        smb_wr_u16(&w, 65); /* StructureSize of a NEGOTIATE response, and nothing after it */
        smb_wr_u16(&w, 1);
        send_frame(fd, out, w.len);
        break;
    case FAKE_SILENT: {
        char c;
        (void)!recv(fd, &c, 1, 0); /* until the client gives up */
        break;
    }
    case FAKE_UNKNOWN_MID:
        response_header(&w, mid + 1000, 0);
        smb_wr_zero(&w, 9);
        send_frame(fd, out, w.len);
        break;
    case FAKE_BAD_NEXT_COMMAND:
        response_header(&w, mid, 4000); /* points past the frame */
        smb_wr_zero(&w, 16);
        send_frame(fd, out, w.len);
        break;
    case FAKE_HALF_FRAME: {
        uint8_t nb[4] = {0, 0, 0x01, 0x00}; /* 256 bytes announced, 10 sent */
        send_all(fd, nb, 4);
        send_all(fd, "\xFESMB\x40\0\0\0\0\0", 10);
        break;
    }
    case FAKE_NOT_SMB: {
        static const char http[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        send_frame(fd, (const uint8_t *)http, sizeof http - 1);
        break;
    }
    }
    /* Give the client time to read before the close. */
    usleep(100000);
}

/*
 * One scripted connection, then every later one closed at once until
 * fake_stop: a client that loses the connection probes for an SMB1-only
 * server (smb1_probe.c), and gets its answer from the close instead of
 * waiting out its timeout.
 */
static void *fake_main(void *arg)
{
    fake_server *fs = arg;
    int fd = accept(fs->listen_fd, NULL, NULL);
    if (fd < 0)
        return NULL;
    fake_answer(fs, fd);
    close(fd);
    while ((fd = accept(fs->listen_fd, NULL, NULL)) >= 0)
        close(fd);
    return NULL;
}

static void fake_start(fake_server *fs, fake_mode mode)
{
    fs->mode = mode;
    fs->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fs->listen_fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fs->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fs->listen_fd, 1), 0);
    socklen_t sl = sizeof sa;
    getsockname(fs->listen_fd, (struct sockaddr *)&sa, &sl);
    fs->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&fs->thread, NULL, fake_main, fs), 0);
}

static void fake_stop(fake_server *fs)
{
    shutdown(fs->listen_fd, SHUT_RDWR);
    pthread_join(fs->thread, NULL);
    close(fs->listen_fd);
}

/*
 * The client's connect and negotiate timeout: long, since every case but
 * the silent server answers at once and must never be mistaken for one
 * that times out, even on a loaded machine (sanitizers, valgrind).
 */
#define ANSWER_TIMEOUT_MS 10000
/* The silent server's case waits this out: short, so the test is quick. */
#define SILENT_TIMEOUT_MS 300

/* Connect to a fake server in `mode`; expect failure with `code` and a message containing `text`. */
static void expect_failure(fake_mode mode, int code, const char *text)
{
    fake_server fs;
    fake_start(&fs, mode);
    smb_conn_opts o;
    smb_conn_opts_init(&o);
    o.connect_timeout_ms = mode == FAKE_SILENT ? SILENT_TIMEOUT_MS : ANSWER_TIMEOUT_MS;
    smb_error err = {0};
    smb_conn *c = smb_conn_connect("127.0.0.1", fs.port, &o, &err);
    if (c)
        smb_conn_close(c);
    fake_stop(&fs);
    assert_null(c);
    if (err.code != code || !strstr(err.message, text))
        fail_msg("mode %d: got code %d, message '%s'; wanted %d with '%s'", mode, err.code, err.message, code, text);
}

static void test_smb1_only(void **s)
{
    (void)s;
    expect_failure(FAKE_SMB1_REPLY, SMB_ERR_SMB1_ONLY,
                   "server supports only SMB1, which smbcopy does not speak; enable SMB2/3 on the server");
}

static void test_closed(void **s)
{
    (void)s;
    expect_failure(FAKE_CLOSE, SMB_ERR_DISCONNECTED, "closed the connection");
}

static void test_huge_frame(void **s)
{
    (void)s;
    expect_failure(FAKE_HUGE_FRAME, SMB_ERR_PROTOCOL, "frame of");
}

static void test_truncated_negotiate(void **s)
{
    (void)s;
    expect_failure(FAKE_TRUNCATED_NEGOTIATE, SMB_ERR_PROTOCOL, "malformed NEGOTIATE");
}

static void test_silent_server_times_out(void **s)
{
    (void)s;
    expect_failure(FAKE_SILENT, SMB_ERR_TIMEOUT, "did not answer");
}

static void test_unknown_message_id(void **s)
{
    (void)s;
    expect_failure(FAKE_UNKNOWN_MID, SMB_ERR_PROTOCOL, "never sent");
}

static void test_bad_next_command(void **s)
{
    (void)s;
    expect_failure(FAKE_BAD_NEXT_COMMAND, SMB_ERR_PROTOCOL, "NextCommand");
}

static void test_half_frame(void **s)
{
    (void)s;
    expect_failure(FAKE_HALF_FRAME, SMB_ERR_DISCONNECTED, "closed");
}

static void test_not_smb(void **s)
{
    (void)s;
    expect_failure(FAKE_NOT_SMB, SMB_ERR_PROTOCOL, "not SMB2");
}

static void test_connect_refused(void **s)
{
    (void)s;
    /* A port nobody listens on: bind one, close it, connect. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    close(fd);
    smb_error err = {0};
    smb_conn *c = smb_conn_connect("127.0.0.1", ntohs(sa.sin_port), NULL, &err);
    assert_null(c);
    assert_int_equal(err.code, SMB_ERR_CONNECT);
    assert_non_null(strstr(err.message, "cannot connect"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smb1_only),
        cmocka_unit_test(test_closed),
        cmocka_unit_test(test_huge_frame),
        cmocka_unit_test(test_truncated_negotiate),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_unknown_message_id),
        cmocka_unit_test(test_bad_next_command),
        cmocka_unit_test(test_half_frame),
        cmocka_unit_test(test_not_smb),
        cmocka_unit_test(test_connect_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * A recording TCP forwarder for capturing fuzz seeds: listens on
 * 127.0.0.1:LISTEN_PORT, forwards each connection to 127.0.0.1:SERVER_PORT
 * and writes every frame the server sends (the bytes after the 4-byte
 * Direct TCP transport header, MS-SMB2 2.1) to OUTDIR/cCCCC-fFFFFF.bin.
 * One child process per connection; runs until killed.
 *
 *   fuzz_seed_recorder LISTEN_PORT SERVER_PORT OUTDIR
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FRAME (16u << 20) /* a Direct TCP frame has a 24-bit length */

/* Server-to-client bytes being cut into frames. */
typedef struct framer {
    const char *dir;
    unsigned conn;
    unsigned seq;
    uint8_t head[4];
    size_t head_got;
    uint8_t *body;
    size_t body_len, body_got;
} framer;

static void save_frame(framer *f)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/c%04u-f%05u.bin", f->dir, f->conn, f->seq++);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, f->body, f->body_len) != (ssize_t)f->body_len)
        fprintf(stderr, "seed_recorder: cannot write %s: %s\n", path, strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* Feed bytes the server sent; whole frames are saved as they complete. */
static void framer_feed(framer *f, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (f->head_got < 4) {
            f->head[f->head_got++] = *p++;
            n--;
            if (f->head_got == 4) {
                f->body_len = ((size_t)f->head[1] << 16) | ((size_t)f->head[2] << 8) | f->head[3];
                f->body_got = 0;
                free(f->body);
                f->body = malloc(f->body_len ? f->body_len : 1);
                if (!f->body)
                    exit(1);
            }
            continue;
        }
        size_t take = f->body_len - f->body_got < n ? f->body_len - f->body_got : n;
        memcpy(f->body + f->body_got, p, take);
        f->body_got += take;
        p += take;
        n -= take;
        if (f->body_got == f->body_len) {
            if (f->head[0] == 0) /* a session message, not a keepalive */
                save_frame(f);
            f->head_got = 0;
        }
    }
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static int connect_server(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Forward both ways until either side closes. */
static void relay(int client, int server, framer *f)
{
    static uint8_t buf[256 * 1024];
    struct pollfd p[2] = {{.fd = client, .events = POLLIN}, {.fd = server, .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(p[i].fd, buf, sizeof buf);
            if (n <= 0)
                return;
            if (i == 1)
                framer_feed(f, buf, (size_t)n);
            if (!write_all(i == 0 ? server : client, buf, (size_t)n))
                return;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s LISTEN_PORT SERVER_PORT OUTDIR\n", argv[0]);
        return 2;
    }
    uint16_t lport = (uint16_t)atoi(argv[1]), sport = (uint16_t)atoi(argv[2]);
    signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(lport)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 16) != 0) {
        fprintf(stderr, "seed_recorder: cannot listen on port %u: %s\n", lport, strerror(errno));
        return 1;
    }
    printf("listening on 127.0.0.1:%u\n", lport);
    fflush(stdout);
    for (unsigned conn = 0;; conn++) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(ls);
            int s = connect_server(sport);
            if (s < 0)
                _exit(1);
            framer f = {.dir = argv[3], .conn = conn};
            relay(c, s, &f);
            free(f.body);
            _exit(0);
        }
        close(c);
    }
}

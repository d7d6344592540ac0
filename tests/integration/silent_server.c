/*
 * A TCP server that accepts connections and never answers, for the tests of
 * clients that must give up on a silent server (cli_silent_server.sh).
 *
 *   silent_server [PORT]
 *
 * Listens on 127.0.0.1:PORT (default 0: a free port chosen by the kernel),
 * prints the port on stdout as one line and flushes it, then accepts every
 * connection and reads and discards whatever arrives, never writing a byte,
 * until it is killed. A connection the client closes is closed too.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 256

static void die(const char *what)
{
    fprintf(stderr, "silent_server: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char **argv)
{
    unsigned long port = 0;
    if (argc > 2) {
        fprintf(stderr, "usage: silent_server [PORT]\n");
        return 2;
    }
    if (argc == 2) {
        char *end;
        errno = 0;
        port = strtoul(argv[1], &end, 10);
        if (errno || *end || end == argv[1] || port > 65535) {
            fprintf(stderr, "silent_server: bad port '%s'\n", argv[1]);
            return 2;
        }
    }
    /* A client that goes away must not kill us through a write (we never
     * write, but be safe). */
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket");
    int one = 1;
    if (setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
        die("setsockopt");
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("bind");
    if (listen(lfd, 64) < 0)
        die("listen");
    socklen_t len = sizeof sa;
    if (getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
        die("getsockname");
    printf("%u\n", (unsigned)ntohs(sa.sin_port));
    fflush(stdout);

    /* fds[0] is the listener, the rest are connections (-1: free slot). */
    struct pollfd fds[1 + MAX_CONNS];
    fds[0].fd = lfd;
    fds[0].events = POLLIN;
    for (int i = 1; i <= MAX_CONNS; i++) {
        fds[i].fd = -1;
        fds[i].events = POLLIN;
    }
    char buf[65536];
    for (;;) {
        if (poll(fds, 1 + MAX_CONNS, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        if (fds[0].revents & POLLIN) {
            int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (cfd >= 0) {
                int slot = 0;
                for (int i = 1; i <= MAX_CONNS && !slot; i++)
                    if (fds[i].fd < 0)
                        slot = i;
                if (slot)
                    fds[slot].fd = cfd;
                else
                    close(cfd); /* full: the client sees a closed connection */
            } else if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
                die("accept");
            }
        }
        for (int i = 1; i <= MAX_CONNS; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
                close(fds[i].fd);
                fds[i].fd = -1;
            }
        }
    }
}

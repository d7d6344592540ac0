/*
 * hostile_smbd: an SMB 3.1.1 server for tests that misbehaves on purpose.
 *
 *   hostile_smbd --mode NAME [--port N] [--port-file FILE] [--store DIR]
 *
 * With --store, paths that are not in the fixed tree live in DIR (created
 * and written by clients: uploads); without it the share is read-only.
 * Listens on 127.0.0.1 (port 0: any free port), prints the port on stdout
 * (and into FILE), and serves each connection in a child process until
 * SIGTERM. Children die with the parent. --help lists the modes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hs.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: hostile_smbd --mode NAME [--port N] [--port-file FILE] [--store DIR]\n"
               "Serves share '%s' to user '%s' (password '%s', any domain) on 127.0.0.1.\n"
               "--store DIR: paths outside the fixed tree live in DIR, writable (else the share is read-only).\n"
               "modes:\n",
            HS_SHARE, HS_USER, HS_PASSWORD);
    for (int i = 0; i < HS_MODE_COUNT; i++)
        fprintf(f, "  %-20s %s\n", hs_modes[i].name, hs_modes[i].what);
}

int main(int argc, char **argv)
{
    int mode = HS_GOOD;
    unsigned port = 0;
    const char *port_file = NULL;
    int store = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
            mode = hs_mode_find(argv[++i]);
            if (mode < 0) {
                fprintf(stderr, "hostile_smbd: unknown mode '%s'\n", argv[i]);
                usage(stderr);
                return 2;
            }
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--port-file") == 0 && i + 1 < argc) {
            port_file = argv[++i];
        } else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
            store = open(argv[++i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (store < 0) {
                fprintf(stderr, "hostile_smbd: store '%s': %s\n", argv[i], strerror(errno));
                return 2;
            }
        } else {
            usage(stderr);
            return 2;
        }
    }
    signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 16) != 0) {
        perror("hostile_smbd: listen");
        return 1;
    }
    socklen_t sl = sizeof sa;
    getsockname(ls, (struct sockaddr *)&sa, &sl);
    printf("%u\n", ntohs(sa.sin_port));
    fflush(stdout);
    if (port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%u\n", ntohs(sa.sin_port)) < 0 || fclose(f) != 0 || rename(tmp, port_file) != 0) {
            perror("hostile_smbd: port file");
            return 1;
        }
    }
    pid_t parent = getpid();
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            perror("hostile_smbd: accept");
            return 1;
        }
        /* The NetBIOS header and the message go out in two writes: without
         * this, Nagle and delayed ACKs hold each response for 40 ms. */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pid_t pid = fork();
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(0);
            close(ls);
            hs_serve(fd, (hs_mode)mode, store);
            _exit(0);
        }
        close(fd);
    }
}

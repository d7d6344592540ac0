#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error.h"

/* Connect one address with a deadline: non-blocking connect, then poll. */
static int connect_one(const struct addrinfo *ai, unsigned timeout_ms, int *out_errno)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        *out_errno = errno;
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            *out_errno = errno;
            close(fd);
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int rc;
        do
            rc = poll(&p, 1, (int)timeout_ms);
        while (rc < 0 && errno == EINTR);
        if (rc == 0) {
            *out_errno = ETIMEDOUT;
            close(fd);
            return -1;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (rc < 0 || soerr) {
            *out_errno = rc < 0 ? errno : soerr;
            close(fd);
            return -1;
        }
    }
    fcntl(fd, F_SETFL, fl);
    return fd;
}

int smb_tcp_connect(const char *host, uint16_t port, unsigned timeout_ms, smb_error *err)
{
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port ? (unsigned)port : 445u);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int grc = getaddrinfo(host, portstr, &hints, &res);
    if (grc != 0) {
        smb_err_set(err, SMB_ERR_CONNECT, 0, "cannot resolve host '%s': %s", host, gai_strerror(grc));
        return -1;
    }
    int fd = -1, last_errno = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
        fd = connect_one(ai, timeout_ms, &last_errno);
    freeaddrinfo(res);
    if (fd < 0) {
        smb_err_set(err, SMB_ERR_CONNECT, 0, "cannot connect to %s port %s: %s", host, portstr,
                    strerror(last_errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Large socket buffers let several MiB of READ responses queue up. */
    int bufsz = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    return fd;
}

int smb_tcp_read_full(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r == 0) {
            errno = 0;
            return -1;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int smb_tcp_writev_full(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)(n > 1024 ? 1024 : n)};
        ssize_t w = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0 && left) {
            iov->iov_base = (uint8_t *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

/*
 * sendfile() has no MSG_NOSIGNAL: a peer that went away would raise SIGPIPE,
 * which kills a process that does not handle it. The signal is blocked on
 * this thread around the call, and one it raised (with EPIPE, or with a
 * short count) is taken off again, so the caller gets EPIPE like from sendmsg. (A SIGPIPE already pending for the
 * process from elsewhere is left alone.)
 */
static ssize_t sendfile_nosignal(int sock, int fd, off_t *o, size_t n)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t w = sendfile(sock, fd, o, n);
    int e = errno;
    /* The kernel may raise it and still return a short count, not only EPIPE. */
    if (w < 0 || (size_t)w < n) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return w;
}

int smb_tcp_sendfile_full(int sock, int fd, uint64_t off, size_t len)
{
    uint8_t zeros[16384];
    int shortened = 0; /* the file ended early or could not be read: zeros from here on */
    while (len > 0) {
        ssize_t w = 0;
        if (!shortened) {
            off_t o = (off_t)off;
            w = sendfile_nosignal(sock, fd, &o, len > (1u << 30) ? (1u << 30) : len);
            if (w < 0 && errno == EINTR)
                continue;
            /* Any other failure: zeros follow; if the socket is what failed, sending them fails too. */
        }
        if (w <= 0) {
            if (!shortened)
                memset(zeros, 0, sizeof zeros);
            shortened = 1;
            struct iovec iov = {zeros, len < sizeof zeros ? len : sizeof zeros};
            if (smb_tcp_writev_full(sock, &iov, 1) != 0)
                return -1;
            w = (ssize_t)iov.iov_len;
        }
        off += (uint64_t)w;
        len -= (size_t)w;
    }
    return shortened;
}

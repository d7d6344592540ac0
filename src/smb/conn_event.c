/*
 * Event-loop mode (smb_conn_opts.event_loop): a connection without a
 * receiver or watchdog thread. Its socket is read by smb_conn_service,
 * called from the caller's poll loop, or by a thread waiting for an
 * answer (smb_conn_cond_wait), one reader at a time; frames are gathered
 * without blocking and handled like the receiver's (conn_recv.c), request
 * deadlines checked on each pass.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include <smbcopy/async.h>

#include "conn.h"
#include "conn_internal.h"
#include "error.h"

/* A failed or ended read: the connection is lost. */
static void lost(smb_conn *c, ssize_t n)
{
    int e = n == 0 ? 0 : errno;
    smb_conn_fail(c, SMB_ERR_DISCONNECTED, "connection to %s lost: %s", c->host, smb_conn_loss_reason(e));
}

/* Read what the socket holds without blocking; hand each whole frame on. ev_lock held. */
static void read_available(smb_conn *c)
{
    while (!__atomic_load_n(&c->dead, __ATOMIC_ACQUIRE)) {
        uint8_t *dst;
        size_t want;
        if (!c->ev_frame) {
            dst = c->ev_hdr + c->ev_hdr_have;
            want = sizeof c->ev_hdr - c->ev_hdr_have;
        } else {
            dst = c->ev_frame + c->ev_have;
            want = c->ev_len - c->ev_have;
        }
        ssize_t n = recv(c->fd, dst, want, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            lost(c, n);
            return;
        }
        if (!c->ev_frame) {
            c->ev_hdr_have += (size_t)n;
            if (c->ev_hdr_have < sizeof c->ev_hdr)
                continue;
            size_t len;
            if (!smb_conn_frame_length(c, c->ev_hdr, &len))
                return;
            c->ev_frame = malloc(len);
            if (!c->ev_frame) {
                smb_conn_fail(c, SMB_ERR_NO_MEMORY, "out of memory for a %zu-byte frame", len);
                return;
            }
            c->ev_len = len;
            c->ev_have = 0;
            continue;
        }
        c->ev_have += (size_t)n;
        if (c->ev_have < c->ev_len)
            continue;
        uint8_t *frame = c->ev_frame;
        c->ev_frame = NULL;
        c->ev_hdr_have = 0;
        if (!smb_conn_take_frame(c, frame, c->ev_len))
            return;
    }
}

void smb_conn_pump(smb_conn *c, int timeout_ms)
{
    if (pthread_mutex_trylock(&c->ev_lock) != 0) {
        /* Another thread reads: what it completes wakes us; look again soon. */
        struct timespec ts = {0, 2L * 1000 * 1000};
        nanosleep(&ts, NULL);
        return;
    }
    if (!__atomic_load_n(&c->dead, __ATOMIC_ACQUIRE)) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, timeout_ms) > 0)
            read_available(c);
    }
    pthread_mutex_unlock(&c->ev_lock);
    (void)smb_conn_check_deadlines(c);
}

void smb_conn_cond_wait(smb_conn *c, pthread_cond_t *cv, const struct timespec *until)
{
    if (!c->event_mode) {
        if (until)
            pthread_cond_timedwait(cv, &c->lock, until);
        else
            pthread_cond_wait(cv, &c->lock);
        return;
    }
    int ms = 100; /* a bound without a deadline: deadlines of requests are checked each pass */
    if (until) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long left = (long long)(until->tv_sec - now.tv_sec) * 1000 + (until->tv_nsec - now.tv_nsec) / 1000000;
        ms = left < 0 ? 0 : left < ms ? (int)left : ms;
    }
    pthread_mutex_unlock(&c->lock);
    smb_conn_pump(c, ms);
    pthread_mutex_lock(&c->lock);
}

int smb_conn_service(smb_conn *c, int revents, smb_error *err)
{
    if (!c || !c->event_mode)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "smb_conn_service: not an event-loop connection");
    (void)revents; /* whatever poll said, reading without blocking finds out */
    smb_conn_pump(c, 0);
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    if (c->dead) {
        if (err)
            *err = c->dead_err;
        rc = c->dead_err.code;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

int smb_conn_which_events(const smb_conn *c)
{
    /* Requests are written when made (blocking only while the kernel's
     * buffer is full), so the loop waits for answers only. */
    return c && c->event_mode && !__atomic_load_n(&c->dead, __ATOMIC_ACQUIRE) ? POLLIN : 0;
}

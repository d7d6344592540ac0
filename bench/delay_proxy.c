/*
 * TCP forwarding proxy that adds a fixed one-way delay, for the benchmarks
 * with added latency: a client talks to 127.0.0.1:LISTEN_PORT and the proxy
 * forwards to the local Samba server, holding every chunk of bytes for
 * DELAY_MS (per direction, so a round trip costs 2 x DELAY_MS) while keeping
 * the byte order and a full pipeline (bytes in flight are queued, not
 * stop-and-wait).
 *
 *   delay_proxy LISTEN_PORT TARGET_HOST TARGET_PORT DELAY_MS
 *
 * DELAY_MS may be 0 or fractional (0.5). Prints "ready" once listening; runs
 * until SIGTERM/SIGINT (exit 0). Fatal errors: one line on stderr, exit 1.
 *
 * Each connection has two directions; each direction has a reader thread
 * (reads into chunks stamped with a due time, appends them to a bounded
 * queue) and a writer thread (sleeps until the head chunk is due, writes it).
 * With DELAY_MS 0 the reader writes each chunk itself, with no queue.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_SIZE (256 * 1024)
#define MAX_QUEUED ((size_t)64 * 1024 * 1024)
#define THREAD_STACK_SIZE (256 * 1024)
#define NSEC_PER_SEC 1000000000LL

struct config {
    struct addrinfo *target;
    int64_t delay_ns;
};

struct chunk {
    struct chunk *next;
    struct timespec due;
    size_t len;
    char data[];
};

struct connection;

/* One direction of a connection: bytes read from from_fd, written to to_fd. */
struct direction {
    struct connection *conn;
    int from_fd;
    int to_fd;
    pthread_mutex_t lock;
    pthread_cond_t data_ready;  /* writer waits: queue empty or head not due */
    pthread_cond_t space_free;  /* reader waits: queue full */
    struct chunk *head;
    struct chunk *tail;
    size_t queued;              /* chunk_cost() of the queue, incl. the one being written */
    bool eof;                   /* reader saw end of stream */
    bool aborted;               /* connection failed: everyone stops */
};

struct connection {
    const struct config *cfg;
    int client_fd;
    int server_fd;
    struct direction up;    /* client -> server */
    struct direction down;  /* server -> client */
};

static void die(const char *what, int err)
{
    fprintf(stderr, "delay_proxy: %s: %s\n", what, strerror(err));
    exit(1);
}

static void usage_error(const char *msg)
{
    fprintf(stderr, "delay_proxy: %s (usage: delay_proxy LISTEN_PORT TARGET_HOST "
                    "TARGET_PORT DELAY_MS)\n", msg);
    exit(1);
}

/*
 * Memory a queued chunk holds. Counting the header too keeps a flood of tiny
 * reads from growing the queue far past MAX_QUEUED bytes of memory.
 */
static size_t chunk_cost(const struct chunk *c)
{
    return sizeof(*c) + c->len;
}

/* ---- time ---------------------------------------------------------------- */

static struct timespec timespec_add_ns(struct timespec t, int64_t ns)
{
    int64_t total = (int64_t)t.tv_nsec + ns % NSEC_PER_SEC;
    t.tv_sec += (time_t)(ns / NSEC_PER_SEC + total / NSEC_PER_SEC);
    t.tv_nsec = (long)(total % NSEC_PER_SEC);
    return t;
}

static bool timespec_before(struct timespec a, struct timespec b)
{
    return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

static struct timespec monotonic_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t;
}

/* ---- sockets ------------------------------------------------------------- */

static void set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static ssize_t read_some(int fd, char *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

static int connect_target(const struct addrinfo *target)
{
    int err = 0;
    for (const struct addrinfo *ai = target; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int rc;
        do
            rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        while (rc < 0 && errno == EINTR);
        if (rc == 0)
            return fd;
        err = errno;
        close(fd);
    }
    errno = err;
    return -1;
}

/* ---- connection state ---------------------------------------------------- */

static void direction_init(struct direction *d, struct connection *conn, int from_fd, int to_fd)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    /* Due times are CLOCK_MONOTONIC, so the timed wait must use that clock. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    memset(d, 0, sizeof(*d));
    d->conn = conn;
    d->from_fd = from_fd;
    d->to_fd = to_fd;
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->data_ready, &attr);
    pthread_cond_init(&d->space_free, NULL);
    pthread_condattr_destroy(&attr);
}

static void direction_destroy(struct direction *d)
{
    struct chunk *c = d->head;
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->data_ready);
    pthread_cond_destroy(&d->space_free);
}

static void direction_abort(struct direction *d)
{
    pthread_mutex_lock(&d->lock);
    d->aborted = true;
    pthread_cond_broadcast(&d->data_ready);
    pthread_cond_broadcast(&d->space_free);
    pthread_mutex_unlock(&d->lock);
}

/*
 * Stop the whole connection after an error on either side. shutdown() wakes
 * threads blocked in recv/send on these sockets; the fds stay open (and so
 * cannot be reused by another connection) until all four threads are joined.
 */
static void connection_abort(struct connection *conn)
{
    direction_abort(&conn->up);
    direction_abort(&conn->down);
    shutdown(conn->client_fd, SHUT_RDWR);
    shutdown(conn->server_fd, SHUT_RDWR);
}

/* ---- reader: socket -> queue --------------------------------------------- */

/* Block while the queue is full; false if the connection was aborted. */
static bool wait_for_space(struct direction *d)
{
    pthread_mutex_lock(&d->lock);
    while (d->queued >= MAX_QUEUED && !d->aborted)
        pthread_cond_wait(&d->space_free, &d->lock);
    bool ok = !d->aborted;
    pthread_mutex_unlock(&d->lock);
    return ok;
}

static void enqueue(struct direction *d, struct chunk *c)
{
    pthread_mutex_lock(&d->lock);
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    d->queued += chunk_cost(c);
    /* Only a new head changes what the writer is waiting for. */
    if (d->head == c)
        pthread_cond_signal(&d->data_ready);
    pthread_mutex_unlock(&d->lock);
}

static void mark_eof(struct direction *d)
{
    pthread_mutex_lock(&d->lock);
    d->eof = true;
    pthread_cond_signal(&d->data_ready);
    pthread_mutex_unlock(&d->lock);
}

/* Read up to CHUNK_SIZE bytes into a new chunk: 1 with data, 0 at end of stream, -1 on error. */
static int read_chunk(int fd, struct chunk **out)
{
    struct chunk *c = malloc(sizeof(*c) + CHUNK_SIZE);
    if (!c)
        return -1;
    ssize_t n = read_some(fd, c->data, CHUNK_SIZE);
    if (n <= 0) {
        free(c);
        return n == 0 ? 0 : -1;
    }
    c->due = monotonic_now();  /* the read time; the caller adds the delay */
    c->next = NULL;
    c->len = (size_t)n;
    /* Small reads (request/response traffic) must not pin 256 KiB each. */
    if (c->len < CHUNK_SIZE / 2) {
        struct chunk *small = realloc(c, sizeof(*c) + c->len);
        if (small)
            c = small;
    }
    *out = c;
    return 1;
}

static void *reader_main(void *arg)
{
    struct direction *d = arg;
    int64_t delay_ns = d->conn->cfg->delay_ns;

    while (wait_for_space(d)) {
        struct chunk *c;
        int rc = read_chunk(d->from_fd, &c);
        if (rc == 0) {
            mark_eof(d);
            break;
        }
        if (rc < 0) {
            connection_abort(d->conn);
            break;
        }
        if (delay_ns == 0) {
            /* No delay: write from here, saving the hand-off to the writer thread. */
            rc = write_all(d->to_fd, c->data, c->len);
            free(c);
            if (rc < 0) {
                connection_abort(d->conn);
                break;
            }
            continue;
        }
        c->due = timespec_add_ns(c->due, delay_ns);
        enqueue(d, c);
    }
    return NULL;
}

/* ---- writer: queue -> socket --------------------------------------------- */

/*
 * Wait until the head chunk is due and return it (still queued, so its bytes
 * count against the bound while being written). NULL at end of stream or on
 * abort; *eof tells which.
 */
static struct chunk *wait_for_due_chunk(struct direction *d, bool *eof)
{
    struct chunk *c = NULL;
    pthread_mutex_lock(&d->lock);
    for (;;) {
        if (d->aborted)
            break;
        if (!d->head) {
            if (d->eof) {
                *eof = true;
                break;
            }
            pthread_cond_wait(&d->data_ready, &d->lock);
            continue;
        }
        if (!timespec_before(monotonic_now(), d->head->due)) {
            c = d->head;
            break;
        }
        pthread_cond_timedwait(&d->data_ready, &d->lock, &d->head->due);
    }
    pthread_mutex_unlock(&d->lock);
    return c;
}

static void dequeue_written(struct direction *d, struct chunk *c)
{
    pthread_mutex_lock(&d->lock);
    d->head = c->next;
    if (!d->head)
        d->tail = NULL;
    bool was_full = d->queued >= MAX_QUEUED;
    d->queued -= chunk_cost(c);
    if (was_full && d->queued < MAX_QUEUED)
        pthread_cond_signal(&d->space_free);
    pthread_mutex_unlock(&d->lock);
    free(c);
}

static void *writer_main(void *arg)
{
    struct direction *d = arg;
    for (;;) {
        bool eof = false;
        struct chunk *c = wait_for_due_chunk(d, &eof);
        if (!c) {
            /* Everything delivered: pass the sender's end of stream on. */
            if (eof)
                shutdown(d->to_fd, SHUT_WR);
            break;
        }
        if (write_all(d->to_fd, c->data, c->len) < 0) {
            connection_abort(d->conn);
            break;
        }
        dequeue_written(d, c);
    }
    return NULL;
}

/* ---- per-connection thread ----------------------------------------------- */

static void init_thread_attr(pthread_attr_t *attr, bool detached)
{
    pthread_attr_init(attr);
    pthread_attr_setstacksize(attr, THREAD_STACK_SIZE);
    if (detached)
        pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
}

/*
 * Runs one connection: connects to the target, starts three helper threads
 * and acts as the fourth (the client -> server reader) itself.
 */
static void *connection_main(void *arg)
{
    struct connection *conn = arg;

    conn->server_fd = connect_target(conn->cfg->target);
    if (conn->server_fd < 0) {
        fprintf(stderr, "delay_proxy: connect to target: %s\n", strerror(errno));
        close(conn->client_fd);
        free(conn);
        return NULL;
    }
    set_nodelay(conn->client_fd);
    set_nodelay(conn->server_fd);
    direction_init(&conn->up, conn, conn->client_fd, conn->server_fd);
    direction_init(&conn->down, conn, conn->server_fd, conn->client_fd);

    struct {
        void *(*fn)(void *);
        struct direction *d;
    } helpers[3] = {
        { writer_main, &conn->up },
        { reader_main, &conn->down },
        { writer_main, &conn->down },
    };
    pthread_t tids[3];
    int started = 0;
    pthread_attr_t attr;
    init_thread_attr(&attr, false);
    for (; started < 3; started++) {
        if (pthread_create(&tids[started], &attr, helpers[started].fn, helpers[started].d) != 0)
            break;
    }
    pthread_attr_destroy(&attr);

    if (started == 3)
        reader_main(&conn->up);
    else
        connection_abort(conn);

    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    close(conn->client_fd);
    close(conn->server_fd);
    direction_destroy(&conn->up);
    direction_destroy(&conn->down);
    free(conn);
    return NULL;
}

static void start_connection(const struct config *cfg, int client_fd)
{
    struct connection *conn = calloc(1, sizeof(*conn));
    if (!conn) {
        close(client_fd);
        return;
    }
    conn->cfg = cfg;
    conn->client_fd = client_fd;
    conn->server_fd = -1;

    pthread_t tid;
    pthread_attr_t attr;
    init_thread_attr(&attr, true);
    if (pthread_create(&tid, &attr, connection_main, conn) != 0) {
        close(client_fd);
        free(conn);
    }
    pthread_attr_destroy(&attr);
}

/* ---- setup and accept loop ----------------------------------------------- */

static int parse_port(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 65535)
        return -1;
    return (int)v;
}

static int64_t parse_delay_ns(const char *s)
{
    char *end;
    errno = 0;
    double ms = strtod(s, &end);
    /* Cap at one day: keeps the nanosecond count far from overflow. */
    if (errno || end == s || *end || !isfinite(ms) || ms < 0 || ms > 86400e3)
        return -1;
    return (int64_t)(ms * 1e6 + 0.5);
}

static struct addrinfo *resolve_target(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "delay_proxy: resolve %s:%s: %s\n", host, port, gai_strerror(rc));
        exit(1);
    }
    return res;
}

static int listen_loopback(int port)
{
    /* Non-blocking so a connection reset between poll and accept cannot hang us. */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket", errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr = {
        .sin_family = AF_INET,
        .sin_port = htons((uint16_t)port),
        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
    };
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        die("bind", errno);
    if (listen(fd, SOMAXCONN) < 0)
        die("listen", errno);
    return fd;
}

/*
 * SIGTERM/SIGINT are blocked in every thread (the mask is inherited) and read
 * from a signalfd in the accept loop, so no handler or global flag is needed.
 */
static int block_termination_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc != 0)
        die("pthread_sigmask", rc);
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (fd < 0)
        die("signalfd", errno);
    signal(SIGPIPE, SIG_IGN);
    return fd;
}

static void accept_pending(const struct config *cfg, int listen_fd)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            start_connection(cfg, fd);
            continue;
        }
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Out of resources: back off instead of spinning on poll. */
            struct timespec pause = { 0, 10 * 1000 * 1000 };
            nanosleep(&pause, NULL);
        }
        return;  /* EAGAIN, EINTR, ECONNABORTED, ...: back to poll */
    }
}

static void serve(const struct config *cfg, int listen_fd, int signal_fd)
{
    struct pollfd fds[2] = {
        { .fd = listen_fd, .events = POLLIN },
        { .fd = signal_fd, .events = POLLIN },
    };
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll", errno);
        }
        if (fds[1].revents)
            return;
        if (fds[0].revents)
            accept_pending(cfg, listen_fd);
    }
}

int main(int argc, char **argv)
{
    if (argc != 5)
        usage_error("wrong number of arguments");
    int listen_port = parse_port(argv[1]);
    if (listen_port < 0)
        usage_error("bad LISTEN_PORT");
    if (parse_port(argv[3]) < 0)
        usage_error("bad TARGET_PORT");
    int64_t delay_ns = parse_delay_ns(argv[4]);
    if (delay_ns < 0)
        usage_error("bad DELAY_MS");

    struct config cfg = {
        .target = resolve_target(argv[2], argv[3]),
        .delay_ns = delay_ns,
    };
    /*
     * Wake-ups are otherwise up to 50 us late (the default timer slack, which
     * threads inherit): that would add ~0.1 ms to every delayed round trip.
     */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    int signal_fd = block_termination_signals();
    int listen_fd = listen_loopback(listen_port);

    printf("ready\n");
    fflush(stdout);

    serve(&cfg, listen_fd, signal_fd);

    /*
     * Connection threads may still be running and use cfg, which lives in
     * this frame: exit() here (not return) so it stays valid until they die
     * with the process.
     */
    close(listen_fd);
    close(signal_fd);
    exit(0);
}

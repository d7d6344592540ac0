/*
 * Internal view of connections and requests.
 *
 * A connection owns one TCP socket, one receiver thread and one watchdog
 * thread. Any thread may build a request (smb_req), send it and wait for it:
 * the receiver reads each frame, verifies it, finds the waiting request by
 * MessageId and completes it. Credits are a counted resource (MS-SMB2
 * 3.2.4.1.5): sending a request of N bytes takes ceil(N / 64 KiB) credits
 * and waits while there are not enough.
 */
#ifndef SMBCOPY_CONN_H
#define SMBCOPY_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <smbcopy/smb.h>

#include "crypto.h"
#include "pdu.h"
#include "common/wire.h"

typedef struct smb_req smb_req;

/** Keys and flags a session contributes to messages on one channel. */
typedef struct smb_sec {
    bool signing;            /**< sign every request, require signed responses */
    bool keyed;              /**< a signing key exists (requests marked force_sign are signed) */
    uint16_t signing_alg;    /**< smb_signing_alg */
    uint8_t signing_key[16];
    bool encrypt;            /**< encrypt every message (MS-SMB2 3.2.4.1.8) */
    uint16_t cipher;         /**< smb_cipher */
    uint8_t enc_key[32];     /**< client to server */
    uint8_t dec_key[32];     /**< server to client */
    uint64_t *nonce_ctr;     /**< the session's nonce counter, shared by every copy of these keys */
} smb_sec;

/** Completion callback, run on the receiver thread after the response arrived. */
typedef void (*smb_req_cb)(smb_req *req, void *arg);

enum smb_req_state { REQ_NEW, REQ_SENT, REQ_RECEIVING, REQ_DONE };

struct smb_req {
    smb_req *hash_next;     /* pending-table chain */
    smb_conn *conn;
    uint64_t session_id;
    const smb_sec *sec;     /* NULL: no signing/encryption */
    struct smb_tree *route; /* a tree's request: may go on any channel of its session (smb_route) */
    bool in_compound;       /* sent as part of a compound: never replayed alone */
    smb_wr msg;             /* header + body */
    const void *payload;    /* WRITE data, sent after msg without a copy */
    size_t payload_len;
    bool payload_from_fd;   /* the payload is payload_len bytes of payload_fd from payload_fd_off (sendfile) */
    int payload_fd;
    uint64_t payload_fd_off;
    bool payload_short;     /* the file ended early: zeros were sent in its place */
    uint16_t command;
    uint16_t charge;        /* credits (and message ids) used */
    uint32_t expect_len;    /* expected response payload, for the charge */
    size_t charge_bytes;    /* payload the charge covers (a WRITE's Length, MS-SMB2 3.1.5.2); 0: the body */
    bool credit_short;      /* not sent: its charge is more than the connection holds or can get */
    uint64_t mid;
    uint64_t async_id;
    bool is_async;
    bool no_verify;         /* caller verifies the signature itself (final SESSION_SETUP) */
    bool force_sign;        /* sign even when the session does not (TREE_CONNECT, VALIDATE_NEGOTIATE) */
    bool wait_forever;      /* once the server said STATUS_PENDING, no deadline (CHANGE_NOTIFY) */
    enum smb_req_state state;
    int err;                /* local error (SMB_ERR_*), 0 when a response arrived */
    smb_error err_detail;
    uint32_t status;        /* NTSTATUS of the response */
    smb2_hdr rsp_hdr;
    uint8_t *rsp;           /* the whole response message (header included) */
    size_t rsp_len;
    void *read_buf;         /* READ payload destination (zero-copy) */
    size_t read_cap;
    size_t read_len;
    uint64_t deadline_ns;
    pthread_cond_t cond;
    smb_req_cb cb;          /* when set, called instead of signalling */
    void *cb_arg;
    bool detached;          /* freed by the receiver after cb (set once the sender is done with it) */
    bool cb_done;           /* cb has run (under the connection lock) */
};

/* What a connection knows after NEGOTIATE. */
struct smb_conn_neg {
    uint16_t dialect;
    uint16_t security_mode;
    uint32_t capabilities;
    uint32_t max_transact;
    uint32_t max_read;
    uint32_t max_write;
    uint8_t server_guid[16];
    uint16_t cipher;
    uint16_t signing_alg;
    uint8_t preauth[64];    /* 3.1.1 connection preauth integrity hash */
    uint8_t *spnego_hint;   /* security buffer of the NEGOTIATE response */
    size_t spnego_hint_len;
    bool multi_credit;
    /* What we offered, for VALIDATE_NEGOTIATE_INFO (MS-SMB2 3.2.5.14.12). */
    uint16_t our_dialects[8];
    int our_ndialects;
    uint16_t our_security_mode;
    uint32_t our_capabilities;
};

struct smb_conn {
    int fd;
    char *host;
    uint16_t port;
    smb_conn_opts opts;
    uint8_t client_guid[16];
    struct smb_conn_neg neg;
    /* Set once the server refused FSCTL_DFS_GET_REFERRALS_EX: later referrals are asked the plain way (dfs.c; __atomic_*). */
    bool dfs_ex_refused;

    /* Oplock and lease break notifications (oplock.c): queued by the receiver, acknowledged by a thread of their own. */
    pthread_mutex_t break_lock;   /* protects the fields below up to break_arg */
    pthread_cond_t break_cond;
    struct smb_break_item *break_head, *break_tail;
    pthread_t break_thread;
    bool break_started, break_stop;
    smb_break_fn break_fn;        /* NULL: acknowledge every break as the server asks */
    void *break_arg;
    /*
     * Held for reading while the break thread looks up and uses a tree,
     * for writing while a tree or session is freed, so that an
     * acknowledgement is never sent on a freed tree.
     */
    pthread_rwlock_t tree_life;

    pthread_mutex_t lock;       /* protects the fields below */
    pthread_mutex_t send_lock;  /* serialises socket writes */
    pthread_cond_t credit_cond;
    pthread_cond_t wd_cond;
    pthread_condattr_t mono_attr; /* CLOCK_MONOTONIC, for every condition of the connection and its requests (read-only) */
    uint64_t next_mid;
    uint32_t credits;           /* available */
    uint32_t outstanding;       /* charge of requests in flight; written under lock with
                                   atomic stores, read without it by smb_route */
    smb_req **table;            /* pending requests by mid */
    size_t table_size;
    uint32_t in_flight;
    bool dead;                  /* as outstanding: set under lock, atomic load outside it */
    bool closing;
    smb_error dead_err;
    uint64_t last_send_ns;
    uint64_t last_recv_ns;
    struct smb_conn_stats_raw {
        uint64_t requests, bytes_sent, bytes_received;
    } stats;
    smb_session *sessions;      /* children */
    smb_session *bound;         /* the session this connection is a further channel of, or NULL */

    pthread_t rx_thread;
    pthread_t wd_thread;
    bool threads_started;
    size_t max_frame;

    /*
     * Event-loop mode (smb_conn_opts.event_loop, conn_event.c): no receiver
     * or watchdog thread; a thread waiting for an answer, or the caller's
     * loop through smb_conn_service, reads the socket, one at a time.
     */
    bool event_mode;
    pthread_mutex_t ev_lock;    /* held by the one reading; protects the fields below */
    uint8_t ev_hdr[4];          /* the transport header being read */
    size_t ev_hdr_have;
    uint8_t *ev_frame;          /* the frame being read (owned), NULL between frames */
    size_t ev_len, ev_have;
};

/** Monotonic time in nanoseconds. */
uint64_t smb_now_ns(void);

/** New request for command; the header is reserved, the body follows. */
smb_req *smb_req_new(smb_conn *c, uint16_t command, uint64_t session_id, uint32_t tree_id, const smb_sec *sec);
/** The writer of the request body (its position 0 is the header start). */
static inline smb_wr *smb_req_body(smb_req *r) { return &r->msg; }
/** Free a request that is not in flight (or is done). */
void smb_req_free(smb_req *r);

/**
 * Send one request: take credits, give it message ids, sign, write. The
 * charge covers max(request size, expect_len). Returns 0 or an error.
 */
int smb_req_send(smb_req *r, smb_error *err);
/**
 * Send n requests as one compound frame (MS-SMB2 3.2.4.1.4); with related
 * set, every request after the first carries SMB2_FLAGS_RELATED_OPERATIONS.
 */
int smb_req_send_compound(smb_req **rs, int n, bool related, smb_error *err);
/**
 * Ask the server to cancel r while it is in flight (MS-SMB2 3.2.4.24): the
 * request then completes, normally with STATUS_CANCELLED. A no-op once r is
 * done. Returns 0 or an error sending the CANCEL.
 */
int smb_req_cancel(smb_req *r, smb_error *err);
/** Wait until r completes. Returns 0 when a response arrived (see r->status) or a local error. */
int smb_req_wait(smb_req *r, smb_error *err);
/**
 * Wait until r completes or timeout_ms pass (negative: no bound): as
 * smb_req_wait (without its replay on another channel), or
 * SMB_ERR_TIMEOUT with r still in flight.
 */
int smb_req_wait_for(smb_req *r, int timeout_ms, smb_error *err);
/**
 * Send, wait, and turn a non-success status into an error described by
 * `what`. Returns 0 or the error code.
 */
int smb_req_run(smb_req *r, const char *what, smb_error *err);
/** A reader over the response, positioned at the body (offset 64). */
smb_rd smb_req_rsp_body(const smb_req *r);

/** Fail a request's status as an error (when status is not success). */
int smb_req_status_error(const smb_req *r, const char *what, smb_error *err);

/**
 * The largest payload one READ or WRITE (or the output of an IOCTL or
 * QUERY_DIRECTORY) may have on c now: limit, capped by the credits c holds
 * (smb_credit_io_cap), so that its charge can always be paid.
 */
uint32_t smb_conn_request_cap(smb_conn *c, uint32_t limit);

/** The largest frame c takes from the server now (a READ or WRITE of the negotiated maximum and headers). */
size_t smb_conn_max_frame(smb_conn *c);

/**
 * Wait on cv (c->lock held, as pthread_cond_wait) until it is signalled or
 * until (monotonic; NULL: no bound) passes; in event-loop mode the waiter
 * reads the socket meanwhile instead (conn_event.c), so that the answer
 * it waits for arrives. Spurious returns happen: callers loop.
 */
void smb_conn_cond_wait(smb_conn *c, pthread_cond_t *cv, const struct timespec *until);
/** Event-loop mode: read and handle what the socket holds, waiting up to timeout_ms for it. Without c->lock. */
void smb_conn_pump(smb_conn *c, int timeout_ms);
/**
 * Check the length of a frame from its transport header nb (MS-SMB2
 * 2.1): *len, or false with the connection failed.
 */
bool smb_conn_frame_length(smb_conn *c, const uint8_t nb[4], size_t *len);
/** Handle a whole frame read into memory (event-loop mode); takes frame. False when the connection broke. */
bool smb_conn_take_frame(smb_conn *c, uint8_t *frame, size_t len);
/** Fail the connection when a request is past its deadline (the watchdog's check); true when it did. */
bool smb_conn_check_deadlines(smb_conn *c);

/** Mark the connection dead (first cause wins), failing every request. */
void smb_conn_fail(smb_conn *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** Why a socket call failed, for a sysadmin: errno 0 (end of stream), EPIPE
 * and ECONNRESET all mean the server closed the connection, whichever of
 * them the race between its close and our send or receive produced. The
 * string is static. */
const char *smb_conn_loss_reason(int err);

/** Connection's session list helpers (used by session.c). */
void smb_conn_add_session(smb_conn *c, smb_session *s);
void smb_conn_remove_session(smb_conn *c, smb_session *s);

/** Close a session without talking to the server when the connection is dead. */
int smb_session_close_internal(smb_session *s, bool send_logoff, smb_error *err);

#endif

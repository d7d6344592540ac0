/* Internal layout of sessions, trees and opens (the parent/child chain). */
#ifndef SMBCOPY_OBJECTS_H
#define SMBCOPY_OBJECTS_H

#include <pthread.h>

#include "conn.h"

/** Most channels of one session (MS-SMB2 3.2.1.8), the first one included. */
#define SMB_MAX_CHANNELS 8

/** A channel: a connection bound to the session, with its own signing key (MS-SMB2 3.2.1.8). */
typedef struct smb_channel {
    smb_conn *conn;
    uint8_t signing_key[16];
    bool lost;          /* its loss was counted (channel_sequence moved on) */
    uint64_t replayed;  /* requests replayed elsewhere after it failed */
} smb_channel;

struct smb_session {
    smb_session *next;        /* sibling on the connection */
    smb_conn *conn;           /* the first channel's connection (chan[0]) */
    uint64_t id;
    smb_sec sec;
    uint64_t nonce_ctr;       /* next encryption nonce: a counter, never reused */
    bool guest;
    bool anonymous;
    char mech[16];
    pthread_mutex_t lock;     /* protects trees and adding channels */
    smb_tree *trees;
    smb_channel chan[SMB_MAX_CHANNELS];
    int nchan;                /* channels in chan[] (published with release order: read without the lock) */
    uint16_t channel_sequence; /* moves on when a channel is lost (MS-SMB2 3.2.1.3, 3.3.5.2.10) */
    unsigned route_turn;       /* where smb_route starts looking, so that ties rotate (atomic) */
};

struct smb_tree {
    smb_tree *next;           /* sibling on the session */
    smb_session *sess;
    uint32_t id;
    smb_tree_info info;
    char *share;
    pthread_mutex_t lock;     /* protects opens */
    smb_open *opens;
    smb_sec sec;              /* the session's keys; encrypt set when the share demands it */
    smb_sec csec[SMB_MAX_CHANNELS]; /* sec with channel k's signing key, for k >= 1 */
};

/*
 * What reopening a durable open needs (durable.c, MS-SMB2 3.2.4.4): the
 * CREATE as first sent, the create GUID, the lease it holds.
 */
typedef struct smb_durable {
    uint8_t version;          /* SMB_DURABLE_V1 or _V2, as granted */
    bool persistent;
    uint8_t create_guid[16];  /* V2 */
    uint8_t *name;            /* the path as UTF-16LE wire bytes (owned) */
    size_t name_len;
    smb_create_params params; /* as first sent; contexts and ncontexts cleared */
    int lease_version;        /* 0: no lease; 1 or 2 */
    uint16_t lease_epoch;
} smb_durable;

struct smb_open {
    smb_open *next;           /* sibling on the tree */
    smb_tree *tree;
    smb2_fileid fid;
    bool is_dir;
    uint8_t oplock_level;     /* granted by CREATE, lowered by breaks (oplock.c; __atomic_*) */
    smb_durable *durable;     /* set when the server granted a durable handle (owned) */
    /*
     * SMB_OPEN_LIVE while the open may be used; SMB_OPEN_CLOSED is written
     * just before it is freed (smb_close, or its tree, session or connection
     * closed), so that a debug build names a use after that (smb_open_check).
     */
    uint32_t magic;
};

/** oplock.c: the notification msg[0..len) (the header decoded as h) queued for the break thread; msg stays the caller's. */
void smb_oplock_break_received(smb_conn *c, const uint8_t *msg, size_t len);
/** oplock.c: stop and join the break thread, dropping what is queued. */
void smb_oplock_stop(smb_conn *c);

#define SMB_OPEN_LIVE 0x4e45504fu   /* "OPEN" */
#define SMB_OPEN_CLOSED 0x44534c43u /* "CLSD" */

/*
 * In debug builds (NDEBUG unset): abort with a message naming fn when op
 * is not a live open, e.g. one freed when its tree was disconnected; the
 * read of a freed open is itself what AddressSanitizer and valgrind report.
 * Nothing in release builds.
 */
#ifndef NDEBUG
void smb_open_check(const smb_open *op, const char *fn);
#define SMB_OPEN_CHECK(op) smb_open_check((op), __func__)
#else
#define SMB_OPEN_CHECK(op) ((void)0)
#endif

/** Add msg to a 3.1.1 preauth integrity hash (SHA-512 chain, MS-SMB2 3.2.5.2). Returns 0 or -1. */
int smb_preauth_add(uint8_t hash[64], const uint8_t *msg, size_t len);
/**
 * A signing key from a session key's first 16 bytes (MS-SMB2 3.2.5.3.1):
 * the key itself before 3.0, KDF "SMB2AESCMAC"/"SmbSign" in 3.0.x, KDF
 * "SMBSigningKey" over the preauth hash in 3.1.1. Returns 0 or -1.
 */
int smb_derive_signing_key(uint16_t dialect, const uint8_t key16[16], const uint8_t preauth[64], uint8_t out[16]);

/**
 * SPNEGO for credentials cr on connection c (session.c); *user and *domain
 * (split from cr) stay the caller's to free, also on failure.
 */
struct smb_spnego *smb_session_spnego_new(smb_conn *c, const smb_creds *cr, char **user, char **domain,
                                          smb_error *err);

/** One SESSION_SETUP exchange (session.c), for a logon or a channel binding. */
typedef struct smb_setup_exchange {
    smb_conn *conn;         /**< where it runs */
    uint64_t session_id;    /**< in: 0, or the session being bound; out: the server's session id */
    uint8_t flags;          /**< SMB2_SESSION_FLAG_BINDING or 0 */
    const smb_sec *sign;    /**< binding: requests signed, interim responses checked with it; NULL: none */
    const char *what;       /**< for messages ("logon as 'bob' on fs1") */
    uint8_t preauth[64];    /**< out: 3.1.1 preauth hash of the connection's NEGOTIATE and the exchange */
    uint16_t session_flags; /**< out: SessionFlags of the final response */
    bool refused;           /**< out: the server answered with an error status */
    struct smb_req *last;   /**< out: the last response (the caller checks the final one's signature, frees it) */
} smb_setup_exchange;

/**
 * Send SPNEGO tokens from sp in SESSION_SETUP requests until the server says
 * SUCCESS (MS-SMB2 3.2.4.2.3, 3.2.5.3): session ids checked (a binding must
 * keep its own), interim signatures checked when x->sign is set, the 3.1.1
 * preauth hash kept. Returns 0 or an error (x->last set in both cases).
 */
int smb_session_setup_exchange(smb_setup_exchange *x, struct smb_spnego *sp, smb_error *err);

/** True when the response rsp[0..len) carries a good signature under key (session.c). */
bool smb_rsp_signature_ok(uint16_t alg, const uint8_t key[16], const uint8_t *rsp, size_t len);

/** Give tree t the keys of every channel of its session (s->lock held; channel.c). */
void smb_tree_add_channel_keys(smb_tree *t);
/**
 * Send rs[0..n) on the session channel with the least in flight, when they
 * belong to a tree of a session with several channels (channel.c).
 */
void smb_route(smb_req **rs, int n);
/**
 * After r (a tree request) failed because its channel's connection died:
 * send it again, flagged SMB2_FLAGS_REPLAY_OPERATION, on another live
 * channel of the session, when it is safe to (READ, WRITE, QUERY_INFO,
 * FLUSH, not part of a compound); also after STATUS_FILE_NOT_AVAILABLE,
 * the server's answer while requests of the lost channel drain (after a
 * pause growing with attempt). Returns true when r is in flight again, or
 * done with the new error (channel.c).
 */
bool smb_req_replay(smb_req *r, int attempt);
/**
 * Sending rs[0..n) failed with rc because their channel's connection died
 * before they left: make them new for another live channel of their
 * session. Returns false when there is none, or they are not tree requests.
 */
bool smb_req_resend(smb_req **rs, int n, int rc);
/** The ChannelSequence a request of this session carries (channel.c). */
uint16_t smb_session_channel_sequence(const smb_session *s);

/** Close the session's channels other than the first (channel.c). */
void smb_session_close_channels(smb_session *s);

/**
 * The NEGOTIATE exchange on a new connection whose threads run: offer the
 * dialects, ciphers and signing algorithms c->opts allow, and keep what the
 * server chose in c->neg. Returns 0 or an error (negotiate.c).
 */
int smb_conn_negotiate(smb_conn *c, smb_error *err);

/** Start the receiver and watchdog threads of a connection (conn.c). */
int smb_conn_start_threads(smb_conn *c, smb_error *err);
/** Stop and join them, failing whatever is still in flight (conn.c). */
void smb_conn_stop_threads(smb_conn *c);

/** A request on a tree (session id, tree id, the session's keys). */
smb_req *smb_tree_req(smb_tree *t, uint16_t command);
/** Close every open of a tree; with send false, free them without asking the server. */
void smb_tree_close_opens(smb_tree *t, bool send);
/** Disconnect (optionally telling the server) and free a tree. */
int smb_tree_close_internal(smb_tree *t, bool send, smb_error *err);

#endif

/*
 * smbcopy SMB2/3 client library: the public API.
 *
 * The objects mirror the Python smbprotocol library:
 *
 *   smb_conn     one TCP connection to a server (Connection), negotiated
 *   smb_session  an authenticated user on a connection (Session)
 *   smb_tree     a connected share (TreeConnect)
 *   smb_open     an open file or directory handle (Open)
 *
 * Every object is closed explicitly; closing a parent closes (and frees) all
 * of its children first, so after smb_conn_close() every session, tree and
 * open made on it is gone. All functions are thread-safe: one connection,
 * session, tree or open may be used from many threads at once (but an object
 * must not be closed while another thread still uses it).
 *
 * Ownership: an object a function returns is the caller's until the call
 * that ends it (smb_conn_close, smb_session_logoff, smb_tree_disconnect,
 * smb_close, smb_io_wait, smb_dir_finish), which frees it whatever it
 * returns, or until its parent is closed. Strings and structures passed in
 * are borrowed for the call and copied when kept, unless a function says
 * otherwise (the buffers of smb_read_submit and smb_write_submit). A
 * const char * returned is static, or lives as long as the object it
 * describes, or is the caller's buffer, as each function says.
 *
 * Errors: functions that can fail return 0 (or a pointer) on success and a
 * negative SMB_ERR_* code (or NULL) on failure, and fill the caller's
 * smb_error when one is passed: a category code, the server's NTSTATUS when
 * there was one, and a one-line message for a human.
 *
 * Paths inside a share are UTF-8 with '/' or '\\' separators, relative to
 * the share root. Times are Windows FILETIME (100 ns units since 1601-01-01).
 */
#ifndef SMBCOPY_SMB_H
#define SMBCOPY_SMB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <smbcopy/api.h>
#include <smbcopy/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The version of the library that is running, "MAJOR.MINOR.PATCH"; compare
 * with SMBCOPY_VERSION_STRING (smbcopy/version.h), the headers' version.
 * A static string.
 */
SMBCOPY_API const char *smb_library_version(void);

/* ---------------------------------------------------------------- errors */

/** Error categories (negative return values). */
enum smb_err_code {
    SMB_OK = 0,
    SMB_ERR_INVALID_ARG = -1,   /**< bad argument from the caller */
    SMB_ERR_NO_MEMORY = -2,     /**< allocation failed */
    SMB_ERR_CONNECT = -3,       /**< cannot resolve or connect to the server */
    SMB_ERR_DISCONNECTED = -4,  /**< the connection was lost or closed */
    SMB_ERR_TIMEOUT = -5,       /**< the server did not answer in time */
    SMB_ERR_PROTOCOL = -6,      /**< malformed or unexpected data from the server */
    SMB_ERR_SMB1_ONLY = -7,     /**< the server speaks only SMB1 */
    SMB_ERR_NEGOTIATE = -8,     /**< no common dialect or a required feature missing */
    SMB_ERR_AUTH = -9,          /**< authentication failed */
    SMB_ERR_SIGNATURE = -10,    /**< a response failed signature or encryption checks */
    SMB_ERR_NOT_FOUND = -11,    /**< file or directory not found */
    SMB_ERR_EXISTS = -12,       /**< the name already exists */
    SMB_ERR_ACCESS = -13,       /**< access denied */
    SMB_ERR_SHARING = -14,      /**< sharing violation or file locked */
    SMB_ERR_NO_SPACE = -15,     /**< disk full or quota exceeded */
    SMB_ERR_BAD_SHARE = -16,    /**< the share does not exist */
    SMB_ERR_NOT_EMPTY = -17,    /**< directory not empty */
    SMB_ERR_IS_DIR = -18,       /**< a file operation on a directory */
    SMB_ERR_NOT_DIR = -19,      /**< a directory operation on a file */
    SMB_ERR_BAD_NAME = -20,     /**< a name the server or this library refuses */
    SMB_ERR_CLOSED = -21,       /**< the object was closed */
    SMB_ERR_ENCRYPTION = -22,   /**< encryption required but not available */
    SMB_ERR_SERVER = -23,       /**< any other NTSTATUS from the server */
    SMB_ERR_CANCELLED = -24,    /**< the request was cancelled */
    SMB_ERR_UNSUPPORTED = -25,  /**< the server does not support the operation */
    SMB_ERR_CRYPTO = -26,       /**< a local cryptographic failure */
    SMB_ERR_INTERNAL = -27,     /**< a failure inside the library (a broken invariant, a local call failing) */
};

/** Details of a failure. */
typedef struct smb_error {
    int code;          /**< an smb_err_code */
    uint32_t ntstatus; /**< the server's NTSTATUS, 0 when the error is local */
    char message[320]; /**< one line for a human, never holds a password */
} smb_error;

/** A short, static description of an error category. */
SMBCOPY_API const char *smb_strerror(int code);
/** The symbolic name of an NTSTATUS ("STATUS_ACCESS_DENIED", static), or its "0x%08X" form written to buf (and buf returned). */
SMBCOPY_API const char *smb_ntstatus_name(uint32_t status, char buf[16]);
/** Map an NTSTATUS to an error category (SMB_OK for success and informational codes). */
SMBCOPY_API int smb_ntstatus_to_code(uint32_t status);

/* ---------------------------------------------------------------- dialects */

#define SMB_DIALECT_2_0_2 0x0202
#define SMB_DIALECT_2_1 0x0210
#define SMB_DIALECT_3_0 0x0300
#define SMB_DIALECT_3_0_2 0x0302
#define SMB_DIALECT_3_1_1 0x0311

/** Parse "2.0.2", "2.1", "3.0", "3.0.2", "3.1.1" (also SMB2_02 .. SMB3_11); 0 if unknown. */
SMBCOPY_API uint16_t smb_dialect_parse(const char *s);
/** "3.1.1" for SMB_DIALECT_3_1_1 and so on; "?" if unknown (static strings). */
SMBCOPY_API const char *smb_dialect_name(uint16_t dialect);

/** Signing algorithms (MS-SMB2 2.2.3.1.7 ids). */
enum smb_signing_alg { SMB_SIGN_HMAC_SHA256 = 0, SMB_SIGN_AES_CMAC = 1, SMB_SIGN_AES_GMAC = 2 };
/** Encryption ciphers (MS-SMB2 2.2.3.1.2 ids); 0 means none. */
enum smb_cipher {
    SMB_CIPHER_NONE = 0,
    SMB_CIPHER_AES_128_CCM = 1,
    SMB_CIPHER_AES_128_GCM = 2,
    SMB_CIPHER_AES_256_CCM = 3,
    SMB_CIPHER_AES_256_GCM = 4,
};

/** Policy for signing and for encryption. */
enum smb_policy {
    SMB_POLICY_AUTO = 0,     /**< use it when the server requires it */
    SMB_POLICY_REQUIRED = 1, /**< always use it; fail when it cannot be used */
    SMB_POLICY_OFF = 2,      /**< do not ask for it (the server may still insist) */
};

/**
 * Which AES code path encryption and signing use on this CPU, e.g.
 * "AES-NI + PCLMULQDQ (+VAES +VPCLMULQDQ +AVX512) via OpenSSL 3.0.19"
 * (OPENSSL_ia32cap in the environment masks features as OpenSSL does),
 * written to buf (len bytes, cut short to fit); returns buf.
 */
SMBCOPY_API const char *smb_crypto_description(char *buf, size_t len);

/* ---------------------------------------------------------------- connection */

typedef struct smb_conn smb_conn;
typedef struct smb_session smb_session;
typedef struct smb_tree smb_tree;
typedef struct smb_open smb_open;

/** Connection options; initialise with smb_conn_opts_init(). */
typedef struct smb_conn_opts {
    uint16_t min_dialect;        /**< lowest dialect offered (default 2.0.2) */
    uint16_t max_dialect;        /**< highest dialect offered (default 3.1.1) */
    int signing;                 /**< smb_policy (default AUTO) */
    int encryption;              /**< smb_policy (default AUTO) */
    unsigned connect_timeout_ms; /**< TCP connect and negotiate (default 15000) */
    unsigned request_timeout_ms; /**< a request with no answer fails after this (default 60000) */
    unsigned pending_timeout_ms; /**< after an interim STATUS_PENDING (default 600000) */
    unsigned echo_interval_s;    /**< keep-alive ECHO after this much idle time (default 120; 0 = never) */
    uint32_t max_io_size;        /**< cap on one READ/WRITE (default 8 MiB, also capped by the server) */
    uint16_t credits_target;     /**< credits to ask the server to keep granted (default 512) */
    uint8_t client_guid[16];     /**< all zero: a random GUID is made */
    uint16_t cipher;             /**< 0: offer every cipher, GCM first; else offer only this smb_cipher (3.1.1) */
    /**
     * Most entries one directory listing (smb_dir_next) may bring (0: the
     * default, 10,000,000). A server sending more fails the listing with
     * SMB_ERR_PROTOCOL "the server sent more than N entries": a listing
     * that never ends is stopped.
     */
    uint64_t max_dir_entries;
    /**
     * No receiver or watchdog thread: the program's own poll loop drives
     * the connection (include/smbcopy/async.h: smb_conn_service); a
     * synchronous call reads the socket itself while it waits. Keep-alive
     * ECHOs are not sent in this mode.
     */
    bool event_loop;
} smb_conn_opts;

/** Fill opts with the defaults. */
SMBCOPY_API void smb_conn_opts_init(smb_conn_opts *opts);

/**
 * Connect to host:port (port 0 means 445) and negotiate a dialect
 * (MS-SMB2 3.2.4.2.2). opts may be NULL: the defaults of
 * smb_conn_opts_init(); a zero timeout, max_io_size or credits_target in
 * opts takes its default too. host and opts are copied. Returns the
 * connection, the caller's until smb_conn_close(), or NULL on failure with
 * err filled; a server that speaks only SMB1 gives SMB_ERR_SMB1_ONLY.
 */
SMBCOPY_API smb_conn *smb_conn_connect(const char *host, uint16_t port, const smb_conn_opts *opts, smb_error *err);

/** What a connection negotiated. */
typedef struct smb_conn_info {
    uint16_t dialect;           /**< SMB_DIALECT_* */
    uint16_t security_mode;     /**< server's SecurityMode (bit 0x2: signing required) */
    uint32_t capabilities;      /**< server's Capabilities */
    uint32_t max_read_size;     /**< usable READ size (server limit and our cap) */
    uint32_t max_write_size;    /**< usable WRITE size */
    uint32_t max_transact_size; /**< server's MaxTransactSize */
    uint8_t server_guid[16];    /**< server's GUID */
    uint16_t cipher;            /**< smb_cipher negotiated (3.1.1 context, or CCM for 3.0.x) */
    uint16_t signing_alg;       /**< smb_signing_alg that sessions on this connection use */
} smb_conn_info;

/** Fill info with what the connection negotiated. */
SMBCOPY_API void smb_conn_get_info(const smb_conn *conn, smb_conn_info *info);

/** Send an ECHO and wait for its answer (MS-SMB2 2.2.28). */
SMBCOPY_API int smb_conn_echo(smb_conn *conn, smb_error *err);

/** Counters of one connection (all monotonic). */
typedef struct smb_conn_stats {
    uint64_t requests;       /**< requests sent */
    uint64_t bytes_sent;     /**< bytes written to the socket */
    uint64_t bytes_received; /**< bytes read from the socket */
    uint32_t credits;        /**< credits available now */
    uint32_t in_flight;      /**< requests awaiting an answer now */
} smb_conn_stats;

/** Read the connection's counters. */
SMBCOPY_API void smb_conn_get_stats(smb_conn *conn, smb_conn_stats *stats);

/* Oplock levels (MS-SMB2 2.2.13, smb_create_params.oplock). */
#define SMB_OPLOCK_LEVEL_NONE 0x00u
#define SMB_OPLOCK_LEVEL_II 0x01u
#define SMB_OPLOCK_LEVEL_EXCLUSIVE 0x08u
#define SMB_OPLOCK_LEVEL_BATCH 0x09u
#define SMB_OPLOCK_LEVEL_LEASE 0xFFu

/** An oplock or lease break the server sent (MS-SMB2 2.2.23). */
typedef struct smb_break_info {
    bool lease;             /**< a lease break (else an oplock break) */
    /**
     * Oplock break: the open it is about (NULL when it is no longer open),
     * valid during the handler's call unless the caller closes it meanwhile.
     */
    smb_open *op;
    uint8_t new_oplock;     /**< oplock break: the level the server asks to go down to (SMB_OPLOCK_LEVEL_*) */
    uint8_t lease_key[16];  /**< lease break: the lease's key, as the caller sent it in its RqLs context */
    uint32_t current_lease_state; /**< lease break: SMB2_LEASE_* bits held */
    uint32_t new_lease_state;     /**< lease break: the bits the server lets the client keep */
    bool ack_required;      /**< lease break: the server waits for an acknowledgement */
} smb_break_info;

/**
 * A break handler: called on the connection's break thread (never the
 * receiver) for each break, before it is acknowledged. Return true for
 * the library to acknowledge it as asked (down to new_oplock, or
 * new_lease_state), false to leave it unacknowledged (the server then
 * waits, up to its break timeout, for an acknowledgement or a close). It
 * may flush or close the open, but not disconnect its tree or session.
 */
typedef bool (*smb_break_fn)(const smb_break_info *b, void *arg);

/**
 * Handle oplock and lease breaks on conn with fn(b, arg) (NULL: the
 * default, every break acknowledged at once as the server asks, MS-SMB2
 * 3.2.5.19). A break that is not acknowledged keeps any other client's
 * open of the file waiting for the server's break timeout (35 s on Samba
 * and Windows). Set it before opening files with an oplock or a lease.
 */
SMBCOPY_API void smb_conn_set_break_handler(smb_conn *conn, smb_break_fn fn, void *arg);

/**
 * The connection's TCP socket, for getsockname(), getpeername() or a
 * socket option; -1 once closed. It stays the connection's: never read,
 * write or close it.
 */
SMBCOPY_API int smb_conn_socket(const smb_conn *conn);

/** Log off every session (closing their trees and opens), close the socket, free conn. NULL is a no-op. */
SMBCOPY_API void smb_conn_close(smb_conn *conn);

/* ---------------------------------------------------------------- session */

/** Which authentication mechanisms may be used. */
enum smb_auth_mech_policy {
    SMB_AUTH_AUTO = 0,      /**< Kerberos when credentials exist, else NTLM */
    SMB_AUTH_NTLM = 1,      /**< NTLM only */
    SMB_AUTH_KERBEROS = 2,  /**< Kerberos only */
};

/** Credentials for a session. Strings are UTF-8 and copied by the call. */
typedef struct smb_creds {
    const char *username; /**< "user", "DOMAIN\\user" or "user@domain"; NULL or "" = anonymous */
    const char *password; /**< NULL or "" for anonymous */
    const char *domain;   /**< used when the user name carries none */
    const char *workstation; /**< our name sent in NTLM (default: none) */
    bool guest;           /**< log on as guest (any user name and password the server maps to guest) */
    int mech;             /**< smb_auth_mech_policy */
    const char *target_host; /**< host name for a Kerberos service principal (default: the connected host) */
} smb_creds;

/**
 * Authenticate a new session on conn (MS-SMB2 3.2.4.2.3) through SPNEGO.
 * A wrong password gives SMB_ERR_AUTH with a hint about the user name's form.
 * creds is read during the call only. The session is the caller's until
 * smb_session_logoff() or smb_conn_close(conn); NULL on failure, err filled.
 */
SMBCOPY_API smb_session *smb_session_setup(smb_conn *conn, const smb_creds *creds, smb_error *err);

/**
 * Whether Kerberos can log creds on now, without sending anything: credentials
 * for creds->username (user, "DOMAIN\\user" or "user@domain"; creds->domain
 * when it names none) from the ticket cache, the client keytab
 * (KRB5_CLIENT_KTNAME) or creds->password, for the service
 * cifs/<creds->target_host>. False when creds->mech is SMB_AUTH_NTLM or
 * target_host is NULL. Reads only those fields; keeps no pointer.
 */
SMBCOPY_API bool smb_kerberos_usable(const smb_creds *creds);

/**
 * The principal ("alice@REALM") whose credentials the ticket cache or, when
 * there is no cache, the client keytab holds, as kinit left it, written into
 * buf (len bytes, NUL included). Returns 0, or SMB_ERR_AUTH with err saying
 * why (no ticket, expired, a name longer than len) when there is none.
 */
SMBCOPY_API int smb_kerberos_principal(char *buf, size_t len, smb_error *err);

/** What a session is. */
typedef struct smb_session_info {
    uint64_t session_id; /**< server's SessionId */
    bool guest;          /**< logged on as guest */
    bool anonymous;      /**< null session */
    bool signing;        /**< requests and responses are signed */
    bool encryption;     /**< messages are encrypted */
    const char *mech;    /**< "NTLM" or "Kerberos" (valid while the session lives) */
} smb_session_info;

/** Fill info for the session. */
SMBCOPY_API void smb_session_get_info(const smb_session *sess, smb_session_info *info);

/** Disconnect every tree, send LOGOFF and free the session (also when an error is returned). NULL is a no-op. */
SMBCOPY_API int smb_session_logoff(smb_session *sess, smb_error *err);

/* ---------------------------------------------------------------- channels */

/**
 * Options for a further connection of sess (a channel): the session's
 * connection options with its client GUID, its dialect only and its cipher,
 * as binding requires (MS-SMB2 3.2.4.2.3).
 */
SMBCOPY_API void smb_session_channel_opts(const smb_session *sess, smb_conn_opts *opts);

/**
 * Bind conn, a new connection to the same server made with
 * smb_session_channel_opts, to sess as another channel (MS-SMB2 3.2.4.2.3,
 * SMB2_SESSION_FLAG_BINDING), authenticating again with cr (the session's
 * credentials). On success the session owns conn: its trees' requests go on
 * the channel with the least in flight, and closing the session closes it.
 * A READ, WRITE, QUERY_INFO or FLUSH in flight on a channel whose
 * connection dies is sent again on a live channel (flagged as a replay,
 * with the session's ChannelSequence moved on), so the caller sees no error
 * while one channel is left.
 * On failure conn stays the caller's. Errors: SMB_ERR_UNSUPPORTED (no
 * multichannel: dialect below 3.0, the server does not offer it or refuses
 * the binding), SMB_ERR_AUTH, SMB_ERR_SIGNATURE, SMB_ERR_INVALID_ARG (not the
 * same server, dialect or client GUID; too many channels).
 */
SMBCOPY_API int smb_session_bind(smb_session *sess, smb_conn *conn, const smb_creds *cr, smb_error *err);

/** One channel of a session. */
typedef struct smb_channel_info {
    char host[256];       /**< the address it connects to */
    uint16_t port;
    bool alive;           /**< its connection is up */
    smb_conn_stats stats; /**< its connection's counters */
    uint64_t replayed;    /**< requests sent again on another channel after this one was lost (in flight:
                               replayed; not yet sent: resent) */
} smb_channel_info;

/** The session's channels (the first one included) into out[0..max); returns how many there are. */
SMBCOPY_API int smb_session_channels(smb_session *sess, smb_channel_info *out, int max);

/* ---------------------------------------------------------------- tree */

/**
 * Connect a share: "share", or a full "\\\\host\\share" UNC path (MS-SMB2
 * 3.2.4.2.4); share is copied. The tree is the caller's until
 * smb_tree_disconnect() or its session's end; NULL on failure, err filled.
 */
SMBCOPY_API smb_tree *smb_tree_connect(smb_session *sess, const char *share, smb_error *err);

/** Share type (MS-SMB2 2.2.10). */
enum smb_share_type { SMB_SHARE_DISK = 1, SMB_SHARE_PIPE = 2, SMB_SHARE_PRINT = 3 };

/** What a tree connect returned. */
typedef struct smb_tree_info {
    uint32_t tree_id;      /**< TreeId */
    uint8_t share_type;    /**< smb_share_type */
    uint32_t share_flags;  /**< ShareFlags (0x8000: encrypt data) */
    uint32_t capabilities; /**< share capabilities */
    uint32_t maximal_access; /**< access mask the user has on the share root */
} smb_tree_info;

/** Fill info for the tree. */
SMBCOPY_API void smb_tree_get_info(const smb_tree *tree, smb_tree_info *info);

/**
 * Close every open on the tree (CLOSE sent for each: the server lets go of
 * the files), send TREE_DISCONNECT and free the tree (also when an error is
 * returned). The tree's opens are freed with it: a pointer to one must not
 * be used afterwards, not even for smb_close (a debug build, NDEBUG unset,
 * aborts naming the call that used it). NULL is a no-op.
 */
SMBCOPY_API int smb_tree_disconnect(smb_tree *tree, smb_error *err);

/* ---------------------------------------------------------------- create */

/* Access masks (MS-SMB2 2.2.13.1). */
#define SMB_FILE_READ_DATA 0x00000001u
#define SMB_FILE_LIST_DIRECTORY 0x00000001u
#define SMB_FILE_WRITE_DATA 0x00000002u
#define SMB_FILE_ADD_FILE 0x00000002u
#define SMB_FILE_APPEND_DATA 0x00000004u
#define SMB_FILE_ADD_SUBDIRECTORY 0x00000004u
#define SMB_FILE_READ_EA 0x00000008u
#define SMB_FILE_WRITE_EA 0x00000010u
#define SMB_FILE_EXECUTE 0x00000020u
#define SMB_FILE_TRAVERSE 0x00000020u
#define SMB_FILE_DELETE_CHILD 0x00000040u
#define SMB_FILE_READ_ATTRIBUTES 0x00000080u
#define SMB_FILE_WRITE_ATTRIBUTES 0x00000100u
#define SMB_DELETE 0x00010000u
#define SMB_READ_CONTROL 0x00020000u
#define SMB_WRITE_DAC 0x00040000u
#define SMB_WRITE_OWNER 0x00080000u
#define SMB_SYNCHRONIZE 0x00100000u
#define SMB_ACCESS_SYSTEM_SECURITY 0x01000000u /**< the SACL (MS-DTYP 2.4.3); needs SeSecurityPrivilege */
#define SMB_MAXIMUM_ALLOWED 0x02000000u
#define SMB_GENERIC_ALL 0x10000000u
#define SMB_GENERIC_EXECUTE 0x20000000u
#define SMB_GENERIC_WRITE 0x40000000u
#define SMB_GENERIC_READ 0x80000000u

/* Share access (MS-SMB2 2.2.13). */
#define SMB_SHARE_READ 0x1u
#define SMB_SHARE_WRITE 0x2u
#define SMB_SHARE_DELETE 0x4u

/* Create dispositions (MS-SMB2 2.2.13). */
#define SMB_FILE_SUPERSEDE 0u
#define SMB_FILE_OPEN 1u
#define SMB_FILE_CREATE 2u
#define SMB_FILE_OPEN_IF 3u
#define SMB_FILE_OVERWRITE 4u
#define SMB_FILE_OVERWRITE_IF 5u

/* Create options (MS-SMB2 2.2.13). */
#define SMB_FILE_DIRECTORY_FILE 0x00000001u
#define SMB_FILE_WRITE_THROUGH 0x00000002u
#define SMB_FILE_SEQUENTIAL_ONLY 0x00000004u
#define SMB_FILE_NON_DIRECTORY_FILE 0x00000040u
#define SMB_FILE_RANDOM_ACCESS 0x00000800u
#define SMB_FILE_DELETE_ON_CLOSE 0x00001000u
#define SMB_FILE_OPEN_REPARSE_POINT 0x00200000u

/* File attributes (MS-FSCC 2.6). */
#define SMB_ATTR_READONLY 0x00000001u
#define SMB_ATTR_HIDDEN 0x00000002u
#define SMB_ATTR_SYSTEM 0x00000004u
#define SMB_ATTR_DIRECTORY 0x00000010u
#define SMB_ATTR_ARCHIVE 0x00000020u
#define SMB_ATTR_NORMAL 0x00000080u
#define SMB_ATTR_TEMPORARY 0x00000100u
#define SMB_ATTR_SPARSE_FILE 0x00000200u
#define SMB_ATTR_REPARSE_POINT 0x00000400u
#define SMB_ATTR_COMPRESSED 0x00000800u

/* Oplock levels (MS-SMB2 2.2.13). */
#define SMB_OPLOCK_NONE 0x00u
#define SMB_OPLOCK_II 0x01u
#define SMB_OPLOCK_EXCLUSIVE 0x08u
#define SMB_OPLOCK_BATCH 0x09u

/* Create actions returned (MS-SMB2 2.2.14). */
#define SMB_CREATE_ACTION_SUPERSEDED 0u
#define SMB_CREATE_ACTION_OPENED 1u
#define SMB_CREATE_ACTION_CREATED 2u
#define SMB_CREATE_ACTION_OVERWRITTEN 3u

/** One create context (MS-SMB2 2.2.13.2): a name ("MxAc", "QFid", ...) and data. */
typedef struct smb_create_context {
    const char *name;  /**< ASCII tag, e.g. "MxAc" */
    const void *data;  /**< context data (may be NULL when len is 0) */
    size_t len;        /**< data length */
} smb_create_context;

/* Lease states (MS-SMB2 2.2.13.2.8): what a lease lets the client cache. */
#define SMB_LEASE_READ 0x01u   /**< read caching */
#define SMB_LEASE_HANDLE 0x02u /**< handle caching: a close may be deferred; needed for a durable open */
#define SMB_LEASE_WRITE 0x04u  /**< write caching */

/* Durable handles (MS-SMB2 3.2.4.3.3, 3.2.4.3.4; smb_create_params.durable). */
#define SMB_DURABLE_NONE 0u
#define SMB_DURABLE_V1 1u /**< DHnQ (SMB 2.x and 3.x) */
#define SMB_DURABLE_V2 2u /**< DH2Q (SMB 3.x): a create GUID and a timeout */

/** Parameters of a CREATE; initialise with smb_create_params_init(). */
typedef struct smb_create_params {
    uint32_t desired_access;   /**< SMB_FILE_* / SMB_GENERIC_* mask */
    uint32_t file_attributes;  /**< SMB_ATTR_* for a new file (0 = normal) */
    uint32_t share_access;     /**< SMB_SHARE_* */
    uint32_t disposition;      /**< SMB_FILE_OPEN etc. */
    uint32_t options;          /**< SMB_FILE_* create options */
    uint8_t oplock;            /**< requested oplock level (default none); a lease (lease_state) overrides it */
    uint32_t impersonation;    /**< impersonation level (default 2, impersonation) */
    const smb_create_context *contexts; /**< request contexts sent as they are */
    size_t ncontexts;          /**< how many (at most 16) */
    /**
     * Ask for a lease with these SMB_LEASE_* bits (0: none). Version 2 of
     * the lease context on SMB 3.x, version 1 on 2.1; not on 2.0.2 (the
     * request then fails with SMB_ERR_INVALID_ARG). The granted state is in
     * smb_create_reply.lease_state.
     */
    uint32_t lease_state;
    uint8_t lease_key[16];     /**< the lease's key (all zero: a random one is made) */
    /**
     * SMB_DURABLE_V1 or _V2: ask for a handle that survives a lost
     * connection (smb_open_reconnect). Servers grant it only with a batch
     * oplock or a lease with SMB_LEASE_HANDLE (MS-SMB2 3.3.5.9.6,
     * 3.3.5.9.10); smb_create_reply.durable says what was granted. V2 needs
     * SMB 3.x (else SMB_ERR_INVALID_ARG).
     */
    uint8_t durable;
    uint32_t durable_timeout_ms; /**< V2: how long the server keeps the open after the connection is lost (0: its default) */
    bool persistent;           /**< V2: ask for a persistent handle (continuously available shares only) */
    bool query_maximal_access; /**< send MxAc: the reply says what this user may do with the file */
    bool query_on_disk_id;     /**< send QFid: the reply carries the file's on-disk id and volume id */
} smb_create_params;

/**
 * What a CREATE response said besides the handle (MS-SMB2 2.2.14,
 * 2.2.14.2): the oplock and create action, and the reply create contexts
 * the library knows, decoded. Contexts it does not know are counted.
 */
typedef struct smb_create_reply {
    uint8_t oplock;                 /**< SMB_OPLOCK_LEVEL_* granted (SMB_OPLOCK_LEVEL_LEASE: a lease) */
    uint32_t create_action;         /**< SMB_CREATE_ACTION_* */
    bool has_maximal_access;        /**< an MxAc reply came */
    uint32_t maximal_access_status; /**< its NTSTATUS (0: success) */
    uint32_t maximal_access;        /**< the access mask this user may ask for */
    bool has_lease;                 /**< an RqLs reply came (a lease was granted) */
    uint8_t lease_key[16];          /**< its key */
    uint32_t lease_state;           /**< SMB_LEASE_* granted */
    uint32_t lease_flags;           /**< its Flags (0x2: break in progress; 0x4: parent key set) */
    uint16_t lease_epoch;           /**< version 2: the lease's epoch */
    uint8_t parent_lease_key[16];   /**< version 2: the parent directory's lease key (when flags say so) */
    uint8_t durable;                /**< SMB_DURABLE_* granted */
    uint32_t durable_timeout_ms;    /**< V2: the timeout the server grants */
    bool persistent;                /**< V2: the handle is persistent */
    bool has_on_disk_id;            /**< a QFid reply came */
    uint64_t on_disk_file_id;       /**< the file's id on disk (an inode number on Samba) */
    uint64_t on_disk_volume_id;     /**< the volume's id */
    unsigned other_contexts;        /**< reply contexts not decoded here */
} smb_create_reply;

/** Defaults: read access, share read/write/delete, FILE_OPEN, no options. */
SMBCOPY_API void smb_create_params_init(smb_create_params *p);

/** Metadata of a file (from CREATE, CLOSE, QUERY_INFO or QUERY_DIRECTORY). */
typedef struct smb_file_info {
    uint64_t creation_time;    /**< FILETIME */
    uint64_t last_access_time; /**< FILETIME */
    uint64_t last_write_time;  /**< FILETIME */
    uint64_t change_time;      /**< FILETIME */
    uint64_t allocation_size;  /**< bytes allocated */
    uint64_t end_of_file;      /**< file size in bytes */
    uint32_t attributes;       /**< SMB_ATTR_* */
    uint64_t file_id;          /**< server's file id (0 when unknown) */
} smb_file_info;

/** True when the attributes say directory. */
static inline bool smb_file_info_is_dir(const smb_file_info *i) { return (i->attributes & SMB_ATTR_DIRECTORY) != 0; }

/**
 * Open or create path on tree (MS-SMB2 3.2.4.3). On success info (optional)
 * receives the file's metadata from the response and *create_action
 * (optional) what the server did. path and params (its contexts included)
 * are read during the call only. The open is the caller's until smb_close()
 * or its tree's end; NULL on failure, err filled.
 *
 * A named stream (MS-FSCC 2.1.5) is opened like a file by a path whose last
 * component is FILE:NAME or FILE:NAME:$DATA ("dir/file.txt:Zone.Identifier";
 * a directory's stream likewise, without SMB_FILE_DIRECTORY_FILE); FILE::$DATA
 * is the main stream. The library sends ':' as it is; the server decides:
 * creating a stream of a file that does not exist creates the file too,
 * and a share without stream support refuses the name
 * (STATUS_OBJECT_NAME_INVALID, SMB_ERR_BAD_NAME).
 */
SMBCOPY_API smb_open *smb_create(smb_tree *tree, const char *path, const smb_create_params *params,
                     smb_file_info *info, uint32_t *create_action, smb_error *err);

/**
 * smb_create, and reply (optional, the caller's) receives the response's
 * decoded create contexts, oplock and create action. A malformed reply
 * context fails the call (SMB_ERR_PROTOCOL) and closes the handle.
 */
SMBCOPY_API smb_open *smb_create_ex(smb_tree *tree, const char *path, const smb_create_params *params,
                                    smb_file_info *info, smb_create_reply *reply, smb_error *err);

/**
 * Reopen the durable open op on tree after op's connection was lost
 * (MS-SMB2 3.2.4.4: DHnC or DH2C, with the same lease), so that op goes on
 * where it was: same object, same server-side open, its locks and cached
 * data kept. tree must be on a new connection with a session of the same
 * user; when op holds a lease, that connection must have the old one's
 * client GUID too (a lease is the client's, MS-SMB2 3.3.5.9.12): make it
 * with the options smb_session_channel_opts() gives for the old session,
 * before closing that. On success op belongs to tree (its old tree forgets it, so
 * closing the old connection later leaves it alone) and reply (optional)
 * says what the server granted; on failure op stays where it was, still
 * the caller's to close. Do not use op from another thread meanwhile.
 * SMB_ERR_INVALID_ARG when op is not durable; the server's refusal
 * (STATUS_OBJECT_NAME_NOT_FOUND: the open expired, or its old connection
 * is not yet seen as lost) otherwise.
 */
SMBCOPY_API int smb_open_reconnect(smb_open *op, smb_tree *tree, smb_create_reply *reply, smb_error *err);

/** SMB_DURABLE_* that op's server granted (SMB_DURABLE_NONE when none). */
SMBCOPY_API uint8_t smb_open_durable(const smb_open *op);

/**
 * Close an open (MS-SMB2 3.2.4.5) and free it, also when an error is
 * returned. With info non-NULL the server is asked for the final attributes
 * (SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB). NULL is a no-op.
 */
SMBCOPY_API int smb_close(smb_open *op, smb_file_info *info, smb_error *err);
/**
 * The oplock level op holds (SMB_OPLOCK_LEVEL_*): as the CREATE response
 * granted it, lowered by each oplock break acknowledged since;
 * SMB_OPLOCK_LEVEL_LEASE when the open holds a lease instead.
 */
SMBCOPY_API uint8_t smb_open_oplock_level(const smb_open *op);

/**
 * Largest READ one request carries on this open's connection now: the
 * server's MaxReadSize (and max_io_size), smaller when the server grants
 * few credits (a request is never charged more than a quarter of the
 * credits the connection holds, MS-SMB2 3.2.4.1.5). A good size for the
 * caller's reads; longer ones are split by the library.
 */
SMBCOPY_API uint32_t smb_open_max_read(const smb_open *op);
/** Largest WRITE one request carries on this open's connection now (as smb_open_max_read). */
SMBCOPY_API uint32_t smb_open_max_write(const smb_open *op);

/** Flush the file's data to stable storage on the server (MS-SMB2 2.2.17). */
SMBCOPY_API int smb_flush(smb_open *op, smb_error *err);

/* ---------------------------------------------------------------- read, write */

/** An asynchronous READ or WRITE in flight. */
typedef struct smb_io smb_io;

/**
 * Submit a READ of up to len bytes at offset into buf, any length: above
 * smb_open_max_read it goes as several READs, all in flight at once. The
 * payload is received straight into buf. buf is borrowed: it must stay
 * valid until smb_io_wait() returns. Waits only for credits. The io is the
 * caller's until smb_io_wait(); NULL on failure, err filled.
 */
SMBCOPY_API smb_io *smb_read_submit(smb_open *op, void *buf, size_t len, uint64_t offset, smb_error *err);
/**
 * Submit a WRITE of len bytes at offset from buf, any length (split like
 * smb_read_submit). buf is borrowed: it must stay valid until smb_io_wait()
 * returns. The io is the caller's until smb_io_wait().
 */
SMBCOPY_API smb_io *smb_write_submit(smb_open *op, const void *buf, size_t len, uint64_t offset, smb_error *err);

/**
 * True when requests on op go neither signed nor encrypted, so that
 * smb_write_submit_fd() can send file data without reading it.
 */
SMBCOPY_API bool smb_open_sends_plain(const smb_open *op);

/**
 * Like smb_write_submit(), the payload being len bytes of the file open as
 * fd, from fd_offset: the kernel sends them from the file (sendfile) without
 * a copy through user memory. Only where smb_open_sends_plain(op). The
 * bytes are taken during the call; fd may be closed once it returns. A file
 * that has become shorter is made up with zeros on the wire (the frame must
 * stay whole) and the write fails with SMB_ERR_SERVER.
 */
SMBCOPY_API smb_io *smb_write_submit_fd(smb_open *op, int fd, uint64_t fd_offset, size_t len, uint64_t offset, smb_error *err);
/**
 * Wait for an io to finish and free it. *bytes (optional) receives the bytes
 * read (0 at end of file) or written. Returns 0 or an SMB_ERR_* code. An io
 * split into several requests counts the bytes up to the first request
 * that came short (the end of the file for a READ); every request is
 * waited for, also after one failed.
 *
 * A WRITE from memory that the server takes in part (a Count below the
 * Length, MS-SMB2 3.3.5.13) is continued here: the rest is written at
 * offset + Count, so on success *bytes is the whole length; a server that
 * takes none of what is left fails it (SMB_ERR_SERVER). A WRITE from a file
 * (smb_write_submit_fd) is not continued, the file being the caller's:
 * *bytes may then be less than asked, and the caller writes the rest.
 */
SMBCOPY_API int smb_io_wait(smb_io *io, size_t *bytes, smb_error *err);

/**
 * Ask the server to cancel an io still in flight (SMB2 CANCEL). The io must
 * still be waited for; it then usually fails with SMB_ERR_CANCELLED.
 */
SMBCOPY_API int smb_io_cancel(smb_io *io, smb_error *err);

/**
 * Read len bytes at offset, keeping up to `window` requests of
 * smb_open_max_read in flight (0 = a default). Stops early at end of file;
 * *nread receives what was read.
 */
SMBCOPY_API int smb_pread(smb_open *op, void *buf, size_t len, uint64_t offset, unsigned window, size_t *nread, smb_error *err);
/** Write len bytes at offset, pipelined like smb_pread: every byte (short WRITEs continued), or an error. */
SMBCOPY_API int smb_pwrite(smb_open *op, const void *buf, size_t len, uint64_t offset, unsigned window, smb_error *err);

/* ---------------------------------------------------------------- info */

/** Query the file's metadata (FileNetworkOpenInformation and FileInternalInformation). */
SMBCOPY_API int smb_query_file_info(smb_open *op, smb_file_info *info, smb_error *err);

/* Info types and classes for the raw calls (MS-SMB2 2.2.37, MS-FSCC 2.4). */
#define SMB_INFO_FILE 1
#define SMB_INFO_FILESYSTEM 2
#define SMB_INFO_SECURITY 3
#define SMB_INFO_QUOTA 4
#define SMB_FILE_BASIC_INFORMATION 4
#define SMB_FILE_STANDARD_INFORMATION 5
#define SMB_FILE_INTERNAL_INFORMATION 6
#define SMB_FILE_RENAME_INFORMATION 10
#define SMB_FILE_DISPOSITION_INFORMATION 13
#define SMB_FILE_ALL_INFORMATION 18
#define SMB_FILE_END_OF_FILE_INFORMATION 20
#define SMB_FILE_STREAM_INFORMATION 22
#define SMB_FILE_NETWORK_OPEN_INFORMATION 34

/**
 * QUERY_INFO with any type and class (MS-SMB2 2.2.37); the raw answer is
 * copied to out (at most cap bytes), its length to *out_len. The server is
 * asked for at most cap bytes, its MaxTransactSize and what the credits the
 * connection holds pay for (an answer above 64 KiB costs more than one).
 */
SMBCOPY_API int smb_query_info(smb_open *op, uint8_t info_type, uint8_t info_class, uint32_t additional,
                   void *out, size_t cap, size_t *out_len, smb_error *err);
/** SET_INFO with any type and class (MS-SMB2 2.2.39). */
SMBCOPY_API int smb_set_info(smb_open *op, uint8_t info_type, uint8_t info_class, uint32_t additional,
                 const void *data, size_t len, smb_error *err);

/* AdditionalInformation of a security query or set (MS-SMB2 2.2.37). */
#define SMB_SECINFO_OWNER 0x1u
#define SMB_SECINFO_GROUP 0x2u
#define SMB_SECINFO_DACL 0x4u
#define SMB_SECINFO_SACL 0x8u

/**
 * The security descriptor of an open (MS-SMB2 2.2.37, SMB2_0_INFO_SECURITY),
 * the parts secinfo names (SMB_SECINFO_*), as self-relative bytes
 * (MS-DTYP 2.4.6). *sd is malloc'd, the caller frees it. The open needs
 * READ_CONTROL (ACCESS_SYSTEM_SECURITY too for the SACL); a server that
 * refuses answers STATUS_ACCESS_DENIED or STATUS_PRIVILEGE_NOT_HELD, both
 * SMB_ERR_ACCESS. A descriptor too large for the first buffer is asked for
 * once more with room for the largest valid one (about 128 KiB).
 */
SMBCOPY_API int smb_get_security(smb_open *op, uint32_t secinfo, uint8_t **sd, size_t *sd_len, smb_error *err);
/**
 * Sets the parts secinfo names of an open's security descriptor from
 * self-relative bytes (MS-SMB2 2.2.39). The open needs WRITE_DAC for the
 * DACL, WRITE_OWNER for owner and group, ACCESS_SYSTEM_SECURITY for the
 * SACL; refusals map as for smb_get_security.
 */
SMBCOPY_API int smb_set_security(smb_open *op, uint32_t secinfo, const uint8_t *sd, size_t sd_len, smb_error *err);

/** One named data stream of a file or directory (FileStreamInformation, MS-FSCC 2.4.44). */
typedef struct smb_stream_info {
    char *name;               /**< UTF-8, the NAME of ":NAME:$DATA" (never empty); malloc'd */
    uint64_t size;            /**< StreamSize: bytes of the stream */
    uint64_t allocation_size; /**< StreamAllocationSize */
} smb_stream_info;

/**
 * The named data streams of an open (QUERY_INFO, FileStreamInformation,
 * MS-FSCC 2.4.44), in the server's order: the main stream ("::$DATA"),
 * streams of other types than $DATA (compared without case) and entries
 * without any name (impacket's answer) are left out. *streams is malloc'd
 * (NULL when *n is 0); free it with smb_streams_free. On failure *streams
 * is NULL and *n 0.
 *
 * An entry whose name is not ":NAME:TYPE", has an empty NAME (but the main
 * stream's) or a NAME holding ':', '/', '\\' or a NUL fails the call with
 * SMB_ERR_PROTOCOL (a name from the server becomes part of local names), as
 * do a negative size, entries that do not chain forward inside the buffer
 * and more than 65536 streams. Names are UTF-8 (a lone surrogate in its
 * WTF-8 form, as smb_dir_next gives names).
 *
 * The open needs FILE_READ_ATTRIBUTES. The first request takes up to
 * 64 KiB; a server answering STATUS_BUFFER_OVERFLOW or
 * STATUS_BUFFER_TOO_SMALL is asked once more for its MaxTransactSize (as
 * far as the credits held pay for), and a list larger still fails with
 * SMB_ERR_SERVER. A file system without streams answers an empty list
 * (Samba without a streams module lists "::$DATA" only) or fails with
 * SMB_ERR_UNSUPPORTED (STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED,
 * STATUS_NOT_IMPLEMENTED, STATUS_INVALID_INFO_CLASS or
 * STATUS_INVALID_DEVICE_REQUEST, kept in err->ntstatus). Other failures
 * are those of any request (SMB_ERR_ACCESS, SMB_ERR_CLOSED, ...). A
 * stream's bytes are read and written by opening "FILE:NAME" with
 * smb_create, like any file.
 */
SMBCOPY_API int smb_get_streams(smb_open *op, smb_stream_info **streams, size_t *n, smb_error *err);
/** Frees what smb_get_streams returned (NULL is fine). */
SMBCOPY_API void smb_streams_free(smb_stream_info *streams, size_t n);

/** Basic information to set: a time of 0 leaves it unchanged; attributes 0 leaves them. */
typedef struct smb_basic_info {
    uint64_t creation_time;    /**< FILETIME or 0 */
    uint64_t last_access_time; /**< FILETIME or 0 */
    uint64_t last_write_time;  /**< FILETIME or 0 */
    uint64_t change_time;      /**< FILETIME or 0 */
    uint32_t attributes;       /**< SMB_ATTR_* or 0 */
} smb_basic_info;

/** Set times and attributes (FileBasicInformation). */
SMBCOPY_API int smb_set_basic_info(smb_open *op, const smb_basic_info *bi, smb_error *err);
/** Set the file's size (FileEndOfFileInformation). */
SMBCOPY_API int smb_set_end_of_file(smb_open *op, uint64_t size, smb_error *err);
/** Rename the open file to new_path in the same share (FileRenameInformation). */
SMBCOPY_API int smb_set_rename(smb_open *op, const char *new_path, bool replace, smb_error *err);
/** Mark or unmark the file for deletion when the last handle closes (FileDispositionInformation). */
SMBCOPY_API int smb_set_delete_on_close(smb_open *op, bool del, smb_error *err);

/* ---------------------------------------------------------------- ioctl, misc */

#define SMB_FSCTL_VALIDATE_NEGOTIATE_INFO 0x00140204u
#define SMB_FSCTL_QUERY_NETWORK_INTERFACE_INFO 0x001401FCu
#define SMB_FSCTL_SRV_REQUEST_RESUME_KEY 0x00140078u
#define SMB_FSCTL_SRV_COPYCHUNK 0x001440F2u
#define SMB_FSCTL_SRV_COPYCHUNK_WRITE 0x001480F2u
#define SMB_FSCTL_SET_SPARSE 0x000900C4u
#define SMB_FSCTL_QUERY_ALLOCATED_RANGES 0x000940CFu

/**
 * An FSCTL on an open (or, with op NULL, on the tree's connection, using
 * tree): input in[0..in_len), output copied to out (at most cap bytes).
 */
SMBCOPY_API int smb_fsctl(smb_tree *tree, smb_open *op, uint32_t ctl_code, const void *in, size_t in_len,
              void *out, size_t cap, size_t *out_len, smb_error *err);

/** A network interface of the server (MS-SMB2 2.2.32.5). */
typedef struct smb_iface {
    uint32_t if_index;   /**< the server's interface index (addresses of one interface share it) */
    bool rss;            /**< RSS-capable: one such interface takes several connections well */
    bool rdma;           /**< RDMA-capable */
    uint64_t link_speed; /**< bits per second */
    bool ipv6;
    char addr[48];       /**< numeric address ("192.0.2.1", "2001:db8::1") */
} smb_iface;

/**
 * The server's network interfaces (FSCTL_QUERY_NETWORK_INTERFACE_INFO,
 * SMB 3.x with multichannel): *out is malloc'd (free it), *n entries, IPv4
 * and IPv6 only, in the server's order. Errors: the server's refusal
 * (SMB_ERR_UNSUPPORTED and friends), SMB_ERR_PROTOCOL for a malformed list.
 */
SMBCOPY_API int smb_query_interfaces(smb_tree *tree, smb_iface **out, size_t *n, smb_error *err);

/** A byte range of a file. */
typedef struct smb_range {
    uint64_t off;
    uint64_t len;
} smb_range;

/**
 * The ranges of the open file's first `size` bytes that hold data
 * (FSCTL_QUERY_ALLOCATED_RANGES, MS-FSCC 2.3.51): sorted, disjoint, within
 * [0, size); the rest (holes) reads as zeros. The server's answer is
 * checked: ranges out of order, overlapping or overflowing are a protocol
 * error. At most max ranges: beyond them the last range returned extends
 * to size (the rest counts as data). *out is malloc'd (the caller frees
 * it; NULL when *n is 0). A file without holes gives one range [0, size).
 */
SMBCOPY_API int smb_query_allocated_ranges(smb_open *op, uint64_t size, size_t max, smb_range **out, size_t *n, smb_error *err);

#define SMB_FSCTL_GET_REPARSE_POINT 0x000900A8u
#define SMB_FSCTL_SET_REPARSE_POINT 0x000900A4u

/**
 * The target of the symbolic link at path (FSCTL_GET_REPARSE_POINT,
 * MS-FSCC 2.3.33, on the link itself opened with FILE_OPEN_REPARSE_POINT):
 * its SubstituteName (MS-FSCC 2.1.2.4) in UTF-8 with '\\' separators, as
 * the server keeps it, into *target (malloc'd, the caller frees it);
 * *relative: SYMLINK_FLAG_RELATIVE (relative to the link's directory;
 * otherwise an NT path such as "\\??\\C:\\dir"). SMB_ERR_UNSUPPORTED when
 * path is not a symbolic link the server gives as such: not a reparse
 * point (STATUS_NOT_A_REPARSE_POINT: Samba 4.17 answers so for every file,
 * its links included), a reparse point of another tag, or a server without
 * reparse points; SMB_ERR_PROTOCOL for reparse data that does not decode.
 */
SMBCOPY_API int smb_readlink(smb_tree *tree, const char *path, char **target, bool *relative, smb_error *err);

/**
 * Make path (it must not exist) a symbolic link to target (UTF-8, '\\'
 * separators; relative to the link's directory when relative): a file, or
 * a directory when is_dir, created with FILE_OPEN_REPARSE_POINT and given
 * the link's reparse data (FSCTL_SET_REPARSE_POINT, MS-FSCC 2.3.65, 2.1.2.4;
 * the PrintName is the target too). When the server refuses the reparse
 * data the file is deleted again and the call fails: SMB_ERR_UNSUPPORTED
 * when the server cannot hold links (STATUS_NOT_A_REPARSE_POINT, as Samba
 * 4.17 answers, NOT_SUPPORTED, INVALID_DEVICE_REQUEST), SMB_ERR_ACCESS when
 * the user may not make them (ACCESS_DENIED, PRIVILEGE_NOT_HELD: Windows
 * wants SeCreateSymbolicLinkPrivilege).
 */
SMBCOPY_API int smb_symlink(smb_tree *tree, const char *path, const char *target, bool relative, bool is_dir,
                            smb_error *err);

/* ---------------------------------------------------------------- directories */

/** One directory entry. name belongs to the listing: valid until the next smb_dir_next() or smb_dir_finish(). */
typedef struct smb_dirent {
    const char *name;   /**< UTF-8 name (a lone UTF-16 surrogate is kept reversibly as WTF-8) */
    smb_file_info info; /**< the entry's metadata */
} smb_dirent;

/** A directory listing in progress. */
typedef struct smb_dir smb_dir;

/**
 * Start listing the directory open as dir (opened with SMB_FILE_LIST_DIRECTORY),
 * matching pattern (NULL = "*"). The listing is fetched in batches as
 * smb_dir_next() asks (QUERY_DIRECTORY continuation, MS-SMB2 3.2.4.17), so
 * directories of any size work in flat memory. "." and ".." are skipped.
 * pattern is copied; dir is borrowed and must stay open until
 * smb_dir_finish(). The listing is the caller's until smb_dir_finish();
 * NULL on failure, err filled.
 */
SMBCOPY_API smb_dir *smb_dir_start(smb_open *dir, const char *pattern, smb_error *err);
/**
 * The next entry: 1 and *ent set, 0 at the end, or a negative error code.
 * A pattern that nothing matches is an empty listing (0 at once), whether
 * the server says STATUS_NO_SUCH_FILE or STATUS_NO_MORE_FILES.
 * Entries are passed on as the server sends them (a name sent twice comes
 * twice). A listing that does not end fails with SMB_ERR_PROTOCOL and is
 * over (the next call returns 0): "the server repeated the same entries"
 * when a page of entries (names and FileIndex values, in any order) comes
 * again, "the server sent more than N entries" past
 * smb_conn_opts.max_dir_entries (every entry up to N is returned first).
 */
SMBCOPY_API int smb_dir_next(smb_dir *d, smb_dirent *ent, smb_error *err);
/** Free the listing (the directory open stays open). NULL is a no-op. */
SMBCOPY_API void smb_dir_finish(smb_dir *d);

/* ---------------------------------------------------------------- path helpers */

/** Metadata of path (one compounded CREATE+CLOSE round trip). */
SMBCOPY_API int smb_stat(smb_tree *tree, const char *path, smb_file_info *info, smb_error *err);
/** Create a directory. */
SMBCOPY_API int smb_mkdir(smb_tree *tree, const char *path, smb_error *err);
/** Remove an empty directory. */
SMBCOPY_API int smb_rmdir(smb_tree *tree, const char *path, smb_error *err);
/** Delete a file. */
SMBCOPY_API int smb_unlink(smb_tree *tree, const char *path, smb_error *err);
/** Rename from to to within the share; replace an existing file when replace is set. */
SMBCOPY_API int smb_rename(smb_tree *tree, const char *from, const char *to, bool replace, smb_error *err);
/**
 * Rename, then set times and attributes from bi, in one round trip (CREATE +
 * SET_INFO + SET_INFO + CLOSE). Setting them after the rename keeps a
 * server from storing attributes it derived from the old name (Samba's
 * "hide dot files" hides a temporary ".name").
 */
SMBCOPY_API int smb_rename_set_times(smb_tree *tree, const char *from, const char *to, bool replace, const smb_basic_info *bi,
                         smb_error *err);
/** Set times and attributes of path (see smb_basic_info). */
SMBCOPY_API int smb_set_times(smb_tree *tree, const char *path, const smb_basic_info *bi, smb_error *err);

/**
 * Read a small file whole in one round trip (CREATE + READ + CLOSE,
 * compounded): at most cap bytes into buf (when cap exceeds the
 * connection's READ limit: open, pipelined READs, close, in more round
 * trips), the count into *n, the file's metadata from the
 * CLOSE into info (optional). A file larger than cap is read in part: check
 * info->end_of_file.
 */
SMBCOPY_API int smb_read_file(smb_tree *tree, const char *path, void *buf, size_t cap, size_t *n, smb_file_info *info,
                  smb_error *err);

/**
 * What smb_read_file_ex reads besides the data, in the same round trip:
 * zero it, set the inputs, read the outputs after the call.
 */
typedef struct smb_read_extras {
    /* In. */
    bool want_streams; /**< count the named streams (a QUERY_INFO of FileStreamInformation) */
    uint32_t secinfo;  /**< the security descriptor parts to read (SMB_SECINFO_*), 0: none */
    /* Out: set by every call, success or not. */
    /**
     * With want_streams: the number of named $DATA streams, those
     * smb_get_streams lists; 0 also when the server says its file system
     * keeps none (a status of SMB_ERR_UNSUPPORTED); -1 when not known (any
     * other refusal of the query, a list longer than 64 KiB or malformed:
     * smb_get_streams on an open then says why). -1 without want_streams
     * and when the call fails.
     */
    int streams;
    /**
     * With secinfo: the self-relative descriptor (MS-DTYP 2.4.6) as the
     * server sent it, the parts secinfo names; malloc'd, the caller frees
     * it. NULL (sd_len 0) when not asked, when its query failed and when
     * the call fails.
     */
    uint8_t *sd;
    size_t sd_len;
    /**
     * The descriptor query's own outcome when the call succeeds: code 0,
     * or its failure, which fails nothing else: SMB_ERR_ACCESS (the
     * server refuses the read: STATUS_ACCESS_DENIED, or
     * STATUS_PRIVILEGE_NOT_HELD for a SACL), SMB_ERR_SERVER with ntstatus
     * STATUS_BUFFER_TOO_SMALL (a descriptor past 64 KiB:
     * smb_get_security on an open reads it), SMB_ERR_PROTOCOL for a
     * malformed answer. A server that fails what follows a failed related
     * request alike (MS-SMB2 3.3.5.2.7.2) fails this query too when the
     * stream query was refused. Empty when not asked or the call fails.
     */
    smb_error sd_err;
} smb_read_extras;

/**
 * smb_read_file that also reads what x asks for (x NULL: exactly
 * smb_read_file), each as one more member of the same compound before the
 * CLOSE (CREATE + READ + QUERY_INFO of the streams + QUERY_INFO of
 * SMB2_0_INFO_SECURITY + CLOSE), answered in at most 64 KiB each (one
 * credit, MS-SMB2 3.1.5.2). The read succeeds or fails as smb_read_file's
 * would: a refused or malformed query fails nothing and says so in x.
 *
 * With secinfo the CREATE asks for READ_CONTROL, and for
 * ACCESS_SYSTEM_SECURITY when the SACL is among the parts: a server
 * refuses that open to a user without SeSecurityPrivilege
 * (STATUS_PRIVILEGE_NOT_HELD), which fails the whole call with
 * SMB_ERR_ACCESS; ask again without SMB_SECINFO_SACL.
 *
 * When cap exceeds the READ limit, or the answers together would pass the
 * largest frame the connection takes, the same is done in more round
 * trips on one open (pipelined READs, then the queries, smb_get_security's
 * for the descriptor). Errors as smb_read_file's.
 */
SMBCOPY_API int smb_read_file_ex(smb_tree *tree, const char *path, void *buf, size_t cap, size_t *n,
                                 smb_file_info *info, smb_read_extras *x, smb_error *err);

/**
 * Create path (it must not exist) holding buf[0..len), rename it to
 * rename_to replacing what is there (optional), set its times and
 * attributes from bi (optional; after the rename, so that attributes a
 * server derives from the first name do not stick), all in one round trip
 * (CREATE + WRITE + SET_INFO + SET_INFO + CLOSE, compounded). info
 * (optional) receives the final metadata. On a failure before the rename
 * the file this call created is deleted; after it, the file is in place
 * and the error says what failed. (A server that carries on after a failed
 * member of a compound, as Samba does after any but a CREATE, renames the
 * incomplete file all the same, replacing what was at rename_to: it is
 * deleted there, so that no incomplete file stays under the final name.) A WRITE the server takes in part
 * (MS-SMB2 3.3.5.13) is completed under the final name in more round
 * trips; when that fails, the incomplete file is deleted and the call
 * fails. Any length: above smb_open_max_write (a server with a small
 * MaxWriteSize, SMB 2.0.2, few credits) the same steps go as CREATE,
 * pipelined WRITEs, rename, times and CLOSE on one handle, with the same
 * outcome.
 */
SMBCOPY_API int smb_write_file(smb_tree *tree, const char *path, const void *buf, size_t len, const smb_basic_info *bi,
                   const char *rename_to, smb_file_info *info, smb_error *err);

/** What smb_write_file_ex sets besides data, times and the name, in the same round trip. */
typedef struct smb_write_extras {
    /* In. */
    /**
     * A self-relative security descriptor (MS-DTYP 2.4.6) to set on the
     * new file, its parts secinfo names (SMB_SECINFO_*); NULL or sd_len 0
     * (or secinfo 0): none. Read during the call only.
     */
    const uint8_t *sd;
    size_t sd_len;
    uint32_t secinfo;
    /**
     * With sd: read the descriptor back (the parts secinfo names) right
     * after setting it, in the same round trip (a QUERY_INFO after the
     * SET_INFO; the CREATE also asks for READ_CONTROL), into sd_back: what
     * the server keeps, for smb_sd_kept (security.h) to compare.
     */
    bool read_back;
    /* Out: set by every call. */
    bool sd_refused; /**< the call failed because the server refused to set the descriptor (its SET_INFO) */
    /**
     * With read_back, when the call succeeds: the descriptor as read back,
     * malloc'd (the caller frees it); NULL (sd_back_len 0) otherwise, and
     * when the read-back failed on its own, which fails nothing else:
     * sd_back_err then says why (code 0 otherwise).
     */
    uint8_t *sd_back;
    size_t sd_back_len;
    smb_error sd_back_err;
} smb_write_extras;

/**
 * smb_write_file that also sets what x holds (x NULL: exactly
 * smb_write_file): the descriptor by a SET_INFO of SMB2_0_INFO_SECURITY
 * (MS-SMB2 2.2.39) after the WRITE and before the rename (CREATE + WRITE +
 * SET_INFO security + SET_INFO rename + SET_INFO times + CLOSE), so the
 * final name appears with it. The CREATE asks for WRITE_DAC (the DACL),
 * WRITE_OWNER (owner or group) and ACCESS_SYSTEM_SECURITY (the SACL) as
 * secinfo needs. A refusal of the open or of the descriptor fails the
 * call as any failure before the rename does: nothing is left under path,
 * nor the file without its descriptor under rename_to (see smb_write_file);
 * the error says "set the security descriptor of 'PATH'" and x->sd_refused
 * is set when the SET_INFO was refused (SMB_ERR_ACCESS for an owner the
 * user may not give, SMB_ERR_UNSUPPORTED where the share keeps none). The
 * SACL's ACCESS_SYSTEM_SECURITY is refused at the CREATE to a user without
 * SeSecurityPrivilege (SMB_ERR_ACCESS): nothing is created. Above the
 * WRITE limit the descriptor is set on the open before the rename, with
 * the same outcome. A descriptor shorter than its 20-byte header:
 * SMB_ERR_INVALID_ARG, nothing sent.
 */
SMBCOPY_API int smb_write_file_ex(smb_tree *tree, const char *path, const void *buf, size_t len,
                                  const smb_basic_info *bi, const char *rename_to, smb_file_info *info,
                                  smb_write_extras *x, smb_error *err);

/* Flags for smb_open_file. */
#define SMB_O_RDONLY 0x0
#define SMB_O_WRONLY 0x1
#define SMB_O_RDWR 0x2
#define SMB_O_CREAT 0x10
#define SMB_O_TRUNC 0x20
#define SMB_O_EXCL 0x40

/**
 * Open a file for reading and/or writing with open(2)-like flags. A writable
 * open also gets DELETE access, so the handle can rename or delete the file.
 * The open is the caller's until smb_close(), as smb_create's.
 */
SMBCOPY_API smb_open *smb_open_file(smb_tree *tree, const char *path, int flags, smb_file_info *info, smb_error *err);
/** Open a directory for listing. The open is the caller's until smb_close(), as smb_create's. */
SMBCOPY_API smb_open *smb_open_dir(smb_tree *tree, const char *path, smb_error *err);

/* ---------------------------------------------------------------- time */

/** FILETIME from Unix seconds and nanoseconds. */
SMBCOPY_API uint64_t smb_filetime_from_unix(int64_t sec, long nsec);
/** Unix time from a FILETIME. */
SMBCOPY_API struct timespec smb_filetime_to_timespec(uint64_t ft);

#ifdef __cplusplus
}
#endif
#endif

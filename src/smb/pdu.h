/*
 * SMB2/3 PDU encoders and decoders (MS-SMB2 2.2). Pure functions over
 * buffers: no sockets, no locks.
 *
 * Encoders append the request body (the part after the 64-byte header) to a
 * writer whose position 0 is the start of the SMB2 header, so that offsets
 * in the body (which MS-SMB2 counts from the header's start) are the
 * writer's positions. Decoders read a response through a bounded reader over
 * the whole message (header included) positioned at offset 64, and return 0
 * or SMB_ERR_PROTOCOL when anything is out of bounds or inconsistent.
 * Decoded variable parts (buffers, names) point into the message and are
 * valid as long as it is.
 */
#ifndef SMBCOPY_PDU_H
#define SMBCOPY_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"
#include <smbcopy/notify.h>
#include <smbcopy/smb.h>

#define SMB2_HDR_LEN 64

/* Commands (MS-SMB2 2.2.1.2). */
enum smb2_command {
    SMB2_NEGOTIATE = 0x00,
    SMB2_SESSION_SETUP = 0x01,
    SMB2_LOGOFF = 0x02,
    SMB2_TREE_CONNECT = 0x03,
    SMB2_TREE_DISCONNECT = 0x04,
    SMB2_CREATE = 0x05,
    SMB2_CLOSE = 0x06,
    SMB2_FLUSH = 0x07,
    SMB2_READ = 0x08,
    SMB2_WRITE = 0x09,
    SMB2_LOCK = 0x0A,
    SMB2_IOCTL = 0x0B,
    SMB2_CANCEL = 0x0C,
    SMB2_ECHO = 0x0D,
    SMB2_QUERY_DIRECTORY = 0x0E,
    SMB2_CHANGE_NOTIFY = 0x0F,
    SMB2_QUERY_INFO = 0x10,
    SMB2_SET_INFO = 0x11,
    SMB2_OPLOCK_BREAK = 0x12,
};

/* Header flags (MS-SMB2 2.2.1.2). */
#define SMB2_FLAGS_SERVER_TO_REDIR 0x00000001u
#define SMB2_FLAGS_ASYNC_COMMAND 0x00000002u
#define SMB2_FLAGS_RELATED_OPERATIONS 0x00000004u
#define SMB2_FLAGS_SIGNED 0x00000008u
#define SMB2_FLAGS_PRIORITY_MASK 0x00000070u
#define SMB2_FLAGS_DFS_OPERATIONS 0x10000000u
#define SMB2_FLAGS_REPLAY_OPERATION 0x20000000u

/* Security mode (MS-SMB2 2.2.3). */
#define SMB2_NEGOTIATE_SIGNING_ENABLED 0x0001u
#define SMB2_NEGOTIATE_SIGNING_REQUIRED 0x0002u

/* Capabilities (MS-SMB2 2.2.3). */
#define SMB2_GLOBAL_CAP_DFS 0x00000001u
#define SMB2_GLOBAL_CAP_LEASING 0x00000002u
#define SMB2_GLOBAL_CAP_LARGE_MTU 0x00000004u
#define SMB2_GLOBAL_CAP_MULTI_CHANNEL 0x00000008u
#define SMB2_GLOBAL_CAP_PERSISTENT_HANDLES 0x00000010u
#define SMB2_GLOBAL_CAP_DIRECTORY_LEASING 0x00000020u
#define SMB2_GLOBAL_CAP_ENCRYPTION 0x00000040u

/* Session flags (MS-SMB2 2.2.6). */
#define SMB2_SESSION_FLAG_IS_GUEST 0x0001u
#define SMB2_SESSION_FLAG_IS_NULL 0x0002u
#define SMB2_SESSION_FLAG_ENCRYPT_DATA 0x0004u
#define SMB2_SESSION_FLAG_BINDING 0x01u /* request Flags field */

/* Share flags (MS-SMB2 2.2.10). */
#define SMB2_SHAREFLAG_ENCRYPT_DATA 0x00008000u

/* Negotiate context types (MS-SMB2 2.2.3.1). */
#define SMB2_PREAUTH_INTEGRITY_CAPABILITIES 0x0001
#define SMB2_ENCRYPTION_CAPABILITIES 0x0002
#define SMB2_COMPRESSION_CAPABILITIES 0x0003
#define SMB2_NETNAME_NEGOTIATE_CONTEXT_ID 0x0005
#define SMB2_SIGNING_CAPABILITIES 0x0008
#define SMB2_PREAUTH_SHA512 0x0001

/* Close flags (MS-SMB2 2.2.15). */
#define SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB 0x0001u

/* Query directory flags (MS-SMB2 2.2.33). */
#define SMB2_RESTART_SCANS 0x01u
#define SMB2_RETURN_SINGLE_ENTRY 0x02u
#define SMB2_INDEX_SPECIFIED 0x04u
#define SMB2_REOPEN 0x10u

/* Information classes used for directory listings (MS-FSCC 2.4). */
#define SMB2_FILE_DIRECTORY_INFORMATION 0x01
#define SMB2_FILE_ID_FULL_DIRECTORY_INFORMATION 0x26
#define SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION 0x25

/* IOCTL flags (MS-SMB2 2.2.31). */
#define SMB2_0_IOCTL_IS_FSCTL 0x00000001u

/** The 64-byte sync or async header (MS-SMB2 2.2.1). */
typedef struct smb2_hdr {
    uint16_t credit_charge;
    uint32_t status;           /**< response: NTSTATUS; request: ChannelSequence in the low 16 bits (3.x) */
    uint16_t command;
    uint16_t credits;          /**< CreditRequest (request) or CreditResponse (response) */
    uint32_t flags;
    uint32_t next_command;
    uint64_t message_id;
    uint64_t async_id;         /**< when SMB2_FLAGS_ASYNC_COMMAND */
    uint32_t tree_id;          /**< sync form */
    uint64_t session_id;
    uint8_t signature[16];
} smb2_hdr;

/** Append a 64-byte header. */
void smb2_hdr_encode(smb_wr *w, const smb2_hdr *h);
/**
 * Decode the header at r's position (ProtocolId 0xFE 'S' 'M' 'B',
 * StructureSize 64). Returns 0 or SMB_ERR_PROTOCOL.
 */
int smb2_hdr_decode(smb_rd *r, smb2_hdr *h);

/** A file id (MS-SMB2 2.2.14.1). */
typedef struct smb2_fileid {
    uint64_t persistent;
    uint64_t volatile_;
} smb2_fileid;

/** A file id of all ones: "the file opened by the previous request of this compound" (MS-SMB2 3.2.4.1.4). */
#define SMB2_FILEID_RELATED ((smb2_fileid){UINT64_MAX, UINT64_MAX})

/** A byte range inside a message. */
typedef struct smb2_blob {
    const uint8_t *data;
    size_t len;
} smb2_blob;

/* ---------------------------------------------------------------- error */

/**
 * Decode an ERROR response body (MS-SMB2 2.2.2) at r's position.
 * Returns 0 or SMB_ERR_PROTOCOL; *data receives the ErrorData bytes.
 */
int smb2_error_decode(smb_rd *r, smb2_blob *data);

/* ---------------------------------------------------------------- negotiate */

/** NEGOTIATE request (MS-SMB2 2.2.3). */
typedef struct smb2_negotiate_req {
    uint16_t security_mode;
    uint32_t capabilities;
    uint8_t client_guid[16];
    const uint16_t *dialects;
    int ndialects;
    /* 3.1.1 contexts, sent when 0x0311 is among the dialects: */
    uint8_t preauth_salt[32];
    const uint16_t *ciphers;  /**< encryption capabilities, most preferred first */
    int nciphers;
    const uint16_t *signing_algs; /**< signing capabilities, most preferred first */
    int nsigning_algs;
    const char *netname;      /**< server name for the netname context (NULL = omit) */
} smb2_negotiate_req;

/** Append a NEGOTIATE request body (with contexts at an 8-aligned offset). */
void smb2_negotiate_req_encode(smb_wr *w, const smb2_negotiate_req *req);

/** NEGOTIATE response (MS-SMB2 2.2.4) with its 3.1.1 contexts decoded. */
typedef struct smb2_negotiate_rsp {
    uint16_t security_mode;
    uint16_t dialect;
    uint8_t server_guid[16];
    uint32_t capabilities;
    uint32_t max_transact_size;
    uint32_t max_read_size;
    uint32_t max_write_size;
    uint64_t system_time;
    uint64_t server_start_time;
    smb2_blob security_buffer;
    bool have_preauth;      /**< a preauth integrity context came */
    uint16_t preauth_hash_alg;
    bool have_cipher;
    uint16_t cipher;        /**< 0 = the server chose none */
    bool have_signing;
    uint16_t signing_alg;
} smb2_negotiate_rsp;

/** Decode a NEGOTIATE response body. */
int smb2_negotiate_rsp_decode(smb_rd *r, smb2_negotiate_rsp *rsp);

/* ---------------------------------------------------------------- session setup */

/** SESSION_SETUP request (MS-SMB2 2.2.5). */
typedef struct smb2_session_setup_req {
    uint8_t flags;           /**< SMB2_SESSION_FLAG_BINDING */
    uint8_t security_mode;
    uint32_t capabilities;
    uint64_t previous_session_id;
    const uint8_t *token;
    size_t token_len;
} smb2_session_setup_req;

void smb2_session_setup_req_encode(smb_wr *w, const smb2_session_setup_req *req);

typedef struct smb2_session_setup_rsp {
    uint16_t session_flags;
    smb2_blob token;
} smb2_session_setup_rsp;

int smb2_session_setup_rsp_decode(smb_rd *r, smb2_session_setup_rsp *rsp);

/* ---------------------------------------------------------------- logoff, echo, cancel, flush */

/** LOGOFF, ECHO and CANCEL requests have the same 4-byte body (StructureSize 4, Reserved). */
void smb2_simple_req_encode(smb_wr *w);
/** Decode the 4-byte body of LOGOFF, ECHO, TREE_DISCONNECT and FLUSH responses. */
int smb2_simple_rsp_decode(smb_rd *r);
/** TREE_DISCONNECT request body (StructureSize 4). */
#define smb2_tree_disconnect_req_encode smb2_simple_req_encode

/** FLUSH request (MS-SMB2 2.2.17). */
void smb2_flush_req_encode(smb_wr *w, smb2_fileid fid);

/* ---------------------------------------------------------------- tree connect */

/** TREE_CONNECT request (MS-SMB2 2.2.9): path is UTF-16LE "\\\\server\\share". */
void smb2_tree_connect_req_encode(smb_wr *w, const uint8_t *path_utf16, size_t path_len);

typedef struct smb2_tree_connect_rsp {
    uint8_t share_type;
    uint32_t share_flags;
    uint32_t capabilities;
    uint32_t maximal_access;
} smb2_tree_connect_rsp;

int smb2_tree_connect_rsp_decode(smb_rd *r, smb2_tree_connect_rsp *rsp);

/* ---------------------------------------------------------------- create */

/** One create context to send. */
typedef struct smb2_create_ctx {
    const char *name; /**< ASCII tag, e.g. "MxAc" */
    const void *data;
    size_t len;
} smb2_create_ctx;

/** CREATE request (MS-SMB2 2.2.13). */
typedef struct smb2_create_req {
    uint8_t oplock;
    uint32_t impersonation;
    uint32_t desired_access;
    uint32_t file_attributes;
    uint32_t share_access;
    uint32_t disposition;
    uint32_t options;
    const uint8_t *name_utf16; /**< no leading backslash; may be empty for the share root */
    size_t name_len;
    const smb2_create_ctx *contexts;
    int ncontexts;
} smb2_create_req;

void smb2_create_req_encode(smb_wr *w, const smb2_create_req *req);

/** Network-open style metadata carried by CREATE and CLOSE responses. */
typedef struct smb2_file_times {
    uint64_t creation_time;
    uint64_t last_access_time;
    uint64_t last_write_time;
    uint64_t change_time;
    uint64_t allocation_size;
    uint64_t end_of_file;
    uint32_t attributes;
} smb2_file_times;

typedef struct smb2_create_rsp {
    uint8_t oplock;
    uint8_t flags;
    uint32_t create_action;
    smb2_file_times times;
    smb2_fileid fid;
    smb2_blob contexts; /**< raw create contexts chain, parse with smb2_create_ctx_next */
} smb2_create_rsp;

int smb2_create_rsp_decode(smb_rd *r, smb2_create_rsp *rsp);

/**
 * Iterate a create context chain: *r reads the chain; on each call fills
 * name (4+ byte tag) and data of the next context. Returns 1 when one was
 * decoded, 0 at the end, SMB_ERR_PROTOCOL when malformed.
 */
int smb2_create_ctx_next(smb_rd *r, smb2_blob *name, smb2_blob *data);

/* ---------------------------------------------------------------- create contexts (pdu_create_ctx.c) */

#define SMB2_LEASE_V1_LEN 32u /**< SMB2_CREATE_REQUEST_LEASE (2.2.13.2.8) */
#define SMB2_LEASE_V2_LEN 52u /**< SMB2_CREATE_REQUEST_LEASE_V2 (2.2.13.2.10) */
#define SMB2_DHANDLE_FLAG_PERSISTENT 0x00000002u /**< DH2Q / DH2C Flags (2.2.13.2.11) */

/** Lease request data, version 1 or 2, into out; its length. */
size_t smb2_lease_req_encode(uint8_t out[SMB2_LEASE_V2_LEN], int version, const uint8_t key[16], uint32_t state,
                             uint16_t epoch);
/** DHnQ request data (2.2.13.2.3) into out; its length (16). */
size_t smb2_dhnq_encode(uint8_t out[16]);
/** DH2Q request data (2.2.13.2.11) into out; its length (32). */
size_t smb2_dh2q_encode(uint8_t out[32], uint32_t timeout_ms, bool persistent, const uint8_t guid[16]);
/** DHnC reconnect data (2.2.13.2.4) into out; its length (16). */
size_t smb2_dhnc_encode(uint8_t out[16], smb2_fileid fid);
/** DH2C reconnect data (2.2.13.2.12) into out; its length (36). */
size_t smb2_dh2c_encode(uint8_t out[36], smb2_fileid fid, const uint8_t guid[16], bool persistent);
/**
 * Decode a CREATE response's context chain into out (fields of contexts
 * not present left as they are; unknown tags counted in other_contexts).
 * 0, or SMB_ERR_PROTOCOL when the chain or a known context is malformed.
 */
int smb2_create_reply_decode(const smb2_blob *contexts, smb_create_reply *out);

/* ---------------------------------------------------------------- change notify (pdu_notify.c) */

#define SMB2_WATCH_TREE 0x0001u /**< CHANGE_NOTIFY Flags (2.2.35) */

/** CHANGE_NOTIFY request body (2.2.35). */
void smb2_notify_req_encode(smb_wr *w, smb2_fileid fid, uint32_t filter, bool watch_tree, uint32_t output_len);
/** CHANGE_NOTIFY response (2.2.36): out points at its output buffer inside r. */
int smb2_notify_rsp_decode(smb_rd *r, smb2_blob *out);
/**
 * FILE_NOTIFY_INFORMATION entries (MS-FSCC 2.7.1) of buf[0..len) into a
 * malloc'd array (*out, *count; free with smb2_notify_list_free). 0,
 * SMB_ERR_PROTOCOL when malformed, SMB_ERR_NO_MEMORY.
 */
int smb2_notify_list_decode(const uint8_t *buf, size_t len, smb_notify_event **out, size_t *count);
/** Free n events and the array. */
void smb2_notify_list_free(smb_notify_event *ev, size_t n);

/* ---------------------------------------------------------------- close */

void smb2_close_req_encode(smb_wr *w, uint16_t flags, smb2_fileid fid);

typedef struct smb2_close_rsp {
    uint16_t flags;
    smb2_file_times times; /**< valid when flags has POSTQUERY_ATTRIB */
} smb2_close_rsp;

int smb2_close_rsp_decode(smb_rd *r, smb2_close_rsp *rsp);

/* ---------------------------------------------------------------- read, write */

/** READ request (MS-SMB2 2.2.19). */
typedef struct smb2_read_req {
    uint32_t length;
    uint64_t offset;
    smb2_fileid fid;
    uint32_t minimum_count;
} smb2_read_req;

void smb2_read_req_encode(smb_wr *w, const smb2_read_req *req);

/** Size of the READ response body before its data (StructureSize 17, minus the 1-byte buffer). */
#define SMB2_READ_RSP_FIXED 16

typedef struct smb2_read_rsp {
    uint8_t data_offset;   /**< from the start of the header */
    uint32_t data_length;
    uint32_t data_remaining;
} smb2_read_rsp;

/**
 * Decode the 16 fixed bytes of a READ response at r's position (the data
 * itself may not be in the buffer yet: the receiver reads it straight into
 * the caller's memory). Checks the structure size and, when DataLength is
 * not 0, that DataOffset does not point into the header or fixed part; the
 * caller checks DataOffset + DataLength against the frame.
 */
int smb2_read_rsp_decode_fixed(smb_rd *r, smb2_read_rsp *rsp);

/**
 * A whole READ response message (header first, len bytes): the fixed part
 * into *rsp and its data into *data, which must lie inside the message.
 * Returns 0 or SMB_ERR_PROTOCOL (*rsp then says what was claimed).
 */
int smb2_read_rsp_data(const uint8_t *msg, size_t len, smb2_read_rsp *rsp, smb2_blob *data);

/** WRITE request (MS-SMB2 2.2.21): the fixed part; the data follows at offset 64+48. */
typedef struct smb2_write_req {
    uint32_t length;
    uint64_t offset;
    smb2_fileid fid;
    uint32_t flags;
} smb2_write_req;

/** Offset of WRITE data from the header start (64 + 48). */
#define SMB2_WRITE_DATA_OFFSET 0x70

/**
 * Append the 48 fixed bytes of a WRITE body, DataOffset = 0x70. The caller
 * sends req->length data bytes right after (as a separate iov, no copy).
 * When req->length is 0 one zero byte follows (the Buffer is never empty).
 */
void smb2_write_req_encode(smb_wr *w, const smb2_write_req *req);

int smb2_write_rsp_decode(smb_rd *r, uint32_t *count);

/* ---------------------------------------------------------------- query directory */

typedef struct smb2_query_dir_req {
    uint8_t info_class;
    uint8_t flags;
    uint32_t file_index;
    smb2_fileid fid;
    const uint8_t *pattern_utf16;
    size_t pattern_len;
    uint32_t output_buffer_length;
} smb2_query_dir_req;

void smb2_query_dir_req_encode(smb_wr *w, const smb2_query_dir_req *req);

/** QUERY_DIRECTORY, QUERY_INFO and IOCTL responses each carry one output buffer. */
int smb2_query_dir_rsp_decode(smb_rd *r, smb2_blob *out);

/** One decoded FileIdFullDirectoryInformation entry (MS-FSCC 2.4.23). */
typedef struct smb2_dirent {
    uint32_t file_index;
    smb2_file_times times;
    uint32_t ea_size;
    uint64_t file_id;
    smb2_blob name_utf16;
} smb2_dirent;

/**
 * Iterate the entries of a FileIdFullDirectoryInformation buffer. *pos is
 * the offset of the next entry (start with 0); it becomes SIZE_MAX after the
 * last one. Returns 1 with *ent filled, 0 at the end, SMB_ERR_PROTOCOL if an
 * entry or its NextEntryOffset points outside the buffer or backwards.
 */
int smb2_dirent_next(const uint8_t *buf, size_t len, size_t *pos, smb2_dirent *ent);

/* ---------------------------------------------------------------- query info, set info */

typedef struct smb2_query_info_req {
    uint8_t info_type;
    uint8_t info_class;
    uint32_t output_buffer_length;
    uint32_t additional_info;
    uint32_t flags;
    smb2_fileid fid;
    const uint8_t *input;
    size_t input_len;
} smb2_query_info_req;

void smb2_query_info_req_encode(smb_wr *w, const smb2_query_info_req *req);
int smb2_query_info_rsp_decode(smb_rd *r, smb2_blob *out);

typedef struct smb2_set_info_req {
    uint8_t info_type;
    uint8_t info_class;
    uint32_t additional_info;
    smb2_fileid fid;
    const uint8_t *buffer;
    size_t buffer_len;
} smb2_set_info_req;

void smb2_set_info_req_encode(smb_wr *w, const smb2_set_info_req *req);
/** SET_INFO response: StructureSize 2. */
int smb2_set_info_rsp_decode(smb_rd *r);

/* File information classes (MS-FSCC 2.4). */
/** Decode FileNetworkOpenInformation (56 bytes). */
int smb2_network_open_info_decode(const uint8_t *buf, size_t len, smb2_file_times *t);
/** Decode FileInternalInformation (8 bytes: IndexNumber). */
int smb2_internal_info_decode(const uint8_t *buf, size_t len, uint64_t *file_id);
/** Decode FileStandardInformation (24 bytes). */
int smb2_standard_info_decode(const uint8_t *buf, size_t len, uint64_t *alloc, uint64_t *eof, uint32_t *nlinks,
                              bool *delete_pending, bool *directory);
/** Append FileBasicInformation (40 bytes: 4 times, attributes, reserved). */
void smb2_basic_info_encode(smb_wr *w, uint64_t ctime, uint64_t atime, uint64_t mtime, uint64_t chtime,
                            uint32_t attributes);
/** Decode FileBasicInformation (40 bytes). */
int smb2_basic_info_decode(const uint8_t *buf, size_t len, smb2_file_times *t);
/** Append FileRenameInformation for SMB2 (MS-FSCC 2.4.37.2): target name UTF-16LE. */
void smb2_rename_info_encode(smb_wr *w, bool replace, const uint8_t *name_utf16, size_t name_len);
/** Append FileDispositionInformation (1 byte). */
void smb2_disposition_info_encode(smb_wr *w, bool delete_pending);
/** Append FileEndOfFileInformation (8 bytes). */
void smb2_eof_info_encode(smb_wr *w, uint64_t eof);

/** The most named streams smb2_streams_decode keeps (bounds its memory). */
#define SMB2_STREAMS_MAX 65536u

/**
 * Decode a FileStreamInformation buffer (MS-FSCC 2.4.44) into its named
 * $DATA streams, in the server's order, with the rules of smb_get_streams
 * (smb.h): "::$DATA", named streams of other types and entries without a
 * name (StreamNameLength 0) are left out. SMB_ERR_PROTOCOL for a name that
 * is not ":NAME:TYPE" (TYPE not empty), an empty NAME of a type other than
 * $DATA, a NAME holding ':', '/', '\\' or NUL, an odd StreamNameLength, a
 * negative StreamSize or StreamAllocationSize, an entry or NextEntryOffset
 * outside the buffer or not moving forward, or more than SMB2_STREAMS_MAX
 * named streams; SMB_ERR_NO_MEMORY when memory runs out. An empty buffer
 * is an empty list. On success *streams is malloc'd (NULL when *n is 0),
 * freed with smb_streams_free; on failure both are cleared.
 */
int smb2_streams_decode(const uint8_t *buf, size_t len, smb_stream_info **streams, size_t *n);

/* ---------------------------------------------------------------- ioctl */

/* Symbolic links as reparse points (MS-FSCC 2.1.2.1, 2.1.2.4). */
#define SMB2_IO_REPARSE_TAG_SYMLINK 0xA000000Cu
#define SMB2_SYMLINK_FLAG_RELATIVE 0x00000001u
/** MAXIMUM_REPARSE_DATA_BUFFER_SIZE: the most a reparse point holds. */
#define SMB2_REPARSE_MAX 16384u

/** A symbolic link's reparse data, decoded. */
typedef struct smb2_symlink {
    char *substitute; /**< SubstituteName, UTF-8 (WTF-8), as the server wrote it ('\\' separators); malloc'd */
    char *print;      /**< PrintName, UTF-8; "" when empty; malloc'd */
    bool relative;    /**< SYMLINK_FLAG_RELATIVE: substitute is relative to the link's directory */
} smb2_symlink;

/**
 * Decode a REPARSE_DATA_BUFFER (MS-FSCC 2.1.2.1: ReparseTag,
 * ReparseDataLength, Reserved, then the data), the output of
 * FSCTL_GET_REPARSE_POINT (2.3.33), as a symbolic link (2.1.2.4:
 * SubstituteNameOffset and Length, PrintNameOffset and Length, Flags,
 * PathBuffer; offsets relative to PathBuffer). *tag gets the ReparseTag
 * when the buffer holds one. SMB_ERR_UNSUPPORTED for another tag;
 * SMB_ERR_PROTOCOL for a buffer shorter than its header, a
 * ReparseDataLength past the buffer, a name outside PathBuffer, an odd
 * name length, an empty SubstituteName, or a name holding NUL;
 * SMB_ERR_NO_MEMORY. On success *out holds malloc'd names (free with
 * smb2_symlink_free); on failure it is cleared.
 */
int smb2_symlink_decode(const uint8_t *buf, size_t len, uint32_t *tag, smb2_symlink *out);
/** Free the names of a decoded link (and clear it). */
void smb2_symlink_free(smb2_symlink *s);
/**
 * Append a symbolic link's REPARSE_DATA_BUFFER (MS-FSCC 2.1.2.4), the
 * input of FSCTL_SET_REPARSE_POINT: substitute and print (UTF-8, '\\'
 * separators) as UTF-16LE, SubstituteName first. false when a name is not
 * valid UTF-8 or holds NUL, or the buffer would pass SMB2_REPARSE_MAX.
 */
bool smb2_symlink_encode(smb_wr *w, const char *substitute, const char *print, bool relative);

typedef struct smb2_ioctl_req {
    uint32_t ctl_code;
    smb2_fileid fid;
    const uint8_t *input;
    size_t input_len;
    uint32_t max_output;
    uint32_t flags; /**< SMB2_0_IOCTL_IS_FSCTL */
} smb2_ioctl_req;

void smb2_ioctl_req_encode(smb_wr *w, const smb2_ioctl_req *req);

typedef struct smb2_ioctl_rsp {
    uint32_t ctl_code;
    smb2_fileid fid;
    smb2_blob output;
} smb2_ioctl_rsp;

int smb2_ioctl_rsp_decode(smb_rd *r, smb2_ioctl_rsp *rsp);

/**
 * The output of FSCTL_QUERY_NETWORK_INTERFACE_INFO: a chain of
 * NETWORK_INTERFACE_INFO (MS-SMB2 2.2.32.5). IPv4 and IPv6 entries go to
 * out (at most max, *n of them); others are skipped. Returns 0 or
 * SMB_ERR_PROTOCOL (an entry outside the buffer, a Next offset that does not
 * move forward by a whole aligned entry).
 */
int smb2_iface_list_decode(const uint8_t *buf, size_t len, smb_iface *out, size_t max, size_t *n);

/** FILE_ALLOCATED_RANGE_BUFFER (MS-FSCC 2.3.52): the input of FSCTL_QUERY_ALLOCATED_RANGES. */
void smb2_alloc_range_encode(smb_wr *w, uint64_t off, uint64_t len);

/**
 * The output of FSCTL_QUERY_ALLOCATED_RANGES (MS-FSCC 2.3.52): an array of
 * FILE_ALLOCATED_RANGE_BUFFER. Each range must start at or after `from`
 * (the query's start, then the end of the previous range), have a length
 * that neither is negative nor overflows; ranges are clipped to [0, limit).
 * Up to max go to out (*n: how many; *total: how many the buffer held).
 * Returns 0 or SMB_ERR_PROTOCOL.
 */
int smb2_alloc_ranges_decode(const uint8_t *buf, size_t len, uint64_t from, uint64_t limit, smb_range *out,
                             size_t max, size_t *n, size_t *total);

/** VALIDATE_NEGOTIATE_INFO request input (MS-SMB2 2.2.31.4). */
void smb2_validate_negotiate_encode(smb_wr *w, uint32_t capabilities, const uint8_t guid[16],
                                    uint16_t security_mode, const uint16_t *dialects, int ndialects);

typedef struct smb2_validate_negotiate_rsp {
    uint32_t capabilities;
    uint8_t guid[16];
    uint16_t security_mode;
    uint16_t dialect;
} smb2_validate_negotiate_rsp;

/** Decode VALIDATE_NEGOTIATE_INFO response output (MS-SMB2 2.2.32.6). */
int smb2_validate_negotiate_decode(const uint8_t *buf, size_t len, smb2_validate_negotiate_rsp *rsp);

/* ---------------------------------------------------------------- transform (encryption) */

#define SMB2_TRANSFORM_HDR_LEN 52
/** Transform header (MS-SMB2 2.2.41). */
typedef struct smb2_transform_hdr {
    uint8_t signature[16];
    uint8_t nonce[16];
    uint32_t original_size;
    uint16_t flags; /**< 0x0001: encrypted */
    uint64_t session_id;
} smb2_transform_hdr;

void smb2_transform_hdr_encode(smb_wr *w, const smb2_transform_hdr *h);
/** Decode the 52-byte transform header (ProtocolId 0xFD 'S' 'M' 'B'). */
int smb2_transform_hdr_decode(smb_rd *r, smb2_transform_hdr *h);

#endif

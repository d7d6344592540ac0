/*
 * hostile_smbd: a small SMB 3.1.1 server for tests that misbehaves on
 * purpose. It speaks just enough of MS-SMB2 to take the real client through
 * NEGOTIATE, SESSION_SETUP (NTLMv2 inside SPNEGO), TREE_CONNECT and the
 * file commands over a small fixed read-only tree (with --store, a writable
 * directory behind it), and then breaks the rules in the way its mode says
 * (hs_modes.c).
 *
 * One process per connection: the per-connection state below is the only
 * state, and nothing is shared between connections.
 */
#ifndef HOSTILE_HS_H
#define HOSTILE_HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pdu.h"
#include "common/wire.h"

/* NTSTATUS values the server answers with (MS-ERREF 2.3). */
#define HS_STATUS_SUCCESS 0x00000000u
#define HS_STATUS_PENDING 0x00000103u
#define HS_STATUS_NO_MORE_FILES 0x80000006u
#define HS_STATUS_MORE_PROCESSING 0xC0000016u
#define HS_STATUS_INVALID_PARAMETER 0xC000000Du
#define HS_STATUS_END_OF_FILE 0xC0000011u
#define HS_STATUS_ACCESS_DENIED 0xC0000022u
#define HS_STATUS_NOT_FOUND 0xC0000034u
#define HS_STATUS_COLLISION 0xC0000035u
#define HS_STATUS_LOGON_FAILURE 0xC000006Du
#define HS_STATUS_NOT_SUPPORTED 0xC00000BBu
#define HS_STATUS_IS_A_DIRECTORY 0xC00000BAu
#define HS_STATUS_BAD_NETWORK_NAME 0xC00000CCu
#define HS_STATUS_NOT_A_DIRECTORY 0xC0000103u
#define HS_STATUS_INVALID_HANDLE 0xC0000008u
#define HS_STATUS_PATH_NOT_FOUND 0xC000003Au
#define HS_STATUS_NOT_EMPTY 0xC0000101u
#define HS_STATUS_OBJECT_NAME_INVALID 0xC0000033u
#define HS_STATUS_DISK_FULL 0xC000007Fu
#define HS_STATUS_INVALID_DEVICE_REQUEST 0xC0000010u

/* The test account (any domain). */
#define HS_USER "tester"
#define HS_PASSWORD "hostile-pass"
#define HS_SHARE "share"

/* Sizes this server negotiates (MS-SMB2 2.2.4). */
#define HS_MAX_IO 65536u

/** The misbehaviours; hs_modes.c has their names and descriptions. */
typedef enum hs_mode {
    HS_GOOD,
    HS_SIGNED,
    HS_ENCRYPTED,
    HS_NEG_SECBUF_OOB,
    HS_SETUP_SECBUF_OOB,
    HS_CREATE_CTX_OOB,
    HS_DIR_OOB,
    HS_DIRENT_OOB,
    HS_READ_OOB,
    HS_IOCTL_OOB,
    HS_HUGE_FRAME,
    HS_CREDITS_0,
    HS_CREDITS_65535,
    HS_UNKNOWN_MID,
    HS_PENDING_FOREVER,
    HS_BAD_SIGNATURE,
    HS_BAD_SIGNATURE_READ,
    HS_PLAIN_ON_ENCRYPTED,
    HS_EVIL_LISTING,
    HS_CLOSE_MID_NBSS,
    HS_CLOSE_MID_HEADER,
    HS_CLOSE_MID_READ,
    HS_STALL_MID_READ,
    HS_SHORT_WRITE,
    HS_ENDLESS_SAME_PAGE,
    HS_ENDLESS_NEW_NAMES,
    HS_DUPLICATE_NAMES,
    HS_REFUSE_COPYCHUNK,
    HS_BAD_LOGON_SIGNATURE,
    HS_BAD_SD,
    HS_SD_CHANGED,
    HS_MODE_COUNT
} hs_mode;

/** One mode: its name on the command line and what the client must do. */
typedef struct hs_mode_info {
    const char *name;
    const char *what;
    bool sign;    /* the server requires signing (SecurityMode) */
    bool encrypt; /* the session is encrypted (SMB2_SESSION_FLAG_ENCRYPT_DATA) */
} hs_mode_info;

extern const hs_mode_info hs_modes[HS_MODE_COUNT];
/** The mode called name, or -1. */
int hs_mode_find(const char *name);

#define HS_MAX_OPENS 64

typedef struct hs_open {
    bool used;
    int node;        /* index in the tree (hs_tree.c), or -1: an object of the store (hs_store.c) */
    bool listed;     /* QUERY_DIRECTORY already returned everything */
    uint64_t pages;  /* endless-new-names: pages of new names sent so far */
    /* The store's objects only. */
    int fd;          /* the open file, -1 for a directory */
    bool dir;
    bool delete_on_close;
    char *spath;     /* path inside the store ('/'-separated, "" never: the root is node 0) */
} hs_open;

/** One client connection. */
typedef struct hs_conn {
    int fd;
    hs_mode mode;
    int store;                /* the store directory (--store), -1: the share is read-only */
    uint8_t preauth[64];      /* connection preauth hash (MS-SMB2 3.3.5.4) */
    uint8_t sess_preauth[64]; /* session preauth hash (MS-SMB2 3.3.5.5) */
    uint64_t session_id;
    uint8_t challenge[8];     /* NTLM server challenge */
    bool keyed;               /* the session has keys */
    bool encrypt;             /* the session encrypts */
    uint8_t sign_key[16], c2s_key[16], s2c_key[16];
    uint64_t nonce;
    uint32_t tree_id;
    hs_open opens[HS_MAX_OPENS];
    /* Compounds (MS-SMB2 3.3.5.2.7): the previous member's file id and status. */
    smb2_fileid last_fid;
    uint32_t last_status;
    bool misbehaved; /* a one-shot misbehaviour already happened */
} hs_conn;

/** One received request message. */
typedef struct hs_req {
    smb2_hdr h;
    const uint8_t *msg; /* header + body */
    size_t len;
    bool encrypted;
} hs_req;

/* A reader over the request, at byte off of its body (the header is 64 bytes). */
static inline smb_rd hs_req_at(const hs_req *req, size_t off)
{
    smb_rd r;
    smb_rd_init(&r, req->msg, req->len);
    smb_rd_seek(&r, SMB2_HDR_LEN + off);
    return r;
}

/* ---- hs_wire.c: frames, signing, encryption */

/** Read one NetBIOS frame (whole); *out malloc'd. false on EOF or error. */
bool hs_read_frame(int fd, uint8_t **out, size_t *len);
/** Write all of p. */
void hs_write_all(int fd, const void *p, size_t n);
/** Start a response to req: the 64-byte header (the writer grows). */
void hs_rsp_begin(smb_wr *w, const hs_conn *c, const hs_req *req, uint32_t status);
/** An ERROR response body (MS-SMB2 2.2.2). */
void hs_error_body(smb_wr *w);
/**
 * Finish and send a response: credits, signature or encryption as the
 * session and request want, then the mode's tampering for this command.
 * Returns false when the connection is to end.
 */
bool hs_send(hs_conn *c, const hs_req *req, smb_wr *w, bool sign);
/** Read and drop everything until the client closes (at most a minute). */
void hs_drain(hs_conn *c);
/** Decrypt a transform message (MS-SMB2 3.3.5.2.1.1); *plain malloc'd. */
bool hs_decrypt(hs_conn *c, const uint8_t *frame, size_t len, uint8_t **plain, size_t *plain_len);

/* ---- hs_auth.c: NEGOTIATE and SESSION_SETUP */

bool hs_negotiate(hs_conn *c, const hs_req *req);
bool hs_session_setup(hs_conn *c, const hs_req *req);

/* ---- hs_files.c: the share */

bool hs_tree_connect(hs_conn *c, const hs_req *req);
bool hs_create(hs_conn *c, const hs_req *req);
bool hs_close(hs_conn *c, const hs_req *req);
bool hs_read(hs_conn *c, const hs_req *req);
bool hs_query_info(hs_conn *c, const hs_req *req);
bool hs_query_directory(hs_conn *c, const hs_req *req);
bool hs_ioctl(hs_conn *c, const hs_req *req);

/* ---- hs_tree.c: the fixed tree */

typedef struct hs_node {
    const char *path; /* '\\'-separated, "" for the root */
    bool dir;
    uint64_t size;
    int parent;       /* -1 for the root */
} hs_node;

extern const hs_node hs_nodes[];
extern const int hs_nnodes;
/** Byte at offset off of file node n. */
uint8_t hs_file_byte(int n, uint64_t off);
/** The node at a UTF-16LE path (no leading separator), or -1. */
int hs_lookup(const uint8_t *name16, size_t len);
/* endless-new-names: names in each page after the first. */
#define HS_NEW_NAMES_PER_PAGE 400u
/**
 * Append the FileIdFullDirectoryInformation entries (MS-FSCC 2.4.18) of
 * directory node dir, chained from *prev: ".", "..", its children and what
 * the mode adds (evil-listing: the hostile names in the root;
 * duplicate-names: dup.txt twice in the root; endless-new-names: from page
 * 1 on, HS_NEW_NAMES_PER_PAGE names never sent before instead of the
 * children).
 */
void hs_list(smb_wr *w, int dir, hs_mode mode, uint64_t page, size_t *prev);
/** The entries chain: link the entry starting at start to the previous one (*prev, SIZE_MAX: none). */
void hs_link(smb_wr *w, size_t *prev, size_t start);
/** One FileIdFullDirectoryInformation entry (name in UTF-16 units); returns its start. */
size_t hs_put_entry(smb_wr *w, const uint16_t *name, size_t units, bool dir, uint64_t size, uint64_t id);
/** duplicate-names: the node of dup.txt (found by hs_lookup in every mode, listed twice in that mode only). */
#define HS_DUP_NODE 6

/* ---- hs_store.c: the writable store behind the share (--store DIR) */

/**
 * CREATE of a path that is not in the fixed tree: an object of the store.
 * Answers the request itself; false ends the connection.
 */
bool hs_store_create(hs_conn *c, const hs_req *req, const uint8_t *name16, size_t len, uint32_t disposition,
                     uint32_t options);
/** READ, WRITE, QUERY_INFO, SET_INFO of a store object (o->node < 0). */
bool hs_store_read(hs_conn *c, const hs_req *req, hs_open *o, uint32_t length, uint64_t offset);
bool hs_store_write(hs_conn *c, const hs_req *req);
bool hs_store_query_info(hs_conn *c, const hs_req *req, hs_open *o, uint8_t cls);
bool hs_store_set_info(hs_conn *c, const hs_req *req);
/** Release the open (and delete its object when it was marked so). */
void hs_store_close(hs_conn *c, hs_open *o);
/** Append the store's entries of o's directory (a store directory, or the root: node 0). */
void hs_store_list(hs_conn *c, const hs_open *o, smb_wr *w, size_t *prev);
/** The size of a store file (0 for a directory). */
uint64_t hs_store_size(const hs_open *o);
/** FileNetworkOpenInformation-shaped times of a store object (4 times, sizes, attributes). */
void hs_store_put_times(smb_wr *w, const hs_open *o);
/** The share's open of fid (a related compound member takes the previous member's); NULL when none. */
hs_open *hs_find_open(hs_conn *c, smb_rd *r);
/** An error response with status. */
bool hs_reply_status(hs_conn *c, const hs_req *req, uint32_t status);

/* ---- hs_serve.c */

/** Serve one connection until it ends; store is the --store directory's descriptor or -1. */
void hs_serve(int fd, hs_mode mode, int store);

#endif

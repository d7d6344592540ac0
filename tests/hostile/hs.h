/*
 * hostile_smbd: a small SMB 3.1.1 server for tests that misbehaves on
 * purpose. It speaks just enough of MS-SMB2 to take the real client through
 * NEGOTIATE, SESSION_SETUP (NTLMv2 inside SPNEGO), TREE_CONNECT and the
 * file commands over a small fixed read-only tree, and then breaks the rules
 * in the way its mode says (hs_modes.c).
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
#include "wire.h"

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
    int node;    /* index in the tree (hs_tree.c) */
    bool listed; /* QUERY_DIRECTORY already returned everything */
} hs_open;

/** One client connection. */
typedef struct hs_conn {
    int fd;
    hs_mode mode;
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
/**
 * Append the FileIdFullDirectoryInformation entries (MS-FSCC 2.4.18) of
 * directory node dir: ".", "..", its children and, with evil set in the
 * root, the hostile names. dirent_oob makes the last entry's name overrun.
 */
void hs_list(smb_wr *w, int dir, bool evil, bool dirent_oob);

/* ---- hs_serve.c */

/** Serve one connection until it ends. */
void hs_serve(int fd, hs_mode mode);

#endif

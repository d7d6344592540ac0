/*
 * What compound.c (sending, answers, opens) and compound_ops.c (adding
 * operations, with the limits of one frame) share: the layout of a public
 * compound (include/smbcopy/compound.h).
 */
#ifndef SMBCOPY_COMPOUND_INTERNAL_H
#define SMBCOPY_COMPOUND_INTERNAL_H

#include <smbcopy/compound.h>

#include "objects.h"

/** One operation of a compound. */
typedef struct smb_compound_op {
    smb_req *req;         /* the request, built when added */
    uint16_t command;
    char *what;           /* "open 'a/b'", "read": for messages (owned) */
    uint32_t asked;       /* READ: its length; QUERY_INFO: its output length; WRITE: its length */
    int closes;           /* CLOSE: the CREATE whose open it closes (related compound), else -1 */
    smb_open *handed;     /* CLOSE: a caller's open handed to the compound (freed by send or free) */
    /* After smb_compound_send: */
    bool answered;        /* a response arrived (req->status is the server's) */
    int err;              /* the local failure (or malformed answer), 0 when none */
    smb_error err_detail; /* its detail */
    smb2_blob output;     /* READ data, QUERY_INFO output: inside req->rsp */
    uint32_t written;     /* WRITE: the Count answered */
    bool has_info;        /* info holds CREATE or CLOSE (post-query) metadata */
    smb_file_info info;
    smb_open *open;       /* CREATE: its open, registered on the tree, until taken or closed */
} smb_compound_op;

struct smb_compound {
    smb_tree *tree;
    bool related;
    bool sent;
    int n;
    /* Related compounds: what the chain's next NULL open means. */
    int chain_create;        /* the CREATE whose open the chain uses, -1 */
    smb_open *chain_open;    /* the caller's open the chain uses (first operation), NULL */
    int chain_closed_by;     /* the CLOSE that ended the chain's open, -1 */
    /* Totals the limits look at (compound_ops.c). */
    uint32_t charge;         /* credits */
    uint64_t out_bytes;      /* READ data and QUERY_INFO output asked for */
    uint64_t in_bytes;       /* WRITE and SET_INFO data sent */
    smb_compound_op ops[SMB_COMPOUND_MAX_OPS];
};

#endif

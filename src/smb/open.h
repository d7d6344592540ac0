/* Internal helpers shared by opens, directory listings and path calls. */
#ifndef SMBCOPY_OPEN_H
#define SMBCOPY_OPEN_H

#include "objects.h"

/** Copy CREATE/CLOSE/directory metadata into an smb_file_info (file_id untouched). */
void smb_file_info_from_times(smb_file_info *info, const smb2_file_times *t);
/** A share path as UTF-16LE wire bytes (malloc'd; an empty path gives length 0). */
uint8_t *smb_path_utf16(const char *path, size_t *len, smb_error *err);
/** Fill a CREATE request from public parameters (ctx must hold p->ncontexts entries). */
void smb_create_req_from_params(smb2_create_req *cr, const smb_create_params *p, smb2_create_ctx *ctx,
                                const uint8_t *name, size_t name_len);
/** Record a handle the server opened as a child of t. */
smb_open *smb_open_register(smb_tree *t, smb2_fileid fid, bool is_dir);
/** Take op off its tree's list of opens (the caller frees it or registers it elsewhere). */
void smb_open_unregister(smb_open *op);
/** Move op from its tree's list to t's (op->tree becomes t). */
void smb_open_move(smb_open *op, smb_tree *t);
/** Free op, marking it closed for SMB_OPEN_CHECK; it must be off every list. */
void smb_open_free(smb_open *op);

/** The typed create contexts of smb_create_params (lease, durable, MxAc, QFid), built by create.c. */
typedef struct smb_typed_ctx {
    uint8_t lease[SMB2_LEASE_V2_LEN];
    uint8_t durable[36];
    smb2_create_ctx ctx[4];
    int n;
    int lease_version; /* 0, 1 or 2 */
} smb_typed_ctx;

/**
 * Build p's typed contexts for a CREATE on tree t into tc (dh_guid: the
 * DH2Q create GUID to send, made by the caller). 0, or SMB_ERR_INVALID_ARG
 * when the dialect cannot carry them (err says which).
 */
int smb_typed_ctx_build(smb_typed_ctx *tc, const smb_tree *t, const smb_create_params *p,
                        const uint8_t dh_guid[16], smb_error *err);

/**
 * Send a CREATE of name (UTF-16LE) with p and the contexts extra[0..nextra)
 * besides p's own, wait for it; on success the decoded response in *rsp
 * and reply (contexts decoded into it when non-NULL; rsp->contexts points
 * into *req_out's response, so the caller frees *req_out with
 * smb_req_free after use). what names the operation in errors.
 */
int smb_create_send(smb_tree *t, const uint8_t *name, size_t name_len, const smb_create_params *p,
                    const smb2_create_ctx *extra, int nextra, smb2_create_rsp *rsp, smb_create_reply *reply,
                    const char *what, struct smb_req **req_out, smb_error *err);
/** Close fid on t without an smb_open (a handle opened then refused). */
void smb_close_fid(smb_tree *t, smb2_fileid fid);
/**
 * The named $DATA streams a QUERY_INFO of FileStreamInformation (MS-FSCC
 * 2.4.44) counts, from its status and output buf[0..len) (smb2_streams_decode
 * reads it): 0 or more; 0 too for a status of SMB_ERR_UNSUPPORTED (a file
 * system without streams); -1 when not known (any other failure status,
 * STATUS_BUFFER_OVERFLOW's list cut short included, or a malformed list).
 */
int smb_streams_count(uint32_t status, const uint8_t *buf, size_t len);

#endif

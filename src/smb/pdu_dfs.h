/*
 * DFS referral messages (MS-DFSC 2.2): the request REQ_GET_DFS_REFERRAL
 * and the decoder of RESP_GET_DFS_REFERRAL, pure functions over buffers;
 * plus the path helpers the referral code and the cache share.
 */
#ifndef SMBCOPY_PDU_DFS_H
#define SMBCOPY_PDU_DFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"
#include <smbcopy/dfs.h>

/** The highest referral version asked for and understood (MS-DFSC 2.2.2 MaxReferralLevel). */
#define SMB_DFS_MAX_LEVEL 4
/** Most entries one response may hold: every one becomes allocations. */
#define SMB_DFS_REFERRALS_MAX 1024

/**
 * A DFS path in the form the referral code works with: '/' read as '\\',
 * exactly one leading '\\', no empty components, no trailing '\\' ("" stays
 * ""). Returns malloc'd memory or NULL when memory runs out.
 */
char *smb_dfs_path_normalize(const char *path);

/**
 * The length of prefix when it covers path (both normalized): path starts
 * with prefix (ASCII letters without case) and goes on, if at all, with a
 * '\\'. Otherwise, or for an empty prefix, -1.
 */
long smb_dfs_prefix_covers(const char *prefix, const char *path);

/**
 * Append REQ_GET_DFS_REFERRAL (MS-DFSC 2.2.2) for the normalized path to w:
 * MaxReferralLevel SMB_DFS_MAX_LEVEL and the path in UTF-16LE with its NUL.
 * Returns 0 or SMB_ERR_BAD_NAME (not valid UTF-8); a write that does not
 * fit sets w's error flag.
 */
int smb_dfs_referral_req_encode(smb_wr *w, const char *path);

/**
 * Append REQ_GET_DFS_REFERRAL_EX (MS-DFSC 2.2.3, for FSCTL_DFS_GET_REFERRALS_EX)
 * for the normalized path to w: MaxReferralLevel SMB_DFS_MAX_LEVEL,
 * RequestFlags 0 (no site name), RequestDataLength, and RequestData
 * (2.2.3.1): RequestFileNameLength in bytes and the path in UTF-16LE,
 * without a NUL. Returns 0 or SMB_ERR_BAD_NAME (not valid UTF-8, or longer
 * than 16 bits of length); a write that does not fit sets w's error flag.
 */
int smb_dfs_referral_req_ex_encode(smb_wr *w, const char *path);

/**
 * Decode RESP_GET_DFS_REFERRAL (MS-DFSC 2.2.4) buf[0..len), the answer to
 * a request for request_path (normalized, as encoded): entries of versions
 * 1-4 (MS-DFSC 2.2.5), all of one version, at most SMB_DFS_REFERRALS_MAX;
 * every offset (relative to its entry) and size checked against the
 * buffer; strings NUL-terminated UTF-16LE inside it; targets
 * "\\server\\share[\\path]" split. Returns 0 and *out (the caller's, freed
 * with smb_dfs_referral_free), or SMB_ERR_PROTOCOL / SMB_ERR_NO_MEMORY /
 * SMB_ERR_BAD_NAME (request_path not valid UTF-8) with *out NULL.
 */
int smb_dfs_referral_decode(const uint8_t *buf, size_t len, const char *request_path, smb_dfs_referral **out);

/** A deep copy of r, or NULL when memory runs out. */
smb_dfs_referral *smb_dfs_referral_dup(const smb_dfs_referral *r);

#endif

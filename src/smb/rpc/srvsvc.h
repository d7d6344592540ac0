/*
 * The srvsvc interface's NetShareEnumAll (MS-SRVS 3.1.4.8, NetrShareEnum,
 * opnum 15) at information level 1: the request's stub, and the response's
 * stub decoded to smb_share_info (include/smbcopy/shares.h).
 */
#ifndef SMBCOPY_RPC_SRVSVC_H
#define SMBCOPY_RPC_SRVSVC_H

#include <stddef.h>
#include <stdint.h>

#include <smbcopy/shares.h>
#include <smbcopy/smb.h>

#include "common/wire.h"
#include "rpc/dcerpc.h"

/** srvsvc, 4b324fc8-1670-01d3-1278-5a47bf6ee188 version 3.0 (MS-SRVS 1.9). */
extern const dcerpc_syntax srvsvc_syntax;

#define SRVSVC_OPNUM_NET_SHARE_ENUM_ALL 15
/** Most shares one answer may list. */
#define SRVSVC_MAX_SHARES 65536u
/** Most UTF-16 units of a share's name or comment, the NUL included. */
#define SRVSVC_MAX_STRING_UNITS 4096u

/* WERRORs (MS-ERREF 2.2) the library names. */
#define SRVSVC_WERR_ACCESS_DENIED 5u
#define SRVSVC_WERR_NOT_SUPPORTED 50u
#define SRVSVC_WERR_INVALID_PARAMETER 87u
#define SRVSVC_WERR_INVALID_LEVEL 124u
#define SRVSVC_WERR_MORE_DATA 234u

/**
 * Append the stub of NetShareEnumAll to w (over the stub alone): ServerName
 * a unique pointer to server (e.g. "\\\\host"), or null when server is
 * NULL; InfoStruct at level 1 with an empty SHARE_INFO_1_CONTAINER;
 * PreferedMaximumLength 0xFFFFFFFF (everything in one answer); ResumeHandle
 * a unique pointer to 0. SMB_ERR_INVALID_ARG when server is not valid
 * UTF-8; a write that does not fit sets w's flag.
 */
int srvsvc_share_enum_all_encode(smb_wr *w, const char *server, smb_error *err);

/**
 * Decode the response stub stub[0..len) of NetShareEnumAll: InfoStruct
 * (level 1), TotalEntries, ResumeHandle and the WERROR, nothing after it
 * but up to 7 zero bytes of padding. On success *shares (malloc'd, free
 * with smb_shares_free; NULL when none) and *n. A non-zero WERROR:
 * SMB_ERR_ACCESS for ERROR_ACCESS_DENIED, SMB_ERR_SERVER otherwise, the
 * error named in the message. SMB_ERR_PROTOCOL when the stub does not
 * decode: cut short, another level, EntriesRead above SRVSVC_MAX_SHARES or
 * what the stub can hold or unlike the array's max_count, a null or empty
 * share name, a string refused by ndr_rd_wstring. On failure *shares is
 * NULL and *n 0.
 */
int srvsvc_share_enum_all_decode(const uint8_t *stub, size_t len, smb_share_info **shares, size_t *n,
                                 smb_error *err);

/**
 * The whole answer pdus[0..len) to the REQUEST of call_id (every fragment,
 * dcerpc_response_stub) decoded by srvsvc_share_enum_all_decode.
 */
int srvsvc_share_enum_all_response(const uint8_t *pdus, size_t len, uint32_t call_id, smb_share_info **shares,
                                   size_t *n, smb_error *err);

#endif

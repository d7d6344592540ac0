/*
 * NetShareEnumAll (MS-SRVS 3.1.4.8, opnum 15) at level 1: the request stub
 * and the response stub, NDR 2.0 (C706 chapter 14).
 *
 *   NET_API_STATUS NetrShareEnum(
 *       [in, string, unique] SRVSVC_HANDLE ServerName,
 *       [in, out] LPSHARE_ENUM_STRUCT InfoStruct,
 *       [in] DWORD PreferedMaximumLength,
 *       [out] DWORD *TotalEntries,
 *       [in, out, unique] DWORD *ResumeHandle);
 *
 * InfoStruct is a reference pointer (nothing on the wire) to
 * SHARE_ENUM_STRUCT { Level; union switched by Level }, the union sent as
 * its discriminant and then the arm, here a unique pointer to
 * SHARE_INFO_1_CONTAINER { EntriesRead; unique pointer to a conformant
 * array of EntriesRead SHARE_INFO_1 }. A SHARE_INFO_1 (MS-SRVS 2.2.4.23)
 * is { unique wchar_t *shi1_netname; shi1_type; unique wchar_t
 * *shi1_remark }; the strings pointed to follow the whole array, in order
 * (C706 14.3.12.3: embedded pointers' referents are deferred).
 */
#include "srvsvc.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "rpc/ndr.h"

const dcerpc_syntax srvsvc_syntax = {
    .time_low = 0x4b324fc8u,
    .time_mid = 0x1670,
    .time_hi_and_version = 0x01d3,
    .clock_seq_and_node = {0x12, 0x78, 0x5a, 0x47, 0xbf, 0x6e, 0xe1, 0x88},
    .major = 3,
    .minor = 0,
};

/* Referent ids of the request's unique pointers: any non-zero values. */
#define REF_SERVER_NAME 0x00020000u
#define REF_CONTAINER 0x00020004u
#define REF_RESUME_HANDLE 0x00020008u

#define SHARE_INFO_1_FLAT 12u /* shi1_netname referent, shi1_type, shi1_remark referent */

int srvsvc_share_enum_all_encode(smb_wr *w, const char *server, smb_error *err)
{
    if (server) {
        ndr_wr_u32(w, REF_SERVER_NAME);
        int rc = ndr_wr_wstring(w, server, err);
        if (rc != 0)
            return rc;
    } else {
        ndr_wr_u32(w, 0);
    }
    ndr_wr_u32(w, 1);             /* InfoStruct->Level */
    ndr_wr_u32(w, 1);             /* the union's discriminant */
    ndr_wr_u32(w, REF_CONTAINER); /* ShareInfo.Level1 */
    ndr_wr_u32(w, 0);             /* Level1->EntriesRead */
    ndr_wr_u32(w, 0);             /* Level1->Buffer: null */
    ndr_wr_u32(w, 0xFFFFFFFFu);   /* PreferedMaximumLength: no limit (MS-SRVS 3.1.4.8) */
    ndr_wr_u32(w, REF_RESUME_HANDLE);
    ndr_wr_u32(w, 0); /* *ResumeHandle: from the start */
    return 0;
}

static const char *werror_name(uint32_t werr)
{
    switch (werr) {
    case SRVSVC_WERR_ACCESS_DENIED: return "ERROR_ACCESS_DENIED";
    case 8: return "ERROR_NOT_ENOUGH_MEMORY";
    case SRVSVC_WERR_NOT_SUPPORTED: return "ERROR_NOT_SUPPORTED";
    case SRVSVC_WERR_INVALID_PARAMETER: return "ERROR_INVALID_PARAMETER";
    case SRVSVC_WERR_INVALID_LEVEL: return "ERROR_INVALID_LEVEL";
    case SRVSVC_WERR_MORE_DATA: return "ERROR_MORE_DATA";
    case 2123: return "NERR_BufTooSmall";
    default: return "an error";
    }
}

static int werror_error(uint32_t werr, smb_error *err)
{
    /* With PreferedMaximumLength unlimited the whole list comes at once;
     * a part of it is not passed on as if it were all. */
    if (werr == SRVSVC_WERR_MORE_DATA)
        return smb_err_set(err, SMB_ERR_SERVER, 0, "the server listed only part of its shares (%s, WERROR %u)",
                           werror_name(werr), werr);
    return smb_err_set(err, werr == SRVSVC_WERR_ACCESS_DENIED ? SMB_ERR_ACCESS : SMB_ERR_SERVER, 0,
                       "the server refused to list its shares: %s (WERROR %u)", werror_name(werr), werr);
}

/* The conformant array of count SHARE_INFO_1 at r, then the strings they
 * point to, into *out (count entries, every name set). */
static int decode_array(smb_rd *r, uint32_t count, smb_share_info **out, smb_error *err)
{
    uint32_t max_count = ndr_rd_u32(r);
    if (!smb_rd_ok(r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "share list cut short");
    if (max_count != count)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "share list of %u entries says EntriesRead %u", max_count, count);
    if (count > SRVSVC_MAX_SHARES)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server lists %u shares (the most taken is %u)", count,
                           SRVSVC_MAX_SHARES);
    /* Each entry's fixed part is on the wire: bound the allocation by it. */
    if ((size_t)count * SHARE_INFO_1_FLAT > smb_rd_left(r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "share list of %u entries cut short", count);
    if (count == 0)
        return 0;
    smb_share_info *s = calloc(count, sizeof *s);
    bool *has_remark = calloc(count, sizeof *has_remark);
    if (!s || !has_remark) {
        free(s);
        free(has_remark);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    int rc = 0;
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        uint32_t name_ref = ndr_rd_ptr(r);
        s[i].type = ndr_rd_u32(r);
        has_remark[i] = ndr_rd_ptr(r) != 0;
        if (smb_rd_ok(r) && name_ref == 0)
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "share %u of the list has no name", i);
    }
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        rc = ndr_rd_wstring(r, SRVSVC_MAX_STRING_UNITS, "share name", &s[i].name, err);
        if (rc == 0 && s[i].name[0] == '\0')
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "share %u of the list has an empty name", i);
        if (rc == 0 && has_remark[i])
            rc = ndr_rd_wstring(r, SRVSVC_MAX_STRING_UNITS, "share comment", &s[i].comment, err);
        else if (rc == 0 && !(s[i].comment = strdup("")))
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    free(has_remark);
    if (rc != 0) {
        smb_shares_free(s, count);
        return rc;
    }
    *out = s;
    return 0;
}

/* Bytes after the WERROR: the stub may be padded to 8 bytes with zeros, nothing else. */
static bool only_padding(smb_rd *r)
{
    size_t left = smb_rd_left(r);
    if (left >= 8)
        return false;
    for (size_t i = 0; i < left; i++)
        if (smb_rd_u8(r) != 0)
            return false;
    return true;
}

int srvsvc_share_enum_all_decode(const uint8_t *stub, size_t len, smb_share_info **shares, size_t *n,
                                 smb_error *err)
{
    *shares = NULL;
    *n = 0;
    smb_rd r;
    smb_rd_init(&r, stub, len);
    uint32_t level = ndr_rd_u32(&r);
    uint32_t arm = ndr_rd_u32(&r);
    uint32_t container_ref = ndr_rd_ptr(&r);
    if (!smb_rd_ok(&r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "NetShareEnumAll answer cut short");
    if (level != 1 || arm != 1)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "NetShareEnumAll answer at level %u (union arm %u), not 1",
                           level, arm);
    uint32_t count = 0;
    smb_share_info *list = NULL;
    if (container_ref != 0) {
        count = ndr_rd_u32(&r);
        uint32_t array_ref = ndr_rd_ptr(&r);
        if (!smb_rd_ok(&r))
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "NetShareEnumAll answer cut short");
        if (array_ref == 0 && count != 0)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "EntriesRead %u without a share list", count);
        if (array_ref != 0) {
            int rc = decode_array(&r, count, &list, err);
            if (rc != 0)
                return rc;
        }
    }
    (void)ndr_rd_u32(&r); /* TotalEntries: what there is; with no limit asked, what came */
    if (ndr_rd_ptr(&r) != 0)
        (void)ndr_rd_u32(&r); /* *ResumeHandle */
    uint32_t werr = ndr_rd_u32(&r);
    int rc = 0;
    if (!smb_rd_ok(&r))
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "NetShareEnumAll answer cut short");
    else if (!only_padding(&r))
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "bytes after the end of the NetShareEnumAll answer");
    else if (werr != 0)
        rc = werror_error(werr, err);
    else if (container_ref == 0)
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "NetShareEnumAll answer without its SHARE_INFO_1_CONTAINER");
    if (rc != 0) {
        smb_shares_free(list, count);
        return rc;
    }
    *shares = list;
    *n = list ? count : 0;
    return 0;
}

int srvsvc_share_enum_all_response(const uint8_t *pdus, size_t len, uint32_t call_id, smb_share_info **shares,
                                   size_t *n, smb_error *err)
{
    *shares = NULL;
    *n = 0;
    uint8_t *stub = NULL;
    size_t stub_len = 0;
    int rc = dcerpc_response_stub(pdus, len, call_id, &stub, &stub_len, err);
    if (rc == 0)
        rc = srvsvc_share_enum_all_decode(stub, stub_len, shares, n, err);
    free(stub);
    return rc;
}

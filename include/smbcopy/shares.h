/*
 * The shares a server offers, as `smbclient -L` lists them: NetShareEnumAll
 * (MS-SRVS 3.1.4.8) at information level 1, a DCE/RPC call (MS-RPCE,
 * C706) over the named pipe \srvsvc of the IPC$ share.
 *
 * Ownership: the array smb_list_shares returns is the caller's, freed with
 * smb_shares_free (which frees every string in it too). Errors follow
 * smb.h: 0 or a negative SMB_ERR_* code, with the caller's smb_error
 * filled when one is passed.
 */
#ifndef SMBCOPY_SHARES_H
#define SMBCOPY_SHARES_H

#include <stddef.h>
#include <stdint.h>

#include <smbcopy/api.h>
#include <smbcopy/smb.h>

#ifdef __cplusplus
extern "C" {
#endif

/* shi1_type (MS-SRVS 2.2.2.4): the kind of share in the low bits ... */
#define SMB_STYPE_DISKTREE 0x00000000u /**< a disk share */
#define SMB_STYPE_PRINTQ 0x00000001u   /**< a print queue */
#define SMB_STYPE_DEVICE 0x00000002u   /**< a communication device */
#define SMB_STYPE_IPC 0x00000003u      /**< interprocess communication (IPC$) */
/* ... and flags in the high bits. */
#define SMB_STYPE_SPECIAL 0x80000000u   /**< a special share: administrative or hidden (IPC$, ADMIN$, C$) */
#define SMB_STYPE_TEMPORARY 0x40000000u /**< a temporary share */
/** The kind of share: (type & SMB_STYPE_MASK) is one of SMB_STYPE_DISKTREE .. SMB_STYPE_IPC. */
#define SMB_STYPE_MASK 0x0FFFFFFFu

/** One share (SHARE_INFO_1, MS-SRVS 2.2.4.23). */
typedef struct smb_share_info {
    char *name;    /**< UTF-8, never NULL nor empty; malloc'd */
    uint32_t type; /**< shi1_type as the server sent it: SMB_STYPE_* kind and flags */
    char *comment; /**< UTF-8, "" when the share has none; malloc'd */
} smb_share_info;

/**
 * The shares of the server sess is logged on to, in the server's order:
 * tree-connects IPC$ on sess, opens the named pipe "srvsvc", binds to the
 * srvsvc interface (4b324fc8-1670-01d3-1278-5a47bf6ee188 v3.0, NDR 2.0),
 * calls NetShareEnumAll at level 1 (the whole list in one answer; a reply
 * in several fragments is put back together), then closes the pipe and
 * disconnects the tree again, on failure too.
 *
 * On success *shares is a malloc'd array of *n entries (NULL when the
 * server lists none) that the caller frees with smb_shares_free; on failure
 * *shares is NULL and *n 0. Errors: those of the tree connect and the
 * pipe's open (SMB_ERR_ACCESS, SMB_ERR_BAD_SHARE, ...); SMB_ERR_UNSUPPORTED
 * when the server refuses the interface or has no such operation (a
 * BIND_NAK, a rejected presentation context, a FAULT of nca_s_op_rng_error
 * or nca_s_unk_if); SMB_ERR_ACCESS for a FAULT or a WERROR of
 * ERROR_ACCESS_DENIED (5); SMB_ERR_SERVER for any other non-zero WERROR
 * (named in the message with its value; ERROR_MORE_DATA, a part of the
 * list, is refused too rather than passed on as all); SMB_ERR_PROTOCOL
 * for an answer that does not decode (more than 65536 shares, a name or
 * comment over 4096 UTF-16 units, counts that disagree, a missing name).
 */
SMBCOPY_API int smb_list_shares(smb_session *sess, smb_share_info **shares, size_t *n, smb_error *err);

/** Free what smb_list_shares returned: every string and the array. NULL is a no-op. */
SMBCOPY_API void smb_shares_free(smb_share_info *shares, size_t n);

/**
 * The kind of a share type as smbclient names it: "disk", "printer",
 * "device" or "ipc" (the flags ignored), "unknown" for any other value.
 * A static string.
 */
SMBCOPY_API const char *smb_share_type_name(uint32_t type);

#ifdef __cplusplus
}
#endif
#endif

/*
 * A client: UNC paths in, DFS followed, connections reused.
 *
 * smb.h's calls work on one tree of one session of one connection, which
 * the caller makes. A client makes them itself, on first use, for a UNC
 * path such as "\\\\server\\share\\dir\\file" (or "//server/share/dir/file"),
 * and keeps them for the next call: one connection and session per server
 * and port, one tree per share, all with the client's credentials (like
 * smbprotocol's ClientConfig and register_session, or libsmb2's
 * smb2_connect_share).
 *
 * DFS (MS-DFSC) is followed transparently: a share its server refuses
 * (STATUS_BAD_NETWORK_NAME) is looked up by a root referral, and a call
 * answered STATUS_PATH_NOT_COVERED (a path through a DFS link) asks for the
 * link's referral and is sent again to the link's target, trying the
 * targets in the server's order until one connects. Referrals are kept in
 * the client's cache for their time to live, so later calls under the same
 * link go to the target at once. SMB_CLIENT_NO_DFS turns all of it off: the
 * server's answer is then the caller's.
 *
 * Thread-safe: calls may run on several threads at once. No global state.
 */
#ifndef SMBCOPY_CLIENT_H
#define SMBCOPY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/api.h>
#include <smbcopy/smb.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Flags of smb_client_new. */
#define SMB_CLIENT_NO_DFS 0x1u /**< never follow DFS referrals: STATUS_PATH_NOT_COVERED is the caller's */

/** The most referrals one call follows (links to links, roots to roots) before it fails with SMB_ERR_NOT_FOUND. */
#define SMB_CLIENT_MAX_REFERRALS 8

typedef struct smb_client smb_client;

/**
 * A new client with no connection yet. port 0 is 445; a server that a
 * referral names is reached on 445, except the first server by its own
 * name, reached on port. conn (NULL: the defaults) and creds (NULL:
 * anonymous) are copied, strings included; creds->target_host, when set,
 * applies to the servers named by the caller, never to those a referral
 * names (their own host names make their Kerberos principals). flags:
 * SMB_CLIENT_*. Returns the client, the caller's until smb_client_free, or
 * NULL with err filled (SMB_ERR_NO_MEMORY).
 */
SMBCOPY_API smb_client *smb_client_new(uint16_t port, const smb_conn_opts *conn, const smb_creds *creds, unsigned flags,
                                       smb_error *err);

/** Close every tree, session and connection of the client and free it. Opens made through it must be closed first. NULL is a no-op. */
SMBCOPY_API void smb_client_free(smb_client *c);

/**
 * Where unc is: the tree that holds it (connected now or before, owned by
 * the client) and the path inside that share (*path, '\\'-separated, no
 * leading separator, "" for the share's root; malloc'd, the caller frees
 * it), after the DFS referrals cached or needed to get there (a root
 * referral for a share its server refuses). A path through a link not met
 * yet resolves to the link's own share: the calls below then follow it.
 * SMB_ERR_INVALID_ARG for a path without a server and a share.
 */
SMBCOPY_API int smb_client_resolve(smb_client *c, const char *unc, smb_tree **tree, char **path, smb_error *err);

/** smb_stat of unc, following DFS. */
SMBCOPY_API int smb_client_stat(smb_client *c, const char *unc, smb_file_info *info, smb_error *err);
/** smb_mkdir of unc, following DFS. */
SMBCOPY_API int smb_client_mkdir(smb_client *c, const char *unc, smb_error *err);
/** smb_rmdir of unc, following DFS. */
SMBCOPY_API int smb_client_rmdir(smb_client *c, const char *unc, smb_error *err);
/** smb_unlink of unc, following DFS. */
SMBCOPY_API int smb_client_unlink(smb_client *c, const char *unc, smb_error *err);
/** smb_read_file of unc (at most cap bytes into buf, the count in *n), following DFS. */
SMBCOPY_API int smb_client_read_file(smb_client *c, const char *unc, void *buf, size_t cap, size_t *n, smb_file_info *info,
                                     smb_error *err);
/**
 * smb_open_file of unc (SMB_O_* flags), following DFS. The open is the
 * caller's until smb_close(), and must be closed before smb_client_free.
 */
SMBCOPY_API smb_open *smb_client_open_file(smb_client *c, const char *unc, int flags, smb_file_info *info, smb_error *err);
/** smb_open_dir of unc, following DFS; the open as smb_client_open_file's. */
SMBCOPY_API smb_open *smb_client_open_dir(smb_client *c, const char *unc, smb_error *err);

/** What a client did (monotonic counters). */
typedef struct smb_client_stats {
    uint64_t connections;       /**< connections made (one per server and port) */
    uint64_t trees;             /**< tree connects made */
    uint64_t referrals;         /**< referrals asked of a server */
    uint64_t referrals_cached;  /**< calls routed by a cached referral without asking */
} smb_client_stats;

/** Read the client's counters. */
SMBCOPY_API void smb_client_get_stats(smb_client *c, smb_client_stats *stats);

#ifdef __cplusplus
}
#endif

#endif

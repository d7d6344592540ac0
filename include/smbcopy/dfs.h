/*
 * DFS referrals (MS-DFSC): which server and share a DFS path is served from.
 *
 * A DFS namespace (\\domain-or-server\root) holds links that point to
 * shares elsewhere. A client asks a server for a referral
 * (FSCTL_DFS_GET_REFERRALS over IPC$), which says what part of the path it
 * covers (the prefix) and which targets serve it, in the order to try
 * them; smb_dfs_rewrite then turns the DFS path into a path on a target.
 * Referrals are kept for their time to live in a cache (smb_dfs_cache).
 *
 * DFS paths are UTF-8 with '\\' (or '/') separators and one or two leading
 * separators: "\\srv\\root\\link\\dir\\file". The library gives them back
 * with '\\' separators and exactly one leading separator.
 */
#ifndef SMBCOPY_DFS_H
#define SMBCOPY_DFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/api.h>
#include <smbcopy/smb.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The time to live given to a referral whose entries carry none (version 1), in seconds. */
#define SMB_DFS_DEFAULT_TTL 300u

/** One target of a referral: \\server\share[\path], split. */
typedef struct smb_dfs_target {
    char *server; /**< UTF-8, no leading backslashes */
    char *share;  /**< the share on server */
    char *path;   /**< what follows the share in the target, '\\'-separated, "" when none */
    bool target_set_boundary; /**< version 4: this target starts a new target set (MS-DFSC 2.2.5.4, flag T) */
} smb_dfs_target;

/** A decoded referral (RESP_GET_DFS_REFERRAL, MS-DFSC 2.2.4). Every string is malloc'd UTF-8 and never NULL. */
typedef struct smb_dfs_referral {
    /**
     * The DFS path the referral covers: the first PathConsumed bytes of the
     * request (MS-DFSC 2.2.4: bytes of the UTF-16 request name, without its
     * NUL), '\\'-separated with one leading backslash, e.g.
     * "\\srv\\root\\link". "" only for a name list that consumed nothing.
     */
    char *prefix;
    uint16_t version;     /**< the referral entries' version, 1-4 */
    bool root;            /**< ServerType 1 (root targets) rather than 0 (link targets) */
    bool storage_servers; /**< ReferralHeaderFlags S: the targets are storage servers */
    bool target_failback; /**< ReferralHeaderFlags T: fail back to a better target when it returns */
    uint32_t ttl;         /**< seconds: the smallest TimeToLive of the entries (version 1: SMB_DFS_DEFAULT_TTL) */
    smb_dfs_target *targets; /**< in the server's order: try the first first; NULL when ntargets is 0 */
    size_t ntargets;      /**< at least 1 unless name_list */
    /* NameListReferral (domain and DC referrals, version 3/4 flag 0x0002, MS-DFSC 2.2.5.3.2): */
    bool name_list;       /**< the entries are name lists: no targets */
    char *special_name;   /**< name_list: the first entry's SpecialName (the domain of a DC referral); else "" */
    /**
     * name_list: each entry's ExpandedNames in order (the DC names of a DC
     * referral); an entry without any (a domain referral) gives its
     * SpecialName instead. NULL when nexpanded is 0.
     */
    char **expanded_names;
    size_t nexpanded;
} smb_dfs_referral;

/**
 * Ask the server of sess for the referral of dfs_path (MS-DFSC 3.1.4.1):
 * tree-connect IPC$, FSCTL_DFS_GET_REFERRALS with MaxReferralLevel 4, decode
 * the answer, disconnect IPC$ again. On success *out is the caller's, freed
 * with smb_dfs_referral_free; on failure *out is NULL and err says why:
 * SMB_ERR_NOT_FOUND when the server knows no referral for the path,
 * SMB_ERR_UNSUPPORTED when it has no DFS at all, SMB_ERR_PROTOCOL for an
 * answer that does not decode, or the error of the IPC$ connect or the
 * FSCTL. dfs_path is read during the call only.
 */
SMBCOPY_API int smb_dfs_get_referral(smb_session *sess, const char *dfs_path, smb_dfs_referral **out, smb_error *err);

/** Free a referral and all its strings. NULL is a no-op. */
SMBCOPY_API void smb_dfs_referral_free(smb_dfs_referral *r);

/**
 * The path on target number `target` of r that dfs_path stands for
 * (MS-DFSC 3.1.4.2): r->prefix, which must cover dfs_path (component-wise,
 * ASCII letters without case), is replaced by the target's
 * \\server\\share\\path. The result is split into *server, *share and *rest
 * (the path inside the share, '\\'-separated, no leading separator, "" for
 * the share root), each malloc'd for the caller to free. On failure the
 * three are NULL: SMB_ERR_INVALID_ARG when target is out of range, r is a
 * name list, or the prefix does not cover dfs_path.
 */
SMBCOPY_API int smb_dfs_rewrite(const smb_dfs_referral *r, size_t target, const char *dfs_path, char **server,
                                char **share, char **rest, smb_error *err);

/**
 * The DFS path (MS-DFSC 2.2.2) of rest inside \\server\\share:
 * "\\server\\share" alone when rest is empty, else "\\server\\share\\rest"
 * with every '/' of rest turned into '\\'. Malloc'd for the caller to
 * free; NULL when memory runs out.
 */
SMBCOPY_API char *smb_dfs_path_join(const char *server, const char *share, const char *rest);

/**
 * A cache of referrals: thread-safe, looked up by the longest prefix that
 * covers a path (ASCII letters without case, component-wise: "\\a\\b"
 * covers "\\a\\b\\c" but not "\\a\\bc"); an entry expires ttl seconds after
 * it was added. No global state: each cache stands alone.
 */
typedef struct smb_dfs_cache smb_dfs_cache;

/** A new, empty cache (the monotonic clock), or NULL when memory runs out. Free with smb_dfs_cache_free. */
SMBCOPY_API smb_dfs_cache *smb_dfs_cache_new(void);

/** Free the cache and every referral in it. NULL is a no-op. */
SMBCOPY_API void smb_dfs_cache_free(smb_dfs_cache *c);

/**
 * Keep a copy of r (r stays the caller's), replacing an entry with the same
 * prefix. SMB_ERR_INVALID_ARG for a referral with an empty prefix,
 * SMB_ERR_NO_MEMORY.
 */
SMBCOPY_API int smb_dfs_cache_add(smb_dfs_cache *c, const smb_dfs_referral *r, smb_error *err);

/**
 * The unexpired referral with the longest prefix covering dfs_path: 0 and
 * *copy, a copy the caller frees with smb_dfs_referral_free; or
 * SMB_ERR_NOT_FOUND (*copy NULL) when there is none. Expired entries found
 * on the way are dropped.
 */
SMBCOPY_API int smb_dfs_cache_lookup(smb_dfs_cache *c, const char *dfs_path, smb_dfs_referral **copy, smb_error *err);

/**
 * Replace the cache's clock (for tests): now_s(ctx) gives the time in
 * seconds, on any fixed origin. Call before the cache is shared.
 */
SMBCOPY_API void smb_dfs_cache_set_clock(smb_dfs_cache *c, uint64_t (*now_s)(void *), void *ctx);

#ifdef __cplusplus
}
#endif

#endif

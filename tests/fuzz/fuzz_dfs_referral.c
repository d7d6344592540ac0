/*
 * Fuzz target: RESP_GET_DFS_REFERRAL (MS-DFSC 2.2.4), the output of
 * FSCTL_DFS_GET_REFERRALS, through smb_dfs_referral_decode as the answer to
 * a fixed request. A referral that decodes must hold what the decoder
 * promises: version 1-4; targets (at least one) unless it is a name list
 * (then none); every string present and valid UTF-8 (lone surrogates as
 * WTF-8); servers and shares non-empty without separators; the prefix a
 * leading part of the request. Its copy and the rewrite onto each target
 * are exercised too. A refusal must leave no referral. Aborts when an
 * invariant does not hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pdu_dfs.h"
#include "utf16.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The request the seeds answer (Samba's captured answers among them). */
static const char REQUEST[] = "\\127.0.0.1\\dfsroot\\link\\sub\\file";

static void check_string(const char *s, bool non_empty)
{
    if (!s || (non_empty && !*s))
        abort();
    size_t len = 0;
    uint8_t *back = smb_utf8_to_utf16le(s, strlen(s), &len);
    if (!back)
        abort();
    free(back);
}

static void check_referral(const smb_dfs_referral *r)
{
    if (r->version < 1 || r->version > SMB_DFS_MAX_LEVEL)
        abort();
    if (r->name_list ? (r->ntargets != 0 || r->targets) : (r->ntargets == 0 || !r->targets))
        abort();
    if (r->ntargets > SMB_DFS_REFERRALS_MAX || (r->nexpanded == 0) != (r->expanded_names == NULL))
        abort();
    if (r->version == 1 && r->ttl != SMB_DFS_DEFAULT_TTL)
        abort();
    check_string(r->prefix, !r->name_list);
    if (strncmp(r->prefix, REQUEST, strlen(r->prefix)) != 0)
        abort();
    check_string(r->special_name, r->name_list);
    for (size_t i = 0; i < r->nexpanded; i++)
        check_string(r->expanded_names[i], true);
    for (size_t i = 0; i < r->ntargets; i++) {
        const smb_dfs_target *t = &r->targets[i];
        check_string(t->server, true);
        check_string(t->share, true);
        check_string(t->path, false);
        if (strchr(t->server, '\\') || strchr(t->share, '\\'))
            abort();
        if (t->target_set_boundary && r->version != 4)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smb_dfs_referral *r = NULL;
    int rc = smb_dfs_referral_decode(data, size, REQUEST, &r);
    if (rc != 0) {
        if ((rc != SMB_ERR_PROTOCOL && rc != SMB_ERR_NO_MEMORY) || r)
            abort();
        return 0;
    }
    if (!r)
        abort();
    check_referral(r);
    smb_dfs_referral *copy = smb_dfs_referral_dup(r);
    if (copy)
        check_referral(copy);
    smb_dfs_referral_free(copy);
    for (size_t i = 0; i < r->ntargets; i++) {
        char *server = NULL, *share = NULL, *rest = NULL;
        int wrc = smb_dfs_rewrite(r, i, REQUEST, &server, &share, &rest, NULL);
        /* The prefix covers the request unless it ends inside a component. */
        if (wrc == 0 && (strcmp(server, r->targets[i].server) != 0 || strcmp(share, r->targets[i].share) != 0))
            abort();
        if (wrc != 0 && (server || share || rest))
            abort();
        free(server);
        free(share);
        free(rest);
    }
    smb_dfs_referral_free(r);
    return 0;
}

/*
 * Whether a descriptor read back after a SET_INFO keeps what was set
 * (security.h: smb_sd_kept). A server may store a descriptor in another
 * form than it was given without changing what it says: generic rights
 * mapped to the file rights they stand for (MS-DTYP 2.4.3), inherited
 * entries recomputed from the parent (MS-DTYP 2.5.3.4), parts it was not
 * asked to set. Those differences are not losses; anything else is.
 */
#include <smbcopy/security.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

/* The generic rights and the file rights each stands for (MS-DTYP 2.4.3; MS-SMB2 2.2.13.1.1). */
#define GENERIC_READ 0x80000000u
#define GENERIC_WRITE 0x40000000u
#define GENERIC_EXECUTE 0x20000000u
#define GENERIC_ALL 0x10000000u
#define FILE_GENERIC_READ 0x00120089u
#define FILE_GENERIC_WRITE 0x00120116u
#define FILE_GENERIC_EXECUTE 0x001200A0u
#define FILE_ALL_ACCESS 0x001F01FFu
#define EVERYONE_AUTHORITY 1u

/* mask with its generic rights replaced by the file rights they map to, as a server stores an effective ACE. */
static uint32_t file_mask(const smb_ace *a)
{
    uint32_t m = a->mask;
    if (a->flags & SMB_ACE_INHERIT_ONLY) /* kept generic: it applies only to children, mapped there */
        return m;
    if (m & GENERIC_READ)
        m = (m & ~GENERIC_READ) | FILE_GENERIC_READ;
    if (m & GENERIC_WRITE)
        m = (m & ~GENERIC_WRITE) | FILE_GENERIC_WRITE;
    if (m & GENERIC_EXECUTE)
        m = (m & ~GENERIC_EXECUTE) | FILE_GENERIC_EXECUTE;
    if (m & GENERIC_ALL)
        m = (m & ~GENERIC_ALL) | FILE_ALL_ACCESS;
    return m;
}

static bool sid_equal(const smb_sid *a, const smb_sid *b)
{
    if (a->revision != b->revision || a->sub_authority_count != b->sub_authority_count || a->authority != b->authority)
        return false;
    return memcmp(a->sub_authority, b->sub_authority, a->sub_authority_count * sizeof a->sub_authority[0]) == 0;
}

static bool ace_equal(const smb_ace *a, const smb_ace *b)
{
    if (a->type != b->type || a->flags != b->flags || a->data_len != b->data_len)
        return false;
    if (a->data_len && memcmp(a->data, b->data, a->data_len) != 0)
        return false;
    if (!smb_ace_type_is_known(a->type)) /* opaque: its whole body is data */
        return true;
    if (file_mask(a) != file_mask(b) || !sid_equal(&a->sid, &b->sid))
        return false;
    if (!smb_ace_type_is_object(a->type))
        return true;
    return a->object_flags == b->object_flags &&
           memcmp(&a->object_type, &b->object_type, sizeof a->object_type) == 0 &&
           memcmp(&a->inherited_object_type, &b->inherited_object_type, sizeof a->inherited_object_type) == 0;
}

/* The next entry of acl at or after *i that was set on the object itself (not inherited), or NULL. */
static const smb_ace *next_explicit(const smb_acl *acl, size_t *i)
{
    for (; acl && *i < acl->count; (*i)++)
        if (!(acl->aces[*i].flags & SMB_ACE_INHERITED))
            return &acl->aces[(*i)++];
    return NULL;
}

/* A NULL DACL (every right to everyone) stored as one entry giving Everyone every right, as some servers do. */
static bool grants_everyone_all(const smb_acl *acl)
{
    size_t i = 0;
    const smb_ace *a = next_explicit(acl, &i);
    if (!a || next_explicit(acl, &i))
        return false;
    return a->type == SMB_ACE_ACCESS_ALLOWED && a->sid.sub_authority_count == 1 &&
           a->sid.authority == EVERYONE_AUTHORITY && a->sid.sub_authority[0] == 0 &&
           (file_mask(a) & FILE_ALL_ACCESS) == FILE_ALL_ACCESS;
}

static int differs(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int differs(char *why, size_t why_len, const char *fmt, ...)
{
    if (why && why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return 0;
}

/* Whether got's ACL (which, present flag, protected flag) keeps sent's; name: "DACL" or "SACL". */
static int acl_kept(const smb_security_descriptor *sent, const smb_security_descriptor *got, bool dacl, char *why,
                    size_t why_len)
{
    const char *name = dacl ? "DACL" : "SACL";
    uint16_t present = dacl ? SMB_SE_DACL_PRESENT : SMB_SE_SACL_PRESENT;
    uint16_t protect = dacl ? SMB_SE_DACL_PROTECTED : SMB_SE_SACL_PROTECTED;
    const smb_acl *s = dacl ? sent->dacl : sent->sacl, *g = dacl ? got->dacl : got->sacl;
    if (!(sent->control & present)) /* not set: nothing to keep */
        return 1;
    if (!s) { /* a NULL ACL */
        if ((got->control & present) && (!g || grants_everyone_all(g)))
            return 1;
        return differs(why, why_len, "the NULL %s (no restriction) became a list of entries", name);
    }
    if (!(got->control & present) || !g)
        return differs(why, why_len, "the %s is gone", name);
    if ((sent->control & protect) != (got->control & protect))
        return differs(why, why_len, "the %s %s its protection from inheritance", name,
                       (sent->control & protect) ? "lost" : "gained");
    size_t i = 0, j = 0;
    for (unsigned n = 1;; n++) {
        const smb_ace *a = next_explicit(s, &i), *b = next_explicit(g, &j);
        if (!a && !b)
            return 1;
        if (!a)
            return differs(why, why_len, "the %s has an entry more than was set (explicit entry %u)", name, n);
        if (!b)
            return differs(why, why_len, "the %s lost explicit entry %u of those set", name, n);
        if (!ace_equal(a, b)) {
            char sid[SMB_SID_STRING_MAX];
            if (smb_sid_to_string(&a->sid, sid, sizeof sid) != 0)
                snprintf(sid, sizeof sid, "?");
            return differs(why, why_len, "the %s's explicit entry %u (for %s) was stored otherwise", name, n, sid);
        }
    }
}

static int sid_kept(const smb_sid *sent, const smb_sid *got, const char *name, char *why, size_t why_len)
{
    if (!sent)
        return 1;
    char a[SMB_SID_STRING_MAX], b[SMB_SID_STRING_MAX];
    if (smb_sid_to_string(sent, a, sizeof a) != 0)
        snprintf(a, sizeof a, "?");
    if (!got)
        return differs(why, why_len, "the %s %s is gone", name, a);
    if (sid_equal(sent, got))
        return 1;
    if (smb_sid_to_string(got, b, sizeof b) != 0)
        snprintf(b, sizeof b, "?");
    return differs(why, why_len, "the %s %s became %s", name, a, b);
}

int smb_sd_kept(const uint8_t *sent, size_t sent_len, const uint8_t *got, size_t got_len, uint32_t parts,
                char *why, size_t why_len, smb_error *err)
{
    if (why && why_len)
        why[0] = '\0';
    smb_security_descriptor *s = NULL, *g = NULL;
    smb_error le = {0};
    if (smb_sd_decode(sent, sent_len, &s, &le) != 0)
        return smb_err_set(err, le.code, 0, "the descriptor set: %s", le.message);
    if (smb_sd_decode(got, got_len, &g, &le) != 0) {
        smb_sd_free(s);
        return smb_err_set(err, le.code, 0, "the descriptor read back: %s", le.message);
    }
    int kept = 1;
    if (parts & SMB_SECINFO_OWNER)
        kept = sid_kept(s->owner, g->owner, "owner", why, why_len);
    if (kept && (parts & SMB_SECINFO_GROUP))
        kept = sid_kept(s->group, g->group, "group", why, why_len);
    if (kept && (parts & SMB_SECINFO_DACL))
        kept = acl_kept(s, g, true, why, why_len);
    if (kept && (parts & SMB_SECINFO_SACL))
        kept = acl_kept(s, g, false, why, why_len);
    smb_sd_free(s);
    smb_sd_free(g);
    return kept;
}

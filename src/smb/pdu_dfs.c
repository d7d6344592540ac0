/*
 * REQ_GET_DFS_REFERRAL and RESP_GET_DFS_REFERRAL (MS-DFSC 2.2.2, 2.2.4),
 * the input and output of FSCTL_DFS_GET_REFERRALS.
 *
 * The response is a header (PathConsumed, NumberOfReferrals,
 * ReferralHeaderFlags), the referral entries one after the other (each
 * starts with VersionNumber and Size, Size leading to the next), and the
 * strings the entries point to by offsets counted from the start of each
 * entry (MS-DFSC 2.2.5.2-2.2.5.4).
 */
#include <stdlib.h>
#include <string.h>

#include "pdu_dfs.h"
#include "utf16.h"

/* ReferralHeaderFlags (MS-DFSC 2.2.4). R (ReferralServers, 0x1) says the
 * targets answer referrals themselves; it follows from ServerType here. */
#define DFS_HDR_STORAGE_SERVERS 0x00000002u
#define DFS_HDR_TARGET_FAILBACK 0x00000004u

/* ReferralEntryFlags (MS-DFSC 2.2.5.3, 2.2.5.4). */
#define DFS_ENTRY_NAME_LIST 0x0002u
#define DFS_ENTRY_TARGET_SET_BOUNDARY 0x0004u

/* ServerType (MS-DFSC 2.2.5.1): 0 link targets, 1 root targets. */
#define DFS_SERVER_TYPE_ROOT 0x0001u

#define DFS_RSP_HEADER 8u     /* PathConsumed, NumberOfReferrals, ReferralHeaderFlags */
#define DFS_V1_FIXED 8u       /* VersionNumber, Size, ServerType, ReferralEntryFlags (2.2.5.1) */
#define DFS_V2_FIXED 22u      /* + Proximity, TimeToLive, three string offsets (2.2.5.2) */
#define DFS_V3_FIXED 34u      /* + TimeToLive, three string offsets, ServiceSiteGuid (2.2.5.3.1, 2.2.5.4) */
#define DFS_V3_NAMES_FIXED 18u /* + TimeToLive, SpecialNameOffset, count, ExpandedNameOffset (2.2.5.3.2) */

/* Most names all name-list entries of one response may expand to: each
 * becomes an allocation, and entries may point at the same strings. */
#define DFS_NAMES_MAX 4096u

/* ------------------------------------------------------------ paths */

static char ascii_lower(char c)
{
    if (c < 'A' || c > 'Z')
        return c;
    return (char)(c | 0x20); /* ASCII: the lower case is the upper with bit 5 set */
}

char *smb_dfs_path_normalize(const char *path)
{
    size_t n = strlen(path);
    char *out = malloc(n + 2); /* one leading separator may be added */
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && (path[i] == '\\' || path[i] == '/'))
            i++;
        if (i == n)
            break;
        out[o++] = '\\';
        while (i < n && path[i] != '\\' && path[i] != '/')
            out[o++] = path[i++];
    }
    out[o] = '\0';
    return out;
}

long smb_dfs_prefix_covers(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    if (n == 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (path[i] == '\0' || ascii_lower(prefix[i]) != ascii_lower(path[i]))
            return -1;
    return (path[n] == '\0' || path[n] == '\\') ? (long)n : -1;
}

/* ------------------------------------------------------------ request */

int smb_dfs_referral_req_encode(smb_wr *w, const char *path)
{
    smb_wr_u16(w, SMB_DFS_MAX_LEVEL); /* MaxReferralLevel */
    if (!smb_wr_utf8_as_utf16le(w, path, strlen(path), SMB_UTF8_WTF8))
        return SMB_ERR_BAD_NAME;
    smb_wr_u16(w, 0); /* RequestFileName is NUL-terminated */
    return 0;
}

int smb_dfs_referral_req_ex_encode(smb_wr *w, const char *path)
{
    smb_wr_u16(w, SMB_DFS_MAX_LEVEL); /* MaxReferralLevel */
    smb_wr_u16(w, 0);                 /* RequestFlags: no SiteName */
    size_t data_len = smb_wr_reserve(w, 4);
    size_t name_len = smb_wr_reserve(w, 2);
    size_t start = w->len;
    if (!smb_wr_utf8_as_utf16le(w, path, strlen(path), SMB_UTF8_WTF8))
        return SMB_ERR_BAD_NAME;
    size_t n = w->len - start;
    if (n > UINT16_MAX - 2) /* RequestFileNameLength is 16 bits */
        return SMB_ERR_BAD_NAME;
    smb_wr_put_u16(w, name_len, (uint16_t)n);
    smb_wr_put_u32(w, data_len, (uint32_t)(n + 2));
    return 0;
}

/* ------------------------------------------------------------ freeing, copying */

static void free_names(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void smb_dfs_referral_free(smb_dfs_referral *r)
{
    if (!r)
        return;
    free(r->prefix);
    if (r->targets) {
        for (size_t i = 0; i < r->ntargets; i++) {
            free(r->targets[i].server);
            free(r->targets[i].share);
            free(r->targets[i].path);
        }
        free(r->targets);
    }
    free(r->special_name);
    free_names(r->expanded_names, r->nexpanded);
    free(r);
}

smb_dfs_referral *smb_dfs_referral_dup(const smb_dfs_referral *r)
{
    smb_dfs_referral *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *r;
    c->prefix = c->special_name = NULL;
    c->targets = NULL;
    c->expanded_names = NULL;
    c->ntargets = c->nexpanded = 0;
    bool ok = (c->prefix = strdup(r->prefix)) && (c->special_name = strdup(r->special_name));
    if (ok && r->ntargets) {
        ok = (c->targets = calloc(r->ntargets, sizeof *c->targets)) != NULL;
        for (size_t i = 0; ok && i < r->ntargets; i++) {
            c->ntargets++;
            c->targets[i].target_set_boundary = r->targets[i].target_set_boundary;
            ok = (c->targets[i].server = strdup(r->targets[i].server)) &&
                 (c->targets[i].share = strdup(r->targets[i].share)) &&
                 (c->targets[i].path = strdup(r->targets[i].path));
        }
    }
    if (ok && r->nexpanded) {
        ok = (c->expanded_names = calloc(r->nexpanded, sizeof *c->expanded_names)) != NULL;
        for (size_t i = 0; ok && i < r->nexpanded; i++) {
            c->nexpanded++;
            ok = (c->expanded_names[i] = strdup(r->expanded_names[i])) != NULL;
        }
    }
    if (!ok) {
        smb_dfs_referral_free(c);
        return NULL;
    }
    return c;
}

/* ------------------------------------------------------------ response */

/*
 * The NUL-terminated UTF-16LE string at absolute offset off of buf[0..len),
 * as UTF-8 in *out (malloc'd); *used receives its size in bytes with the
 * NUL. SMB_ERR_PROTOCOL when no NUL comes before the end of the buffer.
 */
static int read_string(const uint8_t *buf, size_t len, size_t off, char **out, size_t *used)
{
    smb_rd r;
    smb_rd_init(&r, buf, len);
    smb_rd_seek(&r, off);
    size_t units = 0;
    while (smb_rd_u16(&r) != 0)
        units++; /* a read past the end gives 0 and sets the error flag */
    if (!smb_rd_ok(&r))
        return SMB_ERR_PROTOCOL;
    smb_rd_seek(&r, off);
    const uint8_t *p = smb_rd_ptr(&r, units * 2);
    if (!smb_rd_ok(&r))
        return SMB_ERR_PROTOCOL;
    *out = smb_utf16le_to_utf8(p, units * 2); /* no NUL inside: it cannot refuse but for memory */
    if (!*out)
        return SMB_ERR_NO_MEMORY;
    if (used)
        *used = (units + 1) * 2;
    return 0;
}

/* The string an entry's offset field points to: off counts from the
 * entry's start and must point past the entry's fixed fields. */
static int entry_string(const uint8_t *buf, size_t len, size_t entry, size_t fixed, uint16_t off, char **out)
{
    if (off < fixed)
        return SMB_ERR_PROTOCOL;
    return read_string(buf, len, entry + off, out, NULL);
}

/* Split "\\server\\share[\\path]" (MS-DFSC 2.2.5.2 NetworkAddress) into t. */
static int split_target(const char *addr, smb_dfs_target *t)
{
    if (addr[0] != '\\')
        return SMB_ERR_PROTOCOL;
    char *norm = smb_dfs_path_normalize(addr); /* "\\server\\share\\path" */
    if (!norm)
        return SMB_ERR_NO_MEMORY;
    char *server = norm[0] ? norm + 1 : norm; /* "" when addr was separators only */
    char *share = strchr(server, '\\');
    if (*server == '\0' || !share) {
        free(norm);
        return SMB_ERR_PROTOCOL; /* no server, or no share */
    }
    *share++ = '\0';
    char *path = strchr(share, '\\');
    if (path)
        *path++ = '\0';
    t->server = strdup(server);
    t->share = strdup(share);
    t->path = strdup(path ? path : "");
    free(norm);
    return (t->server && t->share && t->path) ? 0 : SMB_ERR_NO_MEMORY;
}

/* Append a name to the referral's expanded names. */
static int push_name(smb_dfs_referral *ref, size_t *cap, char *name)
{
    if (ref->nexpanded == DFS_NAMES_MAX) {
        free(name);
        return SMB_ERR_PROTOCOL;
    }
    if (ref->nexpanded == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        char **grown = realloc(ref->expanded_names, ncap * sizeof *grown);
        if (!grown) {
            free(name);
            return SMB_ERR_NO_MEMORY;
        }
        ref->expanded_names = grown;
        *cap = ncap;
    }
    ref->expanded_names[ref->nexpanded++] = name;
    return 0;
}

/* A name-list entry (MS-DFSC 2.2.5.3.2) at entry, its fields after
 * TimeToLive at r's position: SpecialName and its ExpandedNames. */
static int decode_name_list(smb_rd *r, const uint8_t *buf, size_t len, size_t entry, smb_dfs_referral *ref,
                            size_t *cap)
{
    uint16_t special_off = smb_rd_u16(r);
    uint16_t count = smb_rd_u16(r);
    uint16_t names_off = smb_rd_u16(r);
    if (!smb_rd_ok(r))
        return SMB_ERR_PROTOCOL;
    char *special = NULL;
    int rc = entry_string(buf, len, entry, DFS_V3_NAMES_FIXED, special_off, &special);
    if (rc != 0)
        return rc;
    if (*special == '\0') {
        free(special);
        return SMB_ERR_PROTOCOL;
    }
    if (!ref->special_name) {
        ref->special_name = special;
        special = NULL;
    }
    if (count == 0) {
        /* A domain referral names its domain in SpecialName only. */
        char *name = special ? special : strdup(ref->special_name);
        return name ? push_name(ref, cap, name) : SMB_ERR_NO_MEMORY;
    }
    free(special);
    if (names_off < DFS_V3_NAMES_FIXED)
        return SMB_ERR_PROTOCOL;
    /* The ExpandedNames follow one another from ExpandedNameOffset. */
    size_t pos = entry + names_off;
    for (uint16_t i = 0; i < count; i++) {
        char *name = NULL;
        size_t used = 0;
        rc = read_string(buf, len, pos, &name, &used);
        if (rc != 0)
            return rc;
        if (*name == '\0') {
            free(name);
            return SMB_ERR_PROTOCOL;
        }
        rc = push_name(ref, cap, name);
        if (rc != 0)
            return rc;
        pos += used;
    }
    return 0;
}

/* What the first entry decided, which every other entry must match. */
typedef struct dfs_shape {
    uint16_t version;
    bool name_list;
    size_t names_cap; /* capacity of ref->expanded_names */
} dfs_shape;

/*
 * The entry at pos (the idx'th): checked against the shape of the first,
 * its target or names added to ref. *size receives its Size, which leads
 * to the next entry.
 */
static int decode_entry(const uint8_t *buf, size_t len, size_t pos, size_t idx, dfs_shape *shape,
                        smb_dfs_referral *ref, uint16_t *size)
{
    smb_rd r;
    smb_rd_init(&r, buf, len);
    smb_rd_seek(&r, pos);
    uint16_t version = smb_rd_u16(&r);
    *size = smb_rd_u16(&r);
    uint16_t server_type = smb_rd_u16(&r);
    uint16_t flags = smb_rd_u16(&r);
    if (!smb_rd_ok(&r) || version < 1 || version > SMB_DFS_MAX_LEVEL || server_type > DFS_SERVER_TYPE_ROOT)
        return SMB_ERR_PROTOCOL;
    /* Versions 1 and 2 have no flags defined (MS-DFSC 2.2.5.1, 2.2.5.2). */
    bool name_list = version >= 3 && (flags & DFS_ENTRY_NAME_LIST);
    if (idx == 0) {
        shape->version = version;
        shape->name_list = name_list;
        ref->version = version;
        ref->root = server_type == DFS_SERVER_TYPE_ROOT;
        ref->name_list = name_list;
        ref->ttl = version == 1 ? SMB_DFS_DEFAULT_TTL : UINT32_MAX;
    } else if (version != shape->version || name_list != shape->name_list) {
        return SMB_ERR_PROTOCOL; /* all entries of a response have one version (MS-DFSC 2.2.4) */
    }
    size_t fixed = version == 1 ? DFS_V1_FIXED
                   : version == 2 ? DFS_V2_FIXED
                   : name_list  ? DFS_V3_NAMES_FIXED
                                : DFS_V3_FIXED;
    if (*size < fixed || *size > len - pos)
        return SMB_ERR_PROTOCOL;

    char *addr = NULL, *dfs_path = NULL, *alt_path = NULL;
    int rc = 0;
    if (version == 1) {
        /* ShareName follows the fixed fields inside the entry. */
        rc = read_string(buf, pos + *size, pos + DFS_V1_FIXED, &addr, NULL);
    } else {
        if (version == 2)
            smb_rd_skip(&r, 4); /* Proximity */
        uint32_t ttl = smb_rd_u32(&r);
        if (ttl < ref->ttl)
            ref->ttl = ttl;
        if (name_list)
            return decode_name_list(&r, buf, len, pos, ref, &shape->names_cap);
        uint16_t path_off = smb_rd_u16(&r);
        uint16_t alt_off = smb_rd_u16(&r);
        uint16_t addr_off = smb_rd_u16(&r);
        if (!smb_rd_ok(&r))
            return SMB_ERR_PROTOCOL;
        /* DFSPath and DFSAlternatePath name what the referral covers, which
         * PathConsumed says too: checked to be there, not kept. */
        rc = entry_string(buf, len, pos, fixed, path_off, &dfs_path);
        if (rc == 0)
            rc = entry_string(buf, len, pos, fixed, alt_off, &alt_path);
        if (rc == 0)
            rc = entry_string(buf, len, pos, fixed, addr_off, &addr);
    }
    if (rc == 0) {
        smb_dfs_target *t = &ref->targets[ref->ntargets++];
        t->target_set_boundary = version == 4 && (flags & DFS_ENTRY_TARGET_SET_BOUNDARY);
        rc = split_target(addr, t);
    }
    free(addr);
    free(dfs_path);
    free(alt_path);
    return rc;
}

/* ref->prefix: the first consumed bytes of the request in UTF-16LE. */
static int decode_prefix(const char *request_path, uint16_t consumed, smb_dfs_referral *ref)
{
    size_t len16 = 0;
    uint8_t *req16 = smb_utf8_to_utf16le(request_path, strlen(request_path), &len16);
    if (!req16)
        return SMB_ERR_BAD_NAME;
    int rc = 0;
    char *consumed8 = NULL;
    if (consumed % 2 != 0 || consumed > len16) {
        rc = SMB_ERR_PROTOCOL;
    } else {
        consumed8 = smb_utf16le_to_utf8(req16, consumed);
        ref->prefix = consumed8 ? smb_dfs_path_normalize(consumed8) : NULL;
        if (!ref->prefix)
            rc = SMB_ERR_NO_MEMORY;
    }
    free(consumed8);
    free(req16);
    return rc;
}

static int decode_referral(const uint8_t *buf, size_t len, const char *request_path, smb_dfs_referral *ref)
{
    smb_rd r;
    smb_rd_init(&r, buf, len);
    uint16_t consumed = smb_rd_u16(&r);
    uint16_t count = smb_rd_u16(&r);
    uint32_t hflags = smb_rd_u32(&r);
    if (!smb_rd_ok(&r) || count == 0 || count > SMB_DFS_REFERRALS_MAX)
        return SMB_ERR_PROTOCOL;
    ref->storage_servers = (hflags & DFS_HDR_STORAGE_SERVERS) != 0;
    ref->target_failback = (hflags & DFS_HDR_TARGET_FAILBACK) != 0;
    ref->targets = calloc(count, sizeof *ref->targets);
    if (!ref->targets)
        return SMB_ERR_NO_MEMORY;
    dfs_shape shape = {0};
    size_t pos = DFS_RSP_HEADER;
    for (size_t i = 0; i < count; i++) {
        uint16_t size = 0;
        int rc = decode_entry(buf, len, pos, i, &shape, ref, &size);
        if (rc != 0)
            return rc;
        pos += size; /* inside the buffer: decode_entry checked it */
    }
    if (ref->name_list) {
        free(ref->targets);
        ref->targets = NULL;
    }
    if (!ref->special_name && !(ref->special_name = strdup("")))
        return SMB_ERR_NO_MEMORY;
    int rc = decode_prefix(request_path, consumed, ref);
    if (rc == 0 && !ref->name_list && ref->prefix[0] == '\0')
        rc = SMB_ERR_PROTOCOL; /* a referral for no path at all */
    return rc;
}

int smb_dfs_referral_decode(const uint8_t *buf, size_t len, const char *request_path, smb_dfs_referral **out)
{
    *out = NULL;
    smb_dfs_referral *ref = calloc(1, sizeof *ref);
    if (!ref)
        return SMB_ERR_NO_MEMORY;
    int rc = decode_referral(buf, len, request_path, ref);
    if (rc != 0) {
        smb_dfs_referral_free(ref);
        return rc;
    }
    *out = ref;
    return 0;
}

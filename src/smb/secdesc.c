/*
 * Security descriptors in self-relative form (MS-DTYP 2.4.6), with their
 * SIDs (2.4.2.2), ACLs (2.4.5) and ACEs (2.4.4), decoded from and encoded to
 * bytes through common's bounded reader and writer.
 */
#include <smbcopy/security.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/wire.h"

#define SD_HEADER_LEN 20u  /* Revision, Sbz1, Control, four offsets */
#define ACL_HEADER_LEN 8u  /* AclRevision, Sbz1, AclSize, AceCount, Sbz2 */
#define ACE_HEADER_LEN 4u  /* AceType, AceFlags, AceSize */
#define SID_FIXED_LEN 8u   /* Revision, SubAuthorityCount, IdentifierAuthority */
#define GUID_LEN 16u
#define SID_REVISION 1u
#define SD_REVISION 1u

int smb_ace_type_is_known(uint8_t type) { return type <= SMB_ACE_SYSTEM_SCOPED_POLICY_ID && type != SMB_ACE_ACCESS_ALLOWED_COMPOUND; }

int smb_ace_type_is_object(uint8_t type)
{
    switch (type) {
    case SMB_ACE_ACCESS_ALLOWED_OBJECT:
    case SMB_ACE_ACCESS_DENIED_OBJECT:
    case SMB_ACE_SYSTEM_AUDIT_OBJECT:
    case SMB_ACE_SYSTEM_ALARM_OBJECT:
    case SMB_ACE_ACCESS_ALLOWED_CALLBACK_OBJECT:
    case SMB_ACE_ACCESS_DENIED_CALLBACK_OBJECT:
    case SMB_ACE_SYSTEM_AUDIT_CALLBACK_OBJECT:
    case SMB_ACE_SYSTEM_ALARM_CALLBACK_OBJECT:
        return 1;
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- free */

static void acl_free(smb_acl *acl)
{
    if (!acl)
        return;
    for (size_t i = 0; i < acl->count && acl->aces; i++)
        free(acl->aces[i].data);
    free(acl->aces);
    free(acl);
}

void smb_sd_free(smb_security_descriptor *sd)
{
    if (!sd)
        return;
    free(sd->owner);
    free(sd->group);
    acl_free(sd->sacl);
    acl_free(sd->dacl);
    free(sd);
}

/* ---------------------------------------------------------------- decode */

/* Why a SID did not decode. */
enum sid_fault { SID_OK, SID_SHORT, SID_TOO_MANY, SID_REVISION_BAD };

/* A SID (2.4.2.2): Revision, SubAuthorityCount, a 48-bit big-endian
 * IdentifierAuthority, then SubAuthorityCount little-endian 32-bit values. */
static enum sid_fault rd_sid(smb_rd *r, smb_sid *sid)
{
    memset(sid, 0, sizeof(*sid));
    sid->revision = smb_rd_u8(r);
    uint8_t n = smb_rd_u8(r);
    const uint8_t *auth = smb_rd_ptr(r, 6);
    if (!auth)
        return SID_SHORT;
    if (sid->revision != SID_REVISION)
        return SID_REVISION_BAD;
    if (n > SMB_SID_MAX_SUB_AUTHORITIES)
        return SID_TOO_MANY;
    for (size_t i = 0; i < 6; i++)
        sid->authority = (sid->authority << 8) | auth[i];
    sid->sub_authority_count = n;
    for (size_t i = 0; i < n; i++)
        sid->sub_authority[i] = smb_rd_u32(r);
    return smb_rd_ok(r) ? SID_OK : SID_SHORT;
}

static size_t sid_len(const smb_sid *sid) { return SID_FIXED_LEN + 4u * sid->sub_authority_count; }

static int sid_fault_err(smb_error *err, enum sid_fault f, const char *what, unsigned idx, const smb_sid *sid)
{
    char name[64];
    if (idx)
        snprintf(name, sizeof(name), "the SID of ACE %u of the %s", idx, what);
    else
        snprintf(name, sizeof(name), "the %s SID", what);
    switch (f) {
    case SID_TOO_MANY:
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "security descriptor: %s has more than %d sub-authorities", name,
                           SMB_SID_MAX_SUB_AUTHORITIES);
    case SID_REVISION_BAD:
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "security descriptor: %s has revision %u (1 expected)", name,
                           sid->revision);
    default:
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "security descriptor: %s is cut short", name);
    }
}

/* Copy the rest of r into a malloc'd ace->data (NULL when nothing is left). */
static int rd_rest(smb_rd *r, smb_ace *ace, smb_error *err)
{
    size_t n = smb_rd_left(r);
    if (!n)
        return 0;
    ace->data = malloc(n);
    if (!ace->data)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "security descriptor: out of memory");
    smb_rd_bytes(r, ace->data, n);
    ace->data_len = n;
    return 0;
}

/* One ACE (2.4.4) at a's position, inside an ACL of acl_size bytes; a moves
 * past it. idx counts from 1 for messages. */
static int rd_ace(smb_rd *a, smb_ace *ace, const char *what, unsigned idx, smb_error *err)
{
    size_t start = a->pos;
    ace->type = smb_rd_u8(a);
    ace->flags = smb_rd_u8(a);
    uint16_t size = smb_rd_u16(a);
    if (!smb_rd_ok(a))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "security descriptor: ACE %u of the %s runs past the ACL's size %zu",
                           idx, what, a->len);
    if (size < ACE_HEADER_LEN)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                           "security descriptor: ACE %u of the %s has size %u, smaller than its header", idx, what, size);
    smb_rd body = smb_rd_sub(a, start + ACE_HEADER_LEN, size - ACE_HEADER_LEN);
    if (!smb_rd_ok(a))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                           "security descriptor: ACE %u of the %s (size %u at offset %zu) runs past the ACL's size %zu",
                           idx, what, size, start, a->len);
    smb_rd_seek(a, start + size);
    if (!smb_ace_type_is_known(ace->type))
        return rd_rest(&body, ace, err); /* opaque: the whole body */

    /* 2.4.4.2 and the like: Mask, SID; 2.4.4.3 and the like: Mask, Flags,
     * ObjectType and InheritedObjectType when Flags name them, SID. */
    ace->mask = smb_rd_u32(&body);
    if (smb_ace_type_is_object(ace->type)) {
        ace->object_flags = smb_rd_u32(&body);
        if (ace->object_flags & SMB_ACE_OBJECT_TYPE_PRESENT)
            smb_rd_bytes(&body, ace->object_type.b, GUID_LEN);
        if (ace->object_flags & SMB_ACE_INHERITED_OBJECT_TYPE_PRESENT)
            smb_rd_bytes(&body, ace->inherited_object_type.b, GUID_LEN);
    }
    if (!smb_rd_ok(&body))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                           "security descriptor: ACE %u of the %s: size %u does not cover its body", idx, what, size);
    enum sid_fault f = rd_sid(&body, &ace->sid);
    if (f == SID_SHORT)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                           "security descriptor: ACE %u of the %s: size %u does not cover its SID", idx, what, size);
    if (f != SID_OK)
        return sid_fault_err(err, f, what, idx, &ace->sid);
    return rd_rest(&body, ace, err); /* application data or padding */
}

/* The ACL (2.4.5) at offset off of r's buffer; *acl_len is its AclSize. */
static int rd_acl(smb_rd *r, uint32_t off, const char *what, smb_acl **out, size_t *acl_len, smb_error *err)
{
    smb_rd h = smb_rd_sub(r, off, ACL_HEADER_LEN);
    uint8_t revision = smb_rd_u8(&h);
    smb_rd_skip(&h, 1); /* Sbz1 */
    uint16_t size = smb_rd_u16(&h);
    uint16_t count = smb_rd_u16(&h);
    smb_rd_skip(&h, 2); /* Sbz2 */
    if (!smb_rd_ok(&h))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                           "security descriptor: the %s at offset %u runs past the end of the buffer (%zu bytes)", what,
                           off, r->len);
    if (revision < SMB_ACL_REVISION || revision > SMB_ACL_REVISION_DS)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "security descriptor: the %s has revision %u (2 to 4 expected)",
                           what, revision);
    if (size < ACL_HEADER_LEN)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "security descriptor: the %s's size %u is smaller than its header",
                           what, size);
    smb_rd a = smb_rd_sub(r, off, size);
    if (!smb_rd_ok(r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                           "security descriptor: the %s (offset %u, size %u) runs past the end of the buffer (%zu bytes)",
                           what, off, size, r->len);
    if ((size_t)count * ACE_HEADER_LEN > size - ACL_HEADER_LEN)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                           "security descriptor: the %s's size %u cannot hold the %u ACEs it counts", what, size, count);
    smb_acl *acl = calloc(1, sizeof(*acl));
    if (!acl)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "security descriptor: out of memory");
    acl->revision = revision;
    if (count) {
        acl->aces = calloc(count, sizeof(*acl->aces));
        if (!acl->aces) {
            free(acl);
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "security descriptor: out of memory");
        }
    }
    acl->count = count;
    smb_rd_seek(&a, ACL_HEADER_LEN);
    for (unsigned i = 0; i < count; i++) {
        int rc = rd_ace(&a, &acl->aces[i], what, i + 1, err);
        if (rc) {
            acl_free(acl);
            return rc;
        }
    }
    *out = acl;
    *acl_len = size;
    return 0;
}

/* The owner or group SID at offset off; *len its length. */
static int rd_sid_at(smb_rd *r, uint32_t off, const char *what, smb_sid **out, size_t *len, smb_error *err)
{
    smb_sid *sid = malloc(sizeof(*sid));
    if (!sid)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "security descriptor: out of memory");
    smb_rd s = *r;
    smb_rd_seek(&s, off);
    enum sid_fault f = rd_sid(&s, sid);
    if (f != SID_OK) {
        int rc = f == SID_SHORT ? smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                                              "security descriptor: the %s SID at offset %u runs past the end of the "
                                              "buffer (%zu bytes)",
                                              what, off, r->len)
                                : sid_fault_err(err, f, what, 0, sid);
        free(sid);
        return rc;
    }
    *out = sid;
    *len = sid_len(sid);
    return 0;
}

/* A part's place in the buffer, for the overlap check. */
typedef struct sd_region {
    const char *name;
    size_t off, len;
} sd_region;

/* No part may overlap another (rd_parts checked the header). */
static int check_regions(const sd_region *reg, size_t n, smb_error *err)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (reg[i].off < reg[j].off + reg[j].len && reg[j].off < reg[i].off + reg[i].len)
                return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                                   "security descriptor: the %s (bytes %zu-%zu) overlaps the %s (bytes %zu-%zu)",
                                   reg[i].name, reg[i].off, reg[i].off + reg[i].len - 1, reg[j].name, reg[j].off,
                                   reg[j].off + reg[j].len - 1);
        }
    }
    return 0;
}

/* The parts after the header; regions filled for the overlap check. */
static int rd_parts(smb_rd *r, const uint32_t off[4], smb_security_descriptor *sd, smb_error *err)
{
    sd_region reg[4];
    size_t n = 0;
    size_t len = 0;
    int rc = 0;
    static const char *const names[4] = {"owner SID", "group SID", "SACL", "DACL"};
    for (size_t i = 0; i < 4; i++)
        if (off[i] && off[i] < SD_HEADER_LEN)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                               "security descriptor: the %s's offset %u points into the %u-byte header", names[i],
                               off[i], SD_HEADER_LEN);
    /* Each part is decoded before the next offset is looked at, so a
     * failure leaves sd holding what it owns so far (smb_sd_free frees it). */
    if (off[0]) {
        if ((rc = rd_sid_at(r, off[0], "owner", &sd->owner, &len, err)))
            return rc;
        reg[n++] = (sd_region){"owner SID", off[0], len};
    }
    if (off[1]) {
        if ((rc = rd_sid_at(r, off[1], "group", &sd->group, &len, err)))
            return rc;
        reg[n++] = (sd_region){"group SID", off[1], len};
    }
    if (off[2]) {
        if ((rc = rd_acl(r, off[2], "SACL", &sd->sacl, &len, err)))
            return rc;
        reg[n++] = (sd_region){"SACL", off[2], len};
    }
    if (off[3]) {
        if ((rc = rd_acl(r, off[3], "DACL", &sd->dacl, &len, err)))
            return rc;
        reg[n++] = (sd_region){"DACL", off[3], len};
    }
    return check_regions(reg, n, err);
}

int smb_sd_decode(const uint8_t *buf, size_t len, smb_security_descriptor **out, smb_error *err)
{
    if (!out)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: no place for the result");
    *out = NULL;
    smb_rd r;
    smb_rd_init(&r, buf, len);
    uint8_t revision = smb_rd_u8(&r);
    uint8_t rm_control = smb_rd_u8(&r);
    uint16_t control = smb_rd_u16(&r);
    uint32_t off[4]; /* OffsetOwner, OffsetGroup, OffsetSacl, OffsetDacl */
    for (size_t i = 0; i < 4; i++)
        off[i] = smb_rd_u32(&r);
    if (!smb_rd_ok(&r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                           "security descriptor: %zu bytes, shorter than the %u-byte header", len, SD_HEADER_LEN);
    if (revision != SD_REVISION)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "security descriptor: revision %u (1 expected)", revision);
    if (!(control & SMB_SE_SELF_RELATIVE))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                           "security descriptor: control 0x%04x lacks SE_SELF_RELATIVE (absolute form has pointers, "
                           "not offsets)",
                           control);
    smb_security_descriptor *sd = calloc(1, sizeof(*sd));
    if (!sd)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "security descriptor: out of memory");
    sd->revision = revision;
    sd->rm_control = rm_control;
    sd->control = control;
    int rc = rd_parts(&r, off, sd, err);
    if (rc) {
        smb_sd_free(sd);
        return rc;
    }
    *out = sd;
    return 0;
}

/* ---------------------------------------------------------------- encode */

static int check_sid(const smb_sid *sid, smb_error *err)
{
    if (sid->revision != SID_REVISION)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: a SID of revision %u (1 expected)",
                           sid->revision);
    if (sid->sub_authority_count > SMB_SID_MAX_SUB_AUTHORITIES)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: a SID with %u sub-authorities (at most %d)",
                           sid->sub_authority_count, SMB_SID_MAX_SUB_AUTHORITIES);
    if (sid->authority >> 48)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: a SID authority over 48 bits");
    return 0;
}

static void wr_sid(smb_wr *w, const smb_sid *sid)
{
    smb_wr_u8(w, sid->revision);
    smb_wr_u8(w, sid->sub_authority_count);
    smb_wr_be16(w, (uint16_t)(sid->authority >> 32));
    smb_wr_be32(w, (uint32_t)sid->authority);
    for (size_t i = 0; i < sid->sub_authority_count; i++)
        smb_wr_u32(w, sid->sub_authority[i]);
}

/* An ACE's AceSize, or 0 with err set when it cannot be written. */
static size_t ace_size(const smb_ace *ace, smb_error *err)
{
    size_t n = ACE_HEADER_LEN;
    if (smb_ace_type_is_known(ace->type)) {
        if (check_sid(&ace->sid, err))
            return 0;
        n += 4 + sid_len(&ace->sid);
        if (smb_ace_type_is_object(ace->type)) {
            n += 4;
            if (ace->object_flags & SMB_ACE_OBJECT_TYPE_PRESENT)
                n += GUID_LEN;
            if (ace->object_flags & SMB_ACE_INHERITED_OBJECT_TYPE_PRESENT)
                n += GUID_LEN;
        }
    }
    if (ace->data_len && !ace->data) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: an ACE with %zu bytes of data but no data",
                    ace->data_len);
        return 0;
    }
    if (ace->data_len > UINT16_MAX - n) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: an ACE over 65535 bytes");
        return 0;
    }
    return n + ace->data_len;
}

static void wr_ace(smb_wr *w, const smb_ace *ace, size_t size)
{
    smb_wr_u8(w, ace->type);
    smb_wr_u8(w, ace->flags);
    smb_wr_u16(w, (uint16_t)size);
    if (smb_ace_type_is_known(ace->type)) {
        smb_wr_u32(w, ace->mask);
        if (smb_ace_type_is_object(ace->type)) {
            smb_wr_u32(w, ace->object_flags);
            if (ace->object_flags & SMB_ACE_OBJECT_TYPE_PRESENT)
                smb_wr_bytes(w, ace->object_type.b, GUID_LEN);
            if (ace->object_flags & SMB_ACE_INHERITED_OBJECT_TYPE_PRESENT)
                smb_wr_bytes(w, ace->inherited_object_type.b, GUID_LEN);
        }
        wr_sid(w, &ace->sid);
    }
    if (ace->data_len)
        smb_wr_bytes(w, ace->data, ace->data_len);
}

/* The ACL (2.4.5), its AclSize exactly its header and ACEs. */
static int wr_acl(smb_wr *w, const smb_acl *acl, smb_error *err)
{
    if (acl->revision < SMB_ACL_REVISION || acl->revision > SMB_ACL_REVISION_DS)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: an ACL of revision %u (2 to 4 expected)",
                           acl->revision);
    if (acl->count && !acl->aces)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: an ACL of %u ACEs without ACEs",
                           acl->count);
    size_t total = ACL_HEADER_LEN;
    for (size_t i = 0; i < acl->count; i++) {
        size_t n = ace_size(&acl->aces[i], err);
        if (!n)
            return SMB_ERR_INVALID_ARG;
        total += n;
    }
    if (total > UINT16_MAX)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: an ACL of %zu bytes (at most 65535)",
                           total);
    smb_wr_u8(w, acl->revision);
    smb_wr_u8(w, 0); /* Sbz1 */
    smb_wr_u16(w, (uint16_t)total);
    smb_wr_u16(w, acl->count);
    smb_wr_u16(w, 0); /* Sbz2 */
    for (size_t i = 0; i < acl->count; i++)
        wr_ace(w, &acl->aces[i], ace_size(&acl->aces[i], NULL));
    return 0;
}

/* Patch the offset at pos with where the part about to be written starts. */
static void wr_offset_here(smb_wr *w, size_t pos)
{
    if (w->len > UINT32_MAX)
        w->err = true;
    else
        smb_wr_put_u32(w, pos, (uint32_t)w->len);
}

/* The parts, in Windows' order: SACL, DACL, owner, group. */
static int wr_parts(smb_wr *w, const smb_security_descriptor *sd, smb_error *err)
{
    int rc = 0;
    if (sd->sacl) {
        wr_offset_here(w, 12);
        if ((rc = wr_acl(w, sd->sacl, err)))
            return rc;
    }
    if (sd->dacl) {
        wr_offset_here(w, 16);
        if ((rc = wr_acl(w, sd->dacl, err)))
            return rc;
    }
    if (sd->owner) {
        if ((rc = check_sid(sd->owner, err)))
            return rc;
        wr_offset_here(w, 4);
        wr_sid(w, sd->owner);
    }
    if (sd->group) {
        if ((rc = check_sid(sd->group, err)))
            return rc;
        wr_offset_here(w, 8);
        wr_sid(w, sd->group);
    }
    return 0;
}

int smb_sd_encode(const smb_security_descriptor *sd, uint8_t **out, size_t *out_len, smb_error *err)
{
    if (!out || !out_len)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: no place for the result");
    *out = NULL;
    *out_len = 0;
    if (!sd)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: none to encode");
    if (sd->revision != SD_REVISION)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor: revision %u (1 expected)", sd->revision);
    smb_wr w;
    smb_wr_init_grow(&w, 256);
    smb_wr_u8(&w, sd->revision);
    smb_wr_u8(&w, sd->rm_control);
    smb_wr_u16(&w, (uint16_t)(sd->control | SMB_SE_SELF_RELATIVE));
    smb_wr_zero(&w, 16); /* the offsets, patched as each part is written; 0 for an absent one */
    int rc = wr_parts(&w, sd, err);
    if (!rc && !smb_wr_ok(&w))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "security descriptor: out of memory");
    if (rc) {
        smb_wr_free(&w);
        return rc;
    }
    *out = w.buf;
    *out_len = w.len;
    return 0;
}

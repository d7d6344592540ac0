/*
 * Windows security descriptors (MS-DTYP 2.4): typed structures, the binary
 * self-relative form a server returns for QUERY_INFO with
 * SMB_INFO_SECURITY and takes in SET_INFO, and the SDDL text form
 * (MS-DTYP 2.5.1).
 *
 * Ownership: a smb_security_descriptor owns everything it points to. Each
 * pointer in it (owner, group, sacl, dacl, an ACL's aces, an ACE's data) is
 * NULL or its own malloc'd block, and smb_sd_free() frees them all; a
 * caller building a descriptor by hand allocates with malloc/calloc too.
 * Inputs are borrowed for the call. Errors follow smb.h: 0 or a negative
 * SMB_ERR_* code, with the caller's smb_error filled when one is passed.
 */
#ifndef SMBCOPY_SECURITY_H
#define SMBCOPY_SECURITY_H

#include <stddef.h>
#include <stdint.h>

#include <smbcopy/api.h>
#include <smbcopy/smb.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- SIDs */

/** Most sub-authorities a SID may have (MS-DTYP 2.4.2). */
#define SMB_SID_MAX_SUB_AUTHORITIES 15
/** Room for any SID's string form, NUL included ("S-255-0x...-" + 15 × 10 digits). */
#define SMB_SID_STRING_MAX 200

/** A security identifier (MS-DTYP 2.4.2.2). */
typedef struct smb_sid {
    uint8_t revision;                                      /**< 1 for every SID in use */
    uint8_t sub_authority_count;                           /**< 0..15 */
    uint64_t authority;                                    /**< IdentifierAuthority, 48 bits */
    uint32_t sub_authority[SMB_SID_MAX_SUB_AUTHORITIES];   /**< the first sub_authority_count are used */
} smb_sid;

/**
 * Write sid's string form ("S-1-5-21-1-2-3-500", MS-DTYP 2.4.2.1; an
 * authority of 2^32 or more in hex, "0x" and 12 digits) into buf (len bytes,
 * NUL included; SMB_SID_STRING_MAX always fits). Returns 0, or
 * SMB_ERR_INVALID_ARG when sid has more than 15 sub-authorities, an
 * authority over 48 bits, or buf is too small (buf then holds "" when len > 0).
 */
SMBCOPY_API int smb_sid_to_string(const smb_sid *sid, char *buf, size_t len);
/**
 * Parse a SID string ("S-1-5-32-544"; authority in decimal up to 2^32-1 or
 * "0x" hex up to 48 bits; sub-authorities in decimal, each up to 2^32-1; 0 to
 * 15 of them) into *sid. Returns 0, or SMB_ERR_INVALID_ARG for anything else
 * (*sid is then zeroed). Aliases such as "BA" are SDDL's: see
 * smb_sd_from_sddl().
 */
SMBCOPY_API int smb_sid_from_string(const char *s, smb_sid *sid);

/* ---------------------------------------------------------------- ACEs */

/** ACE types (MS-DTYP 2.4.4.1 ACE_HEADER AceType). */
enum smb_ace_type {
    SMB_ACE_ACCESS_ALLOWED = 0x00,
    SMB_ACE_ACCESS_DENIED = 0x01,
    SMB_ACE_SYSTEM_AUDIT = 0x02,
    SMB_ACE_SYSTEM_ALARM = 0x03,
    SMB_ACE_ACCESS_ALLOWED_COMPOUND = 0x04, /**< reserved: kept as opaque data */
    SMB_ACE_ACCESS_ALLOWED_OBJECT = 0x05,
    SMB_ACE_ACCESS_DENIED_OBJECT = 0x06,
    SMB_ACE_SYSTEM_AUDIT_OBJECT = 0x07,
    SMB_ACE_SYSTEM_ALARM_OBJECT = 0x08,
    SMB_ACE_ACCESS_ALLOWED_CALLBACK = 0x09,
    SMB_ACE_ACCESS_DENIED_CALLBACK = 0x0A,
    SMB_ACE_ACCESS_ALLOWED_CALLBACK_OBJECT = 0x0B,
    SMB_ACE_ACCESS_DENIED_CALLBACK_OBJECT = 0x0C,
    SMB_ACE_SYSTEM_AUDIT_CALLBACK = 0x0D,
    SMB_ACE_SYSTEM_ALARM_CALLBACK = 0x0E,
    SMB_ACE_SYSTEM_AUDIT_CALLBACK_OBJECT = 0x0F,
    SMB_ACE_SYSTEM_ALARM_CALLBACK_OBJECT = 0x10,
    SMB_ACE_SYSTEM_MANDATORY_LABEL = 0x11,
    SMB_ACE_SYSTEM_RESOURCE_ATTRIBUTE = 0x12,
    SMB_ACE_SYSTEM_SCOPED_POLICY_ID = 0x13,
};

/** ACE flags (MS-DTYP 2.4.4.1 AceFlags). */
#define SMB_ACE_OBJECT_INHERIT 0x01
#define SMB_ACE_CONTAINER_INHERIT 0x02
#define SMB_ACE_NO_PROPAGATE_INHERIT 0x04
#define SMB_ACE_INHERIT_ONLY 0x08
#define SMB_ACE_INHERITED 0x10
#define SMB_ACE_CRITICAL 0x20
#define SMB_ACE_SUCCESSFUL_ACCESS 0x40
#define SMB_ACE_FAILED_ACCESS 0x80

/** Object ACE Flags (MS-DTYP 2.4.4.3): which GUIDs the ACE carries. */
#define SMB_ACE_OBJECT_TYPE_PRESENT 0x1
#define SMB_ACE_INHERITED_OBJECT_TYPE_PRESENT 0x2

/** A GUID as its 16 bytes on the wire (MS-DTYP 2.3.4.2: Data1..3 little-endian). */
typedef struct smb_guid {
    uint8_t b[16];
} smb_guid;

/**
 * One access control entry (MS-DTYP 2.4.4).
 *
 * Every type from 0x00 to 0x13 except 0x04 has a mask and a SID after its
 * header; the object types (0x05-0x08, 0x0B, 0x0C, 0x0F, 0x10) have Flags and
 * the GUIDs those flags name between the mask and the SID. Whatever the ACE's
 * size holds after the SID (a callback ACE's application data, a resource
 * attribute, padding) is kept in data. Any other type (0x04, above 0x13) is
 * opaque: data holds its whole body after the 4-byte header, and mask, sid
 * and the object fields are unused. Either way an ACE is written back byte for
 * byte.
 */
typedef struct smb_ace {
    uint8_t type;                   /**< an smb_ace_type */
    uint8_t flags;                  /**< SMB_ACE_* flags */
    uint32_t mask;                  /**< ACCESS_MASK (MS-DTYP 2.4.3) */
    uint32_t object_flags;          /**< object ACEs: SMB_ACE_*_TYPE_PRESENT */
    smb_guid object_type;           /**< object ACEs with SMB_ACE_OBJECT_TYPE_PRESENT */
    smb_guid inherited_object_type; /**< object ACEs with SMB_ACE_INHERITED_OBJECT_TYPE_PRESENT */
    smb_sid sid;                    /**< the trustee */
    uint8_t *data;                  /**< malloc'd bytes after the SID (or an opaque body), NULL when none */
    size_t data_len;                /**< bytes in data */
} smb_ace;

/** True for the types with object GUID fields (MS-DTYP 2.4.4.3 and the like). */
SMBCOPY_API int smb_ace_type_is_object(uint8_t type);
/** True for the types this library reads as mask + (object fields) + SID: 0x00-0x13 but 0x04. */
SMBCOPY_API int smb_ace_type_is_known(uint8_t type);

/* ---------------------------------------------------------------- ACLs */

/** ACL revisions (MS-DTYP 2.4.5): 4 when any ACE is an object ACE. */
#define SMB_ACL_REVISION 2
#define SMB_ACL_REVISION_DS 4

/** An access control list (MS-DTYP 2.4.5). */
typedef struct smb_acl {
    uint8_t revision; /**< SMB_ACL_REVISION or SMB_ACL_REVISION_DS (3 is read too) */
    uint16_t count;   /**< ACEs in aces */
    smb_ace *aces;    /**< malloc'd array of count ACEs, NULL when count is 0 */
} smb_acl;

/* ---------------------------------------------------------------- descriptors */

/** SECURITY_DESCRIPTOR Control (MS-DTYP 2.4.6). */
#define SMB_SE_OWNER_DEFAULTED 0x0001
#define SMB_SE_GROUP_DEFAULTED 0x0002
#define SMB_SE_DACL_PRESENT 0x0004
#define SMB_SE_DACL_DEFAULTED 0x0008
#define SMB_SE_SACL_PRESENT 0x0010
#define SMB_SE_SACL_DEFAULTED 0x0020
#define SMB_SE_DACL_TRUSTED 0x0040
#define SMB_SE_SERVER_SECURITY 0x0080
#define SMB_SE_DACL_AUTO_INHERIT_REQ 0x0100
#define SMB_SE_SACL_AUTO_INHERIT_REQ 0x0200
#define SMB_SE_DACL_AUTO_INHERITED 0x0400
#define SMB_SE_SACL_AUTO_INHERITED 0x0800
#define SMB_SE_DACL_PROTECTED 0x1000
#define SMB_SE_SACL_PROTECTED 0x2000
#define SMB_SE_RM_CONTROL_VALID 0x4000
#define SMB_SE_SELF_RELATIVE 0x8000

/**
 * A security descriptor (MS-DTYP 2.4.6).
 *
 * A DACL that is present but NULL (everyone has every right) is control
 * with SMB_SE_DACL_PRESENT and dacl NULL; an absent DACL is control without
 * it (dacl NULL too). Likewise the SACL with SMB_SE_SACL_PRESENT.
 */
typedef struct smb_security_descriptor {
    uint8_t revision;   /**< 1 */
    uint8_t rm_control; /**< Sbz1: resource manager bits, meaningful with SMB_SE_RM_CONTROL_VALID */
    uint16_t control;   /**< SMB_SE_* flags */
    smb_sid *owner;     /**< malloc'd, NULL when absent */
    smb_sid *group;     /**< malloc'd, NULL when absent */
    smb_acl *sacl;      /**< malloc'd, NULL when absent or NULL */
    smb_acl *dacl;      /**< malloc'd, NULL when absent or NULL */
} smb_security_descriptor;

/**
 * Decode a self-relative security descriptor (MS-DTYP 2.4.6) from
 * buf[0..len), as a server sends it. Every offset, size and count is checked:
 * a part out of the buffer or overlapping another or the header, an ACL
 * whose size does not hold its ACEs, an ACE whose size does not hold its
 * body, a SID of more than 15 sub-authorities, a descriptor without
 * SE_SELF_RELATIVE or of a revision other than 1 give SMB_ERR_PROTOCOL with a
 * message naming the field. Bytes after the last part are ignored. On
 * success *out is the caller's, freed with smb_sd_free(); on failure *out is
 * NULL.
 */
SMBCOPY_API int smb_sd_decode(const uint8_t *buf, size_t len, smb_security_descriptor **out, smb_error *err);
/**
 * Encode sd in self-relative form into a malloc'd buffer (*out, *out_len
 * bytes; the caller frees it with free()). The parts follow the header in
 * the order Windows writes them (RtlMakeSelfRelativeSD, and the example of
 * MS-DTYP 2.5.1.4): SACL, DACL, owner, group; each ACL's size is its header
 * and ACEs exactly. SMB_SE_SELF_RELATIVE is set in the control written,
 * every other bit is written as given. SMB_ERR_INVALID_ARG for a SID of
 * more than 15 sub-authorities or an authority over 48 bits, an ACE or ACL
 * over 65535 bytes; on failure *out is NULL.
 */
SMBCOPY_API int smb_sd_encode(const smb_security_descriptor *sd, uint8_t **out, size_t *out_len, smb_error *err);
/** Free sd and everything it owns; NULL is ignored. */
SMBCOPY_API void smb_sd_free(smb_security_descriptor *sd);

/**
 * Whether got (a descriptor read back after sent was set with the parts
 * `parts`, SMB_SECINFO_*) keeps what sent says for those parts: the same
 * owner and group; for each ACL sent says is present, the same NULL-ness,
 * the same protection flag, and the same explicit (not inherited) entries in
 * the same order. Differences a server may make without changing what the
 * descriptor says are not losses: generic rights stored as the file rights
 * they map to (MS-DTYP 2.4.3), inherited entries recomputed from the parent
 * (MS-DTYP 2.5.3.4), a NULL DACL stored as one entry giving Everyone every
 * right, parts not in `parts`. Returns 1 when kept; 0 when not, why
 * (why_len bytes, may be NULL) saying what differs in one phrase ("the
 * owner S-1-5-21-1-2-3-1001 became S-1-22-1-0"); SMB_ERR_PROTOCOL when
 * either does not decode (err says which).
 */
SMBCOPY_API int smb_sd_kept(const uint8_t *sent, size_t sent_len, const uint8_t *got, size_t got_len, uint32_t parts,
                            char *why, size_t why_len, smb_error *err);

/* ---------------------------------------------------------------- SDDL */

/**
 * sd in SDDL (MS-DTYP 2.5.1), as Windows writes it: "O:" owner, "G:" group,
 * "D:" DACL, "S:" SACL, each when present; the flags P, AR, AI of each ACL
 * and NO_ACCESS_CONTROL for a NULL one; each ACE as
 * "(type;flags;rights;object_guid;inherit_object_guid;sid)". SIDs with an
 * alias of their own ("BA", "SY", "WD", ...) are written as the alias
 * (domain-relative aliases such as "DA" never: the domain is unknown here);
 * rights as one of FA FR FW FX KA KR KW KX when the mask is exactly that, else
 * as the concatenation of single-bit aliases (NR NW NX for mandatory labels)
 * when each set bit has one, else as "0x..." hex. Control bits SDDL cannot
 * say (OWNER_DEFAULTED and the like) and an ACE's padding are left out.
 * SMB_ERR_UNSUPPORTED for an ACE SDDL cannot say without the conditional
 * expression language (callback types, resource attributes, opaque types,
 * ACE flags without an alias). On success *out is a malloc'd string the
 * caller frees with free(); on failure NULL.
 */
SMBCOPY_API int smb_sd_to_sddl(const smb_security_descriptor *sd, char **out, smb_error *err);
/**
 * Parse SDDL (the form smb_sd_to_sddl writes; parts in any order, each at
 * most once; rights as aliases, "0x" hex, octal or decimal; SIDs as "S-..."
 * or a well-known alias). The result is self-relative with revision 1,
 * DACL_PRESENT / SACL_PRESENT for each "D:" / "S:", ACL revision 4 when an
 * ACL has an object ACE and 2 otherwise. An unknown alias, a
 * domain-relative one, a malformed ACE or GUID, or anything left over give
 * SMB_ERR_INVALID_ARG naming the place. On success *out is the caller's,
 * freed with smb_sd_free(); on failure NULL.
 */
SMBCOPY_API int smb_sd_from_sddl(const char *sddl, smb_security_descriptor **out, smb_error *err);

#ifdef __cplusplus
}
#endif

#endif

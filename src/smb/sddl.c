/*
 * SDDL, the text form of a security descriptor (MS-DTYP 2.5.1): written the
 * way Windows' ConvertSecurityDescriptorToStringSecurityDescriptor writes
 * it, read per the grammar of 2.5.1.1 (without conditional ACEs and resource
 * attributes, 2.5.1.2 and 2.5.1.3).
 */
#include <smbcopy/security.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/error.h"
#include "common/hex.h"
#include "common/wire.h"

/* ---------------------------------------------------------------- tables */

/* The well-known SIDs of the sid-token rule of 2.5.1.1 that do not depend
 * on a domain. */
typedef struct sid_alias {
    char name[3];
    const char *sid;
} sid_alias;

static const sid_alias k_sid_aliases[] = {
    {"WD", "S-1-1-0"},       {"CO", "S-1-3-0"},         {"CG", "S-1-3-1"},         {"OW", "S-1-3-4"},
    {"NU", "S-1-5-2"},       {"IU", "S-1-5-4"},         {"SU", "S-1-5-6"},         {"AN", "S-1-5-7"},
    {"ED", "S-1-5-9"},       {"PS", "S-1-5-10"},        {"AU", "S-1-5-11"},        {"RC", "S-1-5-12"},
    {"SY", "S-1-5-18"},      {"LS", "S-1-5-19"},        {"NS", "S-1-5-20"},        {"WR", "S-1-5-33"},
    {"BA", "S-1-5-32-544"},  {"BU", "S-1-5-32-545"},    {"BG", "S-1-5-32-546"},    {"PU", "S-1-5-32-547"},
    {"AO", "S-1-5-32-548"},  {"SO", "S-1-5-32-549"},    {"PO", "S-1-5-32-550"},    {"BO", "S-1-5-32-551"},
    {"RE", "S-1-5-32-552"},  {"RU", "S-1-5-32-554"},    {"RD", "S-1-5-32-555"},    {"NO", "S-1-5-32-556"},
    {"MU", "S-1-5-32-558"},  {"LU", "S-1-5-32-559"},    {"IS", "S-1-5-32-568"},    {"CY", "S-1-5-32-569"},
    {"ER", "S-1-5-32-573"},  {"CD", "S-1-5-32-574"},    {"RA", "S-1-5-32-575"},    {"ES", "S-1-5-32-576"},
    {"MS", "S-1-5-32-577"},  {"HA", "S-1-5-32-578"},    {"AA", "S-1-5-32-579"},    {"RM", "S-1-5-32-580"},
    {"UD", "S-1-5-84-0-0-0-0-0"}, {"AC", "S-1-15-2-1"}, {"LW", "S-1-16-4096"},     {"ME", "S-1-16-8192"},
    {"MP", "S-1-16-8448"},   {"HI", "S-1-16-12288"},    {"SI", "S-1-16-16384"},    {"AS", "S-1-18-1"},
    {"SS", "S-1-18-2"},
};

/* Aliases of SIDs in the machine's or the domain's space (DA is
 * <domain>-512 and so on): without the domain SID they cannot be read. */
static const char k_domain_aliases[][3] = {"DA", "DG", "DU", "DD", "DC", "LA", "LG", "SA", "CA",
                                           "RS", "EA", "PA", "RO", "CN", "AP", "KA", "EK"};

typedef struct name_value {
    char name[3];
    uint32_t value;
} name_value;

/* ace-type of 2.5.1.1 (those with an ACE_HEADER type of their own). */
static const name_value k_ace_types[] = {
    {"A", SMB_ACE_ACCESS_ALLOWED},         {"D", SMB_ACE_ACCESS_DENIED},
    {"AU", SMB_ACE_SYSTEM_AUDIT},          {"AL", SMB_ACE_SYSTEM_ALARM},
    {"OA", SMB_ACE_ACCESS_ALLOWED_OBJECT}, {"OD", SMB_ACE_ACCESS_DENIED_OBJECT},
    {"OU", SMB_ACE_SYSTEM_AUDIT_OBJECT},   {"OL", SMB_ACE_SYSTEM_ALARM_OBJECT},
    {"ML", SMB_ACE_SYSTEM_MANDATORY_LABEL}, {"SP", SMB_ACE_SYSTEM_SCOPED_POLICY_ID},
};
/* conditional-ace-type and resource-attribute-ace (2.5.1.2, 2.5.1.3): not read or written here. */
static const char k_conditional_types[][3] = {"XA", "XD", "ZA", "XU", "RA"};

/* ace-flag, in the order Windows writes them. */
static const name_value k_ace_flags[] = {
    {"OI", SMB_ACE_OBJECT_INHERIT}, {"CI", SMB_ACE_CONTAINER_INHERIT}, {"NP", SMB_ACE_NO_PROPAGATE_INHERIT},
    {"IO", SMB_ACE_INHERIT_ONLY},   {"ID", SMB_ACE_INHERITED},         {"CR", SMB_ACE_CRITICAL},
    {"SA", SMB_ACE_SUCCESSFUL_ACCESS}, {"FA", SMB_ACE_FAILED_ACCESS},
};

/* Rights that name a whole mask (file and registry rights, 2.5.1.1 and
 * MS-DTYP 2.4.3): written only for exactly that mask (KX equals KR). */
static const name_value k_rights_whole[] = {
    {"FA", 0x001F01FF}, {"FR", 0x00120089}, {"FW", 0x00120116}, {"FX", 0x001200A0},
    {"KA", 0x000F003F}, {"KR", 0x00020019}, {"KW", 0x00020006}, {"KX", 0x00020019},
};
/* Rights of one bit each, in increasing bit order as Windows writes them. */
static const name_value k_rights_bits[] = {
    {"CC", 0x00000001}, {"DC", 0x00000002}, {"LC", 0x00000004}, {"SW", 0x00000008}, {"RP", 0x00000010},
    {"WP", 0x00000020}, {"DT", 0x00000040}, {"LO", 0x00000080}, {"CR", 0x00000100}, {"SD", 0x00010000},
    {"RC", 0x00020000}, {"WD", 0x00040000}, {"WO", 0x00080000}, {"GA", 0x10000000}, {"GX", 0x20000000},
    {"GW", 0x40000000}, {"GR", 0x80000000},
};
/* A mandatory label's rights (SYSTEM_MANDATORY_LABEL_ACE, 2.4.4.13). */
static const name_value k_rights_label[] = {{"NW", 0x1}, {"NR", 0x2}, {"NX", 0x4}};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The entry of table named by the n characters at s, or NULL. */
static const name_value *find_name(const name_value *table, size_t count, const char *s, size_t n)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(table[i].name) == n && memcmp(table[i].name, s, n) == 0)
            return &table[i];
    return NULL;
}

static int in_names(const char (*names)[3], size_t count, const char *s)
{
    for (size_t i = 0; i < count; i++)
        if (memcmp(names[i], s, 2) == 0)
            return 1;
    return 0;
}

/* ---------------------------------------------------------------- writing */

static void put_str(smb_wr *w, const char *s) { smb_wr_bytes(w, s, strlen(s)); }

static int put_sid(smb_wr *w, const smb_sid *sid, smb_error *err)
{
    char buf[SMB_SID_STRING_MAX];
    if (smb_sid_to_string(sid, buf, sizeof(buf)))
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "SDDL: a SID with more than 15 sub-authorities or a too large authority");
    for (size_t i = 0; i < N_OF(k_sid_aliases); i++) {
        if (strcmp(buf, k_sid_aliases[i].sid) == 0) {
            put_str(w, k_sid_aliases[i].name);
            return 0;
        }
    }
    put_str(w, buf);
    return 0;
}

static void put_rights(smb_wr *w, uint8_t type, uint32_t mask)
{
    if (!mask)
        return;
    for (size_t i = 0; i < N_OF(k_rights_whole); i++) {
        if (mask == k_rights_whole[i].value) {
            put_str(w, k_rights_whole[i].name);
            return;
        }
    }
    const name_value *low = type == SMB_ACE_SYSTEM_MANDATORY_LABEL ? k_rights_label : k_rights_bits;
    size_t n_low = type == SMB_ACE_SYSTEM_MANDATORY_LABEL ? N_OF(k_rights_label) : 3;
    uint32_t covered = 0;
    for (size_t i = 0; i < n_low; i++)
        covered |= low[i].value;
    for (size_t i = 3; i < N_OF(k_rights_bits); i++)
        covered |= k_rights_bits[i].value;
    if (mask & ~covered) {
        char hex[16];
        snprintf(hex, sizeof(hex), "0x%x", mask);
        put_str(w, hex);
        return;
    }
    for (size_t i = 0; i < n_low; i++)
        if (mask & low[i].value)
            put_str(w, low[i].name);
    for (size_t i = 3; i < N_OF(k_rights_bits); i++)
        if (mask & k_rights_bits[i].value)
            put_str(w, k_rights_bits[i].name);
}

/* A GUID as 2.3.4.3 writes it: Data1, Data2, Data3 little-endian on the wire. */
static void put_guid(smb_wr *w, const smb_guid *g)
{
    const uint8_t *b = g->b;
    char s[40];
    snprintf(s, sizeof(s), "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", smb_le32(b), smb_le16(b + 4),
             smb_le16(b + 6), b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    put_str(w, s);
}

static const char *ace_type_name(uint8_t type)
{
    for (size_t i = 0; i < N_OF(k_ace_types); i++)
        if (k_ace_types[i].value == type)
            return k_ace_types[i].name;
    return NULL;
}

/* "(type;flags;rights;object_guid;inherit_object_guid;sid)" (2.5.1.1 ace). */
static int put_ace(smb_wr *w, const smb_ace *ace, const char *acl, size_t idx, smb_error *err)
{
    const char *type = ace_type_name(ace->type);
    if (!type)
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, 0,
                           "SDDL: ACE %zu of the %s is of type 0x%02x, which SDDL without conditional expressions "
                           "cannot write",
                           idx, acl, ace->type);
    uint32_t known = 0;
    for (size_t i = 0; i < N_OF(k_ace_flags); i++)
        known |= k_ace_flags[i].value;
    if (ace->flags & ~known)
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "SDDL: ACE %zu of the %s has flags 0x%02x without an alias",
                           idx, acl, ace->flags);
    smb_wr_u8(w, '(');
    put_str(w, type);
    smb_wr_u8(w, ';');
    for (size_t i = 0; i < N_OF(k_ace_flags); i++)
        if (ace->flags & k_ace_flags[i].value)
            put_str(w, k_ace_flags[i].name);
    smb_wr_u8(w, ';');
    put_rights(w, ace->type, ace->mask);
    smb_wr_u8(w, ';');
    int object = smb_ace_type_is_object(ace->type);
    if (object && (ace->object_flags & SMB_ACE_OBJECT_TYPE_PRESENT))
        put_guid(w, &ace->object_type);
    smb_wr_u8(w, ';');
    if (object && (ace->object_flags & SMB_ACE_INHERITED_OBJECT_TYPE_PRESENT))
        put_guid(w, &ace->inherited_object_type);
    smb_wr_u8(w, ';');
    int rc = put_sid(w, &ace->sid, err);
    smb_wr_u8(w, ')');
    return rc;
}

/* "D:" or "S:", the ACL's flags, NO_ACCESS_CONTROL or its ACEs. */
static int put_acl(smb_wr *w, const char *tag, const smb_acl *acl, uint16_t control, const uint16_t bits[3],
                   smb_error *err)
{
    static const char *const flag_names[3] = {"P", "AR", "AI"};
    put_str(w, tag);
    for (size_t i = 0; i < 3; i++)
        if (control & bits[i])
            put_str(w, flag_names[i]);
    if (!acl) {
        put_str(w, "NO_ACCESS_CONTROL");
        return 0;
    }
    if (acl->count && !acl->aces)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "SDDL: an ACL of %u ACEs without ACEs", acl->count);
    for (size_t i = 0; i < acl->count; i++) {
        int rc = put_ace(w, &acl->aces[i], tag[0] == 'D' ? "DACL" : "SACL", i + 1, err);
        if (rc)
            return rc;
    }
    return 0;
}

static int put_sd(smb_wr *w, const smb_security_descriptor *sd, smb_error *err)
{
    static const uint16_t dacl_bits[3] = {SMB_SE_DACL_PROTECTED, SMB_SE_DACL_AUTO_INHERIT_REQ,
                                          SMB_SE_DACL_AUTO_INHERITED};
    static const uint16_t sacl_bits[3] = {SMB_SE_SACL_PROTECTED, SMB_SE_SACL_AUTO_INHERIT_REQ,
                                          SMB_SE_SACL_AUTO_INHERITED};
    int rc = 0;
    if (sd->owner) {
        put_str(w, "O:");
        if ((rc = put_sid(w, sd->owner, err)))
            return rc;
    }
    if (sd->group) {
        put_str(w, "G:");
        if ((rc = put_sid(w, sd->group, err)))
            return rc;
    }
    if (sd->dacl || (sd->control & SMB_SE_DACL_PRESENT))
        if ((rc = put_acl(w, "D:", sd->dacl, sd->control, dacl_bits, err)))
            return rc;
    if (sd->sacl || (sd->control & SMB_SE_SACL_PRESENT))
        rc = put_acl(w, "S:", sd->sacl, sd->control, sacl_bits, err);
    return rc;
}

int smb_sd_to_sddl(const smb_security_descriptor *sd, char **out, smb_error *err)
{
    if (!out)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "SDDL: no place for the result");
    *out = NULL;
    if (!sd)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "SDDL: no security descriptor");
    smb_wr w;
    smb_wr_init_grow(&w, 128);
    int rc = put_sd(&w, sd, err);
    smb_wr_u8(&w, '\0');
    if (!rc && !smb_wr_ok(&w))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "SDDL: out of memory");
    if (rc) {
        smb_wr_free(&w);
        return rc;
    }
    *out = (char *)w.buf;
    return 0;
}

/* ---------------------------------------------------------------- reading */

/* The parser's place in the string. */
typedef struct sddl_in {
    const char *s;   /* the whole string */
    size_t pos;      /* next character */
    smb_error *err;
} sddl_in;

static int bad(sddl_in *in, size_t at, const char *what, const char *tok, size_t tok_len)
{
    if (tok_len > 40)
        tok_len = 40;
    return smb_err_set(in->err, SMB_ERR_INVALID_ARG, 0, "SDDL: %s '%.*s' at offset %zu", what, (int)tok_len, tok, at);
}

/* A SID field: an alias of two letters or an "S-..." string, the n
 * characters at tok. */
static int read_sid(sddl_in *in, size_t at, const char *tok, size_t n, smb_sid *sid)
{
    if (n == 2 && tok[1] != '-') {
        for (size_t i = 0; i < N_OF(k_sid_aliases); i++)
            if (memcmp(k_sid_aliases[i].name, tok, 2) == 0)
                return smb_sid_from_string(k_sid_aliases[i].sid, sid) ? bad(in, at, "bad SID", tok, n) : 0;
        if (in_names(k_domain_aliases, N_OF(k_domain_aliases), tok))
            return bad(in, at, "SID alias relative to a domain (give the SID itself)", tok, n);
        return bad(in, at, "unknown SID alias", tok, n);
    }
    char buf[SMB_SID_STRING_MAX];
    if (n >= sizeof(buf))
        return bad(in, at, "bad SID", tok, n);
    memcpy(buf, tok, n);
    buf[n] = '\0';
    if (smb_sid_from_string(buf, sid))
        return n == 2 ? bad(in, at, "unknown SID alias", tok, n) : bad(in, at, "bad SID", tok, n);
    return 0;
}

/* The SID after "O:" or "G:": ends at the next part's tag ("G:", "D:",
 * "S:"), or at the end. */
static int read_part_sid(sddl_in *in, smb_sid **out)
{
    const char *p = in->s + in->pos;
    size_t n;
    if ((p[0] == 'S' || p[0] == 's') && p[1] == '-') {
        n = 2;
        /* hex digits include D: a character followed by ':' starts the next part */
        while (p[n] && p[n + 1] != ':' && (strchr("0123456789abcdefABCDEFxX-", p[n])))
            n++;
    } else {
        n = p[0] && p[1] ? 2 : strlen(p);
    }
    smb_sid *sid = malloc(sizeof(*sid));
    if (!sid)
        return smb_err_set(in->err, SMB_ERR_NO_MEMORY, 0, "SDDL: out of memory");
    int rc = read_sid(in, in->pos, p, n, sid);
    if (rc) {
        free(sid);
        return rc;
    }
    in->pos += n;
    *out = sid;
    return 0;
}

/* ace-flag-string: two-letter flags, concatenated. */
static int read_ace_flags(sddl_in *in, size_t at, const char *tok, size_t n, uint8_t *flags)
{
    *flags = 0;
    for (size_t i = 0; i < n; i += 2) {
        const name_value *f = i + 1 < n ? find_name(k_ace_flags, N_OF(k_ace_flags), tok + i, 2) : NULL;
        if (!f)
            return bad(in, at + i, "unknown ACE flag", tok + i, n - i < 2 ? n - i : 2);
        *flags |= (uint8_t)f->value;
    }
    return 0;
}

/* ace-rights: aliases concatenated, or a number ("0x" hex, "0" octal, decimal). */
static int read_rights(sddl_in *in, size_t at, const char *tok, size_t n, uint32_t *mask)
{
    *mask = 0;
    if (n && tok[0] >= '0' && tok[0] <= '9') {
        unsigned base = 10;
        size_t i = 0;
        if (n > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
            base = 16;
            i = 2;
        } else if (n > 1 && tok[0] == '0') {
            base = 8;
            i = 1;
        }
        uint64_t v = 0;
        for (; i < n; i++) {
            int d = hex_digit_value(tok[i]);
            if (d < 0 || (unsigned)d >= base)
                return bad(in, at, "bad access mask", tok, n);
            v = v * base + (unsigned)d;
            if (v > UINT32_MAX)
                return bad(in, at, "access mask over 32 bits", tok, n);
        }
        *mask = (uint32_t)v;
        return 0;
    }
    for (size_t i = 0; i < n; i += 2) {
        const name_value *r = NULL;
        if (i + 1 < n) {
            r = find_name(k_rights_whole, N_OF(k_rights_whole), tok + i, 2);
            if (!r)
                r = find_name(k_rights_bits, N_OF(k_rights_bits), tok + i, 2);
            if (!r)
                r = find_name(k_rights_label, N_OF(k_rights_label), tok + i, 2);
        }
        if (!r)
            return bad(in, at + i, "unknown right", tok + i, n - i < 2 ? n - i : 2);
        *mask |= r->value;
    }
    return 0;
}

/* A GUID "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into its wire bytes. */
static int read_guid(sddl_in *in, size_t at, const char *tok, size_t n, smb_guid *g)
{
    if (n != 36)
        return bad(in, at, "bad GUID", tok, n);
    uint8_t raw[16];
    size_t k = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (tok[i] != '-')
                return bad(in, at, "bad GUID", tok, n);
            i++;
            continue;
        }
        int hi = hex_digit_value(tok[i]), lo = hex_digit_value(tok[i + 1]);
        if (hi < 0 || lo < 0)
            return bad(in, at, "bad GUID", tok, n);
        raw[k++] = (uint8_t)((hi << 4) | lo);
        i += 2;
    }
    /* the text is big-endian throughout; Data1..3 are little-endian on the wire */
    static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (size_t i = 0; i < 16; i++)
        g->b[i] = raw[order[i]];
    return 0;
}

/* One "(...)" ACE at in->pos. */
static int read_ace(sddl_in *in, smb_ace *ace)
{
    const char *start = in->s + in->pos + 1; /* past '(' */
    const char *end = strchr(start, ')');
    if (!end)
        return bad(in, in->pos, "ACE without its ')'", start - 1, strlen(start - 1));
    const char *field[6];
    size_t len[6], nf = 0;
    for (const char *p = start;; p++) {
        const char *q = p;
        while (q < end && *q != ';' && *q != '(')
            q++;
        if (*q == '(')
            return bad(in, (size_t)(q - in->s), "conditional expression (not supported)", q, (size_t)(end - q));
        if (nf == 6)
            return bad(in, (size_t)(p - in->s), "seventh ACE field (resource attributes are not supported)", p,
                       (size_t)(end - p));
        field[nf] = p;
        len[nf++] = (size_t)(q - p);
        if (q == end)
            break;
        p = q;
    }
    size_t at[6];
    for (size_t i = 0; i < nf; i++)
        at[i] = (size_t)(field[i] - in->s);
    if (nf != 6)
        return bad(in, in->pos, "ACE of fewer than 6 fields", start - 1, (size_t)(end - start + 2));
    const name_value *t = find_name(k_ace_types, N_OF(k_ace_types), field[0], len[0]);
    if (!t) {
        if (len[0] == 2 && in_names(k_conditional_types, N_OF(k_conditional_types), field[0]))
            return smb_err_set(in->err, SMB_ERR_UNSUPPORTED, 0,
                               "SDDL: ACE type '%.2s' at offset %zu (callback and resource attribute ACEs are not "
                               "supported)",
                               field[0], at[0]);
        return bad(in, at[0], "unknown ACE type", field[0], len[0]);
    }
    ace->type = (uint8_t)t->value;
    int rc;
    if ((rc = read_ace_flags(in, at[1], field[1], len[1], &ace->flags)) ||
        (rc = read_rights(in, at[2], field[2], len[2], &ace->mask)))
        return rc;
    int object = smb_ace_type_is_object(ace->type);
    if (!object && (len[3] || len[4]))
        return bad(in, at[3], "object GUID on an ACE that is not an object ACE", field[3], len[3] + len[4] + 1);
    if (len[3]) {
        if ((rc = read_guid(in, at[3], field[3], len[3], &ace->object_type)))
            return rc;
        ace->object_flags |= SMB_ACE_OBJECT_TYPE_PRESENT;
    }
    if (len[4]) {
        if ((rc = read_guid(in, at[4], field[4], len[4], &ace->inherited_object_type)))
            return rc;
        ace->object_flags |= SMB_ACE_INHERITED_OBJECT_TYPE_PRESENT;
    }
    if ((rc = read_sid(in, at[5], field[5], len[5], &ace->sid)))
        return rc;
    in->pos = (size_t)(end - in->s) + 1;
    return 0;
}

static int starts(const sddl_in *in, const char *word) { return strncmp(in->s + in->pos, word, strlen(word)) == 0; }

/* After "D:" or "S:": flags, then NO_ACCESS_CONTROL or ACEs. *acl stays
 * NULL for a NULL ACL. */
static int read_acl(sddl_in *in, const uint16_t bits[3], uint16_t *control, smb_acl **out)
{
    int null_acl = 0;
    for (;;) {
        if (starts(in, "NO_ACCESS_CONTROL")) {
            null_acl = 1;
            in->pos += strlen("NO_ACCESS_CONTROL");
        } else if (starts(in, "P")) {
            *control |= bits[0];
            in->pos += 1;
        } else if (starts(in, "AR")) {
            *control |= bits[1];
            in->pos += 2;
        } else if (starts(in, "AI")) {
            *control |= bits[2];
            in->pos += 2;
        } else {
            break;
        }
    }
    if (null_acl) {
        if (in->s[in->pos] == '(')
            return bad(in, in->pos, "ACE after NO_ACCESS_CONTROL", in->s + in->pos, 1);
        return 0;
    }
    smb_acl *acl = calloc(1, sizeof(*acl));
    if (!acl)
        return smb_err_set(in->err, SMB_ERR_NO_MEMORY, 0, "SDDL: out of memory");
    acl->revision = SMB_ACL_REVISION;
    *out = acl; /* the caller's from here, freed with the descriptor */
    size_t cap = 0;
    while (in->s[in->pos] == '(') {
        if (acl->count == UINT16_MAX)
            return bad(in, in->pos, "ACE past the 65535 an ACL can hold", in->s + in->pos, 1);
        if (!ARRAY_RESERVE(acl->aces, cap, (size_t)acl->count + 1, 8))
            return smb_err_set(in->err, SMB_ERR_NO_MEMORY, 0, "SDDL: out of memory");
        smb_ace *ace = &acl->aces[acl->count];
        memset(ace, 0, sizeof(*ace));
        acl->count++;
        int rc = read_ace(in, ace);
        if (rc)
            return rc;
        if (smb_ace_type_is_object(ace->type))
            acl->revision = SMB_ACL_REVISION_DS;
    }
    return 0;
}

static int read_sd(sddl_in *in, smb_security_descriptor *sd)
{
    static const uint16_t dacl_bits[3] = {SMB_SE_DACL_PROTECTED, SMB_SE_DACL_AUTO_INHERIT_REQ,
                                          SMB_SE_DACL_AUTO_INHERITED};
    static const uint16_t sacl_bits[3] = {SMB_SE_SACL_PROTECTED, SMB_SE_SACL_AUTO_INHERIT_REQ,
                                          SMB_SE_SACL_AUTO_INHERITED};
    unsigned seen = 0;
    while (in->s[in->pos]) {
        const char *p = in->s + in->pos;
        const char *tags = "OGDS";
        const char *tag = p[1] == ':' ? strchr(tags, p[0]) : NULL;
        if (!tag || !p[0])
            return bad(in, in->pos, "expected O:, G:, D: or S: instead of", p, 2);
        unsigned bit = 1u << (tag - tags);
        if (seen & bit)
            return bad(in, in->pos, "second", p, 2);
        seen |= bit;
        in->pos += 2;
        int rc;
        switch (*tag) {
        case 'O':
            rc = read_part_sid(in, &sd->owner);
            break;
        case 'G':
            rc = read_part_sid(in, &sd->group);
            break;
        case 'D':
            sd->control |= SMB_SE_DACL_PRESENT;
            rc = read_acl(in, dacl_bits, &sd->control, &sd->dacl);
            break;
        default:
            sd->control |= SMB_SE_SACL_PRESENT;
            rc = read_acl(in, sacl_bits, &sd->control, &sd->sacl);
            break;
        }
        if (rc)
            return rc;
    }
    return 0;
}

int smb_sd_from_sddl(const char *sddl, smb_security_descriptor **out, smb_error *err)
{
    if (!out)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "SDDL: no place for the result");
    *out = NULL;
    if (!sddl)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "SDDL: no string");
    smb_security_descriptor *sd = calloc(1, sizeof(*sd));
    if (!sd)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "SDDL: out of memory");
    sd->revision = 1;
    sd->control = SMB_SE_SELF_RELATIVE;
    sddl_in in = {sddl, 0, err};
    int rc = read_sd(&in, sd);
    if (rc) {
        smb_sd_free(sd);
        return rc;
    }
    *out = sd;
    return 0;
}

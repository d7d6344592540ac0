/*
 * SID strings (MS-DTYP 2.4.2.1): "S-1-" IdentifierAuthority, then each
 * sub-authority, in decimal; an authority of 2^32 or more as "0x" and 12
 * hex digits.
 */
#include <smbcopy/security.h>

#include <stdio.h>
#include <string.h>

#include "common/hex.h"

int smb_sid_to_string(const smb_sid *sid, char *buf, size_t len)
{
    if (!buf || !len)
        return SMB_ERR_INVALID_ARG;
    buf[0] = '\0';
    if (!sid || sid->sub_authority_count > SMB_SID_MAX_SUB_AUTHORITIES || (sid->authority >> 48))
        return SMB_ERR_INVALID_ARG;
    int n;
    if (sid->authority >> 32)
        n = snprintf(buf, len, "S-%u-0x%012llX", sid->revision, (unsigned long long)sid->authority);
    else
        n = snprintf(buf, len, "S-%u-%llu", sid->revision, (unsigned long long)sid->authority);
    size_t pos = n < 0 ? len : (size_t)n;
    for (size_t i = 0; i < sid->sub_authority_count && pos < len; i++) {
        n = snprintf(buf + pos, len - pos, "-%u", sid->sub_authority[i]);
        pos = n < 0 ? len : pos + (size_t)n;
    }
    if (pos >= len) {
        buf[0] = '\0';
        return SMB_ERR_INVALID_ARG;
    }
    return 0;
}

/* Parse decimal digits (at least one) into *v, at most max; p moves past them. */
static int parse_dec(const char **p, uint64_t max, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    if (*s < '0' || *s > '9')
        return -1;
    while (*s >= '0' && *s <= '9') {
        x = x * 10 + (uint64_t)(*s - '0');
        if (x > max)
            return -1;
        s++;
    }
    *p = s;
    *v = x;
    return 0;
}

/* "0x" and 1 to 12 hex digits, at most 48 bits. */
static int parse_hex48(const char **p, uint64_t *v)
{
    const char *s = *p + 2;
    uint64_t x = 0;
    size_t n = 0;
    for (int d; (d = hex_digit_value(*s)) >= 0; s++) {
        if (++n > 12)
            return -1;
        x = (x << 4) | (uint64_t)d;
    }
    if (!n)
        return -1;
    *p = s;
    *v = x;
    return 0;
}

int smb_sid_from_string(const char *s, smb_sid *sid)
{
    if (!sid)
        return SMB_ERR_INVALID_ARG;
    memset(sid, 0, sizeof(*sid));
    if (!s || (s[0] != 'S' && s[0] != 's') || s[1] != '-')
        return SMB_ERR_INVALID_ARG;
    const char *p = s + 2;
    uint64_t v;
    if (parse_dec(&p, 255, &v) || v != 1 || *p++ != '-')
        goto bad;
    sid->revision = 1;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        if (parse_hex48(&p, &v))
            goto bad;
    } else if (parse_dec(&p, UINT32_MAX, &v)) {
        goto bad;
    }
    sid->authority = v;
    while (*p == '-') {
        p++;
        if (sid->sub_authority_count == SMB_SID_MAX_SUB_AUTHORITIES || parse_dec(&p, UINT32_MAX, &v))
            goto bad;
        sid->sub_authority[sid->sub_authority_count++] = (uint32_t)v;
    }
    if (*p == '\0')
        return 0;
bad:
    memset(sid, 0, sizeof(*sid));
    return SMB_ERR_INVALID_ARG;
}

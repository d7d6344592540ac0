/*
 * Minimal DER (X.690) on top of the bounded reader and writer.
 */
#include "asn1.h"

#include <stdio.h>
#include <string.h>

/* Mark *content as an empty, failed reader. */
static void fail_content(smb_rd *content)
{
    smb_rd_init(content, NULL, 0);
    content->err = true;
}

bool smb_asn1_next(smb_rd *r, uint8_t *tag, smb_rd *content)
{
    uint8_t t = smb_rd_u8(r);
    uint8_t l = smb_rd_u8(r);
    size_t len = l;
    /* X.690 8.1.2.4: tag number 31 introduces the multi-octet form, unused here. */
    if ((t & 0x1f) == 0x1f)
        r->err = true;
    if (l & 0x80) {
        /* X.690 8.1.3.5 long form; 0x80 alone is the indefinite form (BER only). */
        unsigned n = l & 0x7f;
        if (n == 0 || n > 4) {
            r->err = true;
        } else {
            len = 0;
            for (unsigned i = 0; i < n; i++)
                len = (len << 8) | smb_rd_u8(r);
        }
    }
    if (!smb_rd_ok(r)) {
        fail_content(content);
        return false;
    }
    *content = smb_rd_sub(r, r->pos, len);
    smb_rd_skip(r, len);
    if (!smb_rd_ok(r)) {
        fail_content(content);
        return false;
    }
    *tag = t;
    return true;
}

bool smb_asn1_expect(smb_rd *r, uint8_t tag, smb_rd *content)
{
    uint8_t t = 0;
    if (!smb_asn1_next(r, &t, content))
        return false;
    if (t != tag) {
        r->err = true;
        fail_content(content);
        return false;
    }
    return true;
}

int smb_asn1_peek(const smb_rd *r)
{
    if (!smb_rd_ok(r) || smb_rd_left(r) == 0)
        return -1;
    return r->base[r->pos];
}

bool smb_asn1_optional(smb_rd *r, uint8_t tag, smb_rd *content)
{
    if (smb_asn1_peek(r) != tag) {
        smb_rd_init(content, NULL, 0);
        return false;
    }
    return smb_asn1_expect(r, tag, content);
}

bool smb_asn1_get_int(smb_rd *content, int32_t *v)
{
    size_t n = smb_rd_left(content);
    if (n == 0 || n > 4) {
        content->err = true;
        return false;
    }
    /* Sign-extend from the first octet (X.690 8.3). */
    uint8_t first = smb_rd_u8(content);
    uint32_t x = (first & 0x80) ? 0xffffff00u | first : first;
    for (size_t i = 1; i < n; i++)
        x = (x << 8) | smb_rd_u8(content);
    *v = (int32_t)x;
    return smb_rd_ok(content);
}

bool smb_asn1_valid(const uint8_t *p, size_t len, int max_depth)
{
    if (max_depth <= 0)
        return false;
    smb_rd r;
    smb_rd_init(&r, p, len);
    while (smb_rd_ok(&r) && smb_rd_left(&r) > 0) {
        uint8_t tag;
        smb_rd c;
        if (!smb_asn1_next(&r, &tag, &c))
            return false;
        if ((tag & SMB_ASN1_CONSTRUCTED) && !smb_asn1_valid(c.base, c.len, max_depth - 1))
            return false;
    }
    return smb_rd_ok(&r);
}

bool smb_asn1_oid_str(const uint8_t *oid, size_t len, char *buf, size_t cap)
{
    if (cap == 0)
        return false;
    buf[0] = '\0';
    if (len == 0)
        return false;
    size_t pos = 0;
    bool first = true;
    uint64_t arc = 0;
    for (size_t i = 0; i < len; i++) {
        /* X.690 8.19.2: base-128 subidentifiers, no leading 0x80 octet. */
        if (arc == 0 && oid[i] == 0x80)
            return false;
        arc = (arc << 7) | (oid[i] & 0x7f);
        if (arc > UINT32_MAX + (uint64_t)80)
            return false;
        if (oid[i] & 0x80)
            continue;
        int w;
        if (first) {
            /* X.690 8.19.4: the first subidentifier packs two arcs. */
            unsigned a = arc < 40 ? 0 : arc < 80 ? 1 : 2;
            w = snprintf(buf + pos, cap - pos, "%u.%llu", a, (unsigned long long)(arc - 40ull * a));
            first = false;
        } else {
            if (arc > UINT32_MAX)
                return false;
            w = snprintf(buf + pos, cap - pos, ".%llu", (unsigned long long)arc);
        }
        if (w < 0 || (size_t)w >= cap - pos)
            return false;
        pos += (size_t)w;
        arc = 0;
    }
    /* The last octet must end a subidentifier. */
    return (oid[len - 1] & 0x80) == 0;
}

/* ------------------------------------------------------------ writing */

size_t smb_asn1_begin(smb_wr *w, uint8_t tag)
{
    smb_wr_u8(w, tag);
    return smb_wr_reserve(w, 1); /* one length octet for now */
}

void smb_asn1_end(smb_wr *w, size_t mark)
{
    if (!smb_wr_ok(w))
        return;
    if (mark >= w->len) {
        w->err = true;
        return;
    }
    size_t clen = w->len - mark - 1;
    if (clen < 0x80) {
        w->buf[mark] = (uint8_t)clen;
        return;
    }
    if (clen > UINT32_MAX) {
        w->err = true;
        return;
    }
    unsigned n = clen > 0xffffff ? 4 : clen > 0xffff ? 3 : clen > 0xff ? 2 : 1;
    smb_wr_zero(w, n);
    if (!smb_wr_ok(w))
        return;
    memmove(w->buf + mark + 1 + n, w->buf + mark + 1, clen);
    w->buf[mark] = (uint8_t)(0x80 | n);
    for (unsigned i = 0; i < n; i++)
        w->buf[mark + 1 + i] = (uint8_t)(clen >> (8 * (n - 1 - i)));
}

void smb_asn1_put(smb_wr *w, uint8_t tag, const void *data, size_t len)
{
    size_t mark = smb_asn1_begin(w, tag);
    smb_wr_bytes(w, data, len);
    smb_asn1_end(w, mark);
}

void smb_asn1_put_uint(smb_wr *w, uint8_t tag, uint32_t v)
{
    uint8_t b[5];
    size_t n = 0;
    /* Big-endian, fewest octets, a leading zero when the top bit is set (X.690 8.3.2). */
    for (int shift = 24; shift >= 0; shift -= 8) {
        uint8_t o = (uint8_t)(v >> shift);
        if (n == 0 && o == 0 && shift > 0)
            continue;
        if (n == 0 && (o & 0x80))
            b[n++] = 0;
        b[n++] = o;
    }
    smb_asn1_put(w, tag, b, n);
}

/* Append arc in base 128 to out at *pos; false when it does not fit. */
static bool put_base128(uint64_t arc, uint8_t *out, size_t cap, size_t *pos)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)(arc & 0x7f);
        arc >>= 7;
    } while (arc);
    if (n > cap - *pos)
        return false;
    for (size_t i = 0; i < n; i++)
        out[(*pos)++] = (uint8_t)(tmp[n - 1 - i] | (i + 1 < n ? 0x80 : 0));
    return true;
}

size_t smb_asn1_oid_encode(const uint32_t *arcs, size_t n, uint8_t *out, size_t cap)
{
    if (n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] >= 40))
        return 0;
    size_t pos = 0;
    if (!put_base128((uint64_t)arcs[0] * 40 + arcs[1], out, cap, &pos))
        return 0;
    for (size_t i = 2; i < n; i++)
        if (!put_base128(arcs[i], out, cap, &pos))
            return 0;
    return pos;
}

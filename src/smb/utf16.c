/*
 * UTF-8 (WTF-8) <-> UTF-16LE for names on the wire, and the wire form of
 * share paths.
 */
#include "utf16.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"

static bool is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }
static bool is_high(uint32_t c) { return c >= 0xD800 && c <= 0xDBFF; }
static bool is_low(uint32_t c) { return c >= 0xDC00 && c <= 0xDFFF; }

/* The ranges of RFC 3629 section 4 decide each lead byte's second byte. */
size_t smb_utf8_decode(const uint8_t *s, size_t left, smb_utf8_mode mode, uint32_t *cp)
{
    uint8_t b = s[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    uint32_t c;

    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
        c = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        c = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0; /* below: overlong */
        else if (b == 0xED && mode == SMB_UTF8_STRICT)
            hi = 0x9F; /* above: a surrogate */
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        c = b & 0x07;
        if (b == 0xF0)
            lo = 0x90; /* below: overlong */
        else if (b == 0xF4)
            hi = 0x8F; /* above: beyond U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 (overlong) or F5..FF */
    }
    if (left < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if (!is_cont(s[i]))
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = c;
    return n;
}

/* Whether smb_wr_utf8_as_utf16le accepts s[0..len) (see utf16.h). */
static bool utf8_acceptable(const uint8_t *s, size_t len, smb_utf8_mode mode)
{
    bool after_high = false; /* the previous code point was a lone high surrogate */
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = smb_utf8_decode(s + i, len - i, mode, &cp);
        /* NUL, invalid, or a pair that should have been one 4-byte sequence. */
        if (n == 0 || cp == 0 || (after_high && is_low(cp)))
            return false;
        after_high = is_high(cp);
        i += n;
    }
    return true;
}

bool smb_wr_utf8_as_utf16le(smb_wr *w, const char *s, size_t len, smb_utf8_mode mode)
{
    const uint8_t *in = (const uint8_t *)s;
    if ((!s && len) || !utf8_acceptable(in, len, mode))
        return false;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += smb_utf8_decode(in + i, len - i, mode, &cp);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            smb_wr_u16(w, (uint16_t)(0xD800 | (cp >> 10)));
            smb_wr_u16(w, (uint16_t)(0xDC00 | (cp & 0x3FF)));
        } else {
            smb_wr_u16(w, (uint16_t)cp);
        }
    }
    return true;
}

uint8_t *smb_utf8_to_utf16le(const char *s, size_t len, size_t *out_len)
{
    if ((!s && len) || len > SIZE_MAX / 2 - 1)
        return NULL;
    /* Each input byte yields at most one 16-bit unit. */
    uint8_t *out = malloc(len * 2 + 1);
    if (!out)
        return NULL;
    smb_wr w;
    smb_wr_init(&w, out, len * 2 + 1);
    if (!smb_wr_utf8_as_utf16le(&w, s, len, SMB_UTF8_WTF8) || !smb_wr_ok(&w)) {
        free(out);
        return NULL;
    }
    if (out_len)
        *out_len = w.len;
    return out;
}

char *smb_utf16le_to_utf8(const uint8_t *p, size_t len)
{
    if ((len & 1) || (!p && len) || len / 2 > (SIZE_MAX - 1) / 3)
        return NULL;
    size_t units = len / 2;
    /* A unit gives at most 3 bytes; a pair (two units) gives 4. */
    char *out = malloc(units * 3 + 1);
    if (!out)
        return NULL;
    size_t o = 0;

    for (size_t i = 0; i < units; i++) {
        uint32_t c = smb_le16(p + 2 * i);
        if (c == 0) {
            free(out);
            return NULL;
        }
        if (is_high(c) && i + 1 < units) {
            uint32_t d = smb_le16(p + 2 * i + 2);
            if (is_low(d)) {
                c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
                i++;
            }
        }
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            /* Lone surrogates land here too: their WTF-8 form. */
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (c >> 18));
            out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = '\0';
    return out;
}

static bool is_sep(char c) { return c == '/' || c == '\\'; }

char *smb_path_to_wire(const char *path)
{
    if (!path)
        path = "";
    char *out = malloc(strlen(path) + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (const char *s = path; *s; s++) {
        if (!is_sep(*s)) {
            out[o++] = *s;
            continue;
        }
        /* One separator between two names; none at either end. */
        while (is_sep(s[1]))
            s++;
        if (o > 0 && s[1])
            out[o++] = '\\';
    }
    out[o] = '\0';
    return out;
}

/* A file's named streams and security descriptor in memory (ep_meta.h). */
#include "ep_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbcopy/security.h>

#include "common/error.h"

void ep_streams_clear(ep_streams *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].data);
    }
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

void ep_sd_clear(ep_sd *sd)
{
    free(sd->bytes);
    sd->bytes = NULL;
    sd->len = 0;
    sd->parts = 0;
}

size_t ep_streams_kept(const ep_streams *s, uint64_t *bytes)
{
    size_t n = 0;
    uint64_t total = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].kept) {
            n++;
            total += s->v[i].len;
        }
    }
    if (bytes)
        *bytes = total;
    return n;
}

size_t ep_streams_bytes(const ep_streams *s)
{
    size_t total = 0;
    for (size_t i = 0; i < s->n; i++)
        total += s->v[i].len;
    return total;
}

/* True when s[0..n) is UTF-8: shortest forms only, no surrogates, nothing past U+10FFFF. */
static bool utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t more;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            more = 1, cp = c & 0x1Fu, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            more = 2, cp = c & 0x0Fu, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            more = 3, cp = c & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (more > n - i - 1)
            return false;
        for (size_t k = 1; k <= more; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += more + 1;
    }
    return true;
}

bool ep_stream_name_ok(const char *name, size_t n)
{
    return n > 0 && !memchr(name, '/', n) && !memchr(name, '\\', n) && !memchr(name, ':', n) &&
           !memchr(name, '\0', n) && utf8_valid((const uint8_t *)name, n);
}

int ep_sd_parts_of(const uint8_t *bytes, size_t len, uint32_t *parts, smb_error *err)
{
    *parts = 0;
    smb_security_descriptor *sd;
    smb_error derr = {0};
    if (smb_sd_decode(bytes, len, &sd, &derr) != 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "not a valid security descriptor (%s)", derr.message);
    if (sd->owner)
        *parts |= EP_SD_OWNER;
    if (sd->group)
        *parts |= EP_SD_GROUP;
    if (sd->control & SMB_SE_DACL_PRESENT)
        *parts |= EP_SD_DACL;
    if (sd->control & SMB_SE_SACL_PRESENT)
        *parts |= EP_SD_SACL;
    smb_sd_free(sd);
    return 0;
}

bool ep_sd_kept(const ep_sd *sent, uint32_t parts, const uint8_t *back, size_t back_len, smb_error *e)
{
    char why[256] = "it reads back as none";
    smb_error le = {0};
    int kept = back_len ? smb_sd_kept(sent->bytes, sent->len, back, back_len, parts, why, sizeof why, &le) : 0;
    if (kept != 1)
        smb_err_set(e, SMB_ERR_UNSUPPORTED, 0, "the destination keeps another one: %s", kept < 0 ? le.message : why);
    return kept == 1;
}

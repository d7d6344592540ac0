/*
 * Writing JSON strings (engine.h: sc_json_write_string), for all JSON that
 * smbcopy writes: the command's reports, the engine's plans and shard reports.
 */
#include <stdbool.h>
#include <stdint.h>

#include <smbcopy/engine.h>

/* Length of the UTF-8 sequence at p (1..4) and whether it is valid. */
static size_t utf8_sequence(const unsigned char *p, bool *valid)
{
    unsigned char c = p[0];
    size_t need;
    uint32_t cp;
    *valid = false;
    if (c < 0x80) {
        *valid = true;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
    } else {
        return 1; /* a stray continuation byte or an impossible lead */
    }
    for (size_t i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 1; /* cut short: only the lead byte is replaced */
        cp = cp << 6 | (p[i] & 0x3Fu);
    }
    static const uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
    *valid = cp >= min_cp[need] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    return need + 1; /* an overlong form, a surrogate (WTF-8) or beyond U+10FFFF: one replacement */
}

void sc_json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        bool valid;
        size_t n = utf8_sequence(p, &valid);
        if (!valid) {
            fputs("\\uFFFD", f);
        } else if (*p == '"' || *p == '\\') {
            fputc('\\', f);
            fputc(*p, f);
        } else if (*p < 0x20 || *p == 0x7f) {
            switch (*p) {
            case '\b': fputs("\\b", f); break;
            case '\f': fputs("\\f", f); break;
            case '\n': fputs("\\n", f); break;
            case '\r': fputs("\\r", f); break;
            case '\t': fputs("\\t", f); break;
            default: fprintf(f, "\\u%04x", *p); break;
            }
        } else {
            fwrite(p, 1, n, f);
        }
        p += n;
    }
    fputc('"', f);
}

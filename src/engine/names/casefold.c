/* Case folding of names and the destination's case probe (see casefold.h). */
#include "engine/names/casefold.h"

#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>

#include "common/error.h"
#include "engine/job_internal.h"
#include "engine/names/temp_names.h"

/*
 * The C.UTF-8 locale's case tables, made once and never changed: the
 * process locale is the caller's (usually "C", which maps ASCII only).
 */
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;
static locale_t utf8_locale;

static void utf8_locale_init(void) { utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0); }

/* Decode one UTF-8 sequence at s (n bytes left): its code point and length, or 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len = s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
    if (!len || len > n)
        return 0;
    uint32_t v = s[0] & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3Fu);
    }
    if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Simple uppercase of one code point: ASCII by hand, the rest from the C library's Unicode tables. */
static uint32_t upcase(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 'a' && cp <= 'z' ? cp - 32 : cp;
    pthread_once(&utf8_once, utf8_locale_init);
    if (!utf8_locale)
        return cp;
    wint_t u = towupper_l((wint_t)cp, utf8_locale);
    return u > 0 && (uint32_t)u <= 0x10FFFF && !((uint32_t)u >= 0xD800 && (uint32_t)u <= 0xDFFF) ? (uint32_t)u : cp;
}

char *casefold_name(const char *name)
{
    size_t n = strlen(name);
    char *out = malloc(n * 2 + 4 + 1); /* an upcased character takes at most 4 bytes, its source at least 1 */
    if (!out)
        return NULL;
    size_t cap = n * 2 + 4, j = 0;
    const unsigned char *s = (const unsigned char *)name;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (j + 4 > cap) {
            char *grown = realloc(out, cap * 2 + 1);
            if (!grown) {
                free(out);
                return NULL;
            }
            out = grown;
            cap *= 2;
        }
        if (!len) { /* not UTF-8: the byte as it is */
            out[j++] = (char)s[i++];
            continue;
        }
        j += utf8_encode(upcase(cp), out + j);
        i += len;
    }
    out[j] = '\0';
    return out;
}

bool casefold_equal(const char *a, const char *b)
{
    char *fa = casefold_name(a), *fb = casefold_name(b);
    bool eq = fa && fb && strcmp(fa, fb) == 0;
    free(fa);
    free(fb);
    return eq;
}

/* name with the case of its ASCII letters swapped; false when it has none. */
static bool swap_case(char *name)
{
    bool any = false;
    for (char *p = name; *p; p++) {
        if (*p >= 'a' && *p <= 'z') {
            *p = (char)(*p - 32);
            any = true;
        } else if (*p >= 'A' && *p <= 'Z') {
            *p = (char)(*p + 32);
            any = true;
        }
    }
    return any;
}

/* The first names of a directory (enough to find one to ask with). */
#define PROBE_NAMES 256

typedef struct probe_ctx {
    char *names[PROBE_NAMES];
    ep_stat st[PROBE_NAMES];
    size_t n;
} probe_ctx;

static int probe_collect_cb(void *arg, const char *name, const ep_stat *st)
{
    probe_ctx *p = arg;
    if (!name)
        return 0;
    if (!(p->names[p->n] = strdup(name)))
        return 1;
    p->st[p->n++] = *st;
    return p->n == PROBE_NAMES;
}

static bool has_letter(const char *s)
{
    for (; *s; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
            return true;
    return false;
}

/*
 * Look up dir/name with its case swapped. *same: found, and the entry found
 * is name's own (the same file id where both are known).
 */
static int lookup_swapped(ep *e, const char *dir, const char *name, uint64_t file_id, bool *same, smb_error *err)
{
    char *swapped = strdup(name);
    char *path = NULL;
    if (!swapped || !swap_case(swapped) || !(path = job_join(dir, swapped))) {
        free(swapped);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    ep_stat st;
    smb_error e2 = {0};
    int rc = e->ops->stat(e, path, &st, &e2);
    free(swapped);
    free(path);
    if (rc == 0) {
        *same = !(file_id && st.file_id && file_id != st.file_id);
        return 0;
    }
    if (rc == SMB_ERR_NOT_FOUND) {
        *same = false;
        return 0;
    }
    *err = e2;
    return rc;
}

/* Whether the listed names hold two that differ only in case (which only a directory that does not fold can). */
static bool twins_listed(const probe_ctx *p, size_t i)
{
    for (size_t j = 0; j < p->n; j++)
        if (j != i && strcasecmp(p->names[i], p->names[j]) == 0)
            return true;
    return false;
}

int case_probe(ep *e, const char *dir, bool may_write, bool *insensitive, smb_error *err)
{
    *insensitive = strcmp(e->ops->kind, "smb") == 0;
    probe_ctx p = {0};
    smb_error e2 = {0};
    int rc = 0;
    bool asked = false;
    if (e->ops->list(e, dir, probe_collect_cb, &p, &e2) == 0) {
        for (size_t i = 0; i < p.n && !asked; i++) {
            if (!has_letter(p.names[i]))
                continue;
            if (twins_listed(&p, i)) { /* "Dir" and "dir" side by side: this directory does not fold */
                *insensitive = false;
                asked = true;
            } else {
                rc = lookup_swapped(e, dir, p.names[i], p.st[i].file_id, insensitive, err);
                asked = true;
            }
        }
    }
    for (size_t i = 0; i < p.n; i++)
        free(p.names[i]);
    if (asked || rc != 0 || !may_write)
        return rc;
    /* An empty directory (or one of names without letters): ask with a file of our own. */
    char *tmp = temp_name_beside_in(dir, 0);
    if (!tmp)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    ep_stat meta = {.type = EP_FILE};
    ep_file *f = NULL;
    rc = e->ops->open_write(e, tmp, &meta, &f, err);
    if (rc == 0) {
        e->ops->close(f, &e2);
        const char *leaf = strrchr(tmp, '/') ? strrchr(tmp, '/') + 1 : tmp;
        rc = lookup_swapped(e, dir, leaf, 0, insensitive, err);
        e->ops->unlink(e, tmp, &e2);
    }
    free(tmp);
    return rc;
}

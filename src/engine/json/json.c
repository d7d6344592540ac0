/*
 * The bounded JSON reader (see json.h): a recursive descent over the
 * buffer, depth-limited, building the tree in place. Every read of the
 * input checks the position against its length first; every allocation is
 * checked and a failure frees what was built.
 */
#include "engine/json/json.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "common/hex.h"

/* Objects with at most this many keys are checked for duplicates pair by
 * pair; larger ones by sorting (n log n whatever the keys). */
#define DUP_PAIRWISE_MAX 8
/* The longest number literal accepted, in bytes (the RFC lets a reader
 * limit a number's precision; this bounds the work of strtod). */
#define NUMBER_MAX_LEN 1024
/* The longest part of a key quoted in a message, in bytes. */
#define KEY_QUOTE_MAX 40

typedef struct parser {
    const unsigned char *s; /* the input, s[0..len) */
    size_t len, pos;        /* its length, the next byte to read */
    char *why;              /* the caller's message buffer (may be NULL) */
    size_t why_len;
    locale_t c_locale;      /* the "C" locale for strtod_l, made on first need */
    size_t *key_offs;       /* where each key of the objects being read starts, innermost object last */
    size_t nkey_offs, key_offs_cap;
} parser;

/*
 * Say what is wrong at input offset off ("line L, column C: ..."; columns
 * count UTF-8 characters) in the caller's buffer; returns -1. Called once
 * per failed parse, so the scan from the start costs nothing that matters.
 */
__attribute__((format(printf, 3, 4))) static int fail(parser *p, size_t off, const char *fmt, ...)
{
    if (!p->why || p->why_len == 0)
        return -1;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off && i < p->len; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else if ((p->s[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    int n = snprintf(p->why, p->why_len, "line %zu, column %zu: ", line, col);
    if (n < 0 || (size_t)n >= p->why_len)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(p->why + n, p->why_len - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* A byte named for a message: 'x' when printable ASCII, else 0xNN. */
static const char *byte_name(unsigned char c, char buf[8])
{
    if (c > 0x20 && c < 0x7F)
        (void)snprintf(buf, 8, "'%c'", c);
    else
        (void)snprintf(buf, 8, "0x%02X", c);
    return buf;
}

/* Fail at the current position with "expected WHAT", or at the end of the input when it is there. */
static int expected(parser *p, const char *what)
{
    if (p->pos >= p->len)
        return fail(p, p->len, "unexpected end of input, expected %s", what);
    char b[8];
    return fail(p, p->pos, "expected %s, found %s", what, byte_name(p->s[p->pos], b));
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        p->pos++;
    }
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Free everything v owns (v itself stays) and leave it JSON_NULL. Recursion
 * as deep as the tree, which the parser bounds by JSON_MAX_DEPTH. */
static void value_clear(json_value *v)
{
    switch (v->type) {
    case JSON_STRING:
        free(v->str);
        break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        for (size_t i = 0; i < v->len; i++) {
            value_clear(&v->items[i]);
            if (v->keys)
                free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
        break;
    default:
        break;
    }
    memset(v, 0, sizeof *v);
}

/* The array *items (cap elements of elem bytes) cut down to its n used ones; left as it is when that fails. */
static void shrink(void **items, size_t cap, size_t n, size_t elem)
{
    if (n == 0 || n >= cap)
        return;
    void *s = realloc(*items, n * elem);
    if (s)
        *items = s;
}

/* ---------------------------------------------------------------- strings */

/* The 4 hex digits at s[0..4) (the caller checked they are inside the input), or -1. */
static long hex4(const unsigned char *s)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit_value(s[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/*
 * The length of the valid UTF-8 sequence (RFC 3629, section 4) starting at
 * s[0] (a byte >= 0x80) within s[0..n), or 0 with *what saying why not.
 */
static size_t utf8_sequence(const unsigned char *s, size_t n, const char **what)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */
    size_t k;
    if (c < 0xC0) {
        *what = "invalid UTF-8 (a continuation byte without a lead byte)";
        return 0;
    }
    if (c < 0xC2) {
        *what = "overlong UTF-8";
        return 0;
    }
    if (c < 0xE0) {
        k = 2;
    } else if (c < 0xF0) {
        k = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c < 0xF5) {
        k = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else if (c < 0xF8) {
        *what = "UTF-8 code point above U+10FFFF";
        return 0;
    } else {
        *what = "invalid UTF-8 byte";
        return 0;
    }
    for (size_t j = 1; j < k; j++) {
        if (j >= n || s[j] < 0x80 || s[j] > 0xBF) {
            *what = "invalid UTF-8 (a sequence cut short)";
            return 0;
        }
        if (j == 1 && (s[1] < lo || s[1] > hi)) {
            *what = c == 0xED ? "UTF-8 encoded surrogate" : c == 0xF4 ? "UTF-8 code point above U+10FFFF" : "overlong UTF-8";
            return 0;
        }
    }
    return k;
}

/* Code point cp (at most U+10FFFF, not a surrogate) as UTF-8 at out; returns its length. */
static size_t utf8_put(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Decode the \u escape at s[i] (its backslash) of a string whose closing
 * quote is at s[end]: one code point, or a surrogate pair. Writes it to
 * out, sets *olen and *used (input bytes taken); -1 after fail().
 */
static int unicode_escape(parser *p, size_t i, size_t end, char *out, size_t *olen, size_t *used)
{
    long hi = i + 6 <= end ? hex4(p->s + i + 2) : -1;
    if (hi < 0)
        return fail(p, i, "invalid \\u escape (expected 4 hex digits)");
    unsigned long cp = (unsigned long)hi;
    *used = 6;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return fail(p, i, "lone surrogate \\u%04lX (a low surrogate without a high one before it)", cp);
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        long lo = -1;
        if (i + 12 <= end && p->s[i + 6] == '\\' && p->s[i + 7] == 'u')
            lo = hex4(p->s + i + 8);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(p, i, "lone surrogate \\u%04lX (a high surrogate without a low one after it)", cp);
        cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
        *used = 12;
    }
    if (cp == 0)
        return fail(p, i, "\\u0000 in a string is not supported");
    *olen = utf8_put(out, cp);
    return 0;
}

/*
 * The string whose opening quote is at the current position, decoded into
 * a malloc'd NUL-terminated *out of *out_len bytes; the position moves past
 * the closing quote. -1 after fail() with nothing allocated.
 */
static int parse_string(parser *p, char **out, size_t *out_len)
{
    const unsigned char *s = p->s;
    size_t open = p->pos, end = open + 1;
    /* Pass 1: where it ends (raw control characters are never inside). */
    for (;;) {
        if (end >= p->len)
            return fail(p, open, "unterminated string");
        unsigned char c = s[end];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(p, end, "control character U+%04X in a string (must be escaped)", (unsigned)c);
        end += c == '\\' ? 2 : 1;
    }
    /* Pass 2: decode; no escape or sequence makes more bytes than it takes. */
    char *buf = malloc(end - open);
    if (!buf)
        return fail(p, open, "out of memory");
    size_t n = 0;
    for (size_t i = open + 1; i < end;) {
        unsigned char c = s[i];
        if (c == '\\') {
            unsigned char e = s[i + 1]; /* before end: pass 1 stepped over it */
            size_t used = 2;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                buf[n++] = (char)e;
                break;
            case 'b':
                buf[n++] = '\b';
                break;
            case 'f':
                buf[n++] = '\f';
                break;
            case 'n':
                buf[n++] = '\n';
                break;
            case 'r':
                buf[n++] = '\r';
                break;
            case 't':
                buf[n++] = '\t';
                break;
            case 'u': {
                size_t olen = 0;
                if (unicode_escape(p, i, end, buf + n, &olen, &used) != 0) {
                    free(buf);
                    return -1;
                }
                n += olen;
                break;
            }
            default: {
                char b[8];
                free(buf);
                return fail(p, i, "invalid escape: backslash followed by %s", byte_name(e, b));
            }
            }
            i += used;
        } else if (c < 0x80) {
            buf[n++] = (char)c;
            i++;
        } else {
            const char *what = NULL;
            size_t k = utf8_sequence(s + i, end - i, &what);
            if (k == 0) {
                free(buf);
                return fail(p, i, "%s in a string (byte 0x%02X)", what, (unsigned)c);
            }
            memcpy(buf + n, s + i, k);
            n += k;
            i += k;
        }
    }
    buf[n] = '\0';
    p->pos = end + 1;
    *out = buf;
    *out_len = n;
    return 0;
}

/* ---------------------------------------------------------------- scalars */

/* The literal word (true, false, null) at the current position. */
static int parse_literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i < n; i++) {
        if (p->pos + i >= p->len)
            return fail(p, p->len, "unexpected end of input in '%s'", word);
        if (p->s[p->pos + i] != (unsigned char)word[i]) {
            if (i == 0)
                return expected(p, "a value");
            return fail(p, p->pos, "invalid literal (expected '%s')", word);
        }
    }
    p->pos += n;
    return 0;
}

/* s[start..end), a number literal the grammar accepted, as a double; -1 after fail(). */
static int number_as_double(parser *p, size_t start, size_t end, double *out)
{
    char buf[NUMBER_MAX_LEN + 1];
    size_t n = end - start;
    if (n > NUMBER_MAX_LEN)
        return fail(p, start, "number longer than %d characters", NUMBER_MAX_LEN);
    memcpy(buf, p->s + start, n);
    buf[n] = '\0';
    if (!p->c_locale) {
        p->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        if (!p->c_locale)
            return fail(p, start, "out of memory");
    }
    char *stop = NULL;
    double d = strtod_l(buf, &stop, p->c_locale);
    if (stop != buf + n)
        return fail(p, start, "invalid number"); /* cannot happen: the grammar was checked */
    if (isinf(d))
        return fail(p, start, "number too large for a double");
    *out = d;
    return 0;
}

/* The number at the current position (RFC 8259 section 6) into v. */
static int parse_number(parser *p, json_value *v)
{
    const unsigned char *s = p->s;
    size_t start = p->pos;
    bool neg = false, integer = true;
    if (s[p->pos] == '-') {
        neg = true;
        p->pos++;
    }
    size_t digits = p->pos;
    if (p->pos < p->len && s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && is_digit(s[p->pos]))
            return fail(p, start, "leading zero in a number");
    } else if (p->pos < p->len && is_digit(s[p->pos])) {
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    } else {
        return expected(p, "a digit after '-'");
    }
    size_t int_end = p->pos;
    if (p->pos < p->len && s[p->pos] == '.') {
        integer = false;
        p->pos++;
        if (p->pos >= p->len || !is_digit(s[p->pos]))
            return expected(p, "a digit after '.'");
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        integer = false;
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->len || !is_digit(s[p->pos]))
            return expected(p, "a digit in the exponent");
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    }
    v->type = JSON_NUMBER;
    if (integer) {
        uint64_t u = 0;
        bool fits = true;
        for (size_t i = digits; i < int_end; i++) {
            unsigned d = (unsigned)(s[i] - '0');
            if (u > (UINT64_MAX - d) / 10) {
                fits = false;
                break;
            }
            u = u * 10 + d;
        }
        if (fits) { /* exact, and the conversion rounds as strtod would */
            v->is_uint = !neg;
            v->uint = neg ? 0 : u;
            v->number = neg ? -(double)u : (double)u;
            return 0;
        }
    }
    return number_as_double(p, start, p->pos, &v->number);
}

/* ---------------------------------------------------------------- containers */

static int parse_value(parser *p, json_value *v, int depth);

/* The array whose '[' is at the current position, at nesting depth depth. */
static int parse_array(parser *p, json_value *v, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return fail(p, p->pos, "nesting deeper than %d levels", JSON_MAX_DEPTH);
    p->pos++;
    v->type = JSON_ARRAY;
    size_t cap = 0;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return 0;
    }
    for (;;) {
        if (!ARRAY_RESERVE(v->items, cap, v->len + 1, 4)) {
            fail(p, p->pos, "out of memory");
            goto failed;
        }
        if (parse_value(p, &v->items[v->len], depth) != 0)
            goto failed;
        v->len++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            break;
        }
        if (p->pos >= p->len || p->s[p->pos] != ',') {
            expected(p, "',' or ']'");
            goto failed;
        }
        p->pos++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ']') {
            fail(p, p->pos, "trailing comma before ']'");
            goto failed;
        }
    }
    void *items = v->items;
    shrink(&items, cap, v->len, sizeof *v->items);
    v->items = items;
    return 0;
failed:
    value_clear(v);
    return -1;
}

typedef struct key_at {
    const char *key;
    size_t off;
} key_at;

static int key_at_cmp(const void *a, const void *b)
{
    const key_at *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c != 0)
        return c;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Fail at off with "duplicate key" and the key (its first bytes, with anything unprintable shown as '?'). */
static int duplicate(parser *p, size_t off, const char *key)
{
    char q[KEY_QUOTE_MAX + 1];
    size_t n = 0;
    for (; n < KEY_QUOTE_MAX && key[n]; n++) {
        unsigned char c = (unsigned char)key[n];
        if (c < 0x20 || c == 0x7F || c == '"' || c == '\\')
            q[n] = '?';
        else
            q[n] = key[n];
    }
    bool cut = key[n] != '\0';
    if (cut)
        while (n > 0 && ((unsigned char)key[n] & 0xC0) == 0x80) /* not inside a character */
            n--;
    q[n] = '\0';
    return fail(p, off, "duplicate key \"%s%s\"", q, cut ? "..." : "");
}

/*
 * Refuse an object (len keys, their offsets at key_offs[base...]) that holds
 * a key twice, at the first repetition in the input.
 */
static int check_duplicates(parser *p, const json_value *v, size_t base)
{
    const size_t *offs = p->key_offs + base;
    if (v->len <= DUP_PAIRWISE_MAX) {
        for (size_t j = 1; j < v->len; j++)
            for (size_t i = 0; i < j; i++)
                if (strcmp(v->keys[i], v->keys[j]) == 0)
                    return duplicate(p, offs[j], v->keys[j]);
        return 0;
    }
    key_at *sorted = calloc(v->len, sizeof *sorted);
    if (!sorted)
        return fail(p, p->pos, "out of memory");
    for (size_t i = 0; i < v->len; i++) {
        sorted[i].key = v->keys[i];
        sorted[i].off = offs[i];
    }
    qsort(sorted, v->len, sizeof *sorted, key_at_cmp);
    /* Equal keys sort together, in input order: the earliest second one is the first repetition. */
    const key_at *first = NULL;
    for (size_t i = 1; i < v->len; i++)
        if (strcmp(sorted[i - 1].key, sorted[i].key) == 0 && (!first || sorted[i].off < first->off))
            first = &sorted[i];
    int rc = first ? duplicate(p, first->off, first->key) : 0;
    free(sorted);
    return rc;
}

/* The object whose '{' is at the current position, at nesting depth depth. */
static int parse_object(parser *p, json_value *v, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return fail(p, p->pos, "nesting deeper than %d levels", JSON_MAX_DEPTH);
    p->pos++;
    v->type = JSON_OBJECT;
    size_t items_cap = 0, keys_cap = 0, base = p->nkey_offs;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return 0;
    }
    for (;;) {
        if (p->pos >= p->len || p->s[p->pos] != '"') {
            expected(p, "a string key");
            goto failed;
        }
        if (!ARRAY_RESERVE(p->key_offs, p->key_offs_cap, p->nkey_offs + 1, 16) ||
            !ARRAY_RESERVE(v->items, items_cap, v->len + 1, 4) || !ARRAY_RESERVE(v->keys, keys_cap, v->len + 1, 4)) {
            fail(p, p->pos, "out of memory");
            goto failed;
        }
        p->key_offs[p->nkey_offs++] = p->pos;
        char *key = NULL;
        size_t key_len = 0;
        if (parse_string(p, &key, &key_len) != 0)
            goto failed;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') {
            free(key);
            expected(p, "':' after the key");
            goto failed;
        }
        p->pos++;
        if (parse_value(p, &v->items[v->len], depth) != 0) {
            free(key);
            goto failed;
        }
        v->keys[v->len++] = key;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            break;
        }
        if (p->pos >= p->len || p->s[p->pos] != ',') {
            expected(p, "',' or '}'");
            goto failed;
        }
        p->pos++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == '}') {
            fail(p, p->pos, "trailing comma before '}'");
            goto failed;
        }
    }
    if (check_duplicates(p, v, base) != 0)
        goto failed;
    p->nkey_offs = base;
    void *items = v->items, *keys = v->keys;
    shrink(&items, items_cap, v->len, sizeof *v->items);
    shrink(&keys, keys_cap, v->len, sizeof *v->keys);
    v->items = items;
    v->keys = keys;
    return 0;
failed:
    value_clear(v);
    return -1;
}

/*
 * One value (after optional whitespace) into v (whatever it held is
 * overwritten); depth is the nesting of the container holding it (0 at the
 * top). On failure v owns nothing.
 */
static int parse_value(parser *p, json_value *v, int depth)
{
    memset(v, 0, sizeof *v);
    skip_ws(p);
    if (p->pos >= p->len)
        return expected(p, "a value");
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{':
        return parse_object(p, v, depth + 1);
    case '[':
        return parse_array(p, v, depth + 1);
    case '"':
        v->type = JSON_STRING;
        if (parse_string(p, &v->str, &v->len) != 0) {
            v->type = JSON_NULL;
            return -1;
        }
        return 0;
    case 't':
    case 'f':
        v->type = JSON_BOOL;
        v->boolean = c == 't';
        if (parse_literal(p, c == 't' ? "true" : "false") != 0) {
            memset(v, 0, sizeof *v);
            return -1;
        }
        return 0;
    case 'n':
        return parse_literal(p, "null");
    default:
        if (c == '-' || is_digit(c)) {
            if (parse_number(p, v) != 0) {
                memset(v, 0, sizeof *v);
                return -1;
            }
            return 0;
        }
        return expected(p, "a value");
    }
}

/* ---------------------------------------------------------------- API */

int json_parse(const char *text, size_t len, json_value **out, char *why, size_t why_len)
{
    if (why && why_len > 0)
        why[0] = '\0';
    if (!out) {
        if (why && why_len > 0)
            (void)snprintf(why, why_len, "json_parse: no place for the result");
        return -1;
    }
    *out = NULL;
    if (!text && len > 0) {
        if (why && why_len > 0)
            (void)snprintf(why, why_len, "json_parse: no input");
        return -1;
    }
    if (len > JSON_MAX_INPUT) {
        if (why && why_len > 0)
            (void)snprintf(why, why_len, "input of %zu bytes is larger than the limit of %zu bytes", len,
                           JSON_MAX_INPUT);
        return -1;
    }
    parser p = {.s = (const unsigned char *)text, .len = len, .why = why, .why_len = why_len};
    json_value *root = NULL;
    int rc = -1;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        fail(&p, 0, "byte order mark (U+FEFF) before the value: not allowed");
        goto done;
    }
    skip_ws(&p);
    if (p.pos >= p.len) {
        fail(&p, p.pos, "empty input, expected a JSON value");
        goto done;
    }
    root = calloc(1, sizeof *root);
    if (!root) {
        fail(&p, 0, "out of memory");
        goto done;
    }
    if (parse_value(&p, root, 0) != 0)
        goto done;
    skip_ws(&p);
    if (p.pos < p.len) {
        char b[8];
        fail(&p, p.pos, "unexpected %s after the JSON value", byte_name(p.s[p.pos], b));
        goto done;
    }
    *out = root;
    root = NULL;
    rc = 0;
done:
    json_free(root);
    free(p.key_offs);
    if (p.c_locale)
        freelocale(p.c_locale);
    return rc;
}

/* Read the regular file at path, at most limit bytes, into a malloc'd *buf of *n bytes; -1 with why set. */
static int read_file(const char *path, size_t limit, char **buf, size_t *n, char *why, size_t why_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        (void)snprintf(why, why_len, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        (void)snprintf(why, why_len, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        (void)snprintf(why, why_len, "%s: not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > limit) {
        (void)snprintf(why, why_len, "%s: %jd bytes, larger than the limit of %zu bytes", path, (intmax_t)st.st_size,
                       limit);
        close(fd);
        return -1;
    }
    /* Room for the size fstat gave and one byte more, grown (up to limit + 1) when the file grew meanwhile. */
    size_t cap = (size_t)st.st_size + 1, got = 0;
    char *b = malloc(cap);
    if (!b) {
        (void)snprintf(why, why_len, "%s: out of memory", path);
        close(fd);
        return -1;
    }
    for (;;) {
        if (got == cap) {
            if (cap > limit)
                break;
            size_t ncap = cap > (limit + 1) / 2 ? limit + 1 : cap * 2;
            char *g = realloc(b, ncap);
            if (!g) {
                (void)snprintf(why, why_len, "%s: out of memory", path);
                free(b);
                close(fd);
                return -1;
            }
            b = g;
            cap = ncap;
        }
        ssize_t r = read(fd, b + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            (void)snprintf(why, why_len, "%s: cannot read: %s", path, strerror(errno));
            free(b);
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got > limit) {
        (void)snprintf(why, why_len, "%s: larger than the limit of %zu bytes", path, limit);
        free(b);
        return -1;
    }
    *buf = b;
    *n = got;
    return 0;
}

int json_parse_file(const char *path, size_t max_bytes, json_value **out, char *why, size_t why_len)
{
    char msg[512];
    if (why && why_len > 0)
        why[0] = '\0';
    if (!out || !path) {
        if (why && why_len > 0)
            (void)snprintf(why, why_len, "json_parse_file: no path or no place for the result");
        if (out)
            *out = NULL;
        return -1;
    }
    *out = NULL;
    size_t limit = max_bytes < JSON_MAX_INPUT ? max_bytes : JSON_MAX_INPUT;
    char *buf = NULL;
    size_t n = 0;
    if (read_file(path, limit, &buf, &n, msg, sizeof msg) != 0) {
        if (why && why_len > 0)
            (void)snprintf(why, why_len, "%s", msg);
        return -1;
    }
    int rc = json_parse(buf, n, out, msg, sizeof msg);
    free(buf);
    if (rc != 0 && why && why_len > 0)
        (void)snprintf(why, why_len, "%s: %s", path, msg);
    return rc;
}

void json_free(json_value *v)
{
    if (!v)
        return;
    value_clear(v);
    free(v);
}

const json_value *json_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT || !key)
        return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

const char *json_get_str(const json_value *obj, const char *key)
{
    const json_value *v = json_get(obj, key);
    return v && v->type == JSON_STRING ? v->str : NULL;
}

bool json_get_u64(const json_value *obj, const char *key, uint64_t *out)
{
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_NUMBER || !v->is_uint)
        return false;
    *out = v->uint;
    return true;
}

bool json_get_bool(const json_value *obj, const char *key, bool *out)
{
    const json_value *v = json_get(obj, key);
    if (!v || v->type != JSON_BOOL)
        return false;
    *out = v->boolean;
    return true;
}

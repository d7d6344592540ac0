/*
 * Fuzz target: a local JSON file (a job plan, a job summary) through
 * json_parse. A document that parses must hold what the reader promises:
 * nesting at most JSON_MAX_DEPTH, strings and keys NUL-terminated at their
 * length with no NUL inside, an object's keys distinct and each found by
 * json_get, numbers finite and exact when is_uint; every byte of the tree
 * is read (for the sanitizers), and each string written back as a JSON
 * string literal (every byte below 0x20, '"' and '\' escaped) must parse to
 * the same bytes. A refusal must leave no tree and a message that names a
 * line and column. Aborts when an invariant does not hold.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Largest object whose keys are compared pairwise, and largest string written back and parsed again. */
#define PAIRWISE_MAX 256
#define ROUND_TRIP_MAX 4096

static unsigned sum_bytes(const char *s, size_t len)
{
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += (unsigned char)s[i];
    return sum;
}

/* s[0..len) as a JSON string literal, parsed again: must give the same bytes. */
static void round_trip(const char *s, size_t len)
{
    if (len > ROUND_TRIP_MAX)
        return;
    char lit[ROUND_TRIP_MAX * 6 + 2];
    size_t n = 0;
    lit[n++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\') {
            snprintf(lit + n, 7, "\\u%04x", c);
            n += 6;
        } else {
            lit[n++] = (char)c;
        }
    }
    lit[n++] = '"';
    json_value *v = NULL;
    char why[128];
    if (json_parse(lit, n, &v, why, sizeof why) != 0 || !v || v->type != JSON_STRING || v->len != len ||
        memcmp(v->str, s, len) != 0)
        abort();
    json_free(v);
}

static void check_string(const char *s, size_t len)
{
    if (!s || strlen(s) != len)
        abort();
    round_trip(s, len);
}

static unsigned walk(const json_value *v, int depth)
{
    unsigned sum = 0;
    switch (v->type) {
    case JSON_NULL:
        break;
    case JSON_BOOL:
        sum += v->boolean;
        break;
    case JSON_NUMBER:
        if (!isfinite(v->number) || (v->is_uint && v->number != (double)v->uint) || (!v->is_uint && v->uint != 0))
            abort();
        sum += (unsigned)v->uint;
        break;
    case JSON_STRING:
        check_string(v->str, v->len);
        sum += sum_bytes(v->str, v->len);
        break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        if (depth + 1 > JSON_MAX_DEPTH || (v->len == 0) != (v->items == NULL))
            abort();
        if (v->type == JSON_ARRAY && v->keys)
            abort();
        if (v->type == JSON_OBJECT && (v->len == 0) != (v->keys == NULL))
            abort();
        for (size_t i = 0; i < v->len; i++) {
            if (v->type == JSON_OBJECT) {
                size_t klen = v->keys[i] ? strlen(v->keys[i]) : 0;
                check_string(v->keys[i], klen);
                sum += sum_bytes(v->keys[i], klen);
                if (v->len <= PAIRWISE_MAX && json_get(v, v->keys[i]) != &v->items[i])
                    abort(); /* a key found earlier: not distinct */
            }
            sum += walk(&v->items[i], depth + 1);
        }
        break;
    default:
        abort();
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_value *v = (json_value *)&v;
    char why[256];
    memset(why, 'x', sizeof why);
    int rc = json_parse((const char *)data, size, &v, why, sizeof why);
    if (rc != 0) {
        if (rc != -1 || v || !memchr(why, '\0', sizeof why) || strncmp(why, "line ", 5) != 0 ||
            !strstr(why, ", column "))
            abort();
        return 0;
    }
    if (!v)
        abort();
    volatile unsigned sum = walk(v, 0);
    (void)sum;
    json_free(v);
    return 0;
}

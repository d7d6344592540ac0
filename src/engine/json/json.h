/*
 * A small, bounded JSON reader (RFC 8259, strict) for the local JSON files
 * the engine reads back (a job plan, job summaries), which may be damaged or
 * hostile: the input is read only inside the buffer given, nesting is
 * limited to JSON_MAX_DEPTH, every length and count is checked, and a
 * refusal says what is wrong and at which line and column. Reading only: no
 * writer, no editing of the tree. No global state: safe from any thread.
 */
#ifndef SMBCOPY_ENGINE_JSON_H
#define SMBCOPY_ENGINE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Deepest nesting of arrays and objects accepted (the outermost is 1). */
#define JSON_MAX_DEPTH 64
/** Largest input json_parse() accepts, in bytes (256 MiB). */
#define JSON_MAX_INPUT ((size_t)256 * 1024 * 1024)

typedef enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

/**
 * One value of a parsed document. Only the fields of its type are set; the
 * others are zero. Everything it points to belongs to the tree, freed by
 * json_free() on the root.
 */
typedef struct json_value {
    json_type type;
    bool boolean;             /* JSON_BOOL */
    double number;            /* JSON_NUMBER, as a double (the nearest one) */
    bool is_uint;             /* JSON_NUMBER: a non-negative integer literal (no '-', no fraction, no exponent) that fits uint64_t */
    uint64_t uint;            /* ... its exact value when is_uint */
    char *str;                /* JSON_STRING: UTF-8, NUL-terminated (a string holding \u0000 is refused) */
    size_t len;               /* JSON_STRING: bytes in str; JSON_ARRAY/JSON_OBJECT: number of items */
    struct json_value *items; /* JSON_ARRAY: the elements; JSON_OBJECT: the values, in file order (NULL when len is 0) */
    char **keys;              /* JSON_OBJECT: the keys (UTF-8, NUL-terminated, distinct), keys[i] names items[i] */
} json_value;

/**
 * Parse text[0..len) (not NUL-terminated; nothing past len is read; text
 * may be NULL when len is 0) as one JSON text: one value with optional
 * whitespace around it. Strict RFC 8259: no trailing commas, comments or
 * byte order mark; strings must be valid UTF-8 (overlong forms, UTF-8
 * encoded surrogates and code points above U+10FFFF are refused), \uXXXX
 * escapes are decoded (a surrogate pair to one code point; a lone surrogate
 * and \u0000 are refused), raw control characters in strings are refused;
 * numbers follow the RFC's grammar (no leading zeros, no '+', no bare '.'),
 * and one too large for a double or longer than 1024 characters is
 * refused (the RFC lets a reader limit range and precision; "-0" is not
 * is_uint); an object may not hold the same key twice. Nesting deeper than
 * JSON_MAX_DEPTH and input larger than JSON_MAX_INPUT are refused. Not
 * every refusal names a place: a NULL out or text, or a len over the
 * limit, are said without one.
 *
 * Returns 0 with *out the root (the caller frees it with json_free()), or
 * -1 with *out NULL and why (when why_len > 0) one NUL-terminated line
 * saying what is wrong and where, as "line 3, column 14: expected ',' or
 * '}'" (lines and columns count from 1, columns in characters). Memory:
 * a json_value (64 bytes on 64-bit systems) per value, so up to about 32
 * bytes per input byte once parsed and twice that while an array grows; a
 * caller reading untrusted input bounds len accordingly.
 */
int json_parse(const char *text, size_t len, json_value **out, char *why, size_t why_len);

/**
 * Read the whole file at path and json_parse() it. A file larger than
 * max_bytes (or than JSON_MAX_INPUT) is refused without reading more than
 * that, as is anything but a regular file. Returns 0 with *out the root
 * (free with json_free()) or -1 with *out NULL and why one line that names
 * the path ("plan.json: line 3, column 14: ...").
 */
int json_parse_file(const char *path, size_t max_bytes, json_value **out, char *why, size_t why_len);

/** Free a root returned by json_parse() or json_parse_file() and everything under it; NULL is allowed. */
void json_free(json_value *v);

/**
 * The value of key in object obj (compared byte for byte), owned by the
 * tree; NULL when obj is NULL, not an object, or has no such key. A linear
 * scan of the keys.
 */
const json_value *json_get(const json_value *obj, const char *key);

/** The string of key in obj (owned by the tree), or NULL when it is missing or not a string. */
const char *json_get_str(const json_value *obj, const char *key);

/** True with *out set when key is in obj and is a number with is_uint; otherwise false and *out untouched. */
bool json_get_u64(const json_value *obj, const char *key, uint64_t *out);

/** True with *out set when key is in obj and is a boolean; otherwise false and *out untouched. */
bool json_get_bool(const json_value *obj, const char *key, bool *out);

#endif

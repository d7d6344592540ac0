/*
 * The bounded JSON reader (engine/json/json.c): nested documents read back with
 * their types, keys (in file order) and values; numbers exact up to
 * UINT64_MAX; every escape decoded; every violation of RFC 8259 refused
 * with a message naming its line and column; every truncation of a valid
 * document refused; the file reader's refusals name the path. Each parse
 * runs on an exact-size heap copy, for the sanitizers and valgrind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/json/json.h"

/* json_parse on an exact-size heap copy of text[0..len). */
static int parse_n(const char *text, size_t len, json_value **out, char *why, size_t why_len)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, text, len);
    int rc = json_parse(copy, len, out, why, why_len);
    free(copy);
    return rc;
}

/* A document that must parse. */
static json_value *parse_ok(const char *text)
{
    json_value *v = (json_value *)&v;
    char why[256] = "untouched";
    int rc = parse_n(text, strlen(text), &v, why, sizeof why);
    if (rc != 0)
        fail_msg("refused %s: %s", text, why);
    assert_non_null(v);
    return v;
}

/* text[0..len) must be refused with why "line L, column C: ..." holding what. */
static void refuse_n(const char *text, size_t len, unsigned line, unsigned col, const char *what)
{
    json_value *v = (json_value *)&v;
    char why[256] = "";
    assert_int_equal(parse_n(text, len, &v, why, sizeof why), -1);
    assert_null(v);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "line %u, column %u: ", line, col);
    if (strncmp(why, prefix, strlen(prefix)) != 0 || !strstr(why, what))
        fail_msg("for %.*s: why is \"%s\", wanted \"%s...%s...\"", (int)len, text, why, prefix, what);
}

static void refuse(const char *text, unsigned line, unsigned col, const char *what)
{
    refuse_n(text, strlen(text), line, col, what);
}

static void test_nested(void **state)
{
    (void)state;
    json_value *root = parse_ok("{\n"
                                "  \"name\": \"job-1\",\n"
                                "  \"count\": 3,\n"
                                "  \"ok\": true,\n"
                                "  \"off\": false,\n"
                                "  \"nothing\": null,\n"
                                "  \"files\": [ {\"path\": \"a/b\", \"size\": 10}, {\"path\": \"c\", \"size\": 0} ],\n"
                                "  \"nested\": {\"deep\": [[1, [2]], {}], \"empty\": [], \"\": \"\"}\n"
                                "}\n");
    assert_int_equal(root->type, JSON_OBJECT);
    assert_int_equal(root->len, 7);
    const char *keys[] = {"name", "count", "ok", "off", "nothing", "files", "nested"};
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(root->keys[i], keys[i]);

    assert_string_equal(json_get_str(root, "name"), "job-1");
    assert_int_equal(json_get(root, "name")->len, 5);
    uint64_t u = 99;
    assert_true(json_get_u64(root, "count", &u));
    assert_int_equal(u, 3);
    assert_true(json_get(root, "count")->number == 3.0);
    bool b = false;
    assert_true(json_get_bool(root, "ok", &b));
    assert_true(b);
    assert_true(json_get_bool(root, "off", &b));
    assert_false(b);
    assert_int_equal(json_get(root, "nothing")->type, JSON_NULL);

    /* The accessors refuse what is missing or of another type, and leave *out alone. */
    u = 99;
    b = true;
    assert_null(json_get(root, "missing"));
    assert_null(json_get_str(root, "count"));
    assert_false(json_get_u64(root, "name", &u));
    assert_false(json_get_u64(root, "missing", &u));
    assert_int_equal(u, 99);
    assert_false(json_get_bool(root, "nothing", &b));
    assert_true(b);
    assert_null(json_get(NULL, "name"));

    const json_value *files = json_get(root, "files");
    assert_non_null(files);
    assert_int_equal(files->type, JSON_ARRAY);
    assert_int_equal(files->len, 2);
    assert_null(files->keys);
    assert_null(json_get(files, "path")); /* not an object */
    assert_int_equal(files->items[0].type, JSON_OBJECT);
    assert_string_equal(json_get_str(&files->items[0], "path"), "a/b");
    assert_true(json_get_u64(&files->items[0], "size", &u));
    assert_int_equal(u, 10);
    assert_string_equal(json_get_str(&files->items[1], "path"), "c");
    assert_true(json_get_u64(&files->items[1], "size", &u));
    assert_int_equal(u, 0);

    const json_value *nested = json_get(root, "nested");
    assert_int_equal(nested->type, JSON_OBJECT);
    assert_int_equal(nested->len, 3);
    assert_string_equal(nested->keys[2], "");
    assert_string_equal(json_get_str(nested, ""), "");
    const json_value *deep = json_get(nested, "deep");
    assert_int_equal(deep->type, JSON_ARRAY);
    assert_int_equal(deep->len, 2);
    assert_int_equal(deep->items[0].type, JSON_ARRAY);
    assert_int_equal(deep->items[0].len, 2);
    assert_true(deep->items[0].items[0].is_uint);
    assert_int_equal(deep->items[0].items[0].uint, 1);
    assert_int_equal(deep->items[0].items[1].type, JSON_ARRAY);
    assert_int_equal(deep->items[0].items[1].len, 1);
    assert_int_equal(deep->items[0].items[1].items[0].uint, 2);
    assert_int_equal(deep->items[1].type, JSON_OBJECT);
    assert_int_equal(deep->items[1].len, 0);
    assert_null(deep->items[1].items);
    const json_value *empty = json_get(nested, "empty");
    assert_int_equal(empty->type, JSON_ARRAY);
    assert_int_equal(empty->len, 0);
    json_free(root);
    json_free(NULL);

    /* Scalars at the top, with whitespace around. */
    json_value *v = parse_ok(" \t\r\n\"x\" \n");
    assert_int_equal(v->type, JSON_STRING);
    assert_string_equal(v->str, "x");
    json_free(v);
    v = parse_ok("null");
    assert_int_equal(v->type, JSON_NULL);
    json_free(v);
    v = parse_ok("false");
    assert_int_equal(v->type, JSON_BOOL);
    assert_false(v->boolean);
    json_free(v);
}

static void test_numbers(void **state)
{
    (void)state;
    json_value *v = parse_ok("18446744073709551615");
    assert_int_equal(v->type, JSON_NUMBER);
    assert_true(v->is_uint);
    assert_true(v->uint == UINT64_MAX);
    json_free(v);

    v = parse_ok("18446744073709551616");
    assert_int_equal(v->type, JSON_NUMBER);
    assert_false(v->is_uint);
    assert_true(v->number == 18446744073709551616.0);
    json_free(v);

    v = parse_ok("[0, -0, -42, 3.25, -0.5e2, 1E3, 2e+2, 125e-3, 1e-400, -9223372036854775808, 100000000000000000000000]");
    assert_int_equal(v->len, 11);
    const json_value *n = v->items;
    for (size_t i = 0; i < v->len; i++)
        assert_int_equal(n[i].type, JSON_NUMBER);
    assert_true(n[0].is_uint);
    assert_int_equal(n[0].uint, 0);
    assert_false(n[1].is_uint); /* "-0" is not a non-negative literal */
    assert_true(n[1].number == 0.0);
    assert_false(n[2].is_uint);
    assert_true(n[2].number == -42.0);
    assert_false(n[3].is_uint);
    assert_true(n[3].number == 3.25);
    assert_false(n[4].is_uint);
    assert_true(n[4].number == -50.0);
    assert_false(n[5].is_uint); /* an exponent: not an integer literal */
    assert_true(n[5].number == 1000.0);
    assert_true(n[6].number == 200.0);
    assert_true(n[7].number == 0.125);
    assert_true(n[8].number == 0.0);
    assert_false(n[9].is_uint);
    assert_true(n[9].number == -9223372036854775808.0);
    assert_false(n[10].is_uint);
    assert_true(n[10].number == 1e23);
    json_free(v);

    refuse("[01]", 1, 2, "leading zero");
    refuse("[-01]", 1, 2, "leading zero");
    refuse("[00]", 1, 2, "leading zero");
    refuse("[+1]", 1, 2, "expected a value");
    refuse("[.5]", 1, 2, "expected a value");
    refuse("[1.]", 1, 4, "expected a digit after '.'");
    refuse("[1.e5]", 1, 4, "expected a digit after '.'");
    refuse("[1e]", 1, 4, "expected a digit in the exponent");
    refuse("[1e+]", 1, 5, "expected a digit in the exponent");
    refuse("[-]", 1, 3, "expected a digit after '-'");
    refuse("[- 1]", 1, 3, "expected a digit after '-'");
    refuse("[1e400]", 1, 2, "too large");
    refuse("[-1e400]", 1, 2, "too large");
    refuse("[0x10]", 1, 3, "expected ',' or ']'");
    refuse("[NaN]", 1, 2, "expected a value");
    refuse("[Infinity]", 1, 2, "expected a value");
}

static void test_strings(void **state)
{
    (void)state;
    json_value *v = parse_ok("\"q\\\" bs\\\\ sl\\/ b\\b f\\f n\\n r\\r t\\t A\\u0041 e\\u00e9 E\\u20AC g\\uD83D\\uDE00 "
                             "x\\u007f h\\uffFF\"");
    const char want[] = "q\" bs\\ sl/ b\b f\f n\n r\r t\t AA e\xC3\xA9 E\xE2\x82\xAC g\xF0\x9F\x98\x80 "
                        "x\x7F h\xEF\xBF\xBF";
    assert_int_equal(v->type, JSON_STRING);
    assert_int_equal(v->len, sizeof want - 1);
    assert_memory_equal(v->str, want, sizeof want);
    json_free(v);

    /* Valid UTF-8 passes through as it is: 2, 3 and 4 bytes, the edges of each range. */
    v = parse_ok("[\"\xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xF0\x90\x80\x80 \xF4\x8F\xBF\xBF\"]");
    assert_string_equal(v->items[0].str,
                        "\xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xF0\x90\x80\x80 \xF4\x8F\xBF\xBF");
    json_free(v);

    /* The surrogate pair's edges. */
    v = parse_ok("[\"\\uD800\\uDC00\", \"\\uDBFF\\uDFFF\"]");
    assert_string_equal(v->items[0].str, "\xF0\x90\x80\x80");
    assert_string_equal(v->items[1].str, "\xF4\x8F\xBF\xBF");
    json_free(v);

    refuse("[\"a\\x\"]", 1, 4, "invalid escape");
    refuse("[\"a\\U0041\"]", 1, 4, "invalid escape");
    refuse("[\"\\u12G4\"]", 1, 3, "4 hex digits");
    refuse("[\"\\u12\"]", 1, 3, "4 hex digits");
    refuse("[\"\\uD800\"]", 1, 3, "lone surrogate");
    refuse("[\"\\uDC00\"]", 1, 3, "lone surrogate");
    refuse("[\"\\uD800\\u0041\"]", 1, 3, "lone surrogate");
    refuse("[\"\\uD800\\uD800\"]", 1, 3, "lone surrogate");
    refuse("[\"\\uD800x\"]", 1, 3, "lone surrogate");
    refuse("[\"ab\\uDE00\\uD83D\"]", 1, 5, "lone surrogate");
    refuse("[\"ok\\u0000\"]", 1, 5, "\\u0000");
    refuse("[\"a\xFF" "b\"]", 1, 4, "invalid UTF-8");
    refuse("[\"a\x80\"]", 1, 4, "invalid UTF-8");
    refuse("[\"a\xC3\"]", 1, 4, "invalid UTF-8");             /* cut short by the quote */
    refuse("[\"a\xE2\x82\"]", 1, 4, "invalid UTF-8");
    refuse("[\"\xC0\xAF\"]", 1, 3, "overlong");
    refuse("[\"\xC1\xBF\"]", 1, 3, "overlong");
    refuse("[\"\xE0\x80\xAF\"]", 1, 3, "overlong");
    refuse("[\"\xF0\x80\x80\xAF\"]", 1, 3, "overlong");
    refuse("[\"\xED\xA0\x80\"]", 1, 3, "surrogate");
    refuse("[\"\xF4\x90\x80\x80\"]", 1, 3, "above U+10FFFF");
    refuse("[\"\xF5\x80\x80\x80\"]", 1, 3, "above U+10FFFF");
    refuse("[\"a\tb\"]", 1, 4, "control character U+0009");
    refuse("{\"key\": \"one\ntwo\"}", 1, 13, "control character U+000A");
    refuse("[\"\x01\"]", 1, 3, "control character U+0001");
    refuse("[\"a\\\x01\"]", 1, 4, "invalid escape"); /* an escaped control character */
    refuse("{\"a\": \"abc", 1, 7, "unterminated string");
    refuse("[\"abc\\\"]", 1, 2, "unterminated string");
    refuse("\"abc\\", 1, 1, "unterminated string");
    /* A key is a string like any other. */
    refuse("{\"a\xFF\": 1}", 1, 4, "invalid UTF-8");
    refuse("{\"\\uDC00\": 1}", 1, 3, "lone surrogate");
}

static void test_syntax(void **state)
{
    (void)state;
    refuse("{\"a\": 1,}", 1, 9, "trailing comma");
    refuse("[1, 2,]", 1, 7, "trailing comma");
    refuse("[1, 2, \n ]", 2, 2, "trailing comma");
    refuse("{\n  \"a\" 1\n}", 2, 7, "expected ':'");
    refuse("{\"a\", \"b\"}", 1, 5, "expected ':'");
    refuse("{\"a\": 1 \"b\": 2}", 1, 9, "expected ',' or '}'");
    refuse("{\n  \"list\": [1, 2],\n  \"n\": 3 4\n}", 3, 10, "expected ',' or '}'");
    refuse("[1 2]", 1, 4, "expected ',' or ']'");
    refuse("{1: 2}", 1, 2, "expected a string key");
    refuse("{'a': 2}", 1, 2, "expected a string key");
    refuse("{,}", 1, 2, "expected a string key");
    refuse("[,]", 1, 2, "expected a value");
    refuse("[1,,2]", 1, 4, "expected a value");
    refuse("[tru]", 1, 2, "invalid literal");
    refuse("[nul", 1, 5, "unexpected end of input");
    refuse("[True]", 1, 2, "expected a value");
    refuse("[truex]", 1, 6, "expected ',' or ']'");
    refuse("[1] // comment", 1, 5, "after the JSON value");
    refuse("/* c */ 1", 1, 1, "expected a value");
    refuse("{} x", 1, 4, "after the JSON value");
    refuse("1 2", 1, 3, "after the JSON value");
    refuse("{}\n{}", 2, 1, "after the JSON value");
    refuse("\"\xC3\xA9t\xC3\xA9\" x", 1, 7, "after the JSON value"); /* columns count characters */
    refuse("", 1, 1, "empty input");
    refuse("  \n ", 2, 2, "empty input");
    refuse("\xEF\xBB\xBF{}", 1, 1, "byte order mark");
    refuse("\f1", 1, 1, "expected a value");
    refuse_n("[\"a\"\0]", 6, 1, 5, "expected ',' or ']'");
    refuse_n("[1]\0", 4, 1, 4, "after the JSON value"); /* a NUL after the value is data */
    /* Duplicate keys: pairwise in small objects, by sorting in large ones. */
    refuse("{\"a\": 1, \"b\": 2, \"a\": 3}", 1, 18, "duplicate key \"a\"");
    refuse("{\"a\": {\"x\": 1, \"x\": 1}}", 1, 16, "duplicate key \"x\"");
    refuse("{\"\\u0061\": 1, \"a\": 2}", 1, 15, "duplicate key \"a\""); /* equal once decoded */
    refuse("{\"a\\nb\": 1, \"a\\nb\": 2}", 1, 13, "duplicate key \"a?b\"");
    json_value *v = parse_ok("{\"a\": 1, \"A\": 2, \"a \": 3}");
    assert_int_equal(v->len, 3);
    json_free(v);
}

/* An object of n keys "kI" (one a line), with key dup (when < n) written again after them. */
static char *many_keys(size_t n, size_t dup, size_t *len)
{
    size_t cap = 32 * (n + 2), used = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    used += (size_t)snprintf(s + used, cap - used, "{\n");
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(s + used, cap - used, "\"k%zu\": %zu,\n", i, i);
    if (dup < n)
        used += (size_t)snprintf(s + used, cap - used, "\"k%zu\": 0,\n", dup);
    used += (size_t)snprintf(s + used, cap - used, "\"last\": true}");
    assert_true(used < cap);
    *len = used;
    return s;
}

static void test_large_object(void **state)
{
    (void)state;
    enum { N = 5000 };
    size_t len;
    char *s = many_keys(N, SIZE_MAX, &len);
    json_value *v = NULL;
    char why[256];
    assert_int_equal(parse_n(s, len, &v, why, sizeof why), 0);
    assert_int_equal(v->len, N + 1);
    uint64_t u = 0;
    assert_true(json_get_u64(v, "k4999", &u));
    assert_int_equal(u, 4999);
    assert_true(json_get_u64(v, "k0", &u));
    assert_int_equal(u, 0);
    bool b = false;
    assert_true(json_get_bool(v, "last", &b));
    assert_true(b);
    json_free(v);
    free(s);

    /* k17 again on line N + 2 (line 1 is the "{"). */
    s = many_keys(N, 17, &len);
    refuse_n(s, len, N + 2, 1, "duplicate key \"k17\"");
    free(s);
}

static void test_depth(void **state)
{
    (void)state;
    char doc[2 * (JSON_MAX_DEPTH + 1) + 1];
    for (int depth = JSON_MAX_DEPTH; depth <= JSON_MAX_DEPTH + 1; depth++) {
        memset(doc, '[', (size_t)depth);
        memset(doc + depth, ']', (size_t)depth);
        size_t len = 2 * (size_t)depth;
        if (depth == JSON_MAX_DEPTH) {
            json_value *v = NULL;
            char why[256];
            assert_int_equal(parse_n(doc, len, &v, why, sizeof why), 0);
            const json_value *a = v;
            for (int i = 1; i < depth; i++) {
                assert_int_equal(a->type, JSON_ARRAY);
                assert_int_equal(a->len, 1);
                a = &a->items[0];
            }
            assert_int_equal(a->type, JSON_ARRAY);
            assert_int_equal(a->len, 0);
            json_free(v);
        } else {
            refuse_n(doc, len, 1, JSON_MAX_DEPTH + 1, "nesting deeper than 64");
        }
    }
    /* Objects count as levels too, and so do mixtures. */
    char obj[8 * (JSON_MAX_DEPTH + 1) + 1];
    size_t n = 0;
    for (int i = 0; i < JSON_MAX_DEPTH + 1; i++)
        n += (size_t)snprintf(obj + n, sizeof obj - n, i % 2 ? "[" : "{\"a\":");
    refuse_n(obj, n, 1, 6 * (JSON_MAX_DEPTH / 2) + 1, "nesting deeper than 64"); /* at the 65th opener */
    /* Deep but refused later: everything built so far is freed (ASan/valgrind check). */
    memset(doc, '[', JSON_MAX_DEPTH - 2);
    snprintf(doc + JSON_MAX_DEPTH - 2, sizeof doc - (JSON_MAX_DEPTH - 2), "1,\"x\",{\"k\":[2]}");
    refuse(doc, 1, JSON_MAX_DEPTH + 14, "unexpected end of input, expected ',' or ']'");
}

static void test_truncation(void **state)
{
    (void)state;
    const char doc[] = "{\"name\": \"caf\xC3\xA9 \\u20AC \\uD83D\\uDE00\", \"n\": [0, -1.5e3, 18446744073709551615, true, "
                       "false, null], \"o\": {\"k\": {}}, \"e\": []}";
    size_t len = sizeof doc - 1;
    json_value *v = parse_ok(doc);
    assert_int_equal(v->len, 4);
    json_free(v);
    for (size_t cut = 0; cut < len; cut++) {
        v = (json_value *)&v;
        char why[256] = "";
        if (parse_n(doc, cut, &v, why, sizeof why) != -1)
            fail_msg("prefix of %zu bytes accepted", cut);
        assert_null(v);
        assert_true(strncmp(why, "line 1, column ", 15) == 0);
    }
}

static void test_why_buffer(void **state)
{
    (void)state;
    json_value *v = (json_value *)&v;
    char small[8];
    memset(small, 'x', sizeof small);
    assert_int_equal(json_parse("[1,]", 4, &v, small, sizeof small), -1);
    assert_null(v);
    assert_string_equal(small, "line 1,");
    v = (json_value *)&v;
    assert_int_equal(json_parse("[1,]", 4, &v, NULL, 0), -1);
    assert_null(v);
    assert_int_equal(json_parse(NULL, 0, &v, small, sizeof small), -1);
    assert_null(v);
    char why[128];
    assert_int_equal(json_parse("[]", 2, NULL, why, sizeof why), -1);
    assert_int_equal(json_parse(NULL, 5, &v, why, sizeof why), -1);
    assert_int_equal(json_parse("[]", JSON_MAX_INPUT + 1, &v, why, sizeof why), -1); /* not read: refused on size */
    assert_non_null(strstr(why, "larger than the limit"));
}

/* A file in $TMPDIR holding text; its path in path. */
static void write_file(char *path, size_t path_len, const char *text)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, path_len, "%s/smbcopy-json-test-%d-XXXXXX", tmp, (int)getpid());
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    assert_int_equal(close(fd), 0);
}

static void test_file(void **state)
{
    (void)state;
    char path[512], why[1024];
    json_value *v = (json_value *)&v;

    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, sizeof path, "%s/smbcopy-json-test-missing-%d.json", tmp, (int)getpid());
    assert_int_equal(json_parse_file(path, 1024, &v, why, sizeof why), -1);
    assert_null(v);
    assert_non_null(strstr(why, path));
    assert_non_null(strstr(why, "cannot open"));

    assert_int_equal(json_parse_file(tmp, 1024, &v, why, sizeof why), -1); /* a directory */
    assert_non_null(strstr(why, "not a regular file"));

    write_file(path, sizeof path, "{\"plan\": [1, 2, 3], \"pad\": \"0123456789012345678901234567890123456789\"}");
    v = (json_value *)&v;
    assert_int_equal(json_parse_file(path, 50, &v, why, sizeof why), -1);
    assert_null(v);
    assert_non_null(strstr(why, path));
    assert_non_null(strstr(why, "larger than the limit of 50 bytes"));
    assert_int_equal(json_parse_file(path, 4096, &v, why, sizeof why), 0);
    assert_int_equal(json_get(v, "plan")->len, 3);
    json_free(v);
    unlink(path);

    write_file(path, sizeof path, "{\n  \"a\": 1,\n  \"b\" 2\n}\n");
    v = (json_value *)&v;
    assert_int_equal(json_parse_file(path, 4096, &v, why, sizeof why), -1);
    assert_null(v);
    char want[600];
    snprintf(want, sizeof want, "%s: line 3, column 7: expected ':'", path);
    assert_true(strncmp(why, want, strlen(want)) == 0);
    unlink(path);

    write_file(path, sizeof path, "");
    assert_int_equal(json_parse_file(path, 4096, &v, why, sizeof why), -1);
    assert_non_null(strstr(why, "empty input"));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested),       cmocka_unit_test(test_numbers), cmocka_unit_test(test_strings),
        cmocka_unit_test(test_syntax),       cmocka_unit_test(test_large_object), cmocka_unit_test(test_depth),
        cmocka_unit_test(test_truncation),   cmocka_unit_test(test_why_buffer), cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Filter rules (engine/filter.h): rsync's include/exclude pattern semantics,
 * checked against the examples of rsync(1) "INCLUDE/EXCLUDE PATTERN RULES",
 * the patterns that matched nothing before (issue 16, case 6), smbcopy's
 * "with any include, an unmatched file is excluded" rule, malformed rules,
 * and hostile patterns that must finish in bounded time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/names/filter.h"

#define MAX_RULES 6

static char *repeat(const char *prefix, const char *unit, size_t times, const char *suffix);

/* One decision: with rules (command-line order), is path (a directory when
 * is_dir) excluded? */
typedef struct filter_case {
    const char *rules[MAX_RULES]; /* up to the first NULL */
    const char *path;
    bool is_dir;
    bool excluded;
} filter_case;

#define F false
#define D true
#define EXCL true
#define KEEP false

static const filter_case cases[] = {
    /* ---- rsync(1): "- *.o" would exclude all names matching *.o */
    {{"- *.o"}, "a.o", F, EXCL},
    {{"- *.o"}, "src/deep/a.o", F, EXCL},
    {{"- *.o"}, "objs.o", D, EXCL},
    {{"- *.o"}, "a.c", F, KEEP},
    {{"- *.o"}, "a.o/b.c", F, KEEP},
    /* "- /foo" would exclude a file (or directory) named foo in the transfer-root directory */
    {{"- /foo"}, "foo", F, EXCL},
    {{"- /foo"}, "foo", D, EXCL},
    {{"- /foo"}, "x/foo", F, KEEP},
    {{"- /foo"}, "x/foo", D, KEEP},
    {{"- /foo"}, "foobar", F, KEEP},
    /* "- foo/" would exclude any directory named foo */
    {{"- foo/"}, "foo", D, EXCL},
    {{"- foo/"}, "a/b/foo", D, EXCL},
    {{"- foo/"}, "foo", F, KEEP},
    {{"- foo/"}, "a/foo", F, KEEP},
    /* "- /foo/" + "*" + "/bar": bar two levels below a top-level foo */
    {{"- /foo/*/bar"}, "foo/x/bar", F, EXCL},
    {{"- /foo/*/bar"}, "foo/x/bar", D, EXCL},
    {{"- /foo/*/bar"}, "foo/bar", F, KEEP},
    {{"- /foo/*/bar"}, "foo/x/y/bar", F, KEEP},
    {{"- /foo/*/bar"}, "top/foo/x/bar", F, KEEP},
    /* "- /foo/" + "**" + "/bar": bar two or more levels below a top-level foo */
    {{"- /foo/**/bar"}, "foo/x/bar", F, EXCL},
    {{"- /foo/**/bar"}, "foo/x/y/z/bar", F, EXCL},
    {{"- /foo/**/bar"}, "foo/bar", F, KEEP},
    {{"- /foo/**/bar"}, "top/foo/x/bar", F, KEEP},
    /* an unanchored pattern with a '/' matches at any directory boundary */
    {{"- sub/foo"}, "sub/foo", F, EXCL},
    {{"- sub/foo"}, "a/b/sub/foo", F, EXCL},
    {{"- sub/foo"}, "a/xsub/foo", F, KEEP},
    {{"- sub/foo"}, "sub/foo/x", F, KEEP},
    {{"- foo/*/bar"}, "a/foo/x/bar", F, EXCL},
    {{"- foo/*/bar"}, "a/foo/x/y/bar", F, KEEP},
    /* "+ (star)/", "+ *.c", "- *": all directories and C sources, nothing else */
    {{"+ */", "+ *.c", "- *"}, "src", D, KEEP},
    {{"+ */", "+ *.c", "- *"}, "src/lib/deep", D, KEEP},
    {{"+ */", "+ *.c", "- *"}, "src/lib/a.c", F, KEEP},
    {{"+ */", "+ *.c", "- *"}, "main.c", F, KEEP},
    {{"+ */", "+ *.c", "- *"}, "src/a.h", F, EXCL},
    {{"+ */", "+ *.c", "- *"}, "Makefile", F, EXCL},
    /* "+ foo/" "+ foo/bar.c" "- *": only the foo directory and foo/bar.c */
    {{"+ foo/", "+ foo/bar.c", "- *"}, "foo", D, KEEP},
    {{"+ foo/", "+ foo/bar.c", "- *"}, "foo/bar.c", F, KEEP},
    {{"+ foo/", "+ foo/bar.c", "- *"}, "foo/baz.c", F, EXCL},
    {{"+ foo/", "+ foo/bar.c", "- *"}, "foo/sub", D, EXCL},
    {{"+ foo/", "+ foo/bar.c", "- *"}, "bar.c", F, EXCL},
    {{"+ foo/", "+ foo/bar.c", "- *"}, "other", D, EXCL},
    {{"+ foo/", "+ foo/bar.c", "- *"}, "foo", F, EXCL},
    /* the parent directories of a deep include must be included themselves */
    {{"+ /some/", "+ /some/path/", "+ /some/path/this-file-is-found", "+ /file-also-included", "- *"},
     "some/path/this-file-is-found",
     F,
     KEEP},
    {{"+ /some/", "+ /some/path/", "+ /some/path/this-file-is-found", "+ /file-also-included", "- *"},
     "some/path",
     D,
     KEEP},
    {{"+ /some/", "+ /some/path/", "+ /some/path/this-file-is-found", "+ /file-also-included", "- *"},
     "file-also-included",
     F,
     KEEP},
    {{"+ /some/", "+ /some/path/", "+ /some/path/this-file-is-found", "+ /file-also-included", "- *"},
     "some/other",
     F,
     EXCL},
    {{"+ /some/", "+ /some/path/", "+ /some/path/this-file-is-found", "+ /file-also-included", "- *"},
     "else",
     D,
     EXCL},
    /* "dir_name/" + "***": the directory itself and everything in it */
    {{"- dir/***"}, "dir", D, EXCL},
    {{"- dir/***"}, "dir/a", F, EXCL},
    {{"- dir/***"}, "dir/a/b/c", F, EXCL},
    {{"- dir/***"}, "x/dir", D, EXCL},
    {{"- dir/***"}, "x/dir/y", F, EXCL},
    {{"- dir/***"}, "dir", F, KEEP},
    {{"- dir/***"}, "dirx", D, KEEP},
    {{"- /dir/***"}, "x/dir/y", F, KEEP},
    {{"+ /dir/***", "- *"}, "dir", D, KEEP},
    {{"+ /dir/***", "- *"}, "dir/a/b", F, KEEP},
    {{"+ /dir/***", "- *"}, "other", F, EXCL},
    /* "dir/" + "**": everything below, not the directory itself */
    {{"- dir/**"}, "dir", D, KEEP},
    {{"- dir/**"}, "dir/a/b", F, EXCL},

    /* ---- '*' stops at '/', '**' crosses it, '?', classes, escapes */
    {{"- /a*c"}, "abc", F, EXCL},
    {{"- /a*c"}, "a/c", F, KEEP},
    {{"- /a**c"}, "a/b/c", F, EXCL},
    {{"- /a**c"}, "ac", F, EXCL},
    {{"- *"}, "x", D, EXCL},
    {{"- *"}, ".hidden", F, EXCL},
    {{"- **"}, "a/b/c", F, EXCL},
    {{"- ?.txt"}, "a.txt", F, EXCL},
    {{"- ?.txt"}, "ab.txt", F, KEEP},
    {{"- ?.txt"}, ".txt", F, KEEP},
    {{"- /?"}, "a", F, EXCL},
    {{"- /a?b"}, "a/b", F, KEEP},
    {{"- ?.txt"}, "\xc3\xa9.txt", F, EXCL}, /* one character (UTF-8 é), two bytes */
    {{"- caf?"}, "caf\xc3\xa9", F, EXCL},
    {{"- [\xc3\xa9\xc3\xa8]t\xc3\xa9"}, "\xc3\xa8t\xc3\xa9", F, EXCL},
    {{"- [a-c]*"}, "b1", F, EXCL},
    {{"- [a-c]*"}, "d1", F, KEEP},
    {{"- [!a-c]*"}, "d1", F, EXCL},
    {{"- [!a-c]*"}, "b1", F, KEEP},
    {{"- [^a]x"}, "bx", F, EXCL},
    {{"- [^a]x"}, "ax", F, KEEP},
    {{"- /d[!a]x"}, "d/x", F, KEEP}, /* a class never matches '/' */
    {{"- /a[/]b"}, "a/b", F, KEEP},
    {{"- []]x"}, "]x", F, EXCL},
    {{"- [!]]x"}, "]x", F, KEEP},
    {{"- [a-]x"}, "-x", F, EXCL},
    {{"- [[:digit:]]*"}, "7z", F, EXCL},
    {{"- [[:digit:]]*"}, "z7", F, KEEP},
    {{"- [[:upper:][:digit:]]?"}, "Q1", F, EXCL},
    {{"- [[:upper:][:digit:]]?"}, "q1", F, KEEP},
    {{"- a\\*"}, "a*", F, EXCL},
    {{"- a\\*"}, "ab", F, KEEP},
    {{"- \\[x]*"}, "[x]y", F, EXCL},
    {{"- \\[x]*"}, "xy", F, KEEP},
    {{"- [abc"}, "[abc", F, EXCL}, /* an unclosed '[' is a literal */
    {{"- [abc"}, "a", F, KEEP},
    {{"- [abc*"}, "[abcdef", F, EXCL},
    /* without '*', '?' or '[' a backslash is literal (rsync) */
    {{"- foo\\bar"}, "foo\\bar", F, EXCL},
    {{"- foo\\bar"}, "foobar", F, KEEP},
    {{"- *.LOG"}, "a.log", F, KEEP}, /* case matters, as in rsync */

    /* ---- issue 16, case 6: rsync patterns that matched nothing */
    {{"- cache/"}, "cache", D, EXCL},
    {{"- cache/"}, "a/cache", D, EXCL},
    {{"- cache/"}, "cache", F, KEEP},
    {{"- /cache"}, "cache", D, EXCL},
    {{"- /cache"}, "cache", F, EXCL},
    {{"- /cache"}, "a/cache", D, KEEP},
    {{"- **/cache"}, "cache", D, EXCL},
    {{"- **/cache"}, "a/cache", D, EXCL},
    {{"- **/cache"}, "a/b/cache", F, EXCL},
    {{"- **/cache"}, "a/xcache", D, KEEP},
    {{"- **/cache"}, "cache/x", F, KEEP},
    {{"- /**/cache"}, "cache", D, EXCL},
    {{"- /**/cache"}, "a/b/cache", D, EXCL},
    {{"+ **/*.txt"}, "top.txt", F, KEEP},
    {{"+ **/*.txt"}, "a/b/b.txt", F, KEEP},
    {{"+ **/*.txt"}, "a", D, KEEP},
    {{"+ **/*.txt"}, "a/b", D, KEEP},
    {{"+ **/*.txt"}, "top.log", F, EXCL},
    {{"+ **/*.txt"}, "a/b/c.log", F, EXCL},
    {{"+ **/*.txt"}, "a/b.txt/c", F, EXCL},

    /* ---- first match wins, in command-line order */
    {{"+ keep.log", "- *.log"}, "keep.log", F, KEEP},
    {{"+ keep.log", "- *.log"}, "d/keep.log", F, KEEP},
    {{"+ keep.log", "- *.log"}, "other.log", F, EXCL},
    {{"+ keep.log", "- *.log"}, "other.txt", F, EXCL}, /* any include: unmatched files are not copied */
    {{"+ keep.log", "- *.log", "+ *"}, "other.txt", F, KEEP},
    {{"- *.log", "+ keep.log"}, "keep.log", F, EXCL},
    {{"- /d/", "+ *.txt"}, "d", D, EXCL},

    /* ---- smbcopy: with any include, an unmatched file is excluded, a directory walked */
    {{"+ *.txt"}, "d", D, KEEP},
    {{"+ *.txt"}, "d/x.bin", F, EXCL},
    {{"+ *.txt"}, "d/x.txt", F, KEEP},
    {{"- *.tmp"}, "x.bin", F, KEEP},

    /* ---- the globs the earlier fnmatch filter was tested with, now rsync's way */
    {{"- *.tmp", "- build/*", "- cache"}, "x/y/a.tmp", F, EXCL},
    {{"- *.tmp", "- build/*", "- cache"}, "build/o.c", F, EXCL},
    {{"- *.tmp", "- build/*", "- cache"}, "src/build/o.c", F, EXCL}, /* unanchored: any boundary */
    {{"- *.tmp", "- /build/*"}, "src/build/o.c", F, KEEP},
    {{"- *.tmp", "- build/*", "- cache"}, "deep/cache", F, EXCL},
    {{"- *.tmp", "- build/*", "- cache"}, "a.txt", F, KEEP},
    {{NULL}, "a.tmp", F, KEEP},
};

static void show_case(const filter_case *c, const char *fn, bool got)
{
    fprintf(stderr, "FAIL %s(\"%s\", %s) = %s with rules:", fn, c->path, c->is_dir ? "dir" : "file",
            got ? "excluded" : "kept");
    for (size_t i = 0; i < MAX_RULES && c->rules[i]; i++)
        fprintf(stderr, " [%s]", c->rules[i]);
    fprintf(stderr, "\n");
}

static filter_set *make(const char *const *rules)
{
    size_t n = 0;
    while (n < MAX_RULES && rules[n])
        n++;
    smb_error err = {0};
    filter_set *f = filter_new(rules, n, &err);
    if (!f)
        fprintf(stderr, "filter_new: %s\n", err.message);
    return f;
}

static void test_table(void **state)
{
    (void)state;
    size_t failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const filter_case *c = &cases[i];
        filter_set *f = make(c->rules);
        assert_non_null(f);
        bool got = filter_excluded(f, c->path, c->is_dir);
        if (got != c->excluded) {
            show_case(c, "filter_excluded", got);
            failed++;
        }
        /* For a path whose every parent directory is kept, the whole-path check agrees. */
        bool parents_kept = true;
        char buf[512];
        snprintf(buf, sizeof buf, "%s", c->path);
        for (char *s = strchr(buf, '/'); s && parents_kept; s = strchr(s + 1, '/')) {
            *s = '\0';
            parents_kept = !filter_excluded(f, buf, true);
            *s = '/';
        }
        if (parents_kept && filter_path_excluded(f, c->path, c->is_dir) != c->excluded) {
            show_case(c, "filter_path_excluded", !c->excluded);
            failed++;
        }
        filter_free(f);
    }
    assert_int_equal(failed, 0);
}

/* filter_path_excluded: an entry below an excluded directory is excluded. */
static void test_path_excluded(void **state)
{
    (void)state;
    static const filter_case below[] = {
        {{"- cache/"}, "cache/x/y", F, EXCL},
        {{"- cache/"}, "a/cache/y", D, EXCL},
        {{"- cache/"}, "cachex/y", F, KEEP},
        {{"- /a/b"}, "a/b/c", F, EXCL},
        {{"- /a/b"}, "x/a/b/c", F, KEEP},
        {{"- /foo/**/bar"}, "foo/x/bar/in", F, EXCL},
        {{"+ **/*.txt"}, "a/b/b.txt", F, KEEP},
        {{"+ **/*.txt"}, "a/b/c.log", F, EXCL},
        {{"+ foo/", "+ foo/bar.c", "- *"}, "other/foo/bar.c", F, EXCL},
        {{"+ */", "+ *.c", "- *"}, "a/b/c/d.c", F, KEEP},
        {{"- *.o"}, "x.o/inner.c", F, EXCL},
    };
    size_t failed = 0;
    for (size_t i = 0; i < sizeof below / sizeof below[0]; i++) {
        filter_set *f = make(below[i].rules);
        assert_non_null(f);
        bool got = filter_path_excluded(f, below[i].path, below[i].is_dir);
        if (got != below[i].excluded) {
            show_case(&below[i], "filter_path_excluded", got);
            failed++;
        }
        filter_free(f);
    }
    assert_int_equal(failed, 0);
}

/* Many long rules: the one-pass state sets no longer fit on the stack (heap path). */
static void test_path_excluded_many_rules(void **state)
{
    (void)state;
    enum { N = 12 };
    char *rules[N];
    for (size_t i = 0; i + 1 < N; i++)
        rules[i] = repeat("- /", "?", 3000 + i, "");
    rules[N - 1] = repeat("- ", "deep", 1, "/");
    smb_error err = {0};
    filter_set *f = filter_new((const char *const *)rules, N, &err);
    assert_non_null(f);
    assert_true(filter_path_excluded(f, "a/deep/b/c", false));
    assert_false(filter_path_excluded(f, "a/deeper/b/c", false));
    char *long_name = repeat("", "x", 3004, "/y"); /* its first component matches one of the long rules */
    assert_true(filter_path_excluded(f, long_name, false));
    assert_true(filter_excluded(f, "deep", true));
    filter_free(f);
    free(long_name);
    for (size_t i = 0; i < N; i++)
        free(rules[i]);
}

static void test_empty_sets(void **state)
{
    (void)state;
    assert_false(filter_excluded(NULL, "a", false));
    assert_false(filter_path_excluded(NULL, "a/b", false));
    assert_false(filter_active(NULL));
    smb_error err = {0};
    filter_set *f = filter_new(NULL, 0, &err);
    assert_non_null(f);
    assert_false(filter_active(f));
    assert_false(filter_excluded(f, "anything", false));
    filter_free(f);
    const char *one[] = {"- x"};
    f = filter_new(one, 1, &err);
    assert_non_null(f);
    assert_true(filter_active(f));
    filter_free(f);
}

/* Malformed rules fail with a message naming the rule. */
static void test_bad_rules(void **state)
{
    (void)state;
    static const char *const bad[] = {"x foo", "-foo", "- ", "+", "", "- /", "- //", "+ /"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smb_error err = {0};
        const char *rules[] = {"- fine", bad[i]};
        filter_set *f = filter_new(rules, 2, &err);
        if (f)
            fprintf(stderr, "accepted bad rule '%s'\n", bad[i]);
        assert_null(f);
        assert_int_equal(err.code, SMB_ERR_INVALID_ARG);
        assert_non_null(strstr(err.message, "filter"));
    }
    /* A pattern longer than the limit is refused rather than matched slowly. */
    size_t len = 70000;
    char *huge = malloc(len + 3);
    assert_non_null(huge);
    memcpy(huge, "- ", 2);
    memset(huge + 2, 'a', len);
    huge[len + 2] = '\0';
    smb_error err = {0};
    const char *rules[] = {huge};
    assert_null(filter_new((const char *const *)rules, 1, &err));
    assert_int_equal(err.code, SMB_ERR_INVALID_ARG);
    free(huge);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* s = prefix + unit * times + suffix (malloc'd). */
static char *repeat(const char *prefix, const char *unit, size_t times, const char *suffix)
{
    size_t pl = strlen(prefix), ul = strlen(unit), sl = strlen(suffix);
    char *s = malloc(pl + ul * times + sl + 1);
    assert_non_null(s);
    memcpy(s, prefix, pl);
    for (size_t i = 0; i < times; i++)
        memcpy(s + pl + i * ul, unit, ul);
    memcpy(s + pl + ul * times, suffix, sl + 1);
    return s;
}

/*
 * Patterns that make a backtracking matcher take exponential time: each
 * must decide a long path in well under a second (bounded work: pattern
 * length times path length).
 */
static void test_hostile_patterns(void **state)
{
    (void)state;
    struct {
        char *rule;
        char *path;
        bool excluded;
    } h[] = {
        {repeat("- ", "*a", 40, "*b"), repeat("", "a", 4000, ""), KEEP},
        {repeat("- ", "**a", 40, "**b"), repeat("", "a/", 2000, "a"), KEEP},
        {repeat("- /", "*", 2000, "x"), repeat("", "y", 3000, ""), KEEP},
        {repeat("- ", "?*", 300, "?b"), repeat("", "a", 3000, ""), KEEP},
        {repeat("- /", "**/", 200, "z"), repeat("", "d/", 3000, "z"), EXCL},
        {repeat("- ", "[a-z]*", 200, "!"), repeat("", "q", 5000, ""), KEEP},
        {repeat("- ", "*a", 40, "*"), repeat("", "a", 4000, ""), EXCL},
    };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        smb_error err = {0};
        const char *rules[] = {h[i].rule};
        filter_set *f = filter_new(rules, 1, &err);
        assert_non_null(f);
        double t0 = now();
        assert_int_equal(filter_excluded(f, h[i].path, false), h[i].excluded);
        assert_int_equal(filter_path_excluded(f, h[i].path, false), h[i].excluded);
        /* About 0.02 s in a plain build, 0.07 s with ASan; backtracking: years. */
        double took = now() - t0;
        if (took > 2.0)
            fprintf(stderr, "hostile pattern %zu took %.3f s for 2 decisions\n", i, took);
        assert_true(took < 2.0);
        filter_free(f);
        free(h[i].rule);
        free(h[i].path);
    }
}


/* ------------------------------------------------------------ a reference matcher */

/*
 * The same pattern rules, written the plain way (recursive backtracking,
 * exponential in the worst case, fine for the short ASCII inputs below), to
 * check the automaton against on random patterns and paths.
 */
static bool ref_glob(const char *p, const char *s)
{
    if (!*p)
        return !*s;
    if (p[0] == '*') {
        bool cross = p[1] == '*';
        const char *rest = p;
        while (*rest == '*')
            rest++;
        for (const char *t = s;; t++) {
            if (ref_glob(rest, t))
                return true;
            if (!*t || (!cross && *t == '/'))
                return false;
        }
    }
    if (!*s)
        return false;
    if (p[0] == '?')
        return *s != '/' && ref_glob(p + 1, s + 1);
    if (p[0] == '[') { /* only "[ab]" and "[!a]" are generated */
        bool neg = p[1] == '!';
        const char *q = p + 1 + neg, *close = strchr(q, ']');
        bool in = memchr(q, *s, (size_t)(close - q)) != NULL;
        return *s != '/' && in != neg && ref_glob(close + 1, s + 1);
    }
    return *p == *s && ref_glob(p + 1, s + 1);
}

static void collapse_stars(char *p)
{
    char *out = p;
    for (const char *in = p; *in;) {
        if (in[0] == '*' && in[1] == '*') {
            while (*in == '*')
                in++;
            *out++ = '*';
            *out++ = '*';
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
}

/* Whether "- pattern" excludes path. */
static bool ref_rule(const char *pattern, const char *path, bool is_dir)
{
    char pat[128];
    snprintf(pat, sizeof pat, "%s", pattern);
    size_t len = strlen(pat);
    bool dir_only = false, anchored = false, dir_too = false;
    while (len && pat[len - 1] == '/') {
        pat[--len] = '\0';
        dir_only = true;
    }
    char *p = pat;
    if (*p == '/') {
        anchored = true;
        p++;
    }
    if (dir_only && !is_dir)
        return false;
    len = strlen(p);
    char dir[128] = "";
    if (len >= 4 && strcmp(p + len - 4, "/***") == 0) {
        dir_too = true;
        snprintf(dir, sizeof dir, "%.*s", (int)(len - 4), p);
        p[len - 1] = '\0'; /* "dir/" + "**" */
    }
    /* Three or more stars are "**"; a leading "**" + "/" may match no directory. */
    collapse_stars(p);
    collapse_stars(dir);
    const char *rest = strncmp(p, "**/", 3) == 0 ? p + 3 : NULL;
    const char *dir_rest = strncmp(dir, "**/", 3) == 0 ? dir + 3 : NULL;
    for (const char *start = path; start; start = strchr(start, '/') ? strchr(start, '/') + 1 : NULL) {
        if (ref_glob(p, start) || (rest && ref_glob(rest, start)))
            return true;
        if (dir_too && is_dir && (ref_glob(dir, start) || (dir_rest && ref_glob(dir_rest, start))))
            return true;
        if (anchored)
            break;
    }
    return false;
}

static uint32_t rnd(uint64_t *st)
{
    *st = *st * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*st >> 33);
}

/* Random patterns and paths over a small alphabet: the automaton agrees with the reference. */
static void test_against_reference(void **state)
{
    (void)state;
    static const char *const toks[] = {"a", "b", "/", "*", "**", "?", "[ab]", "[!a]", "a", "/"};
    uint64_t st = 16;
    size_t failed = 0;
    for (int iter = 0; iter < 30000 && failed < 10; iter++) {
        char pat[128] = "- ", path[64] = "";
        if (rnd(&st) % 3 == 0)
            strcat(pat, "/");
        if (rnd(&st) % 5 == 0)
            strcat(pat, "**/");
        size_t ntok = 1 + rnd(&st) % 5;
        for (size_t i = 0; i < ntok; i++)
            strcat(pat, toks[rnd(&st) % (sizeof toks / sizeof toks[0])]);
        uint32_t end = rnd(&st) % 6;
        if (end == 0)
            strcat(pat, "/");
        else if (end == 1)
            strcat(pat, "/***");
        size_t ncomp = 1 + rnd(&st) % 4;
        for (size_t c = 0; c < ncomp; c++) {
            if (c)
                strcat(path, "/");
            size_t clen = 1 + rnd(&st) % 3;
            for (size_t k = 0; k < clen; k++)
                strcat(path, rnd(&st) % 2 ? "a" : "b");
        }
        bool is_dir = rnd(&st) % 2;
        smb_error err = {0};
        const char *rules[] = {pat};
        filter_set *f = filter_new(rules, 1, &err);
        if (!f) /* only a pattern that is all slashes is refused */
            continue;
        bool want = ref_rule(pat + 2, path, is_dir), got = filter_excluded(f, path, is_dir);
        if (got != want) {
            fprintf(stderr, "FAIL [%s] on %s \"%s\": automaton %d, reference %d\n", pat, is_dir ? "dir" : "file", path,
                    got, want);
            failed++;
        }
        /* The whole-path form: the path or a directory above it. */
        bool want_path = want;
        for (char *slash = strchr(path, '/'); slash && !want_path; slash = strchr(slash + 1, '/')) {
            *slash = '\0';
            want_path = ref_rule(pat + 2, path, true);
            *slash = '/';
        }
        if (filter_path_excluded(f, path, is_dir) != want_path) {
            fprintf(stderr, "FAIL [%s] path form on %s \"%s\": reference %d\n", pat, is_dir ? "dir" : "file", path,
                    want_path);
            failed++;
        }
        filter_free(f);
    }
    assert_int_equal(failed, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),      cmocka_unit_test(test_path_excluded),
        cmocka_unit_test(test_path_excluded_many_rules),
        cmocka_unit_test(test_empty_sets), cmocka_unit_test(test_bad_rules),
        cmocka_unit_test(test_hostile_patterns), cmocka_unit_test(test_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Filter rules (see filter.h).
 *
 * Each pattern is compiled once into a list of tokens (a literal character,
 * '?', a class, '*', '**') and matched by simulating the nondeterministic
 * automaton those tokens form: state i means "tokens [0, i) consumed", and
 * the set of live states is carried across the path one character at a
 * time. The work is bounded by (pattern length) x (path length) whatever the
 * pattern: no backtracking, so "*a*a*a...b" cannot take exponential time.
 *
 * Characters are Unicode code points decoded from UTF-8 ('?' is one
 * character, not one byte); a byte that is not part of valid UTF-8 stands
 * for itself, as a value no code point takes.
 */
#include "engine/names/filter.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* Longest pattern accepted: keeps one rule's state set small (on the stack). */
#define FILTER_MAX_PATTERN 4096
#define STATE_WORDS ((FILTER_MAX_PATTERN + 1 + 63) / 64)

/* A byte outside valid UTF-8 decodes to INVALID_BASE + byte. */
#define INVALID_BASE 0x110000u

typedef enum tok_kind {
    TOK_LIT,      /* one given character */
    TOK_ANY,      /* '?': any character but '/' */
    TOK_CLASS,    /* [...]: a character of the class, never '/' */
    TOK_STAR,     /* '*': any run of characters but '/' */
    TOK_STARSTAR, /* '**' (or more stars): any run of characters */
} tok_kind;

/* POSIX classes inside brackets, ASCII only (names are not locale-dependent). */
typedef enum named_class {
    NC_ALNUM = 1 << 0,
    NC_ALPHA = 1 << 1,
    NC_BLANK = 1 << 2,
    NC_CNTRL = 1 << 3,
    NC_DIGIT = 1 << 4,
    NC_GRAPH = 1 << 5,
    NC_LOWER = 1 << 6,
    NC_PRINT = 1 << 7,
    NC_PUNCT = 1 << 8,
    NC_SPACE = 1 << 9,
    NC_UPPER = 1 << 10,
    NC_XDIGIT = 1 << 11,
} named_class;

typedef struct cp_range {
    uint32_t lo, hi;
} cp_range;

typedef struct tok {
    tok_kind kind;
    uint32_t cp;             /* TOK_LIT */
    bool negate;             /* TOK_CLASS: [!...] or [^...] */
    unsigned named;          /* TOK_CLASS: named_class bits */
    size_t first, nranges;   /* TOK_CLASS: its ranges in the rule's array */
} tok;

typedef struct filter_rule {
    bool include;
    bool anchored;     /* leading '/': matches the whole path from the root */
    bool dir_only;     /* trailing '/': matches directories only */
    bool dir_too;      /* trailing "/" + "***": also the directory itself */
    bool leading_dirs; /* starts with "**" + "/": that part may match no directory */
    bool name_only;    /* unanchored, no '/' and no "**": matches the last component alone */
    tok *toks;
    size_t ntok;
    cp_range *ranges;
    size_t nranges;
    /* The pattern's literal end (UTF-8), which every path it matches ends with: a quick reject. */
    unsigned char *tail;
    size_t ntail;
} filter_rule;

struct filter_set {
    filter_rule *rules;
    size_t n;
    bool any_include;
    size_t total_words; /* state-set words of all rules together */
};

/* ------------------------------------------------------------------ UTF-8 */

/* Decode one character at *p (not at the terminating NUL) and advance. */
static uint32_t next_char(const unsigned char **p)
{
    const unsigned char *s = *p;
    uint32_t c = s[0];
    size_t len = 0;
    uint32_t min = 0;
    if (c < 0x80) {
        *p = s + 1;
        return c;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        c &= 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        c &= 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        c &= 0x07;
        min = 0x10000;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            len = 0;
            break;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }
    if (len == 0 || c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        *p = s + 1;
        return INVALID_BASE + s[0];
    }
    *p = s + len;
    return c;
}

/* ------------------------------------------------------------------ compiling */

static const struct {
    const char *name;
    unsigned bit;
} named_classes[] = {
    {"alnum", NC_ALNUM}, {"alpha", NC_ALPHA}, {"blank", NC_BLANK}, {"cntrl", NC_CNTRL},
    {"digit", NC_DIGIT}, {"graph", NC_GRAPH}, {"lower", NC_LOWER}, {"print", NC_PRINT},
    {"punct", NC_PUNCT}, {"space", NC_SPACE}, {"upper", NC_UPPER}, {"xdigit", NC_XDIGIT},
};

static bool in_named(unsigned bits, uint32_t c)
{
    if (c >= 0x80)
        return false;
    bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
    bool print = c >= 0x20 && c < 0x7f, space = c == ' ' || (c >= '\t' && c <= '\r');
    bool alnum = upper || lower || digit;
    return ((bits & NC_ALNUM) && alnum) || ((bits & NC_ALPHA) && (upper || lower)) ||
           ((bits & NC_BLANK) && (c == ' ' || c == '\t')) || ((bits & NC_CNTRL) && (c < 0x20 || c == 0x7f)) ||
           ((bits & NC_DIGIT) && digit) || ((bits & NC_GRAPH) && print && c != ' ') ||
           ((bits & NC_LOWER) && lower) || ((bits & NC_PRINT) && print) ||
           ((bits & NC_PUNCT) && print && c != ' ' && !alnum) || ((bits & NC_SPACE) && space) ||
           ((bits & NC_UPPER) && upper) ||
           ((bits & NC_XDIGIT) && (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
}

/* The compiler's working state for one pattern. */
typedef struct compiler {
    filter_rule *r;
    bool escapes; /* backslash escapes (only in a pattern with a wildcard, as in rsync) */
    bool oom;
} compiler;

static void push_tok(compiler *cc, tok t)
{
    /* r->toks was sized for one token per pattern byte: never overflows. */
    cc->r->toks[cc->r->ntok++] = t;
}

static void push_range(compiler *cc, uint32_t lo, uint32_t hi)
{
    filter_rule *r = cc->r;
    cp_range *grown = realloc(r->ranges, (r->nranges + 1) * sizeof *grown);
    if (!grown) {
        cc->oom = true;
        return;
    }
    grown[r->nranges++] = (cp_range){lo, hi};
    r->ranges = grown;
}

/*
 * One class member at *p (before end): an escaped or plain character. Sets
 * *c; false when the pattern ends first.
 */
static bool class_char(const compiler *cc, const unsigned char **p, const unsigned char *end, uint32_t *c)
{
    if (*p >= end)
        return false;
    if (cc->escapes && **p == '\\' && *p + 1 < end)
        (*p)++;
    *c = next_char(p);
    return true;
}

/*
 * A bracket class starting at p ('['). Returns the position after its ']',
 * or NULL when it is not closed (the '[' is then a literal, as in fnmatch).
 */
static const unsigned char *compile_class(compiler *cc, const unsigned char *p, const unsigned char *end)
{
    size_t ranges_before = cc->r->nranges;
    tok t = {.kind = TOK_CLASS, .first = ranges_before};
    p++;
    if (p < end && (*p == '!' || *p == '^')) {
        t.negate = true;
        p++;
    }
    bool first = true;
    for (;;) {
        if (p >= end)
            goto unclosed;
        if (*p == ']' && !first)
            break;
        first = false;
        if (*p == '[' && p + 1 < end && p[1] == ':') {
            const unsigned char *close = NULL;
            for (const unsigned char *q = p + 2; q + 1 < end; q++)
                if (q[0] == ':' && q[1] == ']') {
                    close = q;
                    break;
                }
            size_t len = close ? (size_t)(close - (p + 2)) : 0;
            size_t k = 0;
            while (close && k < sizeof named_classes / sizeof named_classes[0] &&
                   !(strlen(named_classes[k].name) == len && memcmp(named_classes[k].name, p + 2, len) == 0))
                k++;
            if (close && k < sizeof named_classes / sizeof named_classes[0]) {
                t.named |= named_classes[k].bit;
                p = close + 2;
                continue;
            }
            /* Not a known name: '[' is an ordinary member. */
        }
        uint32_t lo, hi;
        if (!class_char(cc, &p, end, &lo))
            goto unclosed;
        hi = lo;
        if (p + 1 < end && *p == '-' && p[1] != ']') {
            p++;
            if (!class_char(cc, &p, end, &hi))
                goto unclosed;
        }
        if (lo <= hi)
            push_range(cc, lo, hi);
    }
    t.nranges = cc->r->nranges - ranges_before;
    push_tok(cc, t);
    return p + 1;
unclosed:
    cc->r->nranges = ranges_before;
    return NULL;
}

/* Tokens of pattern [p, end). */
static void compile_tokens(compiler *cc, const unsigned char *p, const unsigned char *end)
{
    while (p < end && !cc->oom) {
        if (*p == '*') {
            size_t stars = 0;
            while (p < end && *p == '*') {
                p++;
                stars++;
            }
            push_tok(cc, (tok){.kind = stars == 1 ? TOK_STAR : TOK_STARSTAR});
        } else if (*p == '?') {
            p++;
            push_tok(cc, (tok){.kind = TOK_ANY});
        } else if (*p == '[' && cc->escapes) {
            const unsigned char *after = compile_class(cc, p, end);
            if (after)
                p = after;
            else {
                p++;
                push_tok(cc, (tok){.kind = TOK_LIT, .cp = '['});
            }
        } else {
            if (cc->escapes && *p == '\\' && p + 1 < end)
                p++;
            push_tok(cc, (tok){.kind = TOK_LIT, .cp = next_char(&p)});
        }
    }
}

/* Encode c (a code point, or INVALID_BASE + a byte) at out; returns its length. */
static size_t encode_char(uint32_t c, unsigned char *out)
{
    if (c >= INVALID_BASE) {
        out[0] = (unsigned char)(c - INVALID_BASE);
        return 1;
    }
    if (c < 0x80) {
        out[0] = (unsigned char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (unsigned char)(0xc0 | (c >> 6));
        out[1] = (unsigned char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (unsigned char)(0xe0 | (c >> 12));
        out[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | (c >> 18));
    out[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (unsigned char)(0x80 | (c & 0x3f));
    return 4;
}

/*
 * The bytes of the literal tokens that end the pattern ("*.log": ".log").
 * A path the rule matches ends with them. None for "dir/" + "***" (it
 * matches paths below dir), and not the '/' of a leading "**" + "/".
 * False when out of memory.
 */
static bool compile_tail(filter_rule *r)
{
    size_t first = r->ntok, stop = r->leading_dirs ? 2 : 0; /* that '/' may be skipped */
    while (!r->dir_too && first > stop && r->toks[first - 1].kind == TOK_LIT)
        first--;
    if (first == r->ntok)
        return true;
    if (!(r->tail = malloc((r->ntok - first) * 4)))
        return false;
    for (size_t i = first; i < r->ntok; i++)
        r->ntail += encode_char(r->toks[i].cp, r->tail + r->ntail);
    return true;
}

/* Compile the PATTERN of one "+ PATTERN" / "- PATTERN" rule into r. */
static int compile_rule(filter_rule *r, const char *rule, smb_error *err)
{
    if (!rule || (rule[0] != '+' && rule[0] != '-') || rule[1] != ' ' || !rule[2])
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                           "bad filter rule '%s' (expected '+ PATTERN' or '- PATTERN')", rule ? rule : "");
    r->include = rule[0] == '+';
    const char *pat = rule + 2;
    size_t len = strlen(pat);
    if (len > FILTER_MAX_PATTERN)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "filter pattern longer than %d bytes", FILTER_MAX_PATTERN);
    while (len && pat[len - 1] == '/') {
        r->dir_only = true;
        len--;
    }
    if (len && pat[0] == '/') {
        r->anchored = true;
        pat++;
        len--;
    }
    if (!len)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "filter rule '%s' has an empty pattern", rule);
    if (len >= 4 && memcmp(pat + len - 4, "/***", 4) == 0)
        r->dir_too = true; /* compiled as "dir/" + "**", plus "dir" itself when a directory */
    compiler cc = {.r = r, .escapes = strpbrk(pat, "*?[") != NULL};
    if (!(r->toks = calloc(len, sizeof *r->toks)))
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    compile_tokens(&cc, (const unsigned char *)pat, (const unsigned char *)pat + len);
    if (cc.oom)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    /* "**" + "/" at the start also matches no directory: "**" + "/cache" matches "cache". */
    r->leading_dirs = r->ntok >= 2 && r->toks[0].kind == TOK_STARSTAR && r->toks[1].kind == TOK_LIT &&
                      r->toks[1].cp == '/';
    if (!compile_tail(r))
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    r->name_only = !r->anchored;
    for (size_t i = 0; i < r->ntok; i++)
        if (r->toks[i].kind == TOK_STARSTAR || (r->toks[i].kind == TOK_LIT && r->toks[i].cp == '/'))
            r->name_only = false;
    return 0;
}

static void free_rule(filter_rule *r)
{
    free(r->toks);
    free(r->ranges);
    free(r->tail);
}

static size_t rule_words(const filter_rule *r) { return (r->ntok + 1 + 63) / 64; }

filter_set *filter_new(const char *const *rules, size_t n, smb_error *err)
{
    filter_set *f = calloc(1, sizeof *f);
    if (!f || (n && !(f->rules = calloc(n, sizeof *f->rules)))) {
        free(f);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        f->n = i + 1; /* rule i is freed with the set from here on */
        if (compile_rule(&f->rules[i], rules[i], err) != 0) {
            filter_free(f);
            return NULL;
        }
        f->any_include |= f->rules[i].include;
        f->total_words += rule_words(&f->rules[i]);
    }
    return f;
}

void filter_free(filter_set *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free_rule(&f->rules[i]);
    free(f->rules);
    free(f);
}

bool filter_active(const filter_set *f) { return f && f->n; }

/* ------------------------------------------------------------------ matching */

static bool has(const uint64_t *set, size_t i) { return (set[i / 64] >> (i % 64)) & 1; }
static void add(uint64_t *set, size_t i) { set[i / 64] |= UINT64_C(1) << (i % 64); }

static bool class_has(const filter_rule *r, const tok *t, uint32_t c)
{
    bool in = in_named(t->named, c);
    for (size_t i = 0; !in && i < t->nranges; i++)
        in = c >= r->ranges[t->first + i].lo && c <= r->ranges[t->first + i].hi;
    return in != t->negate;
}

/* Follow the moves that consume nothing: past a star that matches nothing. */
static void closure(const filter_rule *r, uint64_t *set)
{
    for (size_t i = 0; i < r->ntok; i++)
        if ((r->toks[i].kind == TOK_STAR || r->toks[i].kind == TOK_STARSTAR) && has(set, i))
            add(set, i + 1);
}

/*
 * A match begins here (at the path's start, or after a '/' for an
 * unanchored pattern): state 0, and past a leading "**" + "/", which may
 * match no directory at all; only here, or "**" + "/cache" would match
 * "xcache" once "**" has consumed "x".
 */
static void begin(const filter_rule *r, uint64_t *set)
{
    add(set, 0);
    if (r->leading_dirs)
        add(set, 2);
}

/* The states before any character. */
static void start(const filter_rule *r, uint64_t *set)
{
    memset(set, 0, rule_words(r) * sizeof *set);
    begin(r, set);
    closure(r, set);
}

/*
 * Consume character c: next = the states reachable from cur. An unanchored
 * pattern also starts afresh after every '/' (a match may begin at any
 * directory boundary). Returns false when no state is live.
 */
static bool step(const filter_rule *r, const uint64_t *cur, uint64_t *next, uint32_t c)
{
    size_t words = rule_words(r);
    memset(next, 0, words * sizeof *next);
    bool live = false;
    for (size_t w = 0; w < words; w++) {
        for (uint64_t bits = cur[w]; bits; bits &= bits - 1) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
            if (i >= r->ntok)
                continue; /* the final state consumes nothing */
            const tok *t = &r->toks[i];
            bool ok;
            switch (t->kind) {
            case TOK_LIT: ok = c == t->cp; break;
            case TOK_ANY: ok = c != '/'; break;
            case TOK_CLASS: ok = c != '/' && class_has(r, t, c); break;
            case TOK_STAR: ok = c != '/'; break;
            case TOK_STARSTAR: ok = true; break;
            default: ok = false; break;
            }
            if (ok) {
                add(next, t->kind == TOK_STAR || t->kind == TOK_STARSTAR ? i : i + 1);
                live = true;
            }
        }
    }
    if (c == '/' && !r->anchored) {
        begin(r, next);
        live = true;
    }
    if (live)
        closure(r, next);
    return live;
}

/* Whether the states after a whole path mean the rule matches it. */
static bool accepts(const filter_rule *r, const uint64_t *set, bool is_dir)
{
    if (r->dir_only && !is_dir)
        return false;
    /* "dir/" + "***" matches "dir" itself as a directory: the state before that '/'. */
    return has(set, r->ntok) || (r->dir_too && is_dir && has(set, r->ntok - 2));
}

/* Whether rule r matches the path [p, end) (a directory when is_dir). */
static bool rule_matches(const filter_rule *r, const char *path, size_t len, bool is_dir)
{
    if ((r->dir_only && !is_dir) || len < r->ntail ||
        (r->ntail && memcmp(path + len - r->ntail, r->tail, r->ntail) != 0))
        return false;
    uint64_t a[STATE_WORDS], b[STATE_WORDS];
    uint64_t *cur = a, *next = b;
    const unsigned char *p = (const unsigned char *)path, *end = p + len;
    if (r->name_only) {
        /* It cannot match across a '/': only the last component can match. */
        for (const unsigned char *q = end; q > p; q--)
            if (q[-1] == '/') {
                p = q;
                break;
            }
    }
    start(r, cur);
    while (p < end) {
        uint32_t c = next_char(&p);
        if (!step(r, cur, next, c)) {
            if (r->anchored)
                return false;
            /* Nothing live: only a fresh start after the next '/' can match. */
            const unsigned char *slash = memchr(p, '/', (size_t)(end - p));
            if (!slash)
                return false;
            p = slash + 1;
            start(r, cur);
            continue;
        }
        uint64_t *t = cur;
        cur = next;
        next = t;
    }
    return accepts(r, cur, is_dir);
}

/* The decision for the path [rel, rel + len): first matching rule, else the default. */
static bool decide(const filter_set *f, const char *rel, size_t len, bool is_dir)
{
    for (size_t i = 0; i < f->n; i++)
        if (rule_matches(&f->rules[i], rel, len, is_dir))
            return !f->rules[i].include;
    return f->any_include && !is_dir;
}

bool filter_excluded(const filter_set *f, const char *rel, bool is_dir)
{
    if (!filter_active(f))
        return false;
    return decide(f, rel, strlen(rel), is_dir);
}

/*
 * filter_path_excluded in one pass: every rule's automaton runs along the
 * path together, and at each '/' the prefix so far is decided as a
 * directory. Linear in the path, however deep (a path of 100,000
 * components from an archive must not cost 100,000 matches of growing
 * prefixes). sets: f->total_words words for cur, as many for next.
 */
static bool path_excluded_sets(const filter_set *f, const char *rel, bool is_dir, uint64_t *cur, uint64_t *next)
{
    size_t off = 0;
    for (size_t i = 0; i < f->n; i++) {
        start(&f->rules[i], cur + off);
        off += rule_words(&f->rules[i]);
    }
    const unsigned char *p = (const unsigned char *)rel;
    for (;;) {
        bool at_end = *p == '\0';
        if (at_end || *p == '/') {
            bool dir = at_end ? is_dir : true;
            bool decided = false, excluded = f->any_include && !dir;
            off = 0;
            for (size_t i = 0; i < f->n && !decided; i++) {
                if (accepts(&f->rules[i], cur + off, dir)) {
                    decided = true;
                    excluded = !f->rules[i].include;
                }
                off += rule_words(&f->rules[i]);
            }
            if (excluded || at_end)
                return excluded;
        }
        uint32_t c = next_char(&p);
        off = 0;
        for (size_t i = 0; i < f->n; i++) {
            step(&f->rules[i], cur + off, next + off, c);
            off += rule_words(&f->rules[i]);
        }
        uint64_t *t = cur;
        cur = next;
        next = t;
    }
}

bool filter_path_excluded(const filter_set *f, const char *rel, bool is_dir)
{
    if (!filter_active(f))
        return false;
    uint64_t stack[2 * 256];
    uint64_t *sets = stack;
    if (f->total_words > 256 && !(sets = malloc(2 * f->total_words * sizeof *sets))) {
        /* No memory for the one-pass sets: decide each parent directory on its own. */
        size_t len = strlen(rel);
        for (size_t i = 0; i < len; i++)
            if (rel[i] == '/' && decide(f, rel, i, true))
                return true;
        return decide(f, rel, len, is_dir);
    }
    bool out = path_excluded_sets(f, rel, is_dir, sets, sets + f->total_words);
    if (sets != stack)
        free(sets);
    return out;
}

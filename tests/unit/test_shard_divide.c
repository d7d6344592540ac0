/*
 * Dividing a job into shards (shard_plan.h): every file has exactly one
 * owner as the shards decide it, split files' ranges tile them, names
 * differing only in case share a shard, the largest shard holds at most
 * 1.3x the mean of bytes (a skewed tree, and files bigger than a share),
 * and the plan file reads back the same and refuses damage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/shard/shard_plan.h"

typedef struct tree {
    shard_item *items;
    size_t n, cap;
} tree;

static void add(tree *t, const char *path, uint64_t size)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->items = realloc(t->items, t->cap * sizeof *t->items);
        assert_non_null(t->items);
    }
    t->items[t->n] = (shard_item){.path = strdup(path), .size = size, .mtime = 1000 + t->n, .to_copy = true};
    t->n++;
}

static void tree_free(tree *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i].path);
    free(t->items);
}

/*
 * What shard k does with the file at path, deciding as a shard's walk does:
 * down through split directories, by shard_role_of at each level.
 */
static shard_role role_for(const sc_plan *p, int k, const char *path, const shard_file **sf)
{
    const shard_split *sp = shard_find_split(p, "");
    assert_non_null(sp);
    char prefix[4096];
    const char *c = path;
    for (;;) {
        const char *slash = strchr(c, '/');
        size_t len = slash ? (size_t)(slash - c) : strlen(c);
        char name[1024];
        snprintf(name, sizeof name, "%.*s", (int)len, c);
        snprintf(prefix, sizeof prefix, "%.*s", (int)(c - path + len), path);
        bool counted;
        shard_role r = shard_role_of(p, k, sp, name, prefix, slash != NULL, &counted, sf);
        if (r != SHARD_SPLIT)
            return r;
        sp = shard_find_split(p, prefix);
        assert_non_null(sp);
        c = slash + 1;
    }
}

/*
 * Every file owned by exactly one shard (or its ranges tiling it); returns
 * each shard's bytes in bytes[], and its weight (bytes plus SHARD_FILE_COST
 * per file: what the division balances) in cost[] when not NULL.
 */
static void check_ownership(const sc_plan *p, const tree *t, uint64_t *bytes, uint64_t *cost)
{
    unsigned n = sc_plan_shards(p);
    uint64_t scratch[64];
    assert_true(n <= 64);
    cost = cost ? cost : scratch;
    memset(bytes, 0, n * sizeof *bytes);
    memset(cost, 0, n * sizeof *cost);
    for (size_t i = 0; i < t->n; i++) {
        unsigned owners = 0;
        const shard_file *sf = NULL;
        for (unsigned k = 0; k < n; k++) {
            const shard_file *f = NULL;
            shard_role r = role_for(p, (int)k, t->items[i].path, &f);
            if (r == SHARD_MINE) {
                owners++;
                bytes[k] += t->items[i].size;
                cost[k] += t->items[i].size + SHARD_FILE_COST;
            } else if (r == SHARD_RANGES) {
                sf = f;
            } else {
                assert_int_equal(r, SHARD_OTHERS);
            }
        }
        if (sf) {
            assert_int_equal(owners, 0);
            assert_int_equal(sf->size, t->items[i].size);
            uint64_t at = 0;
            for (size_t j = 0; j < sf->npieces; j++) {
                assert_int_equal(sf->pieces[j].offset, at);
                at += sf->pieces[j].length;
                bytes[sf->pieces[j].shard] += sf->pieces[j].length;
                cost[sf->pieces[j].shard] += sf->pieces[j].length + (j ? 0 : SHARD_FILE_COST);
                if (j)
                    assert_int_not_equal(sf->pieces[j].shard, sf->pieces[j - 1].shard);
            }
            assert_int_equal(at, sf->size);
        } else {
            if (owners != 1)
                fail_msg("%s has %u owners", t->items[i].path, owners);
        }
    }
    for (unsigned k = 0; k < n; k++) {
        uint64_t planned, files;
        sc_plan_shard_load(p, k, &planned, &files);
        assert_int_equal(planned, bytes[k]); /* the plan's loads are what the shards will do */
    }
}

static double max_over_mean(const uint64_t *bytes, unsigned n)
{
    uint64_t max = 0, sum = 0;
    for (unsigned k = 0; k < n; k++) {
        sum += bytes[k];
        max = bytes[k] > max ? bytes[k] : max;
    }
    return (double)max / ((double)sum / n);
}

static sc_plan *divide(tree *t, unsigned n)
{
    sc_plan *p = shard_plan_new(n);
    assert_non_null(p);
    smb_error err = {0};
    assert_int_equal(shard_divide(p, t->items, t->n, &err), 0);
    return p;
}

/* One directory holds 80% of the bytes, in files of a few MiB: it is opened and divided. */
static void test_skewed_tree(void **state)
{
    (void)state;
    tree t = {0};
    char path[256];
    for (int i = 0; i < 200; i++) { /* 800 MiB in one directory */
        snprintf(path, sizeof path, "projects/heavy/take%03d.mov", i);
        add(&t, path, 4u << 20);
    }
    for (int d = 0; d < 40; d++)
        for (int f = 0; f < 50; f++) { /* 200 MiB in 2,000 files elsewhere */
            snprintf(path, sizeof path, "projects/docs%02d/note%02d.txt", d, f);
            add(&t, path, (uint64_t)(200u << 20) / 2000);
        }
    for (unsigned n = 2; n <= 8; n++) {
        sc_plan *p = divide(&t, n);
        uint64_t bytes[8], cost[8];
        check_ownership(p, &t, bytes, cost);
        double r = max_over_mean(bytes, n);
        printf("skewed tree, %u shards: largest %.3f x the mean of bytes (%.3f of weight)\n", n, r,
               max_over_mean(cost, n));
        assert_true(r <= 1.3);
        assert_true(max_over_mean(cost, n) <= 1.3);
        size_t dirs, files;
        sc_plan_counts(p, &dirs, &files);
        assert_true(dirs <= 3 * n); /* the plan names few directories */
        sc_plan_free(p);
    }
    tree_free(&t);
}

/* Three 1 GiB files and 20,000 small ones in 4 shards: the big files are split into ranges. */
static void test_big_files(void **state)
{
    (void)state;
    tree t = {0};
    char path[256];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "media/big%d.bin", i);
        add(&t, path, 1ull << 30);
    }
    for (int d = 0; d < 200; d++)
        for (int f = 0; f < 100; f++) {
            snprintf(path, sizeof path, "small/d%03d/f%03d", d, f);
            add(&t, path, 4096 + (uint64_t)f * 37);
        }
    sc_plan *p = divide(&t, 4);
    uint64_t bytes[4], cost[4];
    check_ownership(p, &t, bytes, cost);
    size_t dirs, files;
    sc_plan_counts(p, &dirs, &files);
    /* Each 1 GiB file holds more than a shard's share of the bytes (3.1 GiB / 4): each is split. */
    assert_int_equal(files, 3);
    /*
     * Balanced by weight, the copying time: 20,000 small files weigh as much
     * as 1.2 GiB, so the shard that takes them takes fewer bytes.
     */
    double r = max_over_mean(cost, 4);
    printf("3 x 1 GiB + 20,000 files, 4 shards: largest %.3f x the mean weight (%.3f of bytes), %zu split dirs, "
           "%zu split files\n", r, max_over_mean(bytes, 4), dirs, files);
    assert_true(r <= 1.3);
    sc_plan_free(p);
    tree_free(&t);
}

/* Names that differ only in case (one entry on a case-insensitive destination) go to one shard. */
static void test_case_pairs(void **state)
{
    (void)state;
    tree t = {0};
    char path[256];
    for (int i = 0; i < 400; i++) {
        snprintf(path, sizeof path, "Mixed%03d.dat", i);
        add(&t, path, 1u << 20);
        snprintf(path, sizeof path, "mixed%03d.DAT", i);
        add(&t, path, 1u << 20);
    }
    sc_plan *p = divide(&t, 7);
    uint64_t bytes[7];
    check_ownership(p, &t, bytes, NULL);
    for (size_t i = 0; i < t.n; i += 2)
        for (int k = 0; k < 7; k++) {
            const shard_file *f;
            assert_int_equal(role_for(p, k, t.items[i].path, &f), role_for(p, k, t.items[i + 1].path, &f));
        }
    sc_plan_free(p);
    tree_free(&t);
}

/* A file made after planning, anywhere, has exactly one owner. */
static void test_unforeseen(void **state)
{
    (void)state;
    tree t = {0};
    char path[256];
    for (int d = 0; d < 30; d++)
        for (int f = 0; f < 30; f++) {
            snprintf(path, sizeof path, "d%02d/f%02d", d, f);
            add(&t, path, 1u << 20);
        }
    sc_plan *p = divide(&t, 5);
    static const char *const fresh[] = {"aaa-first", "zzz-last", "d07/new", "d07x", "d29/zz/deep", "D15/Case"};
    for (size_t i = 0; i < sizeof fresh / sizeof *fresh; i++) {
        unsigned owners = 0;
        for (int k = 0; k < 5; k++) {
            const shard_file *f;
            owners += role_for(p, k, fresh[i], &f) == SHARD_MINE;
        }
        assert_int_equal(owners, 1);
    }
    sc_plan_free(p);
    tree_free(&t);
}

/* An empty tree and one shard still make a plan whose root is split. */
static void test_degenerate(void **state)
{
    (void)state;
    tree t = {0};
    sc_plan *p = divide(&t, 3);
    assert_non_null(shard_find_split(p, ""));
    sc_plan_free(p);
    add(&t, "only.bin", 1u << 30);
    p = divide(&t, 1);
    uint64_t bytes[1];
    check_ownership(p, &t, bytes, NULL);
    assert_int_equal(bytes[0], 1u << 30);
    sc_plan_free(p);
    tree_free(&t);
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/test_shard_plan.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strdup(buf);
}

/* Save, load, compare; then damaged copies are refused with a reason. */
static void test_plan_file(void **state)
{
    (void)state;
    tree t = {0};
    char path[256];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "v\xc3\xa9lo/big%d \"quoted\".bin", i);
        add(&t, path, 300u << 20);
    }
    for (int i = 0; i < 500; i++) {
        snprintf(path, sizeof path, "small/f%03d", i);
        add(&t, path, 100000);
    }
    sc_plan *p = divide(&t, 4);
    static const char *const args[] = {"--mirror", "--", "/src", "//host/share/dst"};
    assert_int_equal(sc_plan_set_job(p, args, 4, "/summaries"), 0);
    char *file = write_temp("");
    unlink(file);
    smb_error err = {0};
    assert_int_equal(sc_plan_save(p, file, &err), 0);
    sc_plan *q = NULL;
    assert_int_equal(sc_plan_load(file, &q, &err), 0);
    assert_string_equal(sc_plan_id(p), sc_plan_id(q));
    assert_int_equal(p->tag, q->tag);
    assert_int_equal(q->nsplits, p->nsplits);
    assert_int_equal(q->nfiles, p->nfiles);
    for (size_t i = 0; i < p->nsplits; i++) {
        assert_string_equal(p->splits[i].path, q->splits[i].path);
        assert_int_equal(p->splits[i].ncuts, q->splits[i].ncuts);
        for (size_t j = 0; j < p->splits[i].ncuts; j++) {
            assert_string_equal(p->splits[i].cuts[j].key, q->splits[i].cuts[j].key);
            assert_int_equal(p->splits[i].cuts[j].shard, q->splits[i].cuts[j].shard);
        }
    }
    for (size_t i = 0; i < p->nfiles; i++) {
        assert_string_equal(p->files[i].path, q->files[i].path);
        assert_int_equal(p->files[i].npieces, q->files[i].npieces);
        for (size_t j = 0; j < p->files[i].npieces; j++) { /* field by field: a struct's padding is not data */
            assert_int_equal(p->files[i].pieces[j].offset, q->files[i].pieces[j].offset);
            assert_int_equal(p->files[i].pieces[j].length, q->files[i].pieces[j].length);
            assert_int_equal(p->files[i].pieces[j].shard, q->files[i].pieces[j].shard);
        }
    }
    size_t nargs;
    const char *const *got = sc_plan_job_args(q, &nargs);
    assert_int_equal(nargs, 4);
    assert_string_equal(got[3], "//host/share/dst");
    assert_string_equal(sc_plan_summary_dir(q), "/summaries");
    uint64_t tb[4];
    check_ownership(q, &t, tb, NULL);
    sc_plan_free(q);

    /* Damage: each edit of the saved text must be refused, saying where. */
    char *text = read_all(file);
    struct {
        const char *from, *to, *why;
    } edits[] = {
        {"\"version\": 1", "\"version\": 2", "version"},
        {"\"shards\": 4", "\"shards\": 0", "shards"},
        {"\"format\": \"smbcopy-plan\"", "\"format\": \"other\"", "not an smbcopy plan"},
        {", 0]", ", 9]", "shard number"},
        {"[[\"\", ", "[[\"X\", ", "cuts"},
        {"\"ranges\": [[0, ", "\"ranges\": [[1, ", "tile"},
        {"\"split_dirs\"", "\"split_dirz\"", "split_dirs"},
    };
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        char *at = strstr(text, edits[i].from);
        if (!at)
            fail_msg("edit %zu: '%s' not in the plan", i, edits[i].from);
        size_t pre = (size_t)(at - text), fl = strlen(edits[i].from), tl = strlen(edits[i].to);
        char *bad = malloc(strlen(text) + tl + 1);
        memcpy(bad, text, pre);
        memcpy(bad + pre, edits[i].to, tl);
        strcpy(bad + pre + tl, at + fl);
        char *bf = write_temp(bad);
        memset(&err, 0, sizeof err);
        q = NULL;
        assert_int_not_equal(sc_plan_load(bf, &q, &err), 0);
        assert_null(q);
        if (!strstr(err.message, edits[i].why))
            fail_msg("edit %zu: '%s' does not say %s", i, err.message, edits[i].why);
        unlink(bf);
        free(bf);
        free(bad);
    }
    /* Cut short anywhere: refused. */
    for (size_t len = 0; len < strlen(text); len += 97) {
        char keep = text[len];
        text[len] = '\0';
        char *bf = write_temp(text);
        text[len] = keep;
        q = NULL;
        assert_int_not_equal(sc_plan_load(bf, &q, &err), 0);
        assert_null(q);
        unlink(bf);
        free(bf);
    }
    free(text);
    unlink(file);
    free(file);
    sc_plan_free(p);
    tree_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skewed_tree), cmocka_unit_test(test_big_files),   cmocka_unit_test(test_case_pairs),
        cmocka_unit_test(test_unforeseen),  cmocka_unit_test(test_degenerate), cmocka_unit_test(test_plan_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

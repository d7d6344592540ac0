/*
 * The table of names (name_table.c): a name's record is found by the
 * name's bytes (a prefix of a longer string too, with no copy), stays put
 * while the table grows, is zeroed when added, and is gone once removed;
 * 20,000 names keep their records through growth and half of them removed;
 * iteration visits each record once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/name_table.h"

typedef struct rec {
    uint64_t a, b;
} rec;

static void test_prefix_lookup(void **state)
{
    (void)state;
    name_table t;
    name_table_init(&t, sizeof(rec));
    const char *path = "top/sub/file.txt";
    bool added = false;
    rec *top = name_table_get(&t, path, 3, &added);
    assert_non_null(top);
    assert_true(added);
    assert_int_equal(top->a, 0);
    top->a = 7;
    assert_ptr_equal(name_table_get(&t, "top", 3, &added), top);
    assert_false(added);
    assert_ptr_equal(name_table_find(&t, path, 3), top);
    assert_null(name_table_find(&t, path, 7));   /* "top/sub" */
    assert_null(name_table_find(&t, path, 2));   /* "to" */
    assert_null(name_table_find(&t, "", 0));
    rec *sub = name_table_get(&t, path, 7, NULL);
    assert_non_null(sub);
    assert_ptr_not_equal(sub, top);
    name_table_remove(&t, top);
    assert_null(name_table_find(&t, "top", 3));
    assert_ptr_equal(name_table_find(&t, "top/sub", 7), sub);
    name_table_free(&t);
}

static void test_many(void **state)
{
    (void)state;
    enum { N = 20000 };
    static rec *recs[N];
    name_table t;
    name_table_init(&t, sizeof(rec));
    char name[32];
    for (unsigned i = 0; i < N; i++) {
        snprintf(name, sizeof name, "d%u/f", i);
        recs[i] = name_table_get(&t, name, strlen(name), NULL);
        assert_non_null(recs[i]);
        recs[i]->a = i;
    }
    assert_int_equal(t.n, N);
    for (unsigned i = 0; i < N; i += 2)
        name_table_remove(&t, recs[i]);
    assert_int_equal(t.n, N / 2);
    for (unsigned i = 0; i < N; i++) {
        snprintf(name, sizeof name, "d%u/f", i);
        rec *r = name_table_find(&t, name, strlen(name));
        if (i % 2 == 0) {
            assert_null(r);
        } else {
            assert_ptr_equal(r, recs[i]);
            assert_int_equal(r->a, i);
        }
    }
    name_table_free(&t);
    assert_int_equal(t.n, 0);
}

static void test_set(void **state)
{
    (void)state;
    name_table t;
    name_table_init(&t, 0); /* names only */
    assert_non_null(name_table_get(&t, "a/b", 3, NULL));
    assert_non_null(name_table_find(&t, "a/b/c", 3));
    assert_null(name_table_find(&t, "a/b/c", 5));
    name_table_free(&t);
}

/* Iteration visits every record once, with its name; removing the current record on the way is allowed. */
static void test_iterate(void **state)
{
    (void)state;
    enum { N = 1000 };
    static bool seen[N];
    name_table t;
    name_table_init(&t, sizeof(rec));
    assert_null(name_table_next(&t, NULL));
    char name[32];
    for (unsigned i = 0; i < N; i++) {
        snprintf(name, sizeof name, "f%u", i);
        rec *r = name_table_get(&t, name, strlen(name), NULL);
        assert_non_null(r);
        r->a = i;
    }
    unsigned count = 0;
    for (rec *r = name_table_next(&t, NULL), *next; r; r = next) {
        next = name_table_next(&t, r);
        size_t len;
        const char *n = name_table_name(&t, r, &len);
        snprintf(name, sizeof name, "f%u", (unsigned)r->a);
        assert_string_equal(n, name);
        assert_int_equal(len, strlen(name));
        assert_false(seen[r->a]);
        seen[r->a] = true;
        count++;
        if (r->a % 3 == 0)
            name_table_remove(&t, r);
    }
    assert_int_equal(count, N);
    assert_int_equal(t.n, N - (N + 2) / 3);
    name_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_lookup),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_iterate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Growable arrays (common/array.c): capacity doubles from the first
 * capacity (or jumps to what is needed), contents survive every growth, a
 * size that would overflow fails and leaves the array as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/array.h"

static void test_doubles_and_keeps(void **state)
{
    (void)state;
    uint32_t *v = NULL;
    size_t n = 0, cap = 0;
    for (uint32_t i = 0; i < 10000; i++) {
        assert_true(ARRAY_RESERVE(v, cap, n + 1, 16));
        assert_true(cap >= n + 1);
        v[n++] = i * 7u;
    }
    assert_int_equal(cap, 16384); /* 16 doubled ten times */
    for (uint32_t i = 0; i < 10000; i++)
        assert_int_equal(v[i], i * 7u);
    free(v);
}

static void test_first_capacity_and_big_need(void **state)
{
    (void)state;
    char *p = NULL;
    size_t cap = 0;
    assert_true(ARRAY_RESERVE(p, cap, 1, 64));
    assert_int_equal(cap, 64);
    assert_true(ARRAY_RESERVE(p, cap, 64, 64)); /* fits: no change */
    assert_int_equal(cap, 64);
    assert_true(ARRAY_RESERVE(p, cap, 1000, 64));
    assert_int_equal(cap, 1024);
    free(p);
}

static void test_overflow_leaves_array(void **state)
{
    (void)state;
    uint64_t *v = NULL;
    size_t cap = 0;
    assert_true(ARRAY_RESERVE(v, cap, 4, 4));
    v[3] = 42;
    uint64_t *before = v;
    assert_false(ARRAY_RESERVE(v, cap, SIZE_MAX / 4, 4)); /* need * 8 bytes overflows */
    assert_ptr_equal(v, before);
    assert_int_equal(cap, 4);
    assert_false(ARRAY_RESERVE(before, cap, SIZE_MAX, 1)); /* the capacity itself overflows */
    assert_int_equal(v[3], 42);
    free(v);
}

static void test_zero_size_refused(void **state)
{
    (void)state;
    void *items = NULL;
    size_t cap = 0;
    assert_false(array_reserve(&items, &cap, 8, 0, 8)); /* realloc of 0 bytes is not an array */
    assert_null(items);
    assert_int_equal(cap, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles_and_keeps),
        cmocka_unit_test(test_first_capacity_and_big_need),
        cmocka_unit_test(test_overflow_leaves_array),
        cmocka_unit_test(test_zero_size_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* One spelling per folded path: later paths spelled otherwise at any level are told apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/names/case_guard.h"

static const char *check(case_guard *g, const char *rel, size_t *len)
{
    bool oom = false;
    const char *c = case_guard_check(g, rel, len, &oom);
    assert_false(oom);
    return c;
}

static void test_spellings(void **state)
{
    (void)state;
    case_guard g;
    case_guard_init(&g);
    size_t len = 0;
    assert_null(check(&g, "A.txt", &len));
    assert_null(check(&g, "A.txt", &len)); /* the same entry again (a tar update): fine */
    const char *c = check(&g, "a.txt", &len);
    assert_non_null(c);
    assert_string_equal(c, "A.txt");
    assert_int_equal(len, strlen("a.txt"));
    assert_null(check(&g, "Dir/x", &len));
    assert_null(check(&g, "Dir/sub/y", &len));
    c = check(&g, "dir/z", &len); /* a new name, in a directory spelled otherwise */
    assert_non_null(c);
    assert_string_equal(c, "Dir");
    assert_int_equal(len, 3);
    c = check(&g, "Dir/SUB/q", &len);
    assert_non_null(c);
    assert_string_equal(c, "Dir/sub");
    assert_int_equal(len, strlen("Dir/SUB"));
    assert_null(check(&g, "Dir/sub/q", &len));
    assert_null(check(&g, "\xc3\xa9t\xc3\xa9.txt", &len));           /* été.txt */
    c = check(&g, "\xc3\x89T\xc3\x89.TXT", &len);                     /* ÉTÉ.TXT */
    assert_non_null(c);
    assert_string_equal(c, "\xc3\xa9t\xc3\xa9.txt");
    for (int i = 0; i < 5000; i++) { /* many names: no clash among distinct ones */
        char name[32];
        snprintf(name, sizeof name, "d%d/f%d", i % 37, i);
        assert_null(check(&g, name, &len));
    }
    case_guard_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spellings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

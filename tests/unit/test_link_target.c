/* Whether a link's target stays inside the copied tree (--links copy), resolved lexically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/names/link_target.h"

/* target of the link at link resolves to want (NULL: not inside). */
static void assert_resolves(const char *link, const char *target, const char *want)
{
    char *got = link_target_resolve(link, target);
    if (!want) {
        assert_null(got);
        assert_false(link_target_inside(link, target));
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_true(link_target_inside(link, target));
    free(got);
}

static void test_inside(void **state)
{
    (void)state;
    assert_resolves("lfile", "f.txt", "f.txt");
    assert_resolves("ldir", "dir", "dir");
    assert_resolves("a/b/l", "x", "a/b/x");
    assert_resolves("a/b/l", "../c/x", "a/c/x");
    assert_resolves("a/b/l", "../../x", "x");
    assert_resolves("dir/loop", "..", "");      /* the root itself */
    assert_resolves("a/l", "./x/./y/", "a/x/y"); /* "." and empty components dropped */
    assert_resolves("a/l", "x//y", "a/x/y");
    assert_resolves("a/l", "x/../../b", "b");    /* down, then up past where it started: still inside */
    assert_resolves("l", "l", "l");              /* itself: a loop, but inside */
    assert_resolves("a/l", "..x", "a/..x");      /* a name that starts with dots is a name */
}

static void test_outside(void **state)
{
    (void)state;
    assert_resolves("l", "..", NULL);
    assert_resolves("l", "../tree/x", NULL); /* leaves the root on the way, even if it comes back in */
    assert_resolves("a/b/l", "../../../x", NULL);
    assert_resolves("a/l", "x/../../../a", NULL);
    assert_resolves("a/l", "/etc/passwd", NULL); /* absolute */
    assert_resolves("a/l", "/", NULL);
    assert_resolves("a/l", "", NULL);
    assert_null(link_target_resolve(NULL, "x"));
    assert_null(link_target_resolve("l", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside),
        cmocka_unit_test(test_outside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

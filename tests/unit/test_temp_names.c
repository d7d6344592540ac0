/* Temporary and staging names: where they go, their form, and the check that recognises them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/temp_names.h"

/* name is dir + "/" (when dir is not "") + a leaf that is_temp_name accepts. */
static void assert_beside(const char *name, const char *dir)
{
    size_t d = strlen(dir);
    assert_non_null(name);
    assert_memory_equal(name, dir, d);
    const char *leaf = name + d + (d && dir[d - 1] != '/' ? 1 : 0);
    if (d && dir[d - 1] != '/')
        assert_int_equal(name[d], '/');
    assert_true(is_temp_name(leaf));
}

static void test_temp_beside(void **state)
{
    (void)state;
    char *a = temp_name_beside("dir/sub/file.bin"), *b = temp_name_beside("file.bin");
    char *c = temp_name_beside("/x.tar"), *d = temp_name_beside("./x.tar");
    assert_beside(a, "dir/sub");
    assert_beside(b, "");
    assert_beside(c, "/"); /* at the root, not in the working directory */
    assert_beside(d, ".");
    char *again = temp_name_beside("dir/sub/file.bin");
    assert_string_not_equal(a, again); /* random: two copies never share one */
    free(a);
    free(b);
    free(c);
    free(d);
    free(again);
}

static void test_stage_names(void **state)
{
    (void)state;
    char *a = stage_name_in("top", "new dir"), *b = stage_name_in("top", "new dir"), *c = stage_name_in("", "x");
    assert_string_equal(a, b); /* derived: a rerun finds it */
    assert_beside(a, "top");
    assert_beside(c, "");
    char *other = stage_name_in("top", "other");
    assert_string_not_equal(a, other);
    free(a);
    free(b);
    free(c);
    free(other);
    assert_int_equal(name_hash(""), 0xcbf29ce484222325ull); /* FNV-1a offset basis */
    assert_int_equal(name_hash("a"), 0xaf63dc4c8601ec8cull); /* FNV-1a of "a" */
}

static void test_is_temp_name(void **state)
{
    (void)state;
    assert_true(is_temp_name(".smbcopy-0123456789abcdef.tmp"));
    assert_false(is_temp_name(".smbcopy-0123456789ABCDEF.tmp")); /* upper case: not ours */
    assert_false(is_temp_name(".smbcopy-0123456789abcde.tmp"));  /* 15 digits */
    assert_false(is_temp_name(".smbcopy-0123456789abcdefg.tmp"));
    assert_false(is_temp_name(".smbcopy-0123456789abcdef.tmpx"));
    assert_false(is_temp_name("smbcopy-0123456789abcdef.tmp"));
    assert_false(is_temp_name(".smbcopy-01234567-9abcdef.tmp"));
    assert_false(is_temp_name(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_temp_beside),
        cmocka_unit_test(test_stage_names),
        cmocka_unit_test(test_is_temp_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

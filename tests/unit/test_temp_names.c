/* Temporary and staging names: where they go, their form, and the check that recognises them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/names/temp_names.h"

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

/* Two jobs never share a staging or temporary name; each name carries its job's tag. */
static void test_tagged_names(void **state)
{
    (void)state;
    char *a = stage_name_for("top", "new dir", 0x1234abcd), *b = stage_name_for("top", "new dir", 0x1234abcd);
    char *other_job = stage_name_for("top", "new dir", 0x0badf00d);
    assert_string_equal(a, b); /* same job: derived, a rerun finds it */
    assert_string_not_equal(a, other_job);
    assert_beside(a, "top");
    uint32_t tag = 0;
    assert_true(temp_name_tag(strrchr(a, '/') + 1, &tag));
    assert_int_equal(tag, 0x1234abcd);
    assert_true(temp_name_tag(strrchr(other_job, '/') + 1, &tag));
    assert_int_equal(tag, 0x0badf00d);
    char *t = temp_name_tagged("d/f.bin", 0xfeedbeef), *t2 = temp_name_tagged("d/f.bin", 0xfeedbeef);
    assert_beside(t, "d");
    assert_string_not_equal(t, t2);
    assert_true(temp_name_tag(t + 2, &tag));
    assert_int_equal(tag, 0xfeedbeef);
    char *in = temp_name_beside_in("", 7);
    assert_beside(in, "");
    assert_true(temp_name_tag(in, &tag));
    assert_int_equal(tag, 7);
    /* The older untagged form is a temporary but carries no tag. */
    assert_true(is_temp_name(".smbcopy-0123456789abcdef.tmp"));
    assert_false(temp_name_tag(".smbcopy-0123456789abcdef.tmp", &tag));
    assert_false(temp_name_tag(".smbcopy-0123456x-0123456789abcdef.tmp", &tag));
    assert_false(temp_name_tag(".smbcopy-01234567_0123456789abcdef.tmp", &tag));
    free(a);
    free(b);
    free(other_job);
    free(t);
    free(t2);
    free(in);
}

/*
 * The second form, for servers that veto the first: it matches neither
 * veto pattern (no leading dot, no .tmp), is recognised as a temporary with
 * its tag (never mirrored, removed as an orphan of its job), and a stage
 * name of it is derived too; in place there is no temporary name.
 */
static void test_plain_form(void **state)
{
    (void)state;
    char *t = temp_name_form("d/f.bin", 0xfeedbeef, TEMP_PLAIN);
    assert_non_null(t);
    assert_beside(t, "d");
    const char *leaf = t + 2;
    assert_true(leaf[0] != '.');
    assert_non_null(strstr(leaf, ".partial"));
    assert_null(strstr(leaf, ".tmp"));
    uint32_t tag = 0;
    assert_true(is_temp_name(leaf));
    assert_true(temp_name_tag(leaf, &tag));
    assert_int_equal(tag, 0xfeedbeef);
    char *d = temp_name_form("d/f.bin", 0xfeedbeef, TEMP_DOT);
    assert_int_equal(d[2], '.');
    assert_true(temp_name_tag(d + 2, &tag));
    char *in = temp_name_form("d/f.bin", 1, TEMP_INPLACE);
    assert_string_equal(in, "d/f.bin");
    char *s1 = stage_name_form("top", "new", 5, TEMP_PLAIN), *s2 = stage_name_form("top", "new", 5, TEMP_PLAIN);
    assert_string_equal(s1, s2);
    assert_true(temp_name_tag(strrchr(s1, '/') + 1, &tag));
    assert_int_equal(tag, 5);
    assert_null(stage_name_form("top", "new", 5, TEMP_INPLACE));
    assert_false(is_temp_name("smbcopy-01234567-0123456789abcdef.tmp"));
    assert_false(is_temp_name("smbcopy-0123456789abcdef.partial"));
    assert_false(is_temp_name(".smbcopy-01234567-0123456789abcdef.partial"));
    free(t);
    free(d);
    free(in);
    free(s1);
    free(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_temp_beside),
        cmocka_unit_test(test_stage_names),
        cmocka_unit_test(test_is_temp_name),
        cmocka_unit_test(test_tagged_names),
        cmocka_unit_test(test_plain_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

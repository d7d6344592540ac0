/* Location identity and the overlap rules; case folding of names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/names/casefold.h"
#include "engine/endpoints/identity.h"

static sc_location parse(const char *s)
{
    sc_location l;
    smb_error err = {0};
    assert_int_equal(sc_location_parse(s, &l, &err), 0);
    return l;
}

static bool within(const char *inner, const char *outer)
{
    sc_location a = parse(inner), b = parse(outer);
    bool w = loc_within(&a, &b);
    sc_location_free(&a);
    sc_location_free(&b);
    return w;
}

static void test_smb_identity(void **state)
{
    (void)state;
    assert_true(within("smb://127.0.0.1/data/nest/backup", "smb://localhost/data/nest"));
    assert_true(within("//LOCALHOST/DATA/Nest/x", "smb://127.0.0.1/data/nest"));
    assert_true(within("smb://127.0.0.1/data/nest", "smb://127.0.0.1/data/NEST"));
    assert_true(within("smb://h/data/a", "smb://h/data")); /* the share's root holds everything */
    assert_false(within("smb://127.0.0.1/data/nest2", "smb://127.0.0.1/data/nest"));
    assert_false(within("smb://127.0.0.1/other/nest", "smb://127.0.0.1/data/nest"));
    assert_false(within("smb://127.0.0.1:1445/data/nest", "smb://127.0.0.1/data/nest"));
    assert_false(within("smb://127.0.0.2/data/nest", "smb://127.0.0.1/data/nest"));
    assert_false(within("/data/nest", "smb://127.0.0.1/data/nest")); /* local and SMB never overlap */
}

static void test_local_identity(void **state)
{
    (void)state;
    char dir[] = "/tmp/smbcopy-identity-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char top[300], sub[320], link[320], via_link[340], dotdot[340], fresh[340];
    snprintf(top, sizeof top, "%s/top", dir);
    snprintf(sub, sizeof sub, "%s/sub", top);
    snprintf(link, sizeof link, "%s/link", dir);
    snprintf(via_link, sizeof via_link, "%s/sub/new/deeper", link);
    snprintf(dotdot, sizeof dotdot, "%s/other/../top/sub", dir);
    snprintf(fresh, sizeof fresh, "%s/not/yet", top);
    assert_int_equal(mkdir(top, 0700), 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(symlink(top, link), 0);
    assert_true(within(sub, top));
    assert_false(within(top, sub));
    assert_true(within(via_link, top)); /* through a symbolic link, into a path that does not exist yet */
    assert_true(within(dotdot, top));
    assert_true(within(fresh, top));
    assert_true(within(top, top));
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(top), 0);
    assert_true(within("sub", top)); /* relative paths resolve from the working directory */
    assert_true(within(".", link));
    assert_int_equal(chdir(cwd), 0);
    unlink(link);
    rmdir(sub);
    rmdir(top);
    rmdir(dir);
}

static void test_overlap_rules(void **state)
{
    (void)state;
    sc_location src[2] = {parse("smb://127.0.0.1/data/top/sub"), parse("smb://127.0.0.1/data/else")};
    sc_location dst = parse("smb://localhost/data/TOP");
    smb_error err = {0};
    /* A source inside the destination: fine for a copy, refused for a mirror. */
    assert_int_equal(loc_check_overlap(src, 2, &dst, false, &err), 0);
    assert_int_equal(loc_check_overlap(src, 2, &dst, true, &err), SMB_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "inside the destination"));
    sc_location_free(&dst);
    /* The destination inside a source: refused always. */
    dst = parse("//127.0.0.1/DATA/else/backup");
    assert_int_equal(loc_check_overlap(src, 2, &dst, false, &err), SMB_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "is inside the source"));
    sc_location_free(&dst);
    for (int i = 0; i < 2; i++)
        sc_location_free(&src[i]);
}

static void expect_fold(const char *in, const char *want)
{
    char *f = casefold_name(in);
    assert_non_null(f);
    assert_string_equal(f, want);
    free(f);
}

static void test_casefold(void **state)
{
    (void)state;
    expect_fold("Report.txt", "REPORT.TXT");
    expect_fold("\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89");       /* été -> ÉTÉ */
    expect_fold("\xce\xb1\xce\xb2", "\xce\x91\xce\x92");         /* αβ -> ΑΒ */
    expect_fold("\xff\xfe" "a", "\xff\xfe" "A");                 /* bytes that are not UTF-8 stay */
    expect_fold("\xed\xa0\x80x", "\xed\xa0\x80X");               /* an encoded surrogate is not UTF-8 */
    expect_fold("", "");
    assert_true(casefold_equal("README.txt", "readme.TXT"));
    assert_false(casefold_equal("a.txt", "b.txt"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smb_identity),
        cmocka_unit_test(test_local_identity),
        cmocka_unit_test(test_overlap_rules),
        cmocka_unit_test(test_casefold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

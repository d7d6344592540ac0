/* Location strings: every form, normalisation, percent-decoding, IPv6, errors, display. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <smbcopy/engine.h>

/* Parse s, which must succeed. */
static void parse_ok(const char *s, sc_location *loc)
{
    smb_error err = {0};
    int rc = sc_location_parse(s, loc, &err);
    if (rc != 0)
        fail_msg("'%s': %s", s, err.message);
}

/* Parse s, which must fail with SMB_ERR_INVALID_ARG and a message containing want. */
static void parse_bad(const char *s, const char *want)
{
    sc_location loc;
    smb_error err = {0};
    assert_int_equal(sc_location_parse(s, &loc, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(err.code, SMB_ERR_INVALID_ARG);
    if (!strstr(err.message, want))
        fail_msg("'%s': message '%s' lacks '%s'", s, err.message, want);
    /* a failed parse leaves nothing to free */
    assert_false(loc.is_smb);
    assert_null(loc.host);
    assert_null(loc.user);
    assert_null(loc.password);
    assert_null(loc.path);
}

static void test_url_full(void **state)
{
    (void)state;
    sc_location loc;
    parse_ok("smb://CORP;alice:s3cret@fs1.example.com:4450/data/a/b.txt", &loc);
    assert_true(loc.is_smb);
    assert_string_equal(loc.domain, "CORP");
    assert_string_equal(loc.user, "alice");
    assert_string_equal(loc.password, "s3cret");
    assert_string_equal(loc.host, "fs1.example.com");
    assert_int_equal(loc.port, 4450);
    assert_string_equal(loc.share, "data");
    assert_string_equal(loc.path, "a/b.txt");
    assert_false(loc.trailing_sep);
    sc_location_free(&loc);
    assert_null(loc.host);
    assert_null(loc.password);
}

static void test_url_minimal(void **state)
{
    (void)state;
    sc_location loc;
    parse_ok("smb://server/share", &loc);
    assert_true(loc.is_smb);
    assert_string_equal(loc.host, "server");
    assert_int_equal(loc.port, 445);
    assert_string_equal(loc.share, "share");
    assert_string_equal(loc.path, "");
    assert_null(loc.user);
    assert_null(loc.domain);
    assert_null(loc.password);
    assert_false(loc.trailing_sep);
    sc_location_free(&loc);

    parse_ok("SMB://bob@server/share/", &loc);
    assert_string_equal(loc.user, "bob");
    assert_null(loc.password);
    assert_null(loc.domain);
    assert_string_equal(loc.path, "");
    assert_true(loc.trailing_sep);
    sc_location_free(&loc);

    /* an empty password is a password */
    parse_ok("smb://bob:@server/share", &loc);
    assert_string_equal(loc.password, "");
    sc_location_free(&loc);
}

static void test_url_percent(void **state)
{
    (void)state;
    sc_location loc;
    parse_ok("smb://DOM%3Bx;j%40doe:p%40ss%3Aw%2Fd%25@host/my%20share/dir%20one/f%C3%A9.txt", &loc);
    assert_string_equal(loc.domain, "DOM;x");
    assert_string_equal(loc.user, "j@doe");
    assert_string_equal(loc.password, "p@ss:w/d%");
    assert_string_equal(loc.share, "my share");
    assert_string_equal(loc.path, "dir one/f\xC3\xA9.txt");
    sc_location_free(&loc);

    /* an unencoded '@' in the password: the last '@' ends the user part */
    parse_ok("smb://u:a@b@host/s", &loc);
    assert_string_equal(loc.user, "u");
    assert_string_equal(loc.password, "a@b");
    assert_string_equal(loc.host, "host");
    sc_location_free(&loc);

    /* a DOMAIN\user user name, encoded */
    parse_ok("smb://CORP%5Calice@host/s", &loc);
    assert_string_equal(loc.user, "CORP\\alice");
    sc_location_free(&loc);

    /* an encoded separator separates */
    parse_ok("smb://host/s/a%2Fb", &loc);
    assert_string_equal(loc.path, "a/b");
    sc_location_free(&loc);

    parse_bad("smb://host/s/a%2", "bad percent-encoding in the path");
    parse_bad("smb://host/s/a%zz", "bad percent-encoding");
    parse_bad("smb://host/s/a%00b", "bad percent-encoding");
    parse_bad("smb://u%4@host/s", "bad percent-encoding in the user name");
    parse_bad("smb://u:%x@host/s", "bad percent-encoding in the password");
    parse_bad("smb://host/s/%2E%2E/x", "'..' is not allowed in an SMB path");
}

static void test_url_ipv6(void **state)
{
    (void)state;
    sc_location loc;
    parse_ok("smb://[::1]/share/x", &loc);
    assert_string_equal(loc.host, "::1");
    assert_int_equal(loc.port, 445);
    assert_string_equal(loc.share, "share");
    assert_string_equal(loc.path, "x");
    sc_location_free(&loc);

    parse_ok("smb://u@[fe80::1%25eth0]:44501/s", &loc);
    assert_string_equal(loc.host, "fe80::1%eth0");
    assert_int_equal(loc.port, 44501);
    assert_string_equal(loc.user, "u");
    sc_location_free(&loc);

    parse_ok("\\\\[2001:db8::5]\\share\\dir", &loc);
    assert_string_equal(loc.host, "2001:db8::5");
    assert_string_equal(loc.path, "dir");
    sc_location_free(&loc);

    parse_bad("smb://[::1/share", "missing ']'");
    parse_bad("smb://[::1]x/share", "bad host");
    parse_bad("smb://::1/share", "in brackets");
    parse_bad("smb://[]/share", "missing host name");
}

static void test_url_port(void **state)
{
    (void)state;
    sc_location loc;
    parse_ok("smb://h:1/s", &loc);
    assert_int_equal(loc.port, 1);
    sc_location_free(&loc);
    parse_ok("smb://h:65535/s", &loc);
    assert_int_equal(loc.port, 65535);
    sc_location_free(&loc);

    parse_bad("smb://h:0/s", "bad port in 'smb://h:0/s'");
    parse_bad("smb://h:65536/s", "bad port");
    parse_bad("smb://h:/s", "bad port");
    parse_bad("smb://h:44x/s", "bad port");
    parse_bad("smb://h:-1/s", "bad port");
    parse_bad("smb://h:0000445/s", "bad port");
    parse_bad("smb://[::1]:/s", "bad port");
}

static void test_url_errors(void **state)
{
    (void)state;
    parse_bad("smb://host", "missing share name in 'smb://host'");
    parse_bad("smb://host/", "missing share name");
    parse_bad("smb://host//", "missing share name");
    parse_bad("smb:///share", "missing host name");
    parse_bad("smb://u@/share", "missing host name");
    parse_bad("smb://@host/share", "missing user name");
    parse_bad("smb://D;@host/share", "missing user name");
    parse_bad("smb://D;:pw@host/share", "missing user name");
    parse_bad("smb:host/share", "bad SMB URL");
    parse_bad("smb://host/s/a/../b", "'..' is not allowed in an SMB path");
    parse_bad("smb://host/s/..", "'..' is not allowed");
    parse_bad("smb://host/../x", "bad share name");
    parse_bad("smb://host/a%2Fb/x", "bad share name");
    parse_bad("", "empty location");

    sc_location loc;
    smb_error err = {0};
    assert_int_equal(sc_location_parse(NULL, &loc, &err), SMB_ERR_INVALID_ARG);
    /* err may be NULL */
    assert_int_equal(sc_location_parse("smb://host", &loc, NULL), SMB_ERR_INVALID_ARG);
}

static void test_error_hides_password(void **state)
{
    (void)state;
    sc_location loc;
    smb_error err = {0};
    assert_int_equal(sc_location_parse("smb://alice:TopSecret@host:99999/s", &loc, &err), SMB_ERR_INVALID_ARG);
    assert_null(strstr(err.message, "TopSecret"));
    assert_non_null(strstr(err.message, "alice:***@host:99999"));
    assert_int_equal(sc_location_parse("smb://alice:TopSecret@host", &loc, &err), SMB_ERR_INVALID_ARG);
    assert_null(strstr(err.message, "TopSecret"));
    assert_int_equal(sc_location_parse("smb://alice:TopSecret@host/s/../x", &loc, &err), SMB_ERR_INVALID_ARG);
    assert_null(strstr(err.message, "TopSecret"));
    /* an unencoded '/' in the password ends the host part early: still hidden */
    assert_int_equal(sc_location_parse("smb://alice:Top/Secret@host/s", &loc, &err), SMB_ERR_INVALID_ARG);
    assert_null(strstr(err.message, "Top"));
    assert_null(strstr(err.message, "Secret"));
}

/* No message of a failed parse holds any part of a password, however the URL is spelled. */
static void test_error_never_shows_password(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "smb://alice:Pass@/word@host/share",     /* unencoded '@' then '/': the "missing host name" error */
        "smb://alice:Pa@ss@/word@host/share",
        "smb://alice:Pass@:12/word@host/share",
        "smb://alice:Pass\\word@/x@host/share",
        "//alice:Pass@/word@host/share",          /* the UNC form takes a user too */
        "//alice:Pass@host",
        "\\\\alice:Pass@host",
        "//alice:Pass@/",
        "smb://dom;alice:Pass@host/s/../x",
        "smb://alice:Pass%zz@host/s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sc_location loc;
        smb_error err = {0};
        assert_int_equal(sc_location_parse(bad[i], &loc, &err), SMB_ERR_INVALID_ARG);
        if (strstr(err.message, "Pass") || strstr(err.message, "/word") || strstr(err.message, "\\word") ||
            strstr(err.message, "ss@"))
            fail_msg("'%s': the message shows the password: %s", bad[i], err.message);
        if (strstr(err.message, "alice") && !strstr(err.message, "alice:***@"))
            fail_msg("'%s': the password is not shown as ***: %s", bad[i], err.message);
    }
}

/* //[DOMAIN;]USER[:PASSWORD]@HOST/SHARE: a user and password, never a host named after them. */
static void test_unc_user(void **state)
{
    (void)state;
    sc_location loc;
    parse_ok("//alice:Sec%25ret@fs1/share/dir", &loc);
    assert_true(loc.is_smb);
    assert_string_equal(loc.host, "fs1");
    assert_string_equal(loc.user, "alice");
    assert_string_equal(loc.password, "Sec%25ret"); /* taken literally, as the rest of a UNC path */
    assert_string_equal(loc.share, "share");
    assert_string_equal(loc.path, "dir");
    char buf[256];
    assert_string_equal(sc_location_display(&loc, buf, sizeof buf), "smb://alice@fs1/share/dir");
    sc_location_free(&loc);

    parse_ok("\\\\CORP;bob@fs2\\data", &loc);
    assert_string_equal(loc.host, "fs2");
    assert_string_equal(loc.user, "bob");
    assert_string_equal(loc.domain, "CORP");
    assert_null(loc.password);
    sc_location_free(&loc);

    /* a password holding '@': the host follows the last '@' of the host part */
    parse_ok("//alice:p@ss@fs1/share", &loc);
    assert_string_equal(loc.host, "fs1");
    assert_string_equal(loc.password, "p@ss");
    sc_location_free(&loc);

    parse_bad("//:pw@fs1/share", "missing user name");
}

/* Paths longer than the protocol or the system can name: refused by their length, before connecting. */
static void test_too_long(void **state)
{
    (void)state;
    size_t n = 100000;
    char *s = malloc(n + 64);
    assert_non_null(s);
    strcpy(s, "smb://host/share/");
    size_t at = strlen(s);
    memset(s + at, 'a', n);
    s[at + n] = '\0';
    parse_bad(s, "path too long for SMB: 100000 characters (at most 32767)");

    /* 32767 UTF-16 code units is the most a CREATE can carry (its NameLength is 16 bits) */
    memset(s + at, 'b', 32767);
    s[at + 32767] = '\0';
    sc_location loc;
    parse_ok(s, &loc);
    sc_location_free(&loc);
    s[at + 32767] = 'b';
    s[at + 32768] = '\0';
    parse_bad(s, "(at most 32767)");

    /* a local path beyond PATH_MAX */
    s[0] = '/';
    memset(s + 1, 'c', n);
    s[n + 1] = '\0';
    parse_bad(s, "local path too long: 100001 bytes (at most 4095)");
    free(s);
}

static void test_unc_slash(void **state)
{
    (void)state;
    sc_location loc;
    parse_ok("//fs1/share/dir/sub/file.bin", &loc);
    assert_true(loc.is_smb);
    assert_string_equal(loc.host, "fs1");
    assert_int_equal(loc.port, 445);
    assert_string_equal(loc.share, "share");
    assert_string_equal(loc.path, "dir/sub/file.bin");
    assert_null(loc.user);
    assert_false(loc.trailing_sep);
    sc_location_free(&loc);

    parse_ok("//fs1/share", &loc);
    assert_string_equal(loc.path, "");
    assert_false(loc.trailing_sep);
    sc_location_free(&loc);

    /* taken literally: no percent-decoding */
    parse_ok("//fs1/share/100%25 done/", &loc);
    assert_string_equal(loc.path, "100%25 done");
    assert_true(loc.trailing_sep);
    sc_location_free(&loc);

    parse_bad("//host", "missing share name in '//host'");
    parse_bad("//host/", "missing share name");
    parse_bad("///share", "missing host name");
    parse_bad("//h/s/a/../b", "'..' is not allowed in an SMB path");
}

static void test_unc_backslash(void **state)
{
    (void)state;
    sc_location loc;
    parse_ok("\\\\fs1\\share\\dir\\file.txt", &loc);
    assert_true(loc.is_smb);
    assert_string_equal(loc.host, "fs1");
    assert_string_equal(loc.share, "share");
    assert_string_equal(loc.path, "dir/file.txt");
    assert_false(loc.trailing_sep);
    sc_location_free(&loc);

    parse_ok("\\\\fs1\\share\\dir\\", &loc);
    assert_string_equal(loc.path, "dir");
    assert_true(loc.trailing_sep);
    sc_location_free(&loc);

    parse_ok("\\\\fs1\\share", &loc);
    assert_string_equal(loc.path, "");
    sc_location_free(&loc);

    parse_bad("\\\\fs1", "missing share name");
    parse_bad("\\\\fs1\\s\\..\\x", "'..' is not allowed");
}

static void test_path_normalisation(void **state)
{
    (void)state;
    sc_location loc;
    parse_ok("smb://h/s//a///b/./c\\\\d/", &loc);
    assert_string_equal(loc.path, "a/b/c/d");
    assert_true(loc.trailing_sep);
    sc_location_free(&loc);

    parse_ok("//h//s//x", &loc);
    assert_string_equal(loc.share, "s");
    assert_string_equal(loc.path, "x");
    sc_location_free(&loc);

    parse_ok("//h/s/./", &loc);
    assert_string_equal(loc.path, "");
    assert_true(loc.trailing_sep);
    sc_location_free(&loc);

    /* names that merely contain dots are fine */
    parse_ok("//h/s/...x/..y/a..", &loc);
    assert_string_equal(loc.path, "...x/..y/a..");
    sc_location_free(&loc);
}

static void test_local(void **state)
{
    (void)state;
    sc_location loc;
    parse_ok("/home/me/data", &loc);
    assert_false(loc.is_smb);
    assert_string_equal(loc.path, "/home/me/data");
    assert_false(loc.trailing_sep);
    assert_null(loc.host);
    assert_null(loc.share);
    sc_location_free(&loc);

    /* kept exactly as given */
    parse_ok("rel//dir/../x/", &loc);
    assert_false(loc.is_smb);
    assert_string_equal(loc.path, "rel//dir/../x/");
    assert_true(loc.trailing_sep);
    sc_location_free(&loc);

    parse_ok(".", &loc);
    assert_string_equal(loc.path, ".");
    sc_location_free(&loc);

    parse_ok("/", &loc);
    assert_string_equal(loc.path, "/");
    assert_true(loc.trailing_sep);
    sc_location_free(&loc);

    parse_ok("smbfiles/x", &loc);
    assert_false(loc.is_smb);
    sc_location_free(&loc);

    parse_ok("/srv/smb://x", &loc);
    assert_false(loc.is_smb);
    sc_location_free(&loc);

    /* freeing twice, or a NULL, is harmless */
    sc_location_free(&loc);
    sc_location_free(NULL);
}

static void test_display(void **state)
{
    (void)state;
    sc_location loc;
    char buf[256];

    parse_ok("smb://CORP;alice:s3cret@fs1:4450/data/a/b.txt", &loc);
    assert_string_equal(sc_location_display(&loc, buf, sizeof buf), "smb://CORP;alice@fs1:4450/data/a/b.txt");
    assert_null(strstr(buf, "s3cret"));
    sc_location_free(&loc);

    parse_ok("\\\\fs1\\share\\dir\\", &loc);
    assert_string_equal(sc_location_display(&loc, buf, sizeof buf), "smb://fs1/share/dir/");
    sc_location_free(&loc);

    parse_ok("//fs1/share", &loc);
    assert_string_equal(sc_location_display(&loc, buf, sizeof buf), "smb://fs1/share");
    sc_location_free(&loc);

    parse_ok("smb://[::1]:445/s/", &loc);
    assert_string_equal(sc_location_display(&loc, buf, sizeof buf), "smb://[::1]/s/");
    sc_location_free(&loc);

    parse_ok("/tmp/x y", &loc);
    assert_string_equal(sc_location_display(&loc, buf, sizeof buf), "/tmp/x y");
    sc_location_free(&loc);

    /* truncation stays terminated; no buffer gives "" */
    parse_ok("smb://u:pw@server/share/some/long/path", &loc);
    char small[12];
    sc_location_display(&loc, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_string_equal(sc_location_display(&loc, NULL, 0), "");
    sc_location_free(&loc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_full),        cmocka_unit_test(test_url_minimal),
        cmocka_unit_test(test_url_percent),     cmocka_unit_test(test_url_ipv6),
        cmocka_unit_test(test_url_port),        cmocka_unit_test(test_url_errors),
        cmocka_unit_test(test_error_hides_password), cmocka_unit_test(test_unc_slash),
        cmocka_unit_test(test_error_never_shows_password), cmocka_unit_test(test_unc_user),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_unc_backslash),   cmocka_unit_test(test_path_normalisation),
        cmocka_unit_test(test_local),           cmocka_unit_test(test_display),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

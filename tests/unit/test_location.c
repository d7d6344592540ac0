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

/* What a location string parses to: every field (a NULL string: the field
 * must be NULL; port 0: not checked, as for a local path), and what
 * sc_location_display shows (NULL: not checked). */
typedef struct parsed {
    const char *in;
    bool is_smb;
    const char *host;
    uint16_t port;
    const char *share, *path, *user, *domain, *password;
    bool trailing_sep;
    const char *display;
} parsed;

#define SMB true
#define LOCAL false

static const parsed PARSES[] = {
    /* URLs */
    {"smb://CORP;alice:s3cret@fs1.example.com:4450/data/a/b.txt", SMB, "fs1.example.com", 4450, "data", "a/b.txt",
     "alice", "CORP", "s3cret", false, NULL},
    {"smb://server/share", SMB, "server", 445, "share", "", NULL, NULL, NULL, false, NULL},
    {"SMB://bob@server/share/", SMB, "server", 445, "share", "", "bob", NULL, NULL, true, NULL},
    /* an empty password is a password */
    {"smb://bob:@server/share", SMB, "server", 445, "share", "", "bob", NULL, "", false, NULL},
    {"smb://CORP;alice:s3cret@fs1:4450/data/a/b.txt", SMB, "fs1", 4450, "data", "a/b.txt", "alice", "CORP", "s3cret",
     false, "smb://CORP;alice@fs1:4450/data/a/b.txt"},
    {"smb://u:pw@server/share/some/long/path", SMB, "server", 445, "share", "some/long/path", "u", NULL, "pw", false,
     "smb://u@server/share/some/long/path"},
    /* percent-decoding */
    {"smb://DOM%3Bx;j%40doe:p%40ss%3Aw%2Fd%25@host/my%20share/dir%20one/f%C3%A9.txt", SMB, "host", 445, "my share",
     "dir one/f\xC3\xA9.txt", "j@doe", "DOM;x", "p@ss:w/d%", false, NULL},
    /* an unencoded '@' in the password: the last '@' ends the user part */
    {"smb://u:a@b@host/s", SMB, "host", 445, "s", "", "u", NULL, "a@b", false, NULL},
    /* a DOMAIN\user user name, encoded */
    {"smb://CORP%5Calice@host/s", SMB, "host", 445, "s", "", "CORP\\alice", NULL, NULL, false, NULL},
    /* an encoded separator separates */
    {"smb://host/s/a%2Fb", SMB, "host", 445, "s", "a/b", NULL, NULL, NULL, false, NULL},
    /* IPv6 */
    {"smb://[::1]/share/x", SMB, "::1", 445, "share", "x", NULL, NULL, NULL, false, NULL},
    {"smb://u@[fe80::1%25eth0]:44501/s", SMB, "fe80::1%eth0", 44501, "s", "", "u", NULL, NULL, false, NULL},
    {"\\\\[2001:db8::5]\\share\\dir", SMB, "2001:db8::5", 445, "share", "dir", NULL, NULL, NULL, false, NULL},
    {"smb://[::1]:445/s/", SMB, "::1", 445, "s", "", NULL, NULL, NULL, true, "smb://[::1]/s/"},
    /* ports */
    {"smb://h:1/s", SMB, "h", 1, "s", "", NULL, NULL, NULL, false, NULL},
    {"smb://h:65535/s", SMB, "h", 65535, "s", "", NULL, NULL, NULL, false, NULL},
    /* //[DOMAIN;]USER[:PASSWORD]@HOST/SHARE: a user and password, never a host named after them */
    {"//alice:Sec%25ret@fs1/share/dir", SMB, "fs1", 445, "share", "dir", "alice", NULL,
     "Sec%25ret" /* taken literally, as the rest of a UNC path */, false, "smb://alice@fs1/share/dir"},
    {"\\\\CORP;bob@fs2\\data", SMB, "fs2", 445, "data", "", "bob", "CORP", NULL, false, NULL},
    /* a password holding '@': the host follows the last '@' of the host part */
    {"//alice:p@ss@fs1/share", SMB, "fs1", 445, "share", "", "alice", NULL, "p@ss", false, NULL},
    /* UNC paths with slashes */
    {"//fs1/share/dir/sub/file.bin", SMB, "fs1", 445, "share", "dir/sub/file.bin", NULL, NULL, NULL, false, NULL},
    {"//fs1/share", SMB, "fs1", 445, "share", "", NULL, NULL, NULL, false, "smb://fs1/share"},
    /* taken literally: no percent-decoding */
    {"//fs1/share/100%25 done/", SMB, "fs1", 445, "share", "100%25 done", NULL, NULL, NULL, true, NULL},
    /* UNC paths with backslashes */
    {"\\\\fs1\\share\\dir\\file.txt", SMB, "fs1", 445, "share", "dir/file.txt", NULL, NULL, NULL, false, NULL},
    {"\\\\fs1\\share\\dir\\", SMB, "fs1", 445, "share", "dir", NULL, NULL, NULL, true, "smb://fs1/share/dir/"},
    {"\\\\fs1\\share", SMB, "fs1", 445, "share", "", NULL, NULL, NULL, false, NULL},
    /* normalisation of SMB paths */
    {"smb://h/s//a///b/./c\\\\d/", SMB, "h", 445, "s", "a/b/c/d", NULL, NULL, NULL, true, NULL},
    {"//h//s//x", SMB, "h", 445, "s", "x", NULL, NULL, NULL, false, NULL},
    {"//h/s/./", SMB, "h", 445, "s", "", NULL, NULL, NULL, true, NULL},
    /* names that merely contain dots are fine */
    {"//h/s/...x/..y/a..", SMB, "h", 445, "s", "...x/..y/a..", NULL, NULL, NULL, false, NULL},
    /* local paths, kept exactly as given */
    {"/home/me/data", LOCAL, NULL, 0, NULL, "/home/me/data", NULL, NULL, NULL, false, NULL},
    {"rel//dir/../x/", LOCAL, NULL, 0, NULL, "rel//dir/../x/", NULL, NULL, NULL, true, NULL},
    {".", LOCAL, NULL, 0, NULL, ".", NULL, NULL, NULL, false, NULL},
    {"/", LOCAL, NULL, 0, NULL, "/", NULL, NULL, NULL, true, NULL},
    {"smbfiles/x", LOCAL, NULL, 0, NULL, "smbfiles/x", NULL, NULL, NULL, false, NULL},
    {"/srv/smb://x", LOCAL, NULL, 0, NULL, "/srv/smb://x", NULL, NULL, NULL, false, NULL},
    {"/tmp/x y", LOCAL, NULL, 0, NULL, "/tmp/x y", NULL, NULL, NULL, false, "/tmp/x y"},
};

/* A string field: want NULL means the field must be NULL. */
static void expect_str(const char *in, const char *field, const char *got, const char *want)
{
    if (!want ? got != NULL : !got || strcmp(got, want) != 0)
        fail_msg("'%s': %s is '%s', expected '%s'", in, field, got ? got : "(null)", want ? want : "(null)");
}

static void test_parses(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof PARSES / sizeof PARSES[0]; i++) {
        const parsed *p = &PARSES[i];
        sc_location loc;
        parse_ok(p->in, &loc);
        if (loc.is_smb != p->is_smb)
            fail_msg("'%s': is_smb is %d", p->in, loc.is_smb);
        expect_str(p->in, "host", loc.host, p->host);
        if (p->port && loc.port != p->port)
            fail_msg("'%s': port %u, expected %u", p->in, loc.port, p->port);
        expect_str(p->in, "share", loc.share, p->share);
        expect_str(p->in, "path", loc.path, p->path);
        expect_str(p->in, "user", loc.user, p->user);
        expect_str(p->in, "domain", loc.domain, p->domain);
        expect_str(p->in, "password", loc.password, p->password);
        if (loc.trailing_sep != p->trailing_sep)
            fail_msg("'%s': trailing_sep is %d", p->in, loc.trailing_sep);
        char buf[256];
        if (p->display)
            expect_str(p->in, "display", sc_location_display(&loc, buf, sizeof buf), p->display);
        /* the display never shows the password */
        if (p->password && *p->password && strstr(sc_location_display(&loc, buf, sizeof buf), p->password))
            fail_msg("'%s': the display shows the password: %s", p->in, buf);
        sc_location_free(&loc);
        assert_null(loc.host);
        assert_null(loc.password);
    }
}

/* A string that does not parse, and what the message must hold. */
typedef struct unparsed {
    const char *in;
    const char *message;
} unparsed;

static const unparsed BAD[] = {
    /* percent-decoding */
    {"smb://host/s/a%2", "bad percent-encoding in the path"},
    {"smb://host/s/a%zz", "bad percent-encoding"},
    {"smb://host/s/a%00b", "bad percent-encoding"},
    {"smb://u%4@host/s", "bad percent-encoding in the user name"},
    {"smb://u:%x@host/s", "bad percent-encoding in the password"},
    {"smb://host/s/%2E%2E/x", "'..' is not allowed in an SMB path"},
    /* IPv6 */
    {"smb://[::1/share", "missing ']'"},
    {"smb://[::1]x/share", "bad host"},
    {"smb://::1/share", "in brackets"},
    {"smb://[]/share", "missing host name"},
    /* ports */
    {"smb://h:0/s", "bad port in 'smb://h:0/s'"},
    {"smb://h:65536/s", "bad port"},
    {"smb://h:/s", "bad port"},
    {"smb://h:44x/s", "bad port"},
    {"smb://h:-1/s", "bad port"},
    {"smb://h:0000445/s", "bad port"},
    {"smb://[::1]:/s", "bad port"},
    /* URLs */
    {"smb://host", "missing share name in 'smb://host'"},
    {"smb://host/", "missing share name"},
    {"smb://host//", "missing share name"},
    {"smb:///share", "missing host name"},
    {"smb://u@/share", "missing host name"},
    {"smb://@host/share", "missing user name"},
    {"smb://D;@host/share", "missing user name"},
    {"smb://D;:pw@host/share", "missing user name"},
    {"smb:host/share", "bad SMB URL"},
    {"smb://host/s/a/../b", "'..' is not allowed in an SMB path"},
    {"smb://host/s/..", "'..' is not allowed"},
    {"smb://host/../x", "bad share name"},
    {"smb://host/a%2Fb/x", "bad share name"},
    {"", "empty location"},
    /* UNC paths */
    {"//:pw@fs1/share", "missing user name"},
    {"//host", "missing share name in '//host'"},
    {"//host/", "missing share name"},
    {"///share", "missing host name"},
    {"//h/s/a/../b", "'..' is not allowed in an SMB path"},
    {"\\\\fs1", "missing share name"},
    {"\\\\fs1\\s\\..\\x", "'..' is not allowed"},
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++)
        parse_bad(BAD[i].in, BAD[i].message);

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

/* Truncation stays terminated; no buffer gives "". Freeing twice, or a NULL, is harmless. */
static void test_display_truncated(void **state)
{
    (void)state;
    sc_location loc;
    parse_ok("smb://u:pw@server/share/some/long/path", &loc);
    char small[12];
    sc_location_display(&loc, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_string_equal(sc_location_display(&loc, NULL, 0), "");
    sc_location_free(&loc);
    sc_location_free(&loc);
    sc_location_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses),
        cmocka_unit_test(test_bad),
        cmocka_unit_test(test_error_hides_password),
        cmocka_unit_test(test_error_never_shows_password),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_display_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

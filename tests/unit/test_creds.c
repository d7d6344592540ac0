/* smbcopy credentials: authentication file parsing, its mode checks, and the precedence of sources. */
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

#include "cli/creds.h"

static char errbuf[512];

static int parse_text(const char *text, cli_creds *c)
{
    return cli_authfile_parse(text, strlen(text), "auth", c, errbuf, sizeof errbuf);
}

static void test_parse_basic(void **state)
{
    (void)state;
    cli_creds c;
    assert_int_equal(parse_text("username = alice\npassword = s3cret\ndomain = CORP\n", &c), 0);
    assert_string_equal(c.username, "alice");
    assert_string_equal(c.password, "s3cret");
    assert_string_equal(c.domain, "CORP");
    cli_creds_free(&c);
    assert_null(c.username);
    assert_null(c.password);
}

static void test_parse_spacing_comments(void **state)
{
    (void)state;
    cli_creds c;
    const char *text = "# smbclient-style file\r\n"
                       "\n"
                       "   ; another comment\n"
                       "username=bob\r\n"
                       "\tpassword\t=  pa ss=word#1  \r\n"
                       "DOMAIN =WORK";
    assert_int_equal(parse_text(text, &c), 0);
    assert_string_equal(c.username, "bob");
    assert_string_equal(c.password, "pa ss=word#1"); /* inner spaces, '=' and '#' are kept */
    assert_string_equal(c.domain, "WORK");
    cli_creds_free(&c);

    /* only some keys; an empty value is a value; the last of a repeated key wins */
    assert_int_equal(parse_text("password =\nusername = a\nusername = b\n", &c), 0);
    assert_string_equal(c.password, "");
    assert_string_equal(c.username, "b");
    assert_null(c.domain);
    cli_creds_free(&c);

    /* an empty file gives nothing */
    assert_int_equal(parse_text("", &c), 0);
    assert_null(c.username);
    assert_null(c.password);
    assert_null(c.domain);
}

static void test_parse_errors(void **state)
{
    (void)state;
    cli_creds c;
    assert_int_equal(parse_text("username = a\nthis line has no equals sign\n", &c), -1);
    assert_non_null(strstr(errbuf, "auth line 2: expected 'key = value'"));
    assert_null(c.username); /* nothing kept after a failure */

    assert_int_equal(parse_text("user = a\n", &c), -1);
    assert_non_null(strstr(errbuf, "line 1: unknown key 'user'"));

    /* a message never quotes a value */
    assert_int_equal(parse_text("password = TopSecret\nbogus = x\n", &c), -1);
    assert_null(strstr(errbuf, "TopSecret"));
    assert_int_equal(parse_text("password TopSecret\n", &c), -1);
    assert_null(strstr(errbuf, "TopSecret"));

    static const char nul[] = "username = a\0b\n";
    assert_int_equal(cli_authfile_parse(nul, sizeof nul - 1, "auth", &c, errbuf, sizeof errbuf), -1);
    assert_non_null(strstr(errbuf, "NUL"));
}

/* A temporary file holding text, with mode. */
static void make_file(char *path, const char *text, mode_t mode)
{
    strcpy(path, "/tmp/smbcopy-test-auth-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_load_modes(void **state)
{
    (void)state;
    char path[64];
    cli_creds c;
    make_file(path, "username = carol\npassword = pw\n", 0600);
    assert_int_equal(cli_authfile_load(path, &c, errbuf, sizeof errbuf), 0);
    assert_string_equal(c.username, "carol");
    assert_string_equal(c.password, "pw");
    cli_creds_free(&c);

    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(cli_authfile_load(path, &c, errbuf, sizeof errbuf), 0);
    cli_creds_free(&c);

    static const mode_t refused[] = {0640, 0604, 0660, 0606, 0644, 0610, 0601, 0700 | 0020, 0777};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(chmod(path, refused[i]), 0);
        if (cli_authfile_load(path, &c, errbuf, sizeof errbuf) != -1)
            fail_msg("mode %04o accepted", (unsigned)refused[i]);
        assert_non_null(strstr(errbuf, "accessible by group or others"));
        assert_non_null(strstr(errbuf, "chmod 600"));
        assert_null(c.username);
        assert_null(strstr(errbuf, "pw\n"));
    }
    unlink(path);

    assert_int_equal(cli_authfile_load(path, &c, errbuf, sizeof errbuf), -1);
    assert_non_null(strstr(errbuf, "cannot open authentication file"));

    assert_int_equal(cli_authfile_load("/tmp", &c, errbuf, sizeof errbuf), -1);
    assert_non_null(strstr(errbuf, "not a regular file"));

    /* a bad line in a safe file is reported with the file's name */
    make_file(path, "username = a\nnonsense\n", 0600);
    assert_int_equal(cli_authfile_load(path, &c, errbuf, sizeof errbuf), -1);
    assert_non_null(strstr(errbuf, path));
    assert_non_null(strstr(errbuf, "line 2"));
    unlink(path);
}

static void test_load_too_large(void **state)
{
    (void)state;
    char path[64];
    size_t n = CLI_AUTHFILE_MAX + 10;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, '#', n);
    big[n] = '\0';
    make_file(path, big, 0600);
    free(big);
    cli_creds c;
    assert_int_equal(cli_authfile_load(path, &c, errbuf, sizeof errbuf), -1);
    assert_non_null(strstr(errbuf, "too large"));
    unlink(path);
}

static void test_precedence_defaults(void **state)
{
    (void)state;
    cli_creds file = {.username = (char *)"fileuser", .password = (char *)"filepw", .domain = (char *)"FILEDOM"};
    cli_creds out;

    /* -U > file > env for the user; file > env for password and domain */
    cli_cred_sources all = {.opt_user = "optuser", .file = &file, .env_user = "envuser",
                            .env_password = "envpw", .env_domain = "ENVDOM"};
    assert_int_equal(cli_creds_resolve(&all, &out), 0);
    assert_string_equal(out.username, "optuser");
    assert_string_equal(out.password, "filepw");
    assert_string_equal(out.domain, "FILEDOM");
    cli_creds_free(&out);

    cli_cred_sources no_opt = all;
    no_opt.opt_user = NULL;
    assert_int_equal(cli_creds_resolve(&no_opt, &out), 0);
    assert_string_equal(out.username, "fileuser");
    cli_creds_free(&out);

    cli_cred_sources env_only = {.env_user = "envuser", .env_password = "envpw", .env_domain = "ENVDOM"};
    assert_int_equal(cli_creds_resolve(&env_only, &out), 0);
    assert_string_equal(out.username, "envuser");
    assert_string_equal(out.password, "envpw");
    assert_string_equal(out.domain, "ENVDOM");
    cli_creds_free(&out);

    /* a file with only a user: password and domain fall through to the environment */
    cli_creds partial = {.username = (char *)"fileuser"};
    cli_cred_sources mixed = {.file = &partial, .env_user = "envuser", .env_password = "envpw",
                              .env_domain = "ENVDOM"};
    assert_int_equal(cli_creds_resolve(&mixed, &out), 0);
    assert_string_equal(out.username, "fileuser");
    assert_string_equal(out.password, "envpw");
    assert_string_equal(out.domain, "ENVDOM");
    cli_creds_free(&out);

    /* empty SMB_USERNAME and SMB_DOMAIN are unset; an empty SMB_PASSWORD is an empty password */
    cli_cred_sources empties = {.env_user = "", .env_password = "", .env_domain = ""};
    assert_int_equal(cli_creds_resolve(&empties, &out), 0);
    assert_null(out.username);
    assert_string_equal(out.password, "");
    assert_null(out.domain);
    cli_creds_free(&out);

    /* -U USER%PASSWORD: its password comes before the file's and the environment's */
    cli_cred_sources with_pw = all;
    with_pw.opt_password = "optpw";
    assert_int_equal(cli_creds_resolve(&with_pw, &out), 0);
    assert_string_equal(out.username, "optuser");
    assert_string_equal(out.password, "optpw");
    cli_creds_free(&out);

    cli_cred_sources none = {0};
    assert_int_equal(cli_creds_resolve(&none, &out), 0);
    assert_null(out.username);
    assert_null(out.password);
    assert_null(out.domain);
}

static void test_precedence_url(void **state)
{
    (void)state;
    cli_creds defaults = {.username = (char *)"deflt", .password = (char *)"defpw", .domain = (char *)"DEFDOM"};

    /* the URL's fields win over the defaults, field by field */
    sc_location full = {.is_smb = true, .host = (char *)"h", .share = (char *)"s", .user = (char *)"urluser",
                        .password = (char *)"urlpw", .domain = (char *)"URLDOM"};
    cli_cred_view v = cli_creds_for_location(&defaults, &full);
    assert_string_equal(v.username, "urluser");
    assert_string_equal(v.password, "urlpw");
    assert_string_equal(v.domain, "URLDOM");

    sc_location user_only = {.is_smb = true, .host = (char *)"h", .share = (char *)"s", .user = (char *)"urluser"};
    v = cli_creds_for_location(&defaults, &user_only);
    assert_string_equal(v.username, "urluser");
    assert_string_equal(v.password, "defpw");
    assert_string_equal(v.domain, "DEFDOM");

    sc_location bare = {.is_smb = true, .host = (char *)"h", .share = (char *)"s"};
    v = cli_creds_for_location(&defaults, &bare);
    assert_string_equal(v.username, "deflt");

    /* a local location has none of its own */
    sc_location local = {.path = (char *)"/tmp"};
    assert_false(cli_creds_need_password(&defaults, &local));
}

static void test_need_password(void **state)
{
    (void)state;
    cli_creds none = {0};
    cli_creds user_no_pw = {.username = (char *)"u"};
    cli_creds user_empty_pw = {.username = (char *)"u", .password = (char *)""};

    sc_location bare = {.is_smb = true, .host = (char *)"h", .share = (char *)"s"};
    sc_location url_user = {.is_smb = true, .host = (char *)"h", .share = (char *)"s", .user = (char *)"x"};
    sc_location url_pw = {.is_smb = true, .host = (char *)"h", .share = (char *)"s", .user = (char *)"x",
                          .password = (char *)"p"};
    sc_location local = {.path = (char *)"/tmp"};

    assert_false(cli_creds_need_password(&none, &bare));        /* anonymous: no prompt */
    assert_true(cli_creds_need_password(&none, &url_user));     /* a URL user, no password anywhere */
    assert_false(cli_creds_need_password(&none, &url_pw));
    assert_true(cli_creds_need_password(&user_no_pw, &bare));
    assert_false(cli_creds_need_password(&user_empty_pw, &bare)); /* an empty password is given */
    assert_false(cli_creds_need_password(&user_empty_pw, &url_user));
    assert_false(cli_creds_need_password(&user_no_pw, &local));
    assert_false(cli_creds_need_password(&user_no_pw, NULL));

    /* the prompt's answer fills the defaults */
    cli_creds c = {0};
    assert_int_equal(cli_creds_set_password(&c, "typed"), 0);
    assert_string_equal(c.password, "typed");
    assert_int_equal(cli_creds_set_password(&c, "again"), 0);
    assert_string_equal(c.password, "again");
    assert_false(cli_creds_need_password(&c, &url_user));
    cli_creds_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic),      cmocka_unit_test(test_parse_spacing_comments),
        cmocka_unit_test(test_parse_errors),     cmocka_unit_test(test_load_modes),
        cmocka_unit_test(test_load_too_large),   cmocka_unit_test(test_precedence_defaults),
        cmocka_unit_test(test_precedence_url),   cmocka_unit_test(test_need_password),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

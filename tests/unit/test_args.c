/* smbcopy option parsing: defaults, every option, repeatable ones, bad values, positionals; exit codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli/args.h"
#include "cli/exitcodes.h"

#define MAX_ARGS 64

static char errbuf[256];

/* Parse a NULL-terminated list of arguments after "smbcopy". */
static int parse_list(cli_options *o, const char **args)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    argv[argc++] = (char *)"smbcopy";
    for (; *args; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    return cli_parse_args(argc, argv, o, errbuf, sizeof errbuf);
}

#define PARSE(o, ...) parse_list((o), (const char *[]){__VA_ARGS__, NULL})

/* The parse must fail with a message containing want. */
#define BAD(want, ...)                                                                                      \
    do {                                                                                                    \
        cli_options bad_;                                                                                   \
        assert_int_equal(PARSE(&bad_, __VA_ARGS__), -1);                                                    \
        if (!strstr(errbuf, (want)))                                                                        \
            fail_msg("message '%s' lacks '%s'", errbuf, (want));                                           \
        assert_null(bad_.sources);                                                                          \
        assert_null(bad_.excludes);                                                                         \
        assert_null(bad_.includes);                                                                         \
    } while (0)

static void test_defaults(void **state)
{
    (void)state;
    cli_options o;
    assert_int_equal(PARSE(&o, "src", "dst"), 0);
    assert_int_equal(o.nsources, 1);
    assert_string_equal(o.sources[0], "src");
    assert_string_equal(o.dest, "dst");
    assert_int_equal(o.threads, 8);
    assert_false(o.mirror);
    assert_false(o.dry_run);
    assert_false(o.checksum);
    assert_int_equal(o.nexcludes, 0);
    assert_int_equal(o.nincludes, 0);
    assert_false(o.sign);
    assert_false(o.encrypt);
    assert_int_equal(o.min_dialect, 0);
    assert_int_equal(o.max_dialect, 0);
    assert_false(o.quiet);
    assert_false(o.verbose);
    assert_false(o.json);
    assert_int_equal(o.progress, CLI_PROGRESS_AUTO);
    assert_null(o.log_path);
    assert_null(o.auth_file);
    assert_null(o.user);
    assert_int_equal(o.timeout_s, 0);
    assert_false(o.help);
    assert_false(o.version);
    cli_options_free(&o);
    cli_options_free(&o); /* twice is harmless */
}

static void test_every_option(void **state)
{
    (void)state;
    cli_options o;
    assert_int_equal(PARSE(&o, "-j", "16", "--mirror", "--dry-run", "--checksum", "--exclude", "*.tmp",
                           "--include", "*.doc", "--sign", "--encrypt", "--min-protocol", "3.0",
                           "--max-protocol", "SMB3_11", "-v", "--no-progress", "--json", "--log", "run.log",
                           "-A", "auth.txt", "-U", "CORP\\alice", "--timeout", "30", "a", "b", "smb://h/s/d"),
                     0);
    assert_int_equal(o.threads, 16);
    assert_true(o.mirror);
    assert_true(o.dry_run);
    assert_true(o.checksum);
    assert_int_equal(o.nexcludes, 1);
    assert_string_equal(o.excludes[0], "*.tmp");
    assert_int_equal(o.nincludes, 1);
    assert_string_equal(o.includes[0], "*.doc");
    assert_true(o.sign);
    assert_true(o.encrypt);
    assert_int_equal(o.min_dialect, SMB_DIALECT_3_0);
    assert_int_equal(o.max_dialect, SMB_DIALECT_3_1_1);
    assert_true(o.verbose);
    assert_int_equal(o.progress, CLI_PROGRESS_OFF);
    assert_true(o.json);
    assert_string_equal(o.log_path, "run.log");
    assert_string_equal(o.auth_file, "auth.txt");
    assert_string_equal(o.user, "CORP\\alice");
    assert_int_equal(o.timeout_s, 30);
    assert_int_equal(o.nsources, 2);
    assert_string_equal(o.sources[0], "a");
    assert_string_equal(o.sources[1], "b");
    assert_string_equal(o.dest, "smb://h/s/d");
    cli_options_free(&o);
}

static void test_long_and_short_forms(void **state)
{
    (void)state;
    cli_options o;
    assert_int_equal(PARSE(&o, "--threads=4", "--quiet", "--authentication-file=f", "--user=bob", "x", "y"), 0);
    assert_int_equal(o.threads, 4);
    assert_true(o.quiet);
    assert_string_equal(o.auth_file, "f");
    assert_string_equal(o.user, "bob");
    cli_options_free(&o);

    assert_int_equal(PARSE(&o, "-j2", "-q", "-Af", "-Ubob", "x", "y"), 0);
    assert_int_equal(o.threads, 2);
    assert_true(o.quiet);
    assert_string_equal(o.auth_file, "f");
    assert_string_equal(o.user, "bob");
    cli_options_free(&o);

    /* options after the positionals, and the last of a repeated single option wins */
    assert_int_equal(PARSE(&o, "x", "y", "--progress", "-j", "3", "-j", "5", "--min-protocol", "2.1",
                           "--min-protocol", "3.0.2"),
                     0);
    assert_int_equal(o.threads, 5);
    assert_int_equal(o.progress, CLI_PROGRESS_ON);
    assert_int_equal(o.min_dialect, SMB_DIALECT_3_0_2);
    assert_string_equal(o.sources[0], "x");
    assert_string_equal(o.dest, "y");
    cli_options_free(&o);

    /* "--" ends the options: names that look like options are locations */
    assert_int_equal(PARSE(&o, "--mirror", "--", "-odd", "--json"), 0);
    assert_true(o.mirror);
    assert_false(o.json);
    assert_string_equal(o.sources[0], "-odd");
    assert_string_equal(o.dest, "--json");
    cli_options_free(&o);
}

static void test_repeatable(void **state)
{
    (void)state;
    cli_options o;
    assert_int_equal(PARSE(&o, "--exclude", "*.tmp", "--include", "*.a", "--exclude=~*", "--include", "b/*",
                           "--exclude", ".git", "s1", "s2", "s3", "d"),
                     0);
    assert_int_equal(o.nexcludes, 3);
    assert_string_equal(o.excludes[0], "*.tmp");
    assert_string_equal(o.excludes[1], "~*");
    assert_string_equal(o.excludes[2], ".git");
    assert_int_equal(o.nincludes, 2);
    assert_string_equal(o.includes[0], "*.a");
    assert_string_equal(o.includes[1], "b/*");
    assert_int_equal(o.nsources, 3);
    assert_string_equal(o.sources[2], "s3");
    assert_string_equal(o.dest, "d");
    /* Every pattern also as a rule, in command-line order (first match wins). */
    assert_int_equal(o.nfilters, 5);
    assert_string_equal(o.filters[0], "- *.tmp");
    assert_string_equal(o.filters[1], "+ *.a");
    assert_string_equal(o.filters[2], "- ~*");
    assert_string_equal(o.filters[3], "+ b/*");
    assert_string_equal(o.filters[4], "- .git");
    cli_options_free(&o);
}

/* The options of the trust rules: --delete-excluded, --incremental, --retries, --max-dir-entries. */
static void test_trust_options(void **state)
{
    (void)state;
    cli_options o;
    assert_int_equal(PARSE(&o, "a", "b"), 0);
    assert_false(o.delete_excluded);
    assert_false(o.incremental);
    assert_false(o.retries_given);
    assert_int_equal(o.max_dir_entries, 0);
    cli_options_free(&o);
    assert_int_equal(PARSE(&o, "--mirror", "--delete-excluded", "--incremental", "--retries", "0",
                           "--max-dir-entries", "5000", "a", "b"),
                     0);
    assert_true(o.delete_excluded);
    assert_true(o.incremental);
    assert_true(o.retries_given);
    assert_int_equal(o.retries, 0);
    assert_int_equal(o.max_dir_entries, 5000);
    cli_options_free(&o);
    BAD("bad value '101' for --retries", "--retries", "101", "a", "b");
    BAD("bad value '-1' for --retries", "--retries", "-1", "a", "b");
    BAD("bad value '999' for --max-dir-entries", "--max-dir-entries", "999", "a", "b");
    BAD("bad value '1e6' for --max-dir-entries", "--max-dir-entries", "1e6", "a", "b");
}

static void test_threads_values(void **state)
{
    (void)state;
    cli_options o;
    assert_int_equal(PARSE(&o, "-j", "1", "a", "b"), 0);
    assert_int_equal(o.threads, 1);
    cli_options_free(&o);
    assert_int_equal(PARSE(&o, "-j", "256", "a", "b"), 0);
    assert_int_equal(o.threads, 256);
    cli_options_free(&o);

    BAD("bad value '0' for --threads", "-j", "0", "a", "b");
    BAD("bad value '257' for --threads", "-j", "257", "a", "b");
    BAD("bad value 'x' for --threads", "--threads", "x", "a", "b");
    BAD("bad value '-3' for --threads", "-j", "-3", "a", "b");
    BAD("bad value '4k' for --threads", "-j", "4k", "a", "b");
    BAD("bad value '' for --threads", "--threads=", "a", "b");
    BAD("bad value ' 4' for --threads", "-j", " 4", "a", "b");
    BAD("bad value '99999999999999999999' for --threads", "-j", "99999999999999999999", "a", "b");
}

static void test_bad_values(void **state)
{
    (void)state;
    BAD("unknown protocol version '1.0' for --min-protocol", "--min-protocol", "1.0", "a", "b");
    BAD("unknown protocol version 'fast' for --max-protocol", "--max-protocol", "fast", "a", "b");
    BAD("--min-protocol 3.1.1 is above --max-protocol 2.1", "--min-protocol", "3.1.1", "--max-protocol", "2.1",
        "a", "b");
    BAD("bad value '0' for --timeout", "--timeout", "0", "a", "b");
    BAD("bad value '1.5' for --timeout", "--timeout", "1.5", "a", "b");
    BAD("bad value '86401' for --timeout", "--timeout", "86401", "a", "b");
    BAD("empty pattern for --exclude", "--exclude", "", "a", "b");
    BAD("empty pattern for --include", "--include=", "a", "b");
    BAD("empty file name for --log", "--log", "", "a", "b");
    BAD("empty user name for --user", "-U", "", "a", "b");
    BAD("--quiet and --verbose cannot be used together", "-q", "-v", "a", "b");
    BAD("bad value 'hard' for --links (expected skip, copy or follow)", "--links", "hard", "a", "b");
    BAD("--links copy cannot be used with archives", "--links", "copy", "--archive", "tar", "a", "b.tar");
    BAD("--links follow cannot be used with archives", "--links=follow", "--extract", "a.tar", "b");

    cli_options o;
    assert_int_equal(PARSE(&o, "--timeout", "86400", "a", "b"), 0);
    assert_int_equal(o.timeout_s, 86400);
    cli_options_free(&o);
    assert_int_equal(PARSE(&o, "a", "b"), 0);
    assert_int_equal(o.links, SC_LINKS_SKIP); /* the default */
    cli_options_free(&o);
    const char *modes[] = {"skip", "copy", "follow"};
    const int want[] = {SC_LINKS_SKIP, SC_LINKS_COPY, SC_LINKS_FOLLOW};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(PARSE(&o, "--links", modes[i], "a", "b"), 0);
        assert_int_equal(o.links, want[i]);
        cli_options_free(&o);
    }
}

static void test_unknown_and_missing(void **state)
{
    (void)state;
    BAD("unknown option '--bogus'", "--bogus", "a", "b");
    BAD("unknown option '-x'", "-x", "a", "b");
    BAD("unknown option '-x'", "-qx", "a", "b");
    BAD("unknown option '--mirror=yes'", "--mirror=yes", "a", "b");
    BAD("option '-j' needs a value", "a", "b", "-j");
    BAD("option '--log' needs a value", "a", "b", "--log");
    BAD("option '--exclude' needs a value", "a", "b", "--exclude");
    BAD("missing source and destination", "--mirror");
    BAD("missing destination (after 'only')", "only");

    /* nothing positional at all */
    cli_options o;
    char *argv[] = {(char *)"smbcopy", NULL};
    assert_int_equal(cli_parse_args(1, argv, &o, errbuf, sizeof errbuf), -1);
    assert_non_null(strstr(errbuf, "missing source"));
    /* no error buffer is fine */
    assert_int_equal(cli_parse_args(1, argv, &o, NULL, 0), -1);
}

static void test_list(void **state)
{
    (void)state;
    cli_options o;
    assert_int_equal(PARSE(&o, "--list", "//server"), 0);
    assert_true(o.list);
    assert_string_equal(o.dest, "//server");
    assert_int_equal(o.nsources, 0);
    cli_options_free(&o);
    assert_int_equal(PARSE(&o, "--json", "--list", "smb://server/share/dir"), 0);
    assert_true(o.list && o.json);
    assert_string_equal(o.dest, "smb://server/share/dir");
    cli_options_free(&o);
    BAD("--list takes one location", "--list");
    BAD("--list takes one location", "--list", "a", "b");
    BAD("--list cannot be used with --mirror", "--list", "--mirror", "//server");
    BAD("--list cannot be used with --mirror", "--list", "--dry-run", "//server/share");
}

static void test_help_version(void **state)
{
    (void)state;
    cli_options o;
    assert_int_equal(PARSE(&o, "--help"), 0);
    assert_true(o.help);
    cli_options_free(&o);
    assert_int_equal(PARSE(&o, "-h", "just-one"), 0);
    assert_true(o.help);
    cli_options_free(&o);
    assert_int_equal(PARSE(&o, "--version"), 0);
    assert_true(o.version);
    cli_options_free(&o);
    /* a bad option still fails, even beside --help */
    BAD("unknown option", "--help", "--nope");

    /* the help text documents every option and the exit codes */
    static const char *const words[] = {"--threads", "--mirror", "--dry-run", "--checksum", "--exclude",
                                        "--include", "--sign", "--encrypt", "--min-protocol", "--max-protocol",
                                        "--quiet", "--verbose", "--progress", "--no-progress", "--json", "--log",
                                        "--authentication-file", "--user", "--timeout", "--help", "--version", "--list",
                                        "--plan-out", "--shards", "--plan PLAN", "--shard K", "--finish",
                                        "--summary-dir", "JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID",
                                        "Exit status", "interrupted"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strstr(cli_usage_text, words[i]))
            fail_msg("help lacks %s", words[i]);
}

static void test_repeated_parses(void **state)
{
    (void)state;
    /* the parser starts afresh each time */
    for (int i = 0; i < 3; i++) {
        cli_options o;
        assert_int_equal(PARSE(&o, "--bad"), -1);
        assert_int_equal(PARSE(&o, "-j", "3", "a", "b"), 0);
        assert_int_equal(o.threads, 3);
        cli_options_free(&o);
    }
}

static void test_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(CLI_EXIT_OK, 0);
    assert_int_equal(CLI_EXIT_FAILED, 1);
    assert_int_equal(CLI_EXIT_USAGE, 2);
    assert_int_equal(CLI_EXIT_AUTH, 3);
    assert_int_equal(CLI_EXIT_CONNECT, 4);
    assert_int_equal(CLI_EXIT_INTERRUPTED, 5);
    assert_int_equal(cli_exit_for_error(SMB_ERR_INVALID_ARG), 2);
    assert_int_equal(cli_exit_for_error(SMB_ERR_AUTH), 3);
    assert_int_equal(cli_exit_for_error(SMB_ERR_CONNECT), 4);
    assert_int_equal(cli_exit_for_error(SMB_ERR_BAD_SHARE), 4);
    assert_int_equal(cli_exit_for_error(SMB_ERR_SMB1_ONLY), 4);
    assert_int_equal(cli_exit_for_error(SMB_ERR_NEGOTIATE), 4);
    assert_int_equal(cli_exit_for_error(SMB_ERR_TIMEOUT), 4);
    assert_int_equal(cli_exit_for_error(SMB_ERR_DISCONNECTED), 4);
    assert_int_equal(cli_exit_for_error(SMB_ERR_CANCELLED), 5);
    assert_int_equal(cli_exit_for_error(SMB_ERR_NOT_FOUND), 1);
    assert_int_equal(cli_exit_for_error(SMB_ERR_ACCESS), 1);
    /* the server broke the protocol at connect (the endpoint names it first): a bad signature, an
     * unknown MessageId, 0 credits; elsewhere the job failed in another way */
    smb_error p = {.code = SMB_ERR_SIGNATURE};
    snprintf(p.message, sizeof p.message, "//h/share: response signature does not verify (message id 3)");
    assert_int_equal(cli_exit_for_job_error(&p), 4);
    p.code = SMB_ERR_PROTOCOL;
    snprintf(p.message, sizeof p.message, "//h:445: server granted 0 credits but a request needs 1");
    assert_int_equal(cli_exit_for_job_error(&p), 4);
    snprintf(p.message, sizeof p.message, "listing of '//h/share' stopped: the server repeated the same entries");
    assert_int_equal(cli_exit_for_job_error(&p), 1);

    smb_error e = {.code = SMB_ERR_ACCESS};
    snprintf(e.message, sizeof e.message, "//h/data: connect to share \\\\h\\data: access denied (STATUS_ACCESS_DENIED)");
    assert_int_equal(cli_exit_for_job_error(&e), 3);
    snprintf(e.message, sizeof e.message, "cannot create the destination /x: permission denied");
    assert_int_equal(cli_exit_for_job_error(&e), 1);
    e.code = SMB_ERR_PROTOCOL;
    snprintf(e.message, sizeof e.message, "archive cut.tar: d/f: Truncated tar archive");
    assert_int_equal(cli_exit_for_job_error(&e), 1); /* a damaged archive */
    snprintf(e.message, sizeof e.message, "//h/s: server answered message id 9 that was never sent");
    assert_int_equal(cli_exit_for_job_error(&e), 4);
}

/* Argument vector of modifiable strings (as the kernel gives main). */
typedef struct argvec {
    char *argv[MAX_ARGS];
    char store[MAX_ARGS][200];
    int argc;
} argvec;

static void argvec_set(argvec *a, const char **args)
{
    a->argc = 0;
    for (; *args; args++) {
        snprintf(a->store[a->argc], sizeof a->store[a->argc], "%s", *args);
        a->argv[a->argc] = a->store[a->argc];
        a->argc++;
    }
    a->argv[a->argc] = NULL;
}

/* Nothing left in any argument (what ps shows) holds text. */
static void assert_not_in_argv(const argvec *a, const char *text)
{
    for (int i = 0; i < a->argc; i++)
        if (strstr(a->store[i], text))
            fail_msg("argument %d still shows '%s': %s", i, text, a->store[i]);
}

/*
 * A password on the command line (in a URL, in the UNC form, after -U
 * USER%) is overwritten in argv at once, as smbclient does; the options keep
 * their own copies, so the job still has it.
 */
static void test_passwords_scrubbed(void **state)
{
    (void)state;
    argvec a;
    cli_options o;
    argvec_set(&a, (const char *[]){"smbcopy", "-U", "CORP\\alice%Secr3t!", "smb://bob:Hunter2@fs/s/d",
                                    "//carol:Pa@ss/word@fs2/share", "local:dir@x", "/tmp/out", NULL});
    assert_int_equal(cli_parse_args(a.argc, a.argv, &o, errbuf, sizeof errbuf), 0);
    assert_not_in_argv(&a, "Secr3t");
    assert_not_in_argv(&a, "Hunter2");
    assert_not_in_argv(&a, "Pa@ss/word");
    assert_string_equal(o.user, "CORP\\alice");
    assert_string_equal(o.user_password, "Secr3t!");
    assert_int_equal(o.nsources, 3);
    assert_string_equal(o.sources[0], "smb://bob:Hunter2@fs/s/d");
    assert_string_equal(o.sources[1], "//carol:Pa@ss/word@fs2/share");
    assert_string_equal(o.sources[2], "local:dir@x"); /* a local path: left alone */
    assert_string_equal(o.dest, "/tmp/out");
    /* the rest of each argument stays readable */
    int shown = 0;
    for (int i = 0; i < a.argc; i++)
        shown += strstr(a.store[i], "smb://bob:") != NULL || strstr(a.store[i], "@fs/s/d") != NULL ||
                 strcmp(a.store[i], "local:dir@x") == 0;
    assert_true(shown >= 2);
    cli_options_free(&o);

    /* -U without '%' has no password */
    assert_int_equal(PARSE(&o, "-U", "dave", "a", "b"), 0);
    assert_string_equal(o.user, "dave");
    assert_null(o.user_password);
    cli_options_free(&o);
    BAD("empty user name for --user", "-U", "%pw", "a", "b");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),         cmocka_unit_test(test_every_option),
        cmocka_unit_test(test_long_and_short_forms), cmocka_unit_test(test_repeatable),
        cmocka_unit_test(test_threads_values),   cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_unknown_and_missing), cmocka_unit_test(test_list), cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_repeated_parses),  cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_trust_options),    cmocka_unit_test(test_passwords_scrubbed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

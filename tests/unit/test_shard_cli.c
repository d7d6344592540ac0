/*
 * The command's side of sharding (src/cli/shard_cli.c): what a plan records
 * of the command line (options, then "--" and the locations, local paths
 * made absolute, never a password), and which shard a process runs
 * (--shard, JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/args.h"
#include "cli/shard_cli.h"

#define MAX_ARGS 32

static char errbuf[512];

/* Parse the arguments after "smbcopy", from writable copies (the parser scrubs a password from argv). */
static void parse_list(cli_options *o, const char **args)
{
    static char store[MAX_ARGS][256];
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = strcpy(store[0], "smbcopy");
    for (; *args && argc < MAX_ARGS; args++, argc++)
        argv[argc] = strncpy(store[argc], *args, sizeof store[argc] - 1);
    argv[argc] = NULL;
    if (cli_parse_args(argc, argv, o, errbuf, sizeof errbuf) != 0)
        fail_msg("parse failed: %s", errbuf);
}
#define PARSE(o, ...) parse_list((o), (const char *[]){__VA_ARGS__, NULL})

/* The index of word in v[0..n), or -1. */
static int find(char **v, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], word) == 0)
            return (int)i;
    return -1;
}

static void test_job_args(void **state)
{
    (void)state;
    char cwd[4096], want[4200];
    assert_non_null(getcwd(cwd, sizeof cwd));
    cli_options o;
    PARSE(&o, "--plan-out", "p.json", "--shards", "3", "--mirror", "--exclude", "*.tmp", "--checksum", "-j", "12",
          "rel/src", "/abs/src2", "//host/share/dst");
    char **args = NULL;
    size_t n = 0;
    char msg[256] = "";
    assert_int_equal(cli_plan_job_args(&o, &args, &n, msg, sizeof msg), 0);
    int dash = find(args, n, "--");
    assert_true(dash > 0);
    assert_int_equal((size_t)dash + 4, n); /* two sources, the destination */
    /* A relative local path is recorded absolute; the others as given. */
    snprintf(want, sizeof want, "%s/rel/src", strcmp(cwd, "/") == 0 ? "" : cwd);
    assert_string_equal(args[dash + 1], want);
    assert_string_equal(args[dash + 2], "/abs/src2");
    assert_string_equal(args[dash + 3], "//host/share/dst");
    /* The options that shape the job, before "--"; never the plan options themselves. */
    assert_true(find(args, (size_t)dash, "--mirror") >= 0);
    assert_true(find(args, (size_t)dash, "--checksum") >= 0);
    int ex = find(args, (size_t)dash, "--exclude");
    assert_true(ex >= 0 && ex + 1 < dash);
    assert_string_equal(args[ex + 1], "*.tmp");
    assert_true(find(args, (size_t)dash, "--threads=12") >= 0);
    assert_int_equal(find(args, n, "--plan-out"), -1);
    assert_int_equal(find(args, n, "--shards"), -1);
    assert_int_equal(find(args, n, "p.json"), -1);
    cli_strings_free(args, n);
    cli_options_free(&o);
}

static void test_job_args_no_password(void **state)
{
    (void)state;
    cli_options o;
    PARSE(&o, "--plan-out", "p.json", "--shards", "2", "smb://alice:secret@host/share/src", "/dst");
    char **args = NULL;
    size_t n = 0;
    char msg[256] = "";
    assert_int_equal(cli_plan_job_args(&o, &args, &n, msg, sizeof msg), -1);
    assert_null(args);
    assert_non_null(strstr(msg, "password"));
    assert_null(strstr(msg, "secret")); /* never printed */
    cli_options_free(&o);
}

static void test_shard_index(void **state)
{
    (void)state;
    cli_options o;
    PARSE(&o, "--plan", "p.json");
    unsigned k = 99;
    char msg[256] = "";
    unsetenv("JOB_COMPLETION_INDEX");
    unsetenv("SLURM_ARRAY_TASK_ID");
    assert_int_equal(cli_shard_index(&o, 4, &k, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "which shard"));

    setenv("SLURM_ARRAY_TASK_ID", "2", 1);
    assert_int_equal(cli_shard_index(&o, 4, &k, msg, sizeof msg), 0);
    assert_int_equal(k, 2);
    setenv("JOB_COMPLETION_INDEX", "3", 1); /* Kubernetes' first */
    assert_int_equal(cli_shard_index(&o, 4, &k, msg, sizeof msg), 0);
    assert_int_equal(k, 3);
    assert_int_equal(cli_shard_index(&o, 3, &k, msg, sizeof msg), -1); /* not one of the plan's */
    assert_non_null(strstr(msg, "JOB_COMPLETION_INDEX"));
    setenv("JOB_COMPLETION_INDEX", "1x", 1);
    assert_int_equal(cli_shard_index(&o, 4, &k, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "not a shard number"));
    setenv("JOB_COMPLETION_INDEX", "-1", 1);
    assert_int_equal(cli_shard_index(&o, 4, &k, msg, sizeof msg), -1);
    cli_options_free(&o);

    PARSE(&o, "--plan", "p.json", "--shard", "1"); /* --shard wins over the environment */
    assert_int_equal(cli_shard_index(&o, 4, &k, msg, sizeof msg), 0);
    assert_int_equal(k, 1);
    cli_options_free(&o);
    unsetenv("JOB_COMPLETION_INDEX");
    unsetenv("SLURM_ARRAY_TASK_ID");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_args),
        cmocka_unit_test(test_job_args_no_password),
        cmocka_unit_test(test_shard_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Job identity and the state directory: the same job gets the same id
 * whatever the case of host and share, trailing separators or a relative
 * local path; other locations, another order or a --job name give another;
 * the state directory follows XDG_STATE_HOME, else HOME, and is private.
 */
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

#include "cli/state.h"

static void id_of(const char *a, const char *b, const char *name, char hex[33])
{
    sc_location l[2];
    smb_error err = {0};
    assert_int_equal(sc_location_parse(a, &l[0], &err), 0);
    assert_int_equal(sc_location_parse(b, &l[1], &err), 0);
    char msg[200];
    assert_int_equal(cli_job_id(name, l, 2, hex, msg, sizeof msg), 0);
    assert_int_equal(strlen(hex), 32);
    sc_location_free(&l[0]);
    sc_location_free(&l[1]);
}

static void test_job_id(void **state)
{
    (void)state;
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char abs_src[4200];
    snprintf(abs_src, sizeof abs_src, "%s/data/photos", cwd);
    char base[33], other[33];
    id_of("data/photos", "//NAS.example.com/Backup/photos", NULL, base);
    id_of(abs_src, "smb://nas.example.com/backup/photos/", NULL, other);
    assert_string_equal(base, other); /* relative = absolute; case of host and share; trailing '/' */
    id_of("data/photos", "smb://alice:secret@nas.example.com:445/backup/photos", NULL, other);
    assert_string_equal(base, other); /* user, password and the default port do not count */
    id_of("data/photos", "//nas.example.com/backup/Photos", NULL, other);
    assert_string_equal(base, other); /* the path inside the share is compared without case, as shares do */
    id_of("data/photos", "//nas.example.com/backup/./photos//./", NULL, other);
    assert_string_equal(base, other);
    id_of("data/photos", "//nas.example.com/backup/photos/2024", NULL, other);
    assert_string_not_equal(base, other);
    id_of("data/photos", "smb://nas.example.com:4455/backup/photos", NULL, other);
    assert_string_not_equal(base, other);
    id_of("//nas.example.com/backup/photos", "data/photos", NULL, other);
    assert_string_not_equal(base, other); /* the other direction is another job */
    char named[33], named2[33];
    id_of("data/photos", "//nas.example.com/backup/photos", "nightly", named);
    id_of("/elsewhere", "/other", "nightly", named2);
    assert_string_not_equal(base, named);
    assert_string_equal(named, named2); /* a --job name alone names the job */
}

/*
 * A rerun spelled differently is the same job (its journal and temporaries
 * are found again): a host by name or by address, a local path through a
 * symbolic link, with "..", or relative.
 */
static void test_job_id_spellings(void **state)
{
    (void)state;
    char a[33], b[33];
    id_of("/tmp/x", "//localhost/Share/Dir", NULL, a);
    id_of("/tmp/x", "smb://127.0.0.1/share/dir/", NULL, b);
    assert_string_equal(a, b);
    id_of("/tmp/x", "\\\\127.0.0.1\\SHARE\\DIR", NULL, b);
    assert_string_equal(a, b);

    char dir[] = "/tmp/smbcopy-test-state.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char real[300], link[300], dotted[400], rel[300], cwd[4096];
    snprintf(real, sizeof real, "%s/real", dir);
    snprintf(link, sizeof link, "%s/link", dir);
    assert_int_equal(mkdir(real, 0700), 0);
    assert_int_equal(symlink(real, link), 0);
    id_of(real, "//h/s", NULL, a);
    id_of(link, "//h/s", NULL, b);
    assert_string_equal(a, b); /* through a symbolic link */
    snprintf(dotted, sizeof dotted, "%s/real/../real/.", dir);
    id_of(dotted, "//h/s", NULL, b);
    assert_string_equal(a, b);
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    snprintf(rel, sizeof rel, "link/");
    id_of(rel, "//h/s", NULL, b);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(a, b);
    /* a destination that does not exist yet: its existing parent resolved, the rest as written */
    char missing[300], missing_link[300];
    snprintf(missing, sizeof missing, "%s/real/new/sub", dir);
    snprintf(missing_link, sizeof missing_link, "%s/link/new/sub", dir);
    id_of("//h/s", missing, NULL, a);
    id_of("//h/s", missing_link, NULL, b);
    assert_string_equal(a, b);
    unlink(link);
    rmdir(real);
    rmdir(dir);
}

/* --checkpoint FILE: a file that is not a journal is refused, untouched. */
static void test_journal_file_check(void **state)
{
    (void)state;
    char dir[] = "/tmp/smbcopy-test-journal.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[300], msg[600];
    snprintf(p, sizeof p, "%s/j", dir);
    assert_int_equal(cli_journal_file_check(p, msg, sizeof msg), 0); /* missing */
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(cli_journal_file_check(p, msg, sizeof msg), 0); /* empty */
    f = fopen(p, "w");
    fputs("SMBCOPYJ\2\0\0\0", f);
    fclose(f);
    assert_int_equal(cli_journal_file_check(p, msg, sizeof msg), 0);
    f = fopen(p, "w");
    fputs("my thesis, chapter 1\n", f);
    fclose(f);
    assert_int_equal(cli_journal_file_check(p, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "is not a checkpoint journal of smbcopy"));
    f = fopen(p, "w");
    fputs("SMB", f); /* shorter than the magic */
    fclose(f);
    assert_int_equal(cli_journal_file_check(p, msg, sizeof msg), -1);
    assert_int_equal(cli_journal_file_check(dir, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "not a regular file"));
    unlink(p);
    rmdir(dir);
}

static void test_state_dir(void **state)
{
    (void)state;
    char root[] = "/tmp/smbcopy-state-test-XXXXXX";
    assert_non_null(mkdtemp(root));
    char buf[4096], msg[300], want[4200];
    setenv("XDG_STATE_HOME", root, 1);
    assert_int_equal(cli_state_dir(buf, sizeof buf, msg, sizeof msg), 0);
    snprintf(want, sizeof want, "%s/smbcopy", root);
    assert_string_equal(buf, want);
    struct stat st;
    assert_int_equal(stat(buf, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    /* A relative XDG_STATE_HOME is ignored (XDG base directory specification): HOME then. */
    setenv("XDG_STATE_HOME", "relative/state", 1);
    setenv("HOME", root, 1);
    assert_int_equal(cli_state_dir(buf, sizeof buf, msg, sizeof msg), 0);
    snprintf(want, sizeof want, "%s/.local/state/smbcopy", root);
    assert_string_equal(buf, want);
    assert_int_equal(stat(buf, &st), 0);
    /* Neither: a clear refusal. */
    unsetenv("XDG_STATE_HOME");
    unsetenv("HOME");
    assert_int_equal(cli_state_dir(buf, sizeof buf, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "HOME"));
    /* A file in the way. */
    char file[4200];
    snprintf(file, sizeof file, "%s/file", root);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    setenv("XDG_STATE_HOME", file, 1);
    assert_int_equal(cli_state_dir(buf, sizeof buf, msg, sizeof msg), -1);
    assert_non_null(strstr(msg, "cannot create the state directory"));
    unsetenv("XDG_STATE_HOME");
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_id), cmocka_unit_test(test_job_id_spellings),
        cmocka_unit_test(test_state_dir),        cmocka_unit_test(test_journal_file_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

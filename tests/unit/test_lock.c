/*
 * The run lock: taken and refused, files that are not lock files left
 * untouched, a removed lock file, and mutual exclusion between processes
 * that take and remove the same lock file over and over.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/lock.h"

static char dir[] = "/tmp/smbcopy-test-lock.XXXXXX";
static char msg[600];

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_take_release(void **state)
{
    (void)state;
    char p[300], want[32];
    path_of(p, sizeof p, "a.lock");
    cli_lock lk = CLI_LOCK_NONE;
    assert_int_equal(cli_lock_take(p, false, &lk, msg, sizeof msg), CLI_LOCK_TAKEN);
    snprintf(want, sizeof want, "%ld\n", (long)getpid());
    assert_string_equal(read_text(p), want);
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* held (another open file description conflicts with flock, as another process would) */
    cli_lock other = CLI_LOCK_NONE;
    assert_int_equal(cli_lock_take(p, false, &other, msg, sizeof msg), CLI_LOCK_BUSY);
    assert_non_null(strstr(msg, "another run holds the lock"));
    char proc[48];
    snprintf(proc, sizeof proc, "(process %ld)", (long)getpid());
    assert_non_null(strstr(msg, proc));
    assert_int_equal(other.fd, -1);
    cli_lock_release(&lk);
    assert_int_equal(access(p, F_OK), 0); /* not removed: taken without remove_on_release */

    /* removed when released */
    assert_int_equal(cli_lock_take(p, true, &lk, msg, sizeof msg), CLI_LOCK_TAKEN);
    cli_lock_release(&lk);
    assert_int_equal(access(p, F_OK), -1);
    assert_int_equal(errno, ENOENT);
    cli_lock_release(&lk); /* twice: nothing */
}

/* A file that is not a lock file is never used, nor truncated. */
static void test_not_ours(void **state)
{
    (void)state;
    char p[300];
    path_of(p, sizeof p, "precious.txt");
    write_text(p, "the only copy of something important\n");
    cli_lock lk = CLI_LOCK_NONE;
    assert_int_equal(cli_lock_take(p, false, &lk, msg, sizeof msg), CLI_LOCK_ERROR);
    assert_non_null(strstr(msg, "is not a lock file of smbcopy"));
    assert_string_equal(read_text(p), "the only copy of something important\n");
    assert_int_equal(lk.fd, -1);

    /* an empty file, or one holding a process id, is a lock file */
    write_text(p, "");
    assert_int_equal(cli_lock_take(p, false, &lk, msg, sizeof msg), CLI_LOCK_TAKEN);
    cli_lock_release(&lk);
    write_text(p, "4242\n");
    assert_int_equal(cli_lock_take(p, false, &lk, msg, sizeof msg), CLI_LOCK_TAKEN);
    cli_lock_release(&lk);
    write_text(p, "4242 and more\n");
    assert_int_equal(cli_lock_take(p, false, &lk, msg, sizeof msg), CLI_LOCK_ERROR);

    /* a symbolic link is not followed, a directory is refused */
    char l[300];
    path_of(l, sizeof l, "link.lock");
    assert_int_equal(symlink(p, l), 0);
    assert_int_equal(cli_lock_take(l, false, &lk, msg, sizeof msg), CLI_LOCK_ERROR);
    assert_string_equal(read_text(p), "4242 and more\n");
    assert_int_equal(cli_lock_take(dir, false, &lk, msg, sizeof msg), CLI_LOCK_ERROR);
}

/*
 * Processes that take a lock removed at release, over and over: never two
 * inside at once (each makes a marker file inside and checks none exists).
 * Without checking the name after locking, a process that opened the file
 * just before its holder removed it would hold a lock on a removed file
 * while another locks the new one.
 */
static void test_exclusion_with_removal(void **state)
{
    (void)state;
    char p[300], marker[300];
    path_of(p, sizeof p, "busy.lock");
    path_of(marker, sizeof marker, "inside");
    enum { PROCS = 4, ROUNDS = 400 };
    pid_t kids[PROCS];
    for (int k = 0; k < PROCS; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            int bad = 0, got = 0;
            time_t until = time(NULL) + 60;
            while (got < ROUNDS && time(NULL) < until) {
                cli_lock lk = CLI_LOCK_NONE;
                char m[600];
                int rc = cli_lock_take(p, true, &lk, m, sizeof m);
                if (rc == CLI_LOCK_ERROR)
                    _exit(3);
                if (rc != CLI_LOCK_TAKEN) {
                    usleep(20);
                    continue;
                }
                got++;
                int fd = open(marker, O_CREAT | O_EXCL | O_WRONLY, 0600);
                if (fd < 0)
                    bad++;
                else
                    close(fd);
                usleep(50);
                unlink(marker);
                cli_lock_release(&lk);
            }
            _exit(bad ? 1 : got == ROUNDS ? 0 : 2);
        }
    }
    int status[PROCS];
    for (int k = 0; k < PROCS; k++)
        assert_int_equal(waitpid(kids[k], &status[k], 0), kids[k]);
    for (int k = 0; k < PROCS; k++) {
        assert_true(WIFEXITED(status[k]));
        if (WEXITSTATUS(status[k]) != 0)
            fail_msg("process %d: %s", k,
                     WEXITSTATUS(status[k]) == 1   ? "two holders at once"
                     : WEXITSTATUS(status[k]) == 2 ? "starved"
                                                   : "error");
    }
    assert_int_equal(access(p, F_OK), -1); /* the last holder removed it */
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_take_release),
        cmocka_unit_test(test_not_ours),
        cmocka_unit_test(test_exclusion_with_removal),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Change notify (include/smbcopy/notify.h) against the fixture's Samba:
 * a file smbclient creates, a rename and a change below a subdirectory
 * come as decoded events; a wait times out and goes on waiting for the
 * same request; a cancel from another thread ends a wait at once; freeing
 * a watch with a request pending leaves the connection usable.
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <smbcopy/notify.h>

#include "itest_smb.h"

#define WAIT_MS 10000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* smbclient runs cmd in the main instance's share. */
static void smbclient(const char *cmd)
{
    const itest_env *env = itest_require_env();
    if (itest_smbclient(env, itest_port(env, "main"), env->share, cmd) != 0)
        fail_msg("smbclient -c '%s' failed", cmd);
}

/* Wait for the next answer; it must hold an event (action, name). */
static void expect_event(smb_notify *n, uint32_t action, const char *name)
{
    smb_notify_events ev;
    smb_error err = {0};
    for (;;) {
        IT_OK(smb_notify_wait(n, WAIT_MS, &ev, &err), err);
        assert_false(ev.overflowed);
        for (size_t i = 0; i < ev.count; i++) {
            if (ev.events[i].action == action && strcmp(ev.events[i].name, name) == 0) {
                smb_notify_events_free(&ev);
                return;
            }
        }
        /* Another change first (a size or time change of the same file): the next answer. */
        if (ev.count == 0)
            fail_msg("an answer without events");
        smb_notify_events_free(&ev);
    }
}

static void test_smbclient_changes_seen(void **state)
{
    (void)state;
    it_fresh_dir("main", "notify-api");
    char local[PATH_MAX];
    snprintf(local, sizeof local, "/tmp/itest-notify-%d.txt", (int)getpid());
    assert_int_equal(itest_write_file(local, 1000, 7), 0);
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    smb_open *dir = smb_open_dir(c.tree, "notify-api", &err);
    assert_non_null(dir);
    smb_notify *n = smb_notify_new(dir, SMB_NOTIFY_CHANGE_FILE_NAME | SMB_NOTIFY_CHANGE_DIR_NAME, true, &err);
    assert_non_null(n);

    /* Nothing yet: the wait times out and the request stays pending. */
    smb_notify_events ev;
    double t0 = now_s();
    assert_int_equal(smb_notify_wait(n, 300, &ev, &err), SMB_ERR_TIMEOUT);
    assert_true(now_s() - t0 >= 0.25);

    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "cd notify-api; put %s from-smbclient.txt", local);
    smbclient(cmd);
    expect_event(n, SMB_NOTIFY_ACTION_ADDED, "from-smbclient.txt");

    smbclient("cd notify-api; rename from-smbclient.txt renamed.txt");
    smb_notify_events_free(&ev);
    IT_OK(smb_notify_wait(n, WAIT_MS, &ev, &err), err);
    /* A rename is an old name and a new name, in one answer or two. */
    bool old_seen = false, new_seen = false;
    for (int round = 0; round < 2 && !(old_seen && new_seen); round++) {
        if (round == 1) {
            smb_notify_events_free(&ev);
            IT_OK(smb_notify_wait(n, WAIT_MS, &ev, &err), err);
        }
        for (size_t i = 0; i < ev.count; i++) {
            old_seen |= ev.events[i].action == SMB_NOTIFY_ACTION_RENAMED_OLD_NAME &&
                        strcmp(ev.events[i].name, "from-smbclient.txt") == 0;
            new_seen |= ev.events[i].action == SMB_NOTIFY_ACTION_RENAMED_NEW_NAME &&
                        strcmp(ev.events[i].name, "renamed.txt") == 0;
        }
    }
    smb_notify_events_free(&ev);
    assert_true(old_seen);
    assert_true(new_seen);

    /* Below a subdirectory: watch_tree names it with '/'. */
    smbclient("cd notify-api; mkdir sub");
    expect_event(n, SMB_NOTIFY_ACTION_ADDED, "sub");
    snprintf(cmd, sizeof cmd, "cd notify-api/sub; put %s deep.txt", local);
    smbclient(cmd);
    expect_event(n, SMB_NOTIFY_ACTION_ADDED, "sub/deep.txt");
    smbclient("cd notify-api/sub; del deep.txt");
    expect_event(n, SMB_NOTIFY_ACTION_REMOVED, "sub/deep.txt");

    smb_notify_free(n);
    IT_OK(smb_close(dir, NULL, &err), err);
    it_close(&c);
    unlink(local);
}

typedef struct {
    smb_notify *n;
    int rc;
    double took;
} waiter;

static void *wait_thread(void *arg)
{
    waiter *w = arg;
    smb_notify_events ev;
    smb_error err = {0};
    double t0 = now_s();
    w->rc = smb_notify_wait(w->n, 60000, &ev, &err);
    w->took = now_s() - t0;
    smb_notify_events_free(&ev);
    return NULL;
}

static void test_cancel_from_another_thread(void **state)
{
    (void)state;
    it_fresh_dir("main", "notify-cancel");
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    smb_open *dir = smb_open_dir(c.tree, "notify-cancel", &err);
    assert_non_null(dir);
    smb_notify *n = smb_notify_new(dir, SMB_NOTIFY_CHANGE_FILE_NAME, false, &err);
    assert_non_null(n);
    waiter w = {.n = n};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wait_thread, &w), 0);
    usleep(300 * 1000); /* the request goes out and the server parks it */
    double t0 = now_s();
    IT_OK(smb_notify_cancel(n, &err), err);
    pthread_join(th, NULL);
    assert_int_equal(w.rc, SMB_ERR_CANCELLED);
    assert_true(now_s() - t0 < 5.0);
    /* The watch can wait again afterwards: a new request. */
    smb_notify_events ev;
    assert_int_equal(smb_notify_wait(n, 200, &ev, &err), SMB_ERR_TIMEOUT);
    /* Freed with that request pending: cancelled and reaped, the connection goes on. */
    smb_notify_free(n);
    IT_OK(smb_conn_echo(c.conn, &err), err);
    IT_OK(smb_close(dir, NULL, &err), err);
    it_close(&c);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    it_client c;
    it_connect(&c, "main");
    smb_error err = {0};
    assert_null(smb_notify_new(NULL, SMB_NOTIFY_CHANGE_FILE_NAME, false, &err));
    assert_int_equal(err.code, SMB_ERR_INVALID_ARG);
    smb_open *file = smb_create(c.tree, "sample/hello.txt", NULL, NULL, NULL, &err);
    assert_non_null(file);
    assert_null(smb_notify_new(file, SMB_NOTIFY_CHANGE_FILE_NAME, false, &err));
    assert_int_equal(err.code, SMB_ERR_NOT_DIR);
    IT_OK(smb_close(file, NULL, &err), err);
    it_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smbclient_changes_seen),
        cmocka_unit_test(test_cancel_from_another_thread),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

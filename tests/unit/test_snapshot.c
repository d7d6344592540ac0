/*
 * Snapshot files of incremental archives: a missing file means a full
 * archive; what changed is told apart from what did not; deletions are
 * listed; names with tabs, newlines and backslashes survive a save and a
 * load; damaged files are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/archive/snapshot.h"

static void tmp_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/test_snapshot.%d.%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(),
             random());
}

static ep_stat file(uint64_t size, uint64_t mtime, uint64_t id)
{
    return (ep_stat){.type = EP_FILE, .size = size, .mtime = mtime, .file_id = id};
}

typedef struct seen {
    char paths[8][64];
    bool dirs[8];
    int n;
} seen;

static void collect(void *arg, const char *path, bool is_dir)
{
    seen *s = arg;
    if (s->n < 8) {
        snprintf(s->paths[s->n], sizeof s->paths[0], "%s", path);
        s->dirs[s->n++] = is_dir;
    }
}

static void test_increments(void **state)
{
    (void)state;
    char path[300];
    tmp_path(path, sizeof path);
    smb_error err = {0};
    snapshot *s = NULL;
    /* No file yet: everything is new. */
    assert_int_equal(snapshot_load(path, &s, &err), 0);
    ep_stat d = {.type = EP_DIR, .mtime = 5};
    ep_stat a = file(10, 100, 7), b = file(20, 200, 8);
    assert_true(snapshot_note(s, "dir", &d));
    assert_true(snapshot_note(s, "dir/a\ttab", &a));
    assert_true(snapshot_note(s, "dir/b\nnew\\line", &b));
    char *text;
    size_t len;
    assert_int_equal(snapshot_deleted_text(s, &text, &len, &err), 0);
    assert_int_equal(len, 0);
    free(text);
    assert_int_equal(snapshot_save(s, path, &err), 0);
    snapshot_free(s);

    /* The next run: a unchanged, b changed (time), dir kept, c new; nothing else. */
    assert_int_equal(snapshot_load(path, &s, &err), 0);
    assert_false(snapshot_note(s, "dir", &d));
    assert_false(snapshot_note(s, "dir/a\ttab", &a));
    ep_stat b2 = file(20, 201, 8);
    assert_true(snapshot_note(s, "dir/b\nnew\\line", &b2));
    ep_stat c = file(1, 1, 9);
    assert_true(snapshot_note(s, "c", &c));
    /* Same size and time but another file id: a different file. */
    assert_int_equal(snapshot_save(s, path, &err), 0);
    snapshot_free(s);
    assert_int_equal(snapshot_load(path, &s, &err), 0);
    ep_stat c2 = file(1, 1, 10);
    assert_true(snapshot_note(s, "c", &c2));
    /* dir and its files are gone: listed, escapes and all. */
    assert_int_equal(snapshot_deleted_text(s, &text, &len, &err), 0);
    seen got = {0};
    snapshot_parse_deleted(text, len, collect, &got);
    free(text);
    assert_int_equal(got.n, 3);
    int found = 0;
    for (int i = 0; i < got.n; i++) {
        if (strcmp(got.paths[i], "dir") == 0 && got.dirs[i])
            found |= 1;
        if (strcmp(got.paths[i], "dir/a\ttab") == 0 && !got.dirs[i])
            found |= 2;
        if (strcmp(got.paths[i], "dir/b\nnew\\line") == 0 && !got.dirs[i])
            found |= 4;
    }
    assert_int_equal(found, 7);
    snapshot_free(s);
    unlink(path);
}

static void test_damaged(void **state)
{
    (void)state;
    char path[300];
    tmp_path(path, sizeof path);
    static const char *const bad[] = {
        "not a snapshot\n",
        "smbcopy-snapshot 1\nF\t1\t2\t3\n",           /* no path */
        "smbcopy-snapshot 1\nX\t1\t2\t3\tp\n",        /* unknown type */
        "smbcopy-snapshot 1\nF\t1\t2\t3\tcut short",  /* torn last line */
        "smbcopy-snapshot 1\nF\tone\t2\t3\tp\n",      /* not a number */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad[i], f);
        fclose(f);
        snapshot *s = NULL;
        smb_error err = {0};
        assert_int_equal(snapshot_load(path, &s, &err), SMB_ERR_INVALID_ARG);
        assert_null(s);
        assert_non_null(strstr(err.message, "snapshot"));
    }
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_increments),
        cmocka_unit_test(test_damaged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

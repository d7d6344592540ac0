/* smbcopy's terminal output: sizes and times, the status line, action lines and log lines from events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/format.h"
#include "cli/log.h"
#include "cli/progress.h"

static void test_format_bytes(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(cli_format_bytes(0, b, sizeof b), "0");
    assert_string_equal(cli_format_bytes(1, b, sizeof b), "1 B");
    assert_string_equal(cli_format_bytes(1023, b, sizeof b), "1023 B");
    assert_string_equal(cli_format_bytes(1024, b, sizeof b), "1.0 KiB");
    assert_string_equal(cli_format_bytes(4096, b, sizeof b), "4.0 KiB");
    assert_string_equal(cli_format_bytes(1048575, b, sizeof b), "1.0 MiB");
    assert_string_equal(cli_format_bytes(1288490189, b, sizeof b), "1.2 GiB");
    assert_string_equal(cli_format_bytes(UINT64_MAX, b, sizeof b), "16.0 EiB");
}

static void test_format_rate_time(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(cli_format_rate(0, b, sizeof b), "0 B/s");
    assert_string_equal(cli_format_rate(-5, b, sizeof b), "0 B/s");
    assert_string_equal(cli_format_rate(999, b, sizeof b), "999 B/s");
    assert_string_equal(cli_format_rate(95.3e6, b, sizeof b), "95.3 MB/s");
    assert_string_equal(cli_format_rate(1.25e9, b, sizeof b), "1.2 GB/s");
    assert_string_equal(cli_format_duration(0, b, sizeof b), "0.0 s");
    assert_string_equal(cli_format_duration(12.34, b, sizeof b), "12.3 s");
    assert_string_equal(cli_format_duration(245, b, sizeof b), "4 min 05 s");
    assert_string_equal(cli_format_duration(7509, b, sizeof b), "2 h 05 min");
    assert_string_equal(cli_format_clock(245, b, sizeof b), "4:05");
    assert_string_equal(cli_format_clock(7509, b, sizeof b), "2:05:09");
    assert_string_equal(cli_format_clock(-1, b, sizeof b), "0:00");
}

static void test_fput_safe(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cli_fput_safe(f, "a\tb\x1b[K\x7f caf\xC3\xA9 \xC2\x9B" "end");
    cli_fput_safe(f, NULL);
    fclose(f);
    assert_string_equal(buf, "a\\x09b\\x1B[K\\x7F caf\xC3\xA9 \\xC2\\x9Bend");
    free(buf);
}

static void test_status_format(void **state)
{
    (void)state;
    char b[160];
    cli_status st = {.files_done = 120, .bytes_copied = 1288490189, .rate = 95.3e6};
    assert_string_equal(cli_status_format(&st, b, sizeof b), "files 120  1.2 GiB  95.3 MB/s");
    st.walk_done = true;
    st.bytes_total = 10ull << 30;
    st.bytes_handled = st.bytes_copied;
    st.files_total = 3000;
    /* (10 GiB - 1.2 GiB) / 95.3 MB/s = 99.2 s */
    assert_string_equal(cli_status_format(&st, b, sizeof b), "files 120/3000  1.2 GiB/10.0 GiB  95.3 MB/s  ETA 1:39");
    st.rate = 0;
    assert_string_equal(cli_status_format(&st, b, sizeof b), "files 120/3000  1.2 GiB/10.0 GiB  0 B/s");
}

typedef struct outputs {
    char *actions, *status, *log;
    size_t alen, slen, llen;
    FILE *fa, *fs, *fl;
} outputs;

static void outputs_open(outputs *o)
{
    memset(o, 0, sizeof *o);
    o->fa = open_memstream(&o->actions, &o->alen);
    o->fs = open_memstream(&o->status, &o->slen);
    o->fl = open_memstream(&o->log, &o->llen);
    assert_true(o->fa && o->fs && o->fl);
}

static void outputs_close(outputs *o)
{
    fclose(o->fa);
    fclose(o->fs);
    fclose(o->fl);
}

static void outputs_free(outputs *o)
{
    free(o->actions);
    free(o->status);
    free(o->log);
}

static void send(cli_progress *p, sc_event_type type, const char *path, uint64_t bytes, bool is_dir,
                 const char *message)
{
    sc_event ev = {.type = type, .path = path, .bytes = bytes, .is_dir = is_dir, .message = message};
    cli_progress_event(&ev, p);
}

static void run_events(cli_progress *p)
{
    send(p, SC_EV_DIR_CREATED, "sub", 0, true, NULL);
    send(p, SC_EV_FILE_START, "sub/a.bin", 2048, false, NULL);
    send(p, SC_EV_FILE_PROGRESS, "sub/a.bin", 1024, false, NULL);
    send(p, SC_EV_FILE_PROGRESS, "sub/a.bin", 1024, false, NULL);
    send(p, SC_EV_FILE_DONE, "sub/a.bin", 2048, false, NULL);
    send(p, SC_EV_FILE_SKIPPED, "same.txt", 10, false, NULL);
    send(p, SC_EV_FILE_START, "bad\ttab", 5, false, NULL);
    send(p, SC_EV_FILE_FAILED, "bad\ttab", 5, false, "access denied");
    send(p, SC_EV_DELETED, "old", 0, true, NULL);
    send(p, SC_EV_ENTRY_IGNORED, "link", 0, false, "symbolic link");
    send(p, SC_EV_WALK_DONE, NULL, 2063, false, NULL);
}

static void test_events_verbose(void **state)
{
    (void)state;
    outputs o;
    outputs_open(&o);
    cli_progress p;
    cli_progress_opts po = {.status_line = true, .verbose = true, .actions_out = o.fa, .status_out = o.fs, .log = o.fl};
    assert_int_equal(cli_progress_init(&p, &po), 0);
    run_events(&p);
    assert_int_equal(p.st.files_done, 3);
    assert_int_equal(p.st.bytes_copied, 2048);
    assert_int_equal(p.st.bytes_handled, 2063);
    assert_int_equal(p.ninflight, 0);
    cli_progress_finish(&p);
    cli_progress_destroy(&p);
    outputs_close(&o);

    assert_string_equal(o.actions, "mkdir        sub/\n"
                                   "copied       sub/a.bin  (2.0 KiB)\n"
                                   "skipped      same.txt  (10 B)\n"
                                   "FAILED       bad\\x09tab: access denied\n"
                                   "deleted      old/\n"
                                   "ignored      link: symbolic link\n");
    /* the status line is rewritten in place and cleared at the end */
    assert_non_null(strstr(o.status, "\rfiles 0  0  0 B/s\033[K"));
    assert_non_null(strstr(o.status, "files 3  2.0 KiB/2.0 KiB"));
    assert_null(strchr(o.status, '\n'));
    size_t n = strlen(o.status);
    assert_true(n >= 4);
    assert_string_equal(o.status + n - 4, "\r\033[K");

    /* one tab-separated line per action in the log */
    assert_non_null(strstr(o.log, "\tmkdir\tsub/\t\n"));
    assert_non_null(strstr(o.log, "\tcopied\tsub/a.bin\t2048\n"));
    assert_non_null(strstr(o.log, "\tskipped\tsame.txt\t10\n"));
    assert_non_null(strstr(o.log, "\tFAILED\tbad\\x09tab\taccess denied\n"));
    assert_non_null(strstr(o.log, "\tdeleted\told/\t\n"));
    assert_non_null(strstr(o.log, "\tignored\tlink\tsymbolic link\n"));
    size_t lines = 0;
    for (const char *c = o.log; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 6);
    assert_true(o.log[4] == '-' && o.log[10] == 'T'); /* 2024-05-01T... */
    outputs_free(&o);
}

static void test_events_quiet_and_dry_run(void **state)
{
    (void)state;
    outputs o;
    outputs_open(&o);
    cli_progress p;
    /* not verbose: only dry-run actions are printed; no status line */
    cli_progress_opts po = {.actions_out = o.fa, .status_out = o.fs};
    assert_int_equal(cli_progress_init(&p, &po), 0);
    run_events(&p);
    send(&p, SC_EV_DRY_RUN, "new.doc", 5000, false, "copy");
    send(&p, SC_EV_DRY_RUN, "gone", 0, true, "delete");
    cli_progress_finish(&p);
    cli_progress_destroy(&p);

    /* quiet: nothing at all, but the log still gets everything */
    cli_progress_opts pq = {.quiet = true, .actions_out = o.fa, .status_out = o.fs, .log = o.fl};
    assert_int_equal(cli_progress_init(&p, &pq), 0);
    send(&p, SC_EV_DRY_RUN, "q.doc", 1, false, "copy");
    send(&p, SC_EV_FILE_FAILED, "q.bad", 1, false, "why");
    cli_progress_finish(&p);
    cli_progress_destroy(&p);
    outputs_close(&o);

    assert_string_equal(o.actions, "would copy   new.doc  (4.9 KiB)\n"
                                   "would delete gone/\n");
    assert_string_equal(o.status, "");
    assert_non_null(strstr(o.log, "\twould copy\tq.doc\t1\n"));
    assert_non_null(strstr(o.log, "\tFAILED\tq.bad\twhy\n"));
    outputs_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_bytes),   cmocka_unit_test(test_format_rate_time),
        cmocka_unit_test(test_fput_safe),      cmocka_unit_test(test_status_format),
        cmocka_unit_test(test_events_verbose), cmocka_unit_test(test_events_quiet_and_dry_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

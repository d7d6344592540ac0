/* smbcopy's end report: JSON string escaping, the JSON object and the human table for a made-up summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/report.h"
#include "error.h"

/* Capture what fn writes. */
typedef struct capture {
    char *buf;
    size_t len;
    FILE *f;
} capture;

static void cap_open(capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
}

static char *cap_close(capture *c)
{
    fclose(c->f);
    return c->buf;
}

static char *json_of(const char *s)
{
    capture c;
    cap_open(&c);
    sc_json_write_string(c.f, s);
    return cap_close(&c);
}

#define ASSERT_JSON(in, want)                                                                               \
    do {                                                                                                    \
        char *got_ = json_of(in);                                                                           \
        assert_string_equal(got_, want);                                                                    \
        free(got_);                                                                                         \
    } while (0)

static void test_json_escaping(void **state)
{
    (void)state;
    ASSERT_JSON("plain/path.txt", "\"plain/path.txt\"");
    ASSERT_JSON("", "\"\"");
    ASSERT_JSON(NULL, "\"\"");
    ASSERT_JSON("say \"hi\"", "\"say \\\"hi\\\"\"");
    ASSERT_JSON("dir\\file", "\"dir\\\\file\"");
    ASSERT_JSON("a\nb\rc\td\be\ff", "\"a\\nb\\rc\\td\\be\\ff\"");
    ASSERT_JSON("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    ASSERT_JSON("\x1b[31mred", "\"\\u001b[31mred\"");
    /* '/' needs no escape; valid UTF-8 passes through */
    ASSERT_JSON("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
    ASSERT_JSON("\xEF\xBF\xBF\xF4\x8F\xBF\xBF", "\"\xEF\xBF\xBF\xF4\x8F\xBF\xBF\"");
}

static void test_json_invalid_utf8(void **state)
{
    (void)state;
    ASSERT_JSON("a\xFF" "b", "\"a\\uFFFDb\"");                  /* impossible byte */
    ASSERT_JSON("\x80x", "\"\\uFFFDx\"");                       /* stray continuation byte */
    ASSERT_JSON("\xC3", "\"\\uFFFD\"");                         /* cut short at the end */
    ASSERT_JSON("\xE2\x82x", "\"\\uFFFD\\uFFFDx\"");            /* cut short: lead, then the stray byte */
    ASSERT_JSON("\xC0\xAF", "\"\\uFFFD\\uFFFD\"");              /* C0 never starts a sequence */
    ASSERT_JSON("\xE0\x80\xAF", "\"\\uFFFD\"");                 /* overlong */
    ASSERT_JSON("\xED\xA0\x80z", "\"\\uFFFDz\"");               /* a lone surrogate (WTF-8) */
    ASSERT_JSON("\xF4\x90\x80\x80", "\"\\uFFFD\"");             /* beyond U+10FFFF */
    ASSERT_JSON("\xF5\x80", "\"\\uFFFD\\uFFFD\"");              /* impossible lead */
    ASSERT_JSON("ok\xC3\xA9\xFE", "\"ok\xC3\xA9\\uFFFD\"");
}

static sc_summary made_up(sc_failure *failures, size_t n)
{
    sc_summary s = {0};
    s.dirs_total = 12;
    s.dirs_created = 3;
    s.dirs_deleted = 1;
    s.files_total = 3000;
    s.files_copied = 2988;
    s.files_skipped = 10;
    s.files_failed = 2;
    s.files_deleted = 4;
    s.bytes_total = 1288490189;   /* 1.2 GiB */
    s.bytes_copied = 1181116006;  /* 1.1 GiB */
    s.bytes_skipped = 4096;
    s.bytes_server_copied = 1048576;
    s.connections = 3;
    s.channels_lost = 1;
    s.channels_rebound = 2;
    s.seconds = 12.25;
    s.failures = failures;
    s.nfailures = n;
    return s;
}

static void test_json_summary(void **state)
{
    (void)state;
    sc_failure f[2] = {
        {.path = (char *)"dir/a \"quoted\".txt", .message = (char *)"access denied (STATUS_ACCESS_DENIED)"},
        {.path = (char *)"bad\xFFname\n", .message = (char *)"disk full"},
    };
    sc_summary s = made_up(f, 2);
    s.bytes_read = 11;
    s.bytes_written = 12;
    s.files_resumed = 13;
    s.bytes_resumed = 14;
    s.reconnects = 15;
    s.journal_records = 16;
    s.journal_cut_bytes = 17;
    s.streams_copied = 18;
    s.stream_bytes = 19;
    s.sds_copied = 20;
    s.streams_not_kept = 21;
    s.sds_not_kept = 22;
    s.links_copied = 23;
    s.links_not_kept = 24;
    s.files_meta_updated = 25;
    s.dfs_links_followed = 26;
    s.dfs_links_unreachable = 27;
    sc_meta_note notes[2] = {
        {.path = (char *)"a.txt", .message = (char *)"named streams not kept: no room"},
        {.path = (char *)"dir", .message = (char *)"security descriptor", .sddl = (char *)"O:BAD:P(A;;FA;;;BA)",
         .updated = true},
    };
    s.meta_notes = notes;
    s.nmeta_notes = 2;
    s.meta_notes_cut = true;
    capture c;
    cap_open(&c);
    cli_report_json(c.f, &s, false, 1, NULL);
    char *out = cap_close(&c);
    assert_string_equal(out, "{\"files_copied\":2988,\"files_skipped\":10,\"files_deleted\":4,\"files_failed\":2,"
                             "\"dirs_created\":3,\"dirs_deleted\":1,\"bytes_transferred\":1181116006,"
                             "\"bytes_total\":1288490189,\"bytes_server_copied\":1048576,\"bytes_read\":11,"
                             "\"bytes_written\":12,\"files_resumed\":13,\"bytes_resumed\":14,\"reconnects\":15,"
                             "\"journal_records\":16,\"journal_cut_bytes\":17,\"streams_copied\":18,\"stream_bytes\":19,"
                             "\"sds_copied\":20,\"streams_not_kept\":21,\"sds_not_kept\":22,\"links_copied\":23,\"links_not_kept\":24,\"files_meta_updated\":25,\"dfs_links_followed\":26,\"dfs_links_unreachable\":27,\"connections\":3,\"channels_lost\":1,\"channels_rebound\":2,\"seconds\":12.250,"
                             "\"interrupted\":false,\"failures\":["
                             "{\"path\":\"dir/a \\\"quoted\\\".txt\",\"reason\":\"access denied (STATUS_ACCESS_DENIED)\"},"
                             "{\"path\":\"bad\\uFFFDname\\n\",\"reason\":\"disk full\"}],"
                             "\"metadata\":[{\"path\":\"a.txt\",\"event\":\"not kept\","
                             "\"reason\":\"named streams not kept: no room\",\"sddl\":null},"
                             "{\"path\":\"dir\",\"event\":\"updated\",\"reason\":\"security descriptor\","
                             "\"sddl\":\"O:BAD:P(A;;FA;;;BA)\"}],\"metadata_cut\":true,"
                             "\"exit_code\":1,\"error\":null}\n");
    free(out);

    /* interrupted, from the caller or the summary; no failures; a NULL message */
    sc_failure nullmsg = {.path = (char *)"x", .message = NULL};
    s = made_up(&nullmsg, 1);
    s.interrupted = true;
    cap_open(&c);
    cli_report_json(c.f, &s, false, 5, NULL);
    out = cap_close(&c);
    assert_non_null(strstr(out, "\"interrupted\":true"));
    assert_non_null(strstr(out, "\"failures\":[{\"path\":\"x\",\"reason\":\"\"}],\"metadata\":[],\"metadata_cut\":false,\"exit_code\":5,\"error\":null}"));
    free(out);

    sc_summary empty = {0};
    cap_open(&c);
    cli_report_json(c.f, &empty, true, 5, NULL);
    out = cap_close(&c);
    assert_string_equal(out, "{\"files_copied\":0,\"files_skipped\":0,\"files_deleted\":0,\"files_failed\":0,"
                             "\"dirs_created\":0,\"dirs_deleted\":0,\"bytes_transferred\":0,\"bytes_total\":0,"
                             "\"bytes_server_copied\":0,\"bytes_read\":0,\"bytes_written\":0,\"files_resumed\":0,"
                             "\"bytes_resumed\":0,\"reconnects\":0,\"journal_records\":0,\"journal_cut_bytes\":0,"
                             "\"streams_copied\":0,\"stream_bytes\":0,\"sds_copied\":0,\"streams_not_kept\":0,\"sds_not_kept\":0,"
                             "\"links_copied\":0,\"links_not_kept\":0,\"files_meta_updated\":0,\"dfs_links_followed\":0,\"dfs_links_unreachable\":0,\"connections\":0,\"channels_lost\":0,\"channels_rebound\":0,\"seconds\":0.000,\"interrupted\":true,\"failures\":[],"
                             "\"metadata\":[],\"metadata_cut\":false,\"exit_code\":5,\"error\":null}\n");
    free(out);

    /* A job that could not run: its exit code and the reason, escaped. */
    cap_open(&c);
    cli_report_json(c.f, &empty, false, 4, "//srv/share: connect to share \\\\srv\\share: \"down\"");
    out = cap_close(&c);
    assert_non_null(strstr(out, "\"failures\":[],\"metadata\":[],\"metadata_cut\":false,\"exit_code\":4,"
                                "\"error\":\"//srv/share: connect to share \\\\\\\\srv\\\\share: \\\"down\\\"\"}\n"));
    free(out);
}

/* Messages users read: STATUS_PASSWORD_MUST_CHANGE is not only about a first logon. */
static void test_status_messages(void **state)
{
    (void)state;
    const char *t = smb_ntstatus_text(0xC0000224u);
    assert_non_null(t);
    assert_null(strstr(t, "first logon"));
    assert_string_equal(t, "the password must be changed before this account can log on");
}

static void test_table(void **state)
{
    (void)state;
    sc_failure f[2] = {
        {.path = (char *)"dir/a.txt", .message = (char *)"access denied"},
        {.path = (char *)"evil\x1b[2Jname", .message = (char *)"disk full"},
    };
    sc_summary s = made_up(f, 2);
    capture c;
    cap_open(&c);
    cli_report_table(c.f, &s, false, false);
    cli_report_failures(c.f, &s);
    char *out = cap_close(&c);
    assert_non_null(strstr(out, "      Total     Copied    Skipped     Failed    Deleted\n"));
    assert_non_null(strstr(out, "   Dirs :         12          3          -          0          1\n"));
    assert_non_null(strstr(out, "  Files :       3000       2988         10          2          4\n"));
    assert_non_null(strstr(out, "  Bytes :    1.2 GiB    1.1 GiB    4.0 KiB          -          -\n"));
    assert_non_null(strstr(out, "   Time :     12.2 s   rate 96.4 MB/s\n"));
    assert_non_null(strstr(out, "1.0 MiB copied on the server"));
    assert_non_null(strstr(out, "FAILED dir/a.txt: access denied\n"));
    /* no escape sequence reaches the terminal */
    assert_non_null(strstr(out, "FAILED evil\\x1B[2Jname: disk full\n"));
    assert_null(strchr(out, '\x1b'));
    assert_null(strstr(out, "Dry run"));
    assert_null(strstr(out, "Interrupted"));
    free(out);

    /* a failure that is not a file's counts for directories; notes */
    sc_failure dirfail = {.path = (char *)"sub", .message = (char *)"cannot list"};
    sc_summary d = {0};
    d.dirs_total = 2;
    d.failures = &dirfail;
    d.nfailures = 1;
    d.ignored = 3;
    cap_open(&c);
    cli_report_table(c.f, &d, true, true);
    out = cap_close(&c);
    assert_non_null(strstr(out, "   Dirs :          2          0          -          1          0\n"));
    assert_non_null(strstr(out, "  Bytes :          0          0          0          0          -\n"));
    assert_non_null(strstr(out, "3 entries not copied"));
    assert_non_null(strstr(out, "Dry run: nothing was changed."));
    assert_non_null(strstr(out, "Interrupted"));
    free(out);
}

static void test_paragraph(void **state)
{
    (void)state;
    sc_failure f[2] = {
        {.path = (char *)"dir/a.txt", .message = (char *)"access denied"},
        {.path = (char *)"b", .message = (char *)"disk full"},
    };
    sc_summary s = made_up(f, 2);
    s.files_resumed = 2;
    s.bytes_resumed = 3u << 20;
    s.reconnects = 1;
    capture c;
    cap_open(&c);
    cli_report_paragraph(c.f, &s, false, false, 1);
    char *out = cap_close(&c);
    assert_string_equal(out, "smbcopy: copied 2988 of 3000 files (1.1 GiB), 10 up to date, 2 failed, 5 deleted, in "
                             "12.2 s (96.4 MB/s); resumed 2 partly copied files from the journal (3.0 MiB not copied "
                             "again); reconnected 1 time; the failures are listed above; exit 1.\n");
    free(out);
    sc_summary i = {0};
    i.files_total = 1;
    i.journal_cut_bytes = 7;
    cap_open(&c);
    cli_report_paragraph(c.f, &i, false, true, 5);
    out = cap_close(&c);
    assert_string_equal(out, "smbcopy: copied 0 of 1 file (0), 0 up to date, 0 failed, in 0.0 s (0 B/s); the journal's "
                             "damaged end (7 bytes) was dropped; interrupted before the end: a rerun carries on; exit 5.\n");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_json_invalid_utf8),
        cmocka_unit_test(test_json_summary),
        cmocka_unit_test(test_table), cmocka_unit_test(test_status_messages),
        cmocka_unit_test(test_paragraph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* NTSTATUS names, categories and error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"

static void check_name(uint32_t st, const char *want)
{
    char buf[16];
    assert_string_equal(smb_ntstatus_name(st, buf), want);
}

static void test_names(void **state)
{
    (void)state;
    check_name(0x00000000u, "STATUS_SUCCESS");
    check_name(0x00000103u, "STATUS_PENDING");
    check_name(0x80000005u, "STATUS_BUFFER_OVERFLOW");
    check_name(0x80000006u, "STATUS_NO_MORE_FILES");
    check_name(0xC0000016u, "STATUS_MORE_PROCESSING_REQUIRED");
    check_name(0xC0000022u, "STATUS_ACCESS_DENIED");
    check_name(0xC0000034u, "STATUS_OBJECT_NAME_NOT_FOUND");
    check_name(0xC0000043u, "STATUS_SHARING_VIOLATION");
    check_name(0xC000006Du, "STATUS_LOGON_FAILURE");
    check_name(0xC0000234u, "STATUS_ACCOUNT_LOCKED_OUT");
    check_name(0xC00000CCu, "STATUS_BAD_NETWORK_NAME");
    check_name(0xC000035Cu, "STATUS_NETWORK_SESSION_EXPIRED");
    check_name(0xC05D0001u, "STATUS_SMB_BAD_CLUSTER_DIALECT");
}

static void test_unknown_name(void **state)
{
    (void)state;
    char buf[16];
    memset(buf, 'x', sizeof buf);
    const char *n = smb_ntstatus_name(0xC0001234u, buf);
    assert_ptr_equal(n, buf);
    assert_string_equal(n, "0xC0001234");
    check_name(0xFFFFFFFFu, "0xFFFFFFFF");
    check_name(0x00000001u, "0x00000001");
    assert_null(smb_ntstatus_text(0xC0001234u));
}

static void test_categories(void **state)
{
    (void)state;
    static const struct {
        uint32_t st;
        int code;
    } cases[] = {
        {0x00000000u, SMB_OK},
        {0x00000103u, SMB_OK},               /* PENDING */
        {0x0000010Cu, SMB_OK},               /* NOTIFY_ENUM_DIR */
        {0x40000000u, SMB_OK},               /* informational */
        {0x4000FFFFu, SMB_OK},               /* unknown informational */
        {0x00001234u, SMB_OK},               /* unknown success */
        {0x80000005u, SMB_OK},               /* BUFFER_OVERFLOW */
        {0xC0000034u, SMB_ERR_NOT_FOUND},
        {0xC000003Au, SMB_ERR_NOT_FOUND},
        {0xC000000Fu, SMB_ERR_NOT_FOUND},
        {0xC0000035u, SMB_ERR_EXISTS},
        {0xC0000022u, SMB_ERR_ACCESS},
        {0xC00000CAu, SMB_ERR_ACCESS},
        {0xC0000043u, SMB_ERR_SHARING},
        {0xC0000054u, SMB_ERR_SHARING},
        {0xC0000055u, SMB_ERR_SHARING},
        {0xC0000056u, SMB_ERR_SHARING},
        {0xC000007Fu, SMB_ERR_NO_SPACE},
        {0xC0000044u, SMB_ERR_NO_SPACE},
        {0xC00000CCu, SMB_ERR_BAD_SHARE},
        {0xC000006Du, SMB_ERR_AUTH},
        {0xC000006Eu, SMB_ERR_AUTH},
        {0xC000006Fu, SMB_ERR_AUTH},
        {0xC0000070u, SMB_ERR_AUTH},
        {0xC0000071u, SMB_ERR_AUTH},
        {0xC0000072u, SMB_ERR_AUTH},
        {0xC0000193u, SMB_ERR_AUTH},
        {0xC0000224u, SMB_ERR_AUTH},
        {0xC0000234u, SMB_ERR_AUTH},
        {0xC0000064u, SMB_ERR_AUTH},
        {0xC000006Au, SMB_ERR_AUTH},
        {0xC000015Bu, SMB_ERR_AUTH},
        {0xC000018Du, SMB_ERR_AUTH},
        {0xC0000101u, SMB_ERR_NOT_EMPTY},
        {0xC00000BAu, SMB_ERR_IS_DIR},
        {0xC0000103u, SMB_ERR_NOT_DIR},
        {0xC0000033u, SMB_ERR_BAD_NAME},
        {0xC000003Bu, SMB_ERR_BAD_NAME},
        {0xC0000128u, SMB_ERR_CLOSED},
        {0xC0000008u, SMB_ERR_CLOSED},
        {0xC00000C9u, SMB_ERR_CLOSED},
        {0xC0000203u, SMB_ERR_CLOSED},
        {0xC000035Cu, SMB_ERR_CLOSED},
        {0xC00000BBu, SMB_ERR_UNSUPPORTED},
        {0xC0000010u, SMB_ERR_UNSUPPORTED},
        {0xC0000003u, SMB_ERR_UNSUPPORTED},
        {0xC0000120u, SMB_ERR_CANCELLED},
        {0xC00000B5u, SMB_ERR_TIMEOUT},
        {0xC000000Du, SMB_ERR_SERVER},       /* INVALID_PARAMETER */
        {0xC000009Au, SMB_ERR_SERVER},       /* INSUFFICIENT_RESOURCES */
        {0xC0001234u, SMB_ERR_SERVER},       /* unknown error */
        {0x80001234u, SMB_ERR_SERVER},       /* unknown warning */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = smb_ntstatus_to_code(cases[i].st);
        if (got != cases[i].code)
            fail_msg("0x%08X: got %d, want %d", (unsigned)cases[i].st, got, cases[i].code);
    }
}

static void test_every_error_has_a_name_and_text(void **state)
{
    (void)state;
    /* Every named code also has a sentence. */
    for (uint32_t st = 0xC0000000u; st < 0xC0001000u; st++) {
        char buf[16];
        const char *n = smb_ntstatus_name(st, buf);
        if (n != buf) {
            assert_true(strncmp(n, "STATUS_", 7) == 0);
            assert_non_null(smb_ntstatus_text(st));
        } else {
            assert_null(smb_ntstatus_text(st));
        }
    }
}

static void test_texts(void **state)
{
    (void)state;
    assert_string_equal(smb_ntstatus_text(0xC0000022u), "access denied");
    assert_string_equal(smb_ntstatus_text(0xC00000CCu), "share not found");
    assert_string_equal(smb_ntstatus_text(0xC0000034u), "no such file or directory");
    assert_string_equal(smb_ntstatus_text(0xC000007Fu), "the server's disk is full");
    assert_non_null(strstr(smb_ntstatus_text(0xC0000043u), "sharing violation"));
    const char *lf = smb_ntstatus_text(0xC000006Du);
    assert_non_null(strstr(lf, "user name or password"));
    assert_non_null(strstr(lf, "DOMAIN\\user"));
    assert_non_null(strstr(lf, "user@domain"));
    assert_non_null(strstr(smb_ntstatus_text(0xC0000234u), "locked"));
    assert_non_null(strstr(smb_ntstatus_text(0xC0000072u), "disabled"));
    assert_non_null(strstr(smb_ntstatus_text(0xC0000193u), "expired"));
    assert_non_null(strstr(smb_ntstatus_text(0xC0000071u), "expired"));
    assert_non_null(strstr(smb_ntstatus_text(0xC0000224u), "must be changed"));
}

static void test_strerror(void **state)
{
    (void)state;
    for (int c = 0; c >= SMB_ERR_CRYPTO; c--) {
        const char *s = smb_strerror(c);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown error");
    }
    assert_string_equal(smb_strerror(SMB_ERR_ACCESS), "access denied");
    assert_string_equal(smb_strerror(-1000), "unknown error");
    assert_string_equal(smb_strerror(5), "unknown error");
}

static void test_err_status_format(void **state)
{
    (void)state;
    smb_error e;
    memset(&e, 0, sizeof e);
    int rc = smb_err_status(&e, 0xC0000034u, "open 'dir/file'");
    assert_int_equal(rc, SMB_ERR_NOT_FOUND);
    assert_int_equal(e.code, SMB_ERR_NOT_FOUND);
    assert_int_equal(e.ntstatus, 0xC0000034u);
    assert_string_equal(e.message, "open 'dir/file': no such file or directory (STATUS_OBJECT_NAME_NOT_FOUND)");

    rc = smb_err_status(&e, 0xC0001234u, "read 'x'");
    assert_int_equal(rc, SMB_ERR_SERVER);
    assert_int_equal(e.ntstatus, 0xC0001234u);
    assert_string_equal(e.message, "read 'x': the server refused the request (0xC0001234)");

    rc = smb_err_status(&e, 0xC00000CCu, NULL);
    assert_int_equal(rc, SMB_ERR_BAD_SHARE);
    assert_string_equal(e.message, "share not found (STATUS_BAD_NETWORK_NAME)");

    rc = smb_err_status(&e, 0xC00000CCu, "");
    assert_string_equal(e.message, "share not found (STATUS_BAD_NETWORK_NAME)");

    /* No err: just the category. */
    assert_int_equal(smb_err_status(NULL, 0xC0000022u, "x"), SMB_ERR_ACCESS);
}

static void test_err_status_never_ok(void **state)
{
    (void)state;
    smb_error e;
    /* A success code reported as a failure still fails. */
    assert_true(smb_err_status(&e, 0x00000103u, "write") < 0);
    assert_true(e.code < 0);
    assert_int_equal(e.ntstatus, 0x00000103u);
    assert_non_null(strstr(e.message, "STATUS_PENDING"));
}

static void test_err_status_long_what(void **state)
{
    (void)state;
    char what[2000];
    memset(what, 'w', sizeof what - 1);
    what[sizeof what - 1] = '\0';
    smb_error e;
    memset(&e, 0x55, sizeof e);
    int rc = smb_err_status(&e, 0xC000006Du, what);
    assert_int_equal(rc, SMB_ERR_AUTH);
    size_t len = strnlen(e.message, sizeof e.message);
    assert_true(len < sizeof e.message);
    assert_int_equal(len, sizeof e.message - 1);
    /* The status stays visible at the end; `what` is shortened. */
    const char *tail = "(STATUS_LOGON_FAILURE)";
    assert_string_equal(e.message + len - strlen(tail), tail);
    assert_non_null(strstr(e.message, "...: logon failure"));
    assert_true(strncmp(e.message, "wwww", 4) == 0);
}

static void test_err_status_long_what_utf8(void **state)
{
    (void)state;
    /* A long `what` of 2-byte characters is never cut inside one. */
    char what[1001];
    for (size_t i = 0; i + 1 < sizeof what; i += 2) {
        what[i] = (char)0xC3;
        what[i + 1] = (char)0xA9;
    }
    what[sizeof what - 1] = '\0';
    for (int shift = 0; shift < 2; shift++) {
        smb_error e;
        int rc = smb_err_status(&e, 0xC0000022u, what + shift);
        assert_int_equal(rc, SMB_ERR_ACCESS);
        char *dots = strstr(e.message, "...");
        assert_non_null(dots);
        /* Before the dots: only whole sequences (each lead byte followed by its continuation). */
        size_t start = (size_t)shift; /* shift 1 starts with a lone continuation byte from the input */
        size_t n = (size_t)(dots - e.message);
        for (size_t i = start; i < n; i++) {
            unsigned char b = (unsigned char)e.message[i];
            if (b == 0xC3)
                assert_true(i + 1 < n && (unsigned char)e.message[i + 1] == 0xA9);
        }
        assert_non_null(strstr(e.message, "access denied (STATUS_ACCESS_DENIED)"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_unknown_name),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_every_error_has_a_name_and_text),
        cmocka_unit_test(test_texts),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_err_status_format),
        cmocka_unit_test(test_err_status_never_ok),
        cmocka_unit_test(test_err_status_long_what),
        cmocka_unit_test(test_err_status_long_what_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

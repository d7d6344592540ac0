/* CHANGE_NOTIFY (MS-SMB2 2.2.35, 2.2.36) and FILE_NOTIFY_INFORMATION (MS-FSCC 2.7.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pdu.h"

/* One entry at out: Next, Action, FileNameLength, the ASCII name as UTF-16LE. */
static size_t entry(uint8_t *out, uint32_t next, uint32_t action, const char *name)
{
    size_t n = strlen(name);
    smb_put32(out, next);
    smb_put32(out + 4, action);
    smb_put32(out + 8, (uint32_t)(2 * n));
    for (size_t i = 0; i < n; i++) {
        out[12 + 2 * i] = (uint8_t)name[i];
        out[13 + 2 * i] = 0;
    }
    return 12 + 2 * n;
}

static void test_request_bytes(void **state)
{
    (void)state;
    uint8_t buf[64];
    smb_wr w;
    smb_wr_init(&w, buf, sizeof buf);
    smb2_notify_req_encode(&w, (smb2_fileid){1, 2}, 0x13, true, 65536);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 32);
    assert_int_equal(smb_le16(buf), 32);
    assert_int_equal(smb_le16(buf + 2), SMB2_WATCH_TREE);
    assert_int_equal(smb_le32(buf + 4), 65536);
    assert_true(smb_le64(buf + 8) == 1 && smb_le64(buf + 16) == 2);
    assert_int_equal(smb_le32(buf + 24), 0x13);
}

static void test_list_decoded(void **state)
{
    (void)state;
    uint8_t buf[128] = {0};
    /* "a\b.txt" (14 + 12 = 26 bytes, next at 28), then "new". */
    entry(buf, 28, 4, "a\\b.txt");
    size_t len = 28 + entry(buf + 28, 0, 5, "new");
    smb_notify_event *ev;
    size_t n;
    assert_int_equal(smb2_notify_list_decode(buf, len, &ev, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ev[0].action, 4);
    assert_string_equal(ev[0].name, "a/b.txt");
    assert_int_equal(ev[1].action, 5);
    assert_string_equal(ev[1].name, "new");
    smb2_notify_list_free(ev, n);
    assert_int_equal(smb2_notify_list_decode(buf, 0, &ev, &n), 0);
    assert_int_equal(n, 0);
    assert_null(ev);
}

static void test_malformed_refused(void **state)
{
    (void)state;
    uint8_t buf[128] = {0};
    smb_notify_event *ev;
    size_t n;
    size_t len = 28 + entry(buf + 28, 0, 1, "x");
    entry(buf, 28, 1, "abc");
    /* Every cut of the list is refused (the name or a header runs past the end). */
    for (size_t cut = 1; cut < len; cut++) {
        assert_int_equal(smb2_notify_list_decode(buf, cut, &ev, &n), SMB_ERR_PROTOCOL);
        assert_null(ev);
        assert_int_equal(n, 0);
    }
    /* Next not a multiple of 4, inside its own entry, or past the end. */
    static const uint32_t bad_next[] = {27, 8, 200};
    for (size_t i = 0; i < 3; i++) {
        smb_put32(buf, bad_next[i]);
        assert_int_equal(smb2_notify_list_decode(buf, len, &ev, &n), SMB_ERR_PROTOCOL);
    }
    /* An odd name length. */
    entry(buf, 0, 1, "abc");
    smb_put32(buf + 8, 5);
    assert_int_equal(smb2_notify_list_decode(buf, 20, &ev, &n), SMB_ERR_PROTOCOL);
    /* A name holding a NUL. */
    entry(buf, 0, 1, "ab");
    buf[12] = 0;
    assert_int_equal(smb2_notify_list_decode(buf, 16, &ev, &n), SMB_ERR_PROTOCOL);
}

static void test_response(void **state)
{
    (void)state;
    uint8_t msg[64 + 8 + 16] = {0};
    smb_put16(msg + 64, 9);
    smb_put16(msg + 66, 72); /* OutputBufferOffset */
    smb_put32(msg + 68, 16); /* OutputBufferLength */
    smb_rd r;
    smb_rd_init(&r, msg, sizeof msg);
    smb_rd_seek(&r, 64);
    smb2_blob out;
    assert_int_equal(smb2_notify_rsp_decode(&r, &out), 0);
    assert_ptr_equal(out.data, msg + 72);
    assert_int_equal(out.len, 16);
    /* A length past the message. */
    smb_put32(msg + 68, 17);
    smb_rd_init(&r, msg, sizeof msg);
    smb_rd_seek(&r, 64);
    assert_int_equal(smb2_notify_rsp_decode(&r, &out), SMB_ERR_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_bytes),
        cmocka_unit_test(test_list_decoded),
        cmocka_unit_test(test_malformed_refused),
        cmocka_unit_test(test_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

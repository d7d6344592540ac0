/* Splitting a frame of compounded responses: smb2_compound_next (frame.h). */
#include "pdu_test_util.h"

#include "frame.h"

/* Append a response header with NextCommand next, then pad with zeros up to body bytes after it. */
static void put_msg(smb_wr *w, uint16_t command, uint32_t next, size_t body)
{
    smb2_hdr h = {.command = command, .flags = SMB2_FLAGS_SERVER_TO_REDIR, .next_command = next};
    smb2_hdr_encode(w, &h);
    smb_wr_zero(w, body);
}

static void test_single_message(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 128);
    put_msg(&w, SMB2_ECHO, 0, 4);
    uint8_t *f = t_exact_copy(w.buf, w.len);
    smb2_hdr h;
    size_t n;
    assert_int_equal(smb2_compound_next(f, w.len, 0, &h, &n), 0);
    assert_int_equal(h.command, SMB2_ECHO);
    assert_int_equal(n, 68);
    free(f);
    smb_wr_free(&w);
}

static void test_chain(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 256);
    put_msg(&w, SMB2_CREATE, 96, 32);
    put_msg(&w, SMB2_CLOSE, 0, 60);
    uint8_t *f = t_exact_copy(w.buf, w.len);
    smb2_hdr h;
    size_t n;
    assert_int_equal(smb2_compound_next(f, w.len, 0, &h, &n), 0);
    assert_int_equal(h.command, SMB2_CREATE);
    assert_int_equal(n, 96);
    assert_int_equal(smb2_compound_next(f, w.len, 96, &h, &n), 0);
    assert_int_equal(h.command, SMB2_CLOSE);
    assert_int_equal(n, w.len - 96);
    free(f);
    smb_wr_free(&w);
}

/* NextCommand below a header, unaligned, or at or past the end of the frame. */
static void test_bad_next_command(void **state)
{
    (void)state;
    const uint32_t bad[] = {8, 60, 100, 128, 136, 0x80000000u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        smb_wr w;
        smb_wr_init_grow(&w, 256);
        put_msg(&w, SMB2_READ, bad[i], 64); /* a 128-byte frame */
        uint8_t *f = t_exact_copy(w.buf, w.len);
        smb2_hdr h;
        size_t n;
        assert_int_equal(smb2_compound_next(f, w.len, 0, &h, &n), SMB_ERR_PROTOCOL);
        assert_int_equal(n, bad[i]);
        free(f);
        smb_wr_free(&w);
    }
}

static void test_bad_header(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 256);
    put_msg(&w, SMB2_READ, 0, 0);
    uint8_t *f = t_exact_copy(w.buf, w.len);
    smb2_hdr h;
    size_t n;
    assert_int_equal(smb2_compound_next(f, 63, 0, &h, &n), SMB_ERR_PROTOCOL); /* truncated */
    assert_int_equal(n, 0);
    assert_int_equal(smb2_compound_next(f, 64, 64, &h, &n), SMB_ERR_PROTOCOL); /* nothing left */
    f[0] = 0xFD; /* a transform header is no SMB2 header */
    assert_int_equal(smb2_compound_next(f, 64, 0, &h, &n), SMB_ERR_PROTOCOL);
    assert_int_equal(n, 0);
    free(f);
    smb_wr_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_message),
        cmocka_unit_test(test_chain),
        cmocka_unit_test(test_bad_next_command),
        cmocka_unit_test(test_bad_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

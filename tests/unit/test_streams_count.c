/*
 * smb_streams_count: how many named streams smb_read_file_ex reports
 * from the status and output of its FileStreamInformation query (MS-FSCC
 * 2.4.44): the named $DATA streams of a list; 0 for a file system without
 * streams; -1 (unknown) for any other refusal, a list cut short or a
 * malformed one.
 */
#include <smbcopy/ntstatus.h>

#include "open.h"
#include "pdu_test_util.h"
#include "utf16.h"

/* Append the entry ":name" (a full ":NAME:TYPE" or "::$DATA") to w, linking the previous one (at *prev). */
static void add(smb_wr *w, size_t *prev, const char *name, uint64_t size)
{
    size_t len = 0;
    uint8_t *u = smb_utf8_to_utf16le(name, strlen(name), &len);
    assert_non_null(u);
    smb_wr_align(w, 8);
    if (*prev != SIZE_MAX)
        smb_wr_put_u32(w, *prev, (uint32_t)(w->len - *prev));
    *prev = w->len;
    smb_wr_u32(w, 0); /* NextEntryOffset */
    smb_wr_u32(w, (uint32_t)len);
    smb_wr_u64(w, size);
    smb_wr_u64(w, (size + 4095) & ~(uint64_t)4095);
    smb_wr_bytes(w, u, len);
    assert_true(smb_wr_ok(w));
    free(u);
}

/* The count of w's bytes, read from a heap block of exactly their size. */
static int count_of(const smb_wr *w)
{
    uint8_t *copy = t_exact_copy(w->buf, w->len);
    int n = smb_streams_count(SMB_STATUS_SUCCESS, copy, w->len);
    free(copy);
    return n;
}

static void test_named_data_streams_counted(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 256);
    size_t prev = SIZE_MAX;
    add(&w, &prev, "::$DATA", 11);
    assert_int_equal(count_of(&w), 0); /* the main stream alone: no named stream */
    add(&w, &prev, ":Zone.Identifier:$DATA", 26);
    add(&w, &prev, ":other:$OTHER", 3); /* not a data stream: left out */
    add(&w, &prev, ":empty:$DATA", 0);
    assert_int_equal(count_of(&w), 2);
    smb_wr_free(&w);
    /* An empty answer is an empty list. */
    assert_int_equal(smb_streams_count(SMB_STATUS_SUCCESS, NULL, 0), 0);
}

static void test_malformed_list_unknown(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 256);
    size_t prev = SIZE_MAX;
    add(&w, &prev, "::$DATA", 11);
    add(&w, &prev, ":a/b:$DATA", 1); /* a name holding '/' */
    assert_int_equal(count_of(&w), -1);
    smb_wr_free(&w);

    smb_wr_init_grow(&w, 256);
    prev = SIZE_MAX;
    add(&w, &prev, ":one:$DATA", 1);
    /* Cut inside the entry's name: StreamNameLength runs past the answer. */
    uint8_t *copy = t_exact_copy(w.buf, w.len - 2);
    assert_int_equal(smb_streams_count(SMB_STATUS_SUCCESS, copy, w.len - 2), -1);
    free(copy);
    smb_wr_free(&w);
}

static void test_refusals(void **state)
{
    (void)state;
    /* A file system without streams (the statuses of SMB_ERR_UNSUPPORTED): none. */
    assert_int_equal(smb_streams_count(SMB_STATUS_NOT_SUPPORTED, NULL, 0), 0);
    assert_int_equal(smb_streams_count(0xC0000003u /* STATUS_INVALID_INFO_CLASS */, NULL, 0), 0);
    assert_int_equal(smb_streams_count(SMB_STATUS_NOT_IMPLEMENTED, NULL, 0), 0);
    /* Anything else leaves it unknown: the list did not fit, access, a parameter refused. */
    assert_int_equal(smb_streams_count(SMB_STATUS_BUFFER_OVERFLOW, NULL, 0), -1);
    assert_int_equal(smb_streams_count(SMB_STATUS_BUFFER_TOO_SMALL, NULL, 0), -1);
    assert_int_equal(smb_streams_count(SMB_STATUS_ACCESS_DENIED, NULL, 0), -1);
    assert_int_equal(smb_streams_count(SMB_STATUS_INVALID_PARAMETER, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_data_streams_counted),
        cmocka_unit_test(test_malformed_list_unknown),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

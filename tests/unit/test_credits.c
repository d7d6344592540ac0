/* Credit charge and request arithmetic (MS-SMB2 3.1.5.2, 3.2.4.1.5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "credits.h"

/* Grants add up to SMB_CREDITS_HELD_MAX and stay there, however many come. */
static void test_grants_capped(void **state)
{
    (void)state;
    assert_int_equal(smb_credit_grant(10, 0), 10);
    assert_int_equal(smb_credit_grant(10, 5), 15);
    assert_int_equal(smb_credit_grant(65000, 535), 65535);
    uint32_t held = 0;
    for (int i = 0; i < 200000; i++)
        held = smb_credit_grant(held, 65535);
    assert_int_equal(held, SMB_CREDITS_HELD_MAX);
}

static void test_charge_boundaries(void **state)
{
    (void)state;
    assert_int_equal(smb_credit_charge(true, 0, 0), 1);
    assert_int_equal(smb_credit_charge(true, 1, 0), 1);
    assert_int_equal(smb_credit_charge(true, 65536, 0), 1);
    assert_int_equal(smb_credit_charge(true, 65537, 0), 2);
    assert_int_equal(smb_credit_charge(true, 0, 65537), 2);
    assert_int_equal(smb_credit_charge(true, 100, 8u << 20), 128);
    assert_int_equal(smb_credit_charge(true, (8u << 20) + 1, 0), 129);
    /* The larger of the two sizes decides. */
    assert_int_equal(smb_credit_charge(true, 3 * 65536, 65536), 3);
}

static void test_charge_without_multicredit(void **state)
{
    (void)state;
    assert_int_equal(smb_credit_charge(false, 0, 0), 1);
    assert_int_equal(smb_credit_charge(false, 65537, 1u << 20), 1);
}

static void test_charge_saturates(void **state)
{
    (void)state;
    assert_int_equal(smb_credit_charge(true, SIZE_MAX, 0), UINT16_MAX);
}

static void test_request_tops_up_to_target(void **state)
{
    (void)state;
    /* Nothing granted yet: ask for the charge plus the whole target. */
    assert_int_equal(smb_credit_request(0, 0, 512, 1), 513);
    /* Half the window in use: ask for the rest. */
    assert_int_equal(smb_credit_request(100, 156, 512, 4), 260);
    /* At or above the target: just replace what this request uses. */
    assert_int_equal(smb_credit_request(400, 112, 512, 16), 16);
    assert_int_equal(smb_credit_request(4000, 0, 512, 2), 2);
}

static void test_request_capped(void **state)
{
    (void)state;
    assert_int_equal(smb_credit_request(0, 0, 60000, 1), SMB_CREDIT_REQUEST_MAX);
    assert_int_equal(smb_credit_request(UINT32_MAX, UINT32_MAX, 512, 3), 3);
}

/*
 * The largest READ or WRITE one request may carry: what the server allows,
 * and a quarter of the credits the connection holds (at least one), so that
 * no request ever needs more than the server grants (a server granting 32
 * credits in all cannot take a 4 MiB WRITE of 65 credits) and several stay
 * in flight.
 */
static void test_io_cap_by_credits(void **state)
{
    (void)state;
    assert_int_equal(smb_credit_io_cap(true, 512, 8u << 20), 8u << 20);
    assert_int_equal(smb_credit_io_cap(true, 8192, 8u << 20), 8u << 20);
    assert_int_equal(smb_credit_io_cap(true, 32, 8u << 20), 8 * 65536);
    assert_int_equal(smb_credit_io_cap(true, 64, 8u << 20), 16 * 65536);
    assert_int_equal(smb_credit_io_cap(true, 7, 8u << 20), 65536);
    assert_int_equal(smb_credit_io_cap(true, 1, 8u << 20), 65536);
    assert_int_equal(smb_credit_io_cap(true, 0, 8u << 20), 65536);
    assert_int_equal(smb_credit_io_cap(true, 65535, UINT32_MAX), 16383u * 65536);
    /* The server's own limit below: it decides. */
    assert_int_equal(smb_credit_io_cap(true, 512, 65536), 65536);
    assert_int_equal(smb_credit_io_cap(true, 512, 4096), 4096);
    /* No multi-credit: every request costs one credit, 64 KiB at most. */
    assert_int_equal(smb_credit_io_cap(false, 1, 65536), 65536);
    assert_int_equal(smb_credit_io_cap(false, 512, 1u << 20), 65536);
    /* Whatever the cap, a request of that size is charged no more than it holds. */
    for (uint32_t held = 1; held < 2000; held++)
        assert_true(smb_credit_charge(true, smb_credit_io_cap(true, held, 8u << 20), 0) <= (held < 4 ? 1 : held / 4));
}

/* Only READ, WRITE, IOCTL, QUERY_DIRECTORY (MS-SMB2 3.2.4.1.5) and QUERY_INFO (3.3.5.20) are charged by
 * size; the rest cost 1. */
static void test_sized_commands(void **state)
{
    (void)state;
    assert_true(smb_credit_sized_command(0x0008));  /* READ */
    assert_true(smb_credit_sized_command(0x0009));  /* WRITE */
    assert_true(smb_credit_sized_command(0x000B));  /* IOCTL */
    assert_true(smb_credit_sized_command(0x000E));  /* QUERY_DIRECTORY */
    assert_true(smb_credit_sized_command(0x0010));  /* QUERY_INFO */
    /* ... which costs 1 up to a 64 KiB answer, as any request. */
    assert_int_equal(smb_credit_charge(true, 41, 65536), 1);
    assert_int_equal(smb_credit_charge(true, 41, 65537), 2);
    assert_false(smb_credit_sized_command(0x0011)); /* SET_INFO */
    assert_false(smb_credit_sized_command(0x0005)); /* CREATE */
    assert_false(smb_credit_sized_command(0x0001)); /* SESSION_SETUP */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grants_capped),
        cmocka_unit_test(test_charge_boundaries),
        cmocka_unit_test(test_charge_without_multicredit),
        cmocka_unit_test(test_charge_saturates),
        cmocka_unit_test(test_request_tops_up_to_target),
        cmocka_unit_test(test_request_capped),
        cmocka_unit_test(test_io_cap_by_credits),
        cmocka_unit_test(test_sized_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

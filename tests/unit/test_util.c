/* Dialect names, FILETIME conversion and CREATE defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <smbcopy/smb.h>

#define UNIX_EPOCH_FT 116444736000000000ULL

static void test_dialect_parse(void **state)
{
    (void)state;
    assert_int_equal(smb_dialect_parse("2.0.2"), SMB_DIALECT_2_0_2);
    assert_int_equal(smb_dialect_parse("2.1"), SMB_DIALECT_2_1);
    assert_int_equal(smb_dialect_parse("3.0"), SMB_DIALECT_3_0);
    assert_int_equal(smb_dialect_parse("3.0.2"), SMB_DIALECT_3_0_2);
    assert_int_equal(smb_dialect_parse("3.1.1"), SMB_DIALECT_3_1_1);
    assert_int_equal(smb_dialect_parse("SMB2_02"), SMB_DIALECT_2_0_2);
    assert_int_equal(smb_dialect_parse("SMB2_10"), SMB_DIALECT_2_1);
    assert_int_equal(smb_dialect_parse("SMB3_00"), SMB_DIALECT_3_0);
    assert_int_equal(smb_dialect_parse("SMB3_02"), SMB_DIALECT_3_0_2);
    assert_int_equal(smb_dialect_parse("SMB3_11"), SMB_DIALECT_3_1_1);
    assert_int_equal(smb_dialect_parse("smb3_11"), SMB_DIALECT_3_1_1);
    assert_int_equal(smb_dialect_parse("3.11"), SMB_DIALECT_3_1_1);
    assert_int_equal(smb_dialect_parse(""), 0);
    assert_int_equal(smb_dialect_parse("3"), 0);
    assert_int_equal(smb_dialect_parse("3.1.1x"), 0);
    assert_int_equal(smb_dialect_parse("1.0"), 0);
    assert_int_equal(smb_dialect_parse(NULL), 0);
}

static void test_dialect_name(void **state)
{
    (void)state;
    assert_string_equal(smb_dialect_name(SMB_DIALECT_2_0_2), "2.0.2");
    assert_string_equal(smb_dialect_name(SMB_DIALECT_2_1), "2.1");
    assert_string_equal(smb_dialect_name(SMB_DIALECT_3_0), "3.0");
    assert_string_equal(smb_dialect_name(SMB_DIALECT_3_0_2), "3.0.2");
    assert_string_equal(smb_dialect_name(SMB_DIALECT_3_1_1), "3.1.1");
    assert_string_equal(smb_dialect_name(0x02FF), "?");
    assert_string_equal(smb_dialect_name(0), "?");
    /* name and parse agree */
    static const uint16_t all[] = {SMB_DIALECT_2_0_2, SMB_DIALECT_2_1, SMB_DIALECT_3_0, SMB_DIALECT_3_0_2,
                                   SMB_DIALECT_3_1_1};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_int_equal(smb_dialect_parse(smb_dialect_name(all[i])), all[i]);
}

static void test_filetime_known(void **state)
{
    (void)state;
    assert_int_equal(smb_filetime_from_unix(0, 0), UNIX_EPOCH_FT);
    /* 2000-01-01T00:00:00Z = 946684800 */
    assert_int_equal(smb_filetime_from_unix(946684800, 0), 125911584000000000ULL);
    /* 1601-01-01T00:00:00Z is FILETIME 0 */
    assert_int_equal(smb_filetime_from_unix(-11644473600LL, 0), 0);
    /* sub-second parts round down to 100 ns */
    assert_int_equal(smb_filetime_from_unix(0, 1), UNIX_EPOCH_FT);
    assert_int_equal(smb_filetime_from_unix(0, 99), UNIX_EPOCH_FT);
    assert_int_equal(smb_filetime_from_unix(0, 100), UNIX_EPOCH_FT + 1);
    assert_int_equal(smb_filetime_from_unix(0, 999999999), UNIX_EPOCH_FT + 9999999);
    assert_int_equal(smb_filetime_from_unix(1, 500000000), UNIX_EPOCH_FT + 15000000);

    struct timespec ts = smb_filetime_to_timespec(UNIX_EPOCH_FT);
    assert_int_equal(ts.tv_sec, 0);
    assert_int_equal(ts.tv_nsec, 0);
    ts = smb_filetime_to_timespec(125911584000000000ULL);
    assert_int_equal(ts.tv_sec, 946684800);
    assert_int_equal(ts.tv_nsec, 0);
    ts = smb_filetime_to_timespec(UNIX_EPOCH_FT + 12345678);
    assert_int_equal(ts.tv_sec, 1);
    assert_int_equal(ts.tv_nsec, 234567800);
}

static void test_filetime_negative(void **state)
{
    (void)state;
    /* 1969-12-31T23:59:59Z */
    assert_int_equal(smb_filetime_from_unix(-1, 0), UNIX_EPOCH_FT - 10000000);
    /* 0.5 s before the epoch, written as -1 s + 0.5 s */
    assert_int_equal(smb_filetime_from_unix(-1, 500000000), UNIX_EPOCH_FT - 5000000);
    /* the same, with a negative nsec */
    assert_int_equal(smb_filetime_from_unix(0, -500000000), UNIX_EPOCH_FT - 5000000);
    /* a negative nsec not on a 100 ns boundary still rounds down */
    assert_int_equal(smb_filetime_from_unix(0, -1), UNIX_EPOCH_FT - 1);
    /* nsec beyond a second carries */
    assert_int_equal(smb_filetime_from_unix(0, 2500000000L), UNIX_EPOCH_FT + 25000000);
    /* 1900-01-01T00:00:00Z = -2208988800 */
    assert_int_equal(smb_filetime_from_unix(-2208988800LL, 0), 94354848000000000ULL);

    struct timespec ts = smb_filetime_to_timespec(UNIX_EPOCH_FT - 5000000);
    assert_int_equal(ts.tv_sec, -1);
    assert_int_equal(ts.tv_nsec, 500000000);
    ts = smb_filetime_to_timespec(0);
    assert_int_equal(ts.tv_sec, -11644473600LL);
    assert_int_equal(ts.tv_nsec, 0);
    ts = smb_filetime_to_timespec(94354848000000000ULL);
    assert_int_equal(ts.tv_sec, -2208988800LL);
}

static void test_filetime_clamp(void **state)
{
    (void)state;
    /* before 1601 */
    assert_int_equal(smb_filetime_from_unix(-11644473601LL, 0), 0);
    assert_int_equal(smb_filetime_from_unix(-11644473600LL, -1), 0);
    assert_int_equal(smb_filetime_from_unix(INT64_MIN, 0), 0);
    assert_int_equal(smb_filetime_from_unix(INT64_MIN, -999999999), 0);
    /* beyond the largest FILETIME */
    assert_int_equal(smb_filetime_from_unix(INT64_MAX, 0), (uint64_t)INT64_MAX);
    assert_int_equal(smb_filetime_from_unix(INT64_MAX, 999999999), (uint64_t)INT64_MAX);
    assert_int_equal(smb_filetime_from_unix(910692730085LL, 999999999), (uint64_t)INT64_MAX);
    assert_int_equal(smb_filetime_from_unix(910692730085LL, 0), 9223372036850000000ULL);
    /* special FILETIMEs (-1, -2) clamp to the largest valid one */
    struct timespec a = smb_filetime_to_timespec(UINT64_MAX);
    struct timespec b = smb_filetime_to_timespec((uint64_t)INT64_MAX);
    assert_int_equal(a.tv_sec, b.tv_sec);
    assert_int_equal(a.tv_nsec, b.tv_nsec);
    assert_true(a.tv_nsec >= 0 && a.tv_nsec < 1000000000L);
}

static void test_filetime_round_trip(void **state)
{
    (void)state;
    static const int64_t secs[] = {0, 1, -1, 59, -59, 946684800, 1700000000, -2208988800LL, 4102444800LL,
                                   -11644473600LL, 253402300799LL};
    static const long nsecs[] = {0, 100, 123456700, 999999900};
    for (size_t i = 0; i < sizeof secs / sizeof secs[0]; i++) {
        for (size_t j = 0; j < sizeof nsecs / sizeof nsecs[0]; j++) {
            uint64_t ft = smb_filetime_from_unix(secs[i], nsecs[j]);
            struct timespec ts = smb_filetime_to_timespec(ft);
            assert_int_equal(ts.tv_sec, secs[i]);
            assert_int_equal(ts.tv_nsec, nsecs[j]);
            assert_int_equal(smb_filetime_from_unix(ts.tv_sec, ts.tv_nsec), ft);
        }
    }
    /* FILETIME -> timespec -> FILETIME is exact for every tick */
    for (uint64_t ft = UNIX_EPOCH_FT - 50000; ft < UNIX_EPOCH_FT + 50000; ft += 7) {
        struct timespec ts = smb_filetime_to_timespec(ft);
        assert_int_equal(smb_filetime_from_unix(ts.tv_sec, ts.tv_nsec), ft);
    }
}

static void test_create_params_init(void **state)
{
    (void)state;
    smb_create_params p;
    memset(&p, 0xA5, sizeof p);
    smb_create_params_init(&p);
    assert_true(p.desired_access & SMB_FILE_READ_DATA);
    assert_true(p.desired_access & SMB_FILE_READ_ATTRIBUTES);
    assert_true(p.desired_access & SMB_SYNCHRONIZE);
    assert_false(p.desired_access & (SMB_FILE_WRITE_DATA | SMB_FILE_APPEND_DATA | SMB_DELETE | SMB_GENERIC_WRITE));
    assert_int_equal(p.share_access, SMB_SHARE_READ | SMB_SHARE_WRITE | SMB_SHARE_DELETE);
    assert_int_equal(p.disposition, SMB_FILE_OPEN);
    assert_int_equal(p.options, 0);
    assert_int_equal(p.file_attributes, 0);
    assert_int_equal(p.oplock, SMB_OPLOCK_NONE);
    assert_int_equal(p.impersonation, 2);
    assert_null(p.contexts);
    assert_int_equal(p.ncontexts, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dialect_parse),
        cmocka_unit_test(test_dialect_name),
        cmocka_unit_test(test_filetime_known),
        cmocka_unit_test(test_filetime_negative),
        cmocka_unit_test(test_filetime_clamp),
        cmocka_unit_test(test_filetime_round_trip),
        cmocka_unit_test(test_create_params_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

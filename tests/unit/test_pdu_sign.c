/*
 * Which requests go signed on each dialect (MS-SMB2 3.2.4.1.1, 3.2.5.5,
 * 3.3.5.7): a session that does not sign everything signs only a 3.1.1
 * TREE_CONNECT and a 3.0/3.0.2 FSCTL_VALIDATE_NEGOTIATE_INFO.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <smbcopy/smb.h>

#include "pdu.h"
#include "sign_rules.h"

static const uint16_t dialects[] = {SMB_DIALECT_2_0_2, SMB_DIALECT_2_1, SMB_DIALECT_3_0, SMB_DIALECT_3_0_2,
                                    SMB_DIALECT_3_1_1};

/* Signed on a session that has keys but does not require signing. */
static bool signed_unrequired(uint16_t dialect, uint16_t command, uint32_t ctl)
{
    return smb_sign_request(command, false, true, smb_sign_forced(dialect, command, ctl), false);
}

static void test_tree_connect_per_dialect(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dialects / sizeof dialects[0]; i++) {
        uint16_t d = dialects[i];
        /* 3.1.1 only: MS-SMB2 3.3.5.7 drops an unsigned one; elsewhere it is optional, and not done. */
        assert_int_equal(signed_unrequired(d, SMB2_TREE_CONNECT, 0), d == SMB_DIALECT_3_1_1);
        /* A session that signs everything signs it on every dialect. */
        assert_true(smb_sign_request(SMB2_TREE_CONNECT, true, true, smb_sign_forced(d, SMB2_TREE_CONNECT, 0), false));
        /* Guest and anonymous sessions have no keys: nothing is signed. */
        assert_false(smb_sign_request(SMB2_TREE_CONNECT, false, false, smb_sign_forced(d, SMB2_TREE_CONNECT, 0), false));
        /* Encrypted: the AEAD tag covers it, no signature. */
        assert_false(smb_sign_request(SMB2_TREE_CONNECT, true, true, smb_sign_forced(d, SMB2_TREE_CONNECT, 0), true));
    }
}

static void test_validate_negotiate_per_dialect(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof dialects / sizeof dialects[0]; i++) {
        uint16_t d = dialects[i];
        bool three_o = d == SMB_DIALECT_3_0 || d == SMB_DIALECT_3_0_2;
        assert_int_equal(signed_unrequired(d, SMB2_IOCTL, SMB_FSCTL_VALIDATE_NEGOTIATE_INFO), three_o);
        /* Another FSCTL is not forced. */
        assert_false(signed_unrequired(d, SMB2_IOCTL, SMB_FSCTL_QUERY_ALLOCATED_RANGES));
    }
}

/* Nothing else is signed on a session that does not sign everything; everything but NEGOTIATE when it does. */
static void test_other_requests(void **state)
{
    (void)state;
    static const uint16_t cmds[] = {SMB2_SESSION_SETUP, SMB2_LOGOFF, SMB2_TREE_DISCONNECT, SMB2_CREATE, SMB2_CLOSE,
                                    SMB2_READ, SMB2_WRITE, SMB2_QUERY_DIRECTORY, SMB2_QUERY_INFO, SMB2_SET_INFO,
                                    SMB2_ECHO, SMB2_FLUSH};
    for (size_t i = 0; i < sizeof dialects / sizeof dialects[0]; i++)
        for (size_t j = 0; j < sizeof cmds / sizeof cmds[0]; j++) {
            assert_false(signed_unrequired(dialects[i], cmds[j], 0));
            assert_true(smb_sign_request(cmds[j], true, true, smb_sign_forced(dialects[i], cmds[j], 0), false));
        }
    for (size_t i = 0; i < sizeof dialects / sizeof dialects[0]; i++)
        assert_false(smb_sign_request(SMB2_NEGOTIATE, true, true, smb_sign_forced(dialects[i], SMB2_NEGOTIATE, 0),
                                      false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree_connect_per_dialect),
        cmocka_unit_test(test_validate_negotiate_per_dialect),
        cmocka_unit_test(test_other_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

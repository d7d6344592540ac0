/* smb_sd_kept: what a read-back descriptor must keep of the one set, and what a server may change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <smbcopy/security.h>

#define ALL (SMB_SECINFO_OWNER | SMB_SECINFO_GROUP | SMB_SECINFO_DACL | SMB_SECINFO_SACL)

/* sddl as self-relative bytes. */
static uint8_t *bin(const char *sddl, size_t *len)
{
    smb_security_descriptor *sd = NULL;
    smb_error err;
    if (smb_sd_from_sddl(sddl, &sd, &err))
        fail_msg("parse '%s': %s", sddl, err.message);
    uint8_t *out = NULL;
    assert_int_equal(smb_sd_encode(sd, &out, len, &err), 0);
    smb_sd_free(sd);
    return out;
}

/* smb_sd_kept of sent and got (SDDL), the parts `parts`; its phrase in why. */
static int kept(const char *sent, const char *got, uint32_t parts, char *why, size_t why_len)
{
    size_t a, b;
    uint8_t *s = bin(sent, &a), *g = bin(got, &b);
    smb_error err = {0};
    int rc = smb_sd_kept(s, a, g, b, parts, why, why_len, &err);
    free(s);
    free(g);
    return rc;
}

static void expect_kept(const char *sent, const char *got, uint32_t parts)
{
    char why[256];
    int rc = kept(sent, got, parts, why, sizeof why);
    if (rc != 1)
        fail_msg("'%s' read back as '%s': %d (%s), expected kept", sent, got, rc, why);
}

static void expect_lost(const char *sent, const char *got, uint32_t parts, const char *phrase)
{
    char why[256];
    int rc = kept(sent, got, parts, why, sizeof why);
    if (rc != 0)
        fail_msg("'%s' read back as '%s': %d, expected not kept", sent, got, rc);
    if (!strstr(why, phrase))
        fail_msg("why is '%s', not about '%s'", why, phrase);
}

static void test_identical(void **state)
{
    (void)state;
    expect_kept("O:BAG:BUD:P(A;;FA;;;SY)(A;;FR;;;S-1-5-21-1-2-3-1001)",
                "O:BAG:BUD:P(A;;FA;;;SY)(A;;FR;;;S-1-5-21-1-2-3-1001)", ALL);
}

static void test_server_forms(void **state)
{
    (void)state;
    /* Generic rights stored as the file rights they stand for; inherit-only entries keep them. */
    expect_kept("O:BAD:(A;;GA;;;SY)(A;;GRGX;;;BU)(A;OICIIO;GA;;;CO)",
                "O:BAD:(A;;FA;;;SY)(A;;0x1200a9;;;BU)(A;OICIIO;GA;;;CO)", ALL);
    /* Inherited entries recomputed by the destination from its parent. */
    expect_kept("O:BAD:AI(A;;FA;;;BA)(A;ID;FR;;;WD)", "O:BAD:AI(A;;FA;;;BA)(A;ID;FA;;;SY)(A;ID;FR;;;BU)", ALL);
    /* A NULL DACL stored as Everyone with every right. */
    expect_kept("O:BAD:NO_ACCESS_CONTROL", "O:BAD:(A;;FA;;;WD)", ALL);
    /* Parts not set are not compared. */
    expect_kept("O:BAG:BUD:(A;;FA;;;BA)", "O:SYG:SYD:(A;;FA;;;BA)", SMB_SECINFO_DACL);
    /* A part the sender did not have is nothing to keep. */
    expect_kept("O:BA", "O:BAG:BUD:(A;;FA;;;BA)", ALL);
}

static void test_losses(void **state)
{
    (void)state;
    expect_lost("O:S-1-5-21-1-2-3-1001D:(A;;FA;;;BA)", "O:S-1-22-1-0D:(A;;FA;;;BA)", ALL,
                "owner S-1-5-21-1-2-3-1001 became S-1-22-1-0");
    expect_lost("O:BAG:BUD:(A;;FA;;;BA)", "O:BAG:SYD:(A;;FA;;;BA)", ALL, "group");
    expect_lost("O:BAD:P(A;;FA;;;BA)", "O:BAD:(A;;FA;;;BA)", ALL, "DACL lost its protection");
    expect_lost("O:BAD:(A;;FA;;;BA)", "O:BAD:P(A;;FA;;;BA)", ALL, "DACL gained its protection");
    expect_lost("O:BAD:(A;;FA;;;BA)(A;;FR;;;S-1-5-21-1-2-3-1002)", "O:BAD:(A;;FA;;;BA)", ALL,
                "lost explicit entry 2");
    expect_lost("O:BAD:(A;;FA;;;BA)", "O:BAD:(A;;FA;;;BA)(A;;FR;;;WD)", ALL, "an entry more");
    expect_lost("O:BAD:(A;;FA;;;BA)(D;;FW;;;BU)", "O:BAD:(D;;FW;;;BU)(A;;FA;;;BA)", ALL, "explicit entry 1 (for S-1-5-32-544)");
    expect_lost("O:BAD:(A;;FR;;;BU)", "O:BAD:(A;;FA;;;BU)", ALL, "entry 1");
    expect_lost("O:BAD:(A;OICI;FA;;;BU)", "O:BAD:(A;;FA;;;BU)", ALL, "entry 1");
    expect_lost("O:BAD:(A;;FA;;;BU)", "O:BA", ALL, "DACL is gone");
    expect_lost("O:BAD:NO_ACCESS_CONTROL", "O:BAD:(A;;FR;;;WD)", ALL, "NULL DACL");
    expect_lost("O:BAS:(AU;SA;FA;;;WD)", "O:BAS:", ALL, "SACL lost explicit entry 1");
    expect_kept("O:BAS:(AU;SA;FA;;;WD)", "O:BAS:", ALL & ~SMB_SECINFO_SACL);
}

static void test_bad_bytes(void **state)
{
    (void)state;
    size_t n;
    uint8_t *good = bin("O:BAD:(A;;FA;;;BA)", &n);
    uint8_t junk[20] = {2}; /* revision 2: not a descriptor */
    smb_error err = {0};
    char why[64];
    assert_int_equal(smb_sd_kept(good, n, junk, sizeof junk, ALL, why, sizeof why, &err), SMB_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "read back"));
    assert_int_equal(smb_sd_kept(junk, sizeof junk, good, n, ALL, NULL, 0, &err), SMB_ERR_PROTOCOL);
    assert_non_null(strstr(err.message, "set"));
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical),
        cmocka_unit_test(test_server_forms),
        cmocka_unit_test(test_losses),
        cmocka_unit_test(test_bad_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

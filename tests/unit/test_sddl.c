/* SDDL (MS-DTYP 2.5.1) both ways, SID strings (2.4.2.1), aliases, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <smbcopy/security.h>

/* The self-relative bytes MS-DTYP 2.5.1.4 gives for its example string. */
static const uint8_t k_spec_sd[] = {
    0x01, 0x00, 0x14, 0xb0, 0x90, 0x00, 0x00, 0x00, 0xa0, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00,
    0x30, 0x00, 0x00, 0x00, 0x02, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x80, 0x14, 0x00,
    0x00, 0x00, 0x00, 0x80, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x60, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x18, 0x00, 0x00, 0x00, 0x00, 0xa0,
    0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00, 0x21, 0x02, 0x00, 0x00,
    0x00, 0x03, 0x18, 0x00, 0x00, 0x00, 0x00, 0x10, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00, 0x00, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x10,
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x00, 0x00, 0x00, 0x03, 0x14, 0x00,
    0x00, 0x00, 0x00, 0x10, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00,
    0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00,
};
static const char k_spec_sddl[] =
    "O:BAG:BAD:P(A;CIOI;GRGX;;;BU)(A;CIOI;GA;;;BA)(A;CIOI;GA;;;SY)(A;CIOI;GA;;;CO)S:P(AU;FA;GR;;;WD)";
/* The same as Windows writes it: flags and rights in their order. */
static const char k_spec_sddl_out[] =
    "O:BAG:BAD:P(A;OICI;GXGR;;;BU)(A;OICI;GA;;;BA)(A;OICI;GA;;;SY)(A;OICI;GA;;;CO)S:P(AU;FA;GR;;;WD)";

/* in must parse, and write back as want. */
static void check_sddl(const char *in, const char *want)
{
    smb_security_descriptor *sd = NULL;
    smb_error err;
    if (smb_sd_from_sddl(in, &sd, &err))
        fail_msg("parse '%s': %s", in, err.message);
    char *out = NULL;
    if (smb_sd_to_sddl(sd, &out, &err))
        fail_msg("write '%s': %s", in, err.message);
    if (strcmp(out, want) != 0)
        fail_msg("'%s' came back as '%s', not '%s'", in, out, want);
    /* and through the binary form too */
    uint8_t *bin = NULL;
    size_t len = 0;
    assert_int_equal(smb_sd_encode(sd, &bin, &len, &err), 0);
    smb_security_descriptor *sd2 = NULL;
    if (smb_sd_decode(bin, len, &sd2, &err))
        fail_msg("decode of '%s': %s", in, err.message);
    char *out2 = NULL;
    assert_int_equal(smb_sd_to_sddl(sd2, &out2, &err), 0);
    assert_string_equal(out2, want);
    free(out2);
    smb_sd_free(sd2);
    free(bin);
    free(out);
    smb_sd_free(sd);
}

static void test_spec_example(void **state)
{
    (void)state;
    smb_security_descriptor *sd = NULL;
    smb_error err;
    assert_int_equal(smb_sd_from_sddl(k_spec_sddl, &sd, &err), 0);
    uint8_t *bin = NULL;
    size_t len = 0;
    assert_int_equal(smb_sd_encode(sd, &bin, &len, &err), 0);
    assert_int_equal(len, sizeof(k_spec_sd));
    assert_memory_equal(bin, k_spec_sd, len);
    free(bin);
    smb_sd_free(sd);
    assert_int_equal(smb_sd_decode(k_spec_sd, sizeof(k_spec_sd), &sd, &err), 0);
    char *s = NULL;
    assert_int_equal(smb_sd_to_sddl(sd, &s, &err), 0);
    assert_string_equal(s, k_spec_sddl_out);
    free(s);
    smb_sd_free(sd);
    check_sddl(k_spec_sddl, k_spec_sddl_out);
}

/* Strings in Windows' own form come back unchanged. */
static void test_canonical(void **state)
{
    (void)state;
    static const char *const k[] = {
        "O:SYG:SYD:PAI(A;OICIID;FA;;;SY)(A;OICIID;0x1200a9;;;BU)(A;OICIIOID;GA;;;CO)",
        "D:NO_ACCESS_CONTROL",
        "D:PNO_ACCESS_CONTROL",
        "D:",
        "D:P",
        "D:AI(D;;SD;;;S-1-5-21-1-2-3-1002)(A;;FR;;;WD)(A;;FW;;;AU)(A;;FX;;;IU)",
        "O:S-1-5-21-1004336348-1177238915-682003330-500G:S-1-5-21-1004336348-1177238915-682003330-513",
        "D:(OA;CI;RPWP;bf967a86-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;PS)",
        "D:(OD;;CR;;4828cc14-1437-45bc-9b07-ad6f015e5f28;AN)",
        "S:(ML;;NW;;;LW)",
        "S:(ML;;NWNR;;;HI)",
        "S:AI(AU;SAFA;FA;;;WD)(AU;OICINPFA;SDWDWO;;;BG)",
        "S:NO_ACCESS_CONTROL",
        "O:S-1-0x123456789ABC-1",
        "O:S-1-5",
        "D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)(A;;KA;;;SY)(A;;KR;;;BU)(A;;KW;;;OW)",
        "D:(A;;;;;WD)(A;CR;0x100000;;;SI)",
        "D:ARAI(A;ID;GA;;;ME)S:PAR",
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
        check_sddl(k[i], k[i]);
}

/* Other spellings are read and written in Windows' form. */
static void test_normalised(void **state)
{
    (void)state;
    check_sddl("D:(A;CIOI;GRGX;;;BU)", "D:(A;OICI;GXGR;;;BU)");
    check_sddl("D:(A;;0x1f01ff;;;WD)", "D:(A;;FA;;;WD)");
    check_sddl("D:(A;;0X1F01FF;;;WD)", "D:(A;;FA;;;WD)");
    check_sddl("D:(A;;2032127;;;WD)", "D:(A;;FA;;;WD)");
    check_sddl("D:(A;;07600777;;;WD)", "D:(A;;FA;;;WD)");
    check_sddl("D:(A;;0;;;WD)", "D:(A;;;;;WD)");
    check_sddl("D:(A;;KX;;;WD)", "D:(A;;KR;;;WD)");
    check_sddl("D:(A;;FRFX;;;WD)", "D:(A;;0x1200a9;;;WD)");
    check_sddl("D:AIP", "D:PAI");
    check_sddl("S:D:", "D:S:");
    check_sddl("G:SYO:S-1-5-32-544", "O:BAG:SY");
    check_sddl("O:s-1-1-0", "O:WD");
    check_sddl("D:(OA;;RP;BF967A86-0DE6-11D0-A285-00AA003049E2;;S-1-5-10)",
               "D:(OA;;RP;bf967a86-0de6-11d0-a285-00aa003049e2;;PS)");
    check_sddl("O:S-1-0x00000000000DD:", "O:S-1-13D:");
}

/* The binary form of what SDDL says: flags, GUID bytes, ACL revisions. */
static void test_binary_fields(void **state)
{
    (void)state;
    smb_security_descriptor *sd = NULL;
    smb_error err;
    assert_int_equal(
        smb_sd_from_sddl("D:PAI(OA;;CR;00299570-246d-11d0-a768-00aa006e0529;;WD)S:NO_ACCESS_CONTROL", &sd, &err), 0);
    assert_int_equal(sd->revision, 1);
    assert_int_equal(sd->control, SMB_SE_SELF_RELATIVE | SMB_SE_DACL_PRESENT | SMB_SE_DACL_PROTECTED |
                                      SMB_SE_DACL_AUTO_INHERITED | SMB_SE_SACL_PRESENT);
    assert_null(sd->sacl);
    assert_null(sd->owner);
    assert_int_equal(sd->dacl->revision, SMB_ACL_REVISION_DS);
    const smb_ace *a = &sd->dacl->aces[0];
    assert_int_equal(a->type, SMB_ACE_ACCESS_ALLOWED_OBJECT);
    assert_int_equal(a->object_flags, SMB_ACE_OBJECT_TYPE_PRESENT);
    static const uint8_t guid[16] = {0x70, 0x95, 0x29, 0x00, 0x6d, 0x24, 0xd0, 0x11,
                                     0xa7, 0x68, 0x00, 0xaa, 0x00, 0x6e, 0x05, 0x29};
    assert_memory_equal(a->object_type.b, guid, 16);
    assert_int_equal(a->mask, 0x100);
    smb_sd_free(sd);
    assert_int_equal(smb_sd_from_sddl("", &sd, &err), 0);
    assert_int_equal(sd->control, SMB_SE_SELF_RELATIVE);
    char *s = NULL;
    assert_int_equal(smb_sd_to_sddl(sd, &s, &err), 0);
    assert_string_equal(s, "");
    free(s);
    smb_sd_free(sd);
}

static void check_bad(const char *in, int code, const char *want)
{
    smb_security_descriptor *sd = (smb_security_descriptor *)1;
    smb_error err;
    memset(&err, 0, sizeof(err));
    int rc = smb_sd_from_sddl(in, &sd, &err);
    if (rc != code)
        fail_msg("'%s' gave %d, not %d (%s)", in, rc, code, err.message);
    assert_null(sd);
    if (!strstr(err.message, want))
        fail_msg("'%s': '%s' lacks '%s'", in, err.message, want);
}

static void test_errors(void **state)
{
    (void)state;
    const int inv = SMB_ERR_INVALID_ARG;
    check_bad("X:BA", inv, "expected O:, G:, D: or S:");
    check_bad("O:ZZ", inv, "unknown SID alias 'ZZ' at offset 2");
    check_bad("O:DA", inv, "relative to a domain");
    check_bad("O:", inv, "bad SID");
    check_bad("O:S-1-5-x", inv, "bad SID");
    check_bad("O:BAO:SY", inv, "second 'O:'");
    check_bad("O:BAX", inv, "expected");
    check_bad("D:(A;;FA;;;WD", inv, "without its ')'");
    check_bad("D:(Q;;FA;;;WD)", inv, "unknown ACE type 'Q'");
    check_bad("D:(A;XX;FA;;;WD)", inv, "unknown ACE flag 'XX'");
    check_bad("D:(A;O;FA;;;WD)", inv, "unknown ACE flag 'O'");
    check_bad("D:(A;;QQ;;;WD)", inv, "unknown right 'QQ'");
    check_bad("D:(A;;FAF;;;WD)", inv, "unknown right 'F'");
    check_bad("D:(A;;0x100000000;;;WD)", inv, "over 32 bits");
    check_bad("D:(A;;0x12g;;;WD)", inv, "bad access mask");
    check_bad("D:(A;;09;;;WD)", inv, "bad access mask");
    check_bad("D:(OA;;FA;bf967a86-0de6-11d0-a285-00aa003049e;;WD)", inv, "bad GUID");
    check_bad("D:(OA;;FA;bf967a86+0de6-11d0-a285-00aa003049e2;;WD)", inv, "bad GUID");
    check_bad("D:(OA;;FA;bf967a86-0de6-11d0-a285-00aa003049eg;;WD)", inv, "bad GUID");
    check_bad("D:(A;;FA;bf967a86-0de6-11d0-a285-00aa003049e2;;WD)", inv, "not an object ACE");
    check_bad("D:(A;;FA;;WD)", inv, "fewer than 6 fields");
    check_bad("D:(A;;FA;;;WD;x)", inv, "seventh ACE field");
    check_bad("D:(XA;;FA;;;WD;(Member_of {SID(BA)}))", inv, "conditional expression");
    check_bad("D:(XA;;FA;;;WD)", SMB_ERR_UNSUPPORTED, "callback");
    check_bad("S:(RA;;;;;WD)", SMB_ERR_UNSUPPORTED, "resource attribute");
    check_bad("D:(A;;FA;;;WD)(", inv, "without its ')'");
    check_bad("D:(A;;FA;;;WD)x", inv, "expected");
    check_bad("D:NO_ACCESS_CONTROL(A;;FA;;;WD)", inv, "ACE after NO_ACCESS_CONTROL");
    check_bad("D:(A;;FA;;;S-1-5-21-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15)", inv, "bad SID");
    check_bad(NULL, inv, "no string");
}

/* What SDDL cannot say without conditional expressions is refused. */
static void test_unwritable(void **state)
{
    (void)state;
    static const uint8_t callback[] = {
        0x01, 0x00, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0,
        0x02, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x09, 0x00, 0x18, 0x00, 0xff, 0x01, 0x1f, 0x00, 0x01, 0x01, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0,
        'a', 'r', 't', 'x',
    };
    smb_security_descriptor *sd = NULL;
    smb_error err;
    assert_int_equal(smb_sd_decode(callback, sizeof(callback), &sd, &err), 0);
    char *s = (char *)1;
    assert_int_equal(smb_sd_to_sddl(sd, &s, &err), SMB_ERR_UNSUPPORTED);
    assert_null(s);
    assert_non_null(strstr(err.message, "ACE 1 of the DACL"));
    smb_sd_free(sd);
}

static void test_sid_strings(void **state)
{
    (void)state;
    static const char *const good[] = {"S-1-5-21-1-2-3", "S-1-0x123456789ABC-7", "S-1-5", "S-1-0-0",
                                       "S-1-4294967295-4294967295",
                                       "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        smb_sid sid;
        char buf[SMB_SID_STRING_MAX];
        assert_int_equal(smb_sid_from_string(good[i], &sid), 0);
        assert_int_equal(smb_sid_to_string(&sid, buf, sizeof(buf)), 0);
        assert_string_equal(buf, good[i]);
    }
    static const char *const bad[] = {"", "S", "S-1", "S-2-5", "S-1-5-", "S-1-5-x", "S-1-4294967296", "S-1--5",
                                      "S-1-0x1234567890123", "S-1-0x", "S-1-5-4294967296", "X-1-5", "S-1-5 ",
                                      "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        smb_sid sid;
        if (smb_sid_from_string(bad[i], &sid) != SMB_ERR_INVALID_ARG)
            fail_msg("'%s' accepted", bad[i]);
        assert_int_equal(sid.sub_authority_count, 0);
    }
    smb_sid sid;
    char small[8];
    assert_int_equal(smb_sid_from_string("S-1-5-32-544", &sid), 0);
    assert_true(sid.authority == 5);
    assert_int_equal(sid.sub_authority[1], 544);
    assert_int_equal(smb_sid_to_string(&sid, small, sizeof(small)), SMB_ERR_INVALID_ARG);
    assert_string_equal(small, "");
    sid.sub_authority_count = 16;
    char buf[SMB_SID_STRING_MAX];
    assert_int_equal(smb_sid_to_string(&sid, buf, sizeof(buf)), SMB_ERR_INVALID_ARG);
    assert_int_equal(smb_sid_from_string(NULL, &sid), SMB_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example), cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_normalised),   cmocka_unit_test(test_binary_fields),
        cmocka_unit_test(test_errors),       cmocka_unit_test(test_unwritable),
        cmocka_unit_test(test_sid_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

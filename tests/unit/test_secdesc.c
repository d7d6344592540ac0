/* Security descriptors in self-relative form (MS-DTYP 2.4.6): byte layout
 * both ways, round trips, and every truncation and bad field refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <smbcopy/security.h>

/* The example of MS-DTYP 2.5.1.4: O:BA G:BA, a protected DACL of four
 * OI|CI ACEs (BU GR|GX, BA GA, SY GA, CO GA) and a protected SACL auditing
 * failed GR by WD, laid out SACL, DACL, owner, group. */
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

/* decode(bytes) must succeed and encode back to exactly the same bytes. */
static smb_security_descriptor *check_round_trip(const uint8_t *buf, size_t len)
{
    smb_security_descriptor *sd = NULL;
    smb_error err;
    memset(&err, 0, sizeof(err));
    int rc = smb_sd_decode(buf, len, &sd, &err);
    if (rc)
        fail_msg("decode: %s", err.message);
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(smb_sd_encode(sd, &out, &out_len, &err), 0);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, buf, len);
    free(out);
    return sd;
}

/* Every proper prefix of a valid descriptor whose parts reach its end
 * must fail with SMB_ERR_PROTOCOL (and never read past it: ASan). */
static void check_prefixes(const uint8_t *buf, size_t len)
{
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, buf, n);
        smb_security_descriptor *sd = (smb_security_descriptor *)1;
        smb_error err;
        assert_int_equal(smb_sd_decode(n ? copy : NULL, n, &sd, &err), SMB_ERR_PROTOCOL);
        assert_null(sd);
        assert_int_equal(err.code, SMB_ERR_PROTOCOL);
        assert_true(strncmp(err.message, "security descriptor: ", 21) == 0);
        free(copy);
    }
}

static void test_spec_example(void **state)
{
    (void)state;
    smb_security_descriptor *sd = check_round_trip(k_spec_sd, sizeof(k_spec_sd));
    assert_int_equal(sd->control, 0xb014);
    assert_non_null(sd->owner);
    assert_int_equal(sd->owner->sub_authority_count, 2);
    assert_true(sd->owner->authority == 5);
    assert_int_equal(sd->owner->sub_authority[1], 544);
    assert_non_null(sd->dacl);
    assert_int_equal(sd->dacl->revision, 2);
    assert_int_equal(sd->dacl->count, 4);
    assert_int_equal(sd->dacl->aces[0].type, SMB_ACE_ACCESS_ALLOWED);
    assert_int_equal(sd->dacl->aces[0].flags, SMB_ACE_OBJECT_INHERIT | SMB_ACE_CONTAINER_INHERIT);
    assert_int_equal(sd->dacl->aces[0].mask, 0xa0000000u);
    assert_int_equal(sd->dacl->aces[0].sid.sub_authority[1], 545);
    assert_non_null(sd->sacl);
    assert_int_equal(sd->sacl->count, 1);
    assert_int_equal(sd->sacl->aces[0].type, SMB_ACE_SYSTEM_AUDIT);
    assert_int_equal(sd->sacl->aces[0].flags, SMB_ACE_FAILED_ACCESS);
    assert_null(sd->sacl->aces[0].data);
    smb_sd_free(sd);
    check_prefixes(k_spec_sd, sizeof(k_spec_sd));
}

/* Decode k_spec_sd with byte at `at` set to v: must fail with a message containing want. */
static void check_bad_byte(size_t at, uint8_t v, const char *want)
{
    uint8_t buf[sizeof(k_spec_sd)];
    memcpy(buf, k_spec_sd, sizeof(buf));
    buf[at] = v;
    smb_security_descriptor *sd = NULL;
    smb_error err;
    assert_int_equal(smb_sd_decode(buf, sizeof(buf), &sd, &err), SMB_ERR_PROTOCOL);
    assert_null(sd);
    if (!strstr(err.message, want))
        fail_msg("byte %zu = 0x%02x: '%s' lacks '%s'", at, v, err.message, want);
}

static void test_bad_fields(void **state)
{
    (void)state;
    check_bad_byte(0, 2, "revision 2");                       /* SD revision */
    check_bad_byte(3, 0x30, "SE_SELF_RELATIVE");             /* control without SR */
    check_bad_byte(4, 0x10, "header");                       /* owner offset 0x10 */
    check_bad_byte(4, 0xf0, "owner");                        /* owner offset past the end */
    check_bad_byte(8, 0x90, "overlaps");                     /* group at the owner */
    check_bad_byte(16, 0x14, "overlaps");                    /* DACL at the SACL */
    check_bad_byte(0x25, 16, "ACE 1 of the SACL has more than 15"); /* the SACL ACE's SID count */
    check_bad_byte(0x91, 16, "more than 15 sub-authorities"); /* owner SID count */
    check_bad_byte(0x90, 2, "revision 2");                   /* owner SID revision */
    check_bad_byte(0x14, 5, "revision 5");                   /* SACL revision */
    check_bad_byte(0x16, 0x04, "smaller than its header");   /* SACL size 4 */
    check_bad_byte(0x16, 0x10, "runs past the ACL");         /* SACL size cuts its ACE */
    check_bad_byte(0x18, 0x06, "cannot hold");               /* SACL count 6 in 28 bytes */
    check_bad_byte(0x1e, 0x02, "smaller than its header");   /* SACL ACE size 2 */
    check_bad_byte(0x1e, 0x0c, "does not cover its SID");    /* ACE size 12 */
    check_bad_byte(0x1e, 0x06, "does not cover its body");   /* ACE size 6 */
    check_bad_byte(0x32, 0xff, "runs past the end");         /* DACL size past the buffer */
}

/* A small descriptor built by hand. */
static smb_sid sid_of(uint64_t auth, size_t n, const uint32_t *sub)
{
    smb_sid s;
    memset(&s, 0, sizeof(s));
    s.revision = 1;
    s.authority = auth;
    s.sub_authority_count = (uint8_t)n;
    if (n)
        memcpy(s.sub_authority, sub, n * sizeof(*sub));
    return s;
}

static smb_acl *acl_new(size_t n)
{
    smb_acl *acl = calloc(1, sizeof(*acl));
    assert_non_null(acl);
    acl->revision = SMB_ACL_REVISION;
    acl->count = (uint16_t)n;
    if (n) {
        acl->aces = calloc(n, sizeof(*acl->aces));
        assert_non_null(acl->aces);
    }
    return acl;
}

static const uint32_t k_user[] = {21, 1, 2, 3, 1001};
static const uint32_t k_other[] = {21, 1, 2, 3, 1002};

/* Owner and DACL only: allow and deny for two SIDs, OI/CI/IO flags. */
static const uint8_t k_allow_deny[] = {
    0x01, 0x00, 0x04, 0x84, 0x54, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00,
    /* DACL: revision 2, size 0x40, 2 ACEs */
    0x02, 0x00, 0x40, 0x00, 0x02, 0x00, 0x00, 0x00,
    /* deny, no flags, 0x00010000 (DELETE), S-1-5-21-1-2-3-1002 */
    0x01, 0x00, 0x24, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x15, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
    0xea, 0x03, 0x00, 0x00,
    /* allow, OI|CI|IO, GA, S-1-3-0 (CREATOR OWNER) */
    0x00, 0x0b, 0x14, 0x00, 0x00, 0x00, 0x00, 0x10, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
    0x00, 0x00, 0x00, 0x00,
    /* owner S-1-5-21-1-2-3-1001 */
    0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x15, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0xe9, 0x03, 0x00, 0x00,
};

static void test_encode_by_hand(void **state)
{
    (void)state;
    smb_security_descriptor *sd = calloc(1, sizeof(*sd));
    assert_non_null(sd);
    sd->revision = 1;
    sd->control = SMB_SE_DACL_PRESENT | SMB_SE_DACL_AUTO_INHERITED; /* SR added by encode */
    sd->owner = malloc(sizeof(smb_sid));
    assert_non_null(sd->owner);
    *sd->owner = sid_of(5, 5, k_user);
    sd->dacl = acl_new(2);
    sd->dacl->aces[0].type = SMB_ACE_ACCESS_DENIED;
    sd->dacl->aces[0].mask = 0x00010000;
    sd->dacl->aces[0].sid = sid_of(5, 5, k_other);
    sd->dacl->aces[1].type = SMB_ACE_ACCESS_ALLOWED;
    sd->dacl->aces[1].flags = SMB_ACE_OBJECT_INHERIT | SMB_ACE_CONTAINER_INHERIT | SMB_ACE_INHERIT_ONLY;
    sd->dacl->aces[1].mask = 0x10000000;
    static const uint32_t zero[] = {0};
    sd->dacl->aces[1].sid = sid_of(3, 1, zero);
    uint8_t *out = NULL;
    size_t len = 0;
    smb_error err;
    assert_int_equal(smb_sd_encode(sd, &out, &len, &err), 0);
    assert_int_equal(len, sizeof(k_allow_deny));
    assert_memory_equal(out, k_allow_deny, len);
    free(out);
    smb_sd_free(sd);
    smb_sd_free(check_round_trip(k_allow_deny, sizeof(k_allow_deny)));
    check_prefixes(k_allow_deny, sizeof(k_allow_deny));
}

/* NULL DACL (present, offset 0), empty DACL, no DACL: three different things. */
static void test_null_and_empty_dacl(void **state)
{
    (void)state;
    static const uint8_t null_dacl[20] = {0x01, 0x00, 0x04, 0x80};
    static const uint8_t no_dacl[20] = {0x01, 0x00, 0x00, 0x80};
    static const uint8_t empty_dacl[28] = {0x01, 0x00, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                           0x14, 0, 0, 0, 0x02, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};
    smb_security_descriptor *sd = check_round_trip(null_dacl, sizeof(null_dacl));
    assert_true(sd->control & SMB_SE_DACL_PRESENT);
    assert_null(sd->dacl);
    smb_sd_free(sd);
    sd = check_round_trip(no_dacl, sizeof(no_dacl));
    assert_false(sd->control & SMB_SE_DACL_PRESENT);
    assert_null(sd->dacl);
    smb_sd_free(sd);
    sd = check_round_trip(empty_dacl, sizeof(empty_dacl));
    assert_non_null(sd->dacl);
    assert_int_equal(sd->dacl->count, 0);
    assert_null(sd->dacl->aces);
    smb_sd_free(sd);
    check_prefixes(null_dacl, sizeof(null_dacl));
    check_prefixes(empty_dacl, sizeof(empty_dacl));
}

/* An object ACE with both GUIDs, a callback ACE with application data and
 * an ACE of an unknown type survive byte for byte. */
static const uint8_t k_object_sd[] = {
    0x01, 0x00, 0x04, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00,
    /* DACL: revision 4, size 8 + 0x38 + 0x18 + 0x08 = 0x60, 3 ACEs */
    0x04, 0x00, 0x60, 0x00, 0x03, 0x00, 0x00, 0x00,
    /* OA, CI, RP|WP, flags 3, two GUIDs, S-1-5-10 */
    0x05, 0x02, 0x38, 0x00, 0x30, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x00,
    /* XA (callback allowed), FA, S-1-1-0, 4 bytes of application data "artx" */
    0x09, 0x00, 0x18, 0x00, 0xff, 0x01, 0x1f, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 'a', 'r', 't', 'x',
    /* type 0x2a, opaque body of 4 bytes */
    0x2a, 0x00, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef,
};

static void test_object_callback_unknown(void **state)
{
    (void)state;
    smb_security_descriptor *sd = check_round_trip(k_object_sd, sizeof(k_object_sd));
    const smb_ace *a = sd->dacl->aces;
    assert_int_equal(sd->dacl->revision, SMB_ACL_REVISION_DS);
    assert_int_equal(a[0].object_flags, 3);
    assert_int_equal(a[0].object_type.b[0], 0x01);
    assert_int_equal(a[0].inherited_object_type.b[15], 0x20);
    assert_int_equal(a[0].sid.sub_authority[0], 10);
    assert_int_equal(a[1].data_len, 4);
    assert_memory_equal(a[1].data, "artx", 4);
    assert_int_equal(a[2].type, 0x2a);
    assert_int_equal(a[2].data_len, 4);
    smb_sd_free(sd);
    check_prefixes(k_object_sd, sizeof(k_object_sd));
}

/* Descriptors that cannot be written: the encoder says so. */
static void test_encode_rejects(void **state)
{
    (void)state;
    smb_security_descriptor sd;
    memset(&sd, 0, sizeof(sd));
    uint8_t *out = (uint8_t *)1;
    size_t len = 1;
    smb_error err;
    assert_int_equal(smb_sd_encode(&sd, &out, &len, &err), SMB_ERR_INVALID_ARG); /* revision 0 */
    assert_null(out);
    sd.revision = 1;
    smb_sid owner = sid_of(5, 0, NULL);
    owner.sub_authority_count = 16;
    sd.owner = &owner;
    assert_int_equal(smb_sd_encode(&sd, &out, &len, &err), SMB_ERR_INVALID_ARG);
    owner.sub_authority_count = 0;
    owner.authority = 1ull << 48;
    assert_int_equal(smb_sd_encode(&sd, &out, &len, &err), SMB_ERR_INVALID_ARG);
    owner.authority = 5;
    assert_int_equal(smb_sd_encode(&sd, &out, &len, &err), 0);
    free(out);
    sd.owner = NULL;
    /* an ACE over 65535 bytes */
    smb_ace big;
    memset(&big, 0, sizeof(big));
    big.type = 0x30;
    big.data_len = 70000;
    big.data = calloc(1, big.data_len);
    smb_acl acl = {SMB_ACL_REVISION, 1, &big};
    sd.dacl = &acl;
    assert_int_equal(smb_sd_encode(&sd, &out, &len, &err), SMB_ERR_INVALID_ARG);
    assert_null(out);
    free(big.data);
    assert_int_equal(smb_sd_decode(k_spec_sd, sizeof(k_spec_sd), NULL, &err), SMB_ERR_INVALID_ARG);
    smb_sd_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_encode_by_hand),
        cmocka_unit_test(test_null_and_empty_dacl),
        cmocka_unit_test(test_object_callback_unknown),
        cmocka_unit_test(test_encode_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

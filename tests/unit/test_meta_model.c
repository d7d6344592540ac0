/*
 * A file's extra metadata in memory (engine/endpoints/ep_meta.c): clearing
 * frees and empties streams and security descriptors (twice is harmless),
 * and the streams' total counts every stream, the empty ones as 0. Stream
 * names: what may be one and what may not (empty, a separator, NUL, bytes
 * that are not UTF-8). The parts a descriptor holds, read from its bytes;
 * bytes that are no descriptor refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <smbcopy/security.h>

#include "engine/endpoints/ep_meta.h"

static void test_streams_total_and_clear(void **state)
{
    (void)state;
    ep_streams s = {0};
    assert_int_equal(ep_streams_bytes(&s), 0);
    s.v = calloc(3, sizeof *s.v);
    assert_non_null(s.v);
    s.n = 3;
    const size_t lens[3] = {5, 0, 3u << 20};
    for (size_t i = 0; i < 3; i++) {
        s.v[i].name = strdup(i == 1 ? "empty" : "Zone.Identifier");
        s.v[i].len = lens[i];
        s.v[i].data = lens[i] ? calloc(1, lens[i]) : NULL;
    }
    assert_int_equal(ep_streams_bytes(&s), 5 + (3u << 20));
    ep_streams_clear(&s);
    assert_null(s.v);
    assert_int_equal(s.n, 0);
    ep_streams_clear(&s);
}

static void test_sd_clear(void **state)
{
    (void)state;
    ep_sd sd = {.bytes = calloc(1, 20), .len = 20, .parts = EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL};
    assert_non_null(sd.bytes);
    ep_sd_clear(&sd);
    assert_null(sd.bytes);
    assert_int_equal(sd.len, 0);
    assert_int_equal(sd.parts, 0);
    ep_sd_clear(&sd);
}

static void test_stream_names(void **state)
{
    (void)state;
#define NAME(s, ok) {s, sizeof s - 1, ok}
    static const struct {
        const char *name;
        size_t len;
        bool ok;
    } cases[] = {
        NAME("Zone.Identifier", true),
        NAME("caf\xc3\xa9 x=%", true),        /* UTF-8, a space, '=' and '%' */
        NAME("\x05SummaryInformation", true), /* OLE property sets: a control character leads */
        NAME("\xf0\x9f\x98\x80", true),       /* U+1F600 */
        NAME("", false),
        NAME("a/b", false),
        NAME("a\\b", false),
        NAME("a:b", false),
        NAME("a\0b", false),
        NAME("\xff", false),             /* not UTF-8 */
        NAME("\xc0\xaf", false),         /* an overlong '/' */
        NAME("\xed\xa0\x80", false),     /* a surrogate */
        NAME("\xf4\x90\x80\x80", false), /* past U+10FFFF */
        NAME("caf\xc3", false),          /* cut in a character */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (ep_stream_name_ok(cases[i].name, cases[i].len) != cases[i].ok)
            fail_msg("case %zu: %s", i, cases[i].ok ? "refused" : "taken");
#undef NAME
}

/* sddl as self-relative bytes (*len), malloc'd. */
static uint8_t *sd_bytes(const char *sddl, size_t *len)
{
    smb_security_descriptor *sd;
    smb_error err = {0};
    if (smb_sd_from_sddl(sddl, &sd, &err) != 0)
        fail_msg("parse %s: %s", sddl, err.message);
    uint8_t *out = NULL;
    assert_int_equal(smb_sd_encode(sd, &out, len, &err), 0);
    smb_sd_free(sd);
    return out;
}

static void test_sd_parts(void **state)
{
    (void)state;
    static const struct {
        const char *sddl;
        uint32_t parts;
    } cases[] = {
        {"O:BAG:SYD:(A;;FA;;;WD)", EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL},
        {"D:P(A;;FR;;;BU)", EP_SD_DACL},
        {"O:SYS:(AU;SA;FA;;;WD)", EP_SD_OWNER | EP_SD_SACL},
        {"O:BAD:(A;;FA;;;BA)S:(AU;FA;FA;;;WD)", EP_SD_OWNER | EP_SD_DACL | EP_SD_SACL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        uint8_t *b = sd_bytes(cases[i].sddl, &len);
        uint32_t parts = 99;
        smb_error err = {0};
        assert_int_equal(ep_sd_parts_of(b, len, &parts, &err), 0);
        if (parts != cases[i].parts)
            fail_msg("%s: parts 0x%x, expected 0x%x", cases[i].sddl, parts, cases[i].parts);
        /* Shorter than its 20-byte header: no descriptor. */
        assert_int_equal(ep_sd_parts_of(b, 19, &parts, &err), SMB_ERR_PROTOCOL);
        assert_int_equal(parts, 0);
        assert_non_null(strstr(err.message, "not a valid security descriptor"));
        free(b);
    }
    uint32_t parts;
    smb_error err = {0};
    static const uint8_t zeros[20] = {0};
    assert_int_equal(ep_sd_parts_of(zeros, sizeof zeros, &parts, &err), SMB_ERR_PROTOCOL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams_total_and_clear),
        cmocka_unit_test(test_sd_clear),
        cmocka_unit_test(test_stream_names),
        cmocka_unit_test(test_sd_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Helpers shared by the PDU unit tests (test_pdu*.c). Everything static. */
#ifndef SMBCOPY_PDU_TEST_UTIL_H
#define SMBCOPY_PDU_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <smbcopy/smb.h>

#include "pdu.h"

/* A growing writer holding 64 zero bytes for the header, so that body
 * offsets are positions in the writer as the encoders expect. */
static inline void t_wr_msg(smb_wr *w)
{
    smb_wr_init_grow(w, 256);
    smb_wr_zero(w, SMB2_HDR_LEN);
}

/* A reader over msg[0..len) positioned at the body (offset 64). */
static inline smb_rd t_rd_body(const uint8_t *msg, size_t len)
{
    smb_rd r;
    smb_rd_init(&r, msg, len);
    smb_rd_seek(&r, SMB2_HDR_LEN);
    return r;
}

/* A copy of msg in a heap block of exactly len bytes, so that the address
 * sanitizer reports any read past the end. */
static inline uint8_t *t_exact_copy(const uint8_t *msg, size_t len)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    if (len)
        memcpy(p, msg, len);
    return p;
}

/* A response decoder under test, wrapped to one signature. */
typedef int (*t_decode_fn)(smb_rd *r);

/* decode(msg) must return want (the message lives in an exact-size block). */
static inline void t_expect_decode(const uint8_t *msg, size_t len, t_decode_fn decode, int want)
{
    uint8_t *copy = t_exact_copy(msg, len);
    smb_rd r = t_rd_body(copy, len);
    assert_int_equal(decode(&r), want);
    free(copy);
}

/* The whole message decodes; every shorter prefix of it is refused. */
static inline void t_truncations_fail(const uint8_t *msg, size_t len, t_decode_fn decode)
{
    t_expect_decode(msg, len, decode, 0);
    for (size_t n = 0; n < len; n++)
        t_expect_decode(msg, n, decode, SMB_ERR_PROTOCOL);
}

/* msg with one little-endian 16/32-bit field replaced must give want. */
static inline void t_patch16_expect(const uint8_t *msg, size_t len, size_t pos, uint16_t v, t_decode_fn decode,
                                    int want)
{
    uint8_t *copy = t_exact_copy(msg, len);
    smb_put16(copy + pos, v);
    t_expect_decode(copy, len, decode, want);
    free(copy);
}

static inline void t_patch32_expect(const uint8_t *msg, size_t len, size_t pos, uint32_t v, t_decode_fn decode,
                                    int want)
{
    uint8_t *copy = t_exact_copy(msg, len);
    smb_put32(copy + pos, v);
    t_expect_decode(copy, len, decode, want);
    free(copy);
}

/* ASCII to UTF-16LE into out (2 * strlen(s) bytes); returns the length. */
static inline size_t t_utf16(const char *s, uint8_t *out)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = (uint8_t)s[i];
        out[2 * i + 1] = 0;
    }
    return 2 * n;
}

#endif

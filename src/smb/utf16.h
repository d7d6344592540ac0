/*
 * UTF-8 <-> UTF-16LE conversion for names on the wire.
 *
 * Names from the server may hold lone surrogates (Windows names are
 * arbitrary 16-bit sequences). They are mapped reversibly: a lone surrogate
 * U+D800..U+DFFF becomes its 3-byte generalised UTF-8 form (WTF-8), and that
 * form converts back to the same 16-bit unit. Anything else that is not
 * valid UTF-8 on the way out is refused.
 *
 * Text that is not a name (NTLM credentials, the NEGOTIATE netname) is
 * strict UTF-8: the same decoder, with surrogates refused.
 */
#ifndef SMBCOPY_UTF16_H
#define SMBCOPY_UTF16_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

/** How the UTF-8 decoder treats the surrogate code points U+D800..U+DFFF. */
typedef enum smb_utf8_mode {
    SMB_UTF8_STRICT, /**< RFC 3629: an encoded surrogate is refused */
    SMB_UTF8_WTF8,   /**< a lone surrogate's 3-byte form is accepted (names) */
} smb_utf8_mode;

/**
 * Decode one code point from s[0..left), left >= 1. Returns the bytes used
 * and sets *cp, or returns 0 when the sequence is refused: a bad lead byte,
 * a missing or bad continuation byte, an overlong form, a value above
 * U+10FFFF, or (SMB_UTF8_STRICT) a surrogate.
 */
size_t smb_utf8_decode(const uint8_t *s, size_t left, smb_utf8_mode mode, uint32_t *cp);

/**
 * Append the UTF-8 text s[0..len) to w as UTF-16LE (a pair above U+FFFF,
 * no terminator). Returns false, having written nothing, when the text is
 * refused: a sequence smb_utf8_decode refuses, a NUL, or a high surrogate
 * followed by a low one (that code point has a 4-byte form). A write that
 * does not fit sets w's error flag as any write does.
 */
bool smb_wr_utf8_as_utf16le(smb_wr *w, const char *s, size_t len, smb_utf8_mode mode);

/**
 * Convert UTF-8 (WTF-8 accepted) to UTF-16LE bytes. Returns a malloc'd
 * buffer and its byte length in *out_len, or NULL when the input is not
 * valid (overlong, truncated, > U+10FFFF, an encoded surrogate pair) or
 * memory runs out. NUL characters are refused too.
 */
uint8_t *smb_utf8_to_utf16le(const char *s, size_t len, size_t *out_len);

/**
 * Convert len bytes of UTF-16LE to a NUL-terminated UTF-8 string (lone
 * surrogates as WTF-8). Returns malloc'd memory, or NULL when len is odd,
 * the text holds a NUL, or memory runs out.
 */
char *smb_utf16le_to_utf8(const uint8_t *p, size_t len);

/**
 * Convert a share path to the wire form: '/' becomes '\\', leading
 * separators are dropped, repeated separators collapse. Returns a malloc'd
 * NUL-terminated UTF-8 string or NULL on allocation failure.
 */
char *smb_path_to_wire(const char *path);

#endif

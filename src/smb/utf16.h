/*
 * UTF-8 <-> UTF-16LE conversion for names on the wire.
 *
 * Names from the server may hold lone surrogates (Windows names are
 * arbitrary 16-bit sequences). They are mapped reversibly: a lone surrogate
 * U+D800..U+DFFF becomes its 3-byte generalised UTF-8 form (WTF-8), and that
 * form converts back to the same 16-bit unit. Anything else that is not
 * valid UTF-8 on the way out is refused.
 */
#ifndef SMBCOPY_UTF16_H
#define SMBCOPY_UTF16_H

#include <stddef.h>
#include <stdint.h>

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

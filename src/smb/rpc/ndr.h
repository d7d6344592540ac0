/*
 * NDR 2.0 (C706 chapter 14, MS-RPCE 2.2.5) primitives for stubs, little-
 * endian only (the representation the library binds with): aligned
 * integers, pointer referent ids, and conformant varying UTF-16 strings
 * ([string] wchar_t *, C706 14.3.4.2).
 *
 * A stub is read through smb_rd and written through smb_wr over the stub
 * alone, so that alignment counts from the stub's first byte (C706 14.2.2).
 */
#ifndef SMBCOPY_RPC_NDR_H
#define SMBCOPY_RPC_NDR_H

#include <stddef.h>
#include <stdint.h>

#include <smbcopy/smb.h>

#include "common/wire.h"

/** Align r to 4 and read a 32-bit integer (an error sets r's flag, as any read). */
uint32_t ndr_rd_u32(smb_rd *r);

/** A unique or full pointer's referent id (C706 14.3.10): 0 is the null pointer. */
static inline uint32_t ndr_rd_ptr(smb_rd *r) { return ndr_rd_u32(r); }

/**
 * Read a conformant varying string of UTF-16 units with its terminating
 * NUL (max_count, offset, actual_count, then actual_count units) into
 * *out, a malloc'd UTF-8 string (a lone surrogate in its WTF-8 form). Refused with
 * SMB_ERR_PROTOCOL, err naming what (e.g. "share name"): a string cut
 * short, offset not 0, actual_count 0 or above max_count or max_units, a
 * last unit that is not NUL or a NUL before it. *out is NULL on failure.
 */
int ndr_rd_wstring(smb_rd *r, uint32_t max_units, const char *what, char **out, smb_error *err);

/** Align w to 4 with zeros and append a 32-bit integer. */
void ndr_wr_u32(smb_wr *w, uint32_t v);

/**
 * Append the UTF-8 text s as a conformant varying string with its NUL
 * (max_count = actual_count = units + 1, offset 0). SMB_ERR_INVALID_ARG
 * when s is not valid UTF-8 or holds a NUL; a write that does not fit sets
 * w's flag as any write does.
 */
int ndr_wr_wstring(smb_wr *w, const char *s, smb_error *err);

#endif

/*
 * NDR 2.0 primitives (C706 chapter 14): integers, pointers, strings.
 */
#include "ndr.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "utf16.h"

uint32_t ndr_rd_u32(smb_rd *r)
{
    smb_rd_align(r, 4);
    return smb_rd_u32(r);
}

void ndr_wr_u32(smb_wr *w, uint32_t v)
{
    smb_wr_align(w, 4);
    smb_wr_u32(w, v);
}

int ndr_rd_wstring(smb_rd *r, uint32_t max_units, const char *what, char **out, smb_error *err)
{
    *out = NULL;
    uint32_t max_count = ndr_rd_u32(r);
    uint32_t offset = smb_rd_u32(r);
    uint32_t actual = smb_rd_u32(r);
    if (!smb_rd_ok(r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s cut short", what);
    /* The whole string is sent, its NUL included: offset 0, at least one unit. */
    if (offset != 0 || actual == 0 || actual > max_count)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s with max_count %u, offset %u, actual_count %u", what,
                           max_count, offset, actual);
    if (actual > max_units)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s of %u units (the most taken is %u)", what, actual, max_units);
    size_t bytes = (size_t)actual * 2;
    smb_rd text = smb_rd_sub(r, r->pos, bytes);
    smb_rd_skip(r, bytes);
    if (!smb_rd_ok(r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s of %u units cut short", what, actual);
    /* The units before the terminator hold no NUL; the last one is it. */
    for (uint32_t i = 0; i + 1 < actual; i++)
        if (smb_rd_u16(&text) == 0)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s holds a NUL", what);
    if (smb_rd_u16(&text) != 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s without its terminating NUL", what);
    smb_rd_seek(&text, 0);
    const uint8_t *units = smb_rd_ptr(&text, bytes - 2);
    char *s = (actual == 1) ? strdup("") : smb_utf16le_to_utf8(units, bytes - 2);
    if (!s)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    *out = s;
    return 0;
}

int ndr_wr_wstring(smb_wr *w, const char *s, smb_error *err)
{
    size_t len = 0;
    uint8_t *u = smb_utf8_to_utf16le(s, strlen(s), &len);
    if (!u)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "'%s' is not valid UTF-8", s);
    if (len / 2 >= UINT32_MAX) {
        free(u);
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "string too long");
    }
    uint32_t units = (uint32_t)(len / 2) + 1;
    ndr_wr_u32(w, units); /* max_count */
    smb_wr_u32(w, 0);     /* offset */
    smb_wr_u32(w, units); /* actual_count */
    smb_wr_bytes(w, u, len);
    smb_wr_u16(w, 0);
    free(u);
    return 0;
}

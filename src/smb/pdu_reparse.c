/*
 * Symbolic links as reparse points: the REPARSE_DATA_BUFFER (MS-FSCC
 * 2.1.2.1) that FSCTL_GET_REPARSE_POINT returns and FSCTL_SET_REPARSE_POINT
 * takes (2.3.33, 2.3.65), holding symbolic link data (2.1.2.4):
 *
 *   ReparseTag (4), ReparseDataLength (2), Reserved (2),
 *   SubstituteNameOffset (2), SubstituteNameLength (2),
 *   PrintNameOffset (2), PrintNameLength (2), Flags (4), PathBuffer.
 *
 * ReparseDataLength counts the bytes after the first 8; the name offsets
 * are relative to PathBuffer, the names UTF-16LE without a terminating NUL.
 */
#include <stdlib.h>
#include <string.h>

#include "pdu_internal.h"
#include "utf16.h"

/* ReparseTag, ReparseDataLength, Reserved. */
#define REPARSE_HDR 8u
/* The symbolic link fields before PathBuffer. */
#define SYMLINK_FIXED 12u

void smb2_symlink_free(smb2_symlink *s)
{
    if (!s)
        return;
    free(s->substitute);
    free(s->print);
    memset(s, 0, sizeof *s);
}

/* The name at [off, off+n) of path (a sub-reader of the buffer) as UTF-8, or NULL (*rc says why). */
static char *name_at(smb_rd *path, uint16_t off, uint16_t n, int *rc)
{
    if (n % 2) {
        *rc = SMB_ERR_PROTOCOL;
        return NULL;
    }
    smb_rd_seek(path, off);
    const uint8_t *p = n ? smb_rd_ptr(path, n) : NULL;
    if (!smb_rd_ok(path)) {
        *rc = SMB_ERR_PROTOCOL;
        return NULL;
    }
    if (!n) {
        char *empty = strdup("");
        *rc = empty ? 0 : SMB_ERR_NO_MEMORY;
        return empty;
    }
    for (size_t i = 0; i < n; i += 2)
        if (smb_le16(p + i) == 0) {
            *rc = SMB_ERR_PROTOCOL;
            return NULL;
        }
    char *s = smb_utf16le_to_utf8(p, n);
    *rc = s ? 0 : SMB_ERR_NO_MEMORY; /* even, no NUL: only memory can fail */
    return s;
}

int smb2_symlink_decode(const uint8_t *buf, size_t len, uint32_t *tag, smb2_symlink *out)
{
    memset(out, 0, sizeof *out);
    smb_rd r;
    smb_rd_init(&r, buf, len);
    uint32_t t = smb_rd_u32(&r);
    uint16_t data_len = smb_rd_u16(&r);
    smb_rd_skip(&r, 2); /* Reserved */
    if (!smb_rd_ok(&r))
        return SMB_ERR_PROTOCOL;
    if (tag)
        *tag = t;
    if (t != SMB2_IO_REPARSE_TAG_SYMLINK)
        return SMB_ERR_UNSUPPORTED;
    if (data_len < SYMLINK_FIXED || data_len > len - REPARSE_HDR)
        return SMB_ERR_PROTOCOL;
    uint16_t sub_off = smb_rd_u16(&r), sub_len = smb_rd_u16(&r);
    uint16_t print_off = smb_rd_u16(&r), print_len = smb_rd_u16(&r);
    uint32_t flags = smb_rd_u32(&r);
    /* PathBuffer: what ReparseDataLength leaves after the fixed fields, never what follows it. */
    smb_rd path = smb_rd_sub(&r, REPARSE_HDR + SYMLINK_FIXED, data_len - SYMLINK_FIXED);
    if (!smb_rd_ok(&r) || sub_len == 0)
        return SMB_ERR_PROTOCOL;
    smb_rd path2 = path;
    int rc = 0;
    out->substitute = name_at(&path, sub_off, sub_len, &rc);
    if (rc == 0)
        out->print = name_at(&path2, print_off, print_len, &rc);
    if (rc != 0) {
        smb2_symlink_free(out);
        return rc;
    }
    out->relative = (flags & SMB2_SYMLINK_FLAG_RELATIVE) != 0;
    return 0;
}

bool smb2_symlink_encode(smb_wr *w, const char *substitute, const char *print, bool relative)
{
    size_t sn = 0, pn = 0;
    uint8_t *s = smb_utf8_to_utf16le(substitute, strlen(substitute), &sn);
    uint8_t *p = s ? smb_utf8_to_utf16le(print, strlen(print), &pn) : NULL;
    bool ok = s && p && sn && REPARSE_HDR + SYMLINK_FIXED + sn + pn <= SMB2_REPARSE_MAX;
    if (ok) {
        smb_wr_u32(w, SMB2_IO_REPARSE_TAG_SYMLINK);
        smb_wr_u16(w, (uint16_t)(SYMLINK_FIXED + sn + pn)); /* ReparseDataLength */
        smb_wr_u16(w, 0);                                   /* Reserved */
        smb_wr_u16(w, 0);                                   /* SubstituteNameOffset */
        smb_wr_u16(w, (uint16_t)sn);
        smb_wr_u16(w, (uint16_t)sn); /* PrintNameOffset: after the substitute name */
        smb_wr_u16(w, (uint16_t)pn);
        smb_wr_u32(w, relative ? SMB2_SYMLINK_FLAG_RELATIVE : 0);
        smb_wr_bytes(w, s, sn);
        smb_wr_bytes(w, p, pn);
        ok = smb_wr_ok(w);
    }
    free(s);
    free(p);
    return ok;
}

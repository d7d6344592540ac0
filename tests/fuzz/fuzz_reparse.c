/*
 * Fuzz target: a REPARSE_DATA_BUFFER (MS-FSCC 2.1.2.1), the output of the
 * FSCTL_GET_REPARSE_POINT that smb_readlink sends, through
 * smb2_symlink_decode. A link that decodes must have a non-empty
 * substitute name and a print name, both convertible back to UTF-16LE, and
 * must encode again (smb2_symlink_encode) to a buffer that decodes to the
 * same names and flag. A refusal must leave nothing allocated. Aborts when
 * an invariant does not hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pdu.h"
#include "utf16.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool converts_back(const char *s)
{
    size_t n = 0;
    uint8_t *u = smb_utf8_to_utf16le(s, strlen(s), &n);
    bool ok = u != NULL || !*s;
    free(u);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smb2_symlink s;
    uint32_t tag = 0;
    int rc = smb2_symlink_decode(data, size, &tag, &s);
    if (rc != 0) {
        if ((rc != SMB_ERR_PROTOCOL && rc != SMB_ERR_UNSUPPORTED && rc != SMB_ERR_NO_MEMORY) || s.substitute ||
            s.print || (rc == SMB_ERR_UNSUPPORTED && tag == SMB2_IO_REPARSE_TAG_SYMLINK))
            abort();
        return 0;
    }
    if (tag != SMB2_IO_REPARSE_TAG_SYMLINK || !s.substitute || !*s.substitute || !s.print ||
        !converts_back(s.substitute) || !converts_back(s.print))
        abort();
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    if (smb2_symlink_encode(&w, s.substitute, s.print, s.relative)) {
        smb2_symlink again;
        if (smb2_symlink_decode(w.buf, w.len, NULL, &again) != 0 || strcmp(again.substitute, s.substitute) != 0 ||
            strcmp(again.print, s.print) != 0 || again.relative != s.relative)
            abort();
        smb2_symlink_free(&again);
    } else if (w.len > SMB2_REPARSE_MAX) {
        abort();
    }
    smb_wr_free(&w);
    smb2_symlink_free(&s);
    return 0;
}

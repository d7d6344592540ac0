/*
 * Fuzz target: a FileStreamInformation buffer (MS-FSCC 2.4.44), the output
 * of the QUERY_INFO that smb_get_streams sends, through smb2_streams_decode.
 * A list that decodes must hold what the decoder promises: at most
 * SMB2_STREAMS_MAX streams, each name non-empty, free of ':', '/' and '\\',
 * and convertible back to UTF-16LE, and sizes that are not negative. A
 * refusal must leave no list. Aborts when an invariant does not hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pdu.h"
#include "utf16.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smb_stream_info *s = NULL;
    size_t n = 0;
    int rc = smb2_streams_decode(data, size, &s, &n);
    if (rc != 0) {
        if ((rc != SMB_ERR_PROTOCOL && rc != SMB_ERR_NO_MEMORY) || s || n)
            abort();
        return 0;
    }
    if (n > SMB2_STREAMS_MAX || (n == 0) != (s == NULL))
        abort();
    for (size_t i = 0; i < n; i++) {
        const char *name = s[i].name;
        if (!name || !*name || strpbrk(name, ":/\\") || s[i].size > INT64_MAX || s[i].allocation_size > INT64_MAX)
            abort();
        size_t len = 0;
        uint8_t *back = smb_utf8_to_utf16le(name, strlen(name), &len);
        if (!back)
            abort();
        free(back);
    }
    smb_streams_free(s, n);
    return 0;
}

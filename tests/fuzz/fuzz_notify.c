/*
 * Fuzz target: the FILE_NOTIFY_INFORMATION list of a CHANGE_NOTIFY
 * response (MS-FSCC 2.7.1) through smb2_notify_list_decode. A list that
 * decodes holds count events, each with a NUL-terminated name without a
 * backslash (turned into '/'); a refusal leaves no list. Aborts when an
 * invariant does not hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    smb_notify_event *ev = NULL;
    size_t n = 0;
    int rc = smb2_notify_list_decode(data, size, &ev, &n);
    if (rc != 0) {
        if ((rc != SMB_ERR_PROTOCOL && rc != SMB_ERR_NO_MEMORY) || ev || n)
            abort();
        return 0;
    }
    /* Every entry takes at least 12 bytes of the input. */
    if (n > size / 12 + 1 || (n == 0 && size > 0) || (n > 0 && !ev))
        abort();
    for (size_t i = 0; i < n; i++)
        if (!ev[i].name || strchr(ev[i].name, '\\'))
            abort();
    smb2_notify_list_free(ev, n);
    return 0;
}

/*
 * Fuzz target: the answer to the NetShareEnumAll REQUEST (MS-SRVS 3.1.4.8)
 * that smb_list_shares reads from the \srvsvc pipe: DCE/RPC RESPONSE
 * fragments (C706 12.6.4.10) put together and their NDR stub decoded,
 * through srvsvc_share_enum_all_response (call id 2, as smb_list_shares
 * sends it). The framing check dcerpc_stream_need runs on the same bytes.
 * A list that decodes must hold what the decoder promises: at most
 * SRVSVC_MAX_SHARES shares, each name non-empty valid UTF-8 (WTF-8 for a
 * lone surrogate) and each comment valid too. A refusal must leave no list.
 * Aborts when an invariant does not hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/dcerpc.h"
#include "rpc/srvsvc.h"
#include "utf16.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t max_units)
{
    if (!s)
        abort();
    size_t len = 0;
    uint8_t *back = smb_utf8_to_utf16le(s, strlen(s), &len);
    if (!back || len / 2 >= max_units)
        abort();
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t need = 0;
    (void)dcerpc_stream_need(data, size, &need, NULL);

    smb_share_info *s = NULL;
    size_t n = 0;
    smb_error err = {0};
    int rc = srvsvc_share_enum_all_response(data, size, 2, &s, &n, &err);
    if (rc != 0) {
        if (rc != err.code || s || n)
            abort();
        return 0;
    }
    if (n > SRVSVC_MAX_SHARES || (n == 0) != (s == NULL))
        abort();
    for (size_t i = 0; i < n; i++) {
        if (!s[i].name || !s[i].name[0])
            abort();
        check_text(s[i].name, SRVSVC_MAX_STRING_UNITS);
        check_text(s[i].comment, SRVSVC_MAX_STRING_UNITS);
    }
    smb_shares_free(s, n);
    return 0;
}

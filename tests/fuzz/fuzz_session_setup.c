/*
 * Fuzz target: a SESSION_SETUP response message (MS-SMB2 2.2.6) and its
 * security buffer as the client reads it: a SPNEGO NegTokenResp (RFC 4178
 * 4.2.2) whose responseToken goes to the NTLM CHALLENGE parser (MS-NLMP
 * 2.2.1.2).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_rsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_rsp_session_setup(data, size);
    return 0;
}

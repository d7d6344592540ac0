/*
 * Fuzz target: an NTLM CHALLENGE message (MS-NLMP 2.2.1.2) with its AV pair
 * list (2.2.2.1): parsed, its pairs rewritten for the NTLMv2 blob
 * (3.1.5.2.1), and taken by the NTLM mechanism to produce AUTHENTICATE.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_rsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_ntlm_challenge(data, size);
    return 0;
}

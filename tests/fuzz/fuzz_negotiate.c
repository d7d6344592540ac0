/*
 * Fuzz target: a NEGOTIATE response message (header and body, MS-SMB2 2.2.4)
 * with its SMB 3.1.1 negotiate contexts (2.2.3.1: preauth integrity,
 * encryption, signing; unknown ones skipped), and its security buffer, the
 * server's SPNEGO NegTokenInit2 hint (MS-SPNG 2.2.1).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_rsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_rsp_negotiate(data, size);
    return 0;
}

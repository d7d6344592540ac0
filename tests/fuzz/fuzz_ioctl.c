/*
 * Fuzz target: an IOCTL response message (MS-SMB2 2.2.32) and its output
 * through the FSCTL decoders: NETWORK_INTERFACE_INFO chain (2.2.32.5),
 * FILE_ALLOCATED_RANGE_BUFFER array (MS-FSCC 2.3.52), VALIDATE_NEGOTIATE_INFO
 * response (2.2.32.6).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_rsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_rsp_ioctl(data, size);
    return 0;
}

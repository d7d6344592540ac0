/*
 * Fuzz target: a QUERY_INFO response message (MS-SMB2 2.2.38) and its output
 * buffer through every file information class decoder of the client
 * (MS-FSCC 2.4: FileNetworkOpenInformation, FileInternalInformation,
 * FileStandardInformation, FileBasicInformation).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_rsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_rsp_query_info(data, size);
    return 0;
}

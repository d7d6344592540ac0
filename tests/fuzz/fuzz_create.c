/*
 * Fuzz target: a CREATE response message (MS-SMB2 2.2.14) and the walk of
 * its create context chain (2.2.13.2: Next, NameOffset/NameLength,
 * DataOffset/DataLength of each context).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_rsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_rsp_create(data, size);
    return 0;
}

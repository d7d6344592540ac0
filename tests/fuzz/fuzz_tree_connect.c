/* Fuzz target: a TREE_CONNECT response message (MS-SMB2 2.2.10). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_rsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_rsp_tree_connect(data, size);
    return 0;
}

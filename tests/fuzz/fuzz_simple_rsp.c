/*
 * Fuzz target: the small response bodies, each decoder over the same
 * message: CLOSE (MS-SMB2 2.2.16), READ with its data bounds (2.2.20),
 * WRITE (2.2.22), the 4-byte bodies of LOGOFF, TREE_DISCONNECT, FLUSH and
 * ECHO (2.2.8, 2.2.12, 2.2.18, 2.2.29), SET_INFO (2.2.40) and ERROR (2.2.2).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_rsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_rsp_close(data, size);
    fuzz_rsp_read(data, size);
    fuzz_rsp_write(data, size);
    fuzz_rsp_simple(data, size);
    fuzz_rsp_set_info(data, size);
    fuzz_rsp_error(data, size);
    return 0;
}

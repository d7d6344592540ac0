/*
 * Fuzz target: the output buffer of a QUERY_DIRECTORY response, the entries
 * of FileIdFullDirectoryInformation (MS-FSCC 2.4.23; the only information
 * class the client asks for) walked as dir.c walks them, each name
 * converted from UTF-16LE and back (must round-trip).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_rsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_dirents(data, size);
    return 0;
}

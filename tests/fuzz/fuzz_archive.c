/*
 * Fuzz target: a whole archive as a restore reads it (any format and
 * compression libarchive reads; tar: POSIX.1-2001 ustar/pax and GNU
 * forms), entry names checked by the restore side's rules (archive_in.h),
 * entry data read, and an incremental archive's list of deletions parsed.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_archive_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)fuzz_read_archive(data, size, 256, 1u << 20);
    return 0;
}

/*
 * CRC-32C (Castagnoli, RFC 3720 B.4): the checksum of journal records and
 * of the file ranges the journal says are committed. Uses the SSE 4.2
 * crc32 instruction when the processor has it (several GB/s, so that
 * checksumming every copied byte costs little), a table otherwise.
 */
#ifndef SMBCOPY_ENGINE_CRC32C_H
#define SMBCOPY_ENGINE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/** CRC-32C of buf[0..len), continuing from crc (0 to start). */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/** The table-driven CRC-32C, whatever the processor (for tests of the fast path). */
uint32_t crc32c_portable(uint32_t crc, const void *buf, size_t len);

#endif

/*
 * Reading an in-memory archive through the real reader (arc_in, the source
 * endpoint of a restore), for the archive fuzz targets.
 */
#ifndef SMBCOPY_FUZZ_ARCHIVE_IO_H
#define SMBCOPY_FUZZ_ARCHIVE_IO_H

#include <stddef.h>
#include <stdint.h>

/**
 * Put data[0..size) in an anonymous file, open it with arc_in_open and read
 * every entry (at most max_entries) and up to max_data bytes of data, as a
 * restore does; names accepted for restoring are checked against the rules
 * of archive_in.h (abort when one breaks them). Returns how many entries
 * were read.
 */
size_t fuzz_read_archive(const uint8_t *data, size_t size, size_t max_entries, size_t max_data);

#endif

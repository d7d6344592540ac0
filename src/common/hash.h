/*
 * FNV-1a, 64 bits: the one hash of names (hash tables, derived staging
 * names) and of the job's identity. Not cryptographic.
 */
#ifndef SMBCOPY_COMMON_HASH_H
#define SMBCOPY_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

/** FNV-1a (64 bits) of a string (without its NUL). */
uint64_t name_hash(const char *s);

/** FNV-1a (64 bits) of n bytes, continuing from h (start with name_hash("")). */
uint64_t bytes_hash(uint64_t h, const void *p, size_t n);

#endif

/* FNV-1a (see hash.h). */
#include "common/hash.h"

#include <string.h>

uint64_t bytes_hash(uint64_t h, const void *p, size_t n)
{
    for (const unsigned char *c = p; n--; c++)
        h = (h ^ *c) * 1099511628211ull; /* the 64-bit FNV prime */
    return h;
}

uint64_t name_hash(const char *s) { return bytes_hash(0xcbf29ce484222325ull /* FNV-1a 64 offset basis */, s, strlen(s)); }

/*
 * Telling all-zero buffers: an endpoint skips writing zeros inside the size
 * a file was created with (they read as zeros already), so holes stay holes.
 */
#ifndef SMBCOPY_ENGINE_ZEROS_H
#define SMBCOPY_ENGINE_ZEROS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** True when len bytes at p are all zero (64 bytes a step: most data fails on its first word). */
static inline bool mem_all_zero(const void *p, size_t len)
{
    const unsigned char *b = p;
    size_t i = 0;
    for (; i + 64 <= len; i += 64) {
        uint64_t w[8], acc = 0;
        memcpy(w, b + i, sizeof w);
        for (int k = 0; k < 8; k++)
            acc |= w[k];
        if (acc)
            return false;
    }
    for (; i < len; i++)
        if (b[i])
            return false;
    return true;
}

#endif

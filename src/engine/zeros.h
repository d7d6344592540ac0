/* Telling all-zero buffers: writes of zeros are skipped so that holes stay holes. */
#ifndef SMBCOPY_ENGINE_ZEROS_H
#define SMBCOPY_ENGINE_ZEROS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** True when p[0..n) holds only zero bytes. */
static inline bool mem_all_zero(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w)
            return false;
    }
    for (; i < n; i++)
        if (p[i])
            return false;
    return true;
}

#endif

#include "common/array.h"

#include <stdint.h>
#include <stdlib.h>

bool array_reserve(void **items, size_t *cap, size_t need, size_t elem_size, size_t first_cap)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : (first_cap ? first_cap : 1);
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return false;
        ncap *= 2;
    }
    if (elem_size == 0 || ncap > SIZE_MAX / elem_size)
        return false;
    void *grown = realloc(*items, ncap * elem_size);
    if (!grown)
        return false;
    *items = grown;
    *cap = ncap;
    return true;
}

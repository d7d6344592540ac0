/*
 * Growable arrays: the one grow-by-doubling step every list of the engine
 * and the library uses, with the size arithmetic checked for overflow.
 */
#ifndef SMBCOPY_COMMON_ARRAY_H
#define SMBCOPY_COMMON_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Make room for at least `need` elements of elem_size bytes in the malloc'd
 * array *items (NULL when *cap is 0) whose capacity is *cap elements: when
 * *cap < need, the capacity doubles (starting at first_cap, or need when
 * larger) and the array is reallocated, its contents kept. Returns true with
 * *items and *cap updated, or false with both untouched when memory runs out
 * or the size would overflow (or elem_size is 0). New slots are not
 * initialised.
 */
bool array_reserve(void **items, size_t *cap, size_t need, size_t elem_size, size_t first_cap);

/**
 * array_reserve() for a typed pointer (and a size_t capacity), through a
 * void * temporary rather than a cast of &items:
 * `if (!ARRAY_RESERVE(list->items, list->cap, list->n + 1, 16)) return ...;`
 */
#define ARRAY_RESERVE(items, cap, need, first_cap)                                                                     \
    __extension__({                                                                                                    \
        void *array_items_ = (items);                                                                                  \
        bool array_ok_ = array_reserve(&array_items_, &(cap), (need), sizeof *(items), (first_cap));                   \
        (items) = array_items_;                                                                                        \
        array_ok_;                                                                                                     \
    })

#endif

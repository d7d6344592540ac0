/*
 * A hash table of names (paths), each with a small record of the caller's
 * kind: lookups by a name's first len bytes (a path's prefix needs no copy),
 * constant time on average, and removal. Not thread-safe: the caller locks.
 */
#ifndef SMBCOPY_COMMON_NAME_TABLE_H
#define SMBCOPY_COMMON_NAME_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct name_node name_node;

typedef struct name_table {
    name_node **buckets;
    size_t nbuckets, n;
    size_t rec_size; /* bytes of each name's record */
} name_table;

/** An empty table whose records are rec_size bytes (0: a set of names). */
void name_table_init(name_table *t, size_t rec_size);

/** The record of name[0..len), or NULL when the table lacks it. */
void *name_table_find(const name_table *t, const char *name, size_t len);

/**
 * The record of name[0..len), added (zeroed) when missing; *added (may be
 * NULL) says which. The record stays where it is until removed. NULL when
 * out of memory.
 */
void *name_table_get(name_table *t, const char *name, size_t len, bool *added);

/** Remove the name whose record rec is (from name_table_find or _get). */
void name_table_remove(name_table *t, void *rec);

/**
 * The record after rec (NULL: the first record), or NULL after the last:
 * every record once, in no particular order, while the table is not
 * changed in between (removing rec itself is allowed after this returns).
 */
void *name_table_next(const name_table *t, const void *rec);

/** The name of record rec (NUL-terminated, owned by the table); its length in *len (may be NULL). */
const char *name_table_name(const name_table *t, const void *rec, size_t *len);

/** Free every name and record. */
void name_table_free(name_table *t);

#endif

/*
 * One spelling per name on a destination that folds case, for streams of
 * whole paths (archive entries): the first path met of each folded form
 * (and of each of its directories) fixes its spelling, and a later path
 * spelled otherwise at any level ("a.txt" after "A.txt", "dir/x" after
 * "Dir/y") is told apart, so that it is refused instead of landing on the
 * earlier entry. Keeps every spelling met for the guard's life (about the
 * size of the paths themselves). Not thread-safe.
 */
#ifndef SMBCOPY_ENGINE_CASE_GUARD_H
#define SMBCOPY_ENGINE_CASE_GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/name_table.h"

typedef struct case_guard {
    name_table spell; /* folded path -> its first spelling (a char * record, owned) */
    char **owned;     /* those spellings, freed with the guard */
    size_t n, cap;
} case_guard;

/** An empty guard. */
void case_guard_init(case_guard *g);

/**
 * Check path rel ('/'-separated) and record its spelling and its
 * directories'. NULL when it agrees with everything met before; else the
 * earlier spelling it differs from (valid while the guard lives), with
 * *len the length of rel's part that differs from it (all of rel, or one of
 * its directories). *oom is set (and NULL returned) when out of memory.
 */
const char *case_guard_check(case_guard *g, const char *rel, size_t *len, bool *oom);

/** Free a guard's memory. */
void case_guard_free(case_guard *g);

#endif

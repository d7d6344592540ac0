/* One spelling per folded path (see case_guard.h). */
#include "engine/names/case_guard.h"

#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "engine/names/casefold.h"

void case_guard_init(case_guard *g)
{
    memset(g, 0, sizeof *g);
    name_table_init(&g->spell, sizeof(char *));
}

void case_guard_free(case_guard *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->owned[i]);
    free(g->owned);
    name_table_free(&g->spell);
    memset(g, 0, sizeof *g);
}

/* Record spelling rel[0..len) under folded key (taking the key's table entry made by the lookup). */
static bool keep(case_guard *g, char **rec, const char *rel, size_t len)
{
    if (!ARRAY_RESERVE(g->owned, g->cap, g->n + 1, 64))
        return false;
    char *copy = strndup(rel, len);
    if (!copy)
        return false;
    g->owned[g->n++] = copy;
    *rec = copy;
    return true;
}

const char *case_guard_check(case_guard *g, const char *rel, size_t *len, bool *oom)
{
    char *folded = casefold_name(rel);
    if (!folded) {
        *oom = true;
        return NULL;
    }
    /* Folding keeps '/' where it is but may change other lengths: walk both strings component by component. */
    const char *r = rel, *f = folded;
    const char *clash = NULL;
    while (!clash) {
        const char *rs = strchr(r, '/'), *fs = strchr(f, '/');
        size_t rlen = rs ? (size_t)(rs - rel) : strlen(rel), flen = fs ? (size_t)(fs - folded) : strlen(folded);
        bool added = false;
        char **rec = name_table_get(&g->spell, folded, flen, &added);
        if (!rec || (added && !keep(g, rec, rel, rlen))) {
            if (rec && added)
                name_table_remove(&g->spell, rec);
            *oom = true;
            break;
        }
        if (!added && (strlen(*rec) != rlen || memcmp(*rec, rel, rlen) != 0)) {
            clash = *rec;
            *len = rlen;
        }
        if (!rs || !fs)
            break;
        r = rs + 1;
        f = fs + 1;
    }
    free(folded);
    return clash;
}

/* Temporary and staging names (see temp_names.h). */
#include "engine/temp_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define PREFIX ".smbcopy-"
#define SUFFIX ".tmp"

uint64_t name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 offset basis */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* dir (the part of path before its last '/', or "") + "/" + PREFIX + hex + SUFFIX. */
static char *in_dir_of(const char *path, size_t dlen, uint64_t v)
{
    char *t = malloc(dlen + 40);
    if (t)
        snprintf(t, dlen + 40, "%.*s%s" PREFIX "%016llx" SUFFIX, (int)dlen, path,
                 dlen && path[dlen - 1] != '/' ? "/" : "",
                 (unsigned long long)v);
    return t;
}

char *temp_name_beside(const char *path)
{
    uint64_t v;
    if (smb_random(&v, sizeof v) != 0)
        return NULL;
    const char *slash = strrchr(path, '/');
    return in_dir_of(path, !slash ? 0 : slash == path ? 1 : (size_t)(slash - path), v);
}

char *stage_name_in(const char *parent, const char *name)
{
    return in_dir_of(parent, strlen(parent), name_hash(name));
}

bool is_temp_name(const char *leaf)
{
    size_t n = strlen(leaf), p = strlen(PREFIX), s = strlen(SUFFIX);
    if (n != p + 16 + s || strncmp(leaf, PREFIX, p) != 0 || strcmp(leaf + n - s, SUFFIX) != 0)
        return false;
    for (size_t i = p; i < p + 16; i++)
        if (!((leaf[i] >= '0' && leaf[i] <= '9') || (leaf[i] >= 'a' && leaf[i] <= 'f')))
            return false;
    return true;
}

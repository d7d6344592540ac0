/* Temporary and staging names (see temp_names.h). */
#include "engine/temp_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define PREFIX ".smbcopy-"
#define SUFFIX ".tmp"

uint64_t bytes_hash(uint64_t h, const void *p, size_t n)
{
    for (const unsigned char *c = p; n--; c++)
        h = (h ^ *c) * 1099511628211ull;
    return h;
}

uint64_t name_hash(const char *s) { return bytes_hash(0xcbf29ce484222325ull /* FNV-1a 64 offset basis */, s, strlen(s)); }

/* dir (its first dlen bytes) + "/" + PREFIX + [tag "-"] + hex + SUFFIX. */
static char *in_dir(const char *dir, size_t dlen, bool tagged, uint32_t tag, uint64_t v)
{
    size_t cap = dlen + 48;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    const char *sep = dlen && dir[dlen - 1] != '/' ? "/" : "";
    if (tagged)
        snprintf(t, cap, "%.*s%s" PREFIX "%08lx-%016llx" SUFFIX, (int)dlen, dir, sep, (unsigned long)tag,
                 (unsigned long long)v);
    else
        snprintf(t, cap, "%.*s%s" PREFIX "%016llx" SUFFIX, (int)dlen, dir, sep, (unsigned long long)v);
    return t;
}

/* Length of the directory part of path (before its last '/'; "/" stays). */
static size_t dir_len(const char *path)
{
    const char *slash = strrchr(path, '/');
    return !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
}

char *temp_name_tagged(const char *path, uint32_t tag)
{
    uint64_t v;
    if (smb_random(&v, sizeof v) != 0)
        return NULL;
    return in_dir(path, dir_len(path), true, tag, v);
}

char *temp_name_beside(const char *path) { return temp_name_tagged(path, 0); }

char *temp_name_beside_in(const char *dir, uint32_t tag)
{
    uint64_t v;
    if (smb_random(&v, sizeof v) != 0)
        return NULL;
    return in_dir(dir, strlen(dir), true, tag, v);
}

char *stage_name_for(const char *parent, const char *name, uint32_t tag)
{
    return in_dir(parent, strlen(parent), true, tag, name_hash(name));
}

char *stage_name_in(const char *parent, const char *name) { return stage_name_for(parent, name, 0); }

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool temp_name_tag(const char *leaf, uint32_t *tag)
{
    size_t n = strlen(leaf), p = strlen(PREFIX), s = strlen(SUFFIX);
    if (n != p + 8 + 1 + 16 + s || strncmp(leaf, PREFIX, p) != 0 || strcmp(leaf + n - s, SUFFIX) != 0 ||
        !all_hex(leaf + p, 8) || leaf[p + 8] != '-' || !all_hex(leaf + p + 9, 16))
        return false;
    if (tag)
        *tag = (uint32_t)strtoul(leaf + p, NULL, 16);
    return true;
}

bool is_temp_name(const char *leaf)
{
    size_t n = strlen(leaf), p = strlen(PREFIX), s = strlen(SUFFIX);
    if (temp_name_tag(leaf, NULL))
        return true;
    return n == p + 16 + s && strncmp(leaf, PREFIX, p) == 0 && strcmp(leaf + n - s, SUFFIX) == 0 &&
           all_hex(leaf + p, 16);
}

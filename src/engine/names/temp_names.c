/* Temporary and staging names (see temp_names.h). */
#include "engine/names/temp_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/random.h"

#define PREFIX ".smbcopy-"
#define SUFFIX ".tmp"
/* The second form, for servers that refuse the first (veto files of dot names or of .tmp names). */
#define PLAIN_PREFIX "smbcopy-"
#define PLAIN_SUFFIX ".partial"

/* dir (its first dlen bytes) + "/" + PREFIX + [tag "-"] + hex + SUFFIX (plain: the second form's). */
static char *in_dir_form(const char *dir, size_t dlen, bool tagged, uint32_t tag, uint64_t v, bool plain)
{
    size_t cap = dlen + 48;
    char *t = malloc(cap);
    if (!t)
        return NULL;
    const char *sep = dlen && dir[dlen - 1] != '/' ? "/" : "";
    if (plain)
        snprintf(t, cap, "%.*s%s" PLAIN_PREFIX "%08lx-%016llx" PLAIN_SUFFIX, (int)dlen, dir, sep, (unsigned long)tag,
                 (unsigned long long)v);
    else if (tagged)
        snprintf(t, cap, "%.*s%s" PREFIX "%08lx-%016llx" SUFFIX, (int)dlen, dir, sep, (unsigned long)tag,
                 (unsigned long long)v);
    else
        snprintf(t, cap, "%.*s%s" PREFIX "%016llx" SUFFIX, (int)dlen, dir, sep, (unsigned long long)v);
    return t;
}

static char *in_dir(const char *dir, size_t dlen, bool tagged, uint32_t tag, uint64_t v)
{
    return in_dir_form(dir, dlen, tagged, tag, v, false);
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

char *temp_name_form(const char *path, uint32_t tag, temp_form form)
{
    if (form == TEMP_INPLACE)
        return strdup(path);
    uint64_t v;
    if (smb_random(&v, sizeof v) != 0)
        return NULL;
    return in_dir_form(path, dir_len(path), true, tag, v, form == TEMP_PLAIN);
}

char *stage_name_form(const char *parent, const char *name, uint32_t tag, temp_form form)
{
    if (form == TEMP_INPLACE)
        return NULL;
    return in_dir_form(parent, strlen(parent), true, tag, name_hash(name), form == TEMP_PLAIN);
}

const char *temp_form_example(temp_form form)
{
    return form == TEMP_DOT ? PREFIX "*" SUFFIX : form == TEMP_PLAIN ? PLAIN_PREFIX "*" PLAIN_SUFFIX : "(final names)";
}

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

/* leaf is prefix + 8 hex + "-" + 16 hex + suffix; *tag gets the 8. */
static bool tagged_form(const char *leaf, const char *prefix, const char *suffix, uint32_t *tag)
{
    size_t n = strlen(leaf), p = strlen(prefix), s = strlen(suffix);
    if (n != p + 8 + 1 + 16 + s || strncmp(leaf, prefix, p) != 0 || strcmp(leaf + n - s, suffix) != 0 ||
        !all_hex(leaf + p, 8) || leaf[p + 8] != '-' || !all_hex(leaf + p + 9, 16))
        return false;
    if (tag)
        *tag = (uint32_t)strtoul(leaf + p, NULL, 16);
    return true;
}

bool temp_name_tag(const char *leaf, uint32_t *tag)
{
    return tagged_form(leaf, PREFIX, SUFFIX, tag) || tagged_form(leaf, PLAIN_PREFIX, PLAIN_SUFFIX, tag);
}

bool is_temp_name(const char *leaf)
{
    size_t n = strlen(leaf), p = strlen(PREFIX), s = strlen(SUFFIX);
    if (temp_name_tag(leaf, NULL))
        return true;
    return n == p + 16 + s && strncmp(leaf, PREFIX, p) == 0 && strcmp(leaf + n - s, SUFFIX) == 0 &&
           all_hex(leaf + p, 16);
}

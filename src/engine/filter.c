/* Filter rules (see filter.h). */
#include "engine/filter.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

typedef struct filter_rule {
    bool include;
    char *pattern;
} filter_rule;

struct filter_set {
    filter_rule *rules;
    size_t n;
    bool any_include;
};

filter_set *filter_new(const char *const *rules, size_t n, smb_error *err)
{
    filter_set *f = calloc(1, sizeof *f);
    if (!f || (n && !(f->rules = calloc(n, sizeof *f->rules)))) {
        free(f);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const char *r = rules[i];
        if (!r || (r[0] != '+' && r[0] != '-') || r[1] != ' ' || !r[2]) {
            filter_free(f);
            smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad filter rule '%s' (expected '+ PATTERN' or '- PATTERN')",
                        r ? r : "");
            return NULL;
        }
        f->rules[i].include = r[0] == '+';
        f->any_include |= f->rules[i].include;
        if (!(f->rules[i].pattern = strdup(r + 2))) {
            filter_free(f);
            smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            return NULL;
        }
        f->n = i + 1;
    }
    return f;
}

void filter_free(filter_set *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->rules[i].pattern);
    free(f->rules);
    free(f);
}

bool filter_active(const filter_set *f) { return f && f->n; }

bool filter_excluded(const filter_set *f, const char *rel, bool is_dir)
{
    if (!f)
        return false;
    const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    for (size_t i = 0; i < f->n; i++)
        if (fnmatch(f->rules[i].pattern, name, 0) == 0 || fnmatch(f->rules[i].pattern, rel, FNM_PATHNAME) == 0)
            return !f->rules[i].include;
    return f->any_include && !is_dir;
}

bool filter_path_excluded(const filter_set *f, const char *rel, bool is_dir)
{
    if (!filter_active(f))
        return false;
    char *copy = strdup(rel);
    if (!copy)
        return true;
    bool out = false;
    for (char *slash = strchr(copy, '/'); slash && !out; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        out = filter_excluded(f, copy, true);
        *slash = '/';
    }
    out = out || filter_excluded(f, copy, is_dir);
    free(copy);
    return out;
}

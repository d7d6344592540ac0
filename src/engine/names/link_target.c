/* Lexical resolution of a link's target against the copied tree (link_target.h). */
#include "engine/names/link_target.h"

#include <stdlib.h>
#include <string.h>

/* Drop the last component of p[0..*n) (the stack of resolved components); false at the root. */
static bool up(const char *p, size_t *n)
{
    if (*n == 0)
        return false;
    while (*n > 0 && p[*n - 1] != '/')
        (*n)--;
    if (*n > 0)
        (*n)--; /* the separator */
    return true;
}

char *link_target_resolve(const char *link_rel, const char *target)
{
    if (!link_rel || !target || !target[0] || target[0] == '/')
        return NULL;
    size_t lr = strlen(link_rel), tl = strlen(target);
    char *out = malloc(lr + tl + 2);
    if (!out)
        return NULL;
    /* The link's directory: link_rel less its last component. */
    memcpy(out, link_rel, lr);
    size_t n = lr;
    if (!up(out, &n))
        n = 0;
    for (const char *c = target; *c;) {
        const char *end = strchr(c, '/');
        size_t k = end ? (size_t)(end - c) : strlen(c);
        if (k == 2 && c[0] == '.' && c[1] == '.') {
            if (!up(out, &n)) { /* above the root */
                free(out);
                return NULL;
            }
        } else if (k && !(k == 1 && c[0] == '.')) {
            if (n)
                out[n++] = '/';
            memcpy(out + n, c, k);
            n += k;
        }
        c += k + (end ? 1 : 0);
    }
    out[n] = '\0';
    return out;
}

bool link_target_inside(const char *link_rel, const char *target)
{
    char *r = link_target_resolve(link_rel, target);
    free(r);
    return r != NULL;
}

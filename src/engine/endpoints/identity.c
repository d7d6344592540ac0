/* Location identity and the overlap rules (see identity.h). */
#include "engine/endpoints/identity.h"

#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "engine/names/casefold.h"
#include "common/error.h"

/* ------------------------------------------------------------ SMB */

/* True when host names a and b share an address (or, unresolvable, are spelled alike). */
static bool same_host(const char *a, const char *b)
{
    if (strcasecmp(a, b) == 0)
        return true;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ra = NULL, *rb = NULL;
    bool same = false;
    if (getaddrinfo(a, NULL, &hints, &ra) == 0 && getaddrinfo(b, NULL, &hints, &rb) == 0) {
        for (struct addrinfo *x = ra; x && !same; x = x->ai_next)
            for (struct addrinfo *y = rb; y && !same; y = y->ai_next) {
                char hx[NI_MAXHOST], hy[NI_MAXHOST];
                same = getnameinfo(x->ai_addr, x->ai_addrlen, hx, sizeof hx, NULL, 0, NI_NUMERICHOST) == 0 &&
                       getnameinfo(y->ai_addr, y->ai_addrlen, hy, sizeof hy, NULL, 0, NI_NUMERICHOST) == 0 &&
                       strcmp(hx, hy) == 0;
            }
    }
    if (ra)
        freeaddrinfo(ra);
    if (rb)
        freeaddrinfo(rb);
    return same;
}

/* inner is outer or below it, components compared without case ('/'-separated, no leading '/'). */
static bool smb_path_within(const char *inner, const char *outer)
{
    if (!outer[0])
        return true;
    char *fi = casefold_name(inner), *fo = casefold_name(outer);
    bool within = true; /* out of memory: say "overlaps", which refuses rather than risks */
    if (fi && fo) {
        size_t n = strlen(fo);
        within = strncmp(fi, fo, n) == 0 && (fi[n] == '\0' || fi[n] == '/');
    }
    free(fi);
    free(fo);
    return within;
}

/* ------------------------------------------------------------ local */

/* True when inner (absolute, resolved) is outer or lies below it, as strings. */
static bool str_within(const char *inner, const char *outer)
{
    size_t n = strlen(outer);
    while (n > 0 && outer[n - 1] == '/')
        n--;
    if (n == 0)
        return true;
    return strncmp(inner, outer, n) == 0 && (inner[n] == '\0' || inner[n] == '/');
}

/* Append the components of rest to out (of len bytes, room for cap), resolving "." and ".." by text. */
static void append_rest(char *out, size_t len, size_t cap, const char *rest)
{
    for (const char *c = rest; *c;) {
        while (*c == '/')
            c++;
        size_t n = strcspn(c, "/");
        if (!n)
            break;
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            while (len > 1 && out[len - 1] != '/')
                len--;
            if (len > 1)
                len--; /* the separator too, but never the root's */
        } else if (!(n == 1 && c[0] == '.') && len + 1 + n < cap) {
            if (!(len == 1 && out[0] == '/'))
                out[len++] = '/';
            memcpy(out + len, c, n);
            len += n;
        }
        out[len] = '\0';
        c += n;
    }
}

/*
 * The absolute form of local path p: realpath of its longest existing
 * prefix, then the rest as written ("." and ".." of the rest resolved by
 * text). malloc'd; NULL when out of memory.
 */
static char *local_abs(const char *p)
{
    if (!p || !*p)
        p = ".";
    char *copy = strdup(p);
    if (!copy)
        return NULL;
    size_t n = strlen(copy);
    for (;;) {
        char *r = realpath(n ? copy : ".", NULL);
        if (r) {
            const char *rest = p + n;
            size_t rlen = strlen(r), cap = rlen + strlen(rest) + 2;
            char *out = malloc(cap);
            if (out) {
                memcpy(out, r, rlen + 1);
                append_rest(out, rlen, cap, rest);
            }
            free(r);
            free(copy);
            return out;
        }
        while (n > 0 && copy[n - 1] != '/')
            n--;
        while (n > 1 && copy[n - 1] == '/')
            n--;
        if (n == 0 && p[0] == '/') {
            free(copy);
            return NULL;
        }
        copy[n] = '\0';
    }
}

/*
 * True when local path inner is outer or below it: by text on the resolved
 * paths, and by identity (an ancestor of inner that is outer's directory,
 * reached through another name: a bind mount).
 */
static bool local_within(const char *inner, const char *outer)
{
    char *a = local_abs(inner), *b = local_abs(outer);
    bool within = !a || !b; /* cannot tell: refuse rather than risk */
    struct stat so;
    if (a && b && !(within = str_within(a, b)) && stat(b, &so) == 0) {
        while (!within) {
            struct stat si;
            if (stat(a, &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
                within = true;
            char *end = strrchr(a, '/');
            if (!end || end == a)
                break;
            *end = '\0';
        }
    }
    free(a);
    free(b);
    return within;
}

bool loc_within(const sc_location *inner, const sc_location *outer)
{
    if (inner->is_smb != outer->is_smb)
        return false;
    if (!inner->is_smb)
        return local_within(inner->path, outer->path);
    return inner->port == outer->port && strcasecmp(inner->share, outer->share) == 0 &&
           smb_path_within(inner->path, outer->path) && same_host(inner->host, outer->host);
}

int loc_check_overlap(const sc_location *sources, size_t nsources, const sc_location *dest, bool mirror,
                      smb_error *err)
{
    for (size_t i = 0; i < nsources; i++) {
        char a[256], b[256];
        if (loc_within(dest, &sources[i]))
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "the destination %s is inside the source %s",
                               sc_location_display(dest, b, sizeof b), sc_location_display(&sources[i], a, sizeof a));
        if (mirror && loc_within(&sources[i], dest))
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                               "the source %s is inside the destination %s: --mirror would delete it",
                               sc_location_display(&sources[i], a, sizeof a), sc_location_display(dest, b, sizeof b));
    }
    return 0;
}

/* ------------------------------------------------------------ identity text */

/* The lowest numeric address host resolves to (stable whatever order DNS gives), else NULL. */
static char *lowest_address(const char *host)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, NULL, &hints, &res) != 0)
        return NULL;
    char best[NI_MAXHOST] = "";
    for (struct addrinfo *x = res; x; x = x->ai_next) {
        char h[NI_MAXHOST];
        if (getnameinfo(x->ai_addr, x->ai_addrlen, h, sizeof h, NULL, 0, NI_NUMERICHOST) == 0 &&
            (!best[0] || strcmp(h, best) < 0))
            snprintf(best, sizeof best, "%s", h);
    }
    freeaddrinfo(res);
    return best[0] ? strdup(best) : NULL;
}

char *sc_location_identity(const sc_location *l)
{
    char *out = NULL;
    if (!l->is_smb) {
        char *abs = local_abs(l->path);
        if (!abs)
            return NULL;
        size_t n = strlen(abs);
        while (n > 1 && abs[n - 1] == '/')
            abs[--n] = '\0';
        if (asprintf(&out, "local:%s", abs) < 0)
            out = NULL;
        free(abs);
        return out;
    }
    char *addr = lowest_address(l->host);
    char *host = addr ? addr : casefold_name(l->host);
    char *share = casefold_name(l->share ? l->share : "");
    char *path = casefold_name(l->path ? l->path : "");
    if (host && share && path &&
        asprintf(&out, "smb:%s:%u/%s/%s", host, (unsigned)(l->port ? l->port : 445), share, path) < 0)
        out = NULL;
    free(host);
    free(share);
    free(path);
    return out;
}

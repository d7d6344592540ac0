/* A chained hash table of names with records (see name_table.h). */
#include "common/name_table.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

struct name_node {
    struct name_node *next;
    uint64_t hash;
    size_t len;
    max_align_t rec[]; /* the record, then the name (NUL-terminated) */
};

/* Where a node's name starts: after its record, rounded up to its alignment. */
static size_t rec_span(size_t rec_size)
{
    return (rec_size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
}

static char *node_name(const name_table *t, name_node *n)
{
    return (char *)n->rec + rec_span(t->rec_size);
}

static uint64_t hash_of(const char *name, size_t len)
{
    return bytes_hash(name_hash(""), name, len);
}

void name_table_init(name_table *t, size_t rec_size)
{
    memset(t, 0, sizeof *t);
    t->rec_size = rec_size;
}

static name_node *find(const name_table *t, const char *name, size_t len, uint64_t h)
{
    if (!t->nbuckets)
        return NULL;
    for (name_node *n = t->buckets[h & (t->nbuckets - 1)]; n; n = n->next)
        if (n->hash == h && n->len == len && memcmp(node_name(t, n), name, len) == 0)
            return n;
    return NULL;
}

void *name_table_find(const name_table *t, const char *name, size_t len)
{
    name_node *n = find(t, name, len, hash_of(name, len));
    return n ? n->rec : NULL;
}

/* Twice the buckets (a power of two), the names spread again; false when out of memory. */
static bool grow(name_table *t)
{
    size_t nb = t->nbuckets ? t->nbuckets * 2 : 64;
    name_node **b = calloc(nb, sizeof(name_node *));
    if (!b)
        return false;
    for (size_t i = 0; i < t->nbuckets; i++)
        for (name_node *n = t->buckets[i], *next; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = nb;
    return true;
}

void *name_table_get(name_table *t, const char *name, size_t len, bool *added)
{
    uint64_t h = hash_of(name, len);
    name_node *n = find(t, name, len, h);
    if (added)
        *added = !n;
    if (n)
        return n->rec;
    if (t->n >= t->nbuckets && !grow(t))
        return NULL;
    size_t span = rec_span(t->rec_size);
    if (len > SIZE_MAX - sizeof *n - span - 1 || !(n = calloc(1, sizeof *n + span + len + 1)))
        return NULL;
    n->hash = h;
    n->len = len;
    memcpy(node_name(t, n), name, len);
    name_node **b = &t->buckets[h & (t->nbuckets - 1)];
    n->next = *b;
    *b = n;
    t->n++;
    return n->rec;
}

/* The node whose record rec is. */
static name_node *node_of(const void *rec) { return (name_node *)((char *)rec - offsetof(name_node, rec)); }

void *name_table_next(const name_table *t, const void *rec)
{
    size_t b = 0;
    if (rec) {
        const name_node *n = node_of(rec);
        if (n->next)
            return n->next->rec;
        b = (n->hash & (t->nbuckets - 1)) + 1;
    }
    for (; b < t->nbuckets; b++)
        if (t->buckets[b])
            return t->buckets[b]->rec;
    return NULL;
}

const char *name_table_name(const name_table *t, const void *rec, size_t *len)
{
    name_node *n = node_of(rec);
    if (len)
        *len = n->len;
    return node_name(t, n);
}

void name_table_remove(name_table *t, void *rec)
{
    name_node *n = node_of(rec);
    for (name_node **p = &t->buckets[n->hash & (t->nbuckets - 1)]; *p; p = &(*p)->next)
        if (*p == n) {
            *p = n->next;
            t->n--;
            free(n);
            return;
        }
}

void name_table_free(name_table *t)
{
    for (size_t i = 0; i < t->nbuckets; i++)
        for (name_node *n = t->buckets[i], *next; n; n = next) {
            next = n->next;
            free(n);
        }
    free(t->buckets);
    t->buckets = NULL;
    t->nbuckets = t->n = 0;
}

/*
 * Dividing a walked tree into shards (shard_plan.h: shard_divide).
 *
 * Every file weighs its bytes to copy plus a fixed cost (SHARD_FILE_COST;
 * a file already up to date only SHARD_SKIP_COST). The tree is laid out in
 * name order (case-folded, as ownership compares names) and cut into units
 * no heavier than a grain, an eighth of a shard's share: a subtree that
 * weighs less is one unit, a heavier directory is opened into its entries,
 * a heavier file into byte ranges. Each unit goes to the shard its middle
 * falls in along the whole layout, so each shard gets a run of the layout
 * and weighs at most its share plus half a grain on each side. A directory
 * whose units all went to one shard is that shard's whole again; only the
 * directories that straddle shards stay split, with one cut where each
 * shard's part starts, so the plan lists few paths however many files the
 * tree holds.
 *
 * A file bigger than a shard's share of the bytes (a big file) is not laid
 * out in the runs: its pieces fill the shards up to equal shares once the
 * runs are cut, so it is always split between two shards at least (assign).
 */
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/error.h"
#include "engine/names/casefold.h"
#include "engine/shard/shard_plan.h"

/* Ranges of a split file are whole MiB, and a file is split only above this size. */
#define PIECE_ALIGN ((uint64_t)1 << 20)
#define PIECE_MIN ((uint64_t)8 << 20)
/* A shard's share is cut into this many grains at least. */
#define GRAINS_PER_SHARD 8

typedef struct node {
    char *name, *key;     /* one path component, and its folded form */
    size_t parent;        /* index, SIZE_MAX for the root */
    size_t first, next;   /* first child, next sibling (SIZE_MAX: none), in name order */
    size_t last;          /* last child while building */
    const shard_item *item; /* files: the item */
    bool is_dir;
    uint64_t cost;
    unsigned lo, hi;      /* shards of its units */
    bool has_units;
    unsigned rlo;         /* the first shard of its units laid out in runs (not big files' pieces) */
    bool has_run;
    bool split;
} node;

typedef struct unit {
    size_t node;
    uint64_t off, len; /* a range of a file (len 0: the whole node) */
    uint64_t cost;
    unsigned shard;
} unit;

typedef struct divider {
    const sc_plan *plan;
    node *nodes;
    size_t n, cap;
    unit *units;
    size_t nunits, units_cap;
    uint64_t grain;
    uint64_t byte_share; /* the bytes to copy over the number of shards */
    bool oom;
} divider;

/* Compare two paths component by component: each by its folded form, then exactly. */
static int comp_cmp(const char *fa, const char *a, const char *fb, const char *b)
{
    for (;;) {
        size_t la = strcspn(fa, "/"), lb = strcspn(fb, "/");
        int c = memcmp(fa, fb, la < lb ? la : lb);
        if (c || la != lb)
            return c ? c : la < lb ? -1 : 1;
        size_t ea = strcspn(a, "/"), eb = strcspn(b, "/");
        c = memcmp(a, b, ea < eb ? ea : eb);
        if (c || ea != eb)
            return c ? c : ea < eb ? -1 : 1;
        fa += la, fb += lb, a += ea, b += eb;
        if (!*fa || !*fb)
            return (*fa != 0) - (*fb != 0);
        fa++, fb++, a++, b++;
    }
}

typedef struct sorted_item {
    shard_item *item;
    char *folded;
} sorted_item;

static int sorted_cmp(const void *x, const void *y)
{
    const sorted_item *a = x, *b = y;
    return comp_cmp(a->folded, a->item->path, b->folded, b->item->path);
}

static size_t add_node(divider *d, size_t parent, const char *name, size_t len, const char *key, size_t klen,
                       bool is_dir)
{
    if (!ARRAY_RESERVE(d->nodes, d->cap, d->n + 1, 256)) {
        d->oom = true;
        return SIZE_MAX;
    }
    node *nd = &d->nodes[d->n];
    *nd = (node){.parent = parent, .first = SIZE_MAX, .next = SIZE_MAX, .last = SIZE_MAX, .is_dir = is_dir};
    nd->name = strndup(name, len);
    nd->key = strndup(key, klen);
    if (!nd->name || !nd->key) {
        free(nd->name);
        free(nd->key);
        d->oom = true;
        return SIZE_MAX;
    }
    if (parent != SIZE_MAX) {
        node *p = &d->nodes[parent];
        if (p->last == SIZE_MAX)
            p->first = d->n;
        else
            d->nodes[p->last].next = d->n;
        p->last = d->n;
    }
    return d->n++;
}

/*
 * The tree of the sorted items: a path's directories are the open nodes
 * its prefix shares with the previous path (sorted, so a directory's
 * entries are contiguous).
 */
static bool build_tree(divider *d, const sorted_item *s, size_t n)
{
    size_t *open = NULL, depth = 0, open_cap = 0; /* open[i]: the node at depth i+1 */
    if (add_node(d, SIZE_MAX, "", 0, "", 0, true) == SIZE_MAX)
        return false;
    for (size_t i = 0; i < n && !d->oom; i++) {
        const char *p = s[i].item->path, *f = s[i].folded;
        size_t level = 0, parent = 0;
        for (;;) {
            size_t len = strcspn(p, "/"), flen = strcspn(f, "/");
            bool last = !p[len];
            size_t found = SIZE_MAX;
            if (!last && level < depth) {
                const node *o = &d->nodes[open[level]];
                if (strlen(o->name) == len && memcmp(o->name, p, len) == 0)
                    found = open[level];
            }
            if (found == SIZE_MAX) {
                found = add_node(d, parent, p, len, f, flen, !last);
                if (found == SIZE_MAX)
                    break;
                if (last) {
                    d->nodes[found].item = s[i].item;
                    depth = level; /* the directories below level are closed */
                    break;
                }
                if (!ARRAY_RESERVE(open, open_cap, level + 1, 16)) {
                    d->oom = true;
                    break;
                }
                open[level] = found;
                depth = level + 1;
            }
            parent = found;
            level++;
            p += len + 1;
            f += flen + (f[flen] ? 1 : 0);
        }
    }
    free(open);
    return !d->oom;
}

static uint64_t item_cost(const shard_item *it)
{
    return it->to_copy ? it->size + SHARD_FILE_COST : SHARD_SKIP_COST;
}

/* Costs bottom-up: children come after their parents in the array. */
static uint64_t sum_costs(divider *d)
{
    for (size_t i = d->n; i-- > 0;) {
        node *nd = &d->nodes[i];
        if (!nd->is_dir)
            nd->cost = item_cost(nd->item);
        if (nd->parent != SIZE_MAX)
            d->nodes[nd->parent].cost += nd->cost;
    }
    return d->nodes[0].cost;
}

static void add_unit(divider *d, size_t nd, uint64_t off, uint64_t len, uint64_t cost)
{
    if (!ARRAY_RESERVE(d->units, d->units_cap, d->nunits + 1, 256)) {
        d->oom = true;
        return;
    }
    d->units[d->nunits++] = (unit){.node = nd, .off = off, .len = len, .cost = cost};
}

/* A file that must be split between shards: more bytes than a shard's share. */
static bool is_big(const divider *d, const shard_item *it)
{
    return d->plan->nshards > 1 && it->to_copy && it->size > d->byte_share;
}

/* Lay out node i as units (depth-first, in name order); an explicit stack, however deep the tree. */
static void lay_out(divider *d)
{
    size_t *stack = NULL, sp = 0, cap = 0;
    if (!ARRAY_RESERVE(stack, cap, 1, 64)) {
        d->oom = true;
        return;
    }
    stack[sp++] = 0;
    while (sp && !d->oom) {
        size_t i = stack[--sp];
        const node *nd = &d->nodes[i];
        if (nd->is_dir && (nd->cost > d->grain || i == 0)) {
            /* Opened: its children, pushed last first so the first comes out first. */
            size_t nkids = 0;
            for (size_t c = nd->first; c != SIZE_MAX; c = d->nodes[c].next)
                nkids++;
            if (!ARRAY_RESERVE(stack, cap, sp + nkids, 64)) {
                d->oom = true;
                break;
            }
            size_t at = sp + nkids;
            for (size_t c = nd->first; c != SIZE_MAX; c = d->nodes[c].next)
                stack[--at] = c;
            sp += nkids;
        } else if (!nd->is_dir && nd->item->to_copy && nd->item->size >= PIECE_MIN &&
                   (nd->cost > d->grain || is_big(d, nd->item))) {
            uint64_t size = nd->item->size, step = d->grain < PIECE_MIN ? PIECE_MIN : d->grain;
            if (is_big(d, nd->item) && step > size / 2)
                step = size / 2 + 1; /* two pieces at least, to go to two shards */
            step = (step + PIECE_ALIGN - 1) / PIECE_ALIGN * PIECE_ALIGN;
            for (uint64_t off = 0; off < size && !d->oom; off += step) {
                uint64_t len = size - off < step ? size - off : step;
                add_unit(d, i, off, len, len + (off ? 0 : SHARD_FILE_COST));
            }
        } else {
            add_unit(d, i, 0, 0, nd->cost);
        }
    }
    free(stack);
}

typedef unsigned __int128 u128;

/* A unit that is a piece of a big file (is_big): spread to fill the shards up, not laid out in runs. */
static bool big_piece(const divider *d, const unit *un)
{
    const node *nd = &d->nodes[un->node];
    return un->len && !nd->is_dir && is_big(d, nd->item);
}

/*
 * Units to shards along a layout: each to the shard its middle falls in,
 * the shards' parts of the layout being cap[0..n) (summing to the layout's
 * weight). Only the units that want (big pieces, or the others) take part.
 */
static void fill(divider *d, bool want_big, const uint64_t *cap)
{
    unsigned n = d->plan->nshards, k = 0;
    u128 pos = 0, edge = cap[0]; /* the end of shard k's part */
    for (size_t u = 0; u < d->nunits; u++) {
        unit *un = &d->units[u];
        if (big_piece(d, un) != want_big)
            continue;
        u128 mid2 = 2 * pos + un->cost; /* twice the middle, against twice the edges */
        while (k + 1 < n && 2 * edge <= mid2)
            edge += cap[++k];
        un->shard = k;
        pos += un->cost;
    }
}

/*
 * Each unit to a shard. The units other than big files' pieces are laid out
 * in runs (a directory's entries in name order, so few cuts), each shard an
 * equal part. Then the big files' pieces, in order, fill each shard up to
 * an equal share of the whole: a big file holds more bytes than one
 * shard's part of them, so it goes to two shards at least; should its
 * pieces still fall to one shard, its last piece goes to the next (or its
 * first to the one before). Then every node's range of shards (has_units,
 * lo, hi), and of its run (has_run, rlo).
 */
static void assign(divider *d)
{
    unsigned n = d->plan->nshards;
    uint64_t run_total = 0, big_total = 0;
    for (size_t u = 0; u < d->nunits; u++)
        *(big_piece(d, &d->units[u]) ? &big_total : &run_total) += d->units[u].cost;
    uint64_t *cap = calloc(n, sizeof *cap), *load = calloc(n, sizeof *load);
    if (!cap || !load) {
        free(cap);
        free(load);
        d->oom = true;
        return;
    }
    for (unsigned k = 0; k < n; k++)
        cap[k] = run_total / n + (k < run_total % n);
    fill(d, false, cap);
    if (big_total) {
        for (size_t u = 0; u < d->nunits; u++)
            if (!big_piece(d, &d->units[u]))
                load[d->units[u].shard] += d->units[u].cost;
        /* Each shard's room below an equal share of everything, scaled to sum to big_total. */
        uint64_t share = (run_total + big_total) / n, room = 0;
        for (unsigned k = 0; k < n; k++)
            room += load[k] < share ? share - load[k] : 0;
        uint64_t given = 0;
        for (unsigned k = 0; k < n; k++) {
            uint64_t r = load[k] < share ? share - load[k] : 0;
            cap[k] = room ? (uint64_t)((u128)r * big_total / room) : big_total / n;
            given += cap[k];
        }
        if (given < big_total) /* what the rounding down left */
            cap[n - 1] += big_total - given;
        fill(d, true, cap);
        for (size_t u0 = 0, u1; u0 < d->nunits; u0 = u1) {
            for (u1 = u0 + 1; u1 < d->nunits && d->units[u1].node == d->units[u0].node; u1++)
                ;
            if (n > 1 && u1 - u0 > 1 && big_piece(d, &d->units[u0]) &&
                d->units[u0].shard == d->units[u1 - 1].shard) {
                unsigned k = d->units[u0].shard;
                if (k + 1 < n)
                    d->units[u1 - 1].shard = k + 1;
                else
                    d->units[u0].shard = k - 1;
            }
        }
    }
    free(cap);
    free(load);
    for (size_t u = 0; u < d->nunits; u++) {
        const unit *un = &d->units[u];
        bool run = !big_piece(d, un);
        for (size_t i = un->node; i != SIZE_MAX; i = d->nodes[i].parent) {
            node *nd = &d->nodes[i];
            if (!nd->has_units) {
                nd->lo = nd->hi = un->shard;
                nd->has_units = true;
            } else {
                nd->lo = un->shard < nd->lo ? un->shard : nd->lo;
                nd->hi = un->shard > nd->hi ? un->shard : nd->hi;
            }
            if (run && !nd->has_run) {
                nd->rlo = un->shard; /* runs ascend: the first is the lowest */
                nd->has_run = true;
            }
        }
    }
}

/* The path of node i from the root ("" for the root), malloc'd. */
static char *node_path(const divider *d, size_t i)
{
    size_t len = 0;
    for (size_t j = i; j != 0; j = d->nodes[j].parent)
        len += strlen(d->nodes[j].name) + 1;
    len = len ? len - 1 : 0; /* no separator before the first name */
    char *p = malloc(len + 1);
    if (!p)
        return NULL;
    p[len] = '\0';
    size_t at = len;
    for (size_t j = i; j != 0; j = d->nodes[j].parent) {
        size_t l = strlen(d->nodes[j].name);
        at -= l;
        memcpy(p + at, d->nodes[j].name, l);
        if (at)
            p[--at] = '/';
    }
    return p;
}

static bool add_cut(shard_split *sp, size_t *cap, const char *key, unsigned shard)
{
    if (!ARRAY_RESERVE(sp->cuts, *cap, sp->ncuts + 1, 4))
        return false;
    if (!(sp->cuts[sp->ncuts].key = strdup(key)))
        return false;
    sp->cuts[sp->ncuts++].shard = shard;
    return true;
}

/* The split directory i: one cut where the next child's shard differs (keys distinct, ascending). */
static bool make_split(divider *d, sc_plan *p, size_t *splits_cap, size_t i)
{
    if (!ARRAY_RESERVE(p->splits, *splits_cap, p->nsplits + 1, 16))
        return false;
    shard_split *sp = &p->splits[p->nsplits];
    *sp = (shard_split){0};
    size_t cap = 0;
    const node *nd = &d->nodes[i];
    bool ok = (sp->path = node_path(d, i)) != NULL;
    /* Cuts follow the runs: a split file's owners are its pieces', and a big file is in no run. */
    unsigned first = nd->has_run ? nd->rlo : nd->has_units ? nd->lo : 0;
    ok = ok && add_cut(sp, &cap, "", first);
    for (size_t c = nd->first; ok && c != SIZE_MAX; c = d->nodes[c].next) {
        const node *ch = &d->nodes[c];
        const shard_cut *last = &sp->cuts[sp->ncuts - 1];
        if (ch->has_run && ch->rlo != last->shard && strcmp(ch->key, last->key) > 0)
            ok = add_cut(sp, &cap, ch->key, ch->rlo);
    }
    p->nsplits++; /* counted even when half made: sc_plan_free frees it */
    return ok;
}

/* The split file i: its units' ranges, neighbours of one shard merged. */
static bool make_file(divider *d, sc_plan *p, size_t *files_cap, size_t i, size_t first_unit)
{
    if (!ARRAY_RESERVE(p->files, *files_cap, p->nfiles + 1, 16))
        return false;
    shard_file *f = &p->files[p->nfiles];
    const node *nd = &d->nodes[i];
    *f = (shard_file){.size = nd->item->size, .mtime = nd->item->mtime};
    p->nfiles++;
    if (!(f->path = node_path(d, i)))
        return false;
    size_t cap = 0;
    for (size_t u = first_unit; u < d->nunits && d->units[u].node == i; u++) {
        const unit *un = &d->units[u];
        if (f->npieces && f->pieces[f->npieces - 1].shard == un->shard) {
            f->pieces[f->npieces - 1].length += un->len;
            continue;
        }
        if (!ARRAY_RESERVE(f->pieces, cap, f->npieces + 1, 8))
            return false;
        f->pieces[f->npieces++] = (shard_piece){.offset = un->off, .length = un->len, .shard = un->shard};
    }
    return true;
}

static int split_sort(const void *a, const void *b)
{
    return strcmp(((const shard_split *)a)->path, ((const shard_split *)b)->path);
}

static int file_sort(const void *a, const void *b)
{
    return strcmp(((const shard_file *)a)->path, ((const shard_file *)b)->path);
}

/* Each item's bytes and count to the shard that owns it by the plan as made (what shards will do). */
static void loads(sc_plan *p, const shard_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const shard_item *it = &items[i];
        p->total_files++;
        p->total_bytes += it->to_copy ? it->size : 0;
        const shard_file *f = shard_find_file(p, it->path);
        if (f) {
            for (size_t j = 0; j < f->npieces; j++)
                p->shard_bytes[f->pieces[j].shard] += f->pieces[j].length;
            p->shard_files[f->pieces[0].shard]++;
            continue;
        }
        /* The deepest split directory above it, and the owner of its first name below that. */
        const char *rest = it->path;
        const shard_split *sp = shard_find_split(p, "");
        for (const char *slash = strchr(it->path, '/'); slash; slash = strchr(slash + 1, '/')) {
            char *dir = strndup(it->path, (size_t)(slash - it->path));
            const shard_split *deeper = dir ? shard_find_split(p, dir) : NULL;
            free(dir);
            if (!deeper)
                break;
            sp = deeper;
            rest = slash + 1;
        }
        size_t len = strcspn(rest, "/");
        char *name = strndup(rest, len);
        unsigned k = sp && name ? shard_owner(sp, name) : 0;
        free(name);
        p->shard_files[k]++;
        p->shard_bytes[k] += it->to_copy ? it->size : 0;
    }
}

int shard_divide(sc_plan *p, shard_item *items, size_t n, smb_error *err)
{
    divider d = {.plan = p};
    sorted_item *s = calloc(n ? n : 1, sizeof *s);
    int rc = s ? 0 : SMB_ERR_NO_MEMORY;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        s[i].item = &items[i];
        if (!(s[i].folded = casefold_name(items[i].path)))
            rc = SMB_ERR_NO_MEMORY;
    }
    if (rc == 0) {
        qsort(s, n, sizeof *s, sorted_cmp);
        if (!build_tree(&d, s, n))
            rc = SMB_ERR_NO_MEMORY;
    }
    if (rc == 0) {
        uint64_t total = sum_costs(&d);
        d.grain = total / ((uint64_t)p->nshards * GRAINS_PER_SHARD);
        uint64_t bytes = 0;
        for (size_t i = 0; i < n; i++)
            bytes += items[i].to_copy ? items[i].size : 0;
        d.byte_share = bytes / p->nshards;
        if (!d.grain)
            d.grain = 1;
        lay_out(&d);
        if (!d.oom)
            assign(&d);
        size_t splits_cap = 0, files_cap = 0;
        for (size_t i = 0; !d.oom && i < d.n; i++) {
            const node *nd = &d.nodes[i];
            if (nd->is_dir && (i == 0 || (nd->has_units && nd->lo != nd->hi)))
                d.oom = !make_split(&d, p, &splits_cap, i);
        }
        for (size_t u = 0; !d.oom && u < d.nunits; u++) {
            const node *nd = &d.nodes[d.units[u].node];
            bool first_piece = d.units[u].len && d.units[u].off == 0;
            if (first_piece && !nd->is_dir && nd->lo != nd->hi)
                d.oom = !make_file(&d, p, &files_cap, d.units[u].node, u);
        }
        if (d.oom)
            rc = SMB_ERR_NO_MEMORY;
    }
    if (rc == 0) {
        if (p->nsplits) /* qsort's base must not be NULL, even for 0 items */
            qsort(p->splits, p->nsplits, sizeof *p->splits, split_sort);
        if (p->nfiles)
            qsort(p->files, p->nfiles, sizeof *p->files, file_sort);
        loads(p, items, n);
    }
    for (size_t i = 0; i < d.n; i++) {
        free(d.nodes[i].name);
        free(d.nodes[i].key);
    }
    free(d.nodes);
    free(d.units);
    for (size_t i = 0; s && i < n; i++)
        free(s[i].folded);
    free(s);
    if (rc)
        smb_err_set(err, rc, 0, "out of memory dividing the job into shards");
    return rc;
}

/*
 * Directory tasks. One task per destination directory: list the
 * destination once, list the directory in every source that has it (several
 * sources merge into one destination), then decide per destination name:
 *   - one source entry: copy, update, skip (plan.c decides per file);
 *   - the same directory in several sources: one merged directory;
 *   - anything else that maps to one destination name (a file in two
 *     sources, a file and a directory, names that differ only in case on a
 *     destination that folds case, a name a server lists twice) is a
 *     collision: every entry involved fails, naming the other, and the
 *     destination keeps what it had;
 *   - with --mirror, destination entries that no source has (compared as
 *     the destination compares names) and that no filter excludes are
 *     deleted, but only once everything below the directory is done
 *     without a failure and every listing of it succeeded.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/array.h"
#include "common/error.h"
#include "common/name_table.h"
#include "engine/names/casefold.h"
#include "engine/file_meta.h"
#include "engine/job_internal.h"
#include "engine/plan.h"
#include "engine/names/link_target.h"
#include "engine/names/temp_names.h"
#include "engine/shard/shard_plan.h"

/* ------------------------------------------------------------ destination listing */

/* A name of one destination directory. */
typedef struct dst_entry {
    char *name;
    ep_stat st;
    bool seen;               /* a source has it too (or it is protected) */
    struct dst_entry *more;  /* another name of the same key (a folding destination listing two: only by mistake) */
} dst_entry;

/* Names of one destination directory by key: as the destination compares names. */
typedef struct dst_map {
    name_table keys; /* key -> dst_entry, its first name */
    bool oom;
    bool fold;
} dst_map;

/* The key of a name: folded on a destination that folds case. malloc'd. */
static char *name_key(bool fold, const char *name) { return fold ? casefold_name(name) : strdup(name); }

static dst_entry *map_find(dst_map *m, const char *key) { return name_table_find(&m->keys, key, strlen(key)); }

/* Mark every destination entry of key seen. */
static void map_mark_seen(dst_map *m, const char *key)
{
    for (dst_entry *e = map_find(m, key); e; e = e->more)
        e->seen = true;
}

static int map_add_cb(void *arg, const char *name, const ep_stat *st)
{
    dst_map *m = arg;
    if (!name)
        return 0;
    char *copy = strdup(name), *key = copy ? name_key(m->fold, name) : NULL;
    bool added = false;
    dst_entry *e = key ? name_table_get(&m->keys, key, strlen(key), &added) : NULL;
    free(key);
    if (e && !added) { /* a second name of this key: behind the first, which lookups find */
        dst_entry *more = calloc(1, sizeof *more);
        if (more) {
            more->more = e->more;
            e->more = more;
        }
        e = more;
    }
    if (!e) {
        free(copy);
        m->oom = true;
        return 1;
    }
    e->name = copy;
    e->st = *st;
    return 0;
}

/*
 * Every entry in turn, in no particular order: the one after e (NULL: the
 * first), or NULL after the last; *first is the iteration's place among the
 * keys (NULL to start).
 */
static dst_entry *map_next(dst_map *m, dst_entry **first, dst_entry *e)
{
    if (e && e->more)
        return e->more;
    *first = name_table_next(&m->keys, *first);
    return *first;
}

static void map_free(dst_map *m)
{
    for (dst_entry *e = name_table_next(&m->keys, NULL); e; e = name_table_next(&m->keys, e)) {
        free(e->name);
        for (dst_entry *x = e->more, *next; x; x = next) {
            next = x->more;
            free(x->name);
            free(x);
        }
    }
    name_table_free(&m->keys);
}

/* ------------------------------------------------------------ directory nodes */

dir_node *job_dir_node_new(dir_node *parent, job_pair *const *srcs, size_t nsrcs, const char *rel, const ep_stat *st)
{
    dir_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->rel = strdup(rel);
    n->srcs = nsrcs ? calloc(nsrcs, sizeof(job_pair *)) : NULL;
    if (!n->rel || (nsrcs && !n->srcs)) {
        free(n->rel);
        free(n->srcs);
        free(n);
        return NULL;
    }
    if (nsrcs)
        memcpy(n->srcs, srcs, nsrcs * sizeof(job_pair *));
    n->nsrcs = nsrcs;
    n->parent = parent;
    n->pair = nsrcs ? srcs[0] : parent ? parent->pair : NULL;
    if (st)
        n->st = *st;
    n->set_meta = st != NULL;
    atomic_init(&n->pending, 1);
    atomic_init(&n->listing_failed, false);
    if (parent)
        atomic_fetch_add(&parent->pending, 1);
    return n;
}

const char *job_dir_dst(const dir_node *node) { return node->dst ? node->dst : node->rel; }

void job_dir_taint(dir_node *node)
{
    if (node && node->stage_root)
        atomic_store(&node->stage_root->tainted, true);
}

/* A stage root whose last child is done moves into place under its final name. */
static void unstage(sc_job *job, dir_node *node)
{
    if (job_stopping(job))
        return; /* left for a rerun, which finds it and carries on */
    const char *shown = node->rel[0] ? node->rel : ".";
    if (atomic_load(&node->tainted)) {
        job_fail(job, shown, true, "not moved into place: a failed file inside could not be removed; the copy stays in %s",
                 node->dst);
        return;
    }
    smb_error err = {0};
    ep *dst = node->pair->dst;
    if (dst->ops->rename(dst, node->dst, node->rel, NULL, &err) != 0) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(job, &err);
        job_fail(job, shown, true, "move the finished directory into place (from %s): %s", node->dst, err.message);
    }
}

static void run_deletions(sc_job *job, dir_node *node);

static void free_node(dir_node *node)
{
    for (size_t i = 0; i < node->ndeletions; i++)
        free(node->deletions[i].name);
    free(node->deletions);
    free(node->srcs);
    free(node->rel);
    free(node->dst);
    free(node);
}

void job_dir_release(sc_job *job, dir_node *node)
{
    while (node && atomic_fetch_sub(&node->pending, 1) == 1) {
        /* Every child is done: extraneous entries may go, then the directory's times stay put. */
        if (node->ndeletions)
            run_deletions(job, node);
        if (node->set_meta && !job->opts.dry_run && !job_stopping(job)) {
            smb_error err = {0};
            ep *dst = node->pair->dst;
            const char *shown = node->rel[0] ? node->rel : ".";
            /*
             * Its streams and descriptor before its times (writing a stream
             * changes them): all of them onto a directory this job made, the
             * descriptor again onto one that was there when it differs.
             */
            bool updated;
            int rc = node->fresh || node->stage_root
                         ? file_meta_copy_dir(job, node->pair, node->rel, job_dir_dst(node), shown, &err)
                         : file_meta_refresh(job, node->pair, node->rel, job_dir_dst(node), true, &updated, &err);
            if (rc != 0)
                job_fail(job, shown, true, "directory streams and security: %s", err.message);
            memset(&err, 0, sizeof err);
            if (dst->ops->set_meta(dst, job_dir_dst(node), &node->st, &err) != 0)
                job_fail(job, node->rel[0] ? node->rel : ".", true, "set directory times: %s", err.message);
        }
        if (node->stage_root == node)
            unstage(job, node);
        dir_node *parent = node->parent;
        free_node(node);
        node = parent;
    }
}

/* ------------------------------------------------------------ deleting */

typedef struct del_ctx {
    sc_job *job;
    ep *e;
    const char *rel;  /* where the directory is at the destination */
    const char *path; /* its path below the transfer root (for the filters) */
    int failures;
    int kept;         /* excluded entries left in it */
} del_ctx;

static int delete_tree(sc_job *job, ep *e, const char *rel, const char *path, const ep_stat *st, bool *kept);

static int del_child_cb(void *arg, const char *name, const ep_stat *st)
{
    del_ctx *d = arg;
    if (!name || plan_unsafe_name(name, strlen(name))) {
        d->failures++;
        return 0;
    }
    char *child = job_join(d->rel, name), *path = child ? job_join(d->path, name) : NULL;
    if (!path) {
        free(child);
        d->failures++;
        return 1;
    }
    bool kept = false;
    d->failures += delete_tree(d->job, d->e, child, path, st, &kept) != 0;
    d->kept += kept;
    free(child);
    free(path);
    return 0;
}

/* Unlink a file; a read-only one (SMB refuses to delete it) loses its attribute first. */
static int unlink_file(ep *e, const char *rel, const ep_stat *st, bool *cleared, smb_error *err)
{
    int rc = e->ops->unlink(e, rel, err);
    if (rc == 0 || !(st->attributes & SMB_ATTR_READONLY) || job_error_is_fatal(rc))
        return rc;
    ep_stat writable = *st;
    writable.attributes &= ~(uint32_t)SMB_ATTR_READONLY;
    if (!(writable.attributes & (SMB_ATTR_HIDDEN | SMB_ATTR_SYSTEM | SMB_ATTR_ARCHIVE)))
        writable.attributes |= SMB_ATTR_ARCHIVE; /* no attribute at all means "leave them" (MS-FSCC 2.4.7) */
    smb_error e2 = {0};
    if (e->ops->set_meta(e, rel, &writable, &e2) != 0 || e->ops->unlink(e, rel, &e2) != 0) {
        *err = e2;
        return e2.code ? e2.code : SMB_ERR_INTERNAL;
    }
    *cleared = true;
    return 0;
}

/*
 * Delete rel at the destination (path below the transfer root: the same
 * place, named for the filters), a directory with all it holds, deepest
 * first. Entries the filters exclude are left (unless --delete-excluded),
 * and so is every directory holding one (*kept). A dry run lists every
 * entry it would delete, nested ones too.
 */
static int delete_tree(sc_job *job, ep *e, const char *rel, const char *path, const ep_stat *st, bool *kept)
{
    bool is_dir = st->type == EP_DIR;
    smb_error err = {0};
    int rc = 0;
    bool cleared = false;
    if (st->dfs_link) { /* a namespace's link, not data: what it leads to is another share's */
        *kept = true;
        job_event(job, SC_EV_ENTRY_IGNORED, rel, 0, true, "DFS link kept: --mirror never deletes a DFS link");
        return 0;
    }
    if (!job->opts.delete_excluded && filter_excluded(job->filter, path, is_dir)) {
        *kept = true;
        return 0;
    }
    if (is_dir) {
        del_ctx d = {job, e, rel, path, 0, 0};
        rc = e->ops->list(e, rel, del_child_cb, &d, &err);
        if (rc == 0 && d.failures)
            return -1;
        if (rc == 0 && d.kept) { /* what the filters protect keeps its directories */
            *kept = true;
            return 0;
        }
        if (rc == 0 && !job->opts.dry_run)
            rc = e->ops->rmdir(e, rel, &err);
    } else if (!job->opts.dry_run) {
        rc = unlink_file(e, rel, st, &cleared, &err);
    }
    if (rc != 0) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(job, &err);
        job_fail(job, rel, is_dir, "delete: %s", err.message);
        return rc;
    }
    job_count(job, is_dir ? &job->sum.dirs_deleted : &job->sum.files_deleted, 1);
    if (job->opts.dry_run)
        job_event(job, SC_EV_DRY_RUN, rel, 0, is_dir, "delete");
    else
        job_event(job, SC_EV_DELETED, rel, 0, is_dir, cleared ? "read-only: its attribute was cleared to delete it" : NULL);
    return 0;
}

/* Whether the destination directory rel (path below the root) holds, at any depth, what the filters exclude. */
typedef struct excl_ctx {
    sc_job *job;
    ep *e;
    const char *rel, *path;
    bool found; /* or the listing failed: cannot tell, so assume so */
} excl_ctx;

static bool holds_excluded(sc_job *job, ep *e, const char *rel, const char *path);

static int excl_child_cb(void *arg, const char *name, const ep_stat *st)
{
    excl_ctx *x = arg;
    char *child = name ? job_join(x->rel, name) : NULL, *cpath = child ? job_join(x->path, name) : NULL;
    if (!cpath || filter_excluded(x->job->filter, cpath, st->type == EP_DIR))
        x->found = true; /* out of memory: cannot tell, so assume so */
    else if (st->type == EP_DIR)
        x->found = holds_excluded(x->job, x->e, child, cpath);
    free(child);
    free(cpath);
    return x->found;
}

static bool holds_excluded(sc_job *job, ep *e, const char *rel, const char *path)
{
    if (job->opts.delete_excluded || !filter_active(job->filter))
        return false;
    excl_ctx x = {job, e, rel, path, false};
    smb_error err = {0};
    if (e->ops->list(e, rel, excl_child_cb, &x, &err) != 0)
        return true;
    return x.found;
}

/* --mirror: the directory is complete; delete its extraneous entries unless something in it failed. */
static void run_deletions(sc_job *job, dir_node *node)
{
    const char *shown = node->rel[0] ? node->rel : ".";
    if (job_stopping(job))
        return;
    if (atomic_load(&node->listing_failed) || job_subtree_failed(job, node->rel)) {
        char msg[200];
        snprintf(msg, sizeof msg, "--mirror deleted nothing here (%zu extraneous entr%s kept): %s", node->ndeletions,
                 node->ndeletions == 1 ? "y" : "ies",
                 atomic_load(&node->listing_failed) ? "a listing of this directory failed"
                                                    : "something in this directory failed");
        job_event(job, SC_EV_ENTRY_IGNORED, shown, 0, true, msg);
        return;
    }
    for (size_t i = 0; i < node->ndeletions && !job_stopping(job); i++) {
        char *at = job_join(job_dir_dst(node), node->deletions[i].name);
        char *rel = job_join(node->rel, node->deletions[i].name);
        bool kept = false;
        if (at && rel)
            delete_tree(job, node->pair->dst, at, rel, &node->deletions[i].st, &kept);
        else
            job_fail(job, shown, true, "out of memory");
        free(at);
        free(rel);
    }
}

/* ------------------------------------------------------------ source listings */

/* One entry of a source directory. */
typedef struct src_entry {
    char *name;
    char *key;      /* as the destination compares names */
    ep_stat st;
    size_t src;     /* index of its source in the node's srcs (nsrcs + i: the root's named file i) */
    job_pair *pair;
} src_entry;

typedef struct walk_ctx {
    sc_job *job;
    task *dir_task;
    dst_map dst;
    src_entry *ents;
    size_t n, cap;
    size_t cur_src;      /* the source being listed */
    job_pair *cur_pair;
    uint64_t max_entries;
    bool too_many, oom;
    const shard_split *split; /* a sharded job: the directory straddles shards (its entries are decided by owner) */
} walk_ctx;

static const char *dir_shown(const task *t) { return t->rel[0] ? t->rel : "."; }

static bool add_entry(walk_ctx *w, const char *name, const ep_stat *st, size_t src, job_pair *pair)
{
    if (!ARRAY_RESERVE(w->ents, w->cap, w->n + 1, 64))
        return false;
    src_entry *e = &w->ents[w->n];
    e->name = strdup(name);
    e->key = e->name ? name_key(w->dst.fold, name) : NULL;
    if (!e->key) {
        free(e->name);
        return false;
    }
    e->st = *st;
    e->src = src;
    e->pair = pair;
    w->n++;
    return true;
}

/* Protect the destination entry of name from --mirror (the source has it, but it is not copied). */
static void protect(walk_ctx *w, const char *name)
{
    char *key = name_key(w->dst.fold, name);
    if (key)
        map_mark_seen(&w->dst, key);
    else
        w->oom = true;
    free(key);
}

/* --links follow: a link whose target cannot be reached fails, naming the target when the source tells it. */
static void link_dangling(walk_ctx *w, const char *rel)
{
    ep *src = w->cur_pair->src;
    char *target = NULL;
    bool absolute = false;
    smb_error err = {0};
    job_count(w->job, &w->job->sum.files_total, 1);
    if (src->ops->readlink && src->ops->readlink(src, rel, &target, &absolute, &err) == 0)
        job_fail(w->job, rel, false, "symbolic link to '%.300s' not followed: its target does not exist or "
                                     "cannot be reached (a dangling link, or a loop of links)", target);
    else
        job_fail(w->job, rel, false, "symbolic link or reparse point not followed: its target does not exist or "
                                     "cannot be reached (a dangling link, or one the server does not follow)");
    free(target);
}

static int list_entry_cb(void *arg, const char *name, const ep_stat *st)
{
    walk_ctx *w = arg;
    sc_job *job = w->job;
    const char *dir_rel = w->dir_task->rel;
    if (job_stopping(job))
        return 1;
    if (!name) {
        job_count(job, &job->sum.ignored, 1);
        job_fail(job, dir_shown(w->dir_task), true, "an entry with an undecodable name was not copied");
        atomic_store(&w->dir_task->dir->listing_failed, true); /* its name may be one the destination has */
        return 0;
    }
    const char *why = plan_unsafe_source_name(name, strlen(name), w->cur_pair->src->caps);
    if (why) {
        char shown[300];
        snprintf(shown, sizeof shown, "%s%s%.250s", dir_rel, dir_rel[0] ? "/" : "", name);
        job_count(job, &job->sum.ignored, 1);
        job_fail(job, shown, st->type == EP_DIR, "refused entry from the source: %s", why);
        return 0;
    }
    if (w->n >= w->max_entries) {
        w->too_many = true;
        return 1;
    }
    char *rel = job_join(dir_rel, name);
    if (!rel) {
        w->oom = true;
        return 1;
    }
    if (filter_excluded(job->filter, rel, st->type == EP_DIR)) {
        if (!job->opts.delete_excluded) /* --delete-excluded: the source's excluded entry does not count */
            protect(w, name);
    } else if (st->type == EP_SYMLINK && job->opts.links == SC_LINKS_FOLLOW) {
        /* The endpoint follows links: one still here leads nowhere it can reach. */
        protect(w, name);
        link_dangling(w, rel);
    } else if (st->type == EP_SYMLINK && job->opts.links == SC_LINKS_COPY) {
        if (!add_entry(w, name, st, w->cur_src, w->cur_pair)) /* decided with the rest: made in decide */
            w->oom = true;
    } else if (st->type == EP_SYMLINK || st->type == EP_OTHER) {
        protect(w, name);
        job_count(job, &job->sum.ignored, 1);
        job_event(job, SC_EV_ENTRY_IGNORED, rel, 0, false,
                  st->type == EP_SYMLINK ? "symbolic link or reparse point not followed" : "not a regular file");
    } else if (!add_entry(w, name, st, w->cur_src, w->cur_pair)) {
        w->oom = true;
    }
    free(rel);
    return w->oom;
}

static int entry_cmp(const void *a, const void *b)
{
    const src_entry *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->src < y->src ? -1 : x->src > y->src;
}

/* ------------------------------------------------------------ queueing */

/*
 * Create destination directory rel at path at (or report it in a dry run).
 * refused (may be NULL): set instead of failing when the destination may
 * refuse the name itself (NOT_FOUND or BAD_NAME: a staging name it vetoes).
 */
static int make_dir_or_refused(sc_job *job, job_pair *pair, const char *rel, const char *at, bool *refused)
{
    if (job->opts.dry_run) {
        job_count(job, &job->sum.dirs_created, 1);
        job_event(job, SC_EV_DRY_RUN, rel, 0, true, "mkdir");
        return 0;
    }
    smb_error err = {0};
    if (pair->dst->ops->mkdir(pair->dst, at, &err) != 0 && err.code != SMB_ERR_EXISTS) {
        if (refused && (err.code == SMB_ERR_NOT_FOUND || err.code == SMB_ERR_BAD_NAME)) {
            *refused = true;
            return -1;
        }
        if (job_error_is_fatal(err.code))
            job_set_fatal(job, &err);
        job_fail(job, rel, true, "create directory: %s", err.message);
        return -1;
    }
    job_count(job, &job->sum.dirs_created, 1);
    job_event(job, SC_EV_DIR_CREATED, rel, 0, true, NULL);
    return 0;
}

static int make_dir(sc_job *job, job_pair *pair, const char *rel, const char *at)
{
    return make_dir_or_refused(job, pair, rel, at, NULL);
}

/*
 * Queue directory rel, which sources srcs[0..n) have. at: where it is at
 * the destination when that is not rel (taken over); staged: at is a new
 * stage root; fresh: just created.
 */
static void queue_dir(walk_ctx *w, job_pair *const *srcs, size_t n, const char *rel, const ep_stat *st, char *at,
                      bool staged, bool fresh)
{
    sc_job *job = w->job;
    dir_node *parent = w->dir_task->dir;
    task *t = calloc(1, sizeof *t);
    dir_node *node = t ? job_dir_node_new(parent, srcs, n, rel, st) : NULL;
    if (node) {
        node->dst = at;
        at = NULL;
        node->stage_root = staged ? node : parent->stage_root;
        node->fresh = fresh;
    }
    free(at);
    if (!node || !(t->rel = strdup(rel))) {
        free(t);
        if (node) {
            node->stage_root = NULL; /* nothing to move into place */
            job_dir_release(job, node);
        }
        job_fail(job, rel, true, "out of memory");
        return;
    }
    t->kind = TASK_DIR;
    t->pair = srcs[0];
    t->dir = node;
    t->st = *st;
    job_push(job, t, false);
}

static void queue_file(walk_ctx *w, job_pair *pair, const char *rel, const ep_stat *st, const dst_entry *de,
                       const shard_file *split)
{
    sc_job *job = w->job;
    task *t = calloc(1, sizeof *t);
    if (!t || !(t->rel = strdup(rel))) {
        free(t);
        job_fail(job, rel, false, "out of memory");
        return;
    }
    t->kind = TASK_FILE;
    t->pair = pair;
    t->split = split;
    t->dir = w->dir_task->dir;
    if (t->dir->stage_root && !(t->stage_rel = job_join(t->dir->dst, strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel))) {
        task_free(t);
        job_fail(job, rel, false, "out of memory");
        return;
    }
    atomic_fetch_add(&t->dir->pending, 1);
    t->st = *st;
    if (de && de->st.type == EP_FILE) {
        t->dst_exists = true;
        t->dst_st = de->st;
    }
    if (!job_push(job, t, true)) {
        /* Queue full: copy it here, which also slows the walk down. */
        job_copy_file(job, t);
        task_free(t);
    }
}

/*
 * A directory the destination does not have: inside a staged tree it is
 * created under its own name (at); otherwise it becomes a stage root, or
 * continues one that an interrupted run of this job left (found in the
 * listing).
 */
static void new_dir(walk_ctx *w, job_pair *const *srcs, size_t n, const char *rel, const char *name,
                    const ep_stat *st, char *at)
{
    sc_job *job = w->job;
    dir_node *parent = w->dir_task->dir;
    if (job->opts.dry_run || parent->stage_root) {
        if (make_dir(job, srcs[0], rel, at ? at : rel) == 0)
            queue_dir(w, srcs, n, rel, st, at, false, true);
        else
            free(at);
        return;
    }
    /* An interrupted run's staging directory, of either form (derived names: a rerun finds it). */
    for (int f = TEMP_DOT; f < TEMP_INPLACE; f++) {
        char *stage = stage_name_form(job_dir_dst(parent), name, job->tag, (temp_form)f);
        if (!stage) {
            free(at);
            job_fail(job, rel, true, "out of memory");
            return;
        }
        const char *leaf = strrchr(stage, '/') ? strrchr(stage, '/') + 1 : stage;
        char *key = name_key(w->dst.fold, leaf);
        dst_entry *left = key ? map_find(&w->dst, key) : NULL;
        free(key);
        if (left && left->st.type == EP_DIR) {
            free(at);
            left->seen = true; /* carry on with it */
            job_event(job, SC_EV_DIR_CREATED, rel, 0, true, "continuing an interrupted copy");
            queue_dir(w, srcs, n, rel, st, stage, true, false);
            return;
        }
        free(stage);
    }
    for (;;) {
        int form = atomic_load(&job->temp_form);
        if (form == TEMP_INPLACE) { /* the destination refuses staging names: made under its own name */
            if (make_dir(job, srcs[0], rel, at ? at : rel) == 0)
                queue_dir(w, srcs, n, rel, st, at, false, true);
            else
                free(at);
            return;
        }
        char *stage = stage_name_form(job_dir_dst(parent), name, job->tag, (temp_form)form);
        if (!stage) {
            free(at);
            job_fail(job, rel, true, "out of memory");
            return;
        }
        bool refused = false;
        if (make_dir_or_refused(job, srcs[0], rel, stage, &refused) == 0) {
            free(at);
            queue_dir(w, srcs, n, rel, st, stage, true, true);
            return;
        }
        free(stage);
        if (!refused) {
            free(at);
            return;
        }
        if (!job_temp_refused(job, srcs[0]->dst, job_dir_dst(parent), form, true)) {
            if (job->opts.temp_names == SC_TEMP_AUTO) /* not the name: its parent went */
                job_fail(job, rel, true, "create directory: its parent directory is gone");
            else
                job_fail(job, rel, true, "create directory: the destination refuses the staging name %s (veto files? "
                                         "see --temp-name)", temp_form_example((temp_form)form));
            free(at);
            return;
        }
    }
}

/* Count a source file as seen (total and bytes). */
static void count_file(sc_job *job, const ep_stat *st)
{
    pthread_mutex_lock(&job->lock);
    job->sum.files_total++;
    job->sum.bytes_total += st->size;
    pthread_mutex_unlock(&job->lock);
}

/* The display of entry e's source, for messages. */
static const char *src_display(const src_entry *e) { return e->pair->src->display ? e->pair->src->display : "?"; }

/*
 * A collision: entries g[0..n) map to one destination name. Each fails,
 * naming another; the destination keeps what it has.
 */
static void collide(walk_ctx *w, src_entry *g, size_t n)
{
    sc_job *job = w->job;
    for (size_t i = 0; i < n; i++) {
        const src_entry *e = &g[i], *o = &g[i == 0 ? 1 : 0];
        char *rel = job_join(w->dir_task->rel, e->name);
        if (!rel) {
            job_fail(job, dir_shown(w->dir_task), true, "out of memory");
            continue;
        }
        bool is_dir = e->st.type == EP_DIR;
        if (!is_dir)
            count_file(job, &e->st);
        if (strcmp(e->name, o->name) != 0)
            job_fail(job, rel, is_dir, "differs only in case from '%s'%s%s; the destination cannot hold both", o->name,
                     e->pair != o->pair ? " in " : "", e->pair != o->pair ? src_display(o) : "");
        else if (e->pair == o->pair && e->src == o->src)
            job_fail(job, rel, is_dir, "the source directory lists '%s' twice; neither is copied", e->name);
        else
            job_fail(job, rel, is_dir, "'%s' is in several sources (%s and %s); the destination can hold only one",
                     e->name, src_display(e), src_display(o));
        free(rel);
    }
}

/* True when g[0..n) is one directory that several sources have (merged), not a collision. */
static bool mergeable(const src_entry *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (g[i].st.type != EP_DIR || strcmp(g[i].name, g[0].name) != 0 || (i && g[i].src == g[i - 1].src))
            return false;
    return true;
}

/*
 * The directory above node (node included) that st is, by device and file
 * id, or NULL: a directory met again below itself, reached through a link
 * (followed here or by the server), would be copied without end.
 */
static const dir_node *loop_above(const dir_node *node, const ep_stat *st)
{
    if (!st->file_id)
        return NULL;
    for (; node; node = node->parent)
        if (node->set_meta && node->st.file_id == st->file_id && node->st.device == st->device)
            return node;
    return NULL;
}

/* --links copy: a link the destination does not get, reported and counted. */
static void link_not_kept(sc_job *job, const char *rel, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void link_not_kept(sc_job *job, const char *rel, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    job_count(job, &job->sum.links_not_kept, 1);
    job_event(job, SC_EV_ENTRY_IGNORED, rel, 0, false, msg);
}

/* What a destination's refusal to make a link says: it cannot hold links, or the making failed. */
static bool cannot_hold_links(int code) { return code == SMB_ERR_UNSUPPORTED || code == SMB_ERR_ACCESS; }

/*
 * --links copy: make the link e (at rel; at dst_at at the destination; de:
 * what the destination has there) again with the same target, when that
 * stays inside the copied tree; otherwise report it, not kept.
 */
static void copy_link(walk_ctx *w, const src_entry *e, const char *rel, const char *dst_at, const dst_entry *de)
{
    sc_job *job = w->job;
    ep *src = e->pair->src, *dst = w->dir_task->dir->pair->dst;
    char *target = NULL, *resolved = NULL;
    bool absolute = false;
    smb_error err = {0};
    if (!src->ops->readlink) {
        link_not_kept(job, rel, "symbolic link not kept: the source cannot read links");
        return;
    }
    if (src->ops->readlink(src, rel, &target, &absolute, &err) != 0) {
        if (job_error_is_fatal(err.code)) {
            job_set_fatal(job, &err);
            job_fail(job, rel, false, "read symbolic link: %s", err.message);
        } else {
            link_not_kept(job, rel, "symbolic link or reparse point not kept: %s", err.message);
        }
        return;
    }
    if (absolute || !(resolved = link_target_resolve(rel, target))) {
        link_not_kept(job, rel, "symbolic link to '%.300s' not kept: %s", target,
                      absolute ? "an absolute target (only links inside the copied tree are made again)"
                               : "its target is outside the copied tree");
        goto out;
    }
    if (!dst->ops->symlink) {
        link_not_kept(job, rel, "symbolic link to '%.300s' not kept: the destination cannot hold links", target);
        goto out;
    }
    if (de) {
        char *had = NULL;
        bool had_abs = false;
        smb_error e2 = {0};
        bool same = de->st.type == EP_SYMLINK && dst->ops->readlink &&
                    dst->ops->readlink(dst, dst_at, &had, &had_abs, &e2) == 0 && !had_abs && strcmp(had, target) == 0;
        free(had);
        if (same) /* up to date */
            goto out;
        if (de->st.type != EP_SYMLINK) {
            job_fail(job, rel, false, "the destination holds a %s where the source has a symbolic link; not replaced",
                     de->st.type == EP_DIR ? "directory" : "file");
            goto out;
        }
    }
    if (job->opts.dry_run) {
        job_count(job, &job->sum.links_copied, 1);
        job_event(job, SC_EV_DRY_RUN, rel, 0, false, de ? "replace link" : "make link");
        goto out;
    }
    /* A link to a directory says so on SMB: what it points to, seen through the source. */
    ep_stat tst;
    smb_error e3 = {0};
    bool is_dir = src->ops->stat(src, resolved, &tst, &e3) == 0 && tst.type == EP_DIR;
    if (de && dst->ops->unlink(dst, dst_at, &err) != 0) {
        job_fail(job, rel, false, "replace symbolic link: %s", err.message);
        goto out;
    }
    if (dst->ops->symlink(dst, dst_at, target, is_dir, &err) != 0) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(job, &err);
        if (cannot_hold_links(err.code))
            link_not_kept(job, rel, "symbolic link to '%.300s' not kept: %s", target, err.message);
        else
            job_fail(job, rel, false, "make symbolic link: %s", err.message);
        goto out;
    }
    job_count(job, &job->sum.links_copied, 1);
    job_event(job, SC_EV_LINK_COPIED, rel, 0, false, target);
out:
    free(target);
    free(resolved);
}

/*
 * A sharded job (shard_plan.h): what this shard does with entry e (at rel;
 * de: what the destination has) of a directory. True when that is all
 * (the entry is another shard's, or handled here); false: the shard owns
 * it whole and it is decided as in any job. The finishing run only walks
 * directories (straddling ones, and with --mirror all) and completes split
 * files.
 */
static bool shard_decide(walk_ctx *w, const src_entry *g, size_t n, const char *rel, const dst_entry *de)
{
    sc_job *job = w->job;
    const src_entry *e = &g[0];
    bool is_dir = e->st.type == EP_DIR, finishing = job->opts.shard == SC_SHARD_FINISH;
    bool counted = false;
    const shard_file *sf = NULL;
    shard_role role = w->split ? shard_role_of(job->opts.plan, job->opts.shard, w->split, e->name, rel, is_dir,
                                               &counted, &sf)
                               : SHARD_MINE;
    if (!finishing && role == SHARD_MINE)
        return false;
    bool dst_dir = de && de->st.type == EP_DIR;
    if (role == SHARD_RANGES) {
        if (counted && !finishing)
            count_file(job, &e->st);
        if (de && dst_dir)
            job_fail(job, rel, false, "the destination holds a directory where the source has a file");
        else if (finishing || shard_file_has(sf, job->opts.shard))
            queue_file(w, e->pair, rel, &e->st, de, sf);
        return true;
    }
    bool walk = is_dir && (role == SHARD_SPLIT || (finishing && job->opts.mirror));
    if (!walk || e->st.type == EP_SYMLINK)
        return true; /* another shard's, or the finishing run has nothing to do with it */
    if (counted && !finishing)
        job_count(job, &job->sum.dirs_total, 1);
    if (de && !dst_dir) {
        if (!finishing)
            job_fail(job, rel, true, "the destination holds a file where the source has a directory");
        return true;
    }
    if (!de && (finishing || make_dir(job, e->pair, rel, rel) != 0))
        return true; /* a shard makes a straddling directory in place (another shard may have made it) */
    job_pair **srcs = malloc(n * sizeof(job_pair *));
    if (!srcs) {
        w->oom = true;
        return true;
    }
    for (size_t i = 0; i < n; i++)
        srcs[i] = g[i].pair;
    queue_dir(w, srcs, n, rel, &e->st, NULL, false, false);
    free(srcs);
    return true;
}

/* Decide for the destination name of group g[0..n) (one key). */
static void decide(walk_ctx *w, src_entry *g, size_t n)
{
    sc_job *job = w->job;
    dst_entry *de = map_find(&w->dst, g[0].key);
    map_mark_seen(&w->dst, g[0].key);
    if (n > 1 && !mergeable(g, n)) {
        collide(w, g, n);
        return;
    }
    const src_entry *e = &g[0];
    char *rel = job_join(w->dir_task->rel, e->name);
    if (!rel) {
        w->oom = true;
        return;
    }
    bool is_dir = e->st.type == EP_DIR;
    ep *dst = w->dir_task->dir->pair->dst;
    const char *refused = (dst->caps & EP_CAP_WINDOWS_NAMES) ? plan_windows_refuses(e->name) : NULL;
    if (refused) {
        if (!is_dir)
            count_file(job, &e->st);
        job_fail(job, rel, is_dir, "%s", refused);
        free(rel);
        return;
    }
    if (job->opts.plan && (w->split || job->opts.shard == SC_SHARD_FINISH) && shard_decide(w, g, n, rel, de)) {
        free(rel);
        return;
    }
    /* Where the entry is at the destination: inside a staged directory it is not rel. */
    dir_node *node = w->dir_task->dir;
    char *at = node->dst ? job_join(node->dst, de ? de->name : e->name) : NULL;
    if (node->dst && !at) {
        free(rel);
        w->oom = true;
        return;
    }
    const char *dst_at = at ? at : rel;
    const dir_node *again = is_dir ? loop_above(node, &e->st) : NULL;
    if (e->st.type == EP_SYMLINK) {
        copy_link(w, e, rel, dst_at, de);
    } else if (again) {
        job_fail(job, rel, true, "not copied: it is '%s' again, a directory above it (a loop of symbolic links)",
                 again->rel[0] ? again->rel : ".");
    } else if (is_dir) {
        job_count(job, &job->sum.dirs_total, 1);
        job_pair **srcs = malloc(n * sizeof(job_pair *));
        if (!srcs) {
            free(at);
            free(rel);
            w->oom = true;
            return;
        }
        for (size_t i = 0; i < n; i++)
            srcs[i] = g[i].pair;
        size_t ns = n;
        bool ok = true;
        if (de && de->st.type != EP_DIR) {
            bool kept = false;
            if (job->opts.mirror)
                ok = delete_tree(job, dst, dst_at, rel, &de->st, &kept) == 0 && !kept;
            if (kept)
                job_fail(job, rel, true, "the destination holds a file the filters exclude where the source has a "
                                         "directory; not replaced");
            else if (!job->opts.mirror) {
                job_fail(job, rel, true, "the destination holds a file where the source has a directory");
                ok = false;
            }
            de = NULL;
        }
        if (ok && de) {
            queue_dir(w, srcs, ns, rel, &e->st, at, false, false);
            at = NULL;
        } else if (ok) {
            new_dir(w, srcs, ns, rel, e->name, &e->st, at);
            at = NULL;
        }
        free(srcs);
    } else {
        count_file(job, &e->st);
        bool ok = true;
        if (de && de->st.type == EP_DIR) {
            /* Replaced only when nothing in it is protected: never half-deleted, then failed. */
            bool kept = job->opts.mirror && holds_excluded(job, dst, dst_at, rel);
            if (job->opts.mirror && !kept)
                ok = delete_tree(job, dst, dst_at, rel, &de->st, &kept) == 0 && !kept;
            if (kept) {
                job_fail(job, rel, false, "the destination's directory holds entries the filters exclude; not replaced");
                ok = false;
            } else if (!job->opts.mirror) {
                job_fail(job, rel, false, "the destination holds a directory where the source has a file");
                ok = false;
            }
            de = NULL;
        }
        if (ok)
            queue_file(w, e->pair, rel, &e->st, de, NULL);
    }
    free(at);
    free(rel);
}

/*
 * Temporary files of earlier runs of this job that nothing will finish:
 * carrying the job's tag, unknown to the journal, and untouched for an hour
 * (older than any copy in progress, even with a server clock somewhat off).
 * A run killed before its journal knew of a temporary, or whose journal was
 * lost or damaged, leaves such files; the next run through the directory
 * removes them. Another job's temporaries are never touched.
 */
#define ORPHAN_AGE_S 3600

static void remove_orphans(sc_job *job, task *t, dst_map *m)
{
    if (job->opts.dry_run || job_stopping(job))
        return;
    uint64_t now = (uint64_t)time(NULL) * 10000000ull + 116444736000000000ull; /* FILETIME */
    for (dst_entry *first = NULL, *de = map_next(m, &first, NULL); de; de = map_next(m, &first, de)) {
        uint32_t tag;
        if (de->seen || de->st.type != EP_FILE || !temp_name_tag(de->name, &tag) || tag != job->tag ||
            de->st.mtime + (uint64_t)ORPHAN_AGE_S * 10000000ull > now)
            continue;
        char *at = job_join(job_dir_dst(t->dir), de->name);
        smb_error err = {0};
        if (at && !(job->cp && checkpoint_temp_known(job->cp, at)) &&
            t->dir->pair->dst->ops->unlink(t->dir->pair->dst, at, &err) == 0) {
            de->seen = true;
            job_event(job, SC_EV_DELETED, at, 0, false, "abandoned temporary file of an earlier run");
        }
        free(at);
    }
}

/* --mirror: note the destination entries no source has, to delete when the directory is complete. */
static void note_deletions(walk_ctx *w)
{
    sc_job *job = w->job;
    dir_node *node = w->dir_task->dir;
    for (dst_entry *first = NULL, *de = map_next(&w->dst, &first, NULL); de; de = map_next(&w->dst, &first, de)) {
        /* Temporary files and staging directories are never mirrored: one may be another job's work. */
        if (de->seen || plan_unsafe_name(de->name, strlen(de->name)) || is_temp_name(de->name))
            continue;
        char *rel = job_join(w->dir_task->rel, de->name);
        if (!rel) {
            w->oom = true;
            return;
        }
        bool keep = !job->opts.delete_excluded && filter_excluded(job->filter, rel, de->st.type == EP_DIR);
        free(rel);
        if (keep)
            continue;
        char *name = ARRAY_RESERVE(node->deletions, node->deletions_cap, node->ndeletions + 1, 16) ? strdup(de->name)
                                                                                                     : NULL;
        if (!name) {
            w->oom = true;
            return;
        }
        node->deletions[node->ndeletions].name = name;
        node->deletions[node->ndeletions].st = de->st;
        node->ndeletions++;
    }
}

/* List every source that has the directory (and, at the root, add the files named on the command line). */
static bool list_sources(walk_ctx *w)
{
    sc_job *job = w->job;
    task *t = w->dir_task;
    dir_node *node = t->dir;
    bool ok = true;
    for (size_t i = 0; i < node->nsrcs && !job_stopping(job); i++) {
        smb_error err = {0};
        w->cur_src = i;
        w->cur_pair = node->srcs[i];
        int rc = node->srcs[i]->src->ops->list(node->srcs[i]->src, t->rel, list_entry_cb, w, &err);
        if (w->oom || w->too_many)
            return false;
        if (rc != 0) {
            if (job_error_is_fatal(err.code))
                job_set_fatal(job, &err);
            job_fail(job, dir_shown(t), true, "list source directory%s%s: %s", node->nsrcs > 1 ? " in " : "",
                     node->nsrcs > 1 ? node->srcs[i]->src->display : "", err.message);
            atomic_store(&node->listing_failed, true);
            ok = false;
        }
    }
    if (!node->parent) { /* the root: the files named on the command line join it */
        for (size_t i = 0; i < job->nroot_files; i++) {
            root_file *f = &job->root_files[i];
            if (!add_entry(w, f->name, &f->st, node->nsrcs + i, f->pair)) {
                w->oom = true;
                return false;
            }
        }
    }
    return ok;
}

void job_walk_dir(sc_job *job, task *t)
{
    walk_ctx w = {.job = job, .dir_task = t};
    w.dst.fold = job->dst_folds_case;
    name_table_init(&w.dst.keys, sizeof(dst_entry));
    w.max_entries = job->opts.max_dir_entries ? job->opts.max_dir_entries : SC_DEFAULT_MAX_DIR_ENTRIES;
    w.split = job->opts.plan ? shard_find_split(job->opts.plan, t->rel) : NULL;
    dir_node *node = t->dir;
    ep *dst = node->pair->dst;
    smb_error err = {0};
    const char *shown = dir_shown(t);
    /* The destination directory exists (or, in a dry run, may not); one this job just made is empty. */
    int rc = node->fresh ? 0 : dst->ops->list(dst, job_dir_dst(node), map_add_cb, &w.dst, &err);
    if (rc != 0 && !(job->opts.dry_run && err.code == SMB_ERR_NOT_FOUND)) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(job, &err);
        job_fail(job, shown, true, "list destination directory: %s", err.message);
    } else if (w.dst.oom) {
        job_fail(job, shown, true, "out of memory listing the destination");
    } else {
        bool listed = list_sources(&w);
        if (w.too_many) {
            job_fail(job, shown, true, "not copied: the source directory holds more than %llu entries (raise --max-dir-entries)",
                     (unsigned long long)w.max_entries);
            atomic_store(&node->listing_failed, true);
        } else if (w.oom) {
            job_fail(job, shown, true, "out of memory listing the source");
            atomic_store(&node->listing_failed, true);
        } else if (!job_stopping(job)) {
            if (w.n)
                qsort(w.ents, w.n, sizeof *w.ents, entry_cmp);
            for (size_t i = 0, j; i < w.n && !job_stopping(job); i = j) {
                for (j = i + 1; j < w.n && strcmp(w.ents[j].key, w.ents[i].key) == 0; j++)
                    ;
                decide(&w, &w.ents[i], j - i);
            }
            if (listed)
                remove_orphans(job, t, &w.dst);
            /* A shard never deletes: the finishing run makes the --mirror deletions, once every shard succeeded. */
            bool shard_run = job->opts.plan && job->opts.shard >= 0;
            if (job->opts.mirror && node->nsrcs && !shard_run && !job_stopping(job))
                note_deletions(&w);
            if (w.oom)
                job_fail(job, shown, true, "out of memory");
        }
    }
    for (size_t i = 0; i < w.n; i++) {
        free(w.ents[i].name);
        free(w.ents[i].key);
    }
    free(w.ents);
    map_free(&w.dst);
    job_dir_release(job, node);
}

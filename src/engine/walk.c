/*
 * Directory tasks: list the destination directory once, stream the source
 * listing, decide per entry (plan.c), queue subdirectories and files, and
 * with --mirror delete what the source does not have.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/job_internal.h"
#include "error.h"
#include "engine/plan.h"
#include "engine/temp_names.h"

/* ------------------------------------------------------------ destination listing */

/* Names of one destination directory, in an open-addressing hash table. */
typedef struct dst_entry {
    char *name;
    ep_stat st;
    bool seen; /* the source has it too */
} dst_entry;

typedef struct dst_map {
    dst_entry *slots;
    size_t cap, n;
    bool oom;
} dst_map;

static dst_entry *map_find(dst_map *m, const char *name)
{
    if (!m->cap)
        return NULL;
    for (size_t i = name_hash(name) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i].name)
            return NULL;
        if (strcmp(m->slots[i].name, name) == 0)
            return &m->slots[i];
    }
}

static bool map_grow(dst_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    dst_entry *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].name)
            continue;
        size_t j = name_hash(m->slots[i].name) & (cap - 1);
        while (ns[j].name)
            j = (j + 1) & (cap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = cap;
    return true;
}

static int map_add_cb(void *arg, const char *name, const ep_stat *st)
{
    dst_map *m = arg;
    if (!name)
        return 0;
    if ((m->n + 1) * 2 > m->cap && !map_grow(m)) {
        m->oom = true;
        return 1;
    }
    size_t i = name_hash(name) & (m->cap - 1);
    while (m->slots[i].name)
        i = (i + 1) & (m->cap - 1);
    m->slots[i].name = strdup(name);
    if (!m->slots[i].name) {
        m->oom = true;
        return 1;
    }
    m->slots[i].st = *st;
    m->n++;
    return 0;
}

static void map_free(dst_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].name);
    free(m->slots);
}

/* ------------------------------------------------------------ directory nodes */

dir_node *job_dir_node_new(dir_node *parent, job_pair *pair, const char *rel, const ep_stat *st)
{
    dir_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->rel = strdup(rel);
    if (!n->rel) {
        free(n);
        return NULL;
    }
    n->parent = parent;
    n->pair = pair;
    if (st)
        n->st = *st;
    n->set_meta = st != NULL;
    atomic_init(&n->pending, 1);
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

void job_dir_release(sc_job *job, dir_node *node)
{
    while (node && atomic_fetch_sub(&node->pending, 1) == 1) {
        /* Every child is done: now the directory's times stay put. */
        if (node->set_meta && !job->opts.dry_run && !job_stopping(job)) {
            smb_error err = {0};
            ep *dst = node->pair->dst;
            if (dst->ops->set_meta(dst, job_dir_dst(node), &node->st, &err) != 0)
                job_fail(job, node->rel[0] ? node->rel : ".", true, "set directory times: %s", err.message);
        }
        if (node->stage_root == node)
            unstage(job, node);
        dir_node *parent = node->parent;
        free(node->rel);
        free(node->dst);
        free(node);
        node = parent;
    }
}

/* ------------------------------------------------------------ deleting */

typedef struct del_ctx {
    sc_job *job;
    ep *e;
    const char *rel;
    int failures;
} del_ctx;

static int delete_tree(sc_job *job, ep *e, const char *rel, bool is_dir);

static int del_child_cb(void *arg, const char *name, const ep_stat *st)
{
    del_ctx *d = arg;
    if (!name || plan_unsafe_name(name, strlen(name))) {
        d->failures++;
        return 0;
    }
    char *child = job_join(d->rel, name);
    if (!child) {
        d->failures++;
        return 1;
    }
    d->failures += delete_tree(d->job, d->e, child, st->type == EP_DIR) != 0;
    free(child);
    return 0;
}

/* Delete rel at the destination (a directory with all it holds). */
static int delete_tree(sc_job *job, ep *e, const char *rel, bool is_dir)
{
    smb_error err = {0};
    if (job->opts.dry_run) {
        job_event(job, SC_EV_DRY_RUN, rel, 0, is_dir, "delete");
        job_count(job, is_dir ? &job->sum.dirs_deleted : &job->sum.files_deleted, 1);
        return 0;
    }
    int rc;
    if (is_dir) {
        del_ctx d = {job, e, rel, 0};
        rc = e->ops->list(e, rel, del_child_cb, &d, &err);
        if (rc == 0 && d.failures)
            return -1;
        if (rc == 0)
            rc = e->ops->rmdir(e, rel, &err);
    } else {
        rc = e->ops->unlink(e, rel, &err);
    }
    if (rc != 0) {
        job_fail(job, rel, is_dir, "delete: %s", err.message);
        return rc;
    }
    job_count(job, is_dir ? &job->sum.dirs_deleted : &job->sum.files_deleted, 1);
    job_event(job, SC_EV_DELETED, rel, 0, is_dir, NULL);
    return 0;
}

/* ------------------------------------------------------------ the walk */

typedef struct walk_ctx {
    sc_job *job;
    task *dir_task;
    dst_map dst;
} walk_ctx;

/* Create destination directory rel at path at (or report it in a dry run). */
static int make_dir(sc_job *job, job_pair *pair, const char *rel, const char *at)
{
    if (job->opts.dry_run) {
        job_count(job, &job->sum.dirs_created, 1);
        job_event(job, SC_EV_DRY_RUN, rel, 0, true, "mkdir");
        return 0;
    }
    smb_error err = {0};
    if (pair->dst->ops->mkdir(pair->dst, at, &err) != 0 && err.code != SMB_ERR_EXISTS) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(job, &err);
        job_fail(job, rel, true, "create directory: %s", err.message);
        return -1;
    }
    job_count(job, &job->sum.dirs_created, 1);
    job_event(job, SC_EV_DIR_CREATED, rel, 0, true, NULL);
    return 0;
}

/*
 * Queue directory rel. at: where it is at the destination when that is not
 * rel (taken over); staged: at is a new stage root; fresh: just created.
 */
static void queue_dir(walk_ctx *w, const char *rel, const ep_stat *st, char *at, bool staged, bool fresh)
{
    sc_job *job = w->job;
    dir_node *parent = w->dir_task->dir;
    task *t = calloc(1, sizeof *t);
    dir_node *n = t ? job_dir_node_new(parent, w->dir_task->pair, rel, st) : NULL;
    if (n) {
        n->dst = at;
        at = NULL;
        n->stage_root = staged ? n : parent->stage_root;
        n->fresh = fresh;
    }
    free(at);
    if (!n || !(t->rel = strdup(rel))) {
        free(t);
        if (n) {
            n->stage_root = NULL; /* nothing to move into place */
            job_dir_release(job, n);
        }
        job_fail(job, rel, true, "out of memory");
        return;
    }
    t->kind = TASK_DIR;
    t->pair = w->dir_task->pair;
    t->dir = n;
    t->st = *st;
    job_push(job, t, false);
}

static void queue_file(walk_ctx *w, const char *rel, const ep_stat *st, const dst_entry *de)
{
    sc_job *job = w->job;
    task *t = calloc(1, sizeof *t);
    if (!t || !(t->rel = strdup(rel))) {
        free(t);
        job_fail(job, rel, false, "out of memory");
        return;
    }
    t->kind = TASK_FILE;
    t->pair = w->dir_task->pair;
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
 * continues one that an interrupted run left (found in the listing).
 */
static void new_dir(walk_ctx *w, const char *rel, const char *name, const ep_stat *st, char *at)
{
    sc_job *job = w->job;
    job_pair *pair = w->dir_task->pair;
    dir_node *parent = w->dir_task->dir;
    if (job->opts.dry_run || parent->stage_root) {
        if (make_dir(job, pair, rel, at ? at : rel) == 0)
            queue_dir(w, rel, st, at, false, true);
        else
            free(at);
        return;
    }
    free(at);
    char *stage = stage_name_in(job_dir_dst(parent), name); /* derived: a rerun finds it */
    if (!stage) {
        job_fail(job, rel, true, "out of memory");
        return;
    }
    const char *leaf = strrchr(stage, '/') ? strrchr(stage, '/') + 1 : stage;
    dst_entry *left = map_find(&w->dst, leaf);
    if (left && left->st.type == EP_DIR) {
        left->seen = true; /* an interrupted run's work: carry on with it */
        job_event(job, SC_EV_DIR_CREATED, rel, 0, true, "continuing an interrupted copy");
        queue_dir(w, rel, st, stage, true, false);
    } else if (make_dir(job, pair, rel, stage) == 0) {
        queue_dir(w, rel, st, stage, true, true);
    } else {
        free(stage);
    }
}

static int walk_entry_cb(void *arg, const char *name, const ep_stat *st)
{
    walk_ctx *w = arg;
    sc_job *job = w->job;
    const char *dir_rel = w->dir_task->rel;
    if (job_stopping(job))
        return 1;
    if (!name) {
        job_count(job, &job->sum.ignored, 1);
        job_fail(job, dir_rel[0] ? dir_rel : ".", true, "an entry with an undecodable name was not copied");
        return 0;
    }
    const char *why = plan_unsafe_name(name, strlen(name));
    if (why) {
        char shown[300];
        snprintf(shown, sizeof shown, "%s%s%.250s", dir_rel, dir_rel[0] ? "/" : "", name);
        job_count(job, &job->sum.ignored, 1);
        job_fail(job, shown, st->type == EP_DIR, "refused entry from the source: %s", why);
        return 0;
    }
    char *rel = job_join(dir_rel, name);
    if (!rel)
        return 1;
    bool is_dir = st->type == EP_DIR;
    dst_entry *de = map_find(&w->dst, name);
    if (de)
        de->seen = true;
    if (filter_excluded(job->filter, rel, is_dir)) {
        free(rel);
        return 0;
    }
    if (st->type == EP_SYMLINK || st->type == EP_OTHER) {
        job_count(job, &job->sum.ignored, 1);
        job_event(job, SC_EV_ENTRY_IGNORED, rel, 0, false,
                  st->type == EP_SYMLINK ? "symbolic link or reparse point not followed" : "not a regular file");
        free(rel);
        return 0;
    }
    ep *dst = w->dir_task->pair->dst;
    const char *refused = (dst->caps & EP_CAP_WINDOWS_NAMES) ? plan_windows_refuses(name) : NULL;
    if (refused) {
        job_fail(job, rel, is_dir, "%s", refused);
        free(rel);
        return 0;
    }
    /* Where the entry is at the destination: inside a staged directory it is not rel. */
    dir_node *node = w->dir_task->dir;
    char *at = node->dst ? job_join(node->dst, name) : NULL;
    if (node->dst && !at) {
        free(rel);
        return 1;
    }
    const char *dst_at = at ? at : rel;
    if (is_dir) {
        job_count(job, &job->sum.dirs_total, 1);
        bool ok = true;
        if (de && de->st.type != EP_DIR) {
            if (job->opts.mirror)
                ok = delete_tree(job, dst, dst_at, false) == 0;
            else {
                job_fail(job, rel, true, "the destination holds a file where the source has a directory");
                ok = false;
            }
            de = NULL;
        }
        if (ok && de) {
            queue_dir(w, rel, st, at, false, false);
            at = NULL;
        } else if (ok) {
            new_dir(w, rel, name, st, at);
            at = NULL;
        }
    } else {
        pthread_mutex_lock(&job->lock);
        job->sum.files_total++;
        job->sum.bytes_total += st->size;
        pthread_mutex_unlock(&job->lock);
        bool ok = true;
        if (de && de->st.type == EP_DIR) {
            if (job->opts.mirror)
                ok = delete_tree(job, dst, dst_at, true) == 0;
            else {
                job_fail(job, rel, false, "the destination holds a directory where the source has a file");
                ok = false;
            }
            de = NULL;
        }
        if (ok)
            queue_file(w, rel, st, de);
    }
    free(at);
    free(rel);
    return 0;
}

/*
 * Temporary files of earlier runs that nothing will finish: named like the
 * engine's temporaries, unknown to the journal, and untouched for an hour
 * (older than any copy in progress, even with a server clock somewhat off).
 * A run killed before its journal knew of a temporary, or whose journal was
 * lost or damaged, leaves such files; the next run through the directory
 * removes them.
 */
#define ORPHAN_AGE_S 3600

static void remove_orphans(sc_job *job, task *t, dst_map *m)
{
    if (job->opts.dry_run || job_stopping(job))
        return;
    uint64_t now = (uint64_t)time(NULL) * 10000000ull + 116444736000000000ull; /* FILETIME */
    for (size_t i = 0; i < m->cap; i++) {
        dst_entry *de = &m->slots[i];
        if (!de->name || de->seen || de->st.type != EP_FILE || !is_temp_name(de->name) ||
            de->st.mtime + (uint64_t)ORPHAN_AGE_S * 10000000ull > now)
            continue;
        char *at = job_join(job_dir_dst(t->dir), de->name);
        smb_error err = {0};
        if (at && !(job->cp && checkpoint_temp_known(job->cp, at)) &&
            t->pair->dst->ops->unlink(t->pair->dst, at, &err) == 0) {
            de->seen = true;
            job_event(job, SC_EV_DELETED, at, 0, false, "abandoned temporary file of an earlier run");
        }
        free(at);
    }
}

void job_walk_dir(sc_job *job, task *t)
{
    walk_ctx w = {.job = job, .dir_task = t};
    job_pair *pair = t->pair;
    smb_error err = {0};
    const char *shown = t->rel[0] ? t->rel : ".";
    /* The destination directory exists (or, in a dry run, may not); one this job just made is empty. */
    int rc = t->dir->fresh ? 0 : pair->dst->ops->list(pair->dst, job_dir_dst(t->dir), map_add_cb, &w.dst, &err);
    if (rc != 0 && !(job->opts.dry_run && err.code == SMB_ERR_NOT_FOUND)) {
        if (job_error_is_fatal(err.code))
            job_set_fatal(job, &err);
        job_fail(job, shown, true, "list destination directory: %s", err.message);
    } else if (w.dst.oom) {
        job_fail(job, shown, true, "out of memory listing the destination");
    } else {
        rc = pair->src->ops->list(pair->src, t->rel, walk_entry_cb, &w, &err);
        if (rc != 0) {
            if (job_error_is_fatal(err.code))
                job_set_fatal(job, &err);
            job_fail(job, shown, true, "list source directory: %s", err.message);
        } else {
            remove_orphans(job, t, &w.dst);
        }
        if (rc == 0 && job->opts.mirror && !job_stopping(job)) {
            for (size_t i = 0; i < w.dst.cap; i++) {
                dst_entry *de = &w.dst.slots[i];
                /* Temporary files are left to remove_orphans: one may be this job's, to resume. */
                if (!de->name || de->seen || plan_unsafe_name(de->name, strlen(de->name)) ||
                    (de->st.type == EP_FILE && is_temp_name(de->name)))
                    continue;
                char *rel = job_join(t->rel, de->name), *at = job_join(job_dir_dst(t->dir), de->name);
                if (rel && at && (job->opts.delete_excluded || !filter_excluded(job->filter, rel, de->st.type == EP_DIR)))
                    delete_tree(job, pair->dst, at, de->st.type == EP_DIR);
                free(rel);
                free(at);
            }
        }
    }
    map_free(&w.dst);
    job_dir_release(job, t->dir);
}

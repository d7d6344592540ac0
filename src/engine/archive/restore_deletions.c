/* An incremental archive's deletions, applied without following links (see restore_deletions.h). */
#include "engine/archive/restore_deletions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "engine/archive/archive_in.h"
#include "common/name_table.h"
#include "engine/archive/snapshot.h"
#include "common/error.h"

typedef struct del_entry {
    char *path;
    bool dir;
    size_t depth;
} del_entry;

typedef struct del_list {
    del_entry *v;
    size_t n, cap;
    bool short_of_memory;
} del_list;

static void collect(void *arg, const char *path, bool is_dir)
{
    del_list *d = arg;
    if (!ARRAY_RESERVE(d->v, d->cap, d->n + 1, 64)) {
        d->short_of_memory = true;
        return;
    }
    del_entry *e = &d->v[d->n];
    if (!(e->path = strdup(path))) {
        d->short_of_memory = true;
        return;
    }
    e->dir = is_dir;
    e->depth = 0;
    for (const char *p = path; *p; p++)
        e->depth += *p == '/';
    d->n++;
}

/* Files first, then directories deepest first (emptied before their parents); by name within each. */
static int order(const void *a, const void *b)
{
    const del_entry *x = a, *y = b;
    if (x->dir != y->dir)
        return x->dir ? 1 : -1;
    if (x->dir && x->depth != y->depth)
        return x->depth > y->depth ? -1 : 1;
    return strcmp(x->path, y->path);
}

static bool is_link(const ep_stat *st)
{
    return st->type == EP_SYMLINK || (st->attributes & SMB_ATTR_REPARSE_POINT);
}

/*
 * Why path must not be deleted (written into why), or NULL; *gone when
 * nothing is there to delete. verified holds the directories already found
 * to be real directories on the way (each looked up once).
 */
static const char *refusal(ep *dst, const char *path, bool is_dir, name_table *verified, bool *gone, char *why,
                           size_t cap)
{
    *gone = false;
    size_t len = strlen(path);
    const char *unsafe = arc_in_unsafe_path(path, len);
    if (unsafe) {
        snprintf(why, cap, "an unsafe path (%s)", unsafe);
        return why;
    }
    ep_stat st;
    smb_error e = {0};
    /* Every directory on the way, from the top: each must be a directory, none a link. */
    for (size_t end = 0; end <= len; end++) {
        if (end < len && path[end] != '/')
            continue;
        bool last = end == len;
        if (!last && name_table_find(verified, path, end))
            continue;
        char *here = strndup(path, end);
        memset(&e, 0, sizeof e);
        int rc = here ? dst->ops->stat(dst, here, &st, &e) : smb_err_set(&e, SMB_ERR_NO_MEMORY, 0, "out of memory");
        if (rc == SMB_ERR_NOT_FOUND) {
            free(here);
            *gone = true;
            return NULL;
        }
        if (rc != 0)
            snprintf(why, cap, "cannot look up '%s': %s", here ? here : path, e.message);
        else if (is_link(&st))
            snprintf(why, cap, "'%s' is a symbolic link or reparse point (deletions never follow links)", here);
        else if (!last && st.type != EP_DIR)
            snprintf(why, cap, "'%s' is not a directory", here);
        else if (last && is_dir && st.type != EP_DIR)
            snprintf(why, cap, "the list names a directory, the destination holds something else there");
        else if (last && !is_dir && st.type != EP_FILE)
            snprintf(why, cap, "the list names a file, the destination holds something else there");
        else
            why[0] = '\0';
        if (!why[0] && !last)
            name_table_get(verified, path, end, NULL); /* out of memory: looked up again next time */
        free(here);
        if (why[0])
            return why;
    }
    return NULL;
}

void restore_apply_deletions(sc_job *job, ep *dst, const char *text, size_t len)
{
    del_list d = {0};
    snapshot_parse_deleted(text, len, collect, &d);
    if (d.short_of_memory)
        job_fail(job, SNAPSHOT_DELETED_ENTRY, true, "out of memory reading the list of deleted entries: not all applied");
    if (d.n)
        qsort(d.v, d.n, sizeof *d.v, order);
    name_table verified;
    name_table_init(&verified, 0);
    char why[512];
    for (size_t i = 0; i < d.n && !job_stopping(job); i++) {
        const char *p = d.v[i].path;
        bool dir = d.v[i].dir, gone;
        if (filter_path_excluded(job->filter, p, dir))
            continue; /* excluded entries are left alone */
        if (refusal(dst, p, dir, &verified, &gone, why, sizeof why)) {
            job_fail(job, p, dir, "refused deletion from the archive's list of deleted entries: %s", why);
            continue;
        }
        if (gone)
            continue;
        if (job->opts.dry_run) {
            job_count(job, dir ? &job->sum.dirs_deleted : &job->sum.files_deleted, 1);
            job_event(job, SC_EV_DRY_RUN, p, 0, dir, "delete");
            continue;
        }
        smb_error e = {0};
        int rc = dir ? dst->ops->rmdir(dst, p, &e) : dst->ops->unlink(dst, p, &e);
        if (rc == 0) {
            job_count(job, dir ? &job->sum.dirs_deleted : &job->sum.files_deleted, 1);
            job_event(job, SC_EV_DELETED, p, 0, dir, NULL);
        } else if (e.code != SMB_ERR_NOT_FOUND) {
            job_fail(job, p, dir, "delete (deleted since the base archive): %s", e.message);
        }
    }
    name_table_free(&verified);
    for (size_t i = 0; i < d.n; i++)
        free(d.v[i].path);
    free(d.v);
}

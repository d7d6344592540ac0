/*
 * smb_walk: a directory tree listed top-down, one entry per call. Only the
 * directory being listed is open; the directories found and not listed yet
 * wait on a stack (depth first), so memory follows the tree's breadth
 * along one path, never its size. Reparse points are reported and never
 * descended into.
 */
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/error.h"
#include "helpers_internal.h"

typedef struct walk_dir {
    char *path;
    unsigned depth;
} walk_dir;

struct smb_walk {
    smb_tree *tree;
    walk_dir *stack; /* directories still to list */
    size_t n, cap;
    /* The directory being listed (op and list NULL between directories). */
    smb_open *op;
    smb_dir *list;
    char *cur;
    unsigned cur_depth;
    char *entry_path; /* the last entry's path, given out until the next call */
};

/* Open path as a directory to list, never through a reparse point (MS-SMB2 2.2.13: FILE_OPEN_REPARSE_POINT). */
static int open_dir(smb_walk *w, char *path, unsigned depth, smb_error *err)
{
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_LIST_DIRECTORY | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    p.options = SMB_FILE_DIRECTORY_FILE | SMB_FILE_OPEN_REPARSE_POINT;
    smb_error le = {0};
    smb_open *op = smb_create(w->tree, path, &p, NULL, NULL, &le);
    smb_dir *list = op ? smb_dir_start(op, NULL, &le) : NULL;
    if (!list) {
        smb_close(op, NULL, NULL);
        int rc = smb_err_set(err, le.code ? le.code : SMB_ERR_INTERNAL, le.ntstatus, "walk: list '%s': %s",
                             *path ? path : "(share root)", le.message);
        free(path);
        return rc;
    }
    w->op = op;
    w->list = list;
    w->cur = path;
    w->cur_depth = depth;
    return 0;
}

static void close_dir(smb_walk *w)
{
    smb_dir_finish(w->list);
    smb_close(w->op, NULL, NULL);
    free(w->cur);
    w->list = NULL;
    w->op = NULL;
    w->cur = NULL;
}

smb_walk *smb_walk_open(smb_tree *tree, const char *top, smb_error *err)
{
    if (!tree) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "walk: no tree");
        return NULL;
    }
    char *norm = NULL;
    if (smb_helpers_path_norm(top, "walk", &norm, err) != 0)
        return NULL;
    smb_walk *w = calloc(1, sizeof *w);
    if (!w) {
        free(norm);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    w->tree = tree;
    if (open_dir(w, norm, 0, err) != 0) { /* norm freed */
        free(w);
        return NULL;
    }
    return w;
}

int smb_walk_next(smb_walk *w, smb_walk_entry *out, smb_error *err)
{
    if (!w || !out)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "walk: no walk or no entry");
    free(w->entry_path);
    w->entry_path = NULL;
    for (;;) {
        if (!w->list) {
            if (w->n == 0)
                return 0;
            walk_dir d = w->stack[--w->n];
            int rc = open_dir(w, d.path, d.depth, err); /* d.path now the walk's, or freed */
            if (rc != 0)
                return rc;
        }
        smb_dirent ent;
        smb_error le = {0};
        int more = smb_dir_next(w->list, &ent, &le);
        if (more == 0) {
            close_dir(w);
            continue;
        }
        if (more < 0) {
            int rc = smb_err_set(err, more, le.ntstatus, "walk: list '%s': %s", *w->cur ? w->cur : "(share root)",
                                 le.message);
            if (more != SMB_ERR_BAD_NAME)
                close_dir(w); /* the rest of this directory is lost; the walk goes on */
            return rc;
        }
        if (!smb_helpers_name_ok(ent.name))
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "walk: list '%s': the server sent the name '%s'",
                               *w->cur ? w->cur : "(share root)", ent.name);
        char *path = smb_helpers_path_join(w->cur, ent.name);
        if (!path)
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        bool is_dir = smb_file_info_is_dir(&ent.info);
        bool reparse = (ent.info.attributes & SMB_ATTR_REPARSE_POINT) != 0;
        if (is_dir && !reparse) {
            if (!ARRAY_RESERVE(w->stack, w->cap, w->n + 1, 16) ||
                !(w->stack[w->n].path = strdup(path))) {
                free(path);
                return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            }
            w->stack[w->n++].depth = w->cur_depth + 1;
        }
        w->entry_path = path;
        *out = (smb_walk_entry){
            .path = path,
            .name = smb_helpers_path_base(path),
            .info = ent.info,
            .is_dir = is_dir,
            .is_reparse = reparse,
            .depth = w->cur_depth + 1,
        };
        return 1;
    }
}

void smb_walk_close(smb_walk *w)
{
    if (!w)
        return;
    if (w->list || w->op)
        close_dir(w);
    for (size_t i = 0; i < w->n; i++)
        free(w->stack[i].path);
    free(w->stack);
    free(w->entry_path);
    free(w);
}

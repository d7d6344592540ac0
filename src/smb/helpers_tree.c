/*
 * Directory trees: smb_makedirs (every missing component created, like
 * os.makedirs) and smb_rmtree (a tree removed depth first, like
 * shutil.rmtree, never following reparse points).
 */
#include <stdlib.h>
#include <string.h>

#include <smbcopy/ntstatus.h>

#include "common/array.h"
#include "common/error.h"
#include "helpers_internal.h"

/* STATUS_CANNOT_DELETE (MS-ERREF 2.3.1): what a server answers for a read-only file's deletion. */
#define STATUS_CANNOT_DELETE 0xC0000121u

/* ---------------------------------------------------------------- makedirs */

/* path exists (the mkdir said so): fine when it is a directory. */
static int existing(smb_tree *tree, const char *whole, const char *path, bool last, bool exist_ok, smb_error *err)
{
    smb_file_info fi;
    smb_error le = {0};
    int rc = smb_stat(tree, path, &fi, &le);
    if (rc != 0)
        return smb_err_set(err, rc, le.ntstatus, "makedirs '%s': %s", whole, le.message);
    if (!smb_file_info_is_dir(&fi))
        return smb_err_set(err, SMB_ERR_NOT_DIR, 0, "makedirs '%s': '%s' exists and is not a directory", whole, path);
    if (last && !exist_ok)
        return smb_err_set(err, SMB_ERR_EXISTS, 0, "makedirs '%s': the directory exists", whole);
    return 0;
}

/* Make norm[0..end) (a prefix ending at a component); 0 when made or there. */
static int make_one(smb_tree *tree, const char *whole, char *norm, size_t end, bool last, bool exist_ok,
                    smb_error *err)
{
    char saved = norm[end];
    norm[end] = '\0';
    smb_error le = {0};
    int rc = smb_mkdir(tree, norm, &le);
    if (rc == SMB_ERR_EXISTS)
        rc = existing(tree, whole, norm, last, exist_ok, err);
    else if (rc != 0)
        rc = smb_err_set(err, rc, le.ntstatus, "makedirs '%s': %s", whole, le.message);
    norm[end] = saved;
    return rc;
}

int smb_makedirs(smb_tree *tree, const char *path, bool exist_ok, smb_error *err)
{
    if (!tree)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "makedirs: no tree");
    char *norm = NULL;
    int rc = smb_helpers_path_norm(path, "makedirs", &norm, err);
    if (rc != 0)
        return rc;
    size_t len = strlen(norm);
    if (len == 0) {
        /* The share root always exists. */
        rc = exist_ok ? 0 : smb_err_set(err, SMB_ERR_EXISTS, 0, "makedirs '%s': the share root exists", path);
        free(norm);
        return rc;
    }
    /* The common case first: the parent exists. */
    smb_error le = {0};
    rc = smb_mkdir(tree, norm, &le);
    if (rc == SMB_ERR_EXISTS) {
        rc = existing(tree, norm, norm, true, exist_ok, err);
    } else if (rc == SMB_ERR_NOT_FOUND) {
        /* A parent is missing (STATUS_OBJECT_PATH_NOT_FOUND): every component in turn, top down. */
        rc = 0;
        for (size_t i = 1; rc == 0 && i <= len; i++)
            if (i == len || norm[i] == '/')
                rc = make_one(tree, norm, norm, i, i == len, exist_ok, err);
    } else if (rc != 0) {
        /* A component above that is a file answers STATUS_OBJECT_PATH_NOT_FOUND or NOT_A_DIRECTORY. */
        rc = smb_err_set(err, rc, le.ntstatus, "makedirs '%s': %s", norm, le.message);
    }
    free(norm);
    return rc;
}

/* ---------------------------------------------------------------- rmtree */

/* A directory still to remove; listed once its entries are dealt with. */
typedef struct rm_dir {
    char *path;
    uint32_t attributes;
    bool listed;
} rm_dir;

typedef struct rm_state {
    smb_tree *tree;
    const char *top;
    rm_dir *stack;
    size_t n, cap;
} rm_state;

/* Delete one file, or a directory (dir) already emptied, or a reparse point itself (reparse). */
static int delete_entry(smb_tree *tree, const char *path, bool dir, bool reparse, smb_error *le)
{
    if (!reparse)
        return dir ? smb_rmdir(tree, path, le) : smb_unlink(tree, path, le);
    /* The link, not its target: opened with FILE_OPEN_REPARSE_POINT, deleted on close. */
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_DELETE | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    p.options = SMB_FILE_OPEN_REPARSE_POINT;
    smb_open *op = smb_create(tree, path, &p, NULL, NULL, le);
    if (!op)
        return le->code ? le->code : SMB_ERR_INTERNAL;
    int rc = smb_set_delete_on_close(op, true, le);
    smb_error ce = {0};
    int crc = smb_close(op, NULL, &ce);
    if (rc == 0 && crc != 0) {
        *le = ce;
        rc = crc;
    }
    return rc;
}

/*
 * Delete path; when the server refuses because it is read-only, clear the
 * attribute (MS-FSA 2.1.5.14.3 refuses to delete a read-only file with
 * STATUS_CANNOT_DELETE) and try again.
 */
static int remove_one(rm_state *s, const char *path, uint32_t attributes, bool dir, bool reparse, smb_error *err)
{
    smb_error le = {0};
    int rc = delete_entry(s->tree, path, dir, reparse, &le);
    if (rc != 0 && (le.ntstatus == STATUS_CANNOT_DELETE ||
                    (rc == SMB_ERR_ACCESS && (attributes & SMB_ATTR_READONLY)))) {
        uint32_t attrs = attributes & ~SMB_ATTR_READONLY;
        /* Attributes 0 leave them as they are (MS-FSCC 2.4.7): NORMAL says none. */
        smb_basic_info bi = {.attributes = attrs ? attrs : SMB_ATTR_NORMAL};
        smb_error se = {0};
        if (smb_set_times(s->tree, path, &bi, &se) == 0) {
            le = (smb_error){0};
            rc = delete_entry(s->tree, path, dir, reparse, &le);
        }
    }
    if (rc != 0)
        return smb_err_set(err, rc, le.ntstatus, "rmtree '%s': %s", s->top, le.message);
    return 0;
}

static int push_dir(rm_state *s, const char *path, uint32_t attributes, smb_error *err)
{
    if (!ARRAY_RESERVE(s->stack, s->cap, s->n + 1, 16))
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    rm_dir *d = &s->stack[s->n];
    *d = (rm_dir){strdup(path), attributes, false};
    if (!d->path)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    s->n++;
    return 0;
}

/* A file or link of the directory being listed, kept until the listing ends. */
typedef struct rm_file {
    char *name;
    uint32_t attributes;
    bool dir; /* a directory reparse point */
} rm_file;

/*
 * List the directory dir: its subdirectories pushed (to remove first),
 * its files, links and other reparse points deleted once the listing is
 * over (not while the server enumerates the directory).
 */
static int list_and_clear(rm_state *s, const char *dir, smb_error *err)
{
    smb_error le = {0};
    smb_open *op = smb_open_dir(s->tree, dir, &le);
    if (!op)
        return smb_err_set(err, le.code ? le.code : SMB_ERR_INTERNAL, le.ntstatus, "rmtree '%s': %s", s->top,
                           le.message);
    smb_dir *d = smb_dir_start(op, NULL, &le);
    rm_file *files = NULL;
    size_t nfiles = 0, cap = 0;
    int rc = d ? 0 : smb_err_set(err, le.code ? le.code : SMB_ERR_INTERNAL, le.ntstatus, "rmtree '%s': list '%s': %s",
                                 s->top, dir, le.message);
    smb_dirent ent;
    int more;
    while (rc == 0 && (more = smb_dir_next(d, &ent, &le)) != 0) {
        if (more < 0) {
            rc = smb_err_set(err, more, le.ntstatus, "rmtree '%s': list '%s': %s", s->top, dir, le.message);
            break;
        }
        if (!smb_helpers_name_ok(ent.name)) {
            rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "rmtree '%s': list '%s': the server sent the name '%s'", s->top,
                             dir, ent.name);
            break;
        }
        bool reparse = (ent.info.attributes & SMB_ATTR_REPARSE_POINT) != 0;
        char *child = smb_helpers_path_join(dir, ent.name);
        if (!child) {
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        } else if (smb_file_info_is_dir(&ent.info) && !reparse) {
            rc = push_dir(s, child, ent.info.attributes, err);
        } else if (!ARRAY_RESERVE(files, cap, nfiles + 1, 64)) {
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        } else {
            files[nfiles++] = (rm_file){child, ent.info.attributes, smb_file_info_is_dir(&ent.info)};
            child = NULL;
        }
        free(child);
    }
    smb_dir_finish(d);
    smb_close(op, NULL, NULL);
    for (size_t i = 0; i < nfiles; i++) {
        if (rc == 0)
            rc = remove_one(s, files[i].name, files[i].attributes, files[i].dir,
                            (files[i].attributes & SMB_ATTR_REPARSE_POINT) != 0, err);
        free(files[i].name);
    }
    free(files);
    return rc;
}

int smb_rmtree(smb_tree *tree, const char *path, smb_error *err)
{
    if (!tree)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "rmtree: no tree");
    char *top = NULL;
    int rc = smb_helpers_path_norm(path, "rmtree", &top, err);
    if (rc != 0)
        return rc;
    smb_file_info fi = {0};
    smb_error le = {0};
    if (!*top)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "rmtree: refusing to remove the share root");
    else if ((rc = smb_stat(tree, top, &fi, &le)) != 0)
        rc = smb_err_set(err, rc, le.ntstatus, "rmtree '%s': %s", top, le.message);
    else if (fi.attributes & SMB_ATTR_REPARSE_POINT)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "rmtree '%s': it is a reparse point (a link), not followed",
                         top);
    else if (!smb_file_info_is_dir(&fi))
        rc = smb_err_set(err, SMB_ERR_NOT_DIR, 0, "rmtree '%s': not a directory", top);
    rm_state s = {.tree = tree, .top = top};
    if (rc == 0)
        rc = push_dir(&s, top, fi.attributes, err);
    /* Depth first: the top of the stack is listed (its subdirectories pushed above it), and removed once they are. */
    while (rc == 0 && s.n > 0) {
        rm_dir *d = &s.stack[s.n - 1];
        if (!d->listed) {
            d->listed = true;
            char *dpath = d->path; /* d may move when the stack grows */
            rc = list_and_clear(&s, dpath, err);
            continue;
        }
        rc = remove_one(&s, d->path, d->attributes, true, false, err);
        free(d->path);
        s.n--;
    }
    for (size_t i = 0; i < s.n; i++)
        free(s.stack[i].path);
    free(s.stack);
    free(top);
    return rc;
}

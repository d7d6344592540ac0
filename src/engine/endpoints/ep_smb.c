/*
 * The SMB endpoint: ep_ops over a share of the session pool, rooted at a
 * path inside the share. Everything goes through the public library API.
 * Path operations go over the calling thread's lane of the pool (its own
 * connection when the pool has several); an open file stays on the lane it
 * was opened on.
 *
 * Listing contract addition: an entry whose name the library cannot decode
 * (SMB_ERR_BAD_NAME from smb_dir_next) is reported to the callback with
 * name == NULL and st == NULL, and the listing goes on; the engine counts
 * it as an ignored entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/endpoints/zeros.h"
#include "engine/endpoints/ep_smb.h"
#include <smbcopy/client.h>
#include <smbcopy/ntstatus.h>

#include "common/error.h"

/* DOS attributes copied to a destination (MS-FSCC 2.6). */
#define KEPT_ATTRS (SMB_ATTR_READONLY | SMB_ATTR_HIDDEN | SMB_ATTR_SYSTEM | SMB_ATTR_ARCHIVE)

struct ep_io {
    smb_io *io;     /* NULL: a write of zeros inside the file's size, skipped */
    size_t skipped; /* its length */
    ep_file *f;
    bool write;
    /* A write: its length and place; from a file, the file (else -1) and where in it. */
    size_t len;
    uint64_t off;
    int fd;
    uint64_t fd_off;
};

static const ep_ops smb_ops;

/*
 * Refill err with lib's code and status, the message prefixed by what and
 * path, unless the library's message already names the operation and its
 * path ("write 'x': ..."): then as it is, not "write 'x': write 'x': ...".
 */
int ep_smb_fail_at(smb_error *err, const smb_error *lib, const char *what, const char *path)
{
    size_t n = strlen(what);
    if (strncmp(lib->message, what, n) == 0 && strncmp(lib->message + n, " '", 2) == 0)
        return smb_err_set(err, lib->code, lib->ntstatus, "%s", lib->message);
    return smb_err_set(err, lib->code, lib->ntstatus, "%s '%s': %s", what, path, lib->message);
}

/* The calling thread's tree for e's share. */
static smb_tree *tree_of(ep_smb *e) { return ep_smb_pool_thread_tree(e->pool, e->srv, e->share, e->tree); }

/* root/rel inside the share ('/' separators; the library converts them). */
static char *join(const ep_smb *e, const char *rel, smb_error *err)
{
    rel = rel ? rel : "";
    size_t a = strlen(e->root), b = strlen(rel);
    char *p = malloc(a + b + 2);
    if (!p) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    memcpy(p, e->root, a);
    size_t n = a;
    if (a && b)
        p[n++] = '/';
    memcpy(p + n, rel, b + 1);
    return p;
}

/*
 * Where rel is: *path inside the share that holds it (malloc'd) and *tree,
 * the calling thread's tree of that share: e's own, or the target of a DFS
 * link rel is under (ep_smb_dfs.c). 0, or the error (err filled).
 */
static int place(ep_smb *e, const char *rel, smb_tree **tree, char **path, smb_error *err)
{
    *path = join(e, rel, err);
    if (!*path)
        return SMB_ERR_NO_MEMORY;
    *tree = tree_of(e);
    if (!ep_smb_dfs_share(e))
        return 0;
    smb_tree *t = NULL;
    char *routed = NULL;
    int rc = ep_smb_dfs_route(e, *path, &t, &routed, err);
    if (rc != 0) {
        free(*path);
        *path = NULL;
        return rc;
    }
    if (routed) {
        free(*path);
        *path = routed;
        *tree = t;
    }
    return 0;
}

/* A reparse point is reported as a link and never followed. */
static void stat_from_info(const smb_file_info *i, ep_stat *st)
{
    memset(st, 0, sizeof *st);
    if (i->attributes & SMB_ATTR_REPARSE_POINT)
        st->type = EP_SYMLINK;
    else if (i->attributes & SMB_ATTR_DIRECTORY)
        st->type = EP_DIR;
    else
        st->type = EP_FILE;
    st->size = st->type == EP_FILE ? i->end_of_file : 0;
    st->mtime = i->last_write_time;
    st->ctime = i->creation_time;
    st->change_time = i->change_time;
    st->attributes = i->attributes;
    st->file_id = i->file_id;
    st->allocated = i->allocation_size;
}

static int op_stat(ep *base, const char *rel, ep_stat *st, smb_error *err)
{
    ep_smb *e = (ep_smb *)base;
    if (e->every_share && (!rel || !*rel)) { /* the server itself: a directory of its shares */
        memset(st, 0, sizeof *st);
        st->type = EP_DIR;
        st->attributes = SMB_ATTR_DIRECTORY;
        return 0;
    }
    smb_tree *tree;
    char *path;
    int rc = place(e, rel, &tree, &path, err);
    if (rc != 0)
        return rc;
    smb_file_info info;
    rc = smb_stat(tree, path, &info, err);
    if (rc == 0)
        stat_from_info(&info, st);
    free(path);
    return rc;
}

/*
 * A listing that failed: the library's stop of a listing that does not
 * end ("the server repeated the same entries", "the server sent more than
 * N entries") says so and names the option that raises the ceiling.
 */
static int list_failed(const ep_smb *e, const char *rel, smb_error *err, const smb_error *lib, const char *path)
{
    bool ceiling = strncmp(lib->message, "the server sent more than ", 26) == 0;
    if (lib->code != SMB_ERR_PROTOCOL || (!ceiling && strcmp(lib->message, "the server repeated the same entries") != 0))
        return ep_smb_fail_at(err, lib, "list", path);
    /* The directory by its full name: the share root's path is empty. */
    return smb_err_set(err, lib->code, 0, "listing of '%s%s%s' stopped: %s%s", e->base.display, rel && *rel ? "/" : "",
                       rel ? rel : "", lib->message, ceiling ? " (raise --max-dir-entries)" : "");
}

/*
 * Following links (ep.follow_links): a reparse point listed in directory
 * path, looked at through the server, which follows it when opened without
 * FILE_OPEN_REPARSE_POINT; *st stays the link's when the server cannot.
 */
static void follow_entry(ep_smb *e, smb_tree *tree, const char *path, const char *name, ep_stat *st)
{
    size_t a = strlen(path), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return;
    memcpy(p, path, a);
    p[a] = '/';
    memcpy(p + a + (a ? 1 : 0), name, b + 1);
    smb_file_info info;
    smb_error le = {0};
    (void)e;
    if (smb_stat(tree, p, &info, &le) == 0 && !(info.attributes & SMB_ATTR_REPARSE_POINT))
        stat_from_info(&info, st);
    free(p);
}

/*
 * A reparse point listed in rel on a DFS share: a DFS link when the server
 * has a referral for it (MS-DFSC 3.1.4.2). Followed (ep_smb_dfs_follow), it
 * is listed as the directory its target is: *st from the target's root,
 * marked dfs_link. A link none of whose targets answers is listed as a
 * directory too, marked so, whose listing then fails saying why. Anything
 * else stays as it was listed (a symbolic link).
 */
static void dfs_entry(ep_smb *e, const char *rel, const char *name, ep_stat *st)
{
    size_t a = rel ? strlen(rel) : 0, b = strlen(name);
    char *child = malloc(a + b + 2);
    if (!child)
        return;
    memcpy(child, rel ? rel : "", a);
    child[a] = '/';
    memcpy(child + a + (a ? 1 : 0), name, b + 1);
    char *in_share = join(e, child, NULL);
    smb_error le = {0};
    bool is_link = false;
    if (in_share)
        ep_smb_dfs_follow(e, in_share, &is_link, &le);
    if (!is_link) { /* no referral: not a DFS link */
        free(in_share);
        free(child);
        return;
    }
    smb_tree *t = NULL;
    char *target = NULL;
    int rc = ep_smb_dfs_route(e, in_share, &t, &target, &le);
    smb_file_info info;
    if (rc == 0 && smb_stat(t, target, &info, &le) == 0 && (info.attributes & SMB_ATTR_DIRECTORY)) {
        stat_from_info(&info, st);
    } else {
        st->type = EP_DIR;
        st->size = 0;
    }
    st->type = EP_DIR; /* a link is a directory here, whatever its target is */
    st->attributes &= ~SMB_ATTR_REPARSE_POINT;
    st->attributes |= SMB_ATTR_DIRECTORY;
    st->dfs_link = true;
    free(target);
    free(in_share);
    free(child);
}

/* The every-share root's listing: one directory per share, with its root's times. */
typedef struct share_list {
    ep_smb *e;
    ep_list_cb cb;
    void *arg;
} share_list;

static int share_entry(void *arg, const char *name)
{
    share_list *sl = arg;
    ep_stat st = {.type = EP_DIR, .attributes = SMB_ATTR_DIRECTORY};
    smb_tree *t = NULL;
    char *root = NULL;
    smb_error le = {0};
    smb_file_info info;
    /* A share the user may not connect to is listed all the same: its own listing then fails saying why. */
    if (ep_smb_dfs_route(sl->e, name, &t, &root, &le) == 0 && t && smb_stat(t, root, &info, &le) == 0)
        stat_from_info(&info, &st);
    free(root);
    st.type = EP_DIR;
    return sl->cb(sl->arg, name, &st) != 0;
}

/*
 * QUERY_DIRECTORY in batches (MS-SMB2 3.2.4.17), streamed to cb; a
 * callback that stops the listing is not an error. A listing that fails
 * (also after some entries went to cb) fails the directory.
 */
static int op_list(ep *base, const char *rel, ep_list_cb cb, void *arg, smb_error *err)
{
    ep_smb *e = (ep_smb *)base;
    if (e->every_share && (!rel || !*rel)) {
        share_list sl = {e, cb, arg};
        ep_smb_dfs_each_top(e, share_entry, &sl);
        return 0;
    }
    smb_tree *tree;
    char *path;
    int prc = place(e, rel, &tree, &path, err);
    if (prc != 0)
        return prc;
    smb_error le = {0};
    smb_open *dir = smb_open_dir(tree, path, &le);
    if (!dir) {
        free(path);
        if (err)
            *err = le;
        return le.code;
    }
    int rc = 0;
    smb_dir *d = smb_dir_start(dir, NULL, &le);
    if (!d)
        rc = ep_smb_fail_at(err, &le, "list", path);
    while (d) {
        smb_dirent ent;
        int n = smb_dir_next(d, &ent, &le);
        if (n == 0)
            break;
        if (n == SMB_ERR_BAD_NAME) {
            if (cb(arg, NULL, NULL) != 0)
                break;
            continue;
        }
        if (n < 0) {
            rc = list_failed(e, rel, err, &le, path);
            break;
        }
        ep_stat st;
        stat_from_info(&ent.info, &st);
        if (st.type == EP_SYMLINK && ep_smb_dfs_share(e) && ep_smb_dfs_tree(tree))
            dfs_entry(e, rel, ent.name, &st);
        if (st.type == EP_SYMLINK && e->base.follow_links)
            follow_entry(e, tree, path, ent.name, &st);
        if (cb(arg, ent.name, &st) != 0)
            break;
    }
    smb_dir_finish(d);
    smb_close(dir, NULL, NULL);
    free(path);
    return rc;
}

/* A symbolic link's target, '/'-separated when relative (the server keeps '\\'). */
static int op_readlink(ep *base, const char *rel, char **target, bool *absolute, smb_error *err)
{
    ep_smb *e = (ep_smb *)base;
    smb_tree *tree;
    char *path;
    int rc = place(e, rel, &tree, &path, err);
    if (rc != 0)
        return rc;
    bool relative = false;
    rc = smb_readlink(tree, path, target, &relative, err);
    free(path);
    if (rc != 0)
        return rc;
    *absolute = !relative;
    for (char *c = *target; relative && *c; c++)
        if (*c == '\\')
            *c = '/';
    return 0;
}

static int op_symlink(ep *base, const char *rel, const char *target, bool is_dir, smb_error *err)
{
    ep_smb *e = (ep_smb *)base;
    smb_tree *tree;
    char *path;
    int rc = place(e, rel, &tree, &path, err);
    if (rc != 0)
        return rc;
    char *wire = strdup(target);
    if (!wire) {
        free(path);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    for (char *c = wire; *c; c++)
        if (*c == '/')
            *c = '\\';
    rc = smb_symlink(tree, path, wire, true, is_dir, err);
    free(wire);
    free(path);
    return rc;
}

static int op_mkdir(ep *base, const char *rel, smb_error *err)
{
    ep_smb *e = (ep_smb *)base;
    smb_tree *tree;
    char *path;
    int rc = place(e, rel, &tree, &path, err);
    if (rc != 0)
        return rc;
    /* STATUS_OBJECT_NAME_COLLISION is SMB_ERR_EXISTS. */
    rc = smb_mkdir(tree, path, err);
    free(path);
    return rc;
}

static ep_file *file_new(ep_smb *e, smb_tree *tree, char *path, smb_open *op, smb_error *err)
{
    ep_file *f = calloc(1, sizeof *f);
    if (!f || pthread_mutex_init(&f->key_lock, NULL) != 0) {
        free(f);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    f->e = e;
    f->op = op;
    f->tree = tree;
    f->path = path;
    return f;
}

static void file_free(ep_file *f)
{
    pthread_mutex_destroy(&f->key_lock);
    free(f->path);
    free(f);
}

/* What an open asks for beyond its own access, for the job's security descriptors (ep.sd_parts). */
enum sd_access { SD_NONE, SD_READ, SD_WRITE };

/* Open the existing file rel with access and options, on the calling thread's lane. */
static int open_existing(ep_smb *e, const char *rel, uint32_t access, uint32_t options, enum sd_access sd,
                         ep_file **fp, smb_error *err)
{
    smb_tree *tree;
    char *path;
    int rc = place(e, rel, &tree, &path, err);
    if (rc != 0)
        return rc;
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = access;
    p.share_access = SMB_SHARE_READ | SMB_SHARE_WRITE | SMB_SHARE_DELETE;
    p.disposition = SMB_FILE_OPEN;
    p.options = options;
    smb_error le = {0};
    smb_open *op = sd == SD_NONE ? smb_create(tree, path, &p, NULL, NULL, &le)
                                 : ep_smb_create_sd(e, tree, path, &p, sd == SD_WRITE, &le);
    ep_file *f = op ? file_new(e, tree, path, op, &le) : NULL;
    if (!f) {
        smb_close(op, NULL, NULL);
        free(path);
        if (err)
            *err = le;
        return le.code < 0 ? le.code : SMB_ERR_NO_MEMORY; /* never 0 without a file */
    }
    *fp = f;
    return 0;
}

static int op_open_read(ep *base, const char *rel, ep_file **fp, smb_error *err)
{
    return open_existing((ep_smb *)base, rel, SMB_FILE_READ_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE,
                         SMB_FILE_NON_DIRECTORY_FILE | SMB_FILE_SEQUENTIAL_ONLY, SD_READ, fp, err);
}

/* An entry opened for its streams and descriptor; get_streams and put_streams name its streams "rel:NAME". */
static int op_open_meta(ep *base, const char *rel, bool is_dir, bool for_write, ep_file **fp, smb_error *err)
{
    /* Writing, the descriptor there is read first too (file_meta_refresh compares it). */
    ep_smb *e = (ep_smb *)base;
    if (e->every_share && (!rel || !*rel)) /* the server itself is no file: nothing to copy from it */
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "//%s has no streams or security descriptor of its own",
                           e->base.display);
    uint32_t access = SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE | (for_write && e->base.sd_parts ? SMB_READ_CONTROL : 0);
    return open_existing(e, rel, access, is_dir ? SMB_FILE_DIRECTORY_FILE : SMB_FILE_NON_DIRECTORY_FILE,
                         for_write ? SD_WRITE : SD_READ, fp, err);
}

static int op_open_write(ep *base, const char *rel, const ep_stat *meta, ep_file **fp, smb_error *err)
{
    uint64_t size = meta->size;
    ep_smb *e = (ep_smb *)base;
    smb_tree *tree;
    char *path;
    int prc = place(e, rel, &tree, &path, err);
    if (prc != 0)
        return prc;
    smb_create_params p;
    smb_create_params_init(&p);
    /* DELETE so that a failed copy can delete its temporary file on close. */
    p.desired_access = SMB_FILE_WRITE_DATA | SMB_FILE_APPEND_DATA | SMB_FILE_WRITE_ATTRIBUTES |
                       SMB_FILE_READ_ATTRIBUTES | SMB_DELETE | SMB_SYNCHRONIZE;
    p.share_access = SMB_SHARE_READ | SMB_SHARE_WRITE | SMB_SHARE_DELETE;
    p.disposition = SMB_FILE_CREATE;
    p.options = SMB_FILE_NON_DIRECTORY_FILE;
    smb_error le = {0};
    smb_open *op = ep_smb_create_sd(e, tree, path, &p, true, &le);
    if (!op) {
        free(path);
        if (err)
            *err = le;
        return le.code;
    }
    /* The final size up front: ranges never written stay holes. */
    int rc = size ? smb_set_end_of_file(op, size, &le) : 0;
    if (rc != 0)
        ep_smb_fail_at(err, &le, "set size of", path);
    ep_file *f = rc == 0 ? file_new(e, tree, path, op, err) : NULL;
    if (!f) {
        smb_set_delete_on_close(op, true, NULL);
        smb_close(op, NULL, NULL);
        free(path);
        return rc ? rc : SMB_ERR_NO_MEMORY;
    }
    f->size = size;
    *fp = f;
    return 0;
}

static int op_close(ep_file *f, smb_error *err);

static int op_open_resume(ep *base, const char *rel, uint64_t size, ep_file **fp, smb_error *err)
{
    ep_file *f = NULL;
    int rc = open_existing((ep_smb *)base, rel,
                           SMB_FILE_WRITE_DATA | SMB_FILE_APPEND_DATA | SMB_FILE_WRITE_ATTRIBUTES |
                               SMB_FILE_READ_ATTRIBUTES | SMB_DELETE | SMB_SYNCHRONIZE,
                           SMB_FILE_NON_DIRECTORY_FILE, SD_WRITE, &f, err);
    if (rc != 0)
        return rc;
    smb_error le = {0};
    if ((rc = smb_set_end_of_file(f->op, size, &le)) != 0) {
        ep_smb_fail_at(err, &le, "set size of", f->path);
        smb_error e2;
        op_close(f, &e2);
        return rc;
    }
    f->size = size;
    *fp = f;
    return 0;
}

static int op_open_write_more(ep *base, const char *rel, uint64_t size, ep_file **fp, smb_error *err)
{
    int rc = open_existing((ep_smb *)base, rel,
                           SMB_FILE_WRITE_DATA | SMB_FILE_APPEND_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE,
                           SMB_FILE_NON_DIRECTORY_FILE, SD_NONE, fp, err);
    if (rc == 0)
        (*fp)->size = size;
    return rc;
}

/* Start a READ or WRITE; the library refuses a length above the server's limit. */
static ep_io *submit(ep_file *f, bool write, void *buf, size_t len, uint64_t off, smb_error *err)
{
    ep_io *io = calloc(1, sizeof *io);
    if (!io) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    *io = (ep_io){.f = f, .write = write, .len = len, .off = off, .fd = -1};
    smb_error le = {0};
    io->io = write ? smb_write_submit(f->op, buf, len, off, &le) : smb_read_submit(f->op, buf, len, off, &le);
    if (!io->io) {
        ep_smb_fail_at(err, &le, write ? "write" : "read", f->path);
        free(io);
        return NULL;
    }
    return io;
}

static bool op_can_write_fd(ep_file *f) { return smb_open_sends_plain(f->op); }

static ep_io *op_write_submit_fd(ep_file *f, int fd, uint64_t fd_off, size_t len, uint64_t off, smb_error *err)
{
    ep_io *io = calloc(1, sizeof *io);
    if (!io) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    *io = (ep_io){.f = f, .write = true, .len = len, .off = off, .fd = fd, .fd_off = fd_off};
    smb_error le = {0};
    io->io = smb_write_submit_fd(f->op, fd, fd_off, len, off, &le);
    if (!io->io) {
        ep_smb_fail_at(err, &le, "write", f->path);
        free(io);
        return NULL;
    }
    return io;
}

static int op_data_ranges(ep_file *f, uint64_t size, ep_range **out, size_t *n, smb_error *err)
{
    smb_error le = {0};
    int rc = smb_query_allocated_ranges(f->op, size, EP_MAX_RANGES, out, n, &le);
    if (rc != 0)
        ep_smb_fail_at(err, &le, "find the data of", f->path);
    return rc;
}

static ep_io *op_read_submit(ep_file *f, void *buf, size_t len, uint64_t off, smb_error *err)
{
    return submit(f, false, buf, len, off, err);
}

static ep_io *op_write_submit(ep_file *f, const void *buf, size_t len, uint64_t off, smb_error *err)
{
    /* Zeros inside the size set at open_write already read as zeros (a hole): not sent, holes stay holes. */
    if (off <= f->size && len <= f->size - off && mem_all_zero(buf, len)) {
        ep_io *io = calloc(1, sizeof *io);
        if (!io)
            smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        else
            *io = (ep_io){.skipped = len, .f = f, .write = true, .len = len, .off = off, .fd = -1};
        return io;
    }
    return submit(f, true, (void *)buf, len, off, err);
}

/*
 * A WRITE from a file that the server took in part (MS-SMB2 3.3.5.13: a
 * Count below the Length): the rest, from the file, at off + Count, until
 * all is written (the library does this itself for writes from memory).
 * Then any write must have written every byte: never a hole under a
 * success.
 */
static int write_rest(ep_io *io, size_t *got, smb_error *le)
{
    size_t last = *got;
    while (io->fd >= 0 && *got < io->len) {
        if (last == 0)
            break;
        smb_io *rest = smb_write_submit_fd(io->f->op, io->fd, io->fd_off + *got, io->len - *got, io->off + *got, le);
        if (!rest)
            return le->code ? le->code : SMB_ERR_NO_MEMORY;
        int rc = smb_io_wait(rest, &last, le);
        if (rc != 0)
            return rc;
        *got += last;
    }
    if (*got != io->len)
        return smb_err_set(le, SMB_ERR_SERVER, 0, "the server wrote %zu of %zu bytes at offset %llu", *got, io->len,
                           (unsigned long long)io->off);
    return 0;
}

static int op_io_wait(ep_io *io, size_t *n, smb_error *err)
{
    size_t got = 0;
    smb_error le = {0};
    int rc = io->io ? smb_io_wait(io->io, &got, &le) : 0;
    if (rc == 0 && io->io && io->write)
        rc = write_rest(io, &got, &le);
    ep_file *f = io->f;
    if (!io->io) {
        got = io->skipped;
    } else if (rc != 0) {
        ep_smb_fail_at(err, &le, io->write ? "write" : "read", f->path);
        got = 0;
    } else if (io->write) {
        EP_SMB_COUNT(f->e, bytes_written, got);
    } else {
        EP_SMB_COUNT(f->e, bytes_read, got);
    }
    free(io);
    if (n)
        *n = got;
    return rc;
}

static size_t op_io_size(ep_file *f)
{
    uint32_t r = smb_open_max_read(f->op), w = smb_open_max_write(f->op);
    return r < w ? r : w;
}

/* FileBasicInformation from meta: 0 fields (and no kept attribute) stay unchanged. */
static void basic_from_meta(const ep *e, const ep_stat *meta, smb_basic_info *bi)
{
    memset(bi, 0, sizeof *bi);
    bi->creation_time = meta->ctime;
    bi->last_write_time = meta->mtime;
    if (e->mtime_via_change_time) /* a server that sets the modification time from ChangeTime (time_probe.h) */
        bi->change_time = meta->mtime;
    bi->attributes = meta->attributes & KEPT_ATTRS;
}

/* Times after the last write: a later write would move last_write_time again. */
static int op_finish(ep_file *f, const ep_stat *meta, ep_stat *got, smb_error *err)
{
    smb_basic_info bi;
    basic_from_meta(&f->e->base, meta, &bi);
    smb_error le = {0};
    int rc = smb_set_basic_info(f->op, &bi, &le);
    if (rc != 0)
        return ep_smb_fail_at(err, &le, "set times of", f->path);
    if (got) {
        smb_file_info info;
        rc = smb_query_file_info(f->op, &info, &le);
        if (rc != 0)
            return ep_smb_fail_at(err, &le, "query", f->path);
        stat_from_info(&info, got);
    }
    return 0;
}

static int op_close(ep_file *f, smb_error *err)
{
    smb_error le = {0};
    int rc = smb_close(f->op, NULL, &le);
    if (rc != 0)
        ep_smb_fail_at(err, &le, "close", f->path);
    file_free(f);
    return rc;
}

static int op_rename(ep *base, const char *from, const char *to, const ep_stat *meta, smb_error *err)
{
    ep_smb *e = (ep_smb *)base;
    smb_tree *tf = NULL, *tt = NULL;
    char *pf = NULL, *pt = NULL;
    int rc = place(e, from, &tf, &pf, err);
    if (rc == 0)
        rc = place(e, to, &tt, &pt, err);
    if (rc == 0 && tf != tt) /* a rename moves a name inside one share (MS-FSCC 2.4.42) */
        rc = smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "rename '%s' to '%s': across a DFS link", from, to);
    smb_basic_info bi;
    if (meta)
        basic_from_meta(base, meta, &bi);
    if (rc == 0)
        rc = smb_rename_set_times(tf, pf, pt, true, meta ? &bi : NULL, err);
    free(pf);
    free(pt);
    return rc;
}

static int op_unlink(ep *base, const char *rel, smb_error *err)
{
    ep_smb *e = (ep_smb *)base;
    smb_tree *tree;
    char *path;
    int rc = place(e, rel, &tree, &path, err);
    if (rc == 0)
        rc = smb_unlink(tree, path, err);
    free(path);
    return rc;
}

static int op_rmdir(ep *base, const char *rel, smb_error *err)
{
    ep_smb *e = (ep_smb *)base;
    smb_tree *tree;
    char *path;
    int rc = place(e, rel, &tree, &path, err);
    if (rc == 0)
        rc = smb_rmdir(tree, path, err);
    free(path);
    return rc;
}

static int op_set_meta(ep *base, const char *rel, const ep_stat *meta, smb_error *err)
{
    ep_smb *e = (ep_smb *)base;
    smb_tree *tree;
    char *path;
    int rc = place(e, rel, &tree, &path, err);
    if (rc != 0)
        return rc;
    smb_basic_info bi;
    basic_from_meta(base, meta, &bi);
    rc = smb_set_times(tree, path, &bi, err);
    free(path);
    return rc;
}

/*
 * The descriptor parts `parts` of rel read on an open file, a SACL refused
 * as get_sd's caller takes it (the rest read, *sacl_lost and *sacl_status
 * set): for a descriptor the one round trip of read_whole did not bring
 * (larger than its answer, or its query failed).
 */
static int sd_on_open(ep_smb *e, const char *rel, uint32_t parts, ep_sd *sd, bool *sacl_lost, uint32_t *sacl_status,
                      smb_error *err)
{
    ep_file *f = NULL;
    int rc = open_existing(e, rel, SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE, SMB_FILE_NON_DIRECTORY_FILE, SD_READ,
                           &f, err);
    if (rc != 0)
        return rc;
    rc = ep_smb_get_sd(f, parts, sd, err);
    if (rc == SMB_ERR_ACCESS && (parts & EP_SD_SACL)) {
        *sacl_lost = true;
        *sacl_status = err->ntstatus;
        rc = ep_smb_get_sd(f, parts & ~EP_SD_SACL, sd, err);
    }
    smb_error ce = {0};
    op_close(f, &ce);
    return rc;
}

/*
 * One compounded round trip (CREATE + READ + CLOSE; with after, a QUERY_INFO
 * of the streams too; with sd, one of the descriptor): the data, the
 * metadata after the read, whether the file has named streams, and its
 * security descriptor.
 */
static int op_read_whole(ep *base, const char *rel, void *buf, size_t cap, size_t *n, ep_stat *after, ep_sd *sd,
                         smb_error *err)
{
    ep_smb *e = (ep_smb *)base;
    if (sd)
        ep_sd_clear(sd);
    smb_tree *tree;
    char *path;
    int prc = place(e, rel, &tree, &path, err);
    if (prc != 0)
        return prc;
    uint32_t parts = sd ? base->sd_parts & EP_SD_ALL : 0;
    /* The SACL refused, and the server's status (0: an earlier open of the share was refused, not asked again). */
    bool sacl_lost = false;
    uint32_t sacl_status = 0;
    if ((parts & EP_SD_SACL) && __atomic_load_n(&e->sacl_refused, __ATOMIC_RELAXED)) {
        parts &= ~EP_SD_SACL;
        sacl_lost = true;
    }
    smb_error le = {0};
    smb_file_info info;
    smb_read_extras x = {.want_streams = after != NULL, .secinfo = ep_smb_secinfo(parts)};
    smb_read_extras *xp = after || parts ? &x : NULL;
    int rc = smb_read_file_ex(tree, path, buf, cap, n, &info, xp, &le);
    if (rc == SMB_ERR_ACCESS && (parts & EP_SD_SACL)) {
        /* ACCESS_SYSTEM_SECURITY needs SeSecurityPrivilege (MS-DTYP 2.4.6): again without the SACL. */
        uint32_t status = le.ntstatus;
        parts &= ~EP_SD_SACL;
        x.secinfo = ep_smb_secinfo(parts);
        memset(&le, 0, sizeof le);
        rc = smb_read_file_ex(tree, path, buf, cap, n, &info, xp, &le);
        if (rc == 0) { /* it was the SACL: the share's later opens leave it out */
            sacl_lost = true;
            sacl_status = status;
            __atomic_store_n(&e->sacl_refused, true, __ATOMIC_RELAXED);
        }
    }
    if (rc != 0)
        rc = ep_smb_fail_at(err, &le, "read", path);
    if (rc == 0 && after) { /* the CLOSE's attributes (MS-SMB2 2.2.16, POSTQUERY_ATTRIB): the file after the read */
        stat_from_info(&info, after);
        after->streams = x.streams < 0 ? EP_STREAMS_UNKNOWN : x.streams ? EP_STREAMS_SOME : EP_STREAMS_NONE;
    }
    if (rc == 0 && e->counters)
        __atomic_fetch_add(&e->counters->bytes_read, *n, __ATOMIC_RELAXED);
    if (rc == 0 && parts) {
        if (x.sd_err.code == 0) {
            rc = ep_smb_sd_take(path, x.sd, x.sd_len, parts, sd, err);
        } else {
            /* Larger than the compound's answer, refused, or failed with the stream query: on an open. */
            if (x.sd_err.code == SMB_ERR_ACCESS && (parts & EP_SD_SACL)) {
                sacl_lost = true;
                sacl_status = x.sd_err.ntstatus;
                parts &= ~EP_SD_SACL;
            }
            rc = parts ? sd_on_open(e, rel, parts, sd, &sacl_lost, &sacl_status, err) : 0;
        }
    }
    if (rc == 0 && sd) {
        if (sacl_lost)
            ep_smb_sacl_refused(err, path, true, sacl_status);
        else if (err)
            memset(err, 0, sizeof *err);
    }
    free(path);
    return rc;
}

/*
 * One compounded round trip (CREATE + WRITE + SET_INFO of the descriptor,
 * the rename and the times + CLOSE): a file complete under its final name,
 * descriptor included.
 */
static int op_write_whole(ep *base, const char *tmp, const char *rel, const void *buf, size_t len,
                          const ep_stat *meta, const ep_sd *sd, ep_stat *got, smb_error *err)
{
    ep_smb *e = (ep_smb *)base;
    smb_tree *tree = NULL, *rtree = NULL;
    char *tpath = NULL, *path = NULL;
    int prc = place(e, tmp, &tree, &tpath, err);
    if (prc == 0 && rel)
        prc = place(e, rel, &rtree, &path, err);
    if (prc == 0 && rel && rtree != tree)
        prc = smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "write '%s': its temporary name is across a DFS link", rel);
    if (prc != 0) {
        free(tpath);
        free(path);
        return prc;
    }
    smb_basic_info bi;
    basic_from_meta(base, meta, &bi);
    uint32_t parts = sd && sd->len ? sd->parts & EP_SD_ALL : 0;
    bool sacl_lost = false; /* as in op_read_whole */
    uint32_t sacl_status = 0;
    if ((parts & EP_SD_SACL) && __atomic_load_n(&e->sacl_refused, __ATOMIC_RELAXED)) {
        parts &= ~EP_SD_SACL;
        sacl_lost = true;
    }
    smb_write_extras x = {.sd = parts ? sd->bytes : NULL, .sd_len = parts ? sd->len : 0,
                          .secinfo = ep_smb_secinfo(parts), .read_back = parts != 0};
    smb_file_info info;
    smb_error le = {0}, not_held = {0};
    int rc = smb_write_file_ex(tree, tpath, buf, len, &bi, path, &info, &x, &le);
    if (rc == SMB_ERR_ACCESS && (parts & EP_SD_SACL)) {
        /* ACCESS_SYSTEM_SECURITY (at the CREATE) or the SACL (at its SET_INFO) refused: again without it. */
        uint32_t status = le.ntstatus;
        bool at_create = !x.sd_refused;
        parts &= ~EP_SD_SACL;
        x.secinfo = ep_smb_secinfo(parts);
        memset(&le, 0, sizeof le);
        rc = smb_write_file_ex(tree, tpath, buf, len, &bi, path, &info, &x, &le);
        if (rc == 0) {
            sacl_lost = true;
            sacl_status = status;
            if (at_create) /* the privilege is missing: the share's later opens leave it out */
                __atomic_store_n(&e->sacl_refused, true, __ATOMIC_RELAXED);
        }
    }
    if (rc != 0 && x.sd_refused && (rc == SMB_ERR_UNSUPPORTED || rc == SMB_ERR_NO_SPACE)) {
        /* The share keeps no descriptor, or has no room for it: the file without (put_sd's caller reports it). */
        not_held = le;
        x.secinfo = 0;
        memset(&le, 0, sizeof le);
        rc = smb_write_file_ex(tree, tpath, buf, len, &bi, path, &info, &x, &le);
        sacl_lost = false;
    }
    if (rc != 0)
        rc = ep_smb_fail_at(err, &le, "write", path ? path : tpath);
    else {
        stat_from_info(&info, got);
        if (e->counters)
            __atomic_fetch_add(&e->counters->bytes_written, len, __ATOMIC_RELAXED);
        smb_error changed = {0};
        if (not_held.code && err)
            *err = not_held;
        else if (sacl_lost)
            ep_smb_sacl_refused(err, tpath, false, sacl_status);
        else if (x.secinfo && x.sd_back_len && !ep_sd_kept(sd, x.secinfo, x.sd_back, x.sd_back_len, &changed) && err)
            *err = changed; /* the check after the write: reported as not kept */
        else if (sd && sd->len && err)
            memset(err, 0, sizeof *err);
    }
    free(x.sd_back);
    free(tpath);
    free(path);
    return rc;
}

/* One pooled session: the server can copy between its opens (MS-SMB2 3.3.5.15.6). */
static bool op_same_server(ep *a, ep *b)
{
    if (!a || !b || a->ops != &smb_ops || b->ops != &smb_ops)
        return false;
    /* A DFS share's links lead to other servers: its files are not all where its tree is. */
    if (ep_smb_dfs_share((ep_smb *)a) || ep_smb_dfs_share((ep_smb *)b))
        return false;
    return ((ep_smb *)a)->srv == ((ep_smb *)b)->srv;
}

static void op_free(ep *base)
{
    ep_smb *e = (ep_smb *)base;
    if (!e)
        return;
    /* The session and tree belong to the pool. */
    ep_smb_dfs_free(e);
    free(e->root);
    free(e->share);
    free(e->base.display);
    free(e);
}

static const ep_ops smb_ops = {
    .kind = "smb",
    .stat = op_stat,
    .list = op_list,
    .readlink = op_readlink,
    .symlink = op_symlink,
    .mkdir = op_mkdir,
    .open_read = op_open_read,
    .open_write = op_open_write,
    .open_write_more = op_open_write_more,
    .open_resume = op_open_resume,
    .can_write_fd = op_can_write_fd,
    .write_submit_fd = op_write_submit_fd,
    .read_submit = op_read_submit,
    .data_ranges = op_data_ranges,
    .write_submit = op_write_submit,
    .io_wait = op_io_wait,
    .io_size = op_io_size,
    .finish = op_finish,
    .close = op_close,
    .rename = op_rename,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .set_meta = op_set_meta,
    .server_copy = ep_smb_server_copy,
    .same_server = op_same_server,
    .read_whole = op_read_whole,
    .write_whole = op_write_whole,
    .get_streams = ep_smb_get_streams,
    .put_streams = ep_smb_put_streams,
    .open_meta = op_open_meta,
    .get_sd = ep_smb_get_sd,
    .put_sd = ep_smb_put_sd,
    .free = op_free,
};

/* loc->path without leading or trailing separators. */
static char *root_of(const char *path)
{
    path = path ? path : "";
    while (*path == '/' || *path == '\\')
        path++;
    size_t n = strlen(path);
    while (n && (path[n - 1] == '/' || path[n - 1] == '\\'))
        n--;
    return strndup(path, n);
}

/*
 * A root inside a DFS link (//server/dfsroot/link/dir): the server answers
 * STATUS_PATH_NOT_COVERED for it (MS-DFSC 3.1.5.1); the link is followed
 * before anything else goes there. A root whose link has no reachable
 * target fails the endpoint with the reason.
 */
static int dfs_root(ep_smb *e, smb_error *err)
{
    if (!ep_smb_dfs_share(e) || !*e->root)
        return 0;
    /* A link inside a link's target (a nested namespace) is met on the next
     * look: as deep as the library client follows referrals. */
    for (int depth = 0; depth < SMB_CLIENT_MAX_REFERRALS; depth++) {
        smb_tree *tree = NULL;
        char *path = NULL;
        smb_file_info info;
        smb_error le = {0};
        int rc = place(e, "", &tree, &path, &le);
        if (rc == 0)
            rc = smb_stat(tree, path, &info, &le);
        free(path);
        if (rc == 0 || le.ntstatus != SMB_STATUS_PATH_NOT_COVERED)
            return 0; /* not through a link; its own errors come with the job's first look at it */
        bool is_link = false;
        rc = ep_smb_dfs_follow(e, e->root, &is_link, &le);
        if (rc != 0) {
            if (err)
                *err = le;
            return rc;
        }
    }
    return smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "//%s: DFS links nested too deep", e->root);
}

ep *ep_smb_open(ep_smb_pool *pool, const sc_location *loc, ep_counters *counters, smb_error *err)
{
    if (!pool || !loc || !loc->is_smb || !loc->host || !*loc->host || !loc->share || !*loc->share) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "not an SMB location with a host and a share");
        return NULL;
    }
    ep_smb *e = calloc(1, sizeof *e);
    if (!e) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    e->base.ops = &smb_ops;
    e->base.caps = EP_CAP_CREATION_TIME | EP_CAP_DOS_ATTRS | EP_CAP_WINDOWS_NAMES |
                   (ep_smb_pool_get_lanes(pool) > 1 ? EP_CAP_LANES : 0);
    /* Concurrent writes to one file contend on its inode lock in the
     * server's I/O threads: two writers uploaded a 1 GiB file to Samba 10-20%
     * faster than eight, with a sixth less server CPU (bench/README.md). */
    e->base.max_writers = 2;
    e->counters = counters;
    e->root = root_of(loc->path);
    /* Every share: the session logs on through IPC$, and the root lists the shares (ep_smb_dfs_every_share). */
    e->every_share = strcmp(loc->share, SC_EVERY_SHARE) == 0;
    if (e->every_share && e->root && *e->root) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "//%s/%s (every share) takes no path after it", loc->host,
                    SC_EVERY_SHARE);
        op_free(&e->base);
        return NULL;
    }
    e->share = strdup(e->every_share ? "IPC$" : loc->share);
    e->pool = pool;
    if (e->root && e->share) {
        size_t len = strlen(loc->host) + strlen(loc->share) + strlen(e->root) + 5;
        e->base.display = malloc(len);
        if (e->base.display)
            snprintf(e->base.display, len, "//%s/%s%s%s", loc->host, loc->share, *e->root ? "/" : "", e->root);
    }
    if (!e->root || !e->share || !e->base.display) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        op_free(&e->base);
        return NULL;
    }
    sc_location at = *loc;
    at.share = e->share;
    smb_error refused = {0};
    int rc = ep_smb_pool_tree(pool, &at, &e->srv, &e->tree, &refused);
    /* A share its server refers elsewhere: a domain-based DFS root, a DFS proxy (MS-DFSC 3.1.4.1). */
    if (rc != 0 && !e->every_share && e->srv && refused.ntstatus == SMB_STATUS_BAD_NETWORK_NAME)
        rc = ep_smb_dfs_root_referral(e, &refused, &refused);
    if (rc != 0) {
        if (err)
            *err = refused;
        op_free(&e->base);
        return NULL;
    }
    if ((e->every_share ? ep_smb_dfs_every_share(e, err) : ep_smb_dfs_init(e, err)) != 0 || dfs_root(e, err) != 0) {
        op_free(&e->base);
        return NULL;
    }
    return &e->base;
}

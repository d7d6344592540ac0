/*
 * The local filesystem endpoint: plain POSIX calls under a root directory.
 * I/O is synchronous: submit does the work, io_wait hands back the result.
 * No state is shared between calls except the atomic counters.
 */
#include "engine/endpoints/zeros.h"
#include "engine/endpoints/endpoint.h"
#include "engine/endpoints/ep_local_meta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "common/error.h"

#define LOCAL_IO_SIZE ((size_t)4 << 20)
/* The permission bits kept (cp -p, rsync -p): never set-user-ID or set-group-ID. */
#define MODE_KEPT 01777u

typedef struct ep_local {
    ep base;
    char *root;            /* without trailing '/', except for "/" itself */
    char *follow;          /* the one entry whose symbolic link is followed (named by the user), or NULL */
    ep_counters *counters; /* may be NULL */
} ep_local;

struct ep_file {
    ep_local *e;
    int fd;
    uint64_t size; /* size set at open_write: the file reads as zeros up to it */
    char *path;    /* for messages */
    /*
     * Serialises writes: the ranges of a split file write through one open
     * from several threads, and concurrent write(2)s to one inode contend on
     * its lock in the kernel, which spins (measured: an eighth of the CPU
     * time of a 1 GiB download to tmpfs). A sleeping mutex costs less.
     */
    pthread_mutex_t wlock;
};

struct ep_io {
    size_t n;
};

/* ---------------------------------------------------------------- errors */

/* The category of an errno; probe (or NULL) tells ENOTDIR apart. */
static int errno_code(int e, const char *probe)
{
    struct stat st;

    switch (e) {
    case ENOENT:
        return SMB_ERR_NOT_FOUND;
    case ENOTDIR:
        /* The target itself is no directory, or one of its parents is not. */
        if (!probe || (lstat(probe, &st) == 0 && !S_ISDIR(st.st_mode)))
            return SMB_ERR_NOT_DIR;
        return SMB_ERR_NOT_FOUND;
    case EEXIST:
        return SMB_ERR_EXISTS;
    case EACCES:
    case EPERM:
    case EROFS:
        return SMB_ERR_ACCESS;
    case ENOSPC:
    case EDQUOT:
        return SMB_ERR_NO_SPACE;
    case ENOTEMPTY:
        return SMB_ERR_NOT_EMPTY;
    case EISDIR:
        return SMB_ERR_IS_DIR;
    case ENAMETOOLONG:
    case EILSEQ:
    case ELOOP: /* O_NOFOLLOW met a symlink: a name this endpoint refuses */
        return SMB_ERR_BAD_NAME;
    case EBUSY:
    case ETXTBSY:
        return SMB_ERR_SHARING;
    case ENOMEM:
        return SMB_ERR_NO_MEMORY;
    default:
        return SMB_ERR_SERVER;
    }
}

/* Fill err for errno e: "<what>: <reason>", what from fmt; return the code. */
static int local_errf(smb_error *err, int e, const char *probe, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int local_errf(smb_error *err, int e, const char *probe, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int code = errno_code(e, probe);
    return smb_err_set(err, code, 0, "%s%s: %s", code == SMB_ERR_SERVER ? "local " : "", what,
                       strerror(e));
}

/* Fill err for errno e while doing `op` on path. */
static int local_err(smb_error *err, int e, const char *op, const char *path)
{
    return local_errf(err, e, path, "%s '%s'", op, path);
}

static int no_memory(smb_error *err, const char *op, const char *path)
{
    return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "%s '%s': out of memory", op, path);
}

/* ---------------------------------------------------------------- paths */

/* Refuse absolute paths and ".." components; "" is the root. */
static int check_rel(const char *rel, smb_error *err)
{
    if (!rel)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "local path: NULL");
    if (rel[0] == '/')
        return smb_err_set(err, SMB_ERR_BAD_NAME, 0, "bad name '%s': absolute path", rel);
    for (const char *p = rel; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return smb_err_set(err, SMB_ERR_BAD_NAME, 0, "bad name '%s': '..' component", rel);
        p += n;
        if (*p == '/')
            p++;
    }
    return 0;
}

/* *out = root joined with rel (malloc'd). */
static int full_path(const ep_local *e, const char *rel, char **out, smb_error *err)
{
    *out = NULL;
    int rc = check_rel(rel, err);
    if (rc < 0)
        return rc;
    size_t rl = strlen(e->root), nl = strlen(rel);
    char *p = malloc(rl + nl + 2);
    if (!p)
        return no_memory(err, "path", rel);
    memcpy(p, e->root, rl);
    if (nl && p[rl - 1] != '/')
        p[rl++] = '/';
    memcpy(p + rl, rel, nl);
    p[rl + nl] = '\0';
    *out = p;
    return 0;
}

/* True when a symbolic link at rel is followed: the root, or the entry the user named. */
static bool follows(const ep_local *e, const char *rel)
{
    return !rel[0] || e->base.follow_links || (e->follow && strcmp(rel, e->follow) == 0);
}

/* ---------------------------------------------------------------- metadata */

static void fill_stat(const struct stat *s, ep_stat *st)
{
    memset(st, 0, sizeof *st);
    st->mtime = smb_filetime_from_unix((int64_t)s->st_mtim.tv_sec, s->st_mtim.tv_nsec);
    st->ctime = 0; /* no settable creation time here */
    st->change_time = smb_filetime_from_unix((int64_t)s->st_ctim.tv_sec, s->st_ctim.tv_nsec);
    st->file_id = (uint64_t)s->st_ino;
    st->device = (uint64_t)s->st_dev;
    st->allocated = (uint64_t)s->st_blocks * 512;
    st->has_mode = S_ISDIR(s->st_mode) || S_ISREG(s->st_mode);
    st->mode = st->has_mode ? (uint32_t)(s->st_mode & MODE_KEPT) : 0;
    if (S_ISDIR(s->st_mode)) {
        st->type = EP_DIR;
        st->attributes = SMB_ATTR_DIRECTORY;
        return;
    }
    st->size = (uint64_t)s->st_size;
    if (S_ISREG(s->st_mode)) {
        st->type = EP_FILE;
        st->attributes = (s->st_mode & S_IWUSR) ? SMB_ATTR_ARCHIVE : SMB_ATTR_READONLY;
    } else if (S_ISLNK(s->st_mode)) {
        st->type = EP_SYMLINK;
        st->attributes = SMB_ATTR_REPARSE_POINT;
    } else {
        st->type = EP_OTHER;
    }
}

static int local_stat(ep *base, const char *rel, ep_stat *st, smb_error *err)
{
    ep_local *e = (ep_local *)base;
    char *path;
    int rc = full_path(e, rel, &path, err);
    if (rc < 0)
        return rc;
    struct stat s;
    /* The root, and the entry named on the command line, are the user's choice: their links are followed. */
    bool follow = follows(e, rel);
    /* Following links (ep.follow_links), one that leads nowhere is still seen, as the link it is. */
    if ((follow ? stat(path, &s) : lstat(path, &s)) < 0 &&
        !(follow && e->base.follow_links && (errno == ENOENT || errno == ELOOP) && lstat(path, &s) == 0))
        rc = local_err(err, errno, "stat", path);
    else
        fill_stat(&s, st);
    free(path);
    return rc;
}

/* Times of meta as futimens/utimensat wants them; mtime 0 leaves them. */
static void meta_times(const ep_stat *meta, struct timespec ts[2])
{
    if (meta->mtime == 0) {
        ts[0].tv_sec = ts[1].tv_sec = 0;
        ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
        return;
    }
    ts[0] = ts[1] = smb_filetime_to_timespec(meta->mtime);
}

static int local_set_meta(ep *base, const char *rel, const ep_stat *meta, smb_error *err)
{
    ep_local *e = (ep_local *)base;
    char *path;
    int rc = full_path(e, rel, &path, err);
    if (rc < 0)
        return rc;
    struct timespec ts[2];
    struct stat s;
    meta_times(meta, ts);
    if (utimensat(AT_FDCWD, path, ts, rel[0] ? AT_SYMLINK_NOFOLLOW : 0) < 0)
        rc = local_err(err, errno, "set times of", path);
    /*
     * A directory takes the permission bits given (a local source's);
     * READONLY means nothing for directories, and files lose their write bits.
     */
    else if (lstat(path, &s) == 0 &&
             ((meta->has_mode && S_ISDIR(s.st_mode) && chmod(path, meta->mode & MODE_KEPT) < 0) ||
              ((meta->attributes & SMB_ATTR_READONLY) && S_ISREG(s.st_mode) && chmod(path, s.st_mode & 07555) < 0)))
        rc = local_err(err, errno, "chmod", path);
    free(path);
    return rc;
}

/* ---------------------------------------------------------------- directories */

static int local_list(ep *base, const char *rel, ep_list_cb cb, void *arg, smb_error *err)
{
    ep_local *e = (ep_local *)base;
    char *path;
    int rc = full_path(e, rel, &path, err);
    if (rc < 0)
        return rc;
    /* The root may be a symlink the user chose; below it, none is followed (unless ep.follow_links). */
    int fl = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follows(e, rel) ? 0 : O_NOFOLLOW);
    int fd = open(path, fl);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        rc = local_err(err, errno, "list", path);
        if (fd >= 0)
            close(fd);
        free(path);
        return rc;
    }
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                rc = local_err(err, errno, "list", path);
            break;
        }
        const char *n = de->d_name;
        if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
            continue;
        struct stat s;
        /* Following links: what each points to; a dangling one (or a loop of links) as the link. */
        if ((!e->base.follow_links || fstatat(dirfd(d), n, &s, 0) < 0) &&
            fstatat(dirfd(d), n, &s, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue; /* removed while we list */
            rc = local_errf(err, errno, NULL, "stat '%s/%s'", path, n);
            break;
        }
        ep_stat st;
        fill_stat(&s, &st);
        if (cb(arg, n, &st) != 0)
            break;
    }
    closedir(d);
    free(path);
    return rc;
}

static int local_mkdir(ep *base, const char *rel, smb_error *err)
{
    ep_local *e = (ep_local *)base;
    char *path;
    int rc = full_path(e, rel, &path, err);
    if (rc < 0)
        return rc;
    if (mkdir(path, 0777) < 0)
        rc = local_err(err, errno, "mkdir", path);
    free(path);
    return rc;
}

static int local_rmdir(ep *base, const char *rel, smb_error *err)
{
    ep_local *e = (ep_local *)base;
    char *path;
    int rc = full_path(e, rel, &path, err);
    if (rc < 0)
        return rc;
    if (rmdir(path) < 0) {
        int en = errno == EEXIST ? ENOTEMPTY : errno; /* POSIX allows either */
        rc = local_err(err, en, "rmdir", path);
    }
    free(path);
    return rc;
}

static int local_unlink(ep *base, const char *rel, smb_error *err)
{
    ep_local *e = (ep_local *)base;
    char *path;
    int rc = full_path(e, rel, &path, err);
    if (rc < 0)
        return rc;
    if (unlink(path) < 0)
        rc = local_err(err, errno, "delete", path);
    free(path);
    return rc;
}

/* ---------------------------------------------------------------- symbolic links */

/* Most bytes of a link's target read (PATH_MAX: longer ones the kernel does not resolve anyway). */
#define LINK_TARGET_MAX 4096

static int local_readlink(ep *base, const char *rel, char **target, bool *absolute, smb_error *err)
{
    ep_local *e = (ep_local *)base;
    *target = NULL;
    char *path;
    int rc = full_path(e, rel, &path, err);
    if (rc < 0)
        return rc;
    char *buf = malloc(LINK_TARGET_MAX + 1);
    ssize_t n = buf ? readlink(path, buf, LINK_TARGET_MAX + 1) : -1;
    if (!buf)
        rc = no_memory(err, "read link", path);
    else if (n < 0)
        rc = local_err(err, errno, "read link", path);
    else if (n == 0 || n > LINK_TARGET_MAX)
        rc = smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "read link '%s': %s target", path, n ? "too long a" : "an empty");
    if (rc < 0) {
        free(buf);
        free(path);
        return rc;
    }
    buf[n] = '\0';
    *absolute = buf[0] == '/';
    *target = buf;
    free(path);
    return 0;
}

static int local_symlink(ep *base, const char *rel, const char *target, bool is_dir, smb_error *err)
{
    (void)is_dir; /* POSIX links do not say */
    ep_local *e = (ep_local *)base;
    char *path;
    int rc = full_path(e, rel, &path, err);
    if (rc < 0)
        return rc;
    if (symlink(target, path) < 0)
        rc = local_err(err, errno, "make link", path);
    free(path);
    return rc;
}

static int local_rename(ep *base, const char *from, const char *to, const ep_stat *meta, smb_error *err)
{
    (void)meta; /* nothing derives from a local name */
    ep_local *e = (ep_local *)base;
    char *pf, *pt;
    int rc = full_path(e, from, &pf, err);
    if (rc < 0)
        return rc;
    rc = full_path(e, to, &pt, err);
    if (rc < 0) {
        free(pf);
        return rc;
    }
    if (rename(pf, pt) < 0)
        rc = local_errf(err, errno, pf, "rename '%s' to '%s'", pf, pt);
    free(pf);
    free(pt);
    return rc;
}

/* ---------------------------------------------------------------- files */

static ep_file *file_new(ep_local *e, int fd, uint64_t size, char *path)
{
    ep_file *f = malloc(sizeof *f);
    if (!f)
        return NULL;
    if (pthread_mutex_init(&f->wlock, NULL) != 0) {
        free(f);
        return NULL;
    }
    f->e = e;
    f->fd = fd;
    f->size = size;
    f->path = path;
    return f;
}

static int local_open_read(ep *base, const char *rel, ep_file **out, smb_error *err)
{
    ep_local *e = (ep_local *)base;
    *out = NULL;
    char *path;
    int rc = full_path(e, rel, &path, err);
    if (rc < 0)
        return rc;
    /* O_NONBLOCK: a FIFO must not hang the open; it is refused below. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | (follows(e, rel) ? 0 : O_NOFOLLOW) | O_NONBLOCK);
    struct stat s;
    if (fd < 0 || fstat(fd, &s) < 0) {
        rc = local_err(err, errno, "open", path);
    } else if (S_ISDIR(s.st_mode)) {
        rc = local_err(err, EISDIR, "open", path);
    } else if (!S_ISREG(s.st_mode)) {
        rc = smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "open '%s': not a regular file", path);
    } else {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        *out = file_new(e, fd, 0, path);
        if (!*out)
            rc = no_memory(err, "open", path);
    }
    if (!*out) { /* failed: undo */
        if (fd >= 0)
            close(fd);
        free(path);
    }
    return rc;
}

/*
 * A file to write, at its final size (unwritten ranges stay holes): made
 * new (open_write; removed again on failure), or one an earlier run made
 * (open_resume: a regular file, its content kept).
 */
static int open_for_write(ep_local *e, const char *rel, uint64_t size, bool resume, ep_file **out, smb_error *err)
{
    *out = NULL;
    char *path;
    int rc = full_path(e, rel, &path, err);
    if (rc < 0)
        return rc;
    const char *what = resume ? "open" : "create";
    int fd = resume ? open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
                    : open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    struct stat s;
    if (fd < 0 || fstat(fd, &s) < 0)
        rc = local_err(err, errno, what, path); // NOLINT(bugprone-branch-clone): each failing call reports its errno
    else if (!S_ISREG(s.st_mode))
        rc = smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "open '%s': not a regular file", path);
    else if (size > (uint64_t)INT64_MAX)
        rc = local_err(err, EFBIG, what, path);
    else if (((uint64_t)s.st_size != size && ftruncate(fd, (off_t)size) < 0) ||
             (resume && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0))
        rc = local_err(err, errno, what, path);
    else if (!(*out = file_new(e, fd, size, path)))
        rc = no_memory(err, what, path);
    if (!*out) { /* failed: undo */
        if (fd >= 0) {
            close(fd);
            if (!resume)
                unlink(path);
        }
        free(path);
    }
    return rc;
}

static int local_open_write(ep *base, const char *rel, const ep_stat *meta, ep_file **out, smb_error *err)
{
    return open_for_write((ep_local *)base, rel, meta->size, false, out, err);
}

static int local_open_resume(ep *base, const char *rel, uint64_t size, ep_file **out, smb_error *err)
{
    return open_for_write((ep_local *)base, rel, size, true, out, err);
}

static ep_io *io_new(size_t n, const ep_file *f, smb_error *err)
{
    ep_io *io = malloc(sizeof *io);
    if (!io) {
        no_memory(err, "I/O on", f->path);
        return NULL;
    }
    io->n = n;
    return io;
}

/* Data ranges through SEEK_DATA and SEEK_HOLE (a filesystem without them reports one range: all data). */
static int local_data_ranges(ep_file *f, uint64_t size, ep_range **out, size_t *n, smb_error *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0, have = 0;
    ep_range *r = NULL;
    off_t pos = 0;
    while ((uint64_t)pos < size) {
        off_t data = lseek(f->fd, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            break; /* only a hole after pos */
        if (data < 0) {
            free(r);
            return smb_err_set(err, errno_code(errno, NULL), 0, "%s: find data: %s", f->path, strerror(errno));
        }
        if ((uint64_t)data >= size)
            break;
        off_t hole = lseek(f->fd, data, SEEK_HOLE);
        if (hole < 0 || (uint64_t)hole > size || have + 1 == EP_MAX_RANGES)
            hole = (off_t)size;
        if (!ARRAY_RESERVE(r, cap, have + 1, 16)) {
            free(r);
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        }
        r[have].off = (uint64_t)data;
        r[have].len = (uint64_t)(hole - data);
        have++;
        pos = hole;
    }
    *out = r; /* NULL when nothing was found */
    *n = have;
    return 0;
}

static ep_io *local_read_submit(ep_file *f, void *buf, size_t len, uint64_t off, smb_error *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(f->fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            local_err(err, errno, "read", f->path);
            return NULL;
        }
        if (r == 0)
            break; /* end of file */
        done += (size_t)r;
    }
    if (f->e->counters)
        __atomic_fetch_add(&f->e->counters->bytes_read, (uint64_t)done, __ATOMIC_RELAXED);
    return io_new(done, f, err);
}

static ep_io *local_write_submit(ep_file *f, const void *buf, size_t len, uint64_t off, smb_error *err)
{
    /*
     * Zeros inside the size set at open_write already read as zeros (a
     * hole): skipping them keeps sparse files sparse.
     */
    bool skip = off <= f->size && len <= f->size - off && mem_all_zero(buf, len);
    size_t done = 0;
    int failed = 0;
    if (!skip)
        pthread_mutex_lock(&f->wlock);
    while (!skip && done < len) {
        ssize_t w = pwrite(f->fd, (const char *)buf + done, len - done, (off_t)(off + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            failed = w < 0 ? errno : ENOSPC;
            break;
        }
        done += (size_t)w;
    }
    if (!skip)
        pthread_mutex_unlock(&f->wlock);
    if (failed) {
        local_err(err, failed, "write", f->path);
        return NULL;
    }
    if (f->e->counters && !skip)
        __atomic_fetch_add(&f->e->counters->bytes_written, (uint64_t)len, __ATOMIC_RELAXED);
    return io_new(len, f, err);
}

static int local_io_wait(ep_io *io, size_t *n, smb_error *err)
{
    if (!io)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "local I/O: no request");
    if (n)
        *n = io->n;
    free(io);
    return 0;
}

static int local_file_fd(ep_file *f) { return f->fd; }

static size_t local_io_size(ep_file *f)
{
    (void)f;
    return LOCAL_IO_SIZE;
}

static int local_finish(ep_file *f, const ep_stat *meta, ep_stat *got, smb_error *err)
{
    struct timespec ts[2];
    struct stat s;
    meta_times(meta, ts);
    if (futimens(f->fd, ts) < 0)
        return local_err(err, errno, "set times of", f->path);
    /* The permission bits given (a local source's, or those of the file an update replaces); else the umask's. */
    if (meta->has_mode && fchmod(f->fd, meta->mode & MODE_KEPT) < 0)
        return local_err(err, errno, "chmod", f->path);
    /* After the times: a read-only file loses every write bit. */
    if (meta->attributes & SMB_ATTR_READONLY) {
        if (fstat(f->fd, &s) < 0)
            return local_err(err, errno, "stat", f->path);
        if (fchmod(f->fd, s.st_mode & 07555) < 0)
            return local_err(err, errno, "chmod", f->path);
    }
    if (fstat(f->fd, &s) < 0)
        return local_err(err, errno, "stat", f->path);
    if (got)
        fill_stat(&s, got);
    return 0;
}

static int local_fstat(ep_file *f, ep_stat *st, smb_error *err)
{
    struct stat s;
    if (fstat(f->fd, &s) < 0)
        return local_err(err, errno, "stat", f->path);
    fill_stat(&s, st);
    /* Cheap on the open file: the engine then copies a file without streams on its fastest path. */
    if (S_ISREG(s.st_mode))
        st->streams = ep_local_streams_state(f->fd);
    return 0;
}

static int local_close(ep_file *f, smb_error *err)
{
    if (!f)
        return 0;
    int rc = 0;
    if (close(f->fd) < 0 && errno != EINTR)
        rc = local_err(err, errno, "close", f->path);
    pthread_mutex_destroy(&f->wlock);
    free(f->path);
    free(f);
    return rc;
}

/* ---------------------------------------------------------------- streams and security descriptors */

/* An entry opened for its extended attributes (O_RDONLY is enough for fsetxattr: the owner's right counts). */
static int local_open_meta(ep *base, const char *rel, bool is_dir, bool for_write, ep_file **out, smb_error *err)
{
    (void)for_write;
    ep_local *e = (ep_local *)base;
    *out = NULL;
    char *path;
    int rc = full_path(e, rel, &path, err);
    if (rc < 0)
        return rc;
    /* The root, as named on the command line, may be a link to a directory: it is followed, as listings do. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (is_dir ? O_DIRECTORY : 0) |
                            (rel[0] && !follows(e, rel) ? O_NOFOLLOW : 0));
    struct stat s;
    if (fd >= 0 && (fstat(fd, &s) != 0 || (!is_dir && !S_ISREG(s.st_mode)))) { /* never a FIFO or device */
        close(fd);
        fd = -1;
        errno = EINVAL;
    }
    if (fd < 0) {
        rc = local_err(err, errno, is_dir ? "open directory" : "open", path);
        free(path);
        return rc;
    }
    if (!(*out = file_new(e, fd, 0, path))) {
        close(fd);
        rc = no_memory(err, is_dir ? "open directory" : "open", path);
        free(path);
    }
    return rc;
}

/* In the open file's extended attributes (ep_local_meta.h). */

static int local_get_streams(ep_file *f, ep_streams *out, smb_error *err)
{
    return ep_local_get_streams(f->fd, f->path, out, err);
}

static int local_put_streams(ep_file *f, ep_streams *s, smb_error *err)
{
    return ep_local_put_streams(f->fd, f->path, s, err);
}

static int local_get_sd(ep_file *f, uint32_t parts, ep_sd *out, smb_error *err)
{
    return ep_local_get_sd(f->fd, f->path, parts, out, err);
}

static int local_put_sd(ep_file *f, const ep_sd *sd, smb_error *err)
{
    return ep_local_put_sd(f->fd, f->path, sd, err);
}

/* ---------------------------------------------------------------- endpoint */

static void local_free(ep *base)
{
    ep_local *e = (ep_local *)base;
    if (!e)
        return;
    free(e->root);
    free(e->follow);
    free(e->base.display);
    free(e);
}

static const ep_ops local_ops = {
    .kind = "local",
    .stat = local_stat,
    .list = local_list,
    .mkdir = local_mkdir,
    .open_read = local_open_read,
    .open_write = local_open_write,
    .open_resume = local_open_resume,
    .read_submit = local_read_submit,
    .data_ranges = local_data_ranges,
    .write_submit = local_write_submit,
    .io_wait = local_io_wait,
    .io_size = local_io_size,
    .file_fd = local_file_fd,
    .finish = local_finish,
    .close = local_close,
    .fstat = local_fstat,
    .rename = local_rename,
    .unlink = local_unlink,
    .rmdir = local_rmdir,
    .set_meta = local_set_meta,
    .server_copy = NULL,
    .same_server = NULL,
    .get_streams = local_get_streams,
    .put_streams = local_put_streams,
    .open_meta = local_open_meta,
    .get_sd = local_get_sd,
    .put_sd = local_put_sd,
    .readlink = local_readlink,
    .symlink = local_symlink,
    .free = local_free,
};

ep *ep_local_open(const char *root, ep_counters *counters, smb_error *err)
{
    if (!root || !root[0]) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "local endpoint: empty root path");
        return NULL;
    }
    ep_local *e = calloc(1, sizeof *e);
    if (e) {
        e->root = strdup(root);
        e->base.display = strdup(root);
    }
    if (!e || !e->root || !e->base.display) {
        local_free(e ? &e->base : NULL);
        no_memory(err, "open", root);
        return NULL;
    }
    /* Drop trailing '/' so joined paths read well; "/" stays. */
    size_t n = strlen(e->root);
    while (n > 1 && e->root[n - 1] == '/')
        e->root[--n] = '\0';
    e->base.ops = &local_ops;
    e->base.caps = 0; /* no creation time, no DOS attributes, POSIX names */
    e->base.max_writers = 0; /* writes to one file are serialised in user space (local_write_submit) */
    e->counters = counters;
    return &e->base;
}

ep *ep_local_open_following(const char *root, const char *follow, ep_counters *counters, smb_error *err)
{
    ep *base = ep_local_open(root, counters, err);
    ep_local *e = (ep_local *)base;
    if (e && follow && !(e->follow = strdup(follow))) {
        local_free(base);
        no_memory(err, "open", root);
        return NULL;
    }
    return base;
}

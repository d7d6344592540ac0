/* Writing tar archives through libarchive (see archive_out.h). */
#include "engine/archive/archive_out.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/names/temp_names.h"
#include "common/error.h"

struct arc_out {
    struct archive *a;
    /*
     * libarchive converts names through the calling thread's locale, and a
     * UTF-8 name in the "C" locale crashes its pax writer: every call runs
     * under a private C.UTF-8 locale (uselocale: this thread only, nothing
     * global changes).
     */
    locale_t loc;
    int fd;
    char *path; /* final name; NULL for standard output */
    char *tmp;  /* where it is written meanwhile */
    bool in_file;
    uint64_t want, got; /* the current file's size, and bytes written (holes of a sparse one included) */
    bool sparse;        /* the current file is a sparse entry */
    uint64_t data_end;  /* and the end of its last data range */
    uint8_t *zeros;     /* ZEROS bytes of zeros, for holes (allocated on first use) */
    char *rel;          /* the current file, for messages */
};

static const struct {
    const char *suffix;
    arc_filter filter;
} suffixes[] = {
    {".tar", ARC_NONE},      {".tar.gz", ARC_GZIP},   {".tgz", ARC_GZIP},   {".tar.xz", ARC_XZ},
    {".txz", ARC_XZ},        {".tar.bz2", ARC_BZIP2}, {".tbz2", ARC_BZIP2}, {".tbz", ARC_BZIP2},
    {".tar.zst", ARC_ZSTD},  {".tzst", ARC_ZSTD},
};

int arc_filter_from_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t s = strlen(suffixes[i].suffix);
        if (n > s && strcasecmp(name + n - s, suffixes[i].suffix) == 0)
            return (int)suffixes[i].filter;
    }
    return -1;
}

int arc_filter_from_format(const char *f)
{
    static const struct {
        const char *name;
        arc_filter filter;
    } names[] = {
        {"tar", ARC_NONE},     {"tar.gz", ARC_GZIP},   {"tgz", ARC_GZIP},    {"gzip", ARC_GZIP}, {"gz", ARC_GZIP},
        {"tar.xz", ARC_XZ},    {"txz", ARC_XZ},        {"xz", ARC_XZ},       {"tar.bz2", ARC_BZIP2},
        {"bzip2", ARC_BZIP2},  {"bz2", ARC_BZIP2},     {"tar.zst", ARC_ZSTD}, {"tzst", ARC_ZSTD},
        {"zstd", ARC_ZSTD},    {"zst", ARC_ZSTD},
    };
    for (size_t i = 0; f && i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(f, names[i].name) == 0)
            return (int)names[i].filter;
    return -1;
}

bool sc_archive_name(const char *name)
{
    return arc_filter_from_name(name) >= 0;
}

bool sc_archive_format_known(const char *format)
{
    return arc_filter_from_format(format) >= 0;
}

static int lib_fail(arc_out *a, smb_error *err, const char *what)
{
    const char *why = archive_error_string(a->a);
    int e = archive_errno(a->a);
    return smb_err_set(err, e == ENOSPC ? SMB_ERR_NO_SPACE : SMB_ERR_INVALID_ARG, 0, "archive %s: %s: %s",
                       a->path ? a->path : "(standard output)", what, why ? why : strerror(e ? e : EIO));
}

/* Filter and its options; the level is checked against the filter's range. */
static int set_filter(arc_out *a, const arc_out_opts *o, smb_error *err)
{
    static const struct {
        const char *module;
        int min, max;
    } levels[] = {[ARC_NONE] = {NULL, 0, 0},   [ARC_GZIP] = {"gzip", 1, 9}, [ARC_XZ] = {"xz", 0, 9},
                  [ARC_BZIP2] = {"bzip2", 1, 9}, [ARC_ZSTD] = {"zstd", 1, 22}};
    int r = ARCHIVE_OK;
    switch (o->filter) {
    case ARC_NONE: break;
    case ARC_GZIP: r = archive_write_add_filter_gzip(a->a); break;
    case ARC_XZ: r = archive_write_add_filter_xz(a->a); break;
    case ARC_BZIP2: r = archive_write_add_filter_bzip2(a->a); break;
    case ARC_ZSTD: r = archive_write_add_filter_zstd(a->a); break;
    default: return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "unknown archive compression %d", (int)o->filter);
    }
    if (r != ARCHIVE_OK)
        return lib_fail(a, err, "compression");
    const char *module = levels[o->filter].module;
    if (o->level >= 0) {
        if (!module || o->level < levels[o->filter].min || o->level > levels[o->filter].max)
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "compression level %d is out of range for %s (%d..%d)",
                               o->level, module ? module : "an uncompressed archive", levels[o->filter].min,
                               levels[o->filter].max);
        char v[16];
        snprintf(v, sizeof v, "%d", o->level);
        if (archive_write_set_filter_option(a->a, module, "compression-level", v) != ARCHIVE_OK)
            return lib_fail(a, err, "compression level");
    }
    if (o->threads > 1 && (o->filter == ARC_ZSTD || o->filter == ARC_XZ)) {
        char v[16];
        snprintf(v, sizeof v, "%u", o->threads);
        if (archive_write_set_filter_option(a->a, module, "threads", v) != ARCHIVE_OK)
            return lib_fail(a, err, "compression threads");
    }
    return 0;
}

static void arc_free(arc_out *a, bool complete)
{
    /*
     * Freeing the writer writes the trailer: after a failure it must not reach
     * standard output (a cut archive must not look whole), so it goes to
     * /dev/null there; a file is removed anyway.
     */
    if (a->a && !complete && !a->path && a->fd >= 0) {
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, a->fd);
            close(null);
        }
    }
    if (a->a)
        archive_write_free(a->a);
    if (a->fd >= 0)
        close(a->fd);
    free(a->path);
    free(a->tmp);
    free(a->rel);
    free(a->zeros);
    free(a);
}

int arc_out_open(const char *path, const arc_out_opts *opts, arc_out **out, smb_error *err)
{
    *out = NULL;
    arc_out *a = calloc(1, sizeof *a);
    if (!a)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    a->fd = -1;
    a->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t old = a->loc ? uselocale(a->loc) : (locale_t)0;
    bool to_stdout = strcmp(path, "-") == 0;
    int rc = 0;
    struct stat st;
    if (!to_stdout && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        rc = smb_err_set(err, SMB_ERR_EXISTS, 0, "archive %s is a directory", path);
    if (rc == 0 && !to_stdout && (!(a->path = strdup(path)) || !(a->tmp = temp_name_beside(path))))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0 && !(a->a = archive_write_new()))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0 && archive_write_set_format_pax(a->a) != ARCHIVE_OK)
        rc = lib_fail(a, err, "format");
    /* Extended attributes as SCHILY.xattr only, which GNU tar reads without a warning. */
    if (rc == 0 && archive_write_set_format_option(a->a, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK)
        rc = lib_fail(a, err, "format options");
    if (rc == 0)
        rc = set_filter(a, opts, err);
    /* Whole 10 KiB blocks as tar readers expect; the last one padded. */
    if (rc == 0 && archive_write_set_bytes_in_last_block(a->a, 1) != ARCHIVE_OK)
        rc = lib_fail(a, err, "block size");
    if (rc == 0) {
        /* Standard output through a private copy of its descriptor (see arc_free). */
        a->fd = to_stdout ? fcntl(1, F_DUPFD_CLOEXEC, 3) : open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (a->fd < 0)
            rc = smb_err_set(err, errno == ENOSPC ? SMB_ERR_NO_SPACE : errno == EACCES ? SMB_ERR_ACCESS
                                                                      : SMB_ERR_NOT_FOUND,
                             0, "archive %s: cannot create it: %s", path, strerror(errno));
    }
    if (rc == 0 && archive_write_open_fd(a->a, a->fd) != ARCHIVE_OK)
        rc = lib_fail(a, err, "open");
    if (rc != 0) {
        if (a->fd >= 0 && a->path)
            unlink(a->tmp);
        locale_t loc = a->loc;
        arc_free(a, false);
        if (old)
            uselocale(old);
        if (loc)
            freelocale(loc);
        return rc;
    }
    if (old)
        uselocale(old);
    *out = a;
    return 0;
}

/* FILETIME (100 ns since 1601) to seconds and nanoseconds since 1970. */
static void unix_time(uint64_t ft, time_t *s, long *ns)
{
    const uint64_t epoch = 116444736000000000ull;
    if (ft < epoch) {
        *s = 0;
        *ns = 0;
        return;
    }
    *s = (time_t)((ft - epoch) / 10000000u);
    *ns = (long)((ft - epoch) % 10000000u) * 100;
}

/* ------------------------------------------------------------ streams and descriptors */

/* A pax record "<len> SCHILY.xattr.<name>=<value>\n": the bytes besides name and value (a length of up to 8 digits). */
#define XATTR_RECORD_OVERHEAD (sizeof "12345678 SCHILY.xattr.=\n" - 1)
/* What the records other than the extra may take besides the entry's name (written twice in a sparse entry). */
#define OTHER_RECORDS 4096

/* Length of name as libarchive writes it in a pax keyword: bytes outside '!'..'~', '%' and '=' as %XX. */
static size_t keyword_len(const char *name)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        n += *p < 33 || *p > 126 || *p == '%' || *p == '=' ? 3 : 1;
    return n;
}

size_t arc_out_extra_room(const char *rel)
{
    size_t taken = 2 * strlen(rel) + OTHER_RECORDS;
    return taken < ARC_PAX_HEADER_MAX ? ARC_PAX_HEADER_MAX - taken : 0;
}

size_t arc_out_stream_cost(const char *name, size_t len)
{
    size_t key = sizeof ARC_STREAM_XATTR_PREFIX - 1 + keyword_len(name) + sizeof ARC_STREAM_XATTR_SUFFIX - 1;
    if (key > ARC_XATTR_NAME_MAX)
        return 0;
    return XATTR_RECORD_OVERHEAD + key + len + 1; /* the value ends with a NUL */
}

size_t arc_out_sd_cost(size_t len)
{
    return XATTR_RECORD_OVERHEAD + sizeof ARC_SD_XATTR - 1 + len;
}

/* Whether extra fits in rel's header. */
static bool extra_fits(const char *rel, const arc_out_extra *x)
{
    size_t room = arc_out_extra_room(rel), used = 0;
    if (x->sd && x->sd->len)
        used += arc_out_sd_cost(x->sd->len);
    for (size_t i = 0; x->streams && i < x->streams->n; i++) {
        size_t c = arc_out_stream_cost(x->streams->v[i].name, x->streams->v[i].len);
        if (c == 0 || c > room)
            return false;
        used += c;
    }
    return used <= room;
}

/*
 * Add extra to e as extended attributes; false when out of memory. An
 * entry lists its attributes last added first, and the pax writer writes
 * them so: the streams go in last to first, to be written in their order.
 */
static bool add_extra(struct archive_entry *e, const arc_out_extra *x)
{
    for (size_t i = x->streams ? x->streams->n : 0; i-- > 0;) {
        const ep_stream *st = &x->streams->v[i];
        char *name = NULL;
        uint8_t *value = malloc(st->len + 1);
        if (!value ||
            asprintf(&name, "%s%s%s", ARC_STREAM_XATTR_PREFIX, st->name, ARC_STREAM_XATTR_SUFFIX) < 0) {
            free(value);
            return false;
        }
        /* As vfs_streams_xattr keeps a stream: its bytes and a NUL (it reads the size as one less). */
        if (st->len)
            memcpy(value, st->data, st->len);
        value[st->len] = 0;
        archive_entry_xattr_add_entry(e, name, value, st->len + 1); /* copies both */
        free(name);
        free(value);
    }
    if (x->sd && x->sd->len)
        archive_entry_xattr_add_entry(e, ARC_SD_XATTR, x->sd->bytes, x->sd->len);
    return true;
}

/* ------------------------------------------------------------ entries */

/* An entry with st's times, DOS attributes, a plain mode and extra (NULL: none). */
static struct archive_entry *entry_for(const char *rel, const ep_stat *st, bool dir, const ep_range *ranges,
                                       size_t nranges, const arc_out_extra *extra)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return NULL;
    archive_entry_set_pathname_utf8(e, rel);
    archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
    bool ro = st->attributes & SMB_ATTR_READONLY;
    archive_entry_set_perm(e, dir ? 0755 : ro ? 0444 : 0644);
    archive_entry_set_size(e, dir ? 0 : (la_int64_t)st->size);
    time_t s;
    long ns;
    if (st->mtime) {
        unix_time(st->mtime, &s, &ns);
        archive_entry_set_mtime(e, s, ns);
    }
    if (st->ctime) {
        /*
         * Not LIBARCHIVE.creationtime, which GNU tar warns about on every
         * entry: an extended attribute, which it skips quietly.
         */
        char v[40];
        unix_time(st->ctime, &s, &ns);
        int n = snprintf(v, sizeof v, "%lld.%07ld", (long long)s, ns / 100);
        archive_entry_xattr_add_entry(e, ARC_CTIME_XATTR, v, (size_t)n);
    }
    uint32_t dos = st->attributes & (SMB_ATTR_READONLY | SMB_ATTR_HIDDEN | SMB_ATTR_SYSTEM | SMB_ATTR_ARCHIVE);
    if (dos) {
        char v[16];
        int n = snprintf(v, sizeof v, "0x%x", dos);
        archive_entry_xattr_add_entry(e, ARC_DOSATTRIB_XATTR, v, (size_t)n);
    }
    /* A sparse entry: pax GNU.sparse 1.0, the data ranges' map before the data (GNU tar and bsdtar read it). */
    for (size_t i = 0; i < nranges; i++)
        archive_entry_sparse_add_entry(e, (la_int64_t)ranges[i].off, (la_int64_t)ranges[i].len);
    if (extra && !add_extra(e, extra)) {
        archive_entry_free(e);
        return NULL;
    }
    return e;
}

static int put_header(arc_out *a, const char *rel, const ep_stat *st, bool dir, const ep_range *ranges,
                      size_t nranges, const arc_out_extra *extra, smb_error *err)
{
    if (a->in_file)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: %s started before %s ended", rel, a->rel);
    if (extra && !extra_fits(rel, extra))
        return smb_err_set(err, SMB_ERR_NO_SPACE, 0,
                           "archive: the named streams and security descriptor of %s do not fit in its header", rel);
    struct archive_entry *e = entry_for(rel, st, dir, ranges, nranges, extra);
    if (!e)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    int r = archive_write_header(a->a, e);
    archive_entry_free(e);
    if (r < ARCHIVE_WARN)
        return lib_fail(a, err, rel);
    return 0;
}

static int arc_out_dir_locked(arc_out *a, const char *rel, const ep_stat *st, const arc_out_extra *extra,
                              smb_error *err)
{
    return put_header(a, rel, st, true, NULL, 0, extra, err);
}

static int arc_out_file_locked(arc_out *a, const char *rel, const ep_stat *st, const ep_range *ranges, size_t n,
                               const arc_out_extra *extra, smb_error *err)
{
    uint64_t prev_end = 0;
    for (size_t i = 0; i < n; i++) {
        if (ranges[i].off < prev_end || ranges[i].len > st->size || ranges[i].off > st->size - ranges[i].len)
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: bad data ranges for %s", rel);
        prev_end = ranges[i].off + ranges[i].len;
    }
    int rc = put_header(a, rel, st, false, ranges, n, extra, err);
    if (rc == 0) {
        free(a->rel);
        a->rel = strdup(rel);
        a->in_file = true;
        a->want = st->size;
        a->got = 0;
        a->sparse = ranges != NULL;
        a->data_end = prev_end;
    }
    return rc;
}

static int arc_out_data_locked(arc_out *a, const void *buf, size_t len, smb_error *err)
{
    if (!a->in_file || len > a->want - a->got)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: more data than the entry's size");
    const char *p = buf;
    while (len) {
        la_ssize_t w = archive_write_data(a->a, p, len);
        if (w == 0 && a->sparse && a->got >= a->data_end) {
            a->got += len; /* the trailing hole of a sparse entry: nothing is stored */
            break;
        }
        if (w <= 0)
            return lib_fail(a, err, a->rel ? a->rel : "data");
        p += w;
        len -= (size_t)w;
        a->got += (uint64_t)w;
    }
    return 0;
}

#define ZEROS ((size_t)1 << 20)

static int arc_out_skip_locked(arc_out *a, uint64_t off, smb_error *err)
{
    if (!a->in_file || !a->sparse || off < a->got || off > a->want)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: bad skip in %s", a->rel ? a->rel : "?");
    if (off > a->got && !a->zeros && !(a->zeros = calloc(1, ZEROS)))
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    /* Zeros through the writer, which stores none in holes (libarchive keeps the position in the map). */
    int rc = 0;
    while (rc == 0 && a->got < off) {
        size_t n = off - a->got < ZEROS ? (size_t)(off - a->got) : ZEROS;
        rc = arc_out_data_locked(a, a->zeros, n, err);
    }
    return rc;
}

static int arc_out_file_end_locked(arc_out *a, smb_error *err)
{
    if (!a->in_file)
        return 0;
    if (a->sparse && a->got < a->want) {
        int rc = arc_out_skip_locked(a, a->want, err);
        if (rc != 0) {
            a->in_file = false;
            return rc;
        }
    }
    a->in_file = false;
    if (a->got != a->want)
        return smb_err_set(err, SMB_ERR_SERVER, 0, "archive: %s ended after %llu of %llu bytes", a->rel,
                           (unsigned long long)a->got, (unsigned long long)a->want);
    if (archive_write_finish_entry(a->a) != ARCHIVE_OK)
        return lib_fail(a, err, a->rel);
    return 0;
}

static int arc_out_close_locked(arc_out *a, bool complete, smb_error *err)
{
    int rc = 0;
    if (complete && a->in_file)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: closed inside %s", a->rel);
    if (complete && rc == 0 && archive_write_close(a->a) != ARCHIVE_OK)
        rc = lib_fail(a, err, "finish");
    if (complete && rc == 0 && a->path && fsync(a->fd) != 0)
        rc = smb_err_set(err, errno == ENOSPC ? SMB_ERR_NO_SPACE : SMB_ERR_SERVER, 0, "archive %s: %s", a->path,
                         strerror(errno));
    if (a->path) {
        if (close(a->fd) != 0 && complete && rc == 0)
            rc = smb_err_set(err, SMB_ERR_SERVER, 0, "archive %s: %s", a->path, strerror(errno));
        a->fd = -1;
        if (complete && rc == 0 && rename(a->tmp, a->path) != 0)
            rc = smb_err_set(err, SMB_ERR_SERVER, 0, "archive %s: rename into place: %s", a->path, strerror(errno));
        if (!complete || rc != 0)
            unlink(a->tmp);
    }
    arc_free(a, complete && rc == 0);
    return rc;
}

/* The public entry points: each runs under the archive's locale. */
#define IN_LOCALE(a, call)                                                                                     \
    do {                                                                                                       \
        locale_t old_ = (a)->loc ? uselocale((a)->loc) : (locale_t)0;                                          \
        int rc_ = (call);                                                                                      \
        if (old_)                                                                                              \
            uselocale(old_);                                                                                   \
        return rc_;                                                                                            \
    } while (0)

int arc_out_dir(arc_out *a, const char *rel, const ep_stat *st, const arc_out_extra *extra, smb_error *err)
{
    IN_LOCALE(a, arc_out_dir_locked(a, rel, st, extra, err));
}

int arc_out_file(arc_out *a, const char *rel, const ep_stat *st, const arc_out_extra *extra, smb_error *err)
{
    IN_LOCALE(a, arc_out_file_locked(a, rel, st, NULL, 0, extra, err));
}

int arc_out_file_sparse(arc_out *a, const char *rel, const ep_stat *st, const ep_range *ranges, size_t n,
                        const arc_out_extra *extra, smb_error *err)
{
    static const ep_range none = {0, 0};
    IN_LOCALE(a, arc_out_file_locked(a, rel, st, ranges ? ranges : &none, ranges ? n : 0, extra, err));
}

int arc_out_skip_to(arc_out *a, uint64_t off, smb_error *err)
{
    IN_LOCALE(a, arc_out_skip_locked(a, off, err));
}

int arc_out_data(arc_out *a, const void *buf, size_t len, smb_error *err)
{
    IN_LOCALE(a, arc_out_data_locked(a, buf, len, err));
}

int arc_out_file_end(arc_out *a, smb_error *err)
{
    IN_LOCALE(a, arc_out_file_end_locked(a, err));
}

int arc_out_close(arc_out *a, bool complete, smb_error *err)
{
    if (!a)
        return 0;
    locale_t loc = a->loc, old = loc ? uselocale(loc) : (locale_t)0;
    int rc = arc_out_close_locked(a, complete, err); /* frees a */
    if (old)
        uselocale(old);
    if (loc)
        freelocale(loc);
    return rc;
}

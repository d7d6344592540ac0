/* Reading archives through libarchive, names checked (see archive_in.h). */
#include "engine/archive/archive_in.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/name_table.h"
#include "engine/archive/archive_out.h"
#include "engine/plan.h"
#include "common/error.h"
#include "common/hex.h"
#include "common/wire.h"

struct arc_in {
    struct archive *a;
    locale_t loc; /* libarchive converts names through the thread's locale: a private C.UTF-8 one */
    char *path;
    char *rel;    /* the current entry's checked name */
    struct archive_entry *entry; /* the current entry (libarchive's, valid until the next header), or NULL */
    bool sparse;  /* the current entry is sparse */
    uint64_t left; /* and bytes of it not yet read */
    char why[200];
};

static int lib_fail(arc_in *a, smb_error *err, const char *what)
{
    const char *why = archive_error_string(a->a);
    return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "archive %s: %s: %s", a->path, what,
                       why ? why : strerror(archive_errno(a->a) ? archive_errno(a->a) : EIO));
}

int arc_in_open(const char *path, arc_in **out, smb_error *err)
{
    *out = NULL;
    arc_in *a = calloc(1, sizeof *a);
    if (!a || !(a->path = strdup(strcmp(path, "-") == 0 ? "(standard input)" : path))) {
        free(a);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    a->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t old = a->loc ? uselocale(a->loc) : (locale_t)0;
    int rc = 0;
    if (!(a->a = archive_read_new()))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0) {
        /*
         * Only the decompressors libarchive has built in: _filter_all would
         * also let an archive's first bytes choose an external program
         * (lrzip, lzop, grzip) to run on its contents.
         */
        archive_read_support_filter_gzip(a->a);
        archive_read_support_filter_bzip2(a->a);
        archive_read_support_filter_xz(a->a);
        archive_read_support_filter_lzma(a->a);
        archive_read_support_filter_lzip(a->a);
        archive_read_support_filter_zstd(a->a);
        archive_read_support_filter_lz4(a->a);
        archive_read_support_filter_compress(a->a);
        archive_read_support_format_all(a->a);
        int r = strcmp(path, "-") == 0 ? archive_read_open_fd(a->a, 0, 1 << 20)
                                       : archive_read_open_filename(a->a, path, 1 << 20);
        if (r != ARCHIVE_OK) {
            int e = archive_errno(a->a);
            rc = e == ENOENT ? smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "archive %s not found", path)
                             : lib_fail(a, err, "open");
        }
    }
    if (old)
        uselocale(old);
    if (rc != 0) {
        arc_in_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

static uint64_t filetime(time_t s, long ns)
{
    if (s < 0)
        return 0;
    return 116444736000000000ull + (uint64_t)s * 10000000ull + (uint64_t)(ns / 100);
}

/*
 * The values of the extended attributes archive_out.c writes; the archive
 * is untrusted, so anything else (signs, spaces, other characters, numbers
 * out of range) is refused: false.
 */

/* "<seconds>[.<up to 7 digits>]" since 1970: *ft the FILETIME. */
static bool parse_ctime(const char *v, uint64_t *ft)
{
    /* The latest second whose FILETIME, fraction included, fits in 64 bits. */
    const long long max_s = (long long)((UINT64_MAX - 116444736000000000ull) / 10000000ull) - 1;
    if (!isdigit((unsigned char)v[0]))
        return false;
    char *end;
    errno = 0;
    long long s = strtoll(v, &end, 10);
    if (errno != 0 || s > max_s)
        return false;
    long hundreds = 0;
    if (*end == '.') {
        int digits = 0;
        for (end++; digits < 7 && isdigit((unsigned char)*end); digits++, end++)
            hundreds = hundreds * 10 + (*end - '0');
        if (digits == 0)
            return false;
        for (; digits < 7; digits++)
            hundreds *= 10;
    }
    if (*end != '\0')
        return false;
    *ft = filetime((time_t)s, hundreds * 100);
    return true;
}

/* "0x<hex digits>", a 32-bit value. */
static bool parse_dosattrib(const char *v, uint64_t *attrs)
{
    if (v[0] != '0' || v[1] != 'x')
        return false;
    size_t n = strspn(v + 2, "0123456789abcdefABCDEF");
    if (n == 0 || v[2 + n] != '\0')
        return false;
    errno = 0;
    unsigned long long x = strtoull(v + 2, NULL, 16);
    if (errno != 0 || x > UINT32_MAX)
        return false;
    *attrs = x;
    return true;
}

/*
 * When xattr name x is ARC_STREAM_XATTR_PREFIX NAME ARC_STREAM_XATTR_SUFFIX
 * and NAME, %XX decoded, is a name a stream may have (ep_stream_name_ok):
 * that name, malloc'd. Otherwise NULL, with *oom set when out of memory.
 */
static char *stream_of_xattr(const char *x, bool *oom)
{
    const size_t pl = sizeof ARC_STREAM_XATTR_PREFIX - 1, sl = sizeof ARC_STREAM_XATTR_SUFFIX - 1;
    size_t n = strlen(x);
    if (n < pl + sl || memcmp(x, ARC_STREAM_XATTR_PREFIX, pl) != 0 ||
        memcmp(x + n - sl, ARC_STREAM_XATTR_SUFFIX, sl) != 0)
        return NULL;
    char *name = malloc(n - pl - sl + 1); /* decoding only shortens it */
    if (!name) {
        *oom = true;
        return NULL;
    }
    size_t k = 0;
    bool bad = false;
    smb_rd r;
    smb_rd_init(&r, x + pl, n - pl - sl);
    while (!bad && smb_rd_left(&r) > 0) {
        uint8_t c = smb_rd_u8(&r);
        if (c == '%') {
            int hi = hex_digit_value(smb_rd_u8(&r)), lo = hex_digit_value(smb_rd_u8(&r));
            bad = hi < 0 || lo < 0 || !smb_rd_ok(&r); /* not %XX: not a name either form writes */
            c = bad ? 0 : (uint8_t)(hi << 4 | lo);
        }
        name[k++] = (char)c;
    }
    if (bad || !ep_stream_name_ok(name, k)) {
        free(name);
        return NULL;
    }
    name[k] = '\0';
    return name;
}

/* Creation time, DOS attributes and whether there are streams, from the extended attributes archive_out.c writes. */
static void read_xattrs(struct archive_entry *e, ep_stat *st)
{
    const char *name;
    const void *value;
    size_t len;
    st->streams = EP_STREAMS_NONE;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &len) == ARCHIVE_OK) {
        char v[48];
        if (st->streams == EP_STREAMS_NONE) {
            bool oom = false;
            char *stream = stream_of_xattr(name, &oom);
            if (stream || oom)
                st->streams = stream ? EP_STREAMS_SOME : EP_STREAMS_UNKNOWN;
            free(stream);
        }
        if (!value || len >= sizeof v)
            continue;
        memcpy(v, value, len);
        v[len] = '\0';
        uint64_t x;
        if (strcmp(name, ARC_CTIME_XATTR) == 0 && parse_ctime(v, &x))
            st->ctime = x;
        else if (strcmp(name, ARC_DOSATTRIB_XATTR) == 0 && parse_dosattrib(v, &x))
            st->attributes = (uint32_t)x & (SMB_ATTR_READONLY | SMB_ATTR_HIDDEN | SMB_ATTR_SYSTEM | SMB_ATTR_ARCHIVE);
    }
}

#define DEPTH_TEXT_(n) #n
#define DEPTH_TEXT(n) DEPTH_TEXT_(n)

const char *arc_in_unsafe_path(const char *p, size_t n)
{
    if (n && p[0] == '/')
        return "an absolute path";
    size_t depth = 0;
    for (size_t i = 0;; i++) {
        size_t j = i;
        while (j < n && p[j] != '/')
            j++;
        const char *why = plan_unsafe_name(p + i, j - i);
        if (why)
            return why;
        if (++depth > ARC_IN_MAX_DEPTH)
            return "a path of more than " DEPTH_TEXT(ARC_IN_MAX_DEPTH) " components (the deepest a restore goes)";
        if (j >= n)
            return NULL;
        i = j;
    }
}

/*
 * The entry's name made relative and checked component by component; NULL
 * with a->why when it cannot be restored safely.
 */
static char *checked_name(arc_in *a, const char *raw)
{
    if (!raw) {
        snprintf(a->why, sizeof a->why, "a name that is not valid UTF-8");
        return NULL;
    }
    if (raw[0] == '/') {
        snprintf(a->why, sizeof a->why, "an absolute path");
        return NULL;
    }
    while (raw[0] == '.' && raw[1] == '/')
        raw += 2;
    size_t n = strlen(raw);
    while (n && raw[n - 1] == '/')
        n--;
    if (!n || (n == 1 && raw[0] == '.'))
        return strdup(""); /* the archive's root ("./"): the destination itself */
    const char *why = arc_in_unsafe_path(raw, n);
    if (why) {
        snprintf(a->why, sizeof a->why, "%s", why);
        return NULL;
    }
    return strndup(raw, n);
}

int arc_in_next(arc_in *a, arc_in_entry *out, smb_error *err)
{
    memset(out, 0, sizeof *out);
    free(a->rel);
    a->rel = NULL;
    a->entry = NULL;
    locale_t old = a->loc ? uselocale(a->loc) : (locale_t)0;
    struct archive_entry *e;
    int r = archive_read_next_header(a->a, &e), rc;
    if (r == ARCHIVE_EOF) {
        rc = 0;
    } else if (r < ARCHIVE_WARN) {
        rc = lib_fail(a, err, "read");
    } else {
        rc = 1;
        a->entry = e;
        const char *raw = archive_entry_pathname_utf8(e);
        a->rel = checked_name(a, raw);
        mode_t type = archive_entry_filetype(e);
        if (!a->rel) {
            out->refused = a->why;
            a->rel = strdup(raw ? raw : "?");
        } else if (archive_entry_hardlink(e)) {
            out->refused = "a hard link (not restored)";
        } else if (type == AE_IFLNK) {
            out->refused = "a symbolic link (not restored)";
        } else if (type != AE_IFREG && type != AE_IFDIR) {
            out->refused = "a special file (not restored)";
        }
        out->rel = a->rel ? a->rel : "?";
        out->st.type = type == AE_IFDIR ? EP_DIR : EP_FILE;
        la_int64_t size = archive_entry_size(e);
        out->st.size = type == AE_IFREG && size > 0 ? (uint64_t)size : 0;
        a->sparse = archive_entry_sparse_count(e) > 0;
        a->left = out->st.size;
        /* What the entry's data takes: its size, or a sparse entry's data ranges. */
        out->st.allocated = out->st.size;
        if (a->sparse && archive_entry_sparse_reset(e) > 0) {
            la_int64_t off, len;
            uint64_t data = 0;
            while (archive_entry_sparse_next(e, &off, &len) == ARCHIVE_OK)
                data += len > 0 ? (uint64_t)len : 0;
            out->st.allocated = data < out->st.size ? data : out->st.size;
        }
        if (archive_entry_mtime_is_set(e))
            out->st.mtime = filetime(archive_entry_mtime(e), archive_entry_mtime_nsec(e));
        read_xattrs(e, &out->st);
    }
    if (old)
        uselocale(old);
    return rc;
}

ssize_t arc_in_data(arc_in *a, void *buf, size_t len, smb_error *err)
{
    locale_t old = a->loc ? uselocale(a->loc) : (locale_t)0;
    la_ssize_t n = archive_read_data(a->a, buf, len);
    /*
     * In a sparse entry libarchive returns 0 at a zero-length map entry
     * (GNU tar's marker of a trailing hole), then goes on with the hole.
     */
    for (int again = 0; n == 0 && a->sparse && a->left && again < 4; again++)
        n = archive_read_data(a->a, buf, len);
    if (old)
        uselocale(old);
    if (n < 0)
        return lib_fail(a, err, a->rel ? a->rel : "data");
    if (n == 0 && a->sparse && a->left) {
        /* Still short of the size: the rest is a hole, zeros up to the size. */
        n = (la_ssize_t)(len < a->left ? len : a->left);
        memset(buf, 0, (size_t)n);
    }
    a->left -= (uint64_t)n <= a->left ? (uint64_t)n : a->left;
    return (ssize_t)n;
}

static int no_memory(smb_error *err)
{
    return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
}

/* The streams of entry e into *out (empty); what arc_in_streams says. */
static int collect_streams(arc_in *a, struct archive_entry *e, ep_streams *out, smb_error *err)
{
    ep_streams got = {0};
    size_t cap = 0, total = 0;
    name_table seen; /* the names in got */
    name_table_init(&seen, 0);
    int rc = 0;
    const char *xname;
    const void *value;
    size_t len;
    archive_entry_xattr_reset(e);
    while (rc == 0 && archive_entry_xattr_next(e, &xname, &value, &len) == ARCHIVE_OK) {
        bool oom = false, added = false;
        char *name = stream_of_xattr(xname, &oom);
        if (!name) {
            if (oom)
                rc = no_memory(err);
            continue;
        }
        /*
         * Two of one name (LIBARCHIVE.xattr and SCHILY.xattr records of one
         * attribute, or a name written twice): libarchive lists an entry's
         * attributes last first, so the first met is the archive's last.
         */
        if (!name_table_get(&seen, name, strlen(name), &added) || !added) {
            free(name);
            if (!added)
                continue;
            rc = no_memory(err);
            break;
        }
        size_t bytes = len ? len - 1 : 0; /* the value ends with the NUL vfs_streams_xattr adds */
        uint8_t *data = bytes ? malloc(bytes) : NULL;
        if ((bytes && !data) || !ARRAY_RESERVE(got.v, cap, got.n + 1, 8)) {
            free(name);
            free(data);
            rc = no_memory(err);
            break;
        }
        if (bytes)
            memcpy(data, value, bytes);
        got.v[got.n++] = (ep_stream){.name = name, .data = data, .len = bytes};
        total += bytes;
        if (got.n > ARC_IN_MAX_STREAMS || total > SC_STREAMS_MAX_BYTES)
            rc = smb_err_set(err, SMB_ERR_NO_SPACE, 0,
                             "%s: its named streams are more than %d or hold more than %zu bytes, the most copied "
                             "for one file",
                             a->rel ? a->rel : "?", ARC_IN_MAX_STREAMS, (size_t)SC_STREAMS_MAX_BYTES);
    }
    name_table_free(&seen);
    if (rc != 0) {
        ep_streams_clear(&got);
        return rc;
    }
    for (size_t i = 0; i < got.n / 2; i++) { /* in the archive's order */
        ep_stream t = got.v[i];
        got.v[i] = got.v[got.n - 1 - i];
        got.v[got.n - 1 - i] = t;
    }
    *out = got;
    return 0;
}

int arc_in_streams(arc_in *a, ep_streams *out, smb_error *err)
{
    ep_streams_clear(out);
    if (!a->entry)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: no current entry");
    return collect_streams(a, a->entry, out, err);
}

int arc_in_sd(arc_in *a, uint32_t parts, ep_sd *out, smb_error *err)
{
    ep_sd_clear(out);
    if (!a->entry)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archive: no current entry");
    const char *name;
    const void *value;
    size_t len;
    const void *sd = NULL;
    size_t sd_len = 0;
    archive_entry_xattr_reset(a->entry);
    while (!sd && archive_entry_xattr_next(a->entry, &name, &value, &len) == ARCHIVE_OK) {
        if (strcmp(name, ARC_SD_XATTR) == 0) {
            sd = value; /* the first met is the archive's last (collect_streams) */
            sd_len = len;
        }
    }
    if (!sd || !sd_len)
        return 0;
    uint32_t has;
    smb_error derr = {0};
    if (ep_sd_parts_of(sd, sd_len, &has, &derr) != 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%s: " ARC_SD_XATTR " holds %s", a->rel ? a->rel : "?",
                           derr.message);
    if (!(out->bytes = malloc(sd_len)))
        return no_memory(err);
    memcpy(out->bytes, sd, sd_len);
    out->len = sd_len;
    out->parts = has & parts;
    return 0;
}

void arc_in_close(arc_in *a)
{
    if (!a)
        return;
    locale_t old = a->loc ? uselocale(a->loc) : (locale_t)0;
    if (a->a)
        archive_read_free(a->a);
    if (old)
        uselocale(old);
    if (a->loc)
        freelocale(a->loc);
    free(a->path);
    free(a->rel);
    free(a);
}

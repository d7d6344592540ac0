/*
 * A local file's named streams and security descriptor in its extended
 * attributes (ep_local_meta.h).
 */
#include "engine/endpoints/ep_local_meta.h"
#include "engine/endpoints/endpoint.h"

#include <errno.h>
#include <linux/limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/xattr.h>

#include <smbcopy/engine.h>
#include <smbcopy/security.h>

#include "common/array.h"
#include "common/error.h"
#include "common/wire.h"

/* Reads of one xattr (or of the list) that may race with a writer changing its size. */
#define XATTR_READ_TRIES 16

/* ---------------------------------------------------------------- errors */

static bool no_xattrs(int e) { return e == ENOTSUP || e == EOPNOTSUPP; }

/* Fill err for errno e: "<what> '<path>': <reason>", what from fmt; return the code. */
static int xattr_errf(smb_error *err, int e, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int xattr_errf(smb_error *err, int e, const char *path, const char *fmt, ...)
{
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (no_xattrs(e))
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "%s '%s': the local file system keeps no extended attributes",
                           what, path);
    int code;
    switch (e) {
    case EACCES:
    case EPERM:
    case EROFS:
        code = SMB_ERR_ACCESS;
        break;
    case ENOSPC:
    case EDQUOT:
    case E2BIG:
        code = SMB_ERR_NO_SPACE;
        break;
    case ENOMEM:
        code = SMB_ERR_NO_MEMORY;
        break;
    default:
        code = SMB_ERR_SERVER;
        break;
    }
    return smb_err_set(err, code, 0, "%s%s '%s': %s", code == SMB_ERR_SERVER ? "local " : "", what, path,
                       strerror(e));
}

static int no_memory(smb_error *err, const char *path)
{
    return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "extended attributes of '%s': out of memory", path);
}

/* ---------------------------------------------------------------- reading xattrs */

/*
 * The list of xattr names of fd (NUL-terminated names one after the other)
 * into *out (malloc'd, NULL when *len is 0). Returns 0 or an errno.
 */
static int list_xattrs(int fd, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    for (int tries = 0; tries < XATTR_READ_TRIES; tries++) {
        ssize_t want = flistxattr(fd, NULL, 0);
        if (want < 0)
            return errno;
        if (want == 0)
            return 0;
        char *buf = malloc((size_t)want);
        if (!buf)
            return ENOMEM;
        ssize_t got = flistxattr(fd, buf, (size_t)want);
        if (got >= 0) {
            *out = buf;
            *len = (size_t)got;
            return 0;
        }
        int e = errno;
        free(buf);
        if (e != ERANGE) /* ERANGE: the list grew since it was measured */
            return e;
    }
    return EAGAIN;
}

/*
 * The value of xattr name of fd into *out (malloc'd, at least one byte
 * even for an empty value) and *len. Returns 0 or an errno (ENODATA: none).
 */
static int read_xattr(int fd, const char *name, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    for (int tries = 0; tries < XATTR_READ_TRIES; tries++) {
        ssize_t want = fgetxattr(fd, name, NULL, 0);
        if (want < 0)
            return errno;
        uint8_t *buf = malloc(want ? (size_t)want : 1);
        if (!buf)
            return ENOMEM;
        ssize_t got = fgetxattr(fd, name, buf, (size_t)want);
        if (got >= 0) {
            *out = buf;
            *len = (size_t)got;
            return 0;
        }
        int e = errno;
        free(buf);
        if (e != ERANGE) /* ERANGE: the value grew since it was measured */
            return e;
    }
    return EAGAIN;
}

/* ---------------------------------------------------------------- streams */

/*
 * When xattr name x[0..n) is EP_LOCAL_STREAM_PREFIX NAME EP_LOCAL_STREAM_SUFFIX
 * with a NAME ep_stream_name_ok takes: true, *name and *name_len that NAME.
 */
static bool stream_of_xattr(const char *x, size_t n, const char **name, size_t *name_len)
{
    const size_t pl = sizeof EP_LOCAL_STREAM_PREFIX - 1, sl = sizeof EP_LOCAL_STREAM_SUFFIX - 1;
    if (n < pl + sl || memcmp(x, EP_LOCAL_STREAM_PREFIX, pl) != 0 ||
        memcmp(x + n - sl, EP_LOCAL_STREAM_SUFFIX, sl) != 0)
        return false;
    *name = x + pl;
    *name_len = n - pl - sl;
    return ep_stream_name_ok(*name, *name_len);
}

/*
 * The next stream named in list reader r (xattr names, each ended by NUL;
 * a last one without is taken whole): true with *name, *name_len, or false
 * at the end of the list.
 */
static bool next_stream(smb_rd *r, const char **name, size_t *name_len)
{
    while (smb_rd_left(r) > 0) {
        size_t left = smb_rd_left(r);
        const char *at = (const char *)smb_rd_ptr(r, 0);
        const char *nul = memchr(at, '\0', left);
        size_t n = nul ? (size_t)(nul - at) : left;
        smb_rd_skip(r, nul ? n + 1 : n);
        if (stream_of_xattr(at, n, name, name_len))
            return true;
    }
    return false;
}

/* The xattr name of stream name[0..n), malloc'd (NULL: out of memory). */
static char *xattr_of_stream(const char *name, size_t n)
{
    const size_t pl = sizeof EP_LOCAL_STREAM_PREFIX - 1, sl = sizeof EP_LOCAL_STREAM_SUFFIX - 1;
    char *x = malloc(pl + n + sl + 1);
    if (!x)
        return NULL;
    memcpy(x, EP_LOCAL_STREAM_PREFIX, pl);
    memcpy(x + pl, name, n);
    memcpy(x + pl + n, EP_LOCAL_STREAM_SUFFIX, sl + 1);
    return x;
}

/*
 * Read stream name[0..n) (its xattr: xname) onto the end of *s (capacity
 * *cap), adding its length to *total. Returns 0 (ENODATA: removed since it
 * was listed, left out) or an SMB_ERR_*.
 */
static int read_stream(int fd, const char *path, const char *xname, const char *name, size_t n, ep_streams *s,
                       size_t *cap, size_t *total, smb_error *err)
{
    uint8_t *value;
    size_t len;
    int e = read_xattr(fd, xname, &value, &len);
    if (e == ENODATA)
        return 0;
    if (e)
        return xattr_errf(err, e, path, "read stream %.*s of", (int)n, name);
    if (!ARRAY_RESERVE(s->v, *cap, s->n + 1, 4)) {
        free(value);
        return no_memory(err, path);
    }
    ep_stream *st = &s->v[s->n];
    st->name = strndup(name, n);
    if (!st->name) {
        free(value);
        return no_memory(err, path);
    }
    /* The value ends with the NUL byte vfs_streams_xattr adds; it reads the size as one less. */
    st->len = len ? len - 1 : 0;
    st->data = value;
    if (st->len == 0) {
        free(value);
        st->data = NULL;
    }
    s->n++;
    *total += st->len; /* at most 64 KiB each (XATTR_SIZE_MAX): no overflow */
    return 0;
}

uint8_t ep_local_streams_state(int fd)
{
    char *list;
    size_t list_len;
    int e = list_xattrs(fd, &list, &list_len);
    if (no_xattrs(e))
        return EP_STREAMS_NONE;
    if (e)
        return EP_STREAMS_UNKNOWN;
    smb_rd r;
    smb_rd_init(&r, list, list_len);
    const char *name;
    size_t name_len;
    bool some = next_stream(&r, &name, &name_len);
    free(list);
    return some ? EP_STREAMS_SOME : EP_STREAMS_NONE;
}

int ep_local_get_streams(int fd, const char *path, ep_streams *out, smb_error *err)
{
    ep_streams_clear(out);
    char *list;
    size_t list_len;
    int e = list_xattrs(fd, &list, &list_len);
    if (no_xattrs(e))
        return 0; /* a file system without xattrs: no streams */
    if (e)
        return xattr_errf(err, e, path, "list the extended attributes of");

    ep_streams got = {0};
    size_t cap = 0, total = 0;
    int rc = 0;
    smb_rd r;
    smb_rd_init(&r, list, list_len);
    const char *name;
    size_t name_len;
    while (rc == 0 && next_stream(&r, &name, &name_len)) {
        char *xname = xattr_of_stream(name, name_len);
        if (!xname) {
            rc = no_memory(err, path);
            break;
        }
        rc = read_stream(fd, path, xname, name, name_len, &got, &cap, &total, err);
        free(xname);
        if (rc == 0 && total > SC_STREAMS_MAX_BYTES)
            rc = smb_err_set(err, SMB_ERR_NO_SPACE, 0,
                             "'%s': its named streams hold more than %zu bytes, the most copied for one file", path,
                             (size_t)SC_STREAMS_MAX_BYTES);
    }
    free(list);
    if (rc < 0) {
        ep_streams_clear(&got);
        return rc;
    }
    *out = got;
    return 0;
}

/*
 * Write stream st as its xattr (its bytes and the NUL vfs_streams_xattr
 * expects). Returns 0 or an errno.
 */
static int write_stream(int fd, const ep_stream *st)
{
    /* The value would pass the most one xattr may hold (XATTR_SIZE_MAX): no need to copy it to learn so. */
    if (st->len >= XATTR_SIZE_MAX)
        return E2BIG;
    size_t n = strlen(st->name);
    char *xname = xattr_of_stream(st->name, n);
    uint8_t *value = malloc(st->len + 1);
    int e = 0;
    if (!xname || !value) {
        e = ENOMEM;
    } else {
        if (st->len)
            memcpy(value, st->data, st->len);
        value[st->len] = 0;
        if (fsetxattr(fd, xname, value, st->len + 1, 0) < 0)
            e = errno;
    }
    free(xname);
    free(value);
    return e;
}

int ep_local_put_streams(int fd, const char *path, ep_streams *s, smb_error *err)
{
    for (size_t i = 0; i < s->n; i++)
        s->v[i].kept = false;
    for (size_t i = 0; i < s->n; i++) {
        const char *name = s->v[i].name;
        if (!name || !ep_stream_name_ok(name, strlen(name)))
            return smb_err_set(err, SMB_ERR_BAD_NAME, 0, "'%s': stream name '%s' refused", path, name ? name : "");
    }
    /* A stream that does not fit is left out; the others are still written. */
    const ep_stream *misfit = NULL;
    int misfit_errno = 0;
    for (size_t i = 0; i < s->n; i++) {
        ep_stream *st = &s->v[i];
        int e = write_stream(fd, st);
        if (e == 0) {
            st->kept = true;
            continue;
        }
        if (e == E2BIG || e == ENOSPC || e == ERANGE) { /* ERANGE: the xattr's name is too long */
            if (!misfit) {
                misfit = st;
                misfit_errno = e;
            }
            continue;
        }
        return xattr_errf(err, e, path, "write stream %s of", st->name);
    }
    if (misfit && misfit_errno == ERANGE)
        return smb_err_set(err, SMB_ERR_BAD_NAME, 0,
                           "'%s': stream %s: name too long for the file system's extended attributes", path,
                           misfit->name);
    if (misfit)
        return smb_err_set(err, SMB_ERR_NO_SPACE, 0,
                           "'%s': stream %s (%zu bytes) too large for the file system's extended attributes", path,
                           misfit->name, misfit->len);
    return 0;
}

/* ---------------------------------------------------------------- security descriptor */

/* The EP_SD_* parts sd has (MS-DTYP 2.4.6: owner and group by their offsets, the ACLs by their control flags). */
static uint32_t sd_parts(const smb_security_descriptor *sd)
{
    uint32_t parts = 0;
    if (sd->owner)
        parts |= EP_SD_OWNER;
    if (sd->group)
        parts |= EP_SD_GROUP;
    if (sd->control & SMB_SE_DACL_PRESENT)
        parts |= EP_SD_DACL;
    if (sd->control & SMB_SE_SACL_PRESENT)
        parts |= EP_SD_SACL;
    return parts;
}

int ep_local_get_sd(int fd, const char *path, uint32_t parts, ep_sd *out, smb_error *err)
{
    ep_sd_clear(out);
    uint8_t *value;
    size_t len;
    int e = read_xattr(fd, EP_LOCAL_SD_XATTR, &value, &len);
    if (e == ENODATA || no_xattrs(e))
        return 0; /* none stored */
    if (e)
        return xattr_errf(err, e, path, "read the security descriptor of");
    smb_security_descriptor *sd;
    smb_error derr;
    if (smb_sd_decode(value, len, &sd, &derr) < 0) {
        free(value);
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0,
                           "'%s': " EP_LOCAL_SD_XATTR " holds no valid security descriptor (%s)", path, derr.message);
    }
    out->parts = sd_parts(sd) & parts;
    smb_sd_free(sd);
    out->bytes = value;
    out->len = len;
    return 0;
}

int ep_local_put_sd(int fd, const char *path, const ep_sd *sd, smb_error *err)
{
    if (sd->len == 0) {
        if (fremovexattr(fd, EP_LOCAL_SD_XATTR) < 0 && errno != ENODATA && !no_xattrs(errno))
            return xattr_errf(err, errno, path, "remove the security descriptor of");
        return 0;
    }
    /* Stored only when get_sd can read it back. */
    smb_security_descriptor *d;
    smb_error derr;
    if (smb_sd_decode(sd->bytes, sd->len, &d, &derr) < 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "'%s': the security descriptor to store is not valid (%s)",
                           path, derr.message);
    smb_sd_free(d);
    if (fsetxattr(fd, EP_LOCAL_SD_XATTR, sd->bytes, sd->len, 0) == 0)
        return 0;
    int e = errno;
    if (e == E2BIG || e == ENOSPC)
        return smb_err_set(err, SMB_ERR_NO_SPACE, 0,
                           "'%s': security descriptor (%zu bytes) too large for the file system's extended attributes",
                           path, sd->len);
    return xattr_errf(err, e, path, "write the security descriptor of");
}

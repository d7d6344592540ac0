/*
 * smb_copyfile: one file copied into a temporary name beside its
 * destination and renamed into place when complete; by the server itself
 * when both trees share a session (helpers_copychunk.c), else through the
 * client with several READs and WRITEs in flight.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/random.h"
#include "helpers_internal.h"
#include "objects.h"

/* Client copy: WINDOW chunks in flight, each at most CHUNK_MAX bytes (4 MiB of buffers). */
#define WINDOW 4u
#define CHUNK_MAX ((size_t)1 << 20)

typedef struct copy_ctx {
    const char *src;
    const char *dst;
    smb_error *err;
} copy_ctx;

static int copy_fail(const copy_ctx *c, int code, const smb_error *le, const char *step)
{
    return smb_err_set(c->err, code ? code : SMB_ERR_INTERNAL, le ? le->ntstatus : 0, "copy '%s' to '%s': %s%s%s",
                       c->src, c->dst, step, le ? ": " : "", le ? le->message : "");
}

typedef struct slot {
    uint8_t *buf;
    smb_io *rd, *wr;
    uint64_t off;
    size_t len;
} slot;

/* Wait for a slot's WRITE (if any); a failure is reported when rc is still 0. */
static int wait_write(const copy_ctx *c, slot *x, int rc)
{
    if (!x->wr)
        return rc;
    smb_error le = {0};
    int w = smb_io_wait(x->wr, NULL, &le);
    x->wr = NULL;
    return rc == 0 && w != 0 ? copy_fail(c, w, &le, "write") : rc;
}

/* The first size bytes of src written to dst: a ring of WINDOW slots, each READ's completion becoming a WRITE. */
static int client_copy(const copy_ctx *c, smb_open *src, smb_open *dst, uint64_t size)
{
    size_t chunk = smb_open_max_read(src);
    if (smb_open_max_write(dst) < chunk)
        chunk = smb_open_max_write(dst);
    if (chunk > CHUNK_MAX)
        chunk = CHUNK_MAX;
    if (chunk == 0)
        chunk = 64u << 10;
    uint64_t nblocks = (size + chunk - 1) / chunk;
    slot s[WINDOW];
    memset(s, 0, sizeof s);
    int rc = 0;
    for (unsigned i = 0; rc == 0 && i < WINDOW && i < nblocks; i++)
        if (!(s[i].buf = malloc(chunk)))
            rc = smb_err_set(c->err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    uint64_t rk = 0, wk = 0; /* next block to read, next to write */
    while (rc == 0 && wk < nblocks) {
        while (rc == 0 && rk < nblocks && rk - wk < WINDOW) {
            slot *x = &s[rk % WINDOW];
            rc = wait_write(c, x, rc); /* the slot's last WRITE, WINDOW blocks back */
            if (rc != 0)
                break;
            x->off = rk * chunk;
            x->len = size - x->off < chunk ? (size_t)(size - x->off) : chunk;
            smb_error le = {0};
            if (!(x->rd = smb_read_submit(src, x->buf, x->len, x->off, &le)))
                rc = copy_fail(c, le.code, &le, "read");
            rk++;
        }
        if (rc != 0)
            break;
        slot *x = &s[wk % WINDOW];
        size_t got = 0;
        smb_error le = {0};
        int r = smb_io_wait(x->rd, &got, &le);
        x->rd = NULL;
        if (r != 0)
            rc = copy_fail(c, r, &le, "read");
        else if (got != x->len)
            rc = smb_err_set(c->err, SMB_ERR_SERVER, 0,
                             "copy '%s' to '%s': the source ended at %" PRIu64 " bytes, not %" PRIu64 " (it changed)",
                             c->src, c->dst, x->off + got, size);
        else if (!(x->wr = smb_write_submit(dst, x->buf, x->len, x->off, &le)))
            rc = copy_fail(c, le.code, &le, "write");
        wk++;
    }
    /* Every request still in flight is waited for before its buffer goes. */
    for (unsigned i = 0; i < WINDOW; i++) {
        if (s[i].rd)
            smb_io_wait(s[i].rd, NULL, NULL);
        rc = wait_write(c, &s[i], rc);
        free(s[i].buf);
    }
    return rc;
}

/* ".NAME.smbcopy-XXXXXXXX.tmp" in dst's directory (malloc'd). */
static char *temp_name(const char *dst)
{
    uint8_t rnd[4];
    if (smb_random(rnd, sizeof rnd) != 0)
        return NULL;
    const char *base = smb_helpers_path_base(dst);
    size_t dir_len = (size_t)(base - dst);
    size_t cap = dir_len + strlen(base) + 32;
    char *s = malloc(cap);
    if (s)
        snprintf(s, cap, "%.*s.%s.smbcopy-%02x%02x%02x%02x.tmp", (int)dir_len, dst, base, rnd[0], rnd[1], rnd[2],
                 rnd[3]);
    return s;
}

/* Whether a failure of the server-side copy means the server cannot do it, so the client may. */
static bool server_cannot(int rc)
{
    return rc == SMB_ERR_UNSUPPORTED || rc == SMB_ERR_ACCESS;
}

static int copy_data(const copy_ctx *c, smb_open *src, smb_open *tmp, uint64_t size, bool same_session,
                     unsigned flags)
{
    if (same_session && !(flags & SMB_COPY_NO_SERVER_SIDE)) {
        smb2_copychunk_limits lim = SMB_COPYCHUNK_DEFAULT_LIMITS;
        smb_error le = {0};
        int rc = size ? smb_copychunk(src, tmp, size, &lim, c->src, c->dst, &le) : 0;
        if (rc == 0)
            return 0;
        if ((flags & SMB_COPY_SERVER_SIDE_ONLY) || !server_cannot(rc)) {
            if (c->err)
                *c->err = le;
            return rc;
        }
        /* The server refuses to copy by itself: through the client, from the start. */
    } else if (flags & SMB_COPY_SERVER_SIDE_ONLY) {
        return smb_err_set(c->err, SMB_ERR_UNSUPPORTED, 0,
                           "copy '%s' to '%s': no server-side copy between trees of different sessions", c->src,
                           c->dst);
    }
    return size ? client_copy(c, src, tmp, size) : 0;
}

int smb_copyfile(smb_tree *src_tree, const char *src_path, smb_tree *dst_tree, const char *dst_path, unsigned flags,
                 smb_error *err)
{
    if (!src_tree || !dst_tree)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "copyfile: no tree");
    if ((flags & SMB_COPY_NO_SERVER_SIDE) && (flags & SMB_COPY_SERVER_SIDE_ONLY))
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                           "copyfile: SMB_COPY_NO_SERVER_SIDE and SMB_COPY_SERVER_SIDE_ONLY exclude each other");
    char *src = NULL, *dst = NULL, *tmp_path = NULL;
    int rc = smb_helpers_path_norm(src_path, "copyfile", &src, err);
    if (rc == 0)
        rc = smb_helpers_path_norm(dst_path, "copyfile", &dst, err);
    copy_ctx c = {src, dst, err};
    if (rc == 0 && (!*src || !*dst))
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "copyfile '%s' to '%s': the share root is not a file",
                         src_path ? src_path : "", dst_path ? dst_path : "");
    else if (rc == 0 && src_tree == dst_tree && strcmp(src, dst) == 0)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "copy '%s' to '%s': the same file", src, dst);

    smb_open *sop = NULL, *top = NULL;
    smb_file_info si = {0};
    smb_error le = {0};
    if (rc == 0) {
        smb_create_params p;
        smb_create_params_init(&p);
        p.desired_access = SMB_FILE_READ_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
        p.options = SMB_FILE_NON_DIRECTORY_FILE;
        if (!(sop = smb_create(src_tree, src, &p, &si, NULL, &le)))
            rc = smb_err_set(err, le.code ? le.code : SMB_ERR_INTERNAL, le.ntstatus, "copy '%s' to '%s': %s", src,
                             dst, le.message);
    }
    if (rc == 0 && (flags & SMB_COPY_NO_OVERWRITE)) {
        smb_file_info di;
        int s = smb_stat(dst_tree, dst, &di, &le);
        if (s == 0)
            rc = smb_err_set(err, SMB_ERR_EXISTS, 0, "copy '%s' to '%s': the destination exists", src, dst);
        else if (s != SMB_ERR_NOT_FOUND)
            rc = copy_fail(&c, s, &le, "look at the destination");
    }
    if (rc == 0 && !(tmp_path = temp_name(dst)))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0) {
        smb_create_params p;
        smb_create_params_init(&p);
        /* READ_DATA too: a copy chunk target must be readable for FSCTL_SRV_COPYCHUNK (not _WRITE), harmless here. */
        p.desired_access = SMB_FILE_READ_DATA | SMB_FILE_WRITE_DATA | SMB_FILE_APPEND_DATA | SMB_FILE_READ_ATTRIBUTES |
                           SMB_FILE_WRITE_ATTRIBUTES | SMB_DELETE | SMB_SYNCHRONIZE;
        p.disposition = SMB_FILE_CREATE;
        p.options = SMB_FILE_NON_DIRECTORY_FILE;
        if (!(top = smb_create(dst_tree, tmp_path, &p, NULL, NULL, &le)))
            rc = copy_fail(&c, le.code, &le, "create the temporary file");
    }
    bool same_session = src_tree->sess == dst_tree->sess;
    if (rc == 0)
        rc = copy_data(&c, sop, top, si.end_of_file, same_session, flags);
    smb_file_info ti = {0};
    if (rc == 0 && (rc = smb_query_file_info(top, &ti, &le)) != 0)
        rc = copy_fail(&c, rc, &le, "check the temporary file");
    if (rc == 0 && ti.end_of_file != si.end_of_file)
        rc = smb_err_set(err, SMB_ERR_SERVER, 0,
                         "copy '%s' to '%s': the copy holds %" PRIu64 " bytes, the source %" PRIu64, src, dst,
                         ti.end_of_file, si.end_of_file);
    bool renamed = false;
    if (rc == 0) {
        rc = smb_set_rename(top, dst, !(flags & SMB_COPY_NO_OVERWRITE), &le);
        if (rc == SMB_ERR_EXISTS)
            rc = smb_err_set(err, rc, le.ntstatus, "copy '%s' to '%s': the destination exists", src, dst);
        else if (rc != 0)
            rc = copy_fail(&c, rc, &le, "rename into place");
        renamed = rc == 0;
    }
    /*
     * Times and attributes after the rename: a server may derive attributes
     * from the temporary's name (Samba's "hide dot files" hides ".NAME").
     * Attributes 0 leave them (MS-FSCC 2.4.7), so NORMAL stands for none.
     */
    if (rc == 0) {
        smb_basic_info bi = {0};
        if (flags & SMB_COPY_METADATA) {
            bi = (smb_basic_info){si.creation_time, si.last_access_time, si.last_write_time, 0, si.attributes};
        } else if ((ti.attributes & SMB_ATTR_HIDDEN) && !(si.attributes & SMB_ATTR_HIDDEN)) {
            bi.attributes = ti.attributes & ~SMB_ATTR_HIDDEN;
        }
        if (bi.attributes || bi.last_write_time) {
            if (!bi.attributes)
                bi.attributes = SMB_ATTR_NORMAL;
            if ((rc = smb_set_basic_info(top, &bi, &le)) != 0)
                rc = copy_fail(&c, rc, &le, "set times and attributes (the copy is in place)");
        }
    }
    if (top && !renamed)
        smb_set_delete_on_close(top, true, NULL); /* no half-written file stays, not even the temporary */
    if (top) {
        int crc = smb_close(top, NULL, &le);
        if (rc == 0 && crc != 0)
            rc = copy_fail(&c, crc, &le, "close the copy");
    }
    smb_close(sop, NULL, NULL);
    free(tmp_path);
    free(src);
    free(dst);
    return rc;
}

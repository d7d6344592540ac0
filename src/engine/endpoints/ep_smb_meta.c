/*
 * The SMB endpoint's named streams and security descriptors (endpoint.h's
 * get_streams, put_streams, get_sd, put_sd) and the access its opens ask
 * for them.
 *
 * A named stream NAME of the file at PATH is opened as "PATH:NAME" (MS-FSCC
 * 2.1.5: a stream name follows the file name after a colon, the type
 * ":$DATA" implied) and read or written like any file, on the lane the file
 * was opened on. The list comes from FileStreamInformation (smb_get_streams).
 *
 * A security descriptor moves as self-relative bytes (MS-DTYP 2.4.6)
 * through QUERY_INFO / SET_INFO of SMB2_0_INFO_SECURITY, the parts named
 * by SecurityInformation bits, which EP_SD_* are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbcopy/ntstatus.h>
#include <smbcopy/security.h>

#include "common/error.h"
#include "engine/endpoints/ep_smb.h"

/* The access reading (for_write false) or setting and reading back the descriptor parts `parts` takes (MS-SMB2 2.2.37, 2.2.39). */
static uint32_t sd_access(uint32_t parts, bool for_write)
{
    uint32_t a = 0;
    if (!parts)
        return 0;
    a |= SMB_READ_CONTROL; /* writing too: the check after the write reads it back */
    if (for_write && (parts & EP_SD_DACL))
        a |= SMB_WRITE_DAC;
    if (for_write && (parts & (EP_SD_OWNER | EP_SD_GROUP)))
        a |= SMB_WRITE_OWNER;
    if (parts & EP_SD_SACL)
        a |= SMB_ACCESS_SYSTEM_SECURITY;
    return a;
}

smb_open *ep_smb_create_sd(ep_smb *e, smb_tree *tree, const char *path, const smb_create_params *p, bool for_write,
                           smb_error *le)
{
    uint32_t extra = sd_access(e->base.sd_parts, for_write) & ~p->desired_access;
    if (__atomic_load_n(&e->sacl_refused, __ATOMIC_RELAXED))
        extra &= ~SMB_ACCESS_SYSTEM_SECURITY;
    /* All of it; without the SACL's, which needs a privilege; without any
     * (get_sd / put_sd then say what was refused). */
    uint32_t tries[3] = {extra, extra & ~SMB_ACCESS_SYSTEM_SECURITY, 0};
    smb_create_params q = *p;
    smb_open *op = NULL;
    for (int i = 0; i < 3; i++) {
        if (i > 0 && (tries[i] == tries[i - 1] || le->code != SMB_ERR_ACCESS))
            continue;
        memset(le, 0, sizeof *le);
        q.desired_access = p->desired_access | tries[i];
        op = smb_create(tree, path, &q, NULL, NULL, le);
        if (op) {
            if (i == 1) /* granted all but ACCESS_SYSTEM_SECURITY: the privilege is missing */
                __atomic_store_n(&e->sacl_refused, true, __ATOMIC_RELAXED);
            break;
        }
    }
    return op;
}

/* ---------------------------------------------------------------- streams */

/* "path:name" for a stream of the file at path. */
static char *stream_path(const char *path, const char *name, smb_error *err)
{
    size_t a = strlen(path), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    snprintf(p, a + b + 2, "%s:%s", path, name);
    return p;
}

/*
 * Read the stream open as op whole into *data (*len bytes; NULL when 0):
 * its listed size, and on past it while it grew since it was listed, but
 * never more than room bytes (SMB_ERR_NO_SPACE, nothing kept).
 */
static int read_stream(smb_open *op, uint64_t listed, size_t room, uint8_t **data, size_t *len, smb_error *le)
{
    *data = NULL;
    *len = 0;
    /* One byte more than expected: a stream that grew fills it, one that did not ends short. */
    size_t cap = (listed < room ? (size_t)listed : room) + 1, got = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return smb_err_set(le, SMB_ERR_NO_MEMORY, 0, "out of memory");
    for (;;) {
        size_t n = 0;
        int rc = smb_pread(op, buf + got, cap - got, got, 0, &n, le);
        if (rc != 0) {
            free(buf);
            return rc;
        }
        got += n;
        if (got < cap)
            break; /* the end of the stream */
        if (got > room) {
            free(buf);
            return SMB_ERR_NO_SPACE;
        }
        size_t more = cap <= room - cap ? cap * 2 : room + 1;
        uint8_t *grown = realloc(buf, more);
        if (!grown) {
            free(buf);
            return smb_err_set(le, SMB_ERR_NO_MEMORY, 0, "out of memory");
        }
        buf = grown;
        cap = more;
    }
    if (got == 0)
        free(buf);
    else
        *data = buf;
    *len = got;
    return 0;
}

static int too_large(smb_error *err, const ep_file *f, const char *why)
{
    return smb_err_set(err, SMB_ERR_NO_SPACE, 0,
                       "the named streams of '%s' hold more than the %zu MiB copied with a file%s", f->path,
                       SC_STREAMS_MAX_BYTES >> 20, why);
}

int ep_smb_get_streams(ep_file *f, ep_streams *out, smb_error *err)
{
    ep_streams_clear(out);
    smb_stream_info *list = NULL;
    size_t n = 0;
    smb_error le = {0};
    int rc = smb_get_streams(f->op, &list, &n, &le);
    if (rc == SMB_ERR_UNSUPPORTED) /* a share whose file system keeps no streams: the file has none */
        return 0;
    if (rc != 0)
        return ep_smb_fail_at(err, &le, "list the streams of", f->path);
    uint64_t listed = 0;
    for (size_t i = 0; i < n; i++)
        listed += list[i].size < SC_STREAMS_MAX_BYTES ? list[i].size : SC_STREAMS_MAX_BYTES + 1;
    if (listed > SC_STREAMS_MAX_BYTES) {
        smb_streams_free(list, n);
        return too_large(err, f, "");
    }
    ep_streams got = {0};
    if (n && !(got.v = calloc(n, sizeof *got.v))) {
        smb_streams_free(list, n);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    size_t total = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *path = stream_path(f->path, list[i].name, err);
        if (!path) {
            rc = SMB_ERR_NO_MEMORY;
            break;
        }
        smb_create_params p;
        smb_create_params_init(&p);
        p.desired_access = SMB_FILE_READ_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
        p.share_access = SMB_SHARE_READ | SMB_SHARE_WRITE | SMB_SHARE_DELETE;
        p.disposition = SMB_FILE_OPEN;
        p.options = SMB_FILE_NON_DIRECTORY_FILE | SMB_FILE_SEQUENTIAL_ONLY;
        smb_open *op = smb_create(f->tree, path, &p, NULL, NULL, &le);
        if (!op) {
            if (le.code != SMB_ERR_NOT_FOUND) /* else deleted since it was listed: left out */
                rc = ep_smb_fail_at(err, &le, "open", path);
            free(path);
            continue;
        }
        ep_stream *s = &got.v[got.n];
        rc = read_stream(op, list[i].size, SC_STREAMS_MAX_BYTES - total, &s->data, &s->len, &le);
        smb_error ce = {0};
        int crc = smb_close(op, NULL, &ce);
        if (rc == SMB_ERR_NO_SPACE)
            too_large(err, f, " (one grew as it was read)");
        else if (rc != 0)
            ep_smb_fail_at(err, &le, "read", path);
        else if (crc != 0)
            rc = ep_smb_fail_at(err, &ce, "close", path);
        free(path);
        if (rc == 0 && !(s->name = strdup(list[i].name)))
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        if (rc != 0) { /* s is not counted in got yet: its bytes go here */
            free(s->data);
            s->data = NULL;
            break;
        }
        total += s->len;
        got.n++;
        EP_SMB_COUNT(f->e, bytes_read, s->len);
    }
    smb_streams_free(list, n);
    if (rc != 0) {
        ep_streams_clear(&got);
        return rc;
    }
    if (got.n == 0) { /* every listed stream went away */
        free(got.v);
        got.v = NULL;
    }
    *out = got;
    return 0;
}

/*
 * Create the stream st of f (replacing one of its name) and write its bytes.
 * Returns 0, or the error with le filled and nothing of the stream left:
 * SMB_ERR_NO_SPACE when its bytes do not fit (a full disk; Samba's
 * streams_xattr answers STATUS_FILE_SYSTEM_LIMITATION past 64 KiB),
 * SMB_ERR_BAD_NAME when the server refuses the name.
 */
static int put_stream(ep_file *f, const ep_stream *st, smb_error *le)
{
    char *path = stream_path(f->path, st->name, le);
    if (!path)
        return SMB_ERR_NO_MEMORY;
    smb_create_params p;
    smb_create_params_init(&p);
    /* DELETE: a stream that does not fit is removed, never left cut short. */
    p.desired_access =
        SMB_FILE_WRITE_DATA | SMB_FILE_APPEND_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_DELETE | SMB_SYNCHRONIZE;
    p.share_access = SMB_SHARE_READ | SMB_SHARE_WRITE | SMB_SHARE_DELETE;
    p.disposition = SMB_FILE_OVERWRITE_IF;
    p.options = SMB_FILE_NON_DIRECTORY_FILE;
    smb_error e = {0};
    smb_open *op = smb_create(f->tree, path, &p, NULL, NULL, &e);
    int rc = op ? 0 : e.code;
    const char *what = "create";
    if (op && st->len) {
        what = "write";
        rc = smb_pwrite(op, st->data, st->len, 0, 0, &e);
        if (rc != 0 && e.ntstatus == SMB_STATUS_FILE_SYSTEM_LIMITATION)
            rc = e.code = SMB_ERR_NO_SPACE;
        if (rc != 0)
            smb_set_delete_on_close(op, true, NULL);
    }
    if (op) {
        smb_error ce = {0};
        int crc = smb_close(op, NULL, &ce);
        if (rc == 0 && crc != 0) {
            rc = crc;
            e = ce;
            what = "close";
        }
    }
    if (rc != 0)
        ep_smb_fail_at(le, &e, what, path);
    free(path);
    return rc;
}

int ep_smb_put_streams(ep_file *f, ep_streams *s, smb_error *err)
{
    for (size_t i = 0; i < s->n; i++)
        s->v[i].kept = false;
    size_t tried = 0, written = 0, names_refused = 0;
    int left_out = 0; /* the first stream that could not be kept, as SMB_ERR_NO_SPACE or SMB_ERR_BAD_NAME */
    smb_error first = {0}, refusal = {0};
    for (size_t i = 0; i < s->n; i++) {
        ep_stream *st = &s->v[i];
        smb_error le = {0};
        int rc;
        if (!st->name || !ep_stream_name_ok(st->name, strlen(st->name))) {
            rc = smb_err_set(&le, SMB_ERR_BAD_NAME, 0,
                             "'%s': a stream name must be UTF-8 and may not be empty or hold ':', '/' or '\\'",
                             f->path);
        } else {
            tried++;
            rc = put_stream(f, st, &le);
            if (rc == SMB_ERR_BAD_NAME && names_refused++ == 0)
                refusal = le;
        }
        if (rc == 0) {
            written++;
            st->kept = true;
            EP_SMB_COUNT(f->e, bytes_written, st->len);
            continue;
        }
        if (rc == SMB_ERR_UNSUPPORTED)
            return smb_err_set(err, rc, le.ntstatus, "the share keeps no named streams (%s)", le.message);
        if (rc != SMB_ERR_NO_SPACE && rc != SMB_ERR_BAD_NAME) {
            if (err)
                *err = le;
            return rc;
        }
        if (!left_out) {
            left_out = rc;
            first = le;
        }
    }
    /* Every name refused, none taken: a share without streams (Samba without a
     * streams module answers STATUS_OBJECT_NAME_INVALID to "file:stream"). */
    if (written == 0 && tried > 0 && names_refused == tried)
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, refusal.ntstatus, "the share keeps no named streams (%s)",
                           refusal.message);
    if (left_out && err)
        *err = first;
    return left_out;
}

/* ---------------------------------------------------------------- security descriptors */

/* EP_SD_* as SMB_SECINFO_* (the same SecurityInformation bits, MS-DTYP 2.4.7). */
uint32_t ep_smb_secinfo(uint32_t parts)
{
    return ((parts & EP_SD_OWNER) ? SMB_SECINFO_OWNER : 0) | ((parts & EP_SD_GROUP) ? SMB_SECINFO_GROUP : 0) |
           ((parts & EP_SD_DACL) ? SMB_SECINFO_DACL : 0) | ((parts & EP_SD_SACL) ? SMB_SECINFO_SACL : 0);
}

int ep_smb_sacl_refused(smb_error *err, const char *path, bool reading, uint32_t ntstatus)
{
    const char *verb = reading ? "read" : "set", *ing = reading ? "reading" : "setting";
    if (!ntstatus) /* refused at an earlier open of the share: not asked again */
        return smb_err_set(err, SMB_ERR_ACCESS, 0,
                           "%s the security descriptor of '%s': %s the SACL needs SeSecurityPrivilege", verb, path, ing);
    char name[16];
    return smb_err_set(err, SMB_ERR_ACCESS, ntstatus,
                       "%s the security descriptor of '%s': %s the SACL needs SeSecurityPrivilege (%s)", verb, path, ing,
                       smb_ntstatus_name(ntstatus, name));
}

int ep_smb_sd_take(const char *path, uint8_t *bytes, size_t len, uint32_t parts, ep_sd *out, smb_error *err)
{
    /* Checked here, so that bytes a server garbled fail this file, not the destination's SET_INFO. */
    smb_security_descriptor *sd = NULL;
    smb_error le = {0};
    if (len && smb_sd_decode(bytes, len, &sd, &le) != 0) {
        free(bytes);
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the security descriptor of '%s': %s", path, le.message);
    }
    smb_sd_free(sd);
    if (len == 0) {
        free(bytes);
        return 0;
    }
    /* Every part asked for: one the file lacks (no SACL) is set as absent at the destination too. */
    *out = (ep_sd){.bytes = bytes, .len = len, .parts = parts};
    return 0;
}

int ep_smb_get_sd(ep_file *f, uint32_t parts, ep_sd *out, smb_error *err)
{
    ep_sd_clear(out);
    parts &= EP_SD_ALL;
    if (!parts)
        return 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    smb_error le = {0};
    int rc = smb_get_security(f->op, ep_smb_secinfo(parts), &bytes, &len, &le);
    if (rc == SMB_ERR_ACCESS && (parts & EP_SD_SACL))
        return ep_smb_sacl_refused(err, f->path, true, le.ntstatus);
    if (rc != 0)
        return ep_smb_fail_at(err, &le, "read the security descriptor of", f->path);
    return ep_smb_sd_take(f->path, bytes, len, parts, out, err);
}

int ep_smb_put_sd(ep_file *f, const ep_sd *sd, smb_error *err)
{
    uint32_t parts = sd->parts & EP_SD_ALL;
    if (!parts || sd->len == 0) /* nothing to set: a file over SMB always has a descriptor */
        return 0;
    smb_error le = {0};
    int rc = smb_set_security(f->op, ep_smb_secinfo(parts), sd->bytes, sd->len, &le);
    if (rc == SMB_ERR_ACCESS && (parts & EP_SD_SACL))
        return ep_smb_sacl_refused(err, f->path, false, le.ntstatus);
    if (rc != 0)
        return ep_smb_fail_at(err, &le, "set the security descriptor of", f->path);
    return 0;
}

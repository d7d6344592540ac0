/* Named streams and security descriptors of a file, from source to destination (file_meta.h). */
#include "engine/file_meta.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <smbcopy/security.h>

#include "common/error.h"

bool file_meta_streams(const sc_job *job, const job_pair *pair)
{
    return !job->opts.no_streams && pair->src->ops->get_streams && pair->dst->ops->put_streams;
}

uint32_t file_meta_sd_wanted(const sc_job *job)
{
    switch (job->opts.acls) {
    case SC_ACLS_DACL:
        return EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL;
    case SC_ACLS_ALL:
        return EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL | EP_SD_SACL;
    case SC_ACLS_NONE:
    default:
        return 0;
    }
}

uint32_t file_meta_sd_parts(const sc_job *job, const job_pair *pair)
{
    if (!pair->src->ops->get_sd || !pair->dst->ops->put_sd)
        return 0;
    return file_meta_sd_wanted(job);
}

bool file_meta_needs_open(const sc_job *job, const job_pair *pair, const ep_stat *st)
{
    return file_meta_streams(job, pair) && st->streams != EP_STREAMS_NONE;
}

void file_meta_not_kept(sc_job *job, uint64_t *counter, const char *rel, const ep_sd *sd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    job_count(job, counter, 1);
    job_meta_note(job, rel, false, false, msg, sd ? sd->bytes : NULL, sd ? sd->len : 0);
}

/* What the destination cannot hold, as opposed to a failure of the copy. */
static bool cannot_hold(int code)
{
    return code == SMB_ERR_UNSUPPORTED || code == SMB_ERR_NO_SPACE || code == SMB_ERR_BAD_NAME;
}

int file_meta_put_streams(sc_job *job, ep *dst_ep, const char *rel, ep_file *dst, ep_streams *s, smb_error *err)
{
    smb_error e = {0};
    int rc = dst_ep->ops->put_streams(dst, s, &e);
    uint64_t bytes;
    size_t kept = ep_streams_kept(s, &bytes); /* all of them, or those that fit */
    job_count(job, &job->sum.streams_copied, kept);
    job_count(job, &job->sum.stream_bytes, bytes);
    if (rc != 0 && cannot_hold(rc)) {
        file_meta_not_kept(job, &job->sum.streams_not_kept, rel, NULL, "named streams not kept: %s", e.message);
        rc = 0;
    } else if (rc != 0) {
        smb_err_set(err, rc, e.ntstatus, "writing the named streams: %s", e.message);
    }
    return rc;
}

/* The stream of s named name (exactly, else ignoring ASCII case: SMB stream names are case-insensitive), or NULL. */
static const ep_stream *stream_named(const ep_streams *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    for (size_t i = 0; i < s->n; i++)
        if (strcasecmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

/*
 * The check after the write: every stream put_streams kept on dst reads
 * back from it with the same bytes. A sequential destination (an archive)
 * cannot be read back. 0, or the error that fails the file.
 */
static int check_streams(ep *dst_ep, ep_file *dst, const ep_streams *written, smb_error *err)
{
    if (!dst_ep->ops->get_streams || (dst_ep->caps & EP_CAP_SEQUENTIAL))
        return 0;
    ep_streams back = {0};
    smb_error e = {0};
    int rc = dst_ep->ops->get_streams(dst, &back, &e);
    if (rc != 0) {
        ep_streams_clear(&back);
        return smb_err_set(err, rc, e.ntstatus, "reading the named streams back: %s", e.message);
    }
    for (size_t i = 0; rc == 0 && i < written->n; i++) {
        const ep_stream *w = &written->v[i];
        if (!w->kept)
            continue;
        const ep_stream *b = stream_named(&back, w->name);
        if (!b)
            rc = smb_err_set(err, SMB_ERR_SERVER, 0, "the named stream '%s' is not there after writing it", w->name);
        else if (b->len != w->len || (w->len && memcmp(b->data, w->data, w->len) != 0))
            rc = smb_err_set(err, SMB_ERR_SERVER, 0, "the named stream '%s' reads back with other bytes (%zu, %zu written)",
                             w->name, b->len, w->len);
    }
    ep_streams_clear(&back);
    return rc;
}

static int copy_streams(sc_job *job, job_pair *pair, const char *rel, ep_file *src, ep_file *dst, smb_error *err)
{
    ep_streams s = {0};
    smb_error e = {0};
    int rc = pair->src->ops->get_streams(src, &s, &e);
    if (rc == SMB_ERR_NO_SPACE) { /* larger than the engine moves through memory */
        file_meta_not_kept(job, &job->sum.streams_not_kept, rel, NULL, "named streams not copied: %s", e.message);
        return 0;
    }
    if (rc != 0) {
        *err = e;
        return rc;
    }
    if (s.n)
        rc = file_meta_put_streams(job, pair->dst, rel, dst, &s, err);
    if (rc == 0 && s.n)
        rc = check_streams(pair->dst, dst, &s, err);
    ep_streams_clear(&s);
    return rc;
}

/* The SACL of rel refused (reading or setting it needs SeSecurityPrivilege, MS-DTYP 2.4.6): reported, the rest kept. */
static void sacl_not_kept(sc_job *job, const char *rel, bool reading, const smb_error *why)
{
    file_meta_not_kept(job, &job->sum.sds_not_kept, rel, NULL, reading ? "SACL not copied: %s" : "SACL not kept: %s",
                       why->message);
}

/* Count or report how setting rel's descriptor ended (rc, e: the last put_sd's); 0, or the error that fails the file. */
static int put_outcome(sc_job *job, const char *rel, const ep_sd *sd, int rc, const smb_error *e, smb_error *err)
{
    if (rc == 0) {
        job_count(job, &job->sum.sds_copied, 1);
    } else if (rc == SMB_ERR_UNSUPPORTED || rc == SMB_ERR_NO_SPACE) { /* no room: a local file's xattrs are small */
        file_meta_not_kept(job, &job->sum.sds_not_kept, rel, sd, "security descriptor not kept: %s", e->message);
        rc = 0;
    } else {
        /* Asked for and refused (an owner or a SID the destination does not know): the file fails. */
        smb_err_set(err, rc, e->ntstatus, "writing the security descriptor: %s", e->message);
    }
    return rc;
}

int file_meta_get_sd(ep *src_ep, uint32_t parts, ep_file *src, ep_sd *sd, smb_error *why, smb_error *err)
{
    memset(why, 0, sizeof *why);
    smb_error e = {0};
    int rc = src_ep->ops->get_sd(src, parts, sd, &e);
    if (rc == SMB_ERR_ACCESS && (parts & EP_SD_SACL)) {
        /* Reading a SACL needs a privilege (MS-DTYP 2.4.6: SeSecurityPrivilege): keep the rest. */
        *why = e;
        parts &= ~EP_SD_SACL;
        memset(&e, 0, sizeof e);
        rc = src_ep->ops->get_sd(src, parts, sd, &e);
    }
    if (rc != 0)
        smb_err_set(err, rc, e.ntstatus, "reading the security descriptor: %s", e.message);
    return rc;
}

/*
 * The check after the write: whether what dst keeps of sd (read back) says
 * what sd says (smb_sd_kept). 1 when it does, or when it cannot be read
 * back (nothing to compare); 0 when not, *e then saying what differs
 * (ep_sd_kept).
 */
static int sd_kept_check(ep *dst_ep, ep_file *dst, const ep_sd *sd, smb_error *e)
{
    if (!dst_ep->ops->get_sd)
        return 1;
    ep_sd back = {0};
    smb_error le = {0};
    if (dst_ep->ops->get_sd(dst, sd->parts, &back, &le) != 0) {
        ep_sd_clear(&back);
        return 1;
    }
    bool kept = ep_sd_kept(sd, sd->parts, back.bytes, back.len, e);
    ep_sd_clear(&back);
    return kept;
}

int file_meta_put_sd(sc_job *job, ep *dst_ep, const char *rel, ep_file *dst, ep_sd *sd, smb_error *err)
{
    if (sd->len == 0) /* none at the source (a local file never given one): the destination's inheritance applies */
        return 0;
    smb_error e = {0};
    int rc = dst_ep->ops->put_sd(dst, sd, &e);
    if (rc == SMB_ERR_ACCESS && (sd->parts & EP_SD_SACL)) {
        sacl_not_kept(job, rel, false, &e);
        sd->parts &= ~EP_SD_SACL;
        memset(&e, 0, sizeof e);
        rc = dst_ep->ops->put_sd(dst, sd, &e);
    }
    if (rc == 0 && !sd_kept_check(dst_ep, dst, sd, &e))
        rc = e.code;
    return put_outcome(job, rel, sd, rc, &e, err);
}

void file_meta_report_sd(sc_job *job, const char *rel, bool written, const ep_sd *sd, const smb_error *why)
{
    int code = why->code;
    if (code == SMB_ERR_ACCESS) {
        sacl_not_kept(job, rel, !written, why);
        code = 0;
    }
    if (written)
        put_outcome(job, rel, sd, code, why, NULL);
}

static int copy_sd(sc_job *job, job_pair *pair, const char *rel, uint32_t parts, ep_file *src, ep_file *dst,
                   smb_error *err)
{
    ep_sd sd = {0};
    smb_error why;
    int rc = file_meta_get_sd(pair->src, parts, src, &sd, &why, err);
    if (rc == 0) {
        file_meta_report_sd(job, rel, false, &sd, &why);
        rc = file_meta_put_sd(job, pair->dst, rel, dst, &sd, err);
    }
    ep_sd_clear(&sd);
    return rc;
}

int file_meta_copy(sc_job *job, job_pair *pair, const char *rel, ep_file *src, ep_file *dst, smb_error *err)
{
    int rc = 0;
    if (file_meta_streams(job, pair))
        rc = copy_streams(job, pair, rel, src, dst, err);
    uint32_t parts = file_meta_sd_parts(job, pair);
    if (rc == 0 && parts)
        rc = copy_sd(job, pair, rel, parts, src, dst, err);
    return rc;
}

int file_meta_copy_dir(sc_job *job, job_pair *pair, const char *src_rel, const char *dst_rel, const char *shown,
                       smb_error *err)
{
    if (!file_meta_streams(job, pair) && !file_meta_sd_parts(job, pair))
        return 0;
    if (!pair->src->ops->open_meta || !pair->dst->ops->open_meta)
        return 0;
    ep_file *src = NULL, *dst = NULL;
    int rc = pair->src->ops->open_meta(pair->src, src_rel, true, false, &src, err);
    if (rc == SMB_ERR_UNSUPPORTED) /* a source directory without metadata of its own (a server's list of shares) */
        return 0;
    if (rc == 0)
        rc = pair->dst->ops->open_meta(pair->dst, dst_rel, true, true, &dst, err);
    if (rc == 0)
        rc = file_meta_copy(job, pair, shown, src, dst, err);
    smb_error e2 = {0};
    if (dst)
        pair->dst->ops->close(dst, &e2);
    if (src)
        pair->src->ops->close(src, &e2);
    return rc;
}

int file_meta_refresh(sc_job *job, job_pair *pair, const char *src_rel, const char *dst_rel, bool is_dir,
                      bool *updated, smb_error *err)
{
    *updated = false;
    uint32_t parts = file_meta_sd_parts(job, pair);
    if (!parts || !pair->src->ops->open_meta || !pair->dst->ops->open_meta)
        return 0;
    ep_file *src = NULL, *dst = NULL;
    ep_sd want = {0}, have = {0};
    smb_error why = {0}, why_dst = {0};
    int rc = pair->src->ops->open_meta(pair->src, src_rel, is_dir, false, &src, err);
    if (rc == SMB_ERR_UNSUPPORTED) /* nothing to compare with (a server's list of shares) */
        return 0;
    if (rc == 0)
        rc = file_meta_get_sd(pair->src, parts, src, &want, &why, err);
    if (rc == 0 && want.len)
        rc = pair->dst->ops->open_meta(pair->dst, dst_rel, is_dir, true, &dst, err);
    /* The destination's, for the parts the source has (what a copy would set). */
    if (rc == 0 && want.len)
        rc = file_meta_get_sd(pair->dst, want.parts, dst, &have, &why_dst, err);
    /* Compared as the check after a write compares: a server's own forms of the same descriptor are no change. */
    bool differs = rc == 0 && want.len &&
                   (!have.len || smb_sd_kept(want.bytes, want.len, have.bytes, have.len, want.parts, NULL, 0, NULL) != 1);
    if (differs) {
        if (why.code)
            file_meta_report_sd(job, dst_rel, false, &want, &why);
        rc = file_meta_put_sd(job, pair->dst, dst_rel, dst, &want, err);
        if (rc == 0) {
            *updated = true;
            job_count(job, &job->sum.files_meta_updated, 1);
            job_meta_note(job, dst_rel, is_dir, true, "security descriptor", want.bytes, want.len);
        }
    }
    ep_sd_clear(&want);
    ep_sd_clear(&have);
    smb_error e2 = {0};
    if (dst)
        pair->dst->ops->close(dst, &e2);
    if (src)
        pair->src->ops->close(src, &e2);
    return rc;
}

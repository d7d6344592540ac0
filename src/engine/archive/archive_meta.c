/* Named streams and security descriptors read in one thread and written in another (archive_meta.h). */
#include "engine/archive/archive_meta.h"

#include <string.h>

#include "common/error.h"
#include "engine/file_meta.h"

arc_meta_plan arc_meta_plan_for(sc_job *job, ep *src, ep *dst)
{
    arc_meta_plan plan = {0};
    if (!src || !dst)
        return plan;
    job_pair pair = {.src = src, .dst = dst};
    plan.streams = file_meta_streams(job, &pair);
    plan.sd_parts = file_meta_sd_parts(job, &pair);
    src->sd_parts |= plan.sd_parts;
    dst->sd_parts |= plan.sd_parts;
    return plan;
}

bool arc_meta_wanted(const arc_meta_plan *plan, const ep_stat *st)
{
    return plan->sd_parts || (plan->streams && st->streams != EP_STREAMS_NONE);
}

int arc_meta_read(sc_job *job, const arc_meta_plan *plan, ep *src, ep_file *f, const char *rel, const ep_stat *st,
                  arc_meta *m, smb_error *err)
{
    smb_error e = {0};
    if (plan->streams && st->streams != EP_STREAMS_NONE) {
        int rc = src->ops->get_streams(f, &m->streams, &e);
        if (rc == SMB_ERR_NO_SPACE) { /* larger than the engine moves through memory */
            file_meta_not_kept(job, &job->sum.streams_not_kept, rel, NULL, "named streams not copied: %s", e.message);
        } else if (rc != 0) {
            smb_err_set(err, rc, e.ntstatus, "reading the named streams: %s", e.message);
            return rc;
        }
    }
    uint32_t parts = plan->sd_parts;
    if (!parts)
        return 0;
    smb_error why;
    int rc = file_meta_get_sd(src, parts, f, &m->sd, &why, err);
    if (rc == 0)
        file_meta_report_sd(job, rel, false, &m->sd, &why);
    return rc;
}

int arc_meta_write(sc_job *job, ep *dst, ep_file *f, const char *rel, arc_meta *m, smb_error *err)
{
    int rc = 0;
    if (m->sd.len && dst->ops->put_sd) {
        ep_sd sd = m->sd; /* borrowed bytes: only its parts may change */
        rc = file_meta_put_sd(job, dst, rel, f, &sd, err);
    }
    if (rc == 0 && m->streams.n && dst->ops->put_streams)
        rc = file_meta_put_streams(job, dst, rel, f, &m->streams, err);
    return rc;
}

bool arc_meta_any(const arc_meta *m)
{
    return m->streams.n || m->sd.len;
}

size_t arc_meta_bytes(const arc_meta *m)
{
    return ep_streams_bytes(&m->streams) + m->sd.len;
}

void arc_meta_clear(arc_meta *m)
{
    ep_streams_clear(&m->streams);
    ep_sd_clear(&m->sd);
}

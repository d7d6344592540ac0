/* Events, counters and failures of a job. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbcopy/security.h>

#include "common/array.h"
#include "engine/job_internal.h"

void job_event(sc_job *job, sc_event_type type, const char *path, uint64_t bytes, bool is_dir, const char *msg)
{
    if (!job->opts.on_event)
        return;
    sc_event ev = {.type = type, .path = path, .bytes = bytes, .is_dir = is_dir, .message = msg};
    pthread_mutex_lock(&job->ev_lock);
    job->opts.on_event(&ev, job->opts.event_arg);
    pthread_mutex_unlock(&job->ev_lock);
}

void job_count(sc_job *job, uint64_t *counter, uint64_t n)
{
    pthread_mutex_lock(&job->lock);
    *counter += n;
    pthread_mutex_unlock(&job->lock);
}

bool job_error_restartable(int code)
{
    return code == SMB_ERR_DISCONNECTED || code == SMB_ERR_TIMEOUT || code == SMB_ERR_CLOSED ||
           code == SMB_ERR_CONNECT;
}

void job_fail(sc_job *job, const char *path, bool is_dir, const char *fmt, ...)
{
    /* After a lost connection the pass is done again: what fails now is not a failure of the job. */
    if (job->opts.retry_for_s && job_error_restartable(atomic_load(&job->fatal)))
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /*
     * "STAGE: REASON" where REASON already starts with the stage's words
     * ("write: write 'x': ..."): the stage once ("write 'x': ...").
     */
    const char *colon = strstr(msg, ": ");
    if (colon) {
        size_t k = (size_t)(colon - msg);
        if (strncmp(colon + 2, msg, k) == 0 && colon[2 + k] == ' ')
            memmove(msg, colon + 2, strlen(colon + 2) + 1);
    }
    pthread_mutex_lock(&job->lock);
    if (!is_dir)
        job->sum.files_failed++;
    if (ARRAY_RESERVE(job->sum.failures, job->failures_cap, job->sum.nfailures + 1, 16)) {
        sc_failure *f = &job->sum.failures[job->sum.nfailures];
        f->path = strdup(path);
        f->message = strdup(msg);
        if (f->path && f->message)
            job->sum.nfailures++;
        else {
            free(f->path);
            free(f->message);
        }
    }
    pthread_mutex_unlock(&job->lock);
    job_event(job, SC_EV_FILE_FAILED, path, 0, is_dir, msg);
}

/* sd in SDDL (malloc'd), or NULL when there is none or SDDL cannot say it. */
static char *sddl_of(const uint8_t *sd, size_t len)
{
    smb_security_descriptor *d = NULL;
    char *out = NULL;
    if (sd && len && smb_sd_decode(sd, len, &d, NULL) == 0)
        smb_sd_to_sddl(d, &out, NULL);
    smb_sd_free(d);
    return out;
}

void job_meta_note(sc_job *job, const char *path, bool is_dir, bool updated, const char *msg, const uint8_t *sd,
                   size_t sd_len)
{
    pthread_mutex_lock(&job->lock);
    sc_summary *s = &job->sum;
    if (s->nmeta_notes >= SC_META_NOTES_MAX) {
        s->meta_notes_cut = true;
    } else if (ARRAY_RESERVE(s->meta_notes, job->meta_notes_cap, s->nmeta_notes + 1, 16)) {
        sc_meta_note *n = &s->meta_notes[s->nmeta_notes];
        *n = (sc_meta_note){.path = strdup(path), .message = strdup(msg), .updated = updated};
        if (n->path && n->message) {
            n->sddl = sddl_of(sd, sd_len);
            s->nmeta_notes++;
        } else {
            free(n->path);
            free(n->message);
        }
    }
    pthread_mutex_unlock(&job->lock);
    job_event(job, updated ? SC_EV_META_UPDATED : SC_EV_META_NOT_KEPT, path, 0, is_dir, msg);
}

bool job_error_is_fatal(int code)
{
    return code == SMB_ERR_DISCONNECTED || code == SMB_ERR_TIMEOUT || code == SMB_ERR_CLOSED ||
           code == SMB_ERR_CONNECT || code == SMB_ERR_PROTOCOL || code == SMB_ERR_NO_MEMORY;
}

void job_set_fatal(sc_job *job, const smb_error *err)
{
    pthread_mutex_lock(&job->lock);
    if (!atomic_load(&job->fatal)) {
        job->fatal_err = *err;
        atomic_store(&job->fatal, err->code ? err->code : SMB_ERR_DISCONNECTED);
    }
    pthread_cond_broadcast(&job->cond);
    pthread_mutex_unlock(&job->lock);
}

bool job_stopping(sc_job *job)
{
    return atomic_load(&job->cancel) || atomic_load(&job->fatal);
}

bool job_subtree_failed(sc_job *job, const char *rel)
{
    size_t n = strlen(rel);
    bool failed = false;
    pthread_mutex_lock(&job->lock);
    for (size_t i = 0; i < job->sum.nfailures && !failed; i++) {
        const char *p = job->sum.failures[i].path;
        failed = n == 0 || (strncmp(p, rel, n) == 0 && (p[n] == '\0' || p[n] == '/'));
    }
    failed = failed || (n == 0 && job->sum.files_failed);
    pthread_mutex_unlock(&job->lock);
    return failed;
}

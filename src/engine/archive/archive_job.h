/*
 * The pipelines of sequential endpoints (EP_CAP_SEQUENTIAL, endpoint.h):
 * archiving a source tree into a tar archive (archive_job.c), and
 * restoring one (archive_restore.c).
 */
#ifndef SMBCOPY_ENGINE_ARCHIVE_JOB_H
#define SMBCOPY_ENGINE_ARCHIVE_JOB_H

#include <stddef.h>

#include "engine/job_internal.h"

/**
 * Write the tree of src (a directory endpoint) into dst, a sequential
 * destination (NULL for a dry run), entries sorted depth first, the job's
 * threads reading ahead at most read_ahead bytes (0: SC_DEFAULT_READ_AHEAD),
 * and commit dst. Per-file failures go to the job's summary; returns an
 * error that stopped the whole archive (dst is then committed incomplete:
 * nothing is left under its final name).
 */
int job_archive_run(sc_job *job, ep *src, ep *dst, size_t read_ahead, smb_error *err);

/**
 * Extract src, a sequential source (an archive), into dst: unsafe
 * entries refused and reported, files written under temporary names and
 * renamed into place by the job's threads, times and attributes restored,
 * at most read_ahead bytes (0: SC_DEFAULT_READ_AHEAD) read ahead of the
 * writers. Returns an error that ended the restore (a damaged archive, a
 * lost connection); per-entry failures go to the summary.
 */
int job_restore_run(sc_job *job, ep *src, ep *dst, size_t read_ahead, smb_error *err);

#endif

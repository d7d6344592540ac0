/* Archiving a source tree into a tar archive (archive_job.c), and restoring one (archive_restore.c). */
#ifndef SMBCOPY_ENGINE_ARCHIVE_JOB_H
#define SMBCOPY_ENGINE_ARCHIVE_JOB_H

#include <stddef.h>

#include "engine/archive_out.h"
#include "engine/job_internal.h"

/**
 * Write the tree of src (a directory endpoint) into a new archive at path
 * ("-": standard output), entries sorted depth first, the job's threads
 * reading ahead at most read_ahead bytes (0: SC_DEFAULT_READ_AHEAD). Per-file
 * failures go to the job's summary; returns an error that stopped the whole
 * archive (which is then not left under its final name).
 */
int job_archive_run(sc_job *job, ep *src, const char *path, const arc_out_opts *aopts, size_t read_ahead,
                    smb_error *err);

/**
 * Extract the archive at archive_path ("-": standard input) into dst: unsafe
 * entries refused and reported, files written under temporary names and
 * renamed into place by the job's threads, times and attributes restored,
 * at most read_ahead bytes (0: SC_DEFAULT_READ_AHEAD) read ahead of the
 * writers. Returns an error that ended the restore (a damaged archive, a
 * lost connection); per-entry failures go to the summary.
 */
int job_restore_run(sc_job *job, const char *archive_path, ep *dst, size_t read_ahead, smb_error *err);

#endif

/*
 * Named streams and security descriptors in the archive pipelines
 * (archive_job.c, archive_restore.c). A copy moves them between two files
 * open at once (file_meta.c); a pipeline reads them with the file's data
 * from the open source, in one thread, and writes them onto the
 * destination's file in another, later: into an archive entry's header
 * before its data, onto a restored file before it is finished and renamed.
 * What they cannot move is reported as file_meta.c reports it
 * (file_meta_not_kept: SC_EV_META_NOT_KEPT and the *_not_kept counters),
 * and the file goes on; what is written is counted (streams_copied,
 * stream_bytes, sds_copied).
 */
#ifndef SMBCOPY_ENGINE_ARCHIVE_META_H
#define SMBCOPY_ENGINE_ARCHIVE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/job_internal.h"

/** One file's streams and descriptor, between its read and its write. */
typedef struct arc_meta {
    ep_streams streams;
    ep_sd sd; /**< len 0: none */
} arc_meta;

/** What a pipeline moves with each file. */
typedef struct arc_meta_plan {
    bool streams;      /**< named streams */
    uint32_t sd_parts; /**< the security descriptor parts (EP_SD_*), 0 for none */
} arc_meta_plan;

/**
 * What job moves from src to dst, as for a copy between them
 * (file_meta_streams, file_meta_sd_parts); nothing when dst is NULL (a dry
 * run). Adds the descriptor parts to both endpoints' sd_parts, so call it
 * before either opens a file.
 */
arc_meta_plan arc_meta_plan_for(sc_job *job, ep *src, ep *dst);

/**
 * Whether a file whose source metadata is st is to be opened for its
 * streams or descriptor: descriptors are moved, or streams are and st does
 * not say it has none. Such a file is read through open_read, not
 * read_whole.
 */
bool arc_meta_wanted(const arc_meta_plan *plan, const ep_stat *st);

/**
 * Read what plan moves of file rel (metadata st) from f, open on src (a
 * directory's: opened with open_meta), into
 * *m (empty before; arc_meta_clear frees it). Streams too large for memory
 * (SMB_ERR_NO_SPACE), or a SACL the source does not let be read, are
 * reported and left out. Returns 0, or an error that fails the file (the
 * source could not be read).
 */
int arc_meta_read(sc_job *job, const arc_meta_plan *plan, ep *src, ep_file *f, const char *rel, const ep_stat *st,
                  arc_meta *m, smb_error *err);

/**
 * Write m onto f, open_write's file of rel on dst (a sequential
 * destination: before its first write; otherwise before finish), or its
 * open_meta's for a directory (archive_restore.c, before its times): the
 * descriptor first (it gets an archive header's room first), then the
 * streams. What dst cannot hold (SMB_ERR_UNSUPPORTED, NO_SPACE, BAD_NAME; a
 * SACL it refuses) is reported, the rest counted. Returns 0, or an error
 * that fails the file (a descriptor refused otherwise, a failed write).
 */
int arc_meta_write(sc_job *job, ep *dst, ep_file *f, const char *rel, arc_meta *m, smb_error *err);

/** Whether m holds anything to write. */
bool arc_meta_any(const arc_meta *m);

/** Bytes m holds (its streams' and its descriptor's), for read-ahead budgets. */
size_t arc_meta_bytes(const arc_meta *m);

/** Free what m holds and empty it. */
void arc_meta_clear(arc_meta *m);

#endif

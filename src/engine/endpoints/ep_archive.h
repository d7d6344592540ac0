/*
 * Tar archives as endpoints (EP_CAP_SEQUENTIAL, see endpoint.h): a new
 * archive as the destination of an archiving job, an existing one as the
 * source of a restore.
 */
#ifndef SMBCOPY_ENGINE_EP_ARCHIVE_H
#define SMBCOPY_ENGINE_EP_ARCHIVE_H

#include "engine/archive/archive_out.h"
#include "engine/endpoints/endpoint.h"

/**
 * A new archive at path ("-": standard output), written under a temporary
 * name until commit(e, true) (see archive_out.h). counters (may be NULL)
 * count the entries' bytes as bytes_written. NULL with err filled on failure.
 */
ep *ep_archive_create(const char *path, const arc_out_opts *opts, ep_counters *counters, smb_error *err);

/**
 * The archive at path ("-": standard input), any format libarchive reads,
 * for reading entry by entry; names are checked (archive_in.h). counters
 * (may be NULL) count the entries' bytes as bytes_read.
 */
ep *ep_archive_open(const char *path, ep_counters *counters, smb_error *err);

#endif

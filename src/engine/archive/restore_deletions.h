/*
 * Applying an incremental archive's list of deleted entries
 * (SNAPSHOT_DELETED_ENTRY, snapshot.h) to the destination of a restore,
 * when the user asks for it (sc_job_opts.apply_deletions).
 *
 * The list comes from the archive: untrusted. A path is deleted only when
 * it passes the checks every entry's name passes (arc_in_unsafe_path: no
 * "..", not absolute, no backslash, not too deep), the filters do not
 * exclude it, and it is reached from the destination's root without
 * following any link: every directory on the way is looked up (stat, which
 * does not follow) and must be a directory, not a symbolic link or reparse
 * point, and the entry itself must still be what the list says (a file or a
 * directory). Anything else is refused and reported as a failure naming the
 * path and why. Files go first, then directories deepest first (a directory
 * is removed only when empty). Each deletion is reported (SC_EV_DELETED, or
 * SC_EV_DRY_RUN "delete" in a dry run) and counted; an entry already gone is
 * not an error.
 */
#ifndef SMBCOPY_ENGINE_RESTORE_DELETIONS_H
#define SMBCOPY_ENGINE_RESTORE_DELETIONS_H

#include <stddef.h>

#include "engine/job_internal.h"

/** Apply the list text[0..len) (the SNAPSHOT_DELETED_ENTRY format) to dst for job. */
void restore_apply_deletions(sc_job *job, ep *dst, const char *text, size_t len);

#endif

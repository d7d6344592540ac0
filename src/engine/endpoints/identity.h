/*
 * Whether two locations are the same place or one lies inside the other,
 * whatever they are called:
 *   - SMB: the same server (any address its name resolves to in common, so
 *     "localhost" is "127.0.0.1", and the same port), the same share (share
 *     names are case-insensitive), and paths compared without case (Windows
 *     and Samba shares fold case; comparing without case can only refuse
 *     more, never miss an overlap);
 *   - local: by device and inode of the nearest existing ancestor, so
 *     symbolic links, bind mounts and "a/../b" spellings are seen through.
 * A local path and an SMB location are never taken to overlap (the engine
 * cannot know which directory a server exports).
 */
#ifndef SMBCOPY_ENGINE_IDENTITY_H
#define SMBCOPY_ENGINE_IDENTITY_H

#include <stdbool.h>

#include <smbcopy/engine.h>

/** True when location inner is outer or lies below it. */
bool loc_within(const sc_location *inner, const sc_location *outer);

/**
 * The overlap rules of a job, checked before anything is opened: a
 * destination inside (or equal to) a source is refused always (it would
 * copy itself again and again); with mirror, a source inside the
 * destination is refused too (mirroring would delete it). Returns 0, or
 * SMB_ERR_INVALID_ARG with err naming both locations.
 */
int loc_check_overlap(const sc_location *sources, size_t nsources, const sc_location *dest, bool mirror,
                      smb_error *err);

/* sc_location_identity() is public: include/smbcopy/engine.h. */

#endif

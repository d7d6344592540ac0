/*
 * The snapshot file of incremental archives (like GNU tar's
 * --listed-incremental): every file and directory of the last archived
 * tree with its size, modification time and file id. The next archive
 * holds only what is new or changed since, and lists what was deleted.
 *
 * Format (text, one entry per line, fields separated by tabs; in paths a
 * backslash, tab and newline are written \\, \t and \n):
 *   smbcopy-snapshot 1
 *   F|D <tab> size <tab> mtime (FILETIME) <tab> file id <tab> path
 */
#ifndef SMBCOPY_ENGINE_SNAPSHOT_H
#define SMBCOPY_ENGINE_SNAPSHOT_H

#include <stdbool.h>

#include <smbcopy/smb.h>

#include "engine/endpoints/endpoint.h"

/** The archive entry that lists what an incremental archive deletes ("D\tpath" or "F\tpath" lines, escaped as above). */
#define SNAPSHOT_DELETED_ENTRY ".smbcopy-deleted"

typedef struct snapshot snapshot;

/** Read the snapshot at path (a missing file: an empty one, so the archive is complete). */
int snapshot_load(const char *path, snapshot **out, smb_error *err);

/**
 * Record path (as it is now) for the next snapshot, and say whether it is
 * new or changed since the loaded one (directories: whether new).
 */
bool snapshot_note(snapshot *s, const char *path, const ep_stat *st);

/**
 * The deleted entries (loaded, not noted) as the SNAPSHOT_DELETED_ENTRY
 * text: malloc'd into *text, *len bytes (0 when nothing was deleted).
 */
int snapshot_deleted_text(snapshot *s, char **text, size_t *len, smb_error *err);

/** Write the noted entries to path (mode 0600, a temporary name renamed into place). */
int snapshot_save(snapshot *s, const char *path, smb_error *err);

/** Free. */
void snapshot_free(snapshot *s);

/** Split the deleted-entries text into paths: cb for each (is_dir for "D"); unescapes. */
void snapshot_parse_deleted(const char *text, size_t len, void (*cb)(void *arg, const char *path, bool is_dir),
                            void *arg);

#endif

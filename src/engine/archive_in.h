/*
 * Reading archives: whatever libarchive reads (tar in any of its forms,
 * compressed or not, also zip, cpio, ...), one entry after the other, each
 * name checked before anything is done with it. An archive is untrusted
 * input: names that are absolute, hold "..", "." or empty components, a
 * backslash or a drive prefix, names nested deeper than ARC_IN_MAX_DEPTH,
 * and entries that are links or special files are reported as refused,
 * never restored.
 */
#ifndef SMBCOPY_ENGINE_ARCHIVE_IN_H
#define SMBCOPY_ENGINE_ARCHIVE_IN_H

#include <stddef.h>
#include <sys/types.h>

#include <smbcopy/smb.h>

#include "engine/endpoint.h"

/**
 * Most components a restored path may have (1024, as deep as the archive
 * walk descends): deeper entries are refused, so a hostile archive cannot
 * make a restore build an endless chain of directories.
 */
#define ARC_IN_MAX_DEPTH 1024

typedef struct arc_in arc_in;

/**
 * Check a relative path from an archive (an entry's name, or a path in an
 * incremental archive's list of deleted entries) of n bytes, '/'-separated:
 * NULL when it is safe to use below the destination, else why not (static
 * text): absolute, an unsafe component (plan_unsafe_name: empty, ".", "..",
 * a backslash, a drive prefix), or more than ARC_IN_MAX_DEPTH components.
 */
const char *arc_in_unsafe_path(const char *p, size_t n);

/** One entry; strings valid until the next arc_in_next. */
typedef struct arc_in_entry {
    const char *rel;     /**< the checked relative path ('/'-separated, no trailing '/'; "" for the archive's
                              root, "./"), or the raw name when refused */
    ep_stat st;          /**< type EP_FILE or EP_DIR, size, mtime, ctime and DOS attributes (see archive_out.h) */
    const char *refused; /**< why the entry is not to be restored, or NULL */
} arc_in_entry;

/** Open the archive at path ("-": standard input). */
int arc_in_open(const char *path, arc_in **out, smb_error *err);

/** The next entry: 1, or 0 at the end, or an error (a damaged archive). */
int arc_in_next(arc_in *a, arc_in_entry *e, smb_error *err);

/** Up to len bytes of the current entry's data: the count, 0 at its end, or an error. */
ssize_t arc_in_data(arc_in *a, void *buf, size_t len, smb_error *err);

/** Close and free. */
void arc_in_close(arc_in *a);

#endif

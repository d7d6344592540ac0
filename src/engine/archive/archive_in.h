/*
 * Reading archives: whatever libarchive reads (tar in any of its forms,
 * compressed or not, also zip, cpio, ...), one entry after the other, each
 * name checked before anything is done with it. An archive is untrusted
 * input: names that are absolute, hold "..", "." or empty components, a
 * backslash or a drive prefix, names nested deeper than ARC_IN_MAX_DEPTH,
 * and entries that are links or special files are reported as refused,
 * never restored.
 *
 * A file's named streams and security descriptor come from the extended
 * attributes archive_out.h describes (SCHILY.xattr or LIBARCHIVE.xattr pax
 * records, so also from archives GNU tar or bsdtar made of a local tree
 * holding them). Stream names are decoded from %XX (libarchive's form;
 * GNU tar's %25 and %3D among it) and checked as ep_stream_name_ok does:
 * an attribute whose name does not decode to one is not a stream.
 */
#ifndef SMBCOPY_ENGINE_ARCHIVE_IN_H
#define SMBCOPY_ENGINE_ARCHIVE_IN_H

#include <stddef.h>
#include <sys/types.h>

#include <smbcopy/smb.h>

#include "engine/endpoints/endpoint.h"

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
    ep_stat st;          /**< type EP_FILE or EP_DIR, size, mtime, ctime and DOS attributes (see archive_out.h),
                              streams: whether it has named streams */
    const char *refused; /**< why the entry is not to be restored, or NULL */
} arc_in_entry;

/** Open the archive at path ("-": standard input). */
int arc_in_open(const char *path, arc_in **out, smb_error *err);

/** The next entry: 1, or 0 at the end, or an error (a damaged archive). */
int arc_in_next(arc_in *a, arc_in_entry *e, smb_error *err);

/** Up to len bytes of the current entry's data: the count, 0 at its end, or an error. */
ssize_t arc_in_data(arc_in *a, void *buf, size_t len, smb_error *err);

/** Most named streams one entry gives (as many as an SMB server's listing may). */
#define ARC_IN_MAX_STREAMS 65536

/**
 * The named streams of the current entry into *out (ep_streams_clear'd
 * first; the caller frees it with ep_streams_clear): each value less its
 * last byte (the NUL vfs_streams_xattr adds), in the archive's order; of
 * two of one name, the later. More than SC_STREAMS_MAX_BYTES or
 * ARC_IN_MAX_STREAMS: *out empty, SMB_ERR_NO_SPACE.
 */
int arc_in_streams(arc_in *a, ep_streams *out, smb_error *err);

/**
 * The security descriptor of the current entry into *out (ep_sd_clear'd
 * first; freed with ep_sd_clear): its bytes whole (of two, the later),
 * out->parts the parts among `parts` it holds; out->len 0 when it has
 * none. Bytes that do not decode as a descriptor: SMB_ERR_PROTOCOL.
 */
int arc_in_sd(arc_in *a, uint32_t parts, ep_sd *out, smb_error *err);

/** Close and free. */
void arc_in_close(arc_in *a);

#endif

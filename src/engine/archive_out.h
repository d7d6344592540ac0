/*
 * Writing archives: the format and compression a destination name asks for,
 * and entries in POSIX pax through libarchive. The archive is written under
 * a temporary name next to its final one and renamed into place when it is
 * complete (a failed or interrupted run leaves no partial archive under the
 * final name); "-" writes to standard output instead.
 *
 * Entries: POSIX pax (POSIX.1-2001), every entry with an extended header,
 * so long and non-ASCII names, sizes past 8 GiB and sub-second times are
 * kept. Modification times keep 100 ns (SMB's unit). Two extended
 * attributes, written as SCHILY.xattr.* pax records (which GNU tar reads
 * with --xattrs and otherwise skips without a word, and bsdtar reads):
 * "user.smbcopy.ctime", the creation time as seconds since 1970 with 7
 * decimals ("1500000000.0000001"), and "user.smbcopy.dosattrib", the DOS
 * attributes (READONLY, HIDDEN, SYSTEM, ARCHIVE) as a hex number ("0x21").
 */
#ifndef SMBCOPY_ENGINE_ARCHIVE_OUT_H
#define SMBCOPY_ENGINE_ARCHIVE_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include <smbcopy/smb.h>

#include "engine/endpoint.h"

/** Compression of a tar archive. */
typedef enum arc_filter {
    ARC_NONE = 0, /**< .tar */
    ARC_GZIP,     /**< .tar.gz, .tgz */
    ARC_XZ,       /**< .tar.xz, .txz */
    ARC_BZIP2,    /**< .tar.bz2, .tbz2 */
    ARC_ZSTD,     /**< .tar.zst, .tzst */
} arc_filter;

/** The extended attribute holding DOS attributes. */
#define ARC_DOSATTRIB_XATTR "user.smbcopy.dosattrib"
/** The extended attribute holding the creation time. */
#define ARC_CTIME_XATTR "user.smbcopy.ctime"

/**
 * The filter a file name asks for by its ending (case-insensitive), or -1
 * when it does not name a tar archive.
 */
int arc_filter_from_name(const char *name);

/**
 * The filter for a --archive FORMAT value: "tar", "tar.gz" or "tgz" or
 * "gzip", "tar.xz" or "xz", "tar.bz2" or "bzip2", "tar.zst" or "zstd";
 * -1 when unknown.
 */
int arc_filter_from_format(const char *format);

/** Options of an archive being written. */
typedef struct arc_out_opts {
    arc_filter filter;
    int level;        /**< compression level, -1 for the filter's default */
    unsigned threads; /**< compression threads (zstd, xz), 0 for one */
} arc_out_opts;

typedef struct arc_out arc_out;

/**
 * Start writing an archive at path ("-": standard output). Errors:
 * SMB_ERR_INVALID_ARG (bad level), SMB_ERR_EXISTS (path is a directory),
 * or the system's reason.
 */
int arc_out_open(const char *path, const arc_out_opts *opts, arc_out **out, smb_error *err);

/** A directory entry (rel without a trailing '/'; times and attributes from st). */
int arc_out_dir(arc_out *a, const char *rel, const ep_stat *st, smb_error *err);

/** Start a regular file of st->size bytes; its data follows with arc_out_data. */
int arc_out_file(arc_out *a, const char *rel, const ep_stat *st, smb_error *err);

/**
 * Start a regular file of st->size bytes stored sparse (pax GNU.sparse
 * 1.0): only ranges[0..n) (sorted, disjoint, within the size) hold data.
 * Its data follows with arc_out_data, in order; arc_out_skip_to passes over
 * holes, and what arc_out_data puts in a hole is not stored (it must be
 * zeros). arc_out_file_end skips what is left.
 */
int arc_out_file_sparse(arc_out *a, const char *rel, const ep_stat *st, const ep_range *ranges, size_t n,
                        smb_error *err);

/** Move the current sparse file to offset off (at or after the current one): the bytes between read as zeros. */
int arc_out_skip_to(arc_out *a, uint64_t off, smb_error *err);

/** The next bytes of the current file. */
int arc_out_data(arc_out *a, const void *buf, size_t len, smb_error *err);

/**
 * End the current file: it must have received exactly the size it was
 * started with (else the archive is unusable and this fails).
 */
int arc_out_file_end(arc_out *a, smb_error *err);

/**
 * Finish the archive and free a. With complete, the trailer is written and
 * the file renamed to its final name; without, the temporary file is
 * removed. Returns the first error.
 */
int arc_out_close(arc_out *a, bool complete, smb_error *err);

#endif

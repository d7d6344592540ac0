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
 *
 * A file's or a directory's named streams and security descriptor
 * (arc_out_extra) go in as the extended attributes a local file keeps them
 * in (ep_local_meta.h), so that GNU tar --xattrs extracting onto a local
 * disk gives files smbcopy and Samba's vfs_streams_xattr read: stream NAME as
 * "user.DosStream.NAME:$DATA", its bytes followed by one NUL byte; the
 * self-relative descriptor (MS-DTYP 2.4.6) as "user.smbcopy.ntsd".
 * libarchive writes the bytes of an attribute's name outside '!'..'~', and
 * '%' and '=', as %XX ("a b" is "a%20b" in the archive); GNU tar writes only
 * '%' and '=' so, and decodes only those, so it extracts a stream whose name
 * has a space, a control character or a non-ASCII letter under the %XX
 * form. archive_in.c reads both forms back.
 */
#ifndef SMBCOPY_ENGINE_ARCHIVE_OUT_H
#define SMBCOPY_ENGINE_ARCHIVE_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include <smbcopy/smb.h>

#include "engine/endpoints/endpoint.h"
#include "engine/endpoints/ep_local_meta.h"

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
/** A named stream's extended attribute: this, the stream's name, then ARC_STREAM_XATTR_SUFFIX. */
#define ARC_STREAM_XATTR_PREFIX EP_LOCAL_STREAM_PREFIX
#define ARC_STREAM_XATTR_SUFFIX EP_LOCAL_STREAM_SUFFIX
/** The extended attribute holding a file's security descriptor. */
#define ARC_SD_XATTR EP_LOCAL_SD_XATTR

/**
 * Most bytes of one entry's pax extended header: libarchive before 3.7.5
 * (Debian 12 has 3.6.2) refuses a larger one, and with it the rest of the
 * archive. Streams that would pass it are left out of the entry.
 */
#define ARC_PAX_HEADER_MAX ((size_t)1 << 20)
/**
 * Longest extended attribute name, as written (%XX included), that
 * libarchive 3.7.5 and later read; they drop longer ones.
 */
#define ARC_XATTR_NAME_MAX 128

/** What a file's entry holds beyond its ep_stat. */
typedef struct arc_out_extra {
    const ep_streams *streams; /**< its named streams (NULL: none); names as ep_meta.h says */
    const ep_sd *sd;           /**< its security descriptor (NULL or len 0: none), stored whole */
} arc_out_extra;

/**
 * Bytes of file rel's extended header that its streams and descriptor may
 * take: ARC_PAX_HEADER_MAX less what its name and the other records may.
 */
size_t arc_out_extra_room(const char *rel);

/**
 * Bytes stream `name` of len bytes takes in an entry's extended header, or
 * 0 when it cannot be archived: its attribute's name would be longer than
 * ARC_XATTR_NAME_MAX as written.
 */
size_t arc_out_stream_cost(const char *name, size_t len);

/** Bytes a security descriptor of len bytes takes in an entry's extended header. */
size_t arc_out_sd_cost(size_t len);

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

/**
 * A directory entry (rel without a trailing '/'; times and attributes from
 * st). extra (NULL: none): its named streams and descriptor, as for
 * arc_out_file.
 */
int arc_out_dir(arc_out *a, const char *rel, const ep_stat *st, const arc_out_extra *extra, smb_error *err);

/**
 * Start a regular file of st->size bytes; its data follows with
 * arc_out_data. extra (NULL: none) is copied into the header. Extra that
 * does not fit (arc_out_extra_room, arc_out_stream_cost): SMB_ERR_NO_SPACE,
 * nothing written.
 */
int arc_out_file(arc_out *a, const char *rel, const ep_stat *st, const arc_out_extra *extra, smb_error *err);

/**
 * Start a regular file of st->size bytes stored sparse (pax GNU.sparse
 * 1.0): only ranges[0..n) (sorted, disjoint, within the size) hold data.
 * Its data follows with arc_out_data, in order; arc_out_skip_to passes over
 * holes, and what arc_out_data puts in a hole is not stored (it must be
 * zeros). arc_out_file_end skips what is left. extra as for arc_out_file.
 */
int arc_out_file_sparse(arc_out *a, const char *rel, const ep_stat *st, const ep_range *ranges, size_t n,
                        const arc_out_extra *extra, smb_error *err);

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

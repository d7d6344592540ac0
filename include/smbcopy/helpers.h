/*
 * smbcopy SMB2/3 client library: high-level file and directory helpers, the
 * counterpart of the Python smbprotocol `smbclient` module's makedirs,
 * rmtree, walk, copyfile, open in append mode, statvfs and extended
 * attributes.
 *
 * Every helper works on a connected tree (smb.h) and a path inside its
 * share, as smb_stat and smb_mkdir do: UTF-8, '/' or '\\' separators,
 * relative to the share root ("" is the root). Repeated separators and "."
 * components are dropped; a ".." component is refused (SMB_ERR_BAD_NAME).
 *
 * Errors: 0 (or a pointer, or as each call says) on success; a negative
 * SMB_ERR_* code (or NULL) on failure with err (optional) filled, its
 * message naming the path that failed. No global state: helpers may run on
 * many threads at once, on one tree or on several (not on one smb_walk).
 */
#ifndef SMBCOPY_HELPERS_H
#define SMBCOPY_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/api.h>
#include <smbcopy/smb.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- directories */

/**
 * Create the directory path and every missing directory above it (like
 * os.makedirs). When path already exists as a directory: 0 with exist_ok,
 * SMB_ERR_EXISTS without. When path or a component above it exists and is
 * not a directory: SMB_ERR_NOT_DIR naming that component. Directories made
 * before a failure stay.
 */
SMBCOPY_API int smb_makedirs(smb_tree *tree, const char *path, bool exist_ok, smb_error *err);

/**
 * Remove the directory path and everything below it, depth first: each
 * directory's files (and links: reparse points are removed, never
 * followed), then its subdirectories, then the directory itself. An entry
 * the server refuses to delete because it is read-only
 * (STATUS_CANNOT_DELETE, or ACCESS_DENIED with the read-only attribute set)
 * has the attribute cleared and is deleted again. Memory: the entries of
 * one directory at a time, plus the directories still to remove.
 *
 * Errors: SMB_ERR_NOT_FOUND when path does not exist, SMB_ERR_NOT_DIR when
 * it is a file, SMB_ERR_INVALID_ARG for the share root or a path that is
 * itself a reparse point; otherwise the first failure, whose message names
 * the entry ("rmtree 'top': delete 'top/a/b.txt': ..."). What was removed
 * before a failure stays removed.
 */
SMBCOPY_API int smb_rmtree(smb_tree *tree, const char *path, smb_error *err);

/* ---------------------------------------------------------------- walk */

/** A walk of a directory tree in progress (smb_walk_open). */
typedef struct smb_walk smb_walk;

/** One entry of a walk. The strings belong to the walk: valid until the next smb_walk_next or smb_walk_close. */
typedef struct smb_walk_entry {
    const char *path;   /**< relative to the share root, '/'-separated ("top/sub/file.txt") */
    const char *name;   /**< the last component of path */
    smb_file_info info; /**< the entry's metadata, as its directory listing gave it */
    bool is_dir;        /**< a directory (descended into unless is_reparse) */
    bool is_reparse;    /**< a reparse point (symbolic link, junction, DFS link): reported, never followed */
    unsigned depth;     /**< 1 for the entries of top, 2 below them, ... */
} smb_walk_entry;

/**
 * Start walking the directory top (the share root for ""): top-down, each
 * directory's entries before those of its subdirectories (depth first:
 * the directories still to list are kept on a stack, never the whole
 * tree). top itself is not an entry; "." and ".." are not either. The
 * first directory is opened here: SMB_ERR_NOT_FOUND or SMB_ERR_NOT_DIR
 * (top is a file) come from this call. top is copied; tree is borrowed and
 * must stay connected until smb_walk_close. The walk is the caller's until
 * smb_walk_close; NULL on failure, err filled.
 */
SMBCOPY_API smb_walk *smb_walk_open(smb_tree *tree, const char *top, smb_error *err);

/**
 * The next entry: 1 with *out filled, 0 when the walk is over, or a
 * negative SMB_ERR_* code with err filled (a subdirectory that cannot be
 * opened or listed, named in the message). After an error the walk goes on
 * with what is left (that directory's remaining entries skipped, a name
 * the library cannot convert, SMB_ERR_BAD_NAME, skipped alone): call again
 * to continue, or smb_walk_close to stop.
 */
SMBCOPY_API int smb_walk_next(smb_walk *w, smb_walk_entry *out, smb_error *err);

/** Close the walk's open directory and free it (and every string it gave). NULL is a no-op. */
SMBCOPY_API void smb_walk_close(smb_walk *w);

/* ---------------------------------------------------------------- copy */

/* Flags of smb_copyfile. */
#define SMB_COPY_NO_OVERWRITE 0x1u    /**< fail with SMB_ERR_EXISTS when dst_path exists (else it is replaced) */
#define SMB_COPY_NO_SERVER_SIDE 0x2u  /**< always move the data through the client */
#define SMB_COPY_SERVER_SIDE_ONLY 0x4u /**< fail (SMB_ERR_UNSUPPORTED) rather than move the data through the client */
#define SMB_COPY_METADATA 0x8u        /**< also copy times and attributes (like shutil.copy2) */

/**
 * Copy the file src_path of src_tree to dst_path of dst_tree (like
 * shutil.copyfile; the destination's directory must exist). The data goes
 * into a new temporary file beside dst_path (".NAME.smbcopy-XXXXXXXX.tmp")
 * which is renamed over dst_path only when complete, so no half-written
 * file ever stands under the final name; on failure the temporary is
 * deleted.
 *
 * When both trees belong to the same session, the server copies the data
 * itself (FSCTL_SRV_REQUEST_RESUME_KEY, then FSCTL_SRV_COPYCHUNK_WRITE,
 * MS-SMB2 3.2.4.20.1), in chunks within the limits the server states when
 * it refuses larger ones (3.3.5.15.6); the trees may be different shares.
 * A server that does not copy by itself (SMB_ERR_UNSUPPORTED, or refusing
 * the resume key) has the copy done through the client, as between
 * sessions: pipelined READs and WRITEs, several in flight.
 *
 * flags: SMB_COPY_*. Errors: SMB_ERR_NOT_FOUND (src_path), SMB_ERR_IS_DIR
 * (src_path is a directory), SMB_ERR_EXISTS (dst_path exists and
 * SMB_COPY_NO_OVERWRITE), SMB_ERR_UNSUPPORTED (SMB_COPY_SERVER_SIDE_ONLY
 * and no server-side copy possible); SMB_ERR_INVALID_ARG for both
 * SMB_COPY_NO_SERVER_SIDE and SMB_COPY_SERVER_SIDE_ONLY, or src and dst
 * naming the same file of the same tree.
 */
SMBCOPY_API int smb_copyfile(smb_tree *src_tree, const char *src_path, smb_tree *dst_tree, const char *dst_path,
                             unsigned flags, smb_error *err);

/* ---------------------------------------------------------------- append */

/**
 * Open the file path for appending: FILE_APPEND_DATA access without
 * FILE_WRITE_DATA (MS-SMB2 2.2.13.1.1), with which a server following
 * MS-FSA (Windows) refuses writes below the end of file. Samba 4.17 does
 * not enforce that (a WRITE at offset 0 on such a handle overwrites), so
 * write through smb_append only. create_if_missing: create an empty file
 * when there is none (else SMB_ERR_NOT_FOUND). The open is the caller's
 * until smb_close() (or its tree's end), as smb_create's; NULL on failure,
 * err filled.
 */
SMBCOPY_API smb_open *smb_open_append(smb_tree *tree, const char *path, bool create_if_missing, smb_error *err);

/**
 * Append buf[0..len) at the end of the file open as op (from
 * smb_open_append, or any open with FILE_APPEND_DATA): WRITEs at offset
 * 0xFFFFFFFFFFFFFFFF, which the file system takes as its end of file
 * (MS-FSA 2.1.5.3, FILE_WRITE_TO_END_OF_FILE), so that appends from
 * several clients never overwrite each other; above smb_open_max_write,
 * several such WRITEs one after the other. A server that refuses that
 * offset (STATUS_INVALID_PARAMETER: Samba 4.17 takes it only on a POSIX
 * append handle) gets the bytes at the end of file it reports just before
 * (FileStandardInformation), asked at each call: two round trips more, and
 * two clients appending at once may then overwrite each other's bytes.
 * len 0 writes nothing.
 */
SMBCOPY_API int smb_append(smb_open *op, const void *buf, size_t len, smb_error *err);

/* ---------------------------------------------------------------- file system */

/** The size of a share's file system (FileFsFullSizeInformation, MS-FSCC 2.5.4), typed. */
typedef struct smb_statvfs_info {
    uint64_t total_units;            /**< TotalAllocationUnits */
    uint64_t caller_available_units; /**< CallerAvailableAllocationUnits (within the user's quota) */
    uint64_t actual_available_units; /**< ActualAvailableAllocationUnits (free on the volume) */
    uint32_t sectors_per_unit;       /**< SectorsPerAllocationUnit */
    uint32_t bytes_per_sector;       /**< BytesPerSector */
    /* Computed; UINT64_MAX when the product does not fit. */
    uint64_t unit_bytes;             /**< sectors_per_unit * bytes_per_sector */
    uint64_t total_bytes;            /**< total_units * unit_bytes */
    uint64_t caller_available_bytes; /**< caller_available_units * unit_bytes */
    uint64_t actual_available_bytes; /**< actual_available_units * unit_bytes */
} smb_statvfs_info;

/**
 * The size of the file system holding tree's share (a QUERY_INFO of
 * FileFsFullSizeInformation on the share root) into *out. An answer
 * shorter than the 32 bytes of the structure, or with units counts above
 * INT64_MAX (they are signed on the wire), is SMB_ERR_PROTOCOL.
 */
SMBCOPY_API int smb_statvfs(smb_tree *tree, smb_statvfs_info *out, smb_error *err);

/* ---------------------------------------------------------------- extended attributes */

/** One extended attribute (FILE_FULL_EA_INFORMATION, MS-FSCC 2.4.15). */
typedef struct smb_ea {
    const char *name;     /**< NUL-terminated, 1 to 255 bytes, as the server gives it (Windows upper-cases names) */
    const uint8_t *value; /**< value_len bytes (not NUL-terminated; NULL when value_len is 0) */
    size_t value_len;
    uint8_t flags;        /**< FILE_NEED_EA (0x80) or 0 */
} smb_ea;

/** Every extended attribute of a file: one allocation, freed by smb_ea_list_free. */
typedef struct smb_ea_list {
    size_t count;   /**< entries in eas */
    smb_ea *eas;    /**< count entries, in the server's order; NULL when count is 0 */
} smb_ea_list;

/** The most entries smb_get_eas accepts from a server. */
#define SMB_EA_LIST_MAX 65536

/**
 * The extended attributes of path (QUERY_INFO of FileFullEaInformation,
 * MS-SMB2 2.2.37, MS-FSCC 2.4.15) into *out, malloc'd as one block (names
 * and values inside it): the caller frees it with smb_ea_list_free. A file
 * without any gives an empty list (count 0), not an error. A list larger
 * than 64 KiB is asked for again with room for 1 MiB (as far as the
 * server's MaxTransactSize allows). The answer is checked: entries that do
 * not chain forward inside it, lengths that run past it, a name that is
 * empty, holds a NUL or lacks its terminator, more than SMB_EA_LIST_MAX
 * entries: SMB_ERR_PROTOCOL. SMB_ERR_UNSUPPORTED when the share keeps no
 * extended attributes (STATUS_EAS_NOT_SUPPORTED). *out is NULL on failure.
 */
SMBCOPY_API int smb_get_eas(smb_tree *tree, const char *path, smb_ea_list **out, smb_error *err);

/** Free what smb_get_eas returned. NULL is a no-op. */
SMBCOPY_API void smb_ea_list_free(smb_ea_list *list);

/**
 * Set the extended attribute name of path to value[0..len) (SET_INFO of
 * FileFullEaInformation, one entry), replacing any value it had; len 0
 * removes it (MS-FSCC 2.4.15). name: 1 to 255 bytes of printable ASCII
 * without any of "*+,/:;<=>?[\\]|" (what Windows accepts; the server may
 * upper-case it), len at most 65535: else SMB_ERR_INVALID_ARG, nothing
 * sent.
 */
SMBCOPY_API int smb_set_ea(smb_tree *tree, const char *path, const char *name, const void *value, size_t len,
                           smb_error *err);

#ifdef __cplusplus
}
#endif
#endif

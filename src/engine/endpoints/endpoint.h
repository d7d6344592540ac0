/*
 * Endpoints: one interface (a table of functions) over where files live:
 * the local filesystem (ep_local.c), SMB shares (ep_smb.c) and tar archives
 * (ep_archive.c: a libarchive writer as destination, a reader as source).
 *
 * Local and SMB endpoints are random access: the copy passes (copy.c) walk
 * both trees and move ranges of many files at once. An archive is a
 * stream (EP_CAP_SEQUENTIAL): entries come one after the other, each
 * file's data in order, so the archive pipelines (archive_job.c: any
 * random-access source into a sequential destination; archive_restore.c:
 * a sequential source into any random-access destination) drive it, through
 * the same operations, in the order it needs.
 *
 * Paths are relative to the endpoint's root, '/'-separated, "" for the
 * root. Times are FILETIME (100 ns since 1601). Functions return 0 or a
 * negative SMB_ERR_* with err filled; a missing entry is SMB_ERR_NOT_FOUND.
 * All functions are safe to call from several threads at once; one ep_file
 * may have several reads or writes in flight from different threads.
 */
#ifndef SMBCOPY_ENDPOINT_H
#define SMBCOPY_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/engine.h>
#include <smbcopy/smb.h>

#include "ep_meta.h"

typedef enum ep_type { EP_FILE, EP_DIR, EP_SYMLINK, EP_OTHER } ep_type;

/** Metadata of an entry. */
typedef struct ep_stat {
    ep_type type;
    uint64_t size;
    uint64_t mtime;      /**< last write time (FILETIME) */
    uint64_t ctime;      /**< creation time (FILETIME), 0 when the endpoint has none */
    uint32_t attributes; /**< SMB_ATTR_* (READONLY, HIDDEN, SYSTEM, ARCHIVE, REPARSE_POINT, ...) */
    uint64_t file_id;    /**< inode or server file id, 0 when unknown */
    uint64_t device;     /**< the file system holding it (local st_dev), 0 on SMB: with file_id, what it is */
    uint64_t allocated;  /**< bytes allocated on disk (less than size: a sparse file) */
    /**
     * Last change of data or metadata (FILETIME), 0 when unknown: POSIX
     * st_ctime, SMB ChangeTime. No user call sets it back (unlike mtime), so
     * it tells a file rewritten in place with its mtime restored. Samba
     * reports the mtime here, which then tells nothing more.
     */
    uint64_t change_time;
    /**
     * POSIX permission bits (rwx of user, group and others, and the sticky
     * bit) when has_mode: local endpoints report them; a local destination
     * gives them to what it writes (finish for files, set_meta for
     * directories). Others ignore them.
     */
    bool has_mode;
    uint32_t mode;
    /**
     * A DFS link (SMB, MS-DFSC) followed to its target: listed as the
     * directory it leads to. The engine copies through it and never
     * deletes it (--mirror mirrors into its target instead).
     */
    bool dfs_link;
    /**
     * Whether the entry has named streams, when the endpoint learnt it
     * cheaply with the rest (EP_STREAMS_*; 0, unknown, is what a zeroed
     * ep_stat says): the engine then copies a file without streams on its
     * fastest path, and asks get_streams only when they may exist.
     */
    uint8_t streams;
} ep_stat;

/** ep_stat.streams: not known (ask get_streams), none, some. */
#define EP_STREAMS_UNKNOWN 0
#define EP_STREAMS_NONE 1
#define EP_STREAMS_SOME 2

/** A byte range of a file. */
typedef smb_range ep_range;

/** Most data ranges an endpoint reports for one file (beyond, the rest counts as data). */
#define EP_MAX_RANGES 65536

typedef struct ep ep;
typedef struct ep_file ep_file;
typedef struct ep_io ep_io;

/**
 * Directory listing callback: one call per entry (never "." or ".."). name
 * is as the endpoint holds it (not yet validated by the engine). Return 0 to
 * go on, non-zero to stop the listing.
 */
typedef int (*ep_list_cb)(void *arg, const char *name, const ep_stat *st);
/* An entry whose name the endpoint cannot decode comes as name == NULL, st == NULL. */

/** Capabilities. */
#define EP_CAP_CREATION_TIME 0x1 /**< keeps creation times */
#define EP_CAP_DOS_ATTRS 0x2     /**< keeps DOS attributes */
#define EP_CAP_WINDOWS_NAMES 0x4 /**< refuses names Windows refuses (trailing dot, <>:"|?*, CON, ...) */
#define EP_CAP_LANES 0x8         /**< opens of different threads may use different connections (open_write_more given) */
/**
 * A stream of entries (an archive). As a destination: a directory is
 * written by set_meta (mkdir only checks the name); a file by open_write
 * (its header, from meta), write_submit at consecutive offsets, finish and
 * close, one file at a time; commit ends the stream. As a source: next
 * names each entry in turn, open_read opens the current one and
 * read_submit reads it in order. stat, list, rename, unlink and rmdir are
 * refused (SMB_ERR_UNSUPPORTED). Named streams and the security
 * descriptor: a destination takes them (put_streams, put_sd) into the
 * entry's header, so only before the file's first write_submit or
 * set_data_ranges; a source gives those of the open entry (get_streams,
 * get_sd). A directory's: open_meta (is_dir) before the destination's
 * set_meta of it, whose header carries what its file was given once it is
 * closed; a source's open_meta opens the current directory entry.
 */
#define EP_CAP_SEQUENTIAL 0x10

typedef struct ep_ops {
    const char *kind; /**< "local", "smb" */
    /** Metadata of rel (not following a final symlink). */
    int (*stat)(ep *e, const char *rel, ep_stat *st, smb_error *err);
    /** List directory rel, streaming entries to cb. */
    int (*list)(ep *e, const char *rel, ep_list_cb cb, void *arg, smb_error *err);
    /** Create directory rel (its parent exists). SMB_ERR_EXISTS when it does. */
    int (*mkdir)(ep *e, const char *rel, smb_error *err);
    /** Open rel for reading. */
    int (*open_read)(ep *e, const char *rel, ep_file **f, smb_error *err);
    /**
     * Create rel for writing (a temporary name: it must not exist), of
     * final size meta->size (the endpoint may set it up front, leaving
     * holes). meta holds the entry's times and attributes, which finish
     * sets; a sequential endpoint needs them already here (a tar header
     * precedes the data).
     */
    int (*open_write)(ep *e, const char *rel, const ep_stat *meta, ep_file **f, smb_error *err);
    /**
     * Optional (required with EP_CAP_LANES): open rel, made by open_write
     * of final size `size` and still open there, for writing another range
     * of it from another thread.
     */
    int (*open_write_more)(ep *e, const char *rel, uint64_t size, ep_file **f, smb_error *err);
    /**
     * Optional (the checkpoint journal needs it to resume): open rel, a file
     * that open_write made in an earlier run, for writing again, making its
     * size `size`; what it holds stays. The file is then finished like one
     * from open_write.
     */
    int (*open_resume)(ep *e, const char *rel, uint64_t size, ep_file **f, smb_error *err);
    /** Start reading len bytes at off into buf; complete with io_wait. */
    ep_io *(*read_submit)(ep_file *f, void *buf, size_t len, uint64_t off, smb_error *err);
    /**
     * Start writing len bytes at off from buf; complete with io_wait. Zeros
     * inside the size the file was opened with may be skipped (they read as
     * zeros already): holes stay holes.
     */
    ep_io *(*write_submit)(ep_file *f, const void *buf, size_t len, uint64_t off, smb_error *err);
    /** Wait for an io and free it; *n gets the bytes moved (0 at end of file). */
    int (*io_wait)(ep_io *io, size_t *n, smb_error *err);
    /** Largest efficient single I/O on this file. */
    size_t (*io_size)(ep_file *f);
    /**
     * After the last write: set times and attributes from meta (mtime,
     * ctime when kept, attributes when kept) on the open file, then read
     * them back into *got (size, mtime) so the engine can check them.
     */
    int (*finish)(ep_file *f, const ep_stat *meta, ep_stat *got, smb_error *err);
    /** Close (and free) a file. */
    int (*close)(ep_file *f, smb_error *err);
    /**
     * Optional: metadata of the open file f (local: fstat), to see whether a
     * source changed while it was read; without it the engine stats the path.
     */
    int (*fstat)(ep_file *f, ep_stat *st, smb_error *err);
    /**
     * Rename from to to, replacing to when it exists. meta (NULL: none) is
     * what finish set on a file; an endpoint sets it again after the
     * rename where the first name may have changed it (SMB: a server may
     * derive attributes from a temporary ".name" and store them).
     */
    int (*rename)(ep *e, const char *from, const char *to, const ep_stat *meta, smb_error *err);
    /** Delete a file. */
    int (*unlink)(ep *e, const char *rel, smb_error *err);
    /** Delete an empty directory. */
    int (*rmdir)(ep *e, const char *rel, smb_error *err);
    /** Set times (and attributes when kept) of rel, for directories. */
    int (*set_meta)(ep *e, const char *rel, const ep_stat *meta, smb_error *err);
    /**
     * Optional (NULL when not offered): copy len bytes at off from src to
     * dst on the server, no data through the client (FSCTL_SRV_COPYCHUNK).
     * Only called when same_server() says the two files may do it.
     */
    int (*server_copy)(ep_file *src, ep_file *dst, uint64_t off, uint64_t len, smb_error *err);
    /**
     * Optional: read rel whole (at most cap bytes) in one step; *n gets the
     * count, and *after (when not NULL) the file's metadata as it was when
     * the read ended (SMB: from the CLOSE). For SMB one compounded round trip.
     *
     * sd (NULL: not wanted): also the parts e->sd_parts of rel's security
     * descriptor into *sd (emptied first; the caller frees it with
     * ep_sd_clear, after a failure too), as get_sd reads them on an open
     * file (SMB: in the same round trip); sd->len 0 when the file has none.
     * A successful call then leaves err->code 0, except when the SACL was
     * among the parts and reading it was refused (it needs
     * SeSecurityPrivilege): the call still returns 0, *sd holds the other
     * parts (sd->parts without EP_SD_SACL), and err holds the refusal as
     * get_sd gives it (SMB_ERR_ACCESS and why), for the caller to report.
     * Any other failure to read the descriptor fails the call.
     */
    int (*read_whole)(ep *e, const char *rel, void *buf, size_t cap, size_t *n, ep_stat *after, ep_sd *sd,
                      smb_error *err);
    /**
     * Optional: create tmp (must not exist) holding buf[0..len), set times
     * and attributes from meta, rename it to rel replacing what is there (rel
     * NULL: the file stays at tmp), and report the final size and mtime in
     * *got, in one step (one round trip for SMB). On failure nothing is left
     * under tmp, nor an incomplete file at rel.
     *
     * sd (NULL or len 0: none): also set the parts sd->parts of the file's
     * security descriptor from sd before the rename, as put_sd does on an
     * open file (SMB: in the same round trip), so the final name appears
     * with it. A successful call then leaves err->code 0 when all of it was
     * set, or holds what put_sd would have failed with for what was not:
     * SMB_ERR_ACCESS, the SACL (setting it needs SeSecurityPrivilege; the
     * other parts are set); SMB_ERR_UNSUPPORTED or SMB_ERR_NO_SPACE, a
     * destination that cannot hold the descriptor (the file is written
     * without it). Any other refusal of the descriptor fails the call.
     */
    int (*write_whole)(ep *e, const char *tmp, const char *rel, const void *buf, size_t len, const ep_stat *meta,
                       const ep_sd *sd, ep_stat *got, smb_error *err);
    /** Optional: the file descriptor behind an open file (local files), for write_submit_fd. */
    int (*file_fd)(ep_file *f);
    /** Optional: true when write_submit_fd works on f (SMB: neither signed nor encrypted). */
    bool (*can_write_fd)(ep_file *f);
    /**
     * Optional: start writing len bytes of file descriptor fd from fd_off to
     * f at off without reading them into memory (SMB: sendfile). A source
     * that ended early fails the I/O. Complete with io_wait.
     */
    ep_io *(*write_submit_fd)(ep_file *f, int fd, uint64_t fd_off, size_t len, uint64_t off, smb_error *err);
    /** Optional: true when files of a and b can be copied with server_copy. */
    bool (*same_server)(ep *a, ep *b);
    /**
     * Optional: the ranges of open file f (of size bytes) that hold data,
     * sorted and disjoint; the rest (holes) reads as zeros. *out is
     * malloc'd (NULL when *n is 0); at most EP_MAX_RANGES.
     */
    int (*data_ranges)(ep_file *f, uint64_t size, ep_range **out, size_t *n, smb_error *err);
    /**
     * Optional (sequential destinations): before the first write to f,
     * declare that only ranges r[0..n) hold data. The entry is stored
     * sparse: writes may then skip the holes, and what lands in a hole is
     * not stored (it must be zeros).
     */
    int (*set_data_ranges)(ep_file *f, const ep_range *r, size_t n, smb_error *err);
    /**
     * Sequential sources only: the next entry, 1 (with *rel, valid until
     * the next call, and *st; *refused, when not NULL, says why the entry
     * must not be restored), 0 at the end, or an error.
     */
    int (*next)(ep *e, const char **rel, ep_stat *st, const char **refused, smb_error *err);
    /**
     * Sequential destinations only: end the stream. complete: make it whole
     * and put it under its final name; otherwise discard it. Called once;
     * returns the first error the stream met.
     */
    int (*commit)(ep *e, bool complete, smb_error *err);
    /**
     * Optional (NULL: the endpoint cannot hold named streams): read the
     * named streams of open file f into *out (emptied first; the caller
     * frees it with ep_streams_clear). Streams past SC_STREAMS_MAX_BYTES in
     * all: SMB_ERR_NO_SPACE (nothing truncated), reported by the caller for
     * that file, whose main data is still copied.
     */
    int (*get_streams)(ep_file *f, ep_streams *out, smb_error *err);
    /**
     * Optional: write streams s onto open file f, a file open_write made
     * (still under its temporary name), before finish and the rename, so
     * the final name appears complete. SMB_ERR_UNSUPPORTED when f's file
     * system cannot hold them; SMB_ERR_NO_SPACE or SMB_ERR_BAD_NAME when
     * some do not fit or have a name it cannot hold (the others are kept).
     * Each stream written gets its kept flag set (the others cleared),
     * whatever the result. A sequential destination: before the first
     * write (EP_CAP_SEQUENTIAL).
     */
    int (*put_streams)(ep_file *f, ep_streams *s, smb_error *err);
    /**
     * Optional (NULL: no security descriptors): read the parts `parts`
     * (EP_SD_*) of open file f's security descriptor into *out (the caller
     * frees it with ep_sd_clear); out->len 0 when it has none.
     */
    int (*get_sd)(ep_file *f, uint32_t parts, ep_sd *out, smb_error *err);
    /** Optional: set the parts sd->parts of open file f's security descriptor from sd, before the rename. */
    int (*put_sd)(ep_file *f, const ep_sd *sd, smb_error *err);
    /**
     * Optional (NULL: entries carry no streams or descriptors here outside
     * copies of their data): open the existing directory (is_dir) or file
     * rel for its named streams and security descriptor only (get_streams,
     * put_streams, get_sd, put_sd; for_write: the put ones), never for its
     * entries or data; close with close. SMB asks for the access
     * e->sd_parts needs, as file opens do. SMB_ERR_UNSUPPORTED: rel has
     * no metadata of its own to copy (the root of an every-share source).
     */
    int (*open_meta)(ep *e, const char *rel, bool is_dir, bool for_write, ep_file **f, smb_error *err);
    /**
     * Optional (NULL: no symbolic links here): the target of symbolic link
     * rel as it is written, '/'-separated, into *target (malloc'd, the
     * caller frees it); *absolute when it names an absolute path (local: it
     * starts with '/'; SMB: SYMLINK_FLAG_RELATIVE clear). SMB_ERR_UNSUPPORTED
     * when rel is not a link this end can read (a server that does not
     * give reparse points).
     */
    int (*readlink)(ep *e, const char *rel, char **target, bool *absolute, smb_error *err);
    /**
     * Optional (NULL: links cannot be made here): make rel (it must not
     * exist) a symbolic link to the relative, '/'-separated target; is_dir:
     * what it points to is a directory (SMB marks the link so).
     * SMB_ERR_UNSUPPORTED when the destination cannot hold links (a server
     * that refuses to set reparse points).
     */
    int (*symlink)(ep *e, const char *rel, const char *target, bool is_dir, smb_error *err);
    /** Close connections and free the endpoint. */
    void (*free)(ep *e);
} ep_ops;

/** The common head of every endpoint. */
struct ep {
    const ep_ops *ops;
    unsigned caps;     /**< EP_CAP_* */
    unsigned max_writers; /**< most workers writing one file at once (0: no limit) */
    char *display;     /**< for messages, never holds a password */
    /**
     * Destinations: set ChangeTime to the modification time too, for
     * servers that take the modification time from it (time_probe.h).
     */
    bool mtime_via_change_time;
    /**
     * The parts of security descriptors (EP_SD_*) the job moves through this
     * endpoint, 0 for none; set by the engine before the first open, so that
     * opens ask for the access get_sd / put_sd need (SMB: READ_CONTROL on
     * reads, WRITE_DAC / WRITE_OWNER / ACCESS_SYSTEM_SECURITY on writes),
     * and only then.
     */
    uint32_t sd_parts;
    /**
     * Sources: follow symbolic links (--links follow), set by the engine
     * before the first listing. stat, list, open_read and open_dir_meta then
     * give what a link points to, as if it were there; a link whose target
     * cannot be reached (dangling, a loop of links, refused by the server)
     * still comes as EP_SYMLINK. SMB servers follow links on their side
     * anyway unless told not to; a reparse point listed as such is opened
     * without FILE_OPEN_REPARSE_POINT to follow it.
     */
    bool follow_links;
};

/** Counters kept by every endpoint (atomically updated). */
typedef struct ep_counters {
    uint64_t bytes_read;
    uint64_t bytes_written;
    uint64_t bytes_server_copied;
    uint64_t dfs_links_followed;    /**< DFS links followed to a target (SMB) */
    uint64_t dfs_links_unreachable; /**< DFS links none of whose targets answered */
} ep_counters;

/**
 * Open a local endpoint rooted at path (which may not exist yet: the
 * engine creates it with mkdir(""), and stat("") tells). counters may be NULL.
 */
ep *ep_local_open(const char *root, ep_counters *counters, smb_error *err);

/**
 * As ep_local_open, with one exception to "links are never followed": the
 * entry named follow directly under root (a file named on the command
 * line, which may be a symbolic link) is followed by stat, open_read and
 * fstat. follow is copied.
 */
ep *ep_local_open_following(const char *root, const char *follow, ep_counters *counters, smb_error *err);

/** A pool of SMB sessions shared by the endpoints of one job. */
typedef struct ep_smb_pool ep_smb_pool;

/** New pool: conn options and default credentials (copied). */
ep_smb_pool *ep_smb_pool_new(const smb_conn_opts *opts, const sc_credentials *creds);
/** Close every connection of the pool and free it (after its endpoints). */
void ep_smb_pool_free(ep_smb_pool *pool);
/**
 * Connections (independent sessions) per server, 1..16 (default 1); set
 * before the first endpoint opens. Each worker thread keeps to one of them.
 */
void ep_smb_pool_set_lanes(ep_smb_pool *pool, unsigned n);
/** Connections per server the pool makes. */
unsigned ep_smb_pool_get_lanes(const ep_smb_pool *pool);
/** Most channels per session. */
#define EP_SMB_MAX_CHANNELS 8
/**
 * Channels per session (multichannel), 1..8 (default 1: none); set before
 * the first endpoint opens. Each lane's session gets the further channels
 * on the server's interfaces when the server offers multichannel; a keeper
 * thread binds channels again after their connection is lost.
 */
void ep_smb_pool_set_channels(ep_smb_pool *pool, unsigned n);
/** Channels found lost (over every session) and bound again by the pool's keeper. */
void ep_smb_pool_channel_counts(ep_smb_pool *pool, unsigned *lost, unsigned *rebound);
/** What multichannel did on the last session it was tried on ("" before), one line. */
void ep_smb_pool_multichannel_note(ep_smb_pool *pool, char *buf, size_t len);
/** Connections the pool has open now, over every server. */
unsigned ep_smb_pool_connections(ep_smb_pool *pool);

/**
 * Open an SMB endpoint for an SMB location: connects (or reuses the pool's
 * session for the same host, port and credentials), connects the share, and
 * roots the endpoint at loc->path. Errors: SMB_ERR_CONNECT, SMB_ERR_AUTH,
 * SMB_ERR_BAD_SHARE, ...
 */
ep *ep_smb_open(ep_smb_pool *pool, const sc_location *loc, ep_counters *counters, smb_error *err);

/** Convenience wrappers. */
static inline int ep_stat_path(ep *e, const char *rel, ep_stat *st, smb_error *err)
{
    return e->ops->stat(e, rel, st, err);
}

#endif

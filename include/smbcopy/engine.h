/*
 * smbcopy transfer engine: the public API.
 *
 * A job copies one or more source locations into a destination location.
 * A location is a local path or an SMB location:
 *
 *   smb://[DOMAIN;]USER[:PASSWORD]@HOST[:PORT]/SHARE[/PATH]
 *   //HOST/SHARE[/PATH]        \\HOST\SHARE[\PATH]
 *
 * Directory rule (the same in every direction): a source directory's
 * contents are copied into the destination directory, which is created when
 * missing (robocopy's directory-to-directory rule). A source file is copied
 * into the destination when the destination is an existing directory or ends
 * with a separator, and to the destination name otherwise.
 *
 * The engine runs a pool of worker threads that share one SMB session per
 * server and credentials. Directories are listed in parallel and their
 * entries flow through bounded queues, so copying starts at once and memory
 * stays flat. Every file is written under a temporary name in its
 * destination directory and renamed over the final name only when complete.
 */
#ifndef SMBCOPY_ENGINE_H
#define SMBCOPY_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <smbcopy/shard.h>
#include <smbcopy/shares.h>
#include <smbcopy/smb.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- locations */

/** A parsed location. Strings are owned by the location (free with sc_location_free). */
typedef struct sc_location {
    bool is_smb;      /**< SMB location, else a local path */
    char *host;       /**< SMB: server host name or address */
    uint16_t port;    /**< SMB: port (445 when not given) */
    char *share;      /**< SMB: share name */
    char *path;       /**< SMB: path inside the share, '/'-separated, no leading '/', may be ""; local: the path */
    char *user;       /**< SMB: user from the URL, or NULL */
    char *domain;     /**< SMB: domain from the URL, or NULL */
    char *password;   /**< SMB: password from the URL (discouraged), or NULL */
    bool trailing_sep;/**< the location ended with a separator */
} sc_location;

/**
 * The share name that stands for every disk share of a server in a source
 * location (share "*": smb://host/ then "*"): each is copied into a directory of
 * its name (administrative shares such as C$ and IPC$ left out). A source
 * only.
 */
#define SC_EVERY_SHARE "*"

/**
 * Parse a location string. Returns 0, or SMB_ERR_INVALID_ARG with err
 * saying what is wrong (e.g. "missing share name in //host").
 */
SMBCOPY_API int sc_location_parse(const char *s, sc_location *loc, smb_error *err);
/** Free the strings of a location (wiping a password). */
SMBCOPY_API void sc_location_free(sc_location *loc);
/** Write a displayable form (never with the password) into buf. */
SMBCOPY_API const char *sc_location_display(const sc_location *loc, char *buf, size_t len);

/**
 * The location as one string that every spelling of the same place shares,
 * for naming a job (a rerun spelled otherwise is the same job): an SMB
 * location's host resolved to its lowest numeric address (the name,
 * case-folded, when it does not resolve), its port, and its share and path
 * case-folded ("smb:ADDR:PORT/SHARE/PATH"; no user, no password); a local
 * path absolute and resolved (symbolic links, "." and "..", trailing '/'),
 * the part that does not exist yet as written ("local:PATH"). malloc'd (the
 * caller frees); NULL when out of memory. May resolve a host name (blocking).
 */
SMBCOPY_API char *sc_location_identity(const sc_location *loc);

/**
 * True when name ends like a tar archive the engine writes and reads
 * (case-insensitive): .tar, .tar.gz, .tgz, .tar.xz, .txz, .tar.bz2, .tbz2,
 * .tbz, .tar.zst, .tzst. A destination so named is written as an archive
 * (sc_job_opts.archive "auto").
 */
SMBCOPY_API bool sc_archive_name(const char *name);

/**
 * True when format is a value sc_job_opts.archive accepts besides "auto":
 * "tar", "tar.gz"/"tgz"/"gzip"/"gz", "tar.xz"/"txz"/"xz",
 * "tar.bz2"/"bzip2"/"bz2", "tar.zst"/"tzst"/"zstd"/"zst" (case-insensitive).
 */
SMBCOPY_API bool sc_archive_format_known(const char *format);

/* ---------------------------------------------------------------- events */

/** What an event reports. */
typedef enum sc_event_type {
    SC_EV_WALK_DONE,     /**< the source tree has been fully listed */
    SC_EV_FILE_START,    /**< a file copy begins */
    SC_EV_FILE_PROGRESS, /**< bytes moved for a file (bytes = bytes so far in this event) */
    SC_EV_FILE_DONE,     /**< a file was copied */
    SC_EV_FILE_SKIPPED,  /**< a file was up to date */
    SC_EV_FILE_FAILED,   /**< a file failed (message says why) */
    SC_EV_DIR_CREATED,   /**< a destination directory was created */
    SC_EV_DELETED,       /**< an extraneous destination entry was deleted (--mirror) */
    SC_EV_ENTRY_IGNORED, /**< an entry was not copied: symlink, reparse point, refused name (message says why) */
    SC_EV_DRY_RUN,       /**< an action that a dry run would take (message: "copy", "mkdir", "delete", ...) */
    SC_EV_RETRY,         /**< a transient failure is being retried */
    SC_EV_META_NOT_KEPT, /**< a file was copied without some of its named streams or its security descriptor
                              (message says which and why: the destination cannot hold them, too large, ...) */
    SC_EV_META_UPDATED,  /**< a file whose data was up to date got its security descriptor set again (--acls) */
    SC_EV_LINK_COPIED,   /**< a symbolic link was made at the destination (--links copy; message: its target) */
    SC_EV_RANGE_DONE,    /**< a shard wrote its ranges of a file split between shards (bytes: their length;
                              message: "bytes A-B of N") */
} sc_event_type;

/** One event; pointers are valid only during the callback. */
typedef struct sc_event {
    sc_event_type type;
    const char *path;    /**< path relative to the destination root, '/'-separated */
    uint64_t bytes;      /**< file size, bytes moved for PROGRESS, all source bytes for WALK_DONE */
    bool is_dir;         /**< the entry is a directory */
    const char *message; /**< reason or action, may be NULL */
} sc_event;

/** Event callback; called from worker threads, serialised by the engine. */
typedef void (*sc_event_cb)(const sc_event *ev, void *arg);

/* ---------------------------------------------------------------- jobs */

/** Credentials for SMB locations that carry none in the URL. */
typedef struct sc_credentials {
    const char *username; /**< NULL: anonymous unless the URL names a user */
    const char *password;
    const char *domain;
    int mech;                  /**< smb_auth_mech_policy: Kerberos preferred (AUTO), required, or off (NTLM) */
    const char *principal_host;/**< host of the cifs/ service principal when it differs from the URL's host */
} sc_credentials;

/** How a copy names what it has not finished yet (--temp-name). */
typedef enum sc_temp_names {
    SC_TEMP_AUTO = 0, /**< ".smbcopy-*.tmp"; where the destination refuses those names (veto files),
                           "smbcopy-*.partial"; where it refuses those too, in place (warned once) */
    SC_TEMP_DOT,      /**< only ".smbcopy-*.tmp" (a refusal fails the file, naming the cause) */
    SC_TEMP_PLAIN,    /**< only "smbcopy-*.partial" */
    SC_TEMP_INPLACE,  /**< none: files are written under their final names (the journal marks one
                           incomplete until done) and new directories are made there, not staged */
} sc_temp_names;

/** Which parts of each file's and directory's security descriptor a job copies (sc_job_opts.acls). */
typedef enum sc_acls {
    SC_ACLS_NONE = 0, /**< none: the destination's inheritance applies */
    SC_ACLS_DACL = 1, /**< owner, group and DACL (with their protection and inheritance flags) */
    SC_ACLS_ALL = 2,  /**< also the SACL (SMB needs SeSecurityPrivilege for it) */
} sc_acls;

/** What a job does with symbolic links and other reparse points of the sources (sc_job_opts.links). */
typedef enum sc_links {
    SC_LINKS_SKIP = 0, /**< none is copied; each is reported (SC_EV_ENTRY_IGNORED) and counted in ignored */
    SC_LINKS_COPY,     /**< a link whose target stays inside the copied tree is made again at the destination
                            with the same target; one pointing outside or to an absolute path, or that
                            either end cannot read or hold, is reported and counted in links_not_kept */
    SC_LINKS_FOLLOW,   /**< what a link points to is copied as if it were there; a dangling link fails,
                            and so does a directory met again below itself (a loop) */
} sc_links;

/**
 * Most bytes of named streams one file's streams may hold together (they
 * are copied through memory). A stream past it fails, reported for that
 * file, never truncated; the file's main data is still copied.
 */
#define SC_STREAMS_MAX_BYTES ((size_t)64 << 20)

/**
 * Job options; initialise with sc_job_opts_init().
 *
 * Ownership: sc_job_new() copies the struct and, of what it points to,
 * copies sources, dest, excludes and includes, and compiles filters (the
 * caller may free them once it returns). It borrows the rest: the strings
 * of creds, checkpoint, archive, snapshot and event_arg must stay valid
 * and unchanged until sc_job_free() (they are read while the job runs).
 */
typedef struct sc_job_opts {
    const char *const *sources; /**< source location strings (copied) */
    size_t nsources;
    const char *dest;           /**< destination location string (copied) */
    unsigned threads;           /**< worker threads (default 8) */
    unsigned connections;       /**< independent connections (sessions) per server, 1..16 (default SC_DEFAULT_CONNECTIONS); each thread keeps to one */
    unsigned channels;          /**< channels per session (multichannel) when the server offers it, 1..8
                                     (0: SC_DEFAULT_CHANNELS; 1: no multichannel) */
    bool mirror;                /**< delete destination entries absent from the source */
    bool dry_run;               /**< report every action, change nothing */
    bool checksum;              /**< compare content instead of size and time */
    const char *const *excludes;/**< glob patterns (fnmatch on the name and on the relative path; copied) */
    size_t nexcludes;
    const char *const *includes;/**< when given, only files matching one are copied (directories are walked;
                                     copied) */
    size_t nincludes;
    const char *const *filters; /**< filter rules in command-line order, each "+ PATTERN" (include) or
                                     "- PATTERN" (exclude), rsync's pattern rules (docs/smbcopy.1, FILTERS);
                                     when given, excludes and includes are not used. NULL: excludes, then
                                     includes, as rules. Compiled by sc_job_new, not kept */
    size_t nfilters;
    bool delete_excluded;       /**< --mirror also deletes destination entries that the filters exclude
                                     (excluded entries are left alone otherwise) */
    bool apply_deletions;       /**< restore: apply an incremental archive's deletion list (entries inside
                                     the destination only, reached without following links) */
    uint64_t max_dir_entries;   /**< most entries one source directory listing may hold before the
                                     directory fails (0: SC_DEFAULT_MAX_DIR_ENTRIES) */
    sc_credentials creds;       /**< default credentials for SMB locations (its strings borrowed until
                                     sc_job_free) */
    smb_conn_opts conn;         /**< dialects, signing, encryption, timeouts (copied) */
    unsigned retries;           /**< attempts after a transient failure (default 3) */
    const char *checkpoint;     /**< checkpoint journal file: resume from it, record progress in it, removed
                                     after a fully successful run; NULL: none (borrowed until sc_job_free) */
    uint8_t job_id[16];         /**< the job's identity, kept in its journal (another job's journal is refused) */
    bool no_resume;             /**< start over: replace the journal instead of resuming from it */
    unsigned retry_for_s;       /**< after a lost connection, reconnect and carry on for up to this many
                                     seconds in all (default SC_DEFAULT_RETRY_FOR_S; 0: never) */
    const char *archive;        /**< write the source tree into a tar archive at dest (a local path, "-" for
                                     standard output) instead of copying: "tar", "tar.gz", "tar.xz",
                                     "tar.bz2", "tar.zst" (also "gzip", "xz", "bzip2", "zstd"), or "auto"
                                     for the one dest's name ends with; NULL: a copy (borrowed until
                                     sc_job_free) */
    int compress_level;         /**< archive compression level, -1 (the default): the format's own */
    bool extract;               /**< the (one) source is an archive ("-": standard input): extract it into
                                     dest instead of copying it */
    const char *snapshot;       /**< archive: the snapshot file of incremental archives (read, then
                                     rewritten after a complete archive); NULL: none (borrowed until
                                     sc_job_free) */
    uint64_t newer_than;        /**< archive: only files modified after this (FILETIME); 0: all */
    size_t read_ahead;          /**< archive: most bytes read ahead of the writer (0: SC_DEFAULT_READ_AHEAD) */
    sc_temp_names temp_names;   /**< temporary and staging names (default SC_TEMP_AUTO) */
    sc_event_cb on_event;       /**< may be NULL; called from the job's threads */
    void *event_arg;            /**< passed to on_event (borrowed until sc_job_free) */
    sc_acls acls;               /**< security descriptors to copy (default SC_ACLS_NONE: none) */
    bool no_streams;            /**< do not copy named streams; by default they are copied between ends
                                     that can hold them (SMB shares, local file systems with user xattrs,
                                     archives), at most SC_STREAMS_MAX_BYTES per file */
    sc_links links;             /**< symbolic links (default SC_LINKS_SKIP); archives and extraction take
                                     only the default */
    const sc_plan *plan;        /**< a sharded job's plan (shard.h), NULL: the whole job (borrowed until sc_job_free) */
    int shard;                  /**< with plan: the shard this job copies (0..shards-1), or SC_SHARD_FINISH (the
                                     finishing run: split files completed, straddling directories' times set,
                                     --mirror deletions; nothing else copied); SC_SHARD_NONE without a plan */
} sc_job_opts;

/** Default connections per server (see bench/README.md for the measurement behind it). */
#define SC_DEFAULT_CONNECTIONS 2

/** Default channels per session (see bench/README.md for the measurement behind it). */
#define SC_DEFAULT_CHANNELS 1

/** Default total time for reconnecting after lost connections, in seconds. */
#define SC_DEFAULT_RETRY_FOR_S 300

/** Default ceiling on the entries of one directory listing (a server that lists forever is stopped). */
#define SC_DEFAULT_MAX_DIR_ENTRIES 10000000ull

/** Default read-ahead memory of an archive job, in bytes. */
#define SC_DEFAULT_READ_AHEAD ((size_t)256 << 20)

/** Fill opts with the defaults. */
SMBCOPY_API void sc_job_opts_init(sc_job_opts *opts);

/** One failed entry. */
typedef struct sc_failure {
    char *path;    /**< relative to the destination root */
    char *message; /**< why */
} sc_failure;

/**
 * A file or directory copied without some of its named streams or security
 * descriptor (SC_EV_META_NOT_KEPT), or whose descriptor was set again
 * (SC_EV_META_UPDATED).
 */
typedef struct sc_meta_note {
    char *path;    /**< as the event names it */
    char *message; /**< what, and why (the event's message) */
    /**
     * The source's security descriptor in SDDL (MS-DTYP 2.5.1) when the
     * note is about it (the one not kept, or the one set again) and SDDL
     * can say it; NULL otherwise.
     */
    char *sddl;
    bool updated; /**< an SC_EV_META_UPDATED note (else SC_EV_META_NOT_KEPT) */
} sc_meta_note;

/** At most this many sc_meta_notes are listed; past them only the counters grow. */
#define SC_META_NOTES_MAX 100000u

/** Counters of a finished (or interrupted) job. */
typedef struct sc_summary {
    uint64_t dirs_total, dirs_created, dirs_deleted;
    uint64_t files_total, files_copied, files_skipped, files_failed, files_deleted;
    uint64_t bytes_total;      /**< size of every source file seen */
    uint64_t bytes_copied;     /**< bytes of files copied */
    uint64_t bytes_skipped;    /**< bytes of files up to date */
    uint64_t bytes_read;       /**< payload bytes read through the client */
    uint64_t bytes_written;    /**< payload bytes written through the client */
    uint64_t bytes_server_copied; /**< bytes copied server-side (no data through the client) */
    uint64_t ignored;          /**< entries not copied (symlinks, refused names) */
    unsigned connections;      /**< SMB connections open at the end, over every server (channels included) */
    char multichannel[256];    /**< what multichannel did ("multichannel to HOST: 2 channels", or why not); "" when not tried */
    unsigned channels_lost;    /**< channels whose connection died (their requests went on other channels) */
    unsigned channels_rebound; /**< channels bound again after such a loss */
    unsigned reconnects;       /**< times the job reconnected after losing a connection */
    uint64_t files_resumed;    /**< partly copied files continued from the journal */
    uint64_t bytes_resumed;    /**< bytes of those not copied again (committed before) */
    uint64_t journal_records;  /**< records replayed from the journal at the start */
    uint64_t journal_cut_bytes;/**< damaged or torn bytes dropped from the journal's end */
    uint64_t streams_copied;   /**< named streams written (each stream of each file) */
    uint64_t stream_bytes;     /**< their bytes */
    uint64_t sds_copied;       /**< security descriptors written (sc_job_opts.acls) */
    uint64_t streams_not_kept; /**< files copied without (some of) their named streams (SC_EV_META_NOT_KEPT) */
    uint64_t sds_not_kept;     /**< files copied without (a part of) their security descriptor */
    uint64_t files_meta_updated; /**< files up to date whose security descriptor was set again (SC_EV_META_UPDATED) */
    uint64_t links_copied;     /**< symbolic links made at the destination (SC_LINKS_COPY) */
    uint64_t links_not_kept;   /**< symbolic links not made (SC_LINKS_COPY): outside the tree, absolute, or an
                                  end that cannot read or hold them; each reported (SC_EV_ENTRY_IGNORED) */
    uint64_t dfs_links_followed;    /**< DFS links followed to one of their targets (sources and destination) */
    uint64_t dfs_links_unreachable; /**< DFS links none of whose targets answered (their subtrees failed) */
    double seconds;
    bool interrupted;          /**< sc_job_cancel() was called */
    sc_failure *failures;      /**< files_failed + other failures, in no particular order */
    size_t nfailures;
    sc_meta_note *meta_notes;  /**< metadata not kept or set again, in no particular order */
    size_t nmeta_notes;
    bool meta_notes_cut;       /**< more notes than SC_META_NOTES_MAX: the rest were only counted */
    uint64_t ranges_copied;    /**< a shard: ranges of files split between shards that it wrote (their bytes
                                  are in bytes_copied; the finishing run counts each such file in files_copied) */
} sc_summary;

/** A running job. */
typedef struct sc_job sc_job;

/**
 * Create a job (nothing starts yet). NULL with err on bad options. What it
 * copies of opts and what it borrows until sc_job_free(): see sc_job_opts.
 */
SMBCOPY_API sc_job *sc_job_new(const sc_job_opts *opts, smb_error *err);
/**
 * Run the job to the end. Returns 0 when it ran (see the summary for
 * per-file failures), or a negative SMB_ERR_* when it could not run at all
 * (a bad location, cannot connect, authentication failed, share not found).
 */
SMBCOPY_API int sc_job_run(sc_job *job, sc_summary *summary, smb_error *err);
/** Ask a running job to stop soon (safe from a signal handler's thread or any thread). */
SMBCOPY_API void sc_job_cancel(sc_job *job);
/** Free a job. */
SMBCOPY_API void sc_job_free(sc_job *job);
/** Free the failures and metadata notes of a summary. */
SMBCOPY_API void sc_summary_free(sc_summary *summary);

/**
 * Write s to f as a JSON string, with its quotes: '"', '\\' and control
 * characters escaped, valid UTF-8 kept, each invalid sequence written as
 * \uFFFD (names are bytes; JSON is UTF-8). NULL writes "". The form of
 * every string in smbcopy's JSON output and files.
 */
SMBCOPY_API void sc_json_write_string(FILE *f, const char *s);

/* ---------------------------------------------------------------- listings */

/** One entry of a listing (sc_list). Its strings are valid during the callback only. */
typedef struct sc_list_entry {
    const char *name;    /**< UTF-8 */
    bool is_dir;         /**< a directory (a DFS link followed is one) */
    bool is_link;        /**< a symbolic link or reparse point, not followed */
    bool dfs_link;       /**< a DFS link, listed as the directory it leads to */
    uint64_t size;       /**< bytes, for files */
    uint64_t mtime;      /**< last write time (FILETIME) */
    uint32_t attributes; /**< SMB_ATTR_* (local entries: those a local endpoint derives) */
} sc_list_entry;

/** Called for each entry; a non-zero return stops the listing (not an error). */
typedef int (*sc_list_cb)(void *arg, const sc_list_entry *entry);

/**
 * List the directory at location (an SMB location or a local path) with
 * opts' credentials and connection settings (opts->creds, opts->conn; see
 * sc_job_opts), entries to cb in the order the server sends them (not
 * sorted; "." and ".." never). DFS links are followed as a copy follows
 * them. A location naming a file lists that one entry. Returns 0, or the
 * error that stopped it (a bad location, a failed logon, a missing path);
 * SMB_ERR_BAD_NAME, after the rest was listed, when some names did not
 * decode.
 */
SMBCOPY_API int sc_list(const sc_job_opts *opts, const char *location, sc_list_cb cb, void *arg, smb_error *err);

/**
 * The shares of the server at server ("//host", "smb://[user@]host[:port]")
 * with opts' credentials: smb_list_shares (shares.h) on a session of its
 * own. *shares is the caller's, freed with smb_shares_free; NULL and 0 on
 * failure. SMB_ERR_INVALID_ARG when server names a share or a path.
 */
SMBCOPY_API int sc_list_shares(const sc_job_opts *opts, const char *server, smb_share_info **shares, size_t *n,
                               smb_error *err);

#ifdef __cplusplus
}
#endif
#endif

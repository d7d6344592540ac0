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
 * Parse a location string. Returns 0, or SMB_ERR_INVALID_ARG with err
 * saying what is wrong (e.g. "missing share name in //host").
 */
int sc_location_parse(const char *s, sc_location *loc, smb_error *err);
/** Free the strings of a location (wiping a password). */
void sc_location_free(sc_location *loc);
/** Write a displayable form (never with the password) into buf. */
const char *sc_location_display(const sc_location *loc, char *buf, size_t len);

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

/** Job options; initialise with sc_job_opts_init(). */
typedef struct sc_job_opts {
    const char *const *sources; /**< source location strings */
    size_t nsources;
    const char *dest;           /**< destination location string */
    unsigned threads;           /**< worker threads (default 8) */
    unsigned connections;       /**< independent connections (sessions) per server, 1..16 (default SC_DEFAULT_CONNECTIONS); each thread keeps to one */
    unsigned channels;          /**< channels per session (multichannel) when the server offers it, 1..8
                                     (0: SC_DEFAULT_CHANNELS; 1: no multichannel) */
    bool mirror;                /**< delete destination entries absent from the source */
    bool dry_run;               /**< report every action, change nothing */
    bool checksum;              /**< compare content instead of size and time */
    const char *const *excludes;/**< glob patterns (fnmatch on the name and on the relative path) */
    size_t nexcludes;
    const char *const *includes;/**< when given, only files matching one are copied (directories are walked) */
    size_t nincludes;
    const char *const *filters; /**< filter rules in command-line order, each "+ PATTERN" (include) or
                                     "- PATTERN" (exclude), rsync's pattern rules (docs/smbcopy.1, FILTERS);
                                     when given, excludes and includes are not used. NULL: excludes, then
                                     includes, as rules */
    size_t nfilters;
    bool delete_excluded;       /**< --mirror also deletes destination entries that the filters exclude
                                     (excluded entries are left alone otherwise) */
    bool apply_deletions;       /**< restore: apply an incremental archive's deletion list (entries inside
                                     the destination only, reached without following links) */
    uint64_t max_dir_entries;   /**< most entries one source directory listing may hold before the
                                     directory fails (0: SC_DEFAULT_MAX_DIR_ENTRIES) */
    sc_credentials creds;       /**< default credentials for SMB locations */
    smb_conn_opts conn;         /**< dialects, signing, encryption, timeouts */
    unsigned retries;           /**< attempts after a transient failure (default 3) */
    const char *checkpoint;     /**< checkpoint journal file: resume from it, record progress in it, removed
                                     after a fully successful run; NULL: none */
    uint8_t job_id[16];         /**< the job's identity, kept in its journal (another job's journal is refused) */
    bool no_resume;             /**< start over: replace the journal instead of resuming from it */
    unsigned retry_for_s;       /**< after a lost connection, reconnect and carry on for up to this many
                                     seconds in all (default SC_DEFAULT_RETRY_FOR_S; 0: never) */
    const char *archive;        /**< write the source tree into a tar archive at dest (a local path, "-" for
                                     standard output) instead of copying: "tar", "tar.gz", "tar.xz",
                                     "tar.bz2", "tar.zst" (also "gzip", "xz", "bzip2", "zstd"), or "auto"
                                     for the one dest's name ends with; NULL: a copy */
    int compress_level;         /**< archive compression level, -1 (the default): the format's own */
    bool extract;               /**< the (one) source is an archive ("-": standard input): extract it into
                                     dest instead of copying it */
    const char *snapshot;       /**< archive: the snapshot file of incremental archives (read, then
                                     rewritten after a complete archive); NULL: none */
    uint64_t newer_than;        /**< archive: only files modified after this (FILETIME); 0: all */
    size_t read_ahead;          /**< archive: most bytes read ahead of the writer (0: SC_DEFAULT_READ_AHEAD) */
    sc_temp_names temp_names;   /**< temporary and staging names (default SC_TEMP_AUTO) */
    sc_event_cb on_event;       /**< may be NULL */
    void *event_arg;
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
void sc_job_opts_init(sc_job_opts *opts);

/** One failed entry. */
typedef struct sc_failure {
    char *path;    /**< relative to the destination root */
    char *message; /**< why */
} sc_failure;

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
    double seconds;
    bool interrupted;          /**< sc_job_cancel() was called */
    sc_failure *failures;      /**< files_failed + other failures, in no particular order */
    size_t nfailures;
} sc_summary;

/** A running job. */
typedef struct sc_job sc_job;

/** Create a job (nothing starts yet). NULL with err on bad options. */
sc_job *sc_job_new(const sc_job_opts *opts, smb_error *err);
/**
 * Run the job to the end. Returns 0 when it ran (see the summary for
 * per-file failures), or a negative SMB_ERR_* when it could not run at all
 * (a bad location, cannot connect, authentication failed, share not found).
 */
int sc_job_run(sc_job *job, sc_summary *summary, smb_error *err);
/** Ask a running job to stop soon (safe from a signal handler's thread or any thread). */
void sc_job_cancel(sc_job *job);
/** Free a job. */
void sc_job_free(sc_job *job);
/** Free the failures of a summary. */
void sc_summary_free(sc_summary *summary);

#ifdef __cplusplus
}
#endif
#endif

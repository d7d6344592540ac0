/* Command-line options of smbcopy: parsed into a plain structure, never exiting. */
#ifndef SMBCOPY_CLI_ARGS_H
#define SMBCOPY_CLI_ARGS_H

#include <stdbool.h>

#include <smbcopy/engine.h>
#include <stddef.h>
#include <stdint.h>

#ifndef SMBCOPY_VERSION_STRING
#define SMBCOPY_VERSION_STRING "0.1.0"
#endif

#define CLI_DEFAULT_THREADS 8
#define CLI_MAX_THREADS 256
#define CLI_MAX_CONNECTIONS 16
#define CLI_MAX_TIMEOUT_S 86400
#define CLI_MAX_RETRY_FOR_S 604800ul /* 7 days */
#define CLI_MAX_RETRIES 100
#define CLI_MAX_SHARDS 4096

/** --progress / --no-progress / neither. */
enum cli_progress_mode { CLI_PROGRESS_AUTO = 0, CLI_PROGRESS_ON, CLI_PROGRESS_OFF };

/**
 * Everything the command line says. Option values point into argv; SRC and
 * DEST are copies (owned_args), the arguments themselves having had any
 * password overwritten.
 */
typedef struct cli_options {
    const char **sources;  /**< SRC... (owned array of strings in owned_args) */
    size_t nsources;
    const char *dest;      /**< DEST (in owned_args) */
    char **owned_args;     /**< copies of SRC... DEST, wiped when freed */
    size_t nowned;
    unsigned threads;      /**< -j (default 8) */
    unsigned connections;  /**< --connections (default SC_DEFAULT_CONNECTIONS) */
    unsigned channels;     /**< --channels (0: the engine's default) */
    bool multichannel_off; /**< --multichannel off: one channel per session */
    bool mirror, dry_run, checksum;
    const char **excludes; /**< --exclude, in order (owned array) */
    size_t nexcludes;
    const char **includes; /**< --include, in order (owned array) */
    size_t nincludes;
    char **filters;        /**< every --exclude and --include as "- PATTERN" / "+ PATTERN", in
                                command-line order (owned array of owned strings) */
    size_t nfilters;
    bool delete_excluded;  /**< --delete-excluded */
    bool incremental;      /**< --incremental: a restore applies the archive's deletion list */
    uint64_t max_dir_entries; /**< --max-dir-entries (0 when not given) */
    unsigned retries;      /**< --retries: attempts after a transient failure or a source that changed */
    bool retries_given;
    int temp_names;        /**< --temp-name: an sc_temp_names (SC_TEMP_AUTO when not given) */
    int acls;              /**< --acls[=all]: an sc_acls (SC_ACLS_NONE when not given) */
    bool no_streams;       /**< --no-streams */
    int links;             /**< --links: an sc_links (SC_LINKS_SKIP when not given) */
    bool sign, encrypt;    /**< --sign, --encrypt: policy REQUIRED */
    uint16_t min_dialect;  /**< --min-protocol, 0 when not given */
    uint16_t max_dialect;  /**< --max-protocol, 0 when not given */
    bool quiet, verbose, json;
    int progress;          /**< cli_progress_mode */
    const char *log_path;  /**< --log */
    const char *lock_path; /**< --lock */
    const char *job_name;  /**< --job */
    const char *checkpoint_path; /**< --checkpoint (default: the job's journal in the state directory) */
    bool no_resume;        /**< --no-resume */
    unsigned retry_for_s;  /**< --retry-for in seconds (default SC_DEFAULT_RETRY_FOR_S) */
    bool retry_for_given;
    const char *archive;   /**< --archive FORMAT */
    int compress_level;    /**< --compress-level (-1 when not given) */
    unsigned read_ahead_mib; /**< --read-ahead in MiB (0 when not given) */
    bool extract;          /**< --extract */
    const char *snapshot;  /**< --snapshot FILE */
    uint64_t newer_than;   /**< --newer-than, as FILETIME (0 when not given) */
    const char *auth_file; /**< -A */
    const char *user;      /**< -U (USER of -U USER%PASSWORD: then user_buf) */
    char *user_buf;        /**< owned: the user part of -U USER%PASSWORD */
    char *user_password;   /**< owned: PASSWORD of -U USER%PASSWORD (wiped when freed), else NULL */
    unsigned timeout_s;    /**< --timeout, 0 when not given */
    int mech;              /**< --kerberos: smb_auth_mech_policy (default SMB_AUTH_AUTO) */
    const char *principal_host; /**< --principal-host: host of the cifs/ service principal */
    bool help, version;    /**< -h, --version: nothing else is checked */
    bool list;             /**< --list: dest holds the one location to list (no sources) */
    const char *plan_out;  /**< --plan-out PLAN: make a plan of --shards shards instead of copying */
    unsigned shards;       /**< --shards N (0 when not given) */
    const char *plan;      /**< --plan PLAN: run a shard of it (or --finish it); SRC and DEST come from it */
    int shard;             /**< --shard K, -1 when not given */
    bool finish_plan;      /**< --finish: the plan's finishing run */
    const char *summary_dir; /**< --summary-dir DIR: where shards write their reports */
    bool plan_args;        /**< parsed by cli_parse_planned_args: SRC and DEST came from the plan */
} cli_options;

/**
 * Parse argv into out. Returns 0, or -1 with a one-line reason in errbuf
 * (a usage error). Never prints or exits. Uses getopt_long, whose state is
 * the C library's globals: not for concurrent use. argv may be permuted,
 * and passwords in it are overwritten with 'X' (what ps shows), as
 * smbclient does: in SMB locations (URL or UNC form: from the first ':' to
 * the last '@') and after -U USER%; out keeps copies.
 */
int cli_parse_args(int argc, char **argv, cli_options *out, char *errbuf, size_t errlen);

/**
 * cli_parse_args for the arguments a plan recorded followed by the command
 * line's own (main.c builds them): with --plan, SRC and DEST are accepted
 * (they are the plan's), and later options override earlier ones.
 */
int cli_parse_planned_args(int argc, char **argv, cli_options *out, char *errbuf, size_t errlen);

/** Free what cli_parse_args allocated (safe after a failure, and twice). */
void cli_options_free(cli_options *o);

/** The --help text. */
extern const char cli_usage_text[];

#endif

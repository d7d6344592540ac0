/* Exit codes of the smbcopy command, and the mapping from error categories. */
#ifndef SMBCOPY_CLI_EXITCODES_H
#define SMBCOPY_CLI_EXITCODES_H

#include <stdbool.h>
#include <string.h>

#include <smbcopy/smb.h>

enum cli_exit {
    CLI_EXIT_OK = 0,          /**< nothing failed */
    CLI_EXIT_FAILED = 1,      /**< some files failed (or the job failed in another way) */
    CLI_EXIT_USAGE = 2,       /**< bad option, bad location, unreadable or unsafe auth file */
    CLI_EXIT_AUTH = 3,        /**< authentication failed, or the server refused the user the share */
    CLI_EXIT_CONNECT = 4,     /**< cannot connect, negotiate, or find the share; the server broke the protocol */
    CLI_EXIT_INTERRUPTED = 5, /**< stopped by SIGINT or SIGTERM */
    CLI_EXIT_LOCKED = 6,      /**< another run holds the --lock file: nothing was done */
};

/** The exit code for a job that could not run, from its SMB_ERR_* category. */
static inline int cli_exit_for_error(int code)
{
    switch (code) {
    case SMB_OK:
        return CLI_EXIT_OK;
    case SMB_ERR_INVALID_ARG:
        return CLI_EXIT_USAGE;
    case SMB_ERR_AUTH:
        return CLI_EXIT_AUTH;
    case SMB_ERR_CONNECT:
    case SMB_ERR_PROTOCOL:  /* a job ends on one only at connect or when its connection broke */
    case SMB_ERR_SIGNATURE: /* per file it fails the file: as the job's error, the session's setup */
    case SMB_ERR_BAD_SHARE:
    case SMB_ERR_SMB1_ONLY:
    case SMB_ERR_NEGOTIATE:
    case SMB_ERR_TIMEOUT:
    case SMB_ERR_DISCONNECTED:
    case SMB_ERR_ENCRYPTION:
        return CLI_EXIT_CONNECT;
    case SMB_ERR_CANCELLED:
        return CLI_EXIT_INTERRUPTED;
    default:
        return CLI_EXIT_FAILED;
    }
}

/**
 * The exit code for a job that could not run (or ended) with err.
 * reads_archive: the job extracts a local archive, whose damage the archive
 * reader reports as SMB_ERR_PROTOCOL without naming an SMB location (the
 * SMB endpoint prefixes every message with "//HOST"): exit 1, the job
 * failed in another way. Access denied when connecting to a share (the
 * library's TREE_CONNECT failure, "connect to share ...") is the user's
 * right to the share: exit 3, as an authentication failure.
 */
static inline int cli_exit_for_job_error(const smb_error *err, bool reads_archive)
{
    if (reads_archive && err->code == SMB_ERR_PROTOCOL && strncmp(err->message, "//", 2) != 0)
        return CLI_EXIT_FAILED;
    if (err->code == SMB_ERR_ACCESS && strstr(err->message, "connect to share "))
        return CLI_EXIT_AUTH;
    return cli_exit_for_error(err->code);
}

#endif

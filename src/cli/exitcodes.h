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
 * The exit code for a job that could not run (or ended) with err. The SMB
 * endpoint names the server (or the share) it was connecting to first
 * ("//HOST:PORT: ..." or "//HOST/SHARE: ..."): a broken protocol or a
 * signature that does not verify there (an unknown MessageId, 0 credits
 * granted, a badly signed TREE_CONNECT) is a failure to connect, exit 4;
 * elsewhere (a damaged archive, a listing that never ends) the job failed
 * in another way, exit 1. Access denied when connecting to a share (the
 * library's TREE_CONNECT failure, "connect to share ...") is the user's
 * right to the share: exit 3, as an authentication failure.
 */
static inline int cli_exit_for_job_error(const smb_error *err)
{
    bool at_connect = strncmp(err->message, "//", 2) == 0;
    if ((err->code == SMB_ERR_PROTOCOL || err->code == SMB_ERR_SIGNATURE) && at_connect)
        return CLI_EXIT_CONNECT;
    if (err->code == SMB_ERR_ACCESS && at_connect && strstr(err->message, ": connect to share "))
        return CLI_EXIT_AUTH;
    return cli_exit_for_error(err->code);
}

#endif

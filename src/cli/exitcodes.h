/* Exit codes of the smbcopy command, and the mapping from error categories. */
#ifndef SMBCOPY_CLI_EXITCODES_H
#define SMBCOPY_CLI_EXITCODES_H

#include <smbcopy/smb.h>

enum cli_exit {
    CLI_EXIT_OK = 0,          /**< nothing failed */
    CLI_EXIT_FAILED = 1,      /**< some files failed (or the job failed in another way) */
    CLI_EXIT_USAGE = 2,       /**< bad option, bad location, unreadable or unsafe auth file */
    CLI_EXIT_AUTH = 3,        /**< authentication failed */
    CLI_EXIT_CONNECT = 4,     /**< cannot connect, negotiate, or find the share */
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

#endif

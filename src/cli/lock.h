/* The run lock of smbcopy (--lock FILE): one run of a job at a time. */
#ifndef SMBCOPY_CLI_LOCK_H
#define SMBCOPY_CLI_LOCK_H

#include <stddef.h>

/** Result of cli_lock_take. */
enum cli_lock_result {
    CLI_LOCK_TAKEN = 0, /**< this process holds the lock until it exits (or cli_lock_release) */
    CLI_LOCK_BUSY = 1,  /**< another process holds it; msg names it */
    CLI_LOCK_ERROR = -1 /**< the lock file cannot be opened or locked; msg says why */
};

/**
 * Take the lock file path without waiting (flock, so the lock goes with the
 * process, whatever way it ends), creating it (mode 0600) when missing, and
 * write this process's id into it. *fd receives the open descriptor.
 */
int cli_lock_take(const char *path, int *fd, char *msg, size_t msglen);

/** Give the lock back (closing fd); a negative fd is ignored. */
void cli_lock_release(int fd);

#endif

/* The run lock of smbcopy (--lock FILE, and each job's own): one run of a job at a time. */
#ifndef SMBCOPY_CLI_LOCK_H
#define SMBCOPY_CLI_LOCK_H

#include <stdbool.h>
#include <stddef.h>

/** Result of cli_lock_take. */
enum cli_lock_result {
    CLI_LOCK_TAKEN = 0, /**< this process holds the lock until it exits (or cli_lock_release) */
    CLI_LOCK_BUSY = 1,  /**< another process holds it; msg names it */
    CLI_LOCK_ERROR = -1 /**< the lock file cannot be opened, locked, or is not a lock file; msg says why */
};

/** A lock held (fd >= 0) or not (fd == -1). */
typedef struct cli_lock {
    int fd;
    bool remove;     /**< the file is removed when released */
    char path[4200];
} cli_lock;

/** A cli_lock that holds nothing. */
#define CLI_LOCK_NONE {.fd = -1}

/**
 * Take the lock file path without waiting (flock, so the lock goes with the
 * process, whatever way it ends), creating it (mode 0600) when missing, and
 * write this process's id into it. An existing file is used only when it is
 * empty or holds a process id (a lock file): anything else is refused,
 * untouched (CLI_LOCK_ERROR); so is a symbolic link or a file that is not
 * regular. With remove_on_release the file is removed when released (while
 * still locked); a run that finds the name gone or replaced after locking
 * opens it again, so a removed lock file never lets two runs in.
 */
int cli_lock_take(const char *path, bool remove_on_release, cli_lock *lk, char *msg, size_t msglen);

/** Give the lock back (removing its file when so taken); a lock not held is ignored. */
void cli_lock_release(cli_lock *lk);

#endif

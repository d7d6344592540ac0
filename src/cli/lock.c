/*
 * The run lock: flock(2) on a file, never waited for. An overlapping cron
 * run exits at once with its own exit code instead of fighting the running
 * one; a crashed run leaves no stale lock, since the kernel drops a flock
 * with the last descriptor. The file holds the holder's process id, for the
 * message the next run prints.
 */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int cli_lock_take(const char *path, int *fd, char *msg, size_t msglen)
{
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (*fd < 0) {
        snprintf(msg, msglen, "cannot open the lock file %s: %s", path, strerror(errno));
        return CLI_LOCK_ERROR;
    }
    while (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        if (e == EWOULDBLOCK) {
            char holder[32] = "";
            ssize_t n = pread(*fd, holder, sizeof holder - 1, 0);
            holder[n > 0 ? n : 0] = '\0';
            holder[strcspn(holder, "\n")] = '\0';
            snprintf(msg, msglen, "another run holds the lock %s%s%s%s; not starting", path, *holder ? " (process " : "",
                     holder, *holder ? ")" : "");
        } else {
            snprintf(msg, msglen, "cannot lock %s: %s", path, strerror(e));
        }
        close(*fd);
        *fd = -1;
        return e == EWOULDBLOCK ? CLI_LOCK_BUSY : CLI_LOCK_ERROR;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(*fd, 0) == 0 && pwrite(*fd, pid, (size_t)len, 0) == len)
        return CLI_LOCK_TAKEN;
    snprintf(msg, msglen, "cannot write the lock file %s: %s", path, strerror(errno));
    close(*fd);
    *fd = -1;
    return CLI_LOCK_ERROR;
}

void cli_lock_release(int fd)
{
    if (fd >= 0)
        close(fd);
}

/*
 * The run lock: flock(2) on a file, never waited for. An overlapping cron
 * run exits at once with its own exit code instead of fighting the running
 * one; a crashed run leaves no stale lock, since the kernel drops a flock
 * with the last descriptor. The file holds the holder's process id, for the
 * message the next run prints.
 *
 * A lock file that is removed when its run ends (the job's own, in the state
 * directory) may vanish between another process's open and its flock: that
 * process then holds a lock on a file no longer under the name. So after
 * locking, the name must still lead to the locked file (same device and
 * inode); otherwise it opens the name again. The holder removes the file
 * while it still holds the lock, so whoever locks the name afterwards has a
 * file of its own.
 */
#include "lock.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_MAX_TRIES 100 /* names removed under us in a row before giving up */
#define LOCK_TEXT_MAX 32   /* a process id and a newline, with room */

/* True when the file holds nothing, or a process id as this code writes it. */
static bool holds_lock_text(int fd, const struct stat *st, char *holder, size_t len)
{
    holder[0] = '\0';
    if (st->st_size == 0)
        return true;
    if (st->st_size > LOCK_TEXT_MAX)
        return false;
    char buf[LOCK_TEXT_MAX + 1];
    ssize_t n = pread(fd, buf, LOCK_TEXT_MAX, 0);
    if (n < 0)
        return false;
    buf[n] = '\0';
    size_t digits = strspn(buf, "0123456789");
    if (digits == 0 || !(buf[digits] == '\0' || (buf[digits] == '\n' && buf[digits + 1] == '\0')))
        return false;
    snprintf(holder, len, "%.*s", (int)digits, buf);
    return true;
}

static int fail(cli_lock *lk, int fd, int rc)
{
    if (fd >= 0)
        close(fd);
    lk->fd = -1;
    return rc;
}

int cli_lock_take(const char *path, bool remove_on_release, cli_lock *lk, char *msg, size_t msglen)
{
    lk->fd = -1;
    lk->remove = false;
    lk->path[0] = '\0';
    if (strlen(path) >= sizeof lk->path) {
        snprintf(msg, msglen, "lock file name too long: %.80s...", path);
        return CLI_LOCK_ERROR;
    }
    for (int tries = 0; tries < LOCK_MAX_TRIES; tries++) {
        /* Never O_TRUNC: the file may be someone else's; it is checked once locked. */
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
        if (fd < 0) {
            snprintf(msg, msglen, "cannot open the lock file %s: %s", path, strerror(errno));
            return CLI_LOCK_ERROR;
        }
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            snprintf(msg, msglen, "the lock file %s is not a regular file", path);
            return fail(lk, fd, CLI_LOCK_ERROR);
        }
        char holder[LOCK_TEXT_MAX + 1];
        int rc;
        while ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
            ;
        if (rc != 0) {
            int e = errno;
            if (e == EWOULDBLOCK) {
                holds_lock_text(fd, &st, holder, sizeof holder);
                snprintf(msg, msglen, "another run holds the lock %s%s%s%s; not starting", path,
                         *holder ? " (process " : "", holder, *holder ? ")" : "");
                return fail(lk, fd, CLI_LOCK_BUSY);
            }
            snprintf(msg, msglen, "cannot lock %s: %s", path, strerror(e));
            return fail(lk, fd, CLI_LOCK_ERROR);
        }
        /* Locked: is it still the file under the name (not removed by the run that held it)? */
        struct stat now;
        if (lstat(path, &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
            close(fd);
            continue;
        }
        if (fstat(fd, &st) != 0 || !holds_lock_text(fd, &st, holder, sizeof holder)) {
            snprintf(msg, msglen,
                     "%s is not a lock file of smbcopy (it holds other data): not using it, nor overwriting it", path);
            return fail(lk, fd, CLI_LOCK_ERROR);
        }
        char pid[32];
        int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
            snprintf(msg, msglen, "cannot write the lock file %s: %s", path, strerror(errno));
            return fail(lk, fd, CLI_LOCK_ERROR);
        }
        lk->fd = fd;
        lk->remove = remove_on_release;
        snprintf(lk->path, sizeof lk->path, "%s", path);
        return CLI_LOCK_TAKEN;
    }
    snprintf(msg, msglen, "cannot lock %s: it was removed and made again %d times in a row", path, LOCK_MAX_TRIES);
    return CLI_LOCK_ERROR;
}

void cli_lock_release(cli_lock *lk)
{
    if (!lk || lk->fd < 0)
        return;
    if (lk->remove)
        unlink(lk->path); /* still locked: a process that opened it before finds it gone and opens the name again */
    close(lk->fd);
    lk->fd = -1;
}

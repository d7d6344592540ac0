/* Job identity and the state directory (see state.h). */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>


/* Feed s and a separator that no location contains. */
static int feed(EVP_MD_CTX *md, const char *s)
{
    return EVP_DigestUpdate(md, s, strlen(s)) == 1 && EVP_DigestUpdate(md, "\0", 1) == 1 ? 0 : -1;
}

/* One location, as it identifies a job: every spelling of the same place alike (identity.h). */
static int feed_location(EVP_MD_CTX *md, const sc_location *l)
{
    char *id = sc_location_identity(l);
    int rc = id ? feed(md, id) : -1;
    free(id);
    return rc;
}

int cli_job_id(const char *name, const sc_location *locs, size_t nlocs, char hex[33], char *msg, size_t msglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -1;
    if (rc == 0 && name)
        rc = feed(md, "job") || feed(md, name);
    for (size_t i = 0; rc == 0 && !name && i < nlocs; i++)
        rc = feed_location(md, &locs[i]);
    if (rc == 0 && (EVP_DigestFinal_ex(md, d, &dlen) != 1 || dlen < 16))
        rc = -1;
    EVP_MD_CTX_free(md);
    if (rc != 0) {
        snprintf(msg, msglen, "cannot compute the job's identity");
        return -1;
    }
    for (size_t i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return 0;
}

/* mkdir that accepts an existing directory. */
static int make(const char *path, char *msg, size_t msglen)
{
    if (mkdir(path, 0700) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        errno = ENOTDIR;
    }
    snprintf(msg, msglen, "cannot create the state directory %s: %s", path, strerror(errno));
    return -1;
}

int cli_make_dirs(const char *path, char *msg, size_t msglen)
{
    char *p = strdup(path);
    if (!p) {
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (char *c = p + 1; rc == 0 && c;) {
        c = strchr(c, '/');
        if (c)
            *c = '\0';
        struct stat st;
        if (mkdir(p, 0700) != 0 && !(errno == EEXIST && stat(p, &st) == 0 && S_ISDIR(st.st_mode))) {
            snprintf(msg, msglen, "cannot create the directory %s: %s", p, errno == EEXIST ? "not a directory" : strerror(errno));
            rc = -1;
        }
        if (c)
            *c++ = '/';
    }
    free(p);
    return rc;
}

int cli_state_dir(char *buf, size_t len, char *msg, size_t msglen)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/') {
        n = snprintf(buf, len, "%s", xdg);
        /* Its parents too: a per-task directory on a shared volume (XDG_STATE_HOME=/work/state/3) is new. */
        char parent[4096];
        const char *slash = strrchr(xdg, '/');
        if (slash && slash != xdg && (size_t)(slash - xdg) < sizeof parent) {
            snprintf(parent, sizeof parent, "%.*s", (int)(slash - xdg), xdg);
            if (cli_make_dirs(parent, msg, msglen) != 0)
                return -1;
        }
    } else if (home && home[0] == '/') {
        n = snprintf(buf, len, "%s/.local", home);
        if (n > 0 && (size_t)n < len && make(buf, msg, msglen) != 0)
            return -1;
        n = snprintf(buf, len, "%s/.local/state", home);
    } else {
        snprintf(msg, msglen, "no state directory: neither XDG_STATE_HOME nor HOME is an absolute path");
        return -1;
    }
    if (n <= 0 || (size_t)n >= len || make(buf, msg, msglen) != 0)
        return n <= 0 || (size_t)n >= len ? (snprintf(msg, msglen, "state directory path too long"), -1) : -1;
    size_t used = (size_t)n;
    n = snprintf(buf + used, len - used, "/smbcopy");
    if (n <= 0 || (size_t)n >= len - used) {
        snprintf(msg, msglen, "state directory path too long");
        return -1;
    }
    return make(buf, msg, msglen);
}

void cli_job_id_bytes(const char hex[33], uint8_t id[16])
{
    for (size_t i = 0; i < 16; i++) {
        const char byte[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
        id[i] = (uint8_t)strtoul(byte, NULL, 16);
    }
}

int cli_journal_file_check(const char *path, char *msg, size_t msglen)
{
    static const char magic[8] = {'S', 'M', 'B', 'C', 'O', 'P', 'Y', 'J'}; /* journal.h: the header's first bytes */
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(msg, msglen, "cannot use the checkpoint journal %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(msg, msglen, "the checkpoint journal %s is not a regular file", path);
        return -1;
    }
    if (st.st_size == 0)
        return 0;
    char head[sizeof magic];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    ssize_t n = fd >= 0 ? pread(fd, head, sizeof head, 0) : -1;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (n < 0) {
        snprintf(msg, msglen, "cannot read the checkpoint journal %s: %s", path, strerror(e));
        return -1;
    }
    if ((size_t)n < sizeof magic || memcmp(head, magic, sizeof magic) != 0) {
        snprintf(msg, msglen, "%s exists and is not a checkpoint journal of smbcopy: not using it, nor overwriting it",
                 path);
        return -1;
    }
    return 0;
}

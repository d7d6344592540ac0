/* Job identity and the state directory (see state.h). */
#include "state.h"

#include <ctype.h>
#include <errno.h>
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

static int feed_lower(EVP_MD_CTX *md, const char *s)
{
    char buf[256];
    size_t n = 0;
    for (; *s; s++) {
        buf[n++] = (char)tolower((unsigned char)*s);
        if (n == sizeof buf) {
            if (EVP_DigestUpdate(md, buf, n) != 1)
                return -1;
            n = 0;
        }
    }
    return EVP_DigestUpdate(md, buf, n) == 1 && EVP_DigestUpdate(md, "\0", 1) == 1 ? 0 : -1;
}

/* One location, as it identifies a job. */
static int feed_location(EVP_MD_CTX *md, const sc_location *l)
{
    if (l->is_smb) {
        char port[16];
        snprintf(port, sizeof port, "%u", (unsigned)(l->port ? l->port : 445));
        return feed(md, "smb") || feed_lower(md, l->host) || feed(md, port) || feed_lower(md, l->share) ||
               feed(md, l->path ? l->path : "");
    }
    if (feed(md, "local"))
        return -1;
    if (l->path[0] != '/') {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd) || EVP_DigestUpdate(md, cwd, strlen(cwd)) != 1 || EVP_DigestUpdate(md, "/", 1) != 1)
            return -1;
    }
    /* Trailing separators do not make another job. */
    size_t n = strlen(l->path);
    while (n > 1 && l->path[n - 1] == '/')
        n--;
    return EVP_DigestUpdate(md, l->path, n) == 1 && EVP_DigestUpdate(md, "\0", 1) == 1 ? 0 : -1;
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

int cli_state_dir(char *buf, size_t len, char *msg, size_t msglen)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/') {
        n = snprintf(buf, len, "%s", xdg);
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

/* Share paths for the high-level helpers: normalised, joined, split. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "helpers_internal.h"

int smb_helpers_path_norm(const char *path, const char *what, char **out, smb_error *err)
{
    *out = NULL;
    if (!path)
        path = "";
    size_t n = strlen(path);
    char *buf = malloc(n + 1);
    if (!buf)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    size_t len = 0;
    const char *p = path;
    while (*p) {
        while (*p == '/' || *p == '\\')
            p++;
        size_t c = strcspn(p, "/\\");
        if (c == 0)
            break;
        if (c == 2 && p[0] == '.' && p[1] == '.') {
            free(buf);
            return smb_err_set(err, SMB_ERR_BAD_NAME, 0, "%s '%s': '..' is not allowed in a share path", what, path);
        }
        if (!(c == 1 && p[0] == '.')) {
            if (len)
                buf[len++] = '/';
            memcpy(buf + len, p, c);
            len += c;
        }
        p += c;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

char *smb_helpers_path_join(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    char *s = malloc(dl + nl + 2);
    if (!s)
        return NULL;
    size_t at = 0;
    if (dl) {
        memcpy(s, dir, dl);
        s[dl] = '/';
        at = dl + 1;
    }
    memcpy(s + at, name, nl);
    s[at + nl] = '\0';
    return s;
}

const char *smb_helpers_path_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

bool smb_helpers_name_ok(const char *name)
{
    return *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && !strpbrk(name, "/\\");
}

/* Credentials: the -A file (checked and parsed) and the precedence of sources. */
#include "creds.h"
#include "errbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Store value [v, v+n) in *slot, replacing (and wiping) what was there. */
static int store(char **slot, const char *v, size_t n)
{
    char *copy = strndup(v, n);
    if (!copy)
        return -1;
    wipe_free(*slot);
    *slot = copy;
    return 0;
}

/* One line [p, p+n), already known not to be blank or a comment. */
static int parse_line(const char *p, size_t n, unsigned lineno, const char *name, cli_creds *out, char *errbuf,
                      size_t errlen)
{
    const char *eq = memchr(p, '=', n);
    if (!eq)
        return errbuf_fail(errbuf, errlen, "%s line %u: expected 'key = value'", name, lineno);
    size_t klen = (size_t)(eq - p);
    while (klen && is_blank(p[klen - 1]))
        klen--;
    const char *v = eq + 1, *end = p + n;
    while (v < end && is_blank(*v))
        v++;
    while (end > v && is_blank(end[-1]))
        end--;
    char **slot = NULL;
    if (klen == 8 && strncasecmp(p, "username", 8) == 0)
        slot = &out->username;
    else if (klen == 8 && strncasecmp(p, "password", 8) == 0)
        slot = &out->password;
    else if (klen == 6 && strncasecmp(p, "domain", 6) == 0)
        slot = &out->domain;
    else
        return errbuf_fail(errbuf, errlen, "%s line %u: unknown key '%.*s' (use username, password, domain)", name,
                          lineno, (int)(klen > 40 ? 40 : klen), p);
    if (store(slot, v, (size_t)(end - v)))
        return errbuf_fail(errbuf, errlen, "out of memory");
    return 0;
}

int cli_authfile_parse(const char *text, size_t len, const char *name, cli_creds *out, char *errbuf,
                       size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (memchr(text, '\0', len)) {
        errbuf_fail(errbuf, errlen, "%s: not a text file (it holds a NUL byte)", name);
        return -1;
    }
    unsigned lineno = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        lineno++;
        const char *s = p;
        while (s < line_end && is_blank(*s))
            s++;
        if (s < line_end && *s != '#' && *s != ';' &&
            parse_line(s, (size_t)(line_end - s), lineno, name, out, errbuf, errlen)) {
            cli_creds_free(out);
            return -1;
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

int cli_authfile_load(const char *path, cli_creds *out, char *errbuf, size_t errlen)
{
    memset(out, 0, sizeof *out);
    /* O_NONBLOCK: a FIFO must not block the open; it is refused below. */
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errbuf_fail(errbuf, errlen, "cannot open authentication file '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return errbuf_fail(errbuf, errlen, "cannot read authentication file '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return errbuf_fail(errbuf, errlen, "authentication file '%s' is not a regular file", path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return errbuf_fail(errbuf, errlen,
                          "authentication file '%s' is accessible by group or others (mode %04o); "
                          "run: chmod 600 '%s'",
                          path, (unsigned)(st.st_mode & 07777), path);
    }
    if (st.st_size > CLI_AUTHFILE_MAX) {
        close(fd);
        return errbuf_fail(errbuf, errlen, "authentication file '%s' is too large", path);
    }
    char *buf = malloc(CLI_AUTHFILE_MAX + 1);
    if (!buf) {
        close(fd);
        return errbuf_fail(errbuf, errlen, "out of memory");
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, CLI_AUTHFILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            explicit_bzero(buf, len);
            free(buf);
            close(fd);
            return errbuf_fail(errbuf, errlen, "cannot read authentication file '%s': %s", path, strerror(e));
        }
        if (n == 0 || (len += (size_t)n) > CLI_AUTHFILE_MAX)
            break;
    }
    close(fd);
    int rc = len > CLI_AUTHFILE_MAX ? errbuf_fail(errbuf, errlen, "authentication file '%s' is too large", path)
                                    : cli_authfile_parse(buf, len, path, out, errbuf, errlen);
    explicit_bzero(buf, len > CLI_AUTHFILE_MAX ? CLI_AUTHFILE_MAX + 1 : len);
    free(buf);
    return rc;
}

/* The first of a, b, c that is set (and, when nonempty_only, not ""). */
static const char *first_of(const char *a, const char *b, const char *c, bool nonempty_only)
{
    const char *v[3] = {a, b, c};
    for (int i = 0; i < 3; i++)
        if (v[i] && (!nonempty_only || *v[i]))
            return v[i];
    return NULL;
}

static int dup_opt(char **slot, const char *v)
{
    *slot = NULL;
    return v && !(*slot = strdup(v)) ? -1 : 0;
}

int cli_creds_resolve(const cli_cred_sources *src, cli_creds *out)
{
    memset(out, 0, sizeof *out);
    const cli_creds *f = src->file;
    const char *user = first_of(src->opt_user, f ? f->username : NULL, src->env_user, true);
    const char *pw = first_of(src->opt_password, f ? f->password : NULL, src->env_password, false);
    const char *dom = first_of(f ? f->domain : NULL, src->env_domain, NULL, true);
    if (dup_opt(&out->username, user) || dup_opt(&out->password, pw) || dup_opt(&out->domain, dom)) {
        cli_creds_free(out);
        return -1;
    }
    return 0;
}

cli_cred_view cli_creds_for_location(const cli_creds *defaults, const sc_location *loc)
{
    cli_cred_view v = {0};
    if (defaults) {
        v.username = defaults->username;
        v.password = defaults->password;
        v.domain = defaults->domain;
    }
    if (loc && loc->is_smb) {
        if (loc->user)
            v.username = loc->user;
        if (loc->password)
            v.password = loc->password;
        if (loc->domain)
            v.domain = loc->domain;
    }
    return v;
}

bool cli_creds_need_password(const cli_creds *defaults, const sc_location *loc)
{
    if (!loc || !loc->is_smb)
        return false;
    cli_cred_view v = cli_creds_for_location(defaults, loc);
    return v.username && *v.username && !v.password;
}

int cli_creds_set_password(cli_creds *c, const char *pw)
{
    char *copy = strdup(pw ? pw : "");
    if (!copy)
        return -1;
    wipe_free(c->password);
    c->password = copy;
    return 0;
}

void cli_creds_free(cli_creds *c)
{
    if (!c)
        return;
    wipe_free(c->username);
    wipe_free(c->password);
    wipe_free(c->domain);
    c->username = c->password = c->domain = NULL;
}

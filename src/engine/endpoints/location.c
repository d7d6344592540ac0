/*
 * Locations: parse the forms a source or destination is written in
 * (engine.h) into an sc_location, and render one back for messages
 * without its password.
 *
 *   smb://[DOMAIN;]USER[:PASSWORD]@HOST[:PORT]/SHARE[/PATH]   percent-decoded, IPv6 as [ADDR]
 *   //[[DOMAIN;]USER[:PASSWORD]@]HOST/SHARE[/PATH]  (or with '\\')    taken literally
 *   anything else                                             a local path, as given
 *
 * In SMB paths '/' and '\' both separate components (neither may appear in
 * an SMB name); empty and "." components are dropped, ".." is refused.
 */
#include <smbcopy/engine.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/hex.h"

#define SMB_DEFAULT_PORT 445
#define SHOWN_MAX 200 /* longest quoted input in a message */
#define SMB_PATH_MAX_UNITS 32767

static bool is_sep(char c)
{
    return c == '/' || c == '\\';
}

/*
 * The input as it may appear in a message: cut to SHOWN_MAX characters,
 * and in an SMB location (a URL or the UNC form, which both may carry
 * USER:PASSWORD@) everything from the first ':' to the last '@' of the
 * whole string replaced by "***". A password may hold unencoded '@', '/' or
 * '\\' (which then end the host part early and make the parse fail):
 * hiding up to the last '@' hides it whatever it holds, at the price of
 * sometimes hiding more than the password.
 */
static void shown_input(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s), skip = 0;
    if (strncasecmp(s, "smb://", 6) == 0)
        skip = 6;
    else if (is_sep(s[0]) && is_sep(s[1]))
        skip = 2;
    const char *at = skip ? strrchr(s + skip, '@') : NULL;
    const char *colon = at ? memchr(s + skip, ':', (size_t)(at - (s + skip))) : NULL;
    if (colon) {
        size_t head = (size_t)(colon + 1 - s); /* up to and with the ':' */
        if (head > SHOWN_MAX)
            head = SHOWN_MAX;
        snprintf(buf, len, "%.*s***%.*s%s", (int)head, s, SHOWN_MAX, at, strlen(at) > SHOWN_MAX ? "..." : "");
    } else {
        snprintf(buf, len, "%.*s%s", SHOWN_MAX, s, n > SHOWN_MAX ? "..." : "");
    }
}

/* Copy s[0..n) into a new string, percent-decoding when asked. NULL: bad %-escape or no memory (*bad tells). */
static char *take(const char *s, size_t n, bool decode, bool *bad)
{
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (decode && s[i] == '%') {
            int hi = i + 1 < n ? hex_digit_value(s[i + 1]) : -1;
            int lo = i + 2 < n ? hex_digit_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi | lo) == 0) { /* malformed, or %00 */
                *bad = true;
                free(out);
                return NULL;
            }
            out[j++] = (char)(hi << 4 | lo);
            i += 2;
            continue;
        }
        out[j++] = s[i];
    }
    out[j] = '\0';
    return out;
}

/*
 * Normalise an SMB path: components split at '/' or '\', empty and "."
 * ones dropped, ".." refused; joined with '/', no leading or trailing '/'.
 */
static int normalize_path(const char *in, char **out, smb_error *err)
{
    size_t n = strlen(in);
    char *res = malloc(n + 1);
    if (!res)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    size_t j = 0;
    const char *p = in;
    while (*p) {
        while (is_sep(*p))
            p++;
        size_t len = 0;
        while (p[len] && !is_sep(p[len]))
            len++;
        if (len == 0)
            break;
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            free(res);
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "'..' is not allowed in an SMB path");
        }
        if (!(len == 1 && p[0] == '.')) {
            if (j)
                res[j++] = '/';
            memcpy(res + j, p, len);
            j += len;
        }
        p += len;
    }
    res[j] = '\0';
    *out = res;
    return 0;
}

/* Parse "PORT" (1..65535). */
static bool parse_port(const char *s, size_t n, uint16_t *port)
{
    if (n == 0 || n > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* Fill err for a string that could not be taken (bad escape or no memory). */
static int take_failed(bool bad, const char *what, const char *shown, smb_error *err)
{
    if (bad)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad percent-encoding in the %s of '%s'", what, shown);
    return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
}

/* "[DOMAIN;]USER[:PASSWORD]" of an SMB URL (percent-decoded) or of the UNC form (decode false: literal). */
static int parse_userinfo(const char *s, size_t n, bool decode, sc_location *loc, const char *shown, smb_error *err)
{
    bool bad = false;
    const char *colon = memchr(s, ':', n);
    size_t user_n = colon ? (size_t)(colon - s) : n;
    const char *semi = memchr(s, ';', user_n);
    const char *user = s;
    if (semi) {
        if (semi > s && !(loc->domain = take(s, (size_t)(semi - s), decode, &bad)))
            return take_failed(bad, "domain", shown, err);
        user = semi + 1;
        user_n -= (size_t)(user - s);
    }
    if (user_n == 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "missing user name before '@' in '%s'", shown);
    if (!(loc->user = take(user, user_n, decode, &bad)))
        return take_failed(bad, "user name", shown, err);
    if (colon && !(loc->password = take(colon + 1, n - (size_t)(colon + 1 - s), decode, &bad)))
        return take_failed(bad, "password", shown, err);
    return 0;
}

/* "HOST[:PORT]" or "[IPV6][:PORT]" of an SMB URL. */
static int parse_hostport(const char *s, size_t n, sc_location *loc, const char *shown, smb_error *err)
{
    const char *host = s, *port = NULL;
    size_t host_n = n;
    if (n && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close)
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "missing ']' after the IPv6 address in '%s'", shown);
        host = s + 1;
        host_n = (size_t)(close - host);
        const char *after = close + 1;
        if (after < s + n) {
            if (*after != ':')
                return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad host in '%s'", shown);
            port = after + 1;
        }
    } else {
        const char *colon = memchr(s, ':', n);
        if (colon) {
            if (memchr(colon + 1, ':', n - (size_t)(colon + 1 - s)))
                return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                                   "an IPv6 address must be written in brackets (smb://[::1]/share) in '%s'", shown);
            host_n = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    if (host_n == 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "missing host name in '%s'", shown);
    loc->port = SMB_DEFAULT_PORT;
    if (port && !parse_port(port, n - (size_t)(port - s), &loc->port))
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad port in '%s' (expected 1..65535)", shown);
    bool bad = false;
    if (!(loc->host = take(host, host_n, true, &bad))) /* "%25" of an IPv6 zone */
        return take_failed(bad, "host", shown, err);
    return 0;
}

/* "/SHARE[/PATH]" after the host: share and normalised path. */
static int parse_share_path(const char *s, bool decode, sc_location *loc, const char *shown, smb_error *err)
{
    while (is_sep(*s))
        s++;
    size_t share_n = strcspn(s, "/\\");
    if (share_n == 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "missing share name in '%s'", shown);
    bool bad = false;
    if (!(loc->share = take(s, share_n, decode, &bad)))
        return take_failed(bad, "share name", shown, err);
    if (strpbrk(loc->share, "/\\") || strcmp(loc->share, ".") == 0 || strcmp(loc->share, "..") == 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad share name in '%s'", shown);
    const char *rest = s + share_n;
    char *raw = take(rest, strlen(rest), decode, &bad);
    if (!raw)
        return take_failed(bad, "path", shown, err);
    int rc = normalize_path(raw, &loc->path, err);
    free(raw);
    return rc;
}

/* smb://... after the scheme. */
static int parse_url(const char *s, sc_location *loc, const char *shown, smb_error *err)
{
    const char *auth_end = s + strcspn(s, "/\\");
    const char *at = NULL;
    for (const char *p = s; p < auth_end; p++)
        if (*p == '@')
            at = p;
    const char *hostport = s;
    if (at) {
        int rc = parse_userinfo(s, (size_t)(at - s), true, loc, shown, err);
        if (rc)
            return rc;
        hostport = at + 1;
    }
    int rc = parse_hostport(hostport, (size_t)(auth_end - hostport), loc, shown, err);
    if (rc)
        return rc;
    return parse_share_path(auth_end, true, loc, shown, err);
}

/*
 * //[[DOMAIN;]USER[:PASSWORD]@]HOST/SHARE... or the same with '\\', after
 * the two separators. The user part ends at the last '@' of the host part.
 */
static int parse_unc(const char *s, sc_location *loc, const char *shown, smb_error *err)
{
    size_t host_n = strcspn(s, "/\\");
    const char *host = s;
    const char *at = NULL;
    for (const char *p = s; p < s + host_n; p++)
        if (*p == '@')
            at = p;
    if (at) {
        int rc = parse_userinfo(s, (size_t)(at - s), false, loc, shown, err);
        if (rc)
            return rc;
        host = at + 1;
        host_n -= (size_t)(host - s);
    }
    if (host_n >= 2 && host[0] == '[' && host[host_n - 1] == ']') {
        host++;
        host_n -= 2;
    }
    if (host_n == 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "missing host name in '%s'", shown);
    bool bad = false;
    if (!(loc->host = take(host, host_n, false, &bad)))
        return take_failed(bad, "host", shown, err);
    loc->port = SMB_DEFAULT_PORT;
    return parse_share_path(s + strcspn(s, "/\\"), false, loc, shown, err);
}

/* UTF-16 code units of UTF-8 text (a 4-byte sequence is a surrogate pair). */
static size_t utf16_units(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xC0) != 0x80 ? (*p >= 0xF0 ? 2 : 1) : 0;
    return n;
}

/*
 * Paths no request can carry: an SMB path beyond what a CREATE's 16-bit
 * NameLength holds (MS-SMB2 2.2.13: 32767 UTF-16 code units), a local one
 * of PATH_MAX bytes or more (every system call refuses it). Refused by
 * their length, before anything is connected or allocated after them.
 */
static int check_length(const sc_location *loc, const char *shown, smb_error *err)
{
    if (loc->is_smb) {
        size_t units = utf16_units(loc->path);
        if (units > SMB_PATH_MAX_UNITS)
            return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "path too long for SMB: %zu characters (at most %d): '%s'",
                               units, SMB_PATH_MAX_UNITS, shown);
        return 0;
    }
    size_t n = strlen(loc->path);
    if (n >= PATH_MAX)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "local path too long: %zu bytes (at most %d): '%s'", n,
                           PATH_MAX - 1, shown);
    return 0;
}

int sc_location_parse(const char *s, sc_location *loc, smb_error *err)
{
    if (!loc)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no location to fill");
    memset(loc, 0, sizeof *loc);
    if (!s || !*s)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "empty location");
    char shown[2 * SHOWN_MAX + 16];
    shown_input(s, shown, sizeof shown);
    size_t n = strlen(s);
    int rc;
    if (strncasecmp(s, "smb://", 6) == 0) {
        loc->is_smb = true;
        rc = parse_url(s + 6, loc, shown, err);
    } else if (strncasecmp(s, "smb:", 4) == 0) {
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "bad SMB URL '%s': write smb://HOST/SHARE[/PATH]", shown);
    } else if (is_sep(s[0]) && is_sep(s[1])) {
        loc->is_smb = true;
        rc = parse_unc(s + 2, loc, shown, err);
    } else {
        loc->path = strdup(s);
        rc = loc->path ? check_length(loc, shown, err) : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        loc->trailing_sep = s[n - 1] == '/';
        return rc ? (sc_location_free(loc), rc) : 0;
    }
    if (rc == 0)
        rc = check_length(loc, shown, err);
    if (rc) {
        sc_location_free(loc);
        return rc;
    }
    loc->trailing_sep = is_sep(s[n - 1]);
    return 0;
}

void sc_location_free(sc_location *loc)
{
    if (!loc)
        return;
    if (loc->password)
        explicit_bzero(loc->password, strlen(loc->password));
    free(loc->host);
    free(loc->share);
    free(loc->path);
    free(loc->user);
    free(loc->domain);
    free(loc->password);
    memset(loc, 0, sizeof *loc);
}

const char *sc_location_display(const sc_location *loc, char *buf, size_t len)
{
    if (!buf || len == 0)
        return "";
    buf[0] = '\0';
    if (!loc)
        return buf;
    if (!loc->is_smb) {
        snprintf(buf, len, "%s", loc->path ? loc->path : "");
        return buf;
    }
    const char *host = loc->host ? loc->host : "";
    bool v6 = strchr(host, ':') != NULL;
    char port[8] = "";
    if (loc->port && loc->port != SMB_DEFAULT_PORT)
        snprintf(port, sizeof port, ":%u", (unsigned)loc->port);
    const char *path = loc->path ? loc->path : "";
    snprintf(buf, len, "smb://%s%s%s%s%s%s%s%s/%s%s%s%s", loc->domain ? loc->domain : "", loc->domain ? ";" : "",
             loc->user ? loc->user : "", loc->user ? "@" : "", v6 ? "[" : "", host, v6 ? "]" : "", port,
             loc->share ? loc->share : "", *path ? "/" : "", path, loc->trailing_sep ? "/" : "");
    return buf;
}

/*
 * What the examples share: reading an smb:// URL and the credentials.
 *
 *   smb://[DOMAIN;]USER@HOST[:PORT]/SHARE[/PATH]
 *
 * The URL is parsed by the library's own parser, sc_location_parse()
 * (smbcopy/engine.h), the one the smbcopy command uses: percent-decoding,
 * IPv6 in brackets, port 445 by default, "." dropped and ".." refused.
 *
 * The password never comes from the command line (other users see it in
 * `ps`, the shell keeps it in its history): it is taken from SMB_PASSWORD,
 * and a URL that carries one is refused. The user comes from the URL, else
 * from SMB_USERNAME; the domain from the URL, else from SMB_DOMAIN. With no
 * user at all the session is anonymous.
 *
 * Header only (static functions), so that an example is still built from
 * its one .c file: cc smb2-ls.c $(pkg-config --cflags --libs smbcopy).
 */
#ifndef EXAMPLE_URL_H
#define EXAMPLE_URL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbcopy/engine.h>
#include <smbcopy/smb.h>

/*
 * Parse url into *loc. On failure print one line, "PROG: MESSAGE", and
 * return -1 (*loc then holds nothing to free). On success the caller frees
 * *loc with sc_location_free().
 */
static inline int example_parse_url(const char *prog, const char *url, sc_location *loc)
{
    smb_error err = {0};
    if (sc_location_parse(url, loc, &err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err.message);
        return -1;
    }
    const char *problem = NULL;
    if (!loc->is_smb)
        problem = "not an SMB URL (expected smb://[user@]host[:port]/share/path)";
    else if (strcmp(loc->share, SC_EVERY_SHARE) == 0)
        problem = "a URL names one share, not '*'";
    else if (loc->password)
        problem = "a password in the URL is refused: put it in SMB_PASSWORD";
    if (problem) {
        char shown[1024]; /* the URL as sc_location_display writes it: never with the password */
        fprintf(stderr, "%s: %s: %s\n", prog, sc_location_display(loc, shown, sizeof shown), problem);
        sc_location_free(loc);
        return -1;
    }
    return 0;
}

/* The credentials for loc: the URL's user and domain first, then the environment's. */
static inline smb_creds example_creds(const sc_location *loc)
{
    smb_creds creds = {
        .username = loc->user ? loc->user : getenv("SMB_USERNAME"),
        .password = getenv("SMB_PASSWORD"),
        .domain = loc->domain ? loc->domain : getenv("SMB_DOMAIN"),
    };
    return creds;
}

/*
 * The UNC path "//HOST/SHARE/PATH" of path inside loc's share, for the
 * smb_client_* calls (client.h), into buf. Returns buf, or NULL when it
 * does not fit.
 */
static inline char *example_unc(const sc_location *loc, const char *path, char *buf, size_t len)
{
    int n = snprintf(buf, len, "//%s/%s%s%s", loc->host, loc->share, *path ? "/" : "", path);
    return n >= 0 && (size_t)n < len ? buf : NULL;
}

#endif

/*
 * Splitting a user name into user and domain.
 *
 * "DOMAIN\user" gives DOMAIN and user; "user@domain" gives user and
 * domain (the DNS domain of a UPN: Windows domain controllers accept it in
 * NTLM's DomainName, and Kerberos uses it as the realm); a bare "user"
 * takes the default domain. The backslash form wins when both appear, and
 * a UPN splits at its last '@'.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

int smb_auth_split_user(const char *name, const char *default_domain, char **user, char **domain)
{
    if (!name)
        name = "";
    const char *bs = strchr(name, '\\');
    const char *at = strrchr(name, '@');
    if (bs) {
        *domain = dup_n(name, (size_t)(bs - name));
        *user = dup_n(bs + 1, strlen(bs + 1));
    } else if (at) {
        *user = dup_n(name, (size_t)(at - name));
        *domain = dup_n(at + 1, strlen(at + 1));
    } else {
        const char *d = default_domain ? default_domain : "";
        *user = dup_n(name, strlen(name));
        *domain = dup_n(d, strlen(d));
    }
    if (!*user || !*domain) {
        free(*user);
        free(*domain);
        *user = *domain = NULL;
        return SMB_ERR_NO_MEMORY;
    }
    return 0;
}

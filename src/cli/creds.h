/*
 * Credentials of the smbcopy command: the -A file, the environment, -U and
 * the user of a URL, combined field by field:
 *
 *   user:     URL > -U > -A file > SMB_USERNAME
 *   password: URL > -U USER%PASSWORD > -A file > SMB_PASSWORD
 *   domain:   URL > -A file > SMB_DOMAIN
 *
 * No function here prints or returns text holding a password.
 */
#ifndef SMBCOPY_CLI_CREDS_H
#define SMBCOPY_CLI_CREDS_H

#include <stdbool.h>
#include <stddef.h>

#include <smbcopy/engine.h>

/** Owned strings; NULL when not given ("" is a given empty value). */
typedef struct cli_creds {
    char *username;
    char *password;
    char *domain;
} cli_creds;

/** Largest authentication file read. */
#define CLI_AUTHFILE_MAX 65536 /* 64 KiB */

/**
 * Parse the text of an authentication file (smbclient's format:
 * "username = U", "password = P", "domain = D"; spaces around '=' optional;
 * blank lines and lines starting with '#' or ';' ignored). name is used in
 * messages. Returns 0, or -1 with errbuf (which never quotes a value).
 */
int cli_authfile_parse(const char *text, size_t len, const char *name, cli_creds *out, char *errbuf,
                       size_t errlen);

/**
 * Open, check and parse an authentication file: it must be a regular file
 * with no permission bits for group or others (mode & 077 == 0).
 */
int cli_authfile_load(const char *path, cli_creds *out, char *errbuf, size_t errlen);

/** Where the default credentials come from; any may be NULL. */
typedef struct cli_cred_sources {
    const char *opt_user;     /**< -U */
    const char *opt_password; /**< PASSWORD of -U USER%PASSWORD */
    const cli_creds *file;    /**< the -A file */
    const char *env_user;     /**< SMB_USERNAME ("" counts as unset) */
    const char *env_password; /**< SMB_PASSWORD ("" is an empty password) */
    const char *env_domain;   /**< SMB_DOMAIN ("" counts as unset) */
} cli_cred_sources;

/**
 * The default credentials (for SMB locations whose URL names none), each
 * field from its first source in precedence order. 0, or -1 out of memory.
 */
int cli_creds_resolve(const cli_cred_sources *src, cli_creds *out);

/** What a job will use for one SMB location: the URL's fields over the defaults. */
typedef struct cli_cred_view {
    const char *username;
    const char *password;
    const char *domain;
} cli_cred_view;

/** The credentials for loc (pointers into loc and defaults). */
cli_cred_view cli_creds_for_location(const cli_creds *defaults, const sc_location *loc);

/** True when loc has a user but no source gives a password (a prompt is due). */
bool cli_creds_need_password(const cli_creds *defaults, const sc_location *loc);

/** Replace c->password with a copy of pw (wiping the old one). 0, or -1 out of memory. */
int cli_creds_set_password(cli_creds *c, const char *pw);

/** Wipe and free. */
void cli_creds_free(cli_creds *c);

#endif

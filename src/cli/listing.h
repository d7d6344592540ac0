/*
 * smbcopy --list: a server's shares (as smbclient -L shows them) or a
 * directory's entries, as a table or one JSON object.
 */
#ifndef SMBCOPY_CLI_LISTING_H
#define SMBCOPY_CLI_LISTING_H

#include <stdbool.h>
#include <stdio.h>

#include <smbcopy/engine.h>

/**
 * The shares as a table (name, type, comment; administrative shares
 * marked) or, with json, {"shares":[{"name","type","special","comment"}],
 * "exit_code","error"}. error (may be NULL) is the one-line reason when
 * the listing failed (JSON only: the table's caller says it on stderr).
 */
void cli_list_print_shares(FILE *f, const smb_share_info *shares, size_t n, bool json, int exit_code,
                           const char *error);

/** A directory's entries, collected then printed sorted by name (cli_list_entries_print). */
typedef struct cli_list_entries {
    sc_list_entry *v; /**< copies; names malloc'd */
    size_t n, cap;
    bool oom;         /**< an entry could not be kept */
} cli_list_entries;

/** sc_list's callback: keeps a copy of entry in arg (a cli_list_entries). */
int cli_list_collect(void *arg, const sc_list_entry *entry);

/**
 * The entries sorted by name: a table (type and attributes, size, local
 * modification time, name; directories end with '/') or, with json,
 * {"entries":[{"name","type","size","mtime","attributes"}],"exit_code","error"}
 * (type file, dir, link or dfs_link; mtime ISO 8601 UTC; attributes as
 * letters R H S A D L). Frees nothing.
 */
void cli_list_print_entries(FILE *f, cli_list_entries *e, bool json, int exit_code, const char *error);

/** Free what cli_list_collect kept. */
void cli_list_entries_free(cli_list_entries *e);

#endif

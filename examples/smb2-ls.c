/*
 * smb2-ls: list a directory of an SMB share, like libsmb2's smb2-ls.
 *
 *   SMB_PASSWORD=... smb2-ls smb://[DOMAIN;]USER@HOST[:PORT]/SHARE[/DIR]
 *
 * One line per entry, in the server's order:
 *
 *   TYPE   SIZE  MTIME (UTC)          NAME
 *   FILE   1234  2026-01-31 12:00:00  report.pdf
 *
 * TYPE is DIR, FILE or LINK (a symbolic link or other reparse point); SIZE
 * is in bytes. A URL that names a file lists that file alone.
 *
 * It shows the path-based client (smbcopy/client.h): one call opens the
 * directory by its UNC path, connecting, logging on and connecting the
 * share on the way, and following DFS links as Windows does. The listing
 * itself is smb.h's smb_dir_start/smb_dir_next/smb_dir_finish.
 *
 * Credentials: see example_url.h. Exit status 0, or 1 with one line on
 * stderr saying what failed (2 for a usage error).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smbcopy/client.h>
#include <smbcopy/smb.h>

#include "example_url.h"

static const char *prog = "smb2-ls";

/* Print one entry's line. */
static void print_entry(const char *name, const smb_file_info *info)
{
    const char *type = smb_file_info_is_dir(info)                  ? "DIR"
                       : (info->attributes & SMB_ATTR_REPARSE_POINT) ? "LINK"
                                                                     : "FILE";
    /* SMB times are FILETIMEs (100 ns since 1601); the library converts. */
    struct timespec mtime = smb_filetime_to_timespec(info->last_write_time);
    const struct tm *tm = gmtime(&mtime.tv_sec); /* (one thread calls it: gmtime's static result is fine) */
    char when[32] = "?";
    if (tm)
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", tm);
    printf("%-4s %12" PRIu64 "  %s  %s\n", type, info->end_of_file, when, name);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s smb://[user@]host[:port]/share[/dir]   (password in SMB_PASSWORD)\n", prog);
        return 2;
    }
    sc_location loc;
    if (example_parse_url(prog, argv[1], &loc) != 0)
        return 1;
    char unc[4096];
    if (!example_unc(&loc, loc.path, unc, sizeof unc)) {
        fprintf(stderr, "%s: %s: path too long\n", prog, argv[1]);
        sc_location_free(&loc);
        return 1;
    }

    /* A client: connections, sessions and trees are made on first use. */
    smb_error err = {0};
    smb_creds creds = example_creds(&loc);
    smb_client *client = smb_client_new(loc.port, NULL, &creds, 0, &err);
    if (!client) {
        fprintf(stderr, "%s: %s\n", prog, err.message);
        sc_location_free(&loc);
        return 1;
    }

    int rc = 0;
    smb_open *dir = smb_client_open_dir(client, unc, &err);
    if (!dir && err.code == SMB_ERR_NOT_DIR) {
        /* Like ls: a file is listed as itself. */
        smb_file_info info;
        if (smb_client_stat(client, unc, &info, &err) == 0) {
            const char *slash = strrchr(loc.path, '/');
            print_entry(slash ? slash + 1 : loc.path, &info);
        } else {
            fprintf(stderr, "%s: %s\n", prog, err.message);
            rc = 1;
        }
    } else if (!dir) {
        /* Wrong password, missing share, missing directory: the library's message says which. */
        fprintf(stderr, "%s: %s\n", prog, err.message);
        rc = 1;
    } else {
        /*
         * List it. The entries come in batches as smb_dir_next asks for
         * them (QUERY_DIRECTORY), so a directory of any size is listed in
         * little memory; "." and ".." are left out.
         */
        smb_dir *list = smb_dir_start(dir, "*", &err);
        if (!list) {
            fprintf(stderr, "%s: %s\n", prog, err.message);
            rc = 1;
        }
        smb_dirent ent;
        int more;
        while (list && (more = smb_dir_next(list, &ent, &err)) != 0) {
            if (more < 0) {
                fprintf(stderr, "%s: %s\n", prog, err.message);
                rc = 1;
                if (err.code != SMB_ERR_BAD_NAME) /* one bad name: go on with the others */
                    break;
                continue;
            }
            print_entry(ent.name, &ent.info);
        }
        smb_dir_finish(list);
        smb_close(dir, NULL, NULL);
    }

    /* Opens first, then the client (every connection it made). */
    smb_client_free(client);
    sc_location_free(&loc);
    if (fflush(stdout) != 0) {
        perror(prog);
        rc = 1;
    }
    return rc;
}

/*
 * lowlevel_dir: directory management with smb.h's low-level objects, step
 * by step; the C counterpart of the Python smbprotocol library's
 * "directory management" example.
 *
 *   SMB_PASSWORD=... lowlevel_dir [--keep] smb://[DOMAIN;]USER@HOST[:PORT]/SHARE/DIR/NEWDIR
 *
 * It connects (smb_conn), logs on (smb_session) and connects the share
 * (smb_tree) itself, then:
 *
 *   1. creates the directory NEWDIR (it must not exist: disposition
 *      FILE_CREATE) and keeps it open;
 *   2. creates three files in it: report-1.txt, report-2.txt and notes.md,
 *      each holding one line;
 *   3. lists the directory through the open handle with the pattern
 *      "report-*.txt" (QUERY_DIRECTORY): the two reports, not the notes;
 *   4. removes the three files: each opened with DELETE access and marked
 *      delete-on-close with a SET_INFO (FileDispositionInformation), then
 *      closed; a listing with "*" then finds the directory empty;
 *   5. removes the directory the same way, through the handle kept open
 *      since step 1.
 *
 * --keep stops after step 3: the directory and its three files stay.
 *
 * Credentials: see example_url.h. Exit status 0, or 1 with one line on
 * stderr saying what failed (2 for a usage error).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbcopy/smb.h>

#include "example_url.h"

static const char *prog = "lowlevel_dir";

static const char *const FILES[] = {"report-1.txt", "report-2.txt", "notes.md"};
#define NFILES (sizeof FILES / sizeof FILES[0])
static const char PATTERN[] = "report-*.txt";

/* Print "lowlevel_dir: WHAT: the library's message" and return 1, the exit status. */
static int failed(const char *what, const smb_error *err)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, err->message);
    return 1;
}

/* Create dir/name holding one line of text. 0, or 1 after printing why not. */
static int create_file(smb_tree *tree, const char *path)
{
    smb_error err = {0};
    smb_create_params params;
    smb_create_params_init(&params);
    params.desired_access = SMB_FILE_WRITE_DATA;
    params.disposition = SMB_FILE_CREATE; /* a new file: fail if the name exists */
    params.options = SMB_FILE_NON_DIRECTORY_FILE;
    smb_open *file = smb_create(tree, path, &params, NULL, NULL, &err);
    if (!file)
        return failed("create file", &err);
    char line[512];
    int len = snprintf(line, sizeof line, "This is %s.\n", path);
    int rc = smb_pwrite(file, line, (size_t)len, 0, 0, &err) != 0 ? failed("write", &err) : 0;
    if (smb_close(file, NULL, &err) != 0 && rc == 0)
        rc = failed("close", &err);
    return rc;
}

/*
 * List the directory open as dir with pattern, printing each entry; the
 * count in *count. 0, or 1 after printing why not.
 */
static int list(smb_open *dir, const char *pattern, int *count)
{
    smb_error err = {0};
    *count = 0;
    smb_dir *listing = smb_dir_start(dir, pattern, &err);
    if (!listing)
        return failed("query directory", &err);
    smb_dirent ent;
    int more, rc = 0;
    while ((more = smb_dir_next(listing, &ent, &err)) == 1) {
        printf("   %-14s %6" PRIu64 " bytes%s\n", ent.name, ent.info.end_of_file,
               smb_file_info_is_dir(&ent.info) ? " (directory)" : "");
        ++*count;
    }
    if (more < 0)
        rc = failed("query directory", &err);
    smb_dir_finish(listing); /* frees the listing; the directory stays open */
    return rc;
}

/*
 * Delete path: open it with DELETE access, mark it delete-on-close with a
 * SET_INFO of FileDispositionInformation, close it. 0, or 1 after printing
 * why not.
 */
static int remove_file(smb_tree *tree, const char *path)
{
    smb_error err = {0};
    smb_create_params params;
    smb_create_params_init(&params);
    params.desired_access = SMB_DELETE;
    params.disposition = SMB_FILE_OPEN; /* it must exist */
    params.options = SMB_FILE_NON_DIRECTORY_FILE;
    smb_open *file = smb_create(tree, path, &params, NULL, NULL, &err);
    if (!file)
        return failed("open to delete", &err);
    int rc = smb_set_delete_on_close(file, true, &err) != 0 ? failed("mark delete-on-close", &err) : 0;
    if (smb_close(file, NULL, &err) != 0 && rc == 0)
        rc = failed("close", &err);
    return rc;
}

int main(int argc, char **argv)
{
    bool keep = argc == 3 && strcmp(argv[1], "--keep") == 0;
    if (argc != 2 + keep) {
        fprintf(stderr, "usage: %s [--keep] smb://[user@]host[:port]/share/path/newdir   (password in SMB_PASSWORD)\n",
                prog);
        return 2;
    }
    sc_location loc;
    if (example_parse_url(prog, argv[argc - 1], &loc) != 0)
        return 1;
    if (!*loc.path) {
        fprintf(stderr, "%s: %s: the URL must name the directory to create in the share\n", prog, argv[argc - 1]);
        sc_location_free(&loc);
        return 1;
    }
    const char *dirpath = loc.path; /* relative to the share's root */
    smb_error err = {0};
    int rc = 0;
    int count = 0;

    /* Connection (TCP + NEGOTIATE), session (SESSION_SETUP), tree (TREE_CONNECT). */
    smb_conn *conn = smb_conn_connect(loc.host, loc.port, NULL, &err);
    if (!conn) {
        rc = failed("connect", &err);
        goto out;
    }
    smb_creds creds = example_creds(&loc);
    smb_session *sess = smb_session_setup(conn, &creds, &err);
    if (!sess) {
        rc = failed("logon", &err);
        goto out;
    }
    smb_tree *tree = smb_tree_connect(sess, loc.share, &err);
    if (!tree) {
        rc = failed("share", &err);
        goto out;
    }
    printf("connected to share %s on %s\n", loc.share, loc.host);

    /*
     * 1. Create the directory: a CREATE with the option FILE_DIRECTORY_FILE.
     * The handle stays open: it lists the directory (LIST_DIRECTORY) and
     * deletes it at the end (DELETE).
     */
    smb_create_params params;
    smb_create_params_init(&params);
    params.desired_access = SMB_FILE_LIST_DIRECTORY | SMB_FILE_READ_ATTRIBUTES | SMB_DELETE;
    params.disposition = SMB_FILE_CREATE;
    params.options = SMB_FILE_DIRECTORY_FILE;
    smb_open *dir = smb_create(tree, dirpath, &params, NULL, NULL, &err);
    if (!dir) {
        rc = failed("create directory", &err);
        goto out;
    }
    printf("1. created directory '%s'\n", dirpath);

    /* 2. Create the files in it: their paths are relative to the share's root too. */
    char paths[NFILES][4096];
    for (size_t i = 0; i < NFILES; i++) {
        int n = snprintf(paths[i], sizeof paths[i], "%s/%s", dirpath, FILES[i]);
        if (n < 0 || (size_t)n >= sizeof paths[i]) {
            fprintf(stderr, "%s: path too long\n", prog);
            rc = 1;
            goto out;
        }
        if ((rc = create_file(tree, paths[i])) != 0)
            goto out;
        printf("2. created file '%s'\n", paths[i]);
    }

    /* 3. Query the directory with a pattern (the server matches it). */
    printf("3. entries matching '%s':\n", PATTERN);
    if ((rc = list(dir, PATTERN, &count)) != 0)
        goto out;
    printf("   %d match(es)\n", count);

    if (keep) {
        printf("kept '%s' and its files (--keep)\n", dirpath);
        smb_close(dir, NULL, NULL);
    } else {
        /* 4. Remove the files, then check that nothing is left. */
        for (size_t i = 0; i < NFILES; i++) {
            if ((rc = remove_file(tree, paths[i])) != 0)
                goto out;
            printf("4. removed '%s'\n", paths[i]);
        }
        if ((rc = list(dir, "*", &count)) != 0)
            goto out;
        if (count != 0) {
            fprintf(stderr, "%s: '%s' still holds %d entries\n", prog, dirpath, count);
            rc = 1;
            goto out;
        }
        printf("   the directory is empty\n");

        /*
         * 5. Remove the directory: mark the handle from step 1
         * delete-on-close (the server refuses, STATUS_DIRECTORY_NOT_EMPTY,
         * when the directory is not empty) and close it.
         */
        if (smb_set_delete_on_close(dir, true, &err) != 0) {
            rc = failed("mark the directory delete-on-close", &err);
            goto out;
        }
        if (smb_close(dir, NULL, &err) != 0) {
            rc = failed("close the directory", &err);
            goto out;
        }
        smb_file_info info;
        if (smb_stat(tree, dirpath, &info, &err) != SMB_ERR_NOT_FOUND) {
            fprintf(stderr, "%s: '%s' is still there after its delete-on-close\n", prog, dirpath);
            rc = 1;
            goto out;
        }
        printf("5. removed directory '%s'\n", dirpath);
    }

    smb_tree_disconnect(tree, NULL);
    smb_session_logoff(sess, NULL);
out:
    /* Closing the connection closes whatever is still open on it, on an error too. */
    smb_conn_close(conn);
    sc_location_free(&loc);
    return rc;
}

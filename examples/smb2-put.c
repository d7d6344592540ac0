/*
 * smb2-put: upload stdin or a local file to an SMB share, like libsmb2's
 * smb2-put.
 *
 *   SMB_PASSWORD=... smb2-put [LOCAL-FILE] smb://[DOMAIN;]USER@HOST[:PORT]/SHARE/PATH
 *   producer | smb2-put smb://...         (no LOCAL-FILE, or "-": stdin)
 *
 * Streaming: the data goes through one buffer of CHUNK bytes, so stdin may
 * be a pipe of any length.
 *
 * Nothing half-written ever sits under the final name. The data is written
 * to a temporary file next to it, "PATH.smb2-put-PID"; only when every byte
 * is there (and the server says so) is it renamed over PATH, replacing what
 * was there, in one step. Meanwhile the temporary file is marked
 * delete-on-close, so that should this program die or its connection
 * break, the server deletes it on its own; the mark is taken off just
 * before the rename. On an error the temporary file is deleted and PATH is
 * left as it was.
 *
 * It shows the path-based client (smbcopy/client.h) for opening by UNC
 * path, and on that open smb.h's smb_pwrite (many WRITEs in flight),
 * smb_set_delete_on_close, smb_query_file_info and smb_set_rename.
 *
 * Credentials: see example_url.h. Exit status 0, or 1 with one line on
 * stderr saying what failed (2 for a usage error).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <smbcopy/client.h>
#include <smbcopy/smb.h>

#include "example_url.h"

static const char *prog = "smb2-put";

/* Bytes written by one smb_pwrite (the memory the program uses). */
#define CHUNK (4u << 20)
/* WRITE requests smb_pwrite keeps in flight (0 would take the library's default). */
#define WINDOW 8u

/* Fill buf with up to len bytes from fd (a pipe gives a little at a time); the count, or -1 on an error. */
static ssize_t read_full(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/*
 * Write everything from fd into the open file: 0, or 1 after printing why
 * not. *total receives the bytes written.
 */
static int upload(int fd, const char *input, smb_open *file, char *buf, uint64_t *total)
{
    smb_error err = {0};
    *total = 0;
    for (;;) {
        ssize_t n = read_full(fd, buf, CHUNK);
        if (n < 0) {
            fprintf(stderr, "%s: reading %s: %s\n", prog, input, strerror(errno));
            return 1;
        }
        if (n == 0)
            return 0;
        /* Every byte or an error: a WRITE the server takes in part is continued by the library. */
        if (smb_pwrite(file, buf, (size_t)n, *total, WINDOW, &err) != 0) {
            fprintf(stderr, "%s: writing at offset %" PRIu64 ": %s\n", prog, *total, err.message);
            return 1;
        }
        *total += (uint64_t)n;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s [LOCAL-FILE|-] smb://[user@]host[:port]/share/path   (password in SMB_PASSWORD)\n",
                prog);
        return 2;
    }
    const char *input = argc == 3 ? argv[1] : "-";
    const char *url = argv[argc - 1];

    sc_location loc;
    if (example_parse_url(prog, url, &loc) != 0)
        return 1;
    /* Everything below is released at "out", whatever happened. */
    int rc = 1;
    int fd = -1;
    char *buf = NULL;
    smb_client *client = NULL;
    smb_open *file = NULL;
    char *final_path = NULL;
    smb_error err = {0};

    if (!*loc.path || loc.trailing_sep) {
        fprintf(stderr, "%s: %s: the URL must name the file to write, not a share or directory\n", prog, url);
        goto out;
    }
    /* The local side before the network: a missing local file needs no connection to be reported. */
    fd = strcmp(input, "-") == 0 ? STDIN_FILENO : open(input, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, input, strerror(errno));
        goto out;
    }
    if (fd == STDIN_FILENO)
        input = "stdin";

    /* The temporary name: the final one with a suffix, in the same directory (a rename never moves data). */
    char tmp_path[4096], unc_tmp[4096], unc_final[4096];
    int n = snprintf(tmp_path, sizeof tmp_path, "%s.smb2-put-%ld", loc.path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp_path || !example_unc(&loc, tmp_path, unc_tmp, sizeof unc_tmp) ||
        !example_unc(&loc, loc.path, unc_final, sizeof unc_final)) {
        fprintf(stderr, "%s: %s: path too long\n", prog, url);
        goto out;
    }
    if (!(buf = malloc(CHUNK))) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto out;
    }

    smb_creds creds = example_creds(&loc);
    client = smb_client_new(loc.port, NULL, &creds, 0, &err);
    /*
     * Create the temporary file; SMB_O_EXCL: it must not exist yet. A
     * writable open also has DELETE access, which the delete-on-close mark
     * and the rename below need.
     */
    if (client)
        file = smb_client_open_file(client, unc_tmp, SMB_O_WRONLY | SMB_O_CREAT | SMB_O_EXCL, NULL, &err);
    if (!file) {
        /* Wrong password, missing share or directory, no right to write: the message says which. */
        fprintf(stderr, "%s: %s\n", prog, err.message);
        goto out;
    }

    /* From here on, a lost connection makes the server delete the temporary file. */
    if (smb_set_delete_on_close(file, true, &err) != 0) {
        fprintf(stderr, "%s: marking %s delete-on-close: %s\n", prog, unc_tmp, err.message);
        goto out;
    }

    uint64_t total = 0;
    if (upload(fd, input, file, buf, &total) != 0)
        goto out;

    /* Ask the server what it holds now: every byte, or we do not rename. */
    smb_file_info info;
    if (smb_query_file_info(file, &info, &err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err.message);
        goto out;
    }
    if (info.end_of_file != total) {
        fprintf(stderr, "%s: the server holds %" PRIu64 " bytes of the %" PRIu64 " written\n", prog,
                info.end_of_file, total);
        goto out;
    }

    /*
     * Complete: keep the file, and rename it into place, replacing what is
     * there. smb_set_rename takes a path inside the share of the open: the
     * client says where the final name is (after the open above, a DFS
     * link on the way is known to it, so this is the open's share).
     */
    smb_tree *tree = NULL;
    if (smb_set_delete_on_close(file, false, &err) != 0 ||
        smb_client_resolve(client, unc_final, &tree, &final_path, &err) != 0 ||
        smb_set_rename(file, final_path, true, &err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err.message);
        goto out;
    }
    rc = 0;

out:
    /* On a failure the temporary file goes (the mark may have been taken off). */
    if (file && rc != 0)
        smb_set_delete_on_close(file, true, NULL);
    if (file && smb_close(file, NULL, &err) != 0 && rc == 0) {
        fprintf(stderr, "%s: %s\n", prog, err.message);
        rc = 1;
    }
    /* The opens first, then the client (every connection it made). */
    smb_client_free(client);
    free(final_path);
    free(buf);
    if (fd > STDIN_FILENO)
        close(fd);
    sc_location_free(&loc);
    return rc;
}

/*
 * smb2-cat: write a file of an SMB share to stdout, like libsmb2's smb2-cat.
 *
 *   SMB_PASSWORD=... smb2-cat smb://[DOMAIN;]USER@HOST[:PORT]/SHARE/PATH > copy
 *
 * Streaming: the file goes through one buffer of CHUNK bytes, whatever its
 * size. Binary safe: the bytes are written as they are, NULs included.
 *
 * It shows the path-based client (smbcopy/client.h) opening a file by its
 * UNC path (connecting, logging on and following DFS on the way), and
 * smb.h's smb_pread, which splits a read into requests of the size the
 * server allows and keeps several of them in flight at once, so a large
 * file arrives at the speed of the network rather than one round trip
 * per request.
 *
 * Credentials: see example_url.h. Exit status 0, or 1 with one line on
 * stderr saying what failed (2 for a usage error).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <smbcopy/client.h>
#include <smbcopy/smb.h>

#include "example_url.h"

static const char *prog = "smb2-cat";

/* Bytes asked of smb_pread at a time (the memory the program uses). */
#define CHUNK (4u << 20)
/* READ requests smb_pread keeps in flight (0 would take the library's default). */
#define WINDOW 8u

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s smb://[user@]host[:port]/share/path   (password in SMB_PASSWORD)\n", prog);
        return 2;
    }
    sc_location loc;
    if (example_parse_url(prog, argv[1], &loc) != 0)
        return 1;
    char unc[4096];
    char *buf = malloc(CHUNK);
    if (!example_unc(&loc, loc.path, unc, sizeof unc) || !buf) {
        fprintf(stderr, "%s: %s\n", prog, buf ? "path too long" : "out of memory");
        free(buf);
        sc_location_free(&loc);
        return 1;
    }

    smb_error err = {0};
    smb_creds creds = example_creds(&loc);
    smb_client *client = smb_client_new(loc.port, NULL, &creds, 0, &err);
    /* Open for reading; info receives the file's metadata (size, times) from the CREATE. */
    smb_file_info info;
    smb_open *file = client ? smb_client_open_file(client, unc, SMB_O_RDONLY, &info, &err) : NULL;
    int rc = file ? 0 : 1;
    if (!file)
        fprintf(stderr, "%s: %s\n", prog, err.message);

    /* Read CHUNK bytes at a time until a read brings nothing: the end of the file. */
    uint64_t offset = 0;
    while (file) {
        size_t n = 0;
        if (smb_pread(file, buf, CHUNK, offset, WINDOW, &n, &err) != 0) {
            fprintf(stderr, "%s: reading %s at offset %" PRIu64 ": %s\n", prog, unc, offset, err.message);
            rc = 1;
            break;
        }
        if (n == 0)
            break;
        if (fwrite(buf, 1, n, stdout) != n) {
            perror(prog);
            rc = 1;
            break;
        }
        offset += n;
    }
    if (file && rc == 0 && offset != info.end_of_file)
        /* Not an error of the program: someone changed the file while we read it. */
        fprintf(stderr, "%s: note: %s changed size while being read (%" PRIu64 " bytes at open, %" PRIu64 " read)\n",
                prog, unc, info.end_of_file, offset);

    smb_close(file, NULL, NULL); /* NULL is a no-op */
    smb_client_free(client);
    sc_location_free(&loc);
    free(buf);
    if (fflush(stdout) != 0) {
        perror(prog);
        rc = 1;
    }
    return rc;
}

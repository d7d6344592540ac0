/*
 * smbcopy command line. This release carries the SMB2/3 client library;
 * the copy engine behind `smbcopy SRC DEST` comes next.
 */
#include <stdio.h>
#include <string.h>

#include <smbcopy/smb.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: smbcopy [--version] [--help]\n"
               "The bulk copy command (smbcopy SRC DEST) is not part of this release;\n"
               "the SMB2/3 client library and its quickstart example are.\n");
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("smbcopy 0.1.0\n");
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}

/*
 * The smbcopy library's quickstart: connect, authenticate, connect a share,
 * list a directory, clean up. The C counterpart of smbprotocol's example.
 *
 *   quickstart HOST[:PORT] SHARE [DIR]
 *   quickstart --version     the library's version and the headers'
 *
 * The user comes from SMB_USERNAME (and SMB_DOMAIN), the password from
 * SMB_PASSWORD; without a user the session is anonymous.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smbcopy/smb.h>

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("smbcopy library %s (headers %s)\n", smb_library_version(), SMBCOPY_VERSION_STRING);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: %s HOST[:PORT] SHARE [DIR] | --version\n", argv[0]);
        return 2;
    }
    char host[256];
    snprintf(host, sizeof host, "%s", argv[1]);
    uint16_t port = 445;
    char *colon = strrchr(host, ':');
    if (colon) {
        *colon = '\0';
        char *end = NULL;
        long v = strtol(colon + 1, &end, 10);
        if (!*(colon + 1) || *end || v < 1 || v > 65535) {
            fprintf(stderr, "quickstart: bad port '%s'\n", colon + 1);
            return 2;
        }
        port = (uint16_t)v;
    }
    const char *dir = argc > 3 ? argv[3] : "";
    smb_error err = {0};

    smb_conn_opts opts;
    smb_conn_opts_init(&opts);
    smb_conn *conn = smb_conn_connect(host, port, &opts, &err);
    if (!conn) {
        fprintf(stderr, "connect: %s\n", err.message);
        return 4;
    }
    smb_creds creds = {
        .username = getenv("SMB_USERNAME"),
        .password = getenv("SMB_PASSWORD"),
        .domain = getenv("SMB_DOMAIN"),
    };
    smb_session *sess = smb_session_setup(conn, &creds, &err);
    if (!sess) {
        fprintf(stderr, "logon: %s\n", err.message);
        smb_conn_close(conn);
        return 3;
    }
    smb_tree *tree = smb_tree_connect(sess, argv[2], &err);
    if (!tree) {
        fprintf(stderr, "share: %s\n", err.message);
        smb_conn_close(conn);
        return 4;
    }
    smb_conn_info ci;
    smb_conn_get_info(conn, &ci);
    printf("connected to %s with SMB %s\n", host, smb_dialect_name(ci.dialect));

    smb_open *d = smb_open_dir(tree, dir, &err);
    smb_dir *list = d ? smb_dir_start(d, "*", &err) : NULL;
    int rc = list ? 0 : 1;
    smb_dirent ent;
    int more;
    while (list && (more = smb_dir_next(list, &ent, &err)) != 0) {
        if (more < 0) {
            fprintf(stderr, "list: %s\n", err.message);
            rc = 1;
            if (err.code != SMB_ERR_BAD_NAME)
                break;
            continue;
        }
        struct timespec mt = smb_filetime_to_timespec(ent.info.last_write_time);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime(&mt.tv_sec));
        printf("%s %12" PRIu64 "  %s  %s\n", smb_file_info_is_dir(&ent.info) ? "d" : "-", ent.info.end_of_file,
               when, ent.name);
    }
    if (!list)
        fprintf(stderr, "open '%s': %s\n", dir, err.message);
    smb_dir_finish(list);
    smb_close(d, NULL, NULL);

    /* Closing the connection would close the tree and session too; done
     * explicitly here to show each step. */
    smb_tree_disconnect(tree, NULL);
    smb_session_logoff(sess, NULL);
    smb_conn_close(conn);
    return rc;
}

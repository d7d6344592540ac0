/*
 * High-level file and directory management with the smbcopy library: the
 * C counterpart of smbprotocol's smbclient example (makedirs, write a
 * file, list with walk, copy, stat, read it back, rmtree).
 *
 *   highlevel HOST[:PORT] SHARE [DIR] [--keep]
 *
 * Works under DIR of the share ("highlevel-example" by default), which it
 * removes at the end unless --keep is given. The user comes from
 * SMB_USERNAME (and SMB_DOMAIN), the password from SMB_PASSWORD; without a
 * user the session is anonymous.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smbcopy/helpers.h>
#include <smbcopy/smb.h>

static const char GREETING[] = "Hello from the smbcopy high-level example.\n";
static const char MORE[] = "A line appended at the end.\n";

/* Print what failed and say so to the caller. */
static int failed(const char *what, const smb_error *err)
{
    fprintf(stderr, "%s: %s\n", what, err->message);
    return 1;
}

static int run(smb_tree *tree, const char *dir, int keep)
{
    smb_error err = {0};
    char sub[512], file[512], copy[512];
    snprintf(sub, sizeof sub, "%s/folder/sub", dir);
    snprintf(file, sizeof file, "%s/folder/file.txt", dir);
    snprintf(copy, sizeof copy, "%s/folder/sub/copy.txt", dir);

    /* os.makedirs(..., exist_ok=True) */
    if (smb_makedirs(tree, sub, true, &err) != 0)
        return failed("makedirs", &err);
    printf("made %s\n", sub);

    /* with open_file(..., mode="w") as f: f.write(...) */
    smb_open *op = smb_open_file(tree, file, SMB_O_WRONLY | SMB_O_CREAT | SMB_O_TRUNC, NULL, &err);
    if (!op)
        return failed("open for writing", &err);
    if (smb_pwrite(op, GREETING, strlen(GREETING), 0, 0, &err) != 0) {
        smb_close(op, NULL, NULL);
        return failed("write", &err);
    }
    if (smb_close(op, NULL, &err) != 0)
        return failed("close", &err);
    printf("wrote %s (%zu bytes)\n", file, strlen(GREETING));

    /* with open_file(..., mode="a") as f: f.write(...) */
    op = smb_open_append(tree, file, false, &err);
    if (!op)
        return failed("open for appending", &err);
    if (smb_append(op, MORE, strlen(MORE), &err) != 0) {
        smb_close(op, NULL, NULL);
        return failed("append", &err);
    }
    smb_close(op, NULL, NULL);
    printf("appended %zu bytes to %s\n", strlen(MORE), file);

    /* shutil.copyfile: the server copies when it can. */
    if (smb_copyfile(tree, file, tree, copy, 0, &err) != 0)
        return failed("copyfile", &err);
    printf("copied %s to %s\n", file, copy);

    /* for dirpath, dirnames, filenames in smbclient.walk(...) */
    smb_walk *w = smb_walk_open(tree, dir, &err);
    if (!w)
        return failed("walk", &err);
    printf("walk %s:\n", dir);
    smb_walk_entry e;
    int more;
    int rc = 0;
    while ((more = smb_walk_next(w, &e, &err)) != 0) {
        if (more < 0) {
            rc = failed("walk", &err);
            continue;
        }
        if (e.is_dir)
            printf("  d %*s %s/\n", 10, "", e.path);
        else
            printf("  - %10" PRIu64 " %s\n", e.info.end_of_file, e.path);
    }
    smb_walk_close(w);

    /* smbclient.stat */
    smb_file_info fi;
    if (smb_stat(tree, copy, &fi, &err) != 0)
        return failed("stat", &err);
    struct timespec mt = smb_filetime_to_timespec(fi.last_write_time);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime(&mt.tv_sec));
    printf("stat %s: %" PRIu64 " bytes, modified %s UTC\n", copy, fi.end_of_file, when);

    /* with open_file(...) as f: f.read() */
    char buf[256];
    size_t n = 0;
    if (smb_read_file(tree, copy, buf, sizeof buf - 1, &n, NULL, &err) != 0)
        return failed("read", &err);
    buf[n] = '\0';
    printf("read back %zu bytes:\n%s", n, buf);

    /* The share's free space (os.statvfs). */
    smb_statvfs_info v;
    if (smb_statvfs(tree, &v, &err) == 0)
        printf("share: %" PRIu64 " of %" PRIu64 " bytes free\n", v.caller_available_bytes, v.total_bytes);
    else
        rc = failed("statvfs", &err);

    /* shutil.rmtree */
    if (!keep) {
        if (smb_rmtree(tree, dir, &err) != 0)
            return failed("rmtree", &err);
        printf("removed %s\n", dir);
    }
    return rc;
}

int main(int argc, char **argv)
{
    int keep = 0, nargs = 0;
    const char *args[3] = {NULL, NULL, "highlevel-example"};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--keep") == 0)
            keep = 1;
        else if (nargs < 3)
            args[nargs++] = argv[i];
        else
            nargs = 4;
    }
    if (nargs < 2 || nargs > 3) {
        fprintf(stderr, "usage: %s HOST[:PORT] SHARE [DIR] [--keep]\n", argv[0]);
        return 2;
    }
    char host[256];
    snprintf(host, sizeof host, "%s", args[0]);
    uint16_t port = 445;
    char *colon = strrchr(host, ':');
    if (colon) {
        *colon = '\0';
        char *end = NULL;
        long p = strtol(colon + 1, &end, 10);
        if (!*(colon + 1) || *end || p < 1 || p > 65535) {
            fprintf(stderr, "highlevel: bad port '%s'\n", colon + 1);
            return 2;
        }
        port = (uint16_t)p;
    }
    smb_error err = {0};
    smb_conn *conn = smb_conn_connect(host, port, NULL, &err);
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
    smb_tree *tree = sess ? smb_tree_connect(sess, args[1], &err) : NULL;
    if (!tree) {
        fprintf(stderr, "%s: %s\n", sess ? "share" : "logon", err.message);
        smb_conn_close(conn);
        return sess ? 4 : 3;
    }
    smb_conn_info ci;
    smb_conn_get_info(conn, &ci);
    printf("connected to %s with SMB %s\n", host, smb_dialect_name(ci.dialect));
    int rc = run(tree, args[2], keep);
    smb_conn_close(conn); /* closes the tree and the session too */
    return rc;
}

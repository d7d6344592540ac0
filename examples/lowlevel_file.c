/*
 * lowlevel_file: file management with smb.h's low-level objects, step by
 * step; the C counterpart of the Python smbprotocol library's "low-level
 * file management" example.
 *
 *   SMB_PASSWORD=... lowlevel_file [--keep] smb://[DOMAIN;]USER@HOST[:PORT]/SHARE/DIR/FILE
 *
 * It connects (smb_conn), logs on (smb_session) and connects the share
 * (smb_tree) itself, then, on FILE:
 *
 *   1. CREATE with the disposition FILE_OVERWRITE_IF: a new file, or an
 *      existing one emptied (the output says which);
 *   2. WRITE two lines of text, and READ them back;
 *   3. QUERY_INFO: the library's smb_query_file_info, and a raw
 *      FileStandardInformation with smb_query_info;
 *   4. SET_INFO: a raw FileEndOfFileInformation with smb_set_info cuts the
 *      file after its first line; smb_set_basic_info sets its modification
 *      time to 2000-01-01 00:00:00 UTC; a second query shows both;
 *   5. CLOSE;
 *   6. delete-on-close: a second CREATE with the option FILE_DELETE_ON_CLOSE
 *      and the DELETE access, then CLOSE: the server deletes the file, and
 *      smb_stat no longer finds it. --keep leaves this step out, so the
 *      file stays (holding the first line, dated 2000-01-01).
 *
 * Credentials: see example_url.h. Exit status 0, or 1 with one line on
 * stderr saying what failed (2 for a usage error).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <smbcopy/smb.h>

#include "example_url.h"

static const char *prog = "lowlevel_file";

static const char FIRST_LINE[] = "Hello from smbcopy's lowlevel_file example.\n";
static const char SECOND_LINE[] = "This second line is cut off by a SET_INFO.\n";

/* Print "lowlevel_file: WHAT: the library's message" and return 1, the exit status. */
static int failed(const char *what, const smb_error *err)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, err->message);
    return 1;
}

/* A FILETIME as "YYYY-MM-DD HH:MM:SS" (UTC) in buf. */
static const char *show_time(uint64_t filetime, char *buf, size_t len)
{
    struct timespec ts = smb_filetime_to_timespec(filetime);
    const struct tm *tm = gmtime(&ts.tv_sec);
    if (!tm || strftime(buf, len, "%Y-%m-%d %H:%M:%S", tm) == 0)
        snprintf(buf, len, "?");
    return buf;
}

/* Little-endian integers of the raw info structures (MS-FSCC). */
static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Print what smb_query_file_info says of the open file. */
static int show_info(smb_open *file, const char *when)
{
    smb_error err = {0};
    smb_file_info info;
    if (smb_query_file_info(file, &info, &err) != 0)
        return failed("query info", &err);
    char mtime[32];
    printf("%s: %" PRIu64 " bytes, modified %s UTC, attributes 0x%" PRIx32 "\n", when, info.end_of_file,
           show_time(info.last_write_time, mtime, sizeof mtime), info.attributes);
    return 0;
}

int main(int argc, char **argv)
{
    bool keep = argc == 3 && strcmp(argv[1], "--keep") == 0;
    if (argc != 2 + keep) {
        fprintf(stderr, "usage: %s [--keep] smb://[user@]host[:port]/share/path/file   (password in SMB_PASSWORD)\n",
                prog);
        return 2;
    }
    sc_location loc;
    if (example_parse_url(prog, argv[argc - 1], &loc) != 0)
        return 1;
    if (!*loc.path) {
        fprintf(stderr, "%s: %s: the URL must name a file in the share\n", prog, argv[argc - 1]);
        sc_location_free(&loc);
        return 1;
    }
    const char *path = loc.path; /* the file, relative to the share's root */
    smb_error err = {0};
    int rc = 0;

    /* The connection: TCP, then NEGOTIATE picks the dialect (3.1.1 where the server has it). */
    smb_conn *conn = smb_conn_connect(loc.host, loc.port, NULL, &err);
    if (!conn) {
        rc = failed("connect", &err);
        goto out;
    }
    smb_conn_info ci;
    smb_conn_get_info(conn, &ci);
    printf("connected to %s port %u with SMB %s\n", loc.host, (unsigned)loc.port, smb_dialect_name(ci.dialect));

    /* The session: SESSION_SETUP authenticates the user (Kerberos or NTLMv2 through SPNEGO). */
    smb_creds creds = example_creds(&loc);
    smb_session *sess = smb_session_setup(conn, &creds, &err);
    if (!sess) {
        rc = failed("logon", &err);
        goto out;
    }

    /* The tree: TREE_CONNECT to the share. */
    smb_tree *tree = smb_tree_connect(sess, loc.share, &err);
    if (!tree) {
        rc = failed("share", &err);
        goto out;
    }
    printf("connected share %s\n", loc.share);

    /*
     * 1. CREATE. The parameters are those of the request (MS-SMB2 2.2.13):
     * what we want to do with the file (desired access), what others may do
     * meanwhile (share access), what to do when it exists or not
     * (disposition), and that it must be a file, not a directory.
     */
    smb_create_params params;
    smb_create_params_init(&params);
    params.desired_access = SMB_FILE_READ_DATA | SMB_FILE_WRITE_DATA | SMB_FILE_READ_ATTRIBUTES |
                            SMB_FILE_WRITE_ATTRIBUTES;
    params.share_access = SMB_SHARE_READ;
    params.disposition = SMB_FILE_OVERWRITE_IF;
    params.options = SMB_FILE_NON_DIRECTORY_FILE;
    uint32_t action = 0;
    smb_open *file = smb_create(tree, path, &params, NULL, &action, &err);
    if (!file) {
        rc = failed("create", &err);
        goto out;
    }
    printf("1. create '%s': %s\n", path,
           action == SMB_CREATE_ACTION_CREATED       ? "created"
           : action == SMB_CREATE_ACTION_OVERWRITTEN ? "existed, overwritten"
                                                     : "opened");

    /* 2. WRITE both lines at offset 0, then READ them back. */
    char text[sizeof FIRST_LINE + sizeof SECOND_LINE];
    snprintf(text, sizeof text, "%s%s", FIRST_LINE, SECOND_LINE);
    size_t len = strlen(text);
    if (smb_pwrite(file, text, len, 0, 0, &err) != 0) {
        rc = failed("write", &err);
        goto out;
    }
    char back[sizeof text];
    size_t got = 0;
    if (smb_pread(file, back, sizeof back, 0, 0, &got, &err) != 0) {
        rc = failed("read", &err);
        goto out;
    }
    if (got != len || memcmp(back, text, len) != 0) {
        fprintf(stderr, "%s: read back %zu bytes, not the %zu written\n", prog, got, len);
        rc = 1;
        goto out;
    }
    printf("2. wrote %zu bytes, read the same %zu back\n", len, got);

    /* 3. QUERY_INFO: the metadata the library decodes for us ... */
    if ((rc = show_info(file, "3. query info")) != 0)
        goto out;
    /* ... and a raw query: FileStandardInformation (MS-FSCC 2.4.41), 24 bytes. */
    uint8_t raw[64];
    size_t raw_len = 0;
    if (smb_query_info(file, SMB_INFO_FILE, SMB_FILE_STANDARD_INFORMATION, 0, raw, sizeof raw, &raw_len, &err) != 0) {
        rc = failed("query FileStandardInformation", &err);
        goto out;
    }
    if (raw_len < 24) {
        fprintf(stderr, "%s: FileStandardInformation of %zu bytes, expected 24\n", prog, raw_len);
        rc = 1;
        goto out;
    }
    printf("   FileStandardInformation: end of file %" PRIu64 ", allocated %" PRIu64 ", %" PRIu32
           " link(s), delete pending %u, directory %u\n",
           le64(raw + 8), le64(raw), le32(raw + 16), raw[20], raw[21]);

    /*
     * 4. SET_INFO. First a raw one: FileEndOfFileInformation (MS-FSCC
     * 2.4.13) is the new size as 8 little-endian bytes; the file is cut
     * after the first line.
     */
    uint64_t new_size = strlen(FIRST_LINE);
    uint8_t eof[8];
    for (int i = 0; i < 8; i++)
        eof[i] = (uint8_t)(new_size >> (8 * i));
    if (smb_set_info(file, SMB_INFO_FILE, SMB_FILE_END_OF_FILE_INFORMATION, 0, eof, sizeof eof, &err) != 0) {
        rc = failed("set FileEndOfFileInformation", &err);
        goto out;
    }
    /* Then the times, through the library (FileBasicInformation; a 0 leaves a time as it is). */
    smb_basic_info bi = {.last_write_time = smb_filetime_from_unix(946684800, 0)}; /* 2000-01-01 00:00:00 UTC */
    if (smb_set_basic_info(file, &bi, &err) != 0) {
        rc = failed("set FileBasicInformation", &err);
        goto out;
    }
    if ((rc = show_info(file, "4. after set info")) != 0)
        goto out;

    /* 5. CLOSE. */
    if (smb_close(file, NULL, &err) != 0) {
        rc = failed("close", &err);
        goto out;
    }
    printf("5. closed\n");

    if (keep) {
        printf("6. kept '%s' (--keep)\n", path);
    } else {
        /*
         * 6. Delete-on-close: open the file again asking for DELETE, with
         * the create option FILE_DELETE_ON_CLOSE. The file goes when the
         * last handle on it is closed: ours, now.
         */
        smb_create_params_init(&params);
        params.desired_access = SMB_DELETE;
        params.disposition = SMB_FILE_OPEN;
        params.options = SMB_FILE_NON_DIRECTORY_FILE | SMB_FILE_DELETE_ON_CLOSE;
        file = smb_create(tree, path, &params, NULL, NULL, &err);
        if (!file) {
            rc = failed("open to delete", &err);
            goto out;
        }
        if (smb_close(file, NULL, &err) != 0) {
            rc = failed("close to delete", &err);
            goto out;
        }
        smb_file_info info;
        if (smb_stat(tree, path, &info, &err) != SMB_ERR_NOT_FOUND) {
            fprintf(stderr, "%s: '%s' is still there after its delete-on-close\n", prog, path);
            rc = 1;
            goto out;
        }
        printf("6. deleted on close: '%s' is gone\n", path);
    }

    /* The end, step by step: TREE_DISCONNECT, LOGOFF, then the socket. */
    smb_tree_disconnect(tree, NULL);
    smb_session_logoff(sess, NULL);
out:
    /* Closing the connection closes (and frees) whatever is still open on it, on an error too. */
    smb_conn_close(conn);
    sc_location_free(&loc);
    return rc;
}

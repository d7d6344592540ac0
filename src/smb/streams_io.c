/* The named streams of an open: QUERY_INFO with SMB2_0_INFO_FILE and
 * FileStreamInformation (MS-SMB2 2.2.37, MS-FSCC 2.4.44), decoded by
 * smb2_streams_decode. */
#include <stdlib.h>

#include <smbcopy/ntstatus.h>

#include "error.h"
#include "objects.h"
#include "open.h"

/* One round trip for almost any file: about 500 streams with 50-character
 * names, and a 64 KiB answer costs one credit (MS-SMB2 3.1.5.2). */
#define STREAMS_FIRST_BUFFER ((size_t)64 * 1024)

/* A server with too little room names the status of one or the other
 * (MS-SMB2 3.3.4.4; Windows answers BUFFER_OVERFLOW with the entries that
 * fit, Samba BUFFER_TOO_SMALL). */
static bool too_small(uint32_t status)
{
    return status == SMB_STATUS_BUFFER_OVERFLOW || status == SMB_STATUS_BUFFER_TOO_SMALL;
}

/* A file system without streams: Samba without a streams module answers
 * INVALID_PARAMETER; others NOT_SUPPORTED, NOT_IMPLEMENTED,
 * INVALID_INFO_CLASS or INVALID_DEVICE_REQUEST (all SMB_ERR_UNSUPPORTED). */
static bool no_streams_here(const smb_error *e)
{
    return e->code == SMB_ERR_UNSUPPORTED || e->ntstatus == SMB_STATUS_INVALID_PARAMETER;
}

int smb_get_streams(smb_open *op, smb_stream_info **streams, size_t *n, smb_error *err)
{
    if (!streams || !n)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "smb_get_streams needs streams and n");
    *streams = NULL;
    *n = 0;
    if (!op)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "smb_get_streams needs an open");
    smb_conn *c = op->tree->sess->conn;
    /* The retry asks for all the server takes, as far as the credits held pay for it. */
    uint32_t largest = smb_conn_request_cap(c, c->neg.max_transact);
    size_t cap = STREAMS_FIRST_BUFFER;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t *buf = malloc(cap);
        if (!buf)
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        size_t got = 0;
        smb_error e = {0};
        int rc = smb_query_info(op, SMB_INFO_FILE, SMB_FILE_STREAM_INFORMATION, 0, buf, cap, &got, &e);
        if (rc == 0) {
            rc = smb2_streams_decode(buf, got, streams, n);
            free(buf);
            if (rc == SMB_ERR_NO_MEMORY)
                return smb_err_set(err, rc, 0, "out of memory");
            if (rc != 0)
                return smb_err_set(err, rc, 0, "malformed stream list (FileStreamInformation)");
            return 0;
        }
        free(buf);
        if (attempt == 0 && too_small(e.ntstatus) && largest > cap) {
            cap = largest;
            continue;
        }
        if (too_small(e.ntstatus))
            return smb_err_set(err, SMB_ERR_SERVER, e.ntstatus,
                               "the stream list does not fit in the largest answer the server gives (%zu bytes)",
                               cap);
        if (no_streams_here(&e)) {
            char name[16];
            return smb_err_set(err, SMB_ERR_UNSUPPORTED, e.ntstatus,
                               "list streams: the server's file system has no streams here (%s)",
                               smb_ntstatus_name(e.ntstatus, name));
        }
        if (err)
            *err = e;
        return rc;
    }
    return smb_err_set(err, SMB_ERR_INTERNAL, 0, "stream list: no attempt left");
}

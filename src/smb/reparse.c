/*
 * Symbolic links on a share as reparse points: read with
 * FSCTL_GET_REPARSE_POINT, made with FSCTL_SET_REPARSE_POINT (MS-FSCC
 * 2.3.33, 2.3.65), on the link itself, opened with FILE_OPEN_REPARSE_POINT
 * so that the server does not follow it. The data: pdu_reparse.c.
 */
#include <stdlib.h>
#include <string.h>

#include <smbcopy/ntstatus.h>

#include "error.h"
#include "objects.h"
#include "open.h"
#include "pdu.h"

/* Refusals that say the server keeps no reparse points (or not this one), as opposed to a failure. */
static int no_links_here(smb_error *err, const char *what, const char *path)
{
    char name[16];
    if (err->ntstatus == SMB_STATUS_NOT_A_REPARSE_POINT || err->ntstatus == SMB_STATUS_NOT_SUPPORTED ||
        err->ntstatus == SMB_STATUS_INVALID_DEVICE_REQUEST || err->ntstatus == SMB_STATUS_NOT_IMPLEMENTED)
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, err->ntstatus, "%s '%s': the server %s (%s)", what, path,
                           err->ntstatus != SMB_STATUS_NOT_A_REPARSE_POINT ? "does not support reparse points"
                           : strcmp(what, "read link") == 0              ? "does not give it as a reparse point"
                                                                         : "does not keep reparse points here",
                           smb_ntstatus_name(err->ntstatus, name));
    return err->code;
}

int smb_readlink(smb_tree *t, const char *path, char **target, bool *relative, smb_error *err)
{
    *target = NULL;
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    p.options = SMB_FILE_OPEN_REPARSE_POINT;
    smb_open *op = smb_create(t, path, &p, NULL, NULL, err);
    if (!op)
        return err->code ? err->code : SMB_ERR_NO_MEMORY;
    uint8_t *buf = malloc(SMB2_REPARSE_MAX);
    size_t n = 0;
    int rc = buf ? smb_fsctl(NULL, op, SMB_FSCTL_GET_REPARSE_POINT, NULL, 0, buf, SMB2_REPARSE_MAX, &n, err)
                 : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb_close(op, NULL, NULL);
    if (rc != 0) {
        free(buf);
        return no_links_here(err, "read link", path);
    }
    smb2_symlink s;
    uint32_t tag = 0;
    rc = smb2_symlink_decode(buf, n, &tag, &s);
    free(buf);
    if (rc == SMB_ERR_UNSUPPORTED)
        return smb_err_set(err, rc, 0, "read link '%s': a reparse point of tag 0x%08X, not a symbolic link", path,
                           (unsigned)tag);
    if (rc != 0)
        return smb_err_set(err, rc, 0, "read link '%s': %s", path,
                           rc == SMB_ERR_NO_MEMORY ? "out of memory" : "malformed reparse data");
    *target = s.substitute;
    *relative = s.relative;
    free(s.print);
    return 0;
}

int smb_symlink(smb_tree *t, const char *path, const char *target, bool relative, bool is_dir, smb_error *err)
{
    smb_wr w;
    smb_wr_init_grow(&w, 256);
    if (!smb2_symlink_encode(&w, target, target, relative)) {
        smb_wr_free(&w);
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "make link '%s': a target that cannot be sent", path);
    }
    smb_create_params p;
    smb_create_params_init(&p);
    /* FILE_WRITE_ATTRIBUTES for the FSCTL (MS-FSA 2.1.5.10.37), DELETE to take the file back on refusal. */
    p.desired_access = SMB_FILE_WRITE_ATTRIBUTES | SMB_FILE_READ_ATTRIBUTES | SMB_DELETE | SMB_SYNCHRONIZE;
    p.disposition = SMB_FILE_CREATE;
    p.options = SMB_FILE_OPEN_REPARSE_POINT | (is_dir ? SMB_FILE_DIRECTORY_FILE : SMB_FILE_NON_DIRECTORY_FILE);
    p.file_attributes = is_dir ? SMB_ATTR_DIRECTORY : 0;
    smb_open *op = smb_create(t, path, &p, NULL, NULL, err);
    if (!op) {
        smb_wr_free(&w);
        return err->code ? err->code : SMB_ERR_NO_MEMORY;
    }
    int rc = smb_fsctl(NULL, op, SMB_FSCTL_SET_REPARSE_POINT, w.buf, w.len, NULL, 0, NULL, err);
    smb_wr_free(&w);
    if (rc != 0) {
        smb_error e2 = {0};
        smb_set_delete_on_close(op, true, &e2);
        smb_close(op, NULL, NULL);
        return no_links_here(err, "make link", path);
    }
    return smb_close(op, NULL, err);
}

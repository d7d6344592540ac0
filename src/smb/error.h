/* NTSTATUS helpers of the SMB library: errors from a server's status codes. */
#ifndef SMBCOPY_ERROR_H
#define SMBCOPY_ERROR_H

#include <smbcopy/smb.h>

#include "common/error.h"

/**
 * Fill err for an NTSTATUS the server returned while doing `what` (e.g.
 * "open 'dir/file'"): category from smb_ntstatus_to_code(), message
 * "<what>: <readable text> (STATUS_NAME)". Return the category code.
 */
int smb_err_status(smb_error *err, uint32_t ntstatus, const char *what);

/** A readable sentence for an NTSTATUS, or NULL when there is none. */
const char *smb_ntstatus_text(uint32_t status);

#endif

/* Internal error reporting helpers. */
#ifndef SMBCOPY_ERROR_H
#define SMBCOPY_ERROR_H

#include <smbcopy/smb.h>

/**
 * Fill err (when non-NULL) with code, status and a printf-style message;
 * return code so callers can write `return smb_err_set(...)`.
 */
int smb_err_set(smb_error *err, int code, uint32_t ntstatus, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/**
 * Fill err for an NTSTATUS the server returned while doing `what` (e.g.
 * "open 'dir/file'"): category from smb_ntstatus_to_code(), message
 * "<what>: <readable text> (STATUS_NAME)". Return the category code.
 */
int smb_err_status(smb_error *err, uint32_t ntstatus, const char *what);

/** A readable sentence for an NTSTATUS, or NULL when there is none. */
const char *smb_ntstatus_text(uint32_t status);

#endif

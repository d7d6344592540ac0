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

#ifdef __clang_analyzer__
/*
 * For the static analyzer only (clang-tidy defines __clang_analyzer__): it
 * does not look into other files, so without this it takes the result of
 * `rc = smb_err_set(...)` for any value, 0 included, and reports paths where
 * a failure carries on as a success. This says what the function does:
 * its value is code.
 */
#define smb_err_set(err, code, ...)                                                                                    \
    __extension__({                                                                                                    \
        const int smb_err_code_ = (code);                                                                              \
        smb_err_set((err), smb_err_code_, __VA_ARGS__);                                                                \
        smb_err_code_;                                                                                                 \
    })
#endif

/**
 * Fill err for an NTSTATUS the server returned while doing `what` (e.g.
 * "open 'dir/file'"): category from smb_ntstatus_to_code(), message
 * "<what>: <readable text> (STATUS_NAME)". Return the category code.
 */
int smb_err_status(smb_error *err, uint32_t ntstatus, const char *what);

/** A readable sentence for an NTSTATUS, or NULL when there is none. */
const char *smb_ntstatus_text(uint32_t status);

#endif

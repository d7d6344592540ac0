/*
 * Filling a caller's smb_error: the one way every layer (the SMB library,
 * the engine) reports a failure with a message.
 */
#ifndef SMBCOPY_COMMON_ERROR_H
#define SMBCOPY_COMMON_ERROR_H

#include <smbcopy/smb.h>

#include <stdarg.h>

/**
 * Fill err (when non-NULL) with code, status and a printf-style message;
 * return code so callers can write `return smb_err_set(...)`.
 */
int smb_err_set(smb_error *err, int code, uint32_t ntstatus, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** smb_err_set() with the message's arguments as a va_list (for callers that
 * take a format of their own); ap is consumed. */
int smb_err_vset(smb_error *err, int code, uint32_t ntstatus, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

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

#endif

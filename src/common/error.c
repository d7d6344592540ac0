#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>

#undef smb_err_set /* the analyzer's model in error.h; this is the function */

int smb_err_vset(smb_error *err, int code, uint32_t ntstatus, const char *fmt, va_list ap)
{
    if (err) {
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        err->code = code;
        err->ntstatus = ntstatus;
    }
    return code;
}

int smb_err_set(smb_error *err, int code, uint32_t ntstatus, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    smb_err_vset(err, code, ntstatus, fmt, ap);
    va_end(ap);
    return code;
}

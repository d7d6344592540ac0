/* The command's parsers report a failure as a message in the caller's buffer. */
#ifndef SMBCOPY_CLI_ERRBUF_H
#define SMBCOPY_CLI_ERRBUF_H

#include <stddef.h>

/**
 * Write the printf-style message into errbuf (errlen bytes, truncated, when
 * errbuf is non-NULL and errlen > 0) and return -1, the parsers' failure
 * value: `return errbuf_fail(errbuf, errlen, "bad --jobs '%s'", arg);`.
 */
int errbuf_fail(char *errbuf, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif

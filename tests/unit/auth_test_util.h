/* Helpers shared by the authentication unit tests (test_ntlm.c,
 * test_spnego.c). Everything static. */
#ifndef SMBCOPY_AUTH_TEST_UTIL_H
#define SMBCOPY_AUTH_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* ASCII s to UTF-16LE in out (room for twice strlen(s) bytes); returns the bytes written. */
static inline size_t u16(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; *s; s++) {
        out[n++] = (uint8_t)*s;
        out[n++] = 0;
    }
    return n;
}

#endif

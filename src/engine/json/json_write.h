/* Writing JSON text: strings escaped so that any byte string makes valid JSON. */
#ifndef SMBCOPY_ENGINE_JSON_WRITE_H
#define SMBCOPY_ENGINE_JSON_WRITE_H

#include <stdio.h>

/**
 * s as a JSON string with its quotes: '"', '\\' and control characters
 * escaped, valid UTF-8 kept, each invalid sequence written as \uFFFD.
 * NULL writes "".
 */
void json_write_string(FILE *f, const char *s);

#endif

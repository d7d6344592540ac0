/*
 * Cryptographically random bytes, for every layer: NTLM challenges and
 * session keys, SMB3 nonces and salts, the engine's temporary names.
 */
#ifndef SMBCOPY_COMMON_RANDOM_H
#define SMBCOPY_COMMON_RANDOM_H

#include <stddef.h>

/** Fill buf with n cryptographically random bytes. Returns 0, or -1 when buf is NULL or the generator fails. */
int smb_random(void *buf, size_t n);

#endif

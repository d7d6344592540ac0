/*
 * SMBCOPY_API marks the functions of the public API: the shared library is
 * built with hidden visibility, so only what the headers under
 * include/smbcopy/ declare with this mark is exported (nm -D lists nothing
 * else; scripts/check-abi.sh checks it).
 */
#ifndef SMBCOPY_API_H
#define SMBCOPY_API_H

#if defined(__GNUC__) || defined(__clang__)
#define SMBCOPY_API __attribute__((visibility("default")))
#else
#define SMBCOPY_API
#endif

#endif

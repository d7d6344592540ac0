/* Random bytes from OpenSSL's CSPRNG. */
#include "common/random.h"

#include <limits.h>

#include <openssl/rand.h>

int smb_random(void *buf, size_t n)
{
    if (!buf && n)
        return -1;
    unsigned char *p = buf;
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(p, chunk) != 1)
            return -1;
        p += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

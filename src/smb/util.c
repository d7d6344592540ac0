/*
 * Small helpers of the public API: dialect names, FILETIME conversion and
 * CREATE parameter defaults.
 */
#include <smbcopy/smb.h>

#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- dialects */

struct dialect_alias {
    const char *text;
    uint16_t dialect;
};

/* Accepted spellings; the first one of each dialect is its name. */
static const struct dialect_alias dialect_aliases[] = {
    {"2.0.2", SMB_DIALECT_2_0_2}, {"2.1", SMB_DIALECT_2_1},     {"3.0", SMB_DIALECT_3_0},
    {"3.0.2", SMB_DIALECT_3_0_2}, {"3.1.1", SMB_DIALECT_3_1_1},
    {"2.02", SMB_DIALECT_2_0_2},  {"2.10", SMB_DIALECT_2_1},    {"2.1.0", SMB_DIALECT_2_1},
    {"3.00", SMB_DIALECT_3_0},    {"3.0.0", SMB_DIALECT_3_0},   {"3.02", SMB_DIALECT_3_0_2},
    {"3.11", SMB_DIALECT_3_1_1},
    {"SMB2_02", SMB_DIALECT_2_0_2}, {"SMB2_10", SMB_DIALECT_2_1}, {"SMB3_00", SMB_DIALECT_3_0},
    {"SMB3_02", SMB_DIALECT_3_0_2}, {"SMB3_11", SMB_DIALECT_3_1_1},
    {"SMB_2_0_2", SMB_DIALECT_2_0_2}, {"SMB_2_1_0", SMB_DIALECT_2_1}, {"SMB_3_0_0", SMB_DIALECT_3_0},
    {"SMB_3_0_2", SMB_DIALECT_3_0_2}, {"SMB_3_1_1", SMB_DIALECT_3_1_1},
};

#define N_ALIASES (sizeof dialect_aliases / sizeof dialect_aliases[0])

const char *smb_library_version(void)
{
    return SMBCOPY_VERSION_STRING;
}

uint16_t smb_dialect_parse(const char *s)
{
    if (!s)
        return 0;
    for (size_t i = 0; i < N_ALIASES; i++)
        if (strcasecmp(s, dialect_aliases[i].text) == 0)
            return dialect_aliases[i].dialect;
    return 0;
}

const char *smb_dialect_name(uint16_t dialect)
{
    for (size_t i = 0; i < N_ALIASES; i++)
        if (dialect_aliases[i].dialect == dialect)
            return dialect_aliases[i].text;
    return "?";
}

/* ---------------------------------------------------------------- time */

#define FT_PER_SEC 10000000LL           /* FILETIME ticks (100 ns) per second */
#define FT_UNIX_OFFSET 11644473600LL    /* seconds from 1601-01-01 to 1970-01-01 */
#define NS_PER_SEC 1000000000L
/* Valid FILETIMEs are signed 64-bit values; larger ones are special markers. */
#define FT_MAX ((uint64_t)INT64_MAX)

uint64_t smb_filetime_from_unix(int64_t sec, long nsec)
{
    /* Normalise nsec into [0, 1e9) with the whole seconds carried into sec. */
    long carry = nsec / NS_PER_SEC;
    long rem = nsec % NS_PER_SEC;
    if (rem < 0) {
        rem += NS_PER_SEC;
        carry--;
    }
    if (carry > 0 && sec > INT64_MAX - carry)
        return FT_MAX;
    if (carry < 0 && sec < INT64_MIN - carry)
        return 0;
    sec += carry;

    /* Before 1601: the earliest FILETIME. */
    if (sec < -FT_UNIX_OFFSET)
        return 0;
    if (sec > INT64_MAX / FT_PER_SEC - FT_UNIX_OFFSET)
        return FT_MAX;
    uint64_t ft = (uint64_t)(sec + FT_UNIX_OFFSET) * FT_PER_SEC + (uint64_t)(rem / 100);
    return ft > FT_MAX ? FT_MAX : ft;
}

struct timespec smb_filetime_to_timespec(uint64_t ft)
{
    if (ft > FT_MAX)
        ft = FT_MAX;
    int64_t sec = (int64_t)(ft / FT_PER_SEC) - FT_UNIX_OFFSET;
    long nsec = (long)(ft % FT_PER_SEC) * 100;
    struct timespec ts;

    /* A 32-bit time_t cannot hold every FILETIME: clamp to its range. */
    if (sizeof(time_t) < sizeof(int64_t)) {
        if (sec > INT32_MAX) {
            sec = INT32_MAX;
            nsec = NS_PER_SEC - 1;
        } else if (sec < INT32_MIN) {
            sec = INT32_MIN;
            nsec = 0;
        }
    }
    ts.tv_sec = (time_t)sec;
    ts.tv_nsec = nsec;
    return ts;
}

/* ---------------------------------------------------------------- create */

void smb_create_params_init(smb_create_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->desired_access = SMB_FILE_READ_DATA | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    p->share_access = SMB_SHARE_READ | SMB_SHARE_WRITE | SMB_SHARE_DELETE;
    p->disposition = SMB_FILE_OPEN;
    p->options = 0;
    p->oplock = SMB_OPLOCK_NONE;
    p->impersonation = 2; /* Impersonation (MS-SMB2 2.2.13) */
    p->contexts = NULL;
    p->ncontexts = 0;
}

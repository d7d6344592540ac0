#include "engine/plan.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/job_internal.h"
#include "engine/time_probe.h"

const char *plan_unsafe_name(const char *name, size_t len)
{
    if (!name || len == 0)
        return "empty name";
    if (memchr(name, '\0', len))
        return "name holds a NUL character";
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return "name is '.' or '..'";
    if (memchr(name, '/', len) || memchr(name, '\\', len))
        return "name holds a path separator";
    if (len >= 2 && name[1] == ':' && isalpha((unsigned char)name[0]))
        return "name starts with a drive prefix";
    return NULL;
}

const char *plan_unsafe_source_name(const char *name, size_t len, unsigned src_caps)
{
    const char *why = plan_unsafe_name(name, len);
    /* A POSIX file name may hold ':' ("a:b.txt"): only an SMB name (a stream) may not. */
    if (why && !(src_caps & EP_CAP_WINDOWS_NAMES) && len >= 2 && name[1] == ':' &&
        !plan_unsafe_name(name + 1, len - 1))
        why = NULL;
    return why;
}

const char *plan_windows_refuses(const char *name)
{
    size_t len = strlen(name);
    if (len && (name[len - 1] == '.' || name[len - 1] == ' '))
        return "Windows servers refuse names ending in a dot or a space";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || strchr("<>:\"|?*", *p))
            return "Windows servers refuse names holding < > : \" | ? * or control characters";
    /* Reserved device names, alone or with any extension (MS-FSCC 2.1.5.1). */
    static const char *const reserved[] = {"CON", "PRN", "AUX", "NUL"};
    size_t base = strcspn(name, ".");
    for (size_t i = 0; i < 4; i++)
        if (base == 3 && strncasecmp(name, reserved[i], 3) == 0)
            return "Windows servers refuse reserved device names (CON, PRN, AUX, NUL, COM1-9, LPT1-9)";
    if (base == 4 && (strncasecmp(name, "COM", 3) == 0 || strncasecmp(name, "LPT", 3) == 0) && name[3] >= '1' &&
        name[3] <= '9')
        return "Windows servers refuse reserved device names (CON, PRN, AUX, NUL, COM1-9, LPT1-9)";
    return NULL;
}

plan_action plan_file(const ep_stat *src, bool dst_exists, const ep_stat *dst, bool checksum, uint64_t window)
{
    if (!dst_exists)
        return PLAN_COPY;
    if (src->size != dst->size)
        return PLAN_UPDATE;
    if (checksum)
        return PLAN_COMPARE;
    return mtime_within(src->mtime, dst->mtime, window) ? PLAN_SKIP : PLAN_UPDATE;
}

char *job_join(const char *rel, const char *name)
{
    if (!rel[0])
        return strdup(name);
    char *p;
    return asprintf(&p, "%s/%s", rel, name) < 0 ? NULL : p;
}

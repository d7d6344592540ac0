/* In-memory archives through arc_in (see fuzz_archive_io.h). */
#include "fuzz_archive_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/archive/archive_in.h"
#include "engine/plan.h"
#include "engine/archive/snapshot.h"

/* A name accepted for restoring stays under the destination: relative, every
 * component one that plan_unsafe_name() accepts (no "", ".", "..", separator
 * or drive prefix). */
static void check_restorable(const char *rel)
{
    if (rel[0] == '\0')
        return; /* the destination itself */
    for (const char *s = rel;;) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (plan_unsafe_name(s, n))
            abort();
        if (!e)
            return;
        s = e + 1;
    }
}

static void count_deleted(void *arg, const char *path, bool is_dir)
{
    (void)is_dir;
    *(size_t *)arg += strlen(path);
}

/* The list of deletions of an incremental archive is untrusted text too. */
static void read_deleted(arc_in *a, size_t max)
{
    char *text = malloc(max);
    if (!text)
        return;
    size_t len = 0;
    smb_error err;
    ssize_t n;
    while (len < max && (n = arc_in_data(a, text + len, max - len, &err)) > 0)
        len += (size_t)n;
    size_t total = 0;
    snapshot_parse_deleted(text, len, count_deleted, &total);
    free(text);
}

size_t fuzz_read_archive(const uint8_t *data, size_t size, size_t max_entries, size_t max_data)
{
    int fd = memfd_create("fuzz-archive", 0);
    if (fd < 0)
        return 0;
    size_t entries = 0;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        arc_in *a;
        smb_error err;
        if (arc_in_open(path, &a, &err) == 0) {
            static uint8_t buf[64 * 1024];
            size_t data_left = max_data;
            arc_in_entry e;
            while (entries < max_entries && arc_in_next(a, &e, &err) == 1) {
                entries++;
                if (e.refused)
                    continue;
                check_restorable(e.rel);
                if (strcmp(e.rel, SNAPSHOT_DELETED_ENTRY) == 0) {
                    read_deleted(a, 64 * 1024);
                    continue;
                }
                ssize_t n;
                while (data_left > 0 &&
                       (n = arc_in_data(a, buf, data_left < sizeof buf ? data_left : sizeof buf, &err)) > 0)
                    data_left -= (size_t)n;
            }
            arc_in_close(a);
        }
    }
    close(fd);
    return entries;
}

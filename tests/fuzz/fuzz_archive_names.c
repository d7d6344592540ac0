/*
 * Fuzz target: the entry-name check of a restore. The input is an entry
 * name (any bytes; a NUL ends it); it is written as a GNU tar entry (long
 * names through the ././@LongLink entry) into an in-memory archive, which
 * is then read through the real reader: a name accepted for restoring must
 * stay under the destination (no absolute path, no "..", "." or empty
 * component, no backslash or drive prefix).
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_archive_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_NAME 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[MAX_NAME + 1];
    size_t n = size < MAX_NAME ? size : MAX_NAME;
    memcpy(name, data, n);
    name[n] = '\0';
    if (!name[0])
        return 0;
    size_t cap = 3 * 512 + 2 * MAX_NAME + 10240 + 4096;
    uint8_t *tar = malloc(cap);
    struct archive *w = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    size_t used = 0;
    if (tar && w && e && archive_write_set_format_gnutar(w) == ARCHIVE_OK &&
        archive_write_set_bytes_per_block(w, 512) == ARCHIVE_OK &&
        archive_write_open_memory(w, tar, cap, &used) == ARCHIVE_OK) {
        archive_entry_copy_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, 0);
        if (archive_write_header(w, e) == ARCHIVE_OK && archive_write_close(w) == ARCHIVE_OK)
            (void)fuzz_read_archive(tar, used, 4, 0);
    }
    archive_entry_free(e);
    if (w)
        archive_write_free(w);
    free(tar);
    return 0;
}

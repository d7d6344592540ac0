/*
 * FileStreamInformation (MS-FSCC 2.4.44): the streams of a file, each entry
 * NextEntryOffset, StreamNameLength, StreamSize, StreamAllocationSize and
 * the name ":NAME:TYPE" in UTF-16LE.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pdu_internal.h"
#include "utf16.h"

/* NextEntryOffset, StreamNameLength, StreamSize, StreamAllocationSize. */
#define STREAM_ENTRY_FIXED 24u

/* Kept one by one, so only the count bounds the memory a server can make
 * the client allocate (names are bounded by the buffer). */
#define STREAMS_MAX SMB2_STREAMS_MAX

void smb_streams_free(smb_stream_info *streams, size_t n)
{
    if (!streams)
        return;
    for (size_t i = 0; i < n; i++)
        free(streams[i].name);
    free(streams);
}

/*
 * Split the UTF-8 form of ":NAME:TYPE" (no NUL inside: checked before the
 * conversion). Returns 1 for a named $DATA stream with *name
 * (NUL-terminated in place of the second colon), 0 for an entry to leave
 * out (the main stream "::$DATA"; a named stream of another type),
 * SMB_ERR_PROTOCOL for anything else. '/' and '\\' are single bytes in
 * UTF-8 and never part of a longer sequence, so a byte search finds them.
 */
static int split_stream_name(char *full, char **name)
{
    char *type_sep = strrchr(full, ':');
    if (full[0] != ':' || type_sep == full || type_sep[1] == '\0')
        return SMB_ERR_PROTOCOL; /* not ":NAME:TYPE", or TYPE empty */
    *type_sep = '\0';
    char *nm = full + 1;
    bool data = strcasecmp(type_sep + 1, "$DATA") == 0; /* NTFS compares types without case */
    if (*nm == '\0')
        return data ? 0 : SMB_ERR_PROTOCOL; /* "::$DATA" is the file's main stream */
    if (strpbrk(nm, ":/\\"))
        return SMB_ERR_PROTOCOL;
    if (!data)
        return 0;
    *name = nm;
    return 1;
}

/* True when the UTF-16LE text p[0..len) (len even) holds a NUL unit. */
static bool has_nul16(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        if (smb_le16(p + i) == 0)
            return true;
    return false;
}

/* Append one stream to *out (grown by doubling). */
static int push_stream(smb_stream_info **out, size_t *n, size_t *cap, const char *name, uint64_t size,
                       uint64_t alloc)
{
    if (*n == STREAMS_MAX)
        return SMB_ERR_PROTOCOL;
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        smb_stream_info *grown = realloc(*out, ncap * sizeof *grown);
        if (!grown)
            return SMB_ERR_NO_MEMORY;
        *out = grown;
        *cap = ncap;
    }
    char *copy = strdup(name);
    if (!copy)
        return SMB_ERR_NO_MEMORY;
    (*out)[*n] = (smb_stream_info){.name = copy, .size = size, .allocation_size = alloc};
    (*n)++;
    return 0;
}

/* Decode the entry at pos, keeping it in *out when it is a named $DATA
 * stream; *next receives its NextEntryOffset. */
static int decode_entry(const uint8_t *buf, size_t len, size_t pos, uint32_t *next, smb_stream_info **out,
                        size_t *n, size_t *cap)
{
    smb_rd r;
    smb_rd_init(&r, buf, len);
    smb_rd_seek(&r, pos);
    *next = smb_rd_u32(&r);
    uint32_t name_len = smb_rd_u32(&r);
    uint64_t size = smb_rd_u64(&r);
    uint64_t alloc = smb_rd_u64(&r);
    const uint8_t *name16 = smb_rd_ptr(&r, name_len);
    /* StreamSize and StreamAllocationSize are LARGE_INTEGERs: never negative. */
    if (!smb_rd_ok(&r) || name_len % 2 != 0 || size > INT64_MAX || alloc > INT64_MAX)
        return SMB_ERR_PROTOCOL;
    if (*next != 0 && (*next < STREAM_ENTRY_FIXED + (uint64_t)name_len || *next >= len - pos))
        return SMB_ERR_PROTOCOL;
    /* No name at all: impacket's answer for a file without streams (one
     * zeroed entry). Nothing of it becomes a name, so it is left out. */
    if (name_len == 0)
        return 0;
    if (has_nul16(name16, name_len))
        return SMB_ERR_PROTOCOL;
    char *full = smb_utf16le_to_utf8(name16, name_len);
    if (!full)
        return SMB_ERR_NO_MEMORY; /* the only failure left: the length is even, no NUL */
    char *name = NULL;
    int rc = split_stream_name(full, &name);
    if (rc == 1)
        rc = push_stream(out, n, cap, name, size, alloc);
    free(full);
    return rc;
}

/* Entries chain as in a directory listing (see smb2_dirent_next): a
 * NextEntryOffset of 0 ends the list; any other must cover this entry's
 * fixed part and name (so the walk only moves forward and ends) and put the
 * next entry's start inside the buffer. The spec has entries start on an
 * 8-byte boundary; as for directory entries that is not required here (an
 * unaligned offset is read as safely as an aligned one). */
int smb2_streams_decode(const uint8_t *buf, size_t len, smb_stream_info **streams, size_t *n)
{
    *streams = NULL;
    *n = 0;
    smb_stream_info *out = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    for (size_t pos = 0; len > 0;) {
        uint32_t next = 0;
        rc = decode_entry(buf, len, pos, &next, &out, &count, &cap);
        if (rc != 0 || next == 0)
            break;
        pos += next;
    }
    if (rc != 0 || count == 0) {
        smb_streams_free(out, count);
        return rc;
    }
    *streams = out;
    *n = count;
    return 0;
}

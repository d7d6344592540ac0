/*
 * Internal pieces of the high-level helpers (include/smbcopy/helpers.h):
 * share paths split and joined, the codecs of extended attribute lists and
 * copy chunk messages (pure, for the unit tests and fuzz targets), and the
 * server-side copy of one file's bytes.
 */
#ifndef SMBCOPY_HELPERS_INTERNAL_H
#define SMBCOPY_HELPERS_INTERNAL_H

#include <smbcopy/helpers.h>

#include "common/wire.h"

/* ---------------------------------------------------------------- paths (helpers_path.c) */

/**
 * path normalised: components separated by one '/', no leading or trailing
 * separator, "." and empty components dropped ("" for the root); *out is
 * malloc'd (the caller frees it). SMB_ERR_BAD_NAME for a ".." component
 * (message naming what, e.g. "makedirs"), SMB_ERR_NO_MEMORY.
 */
int smb_helpers_path_norm(const char *path, const char *what, char **out, smb_error *err);
/** "dir/name", or "name" when dir is "" (malloc'd; NULL when out of memory). */
char *smb_helpers_path_join(const char *dir, const char *name);
/** The last component of a normalised path (a pointer into it). */
const char *smb_helpers_path_base(const char *path);
/**
 * True when a name from a directory listing is one component: not empty,
 * ".", ".." nor holding a separator (a hostile server's name must not make
 * rmtree reach outside the tree).
 */
bool smb_helpers_name_ok(const char *name);

/* ---------------------------------------------------------------- EAs (pdu_ea.c) */

/** FILE_FULL_EA_INFORMATION (MS-FSCC 2.4.15): NextEntryOffset, Flags, EaNameLength, EaValueLength. */
#define SMB2_EA_HEADER_LEN 8u
/** FileFullEaInformation (MS-FSCC 2.4.15), the info class of QUERY_INFO and SET_INFO. */
#define SMB2_FILE_FULL_EA_INFORMATION 15

/**
 * Decode a FileFullEaInformation buffer buf[0..len) (as QUERY_INFO
 * returns it) into one malloc'd smb_ea_list (*out; free it with
 * smb_ea_list_free). Every length and offset is checked through the
 * bounded reader: entries must chain forward (NextEntryOffset 0 ends the
 * list, else it must pass the entry's own bytes and stay inside buf),
 * names must be 1 to 255 bytes without a NUL and carry their terminator,
 * at most SMB_EA_LIST_MAX entries. len 0 is an empty list. Returns 0,
 * SMB_ERR_PROTOCOL (*out NULL) or SMB_ERR_NO_MEMORY (*out NULL).
 */
int smb2_ea_list_decode(const uint8_t *buf, size_t len, smb_ea_list **out);

/** Append one FILE_FULL_EA_INFORMATION entry (NextEntryOffset 0, Flags 0) to w; the caller checked the lengths. */
void smb2_ea_encode(smb_wr *w, const char *name, size_t name_len, const void *value, uint16_t value_len);

/** True when name is an EA name smb_set_ea sends (1 to 255 bytes, printable ASCII, none of Windows' refused characters). */
bool smb2_ea_name_ok(const char *name);

/* ---------------------------------------------------------------- copy chunk (pdu_copychunk.c) */

/** SRV_REQUEST_RESUME_KEY's key (MS-SMB2 2.2.32.3). */
#define SMB2_RESUME_KEY_LEN 24u
/** SRV_COPYCHUNK_COPY's fixed part (SourceKey, ChunkCount, Reserved) and one SRV_COPYCHUNK (MS-SMB2 2.2.31.1). */
#define SMB2_COPYCHUNK_HEAD_LEN 32u
#define SMB2_COPYCHUNK_CHUNK_LEN 24u
/** SRV_COPYCHUNK_RESPONSE (MS-SMB2 2.2.32.1). */
#define SMB2_COPYCHUNK_RSP_LEN 12u

/** How much one FSCTL_SRV_COPYCHUNK_WRITE may ask for. */
typedef struct smb2_copychunk_limits {
    uint32_t chunks; /**< chunks per request */
    uint32_t chunk;  /**< bytes per chunk */
    uint32_t total;  /**< bytes per request */
} smb2_copychunk_limits;

/**
 * Encode one SRV_COPYCHUNK_COPY for the bytes [off, off + len) (the same
 * offsets in source and target) within lim into w; *asked receives the
 * bytes it covers (at most lim->total). Returns the number of chunks.
 */
uint32_t smb2_copychunk_encode(smb_wr *w, const uint8_t key[SMB2_RESUME_KEY_LEN], const smb2_copychunk_limits *lim,
                               uint64_t off, uint64_t len, uint32_t *asked);

/** SRV_COPYCHUNK_RESPONSE: written counts on success, or the server's limits with STATUS_INVALID_PARAMETER. */
typedef struct smb2_copychunk_rsp {
    uint32_t chunks_written; /**< or MaxChunkCount */
    uint32_t chunk_bytes;    /**< bytes of a partly written chunk, or MaxChunkSize */
    uint32_t total_bytes;    /**< or MaxTotalSize */
} smb2_copychunk_rsp;

/** Decode buf[0..len) (at least 12 bytes); 0 or SMB_ERR_PROTOCOL. */
int smb2_copychunk_rsp_decode(const uint8_t *buf, size_t len, smb2_copychunk_rsp *rsp);

/* ---------------------------------------------------------------- server-side copy (helpers_copychunk.c) */

/** The limits asked for first (below what Samba and Windows take: 256 chunks, 1 MiB each, 16 MiB). */
#define SMB_COPYCHUNK_DEFAULT_LIMITS ((smb2_copychunk_limits){16u, 1u << 20, 16u << 20})

/**
 * The server copies the first len bytes of src into dst (both open on the
 * same session: src with FILE_READ_DATA, dst with FILE_WRITE_DATA) with
 * FSCTL_SRV_REQUEST_RESUME_KEY, then FSCTL_SRV_COPYCHUNK_WRITE within
 * *lim, which is lowered to the limits the server states when it answers
 * STATUS_INVALID_PARAMETER with them (MS-SMB2 3.3.5.15.6). The paths are
 * for messages. 0 or an error.
 */
int smb_copychunk(smb_open *src, smb_open *dst, uint64_t len, smb2_copychunk_limits *lim, const char *src_path,
                  const char *dst_path, smb_error *err);

#endif

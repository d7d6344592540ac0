/*
 * A file's (or directory's) extra metadata, beyond times and attributes:
 * its named streams and its security descriptor, as the endpoints' optional
 * get_streams/put_streams and get_sd/put_sd operations (endpoint.h) move
 * them. Both are held in memory: streams up to SC_STREAMS_MAX_BYTES per
 * file together (engine.h).
 */
#ifndef SMBCOPY_EP_META_H
#define SMBCOPY_EP_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/smb.h>

/** One named stream: name as in "file:NAME" (no ':' and no ":$DATA"), and its bytes. */
typedef struct ep_stream {
    char *name;    /**< malloc'd, UTF-8, never empty */
    uint8_t *data; /**< malloc'd, NULL when len is 0 */
    size_t len;
    bool kept;     /**< set by put_streams: the destination holds this stream now */
} ep_stream;

/** The named streams of one file (the main, unnamed stream never among them). */
typedef struct ep_streams {
    ep_stream *v; /**< malloc'd, NULL when n is 0 */
    size_t n;
} ep_streams;

/** Which parts of a security descriptor are present (bits as SMB's SecurityInformation, MS-DTYP 2.4.7). */
#define EP_SD_OWNER 0x1u
#define EP_SD_GROUP 0x2u
#define EP_SD_DACL 0x4u
#define EP_SD_SACL 0x8u

/** A security descriptor in self-relative form (MS-DTYP 2.4.6) and the parts it carries. */
typedef struct ep_sd {
    uint8_t *bytes; /**< malloc'd, NULL when len is 0 (none) */
    size_t len;
    uint32_t parts; /**< EP_SD_* */
} ep_sd;

/** Free what s holds (not s itself) and empty it. */
void ep_streams_clear(ep_streams *s);
/** Free what sd holds (not sd itself) and empty it. */
void ep_sd_clear(ep_sd *sd);
/** Total bytes of the streams of s. */
size_t ep_streams_bytes(const ep_streams *s);
/** How many streams of s put_streams kept (ep_stream.kept), and their bytes in *bytes (may be NULL). */
size_t ep_streams_kept(const ep_streams *s, uint64_t *bytes);

/**
 * Whether name[0..n) is a name a stream may have (in "file:NAME" on SMB,
 * in an xattr's name locally): not empty, no '/', '\\', ':' or NUL, and
 * UTF-8 (shortest forms, no surrogates, nothing past U+10FFFF).
 */
bool ep_stream_name_ok(const char *name, size_t n);

/**
 * The parts (EP_SD_*) the self-relative descriptor bytes[0..len) holds:
 * owner and group when it has them, DACL and SACL when its control says
 * they are present (MS-DTYP 2.4.6). Bytes that do not decode as a
 * descriptor: SMB_ERR_PROTOCOL with err filled.
 */
int ep_sd_parts_of(const uint8_t *bytes, size_t len, uint32_t *parts, smb_error *err);

/**
 * The check after a write: whether back[0..back_len) (the descriptor read
 * back from the destination; back_len 0: none) keeps the parts `parts` of
 * sent, as smb_sd_kept compares them. True when it does; false with *e
 * filled (SMB_ERR_UNSUPPORTED, "the destination keeps another one: WHAT
 * DIFFERS"), the form a "not kept" report takes.
 */
bool ep_sd_kept(const ep_sd *sent, uint32_t parts, const uint8_t *back, size_t back_len, smb_error *e);

#endif

/*
 * Bounded little-endian reader and writer.
 *
 * Every decoder of network bytes reads through smb_rd: a length, offset or
 * count that points outside the buffer sets the reader's error flag and
 * yields zeros, never a read past the end. Decoders check smb_rd_ok() once
 * at the end instead of after every field.
 */
#ifndef SMBCOPY_WIRE_H
#define SMBCOPY_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** A bounded reader over [base, base+len). */
typedef struct smb_rd {
    const uint8_t *base; /**< start of the buffer */
    size_t len;          /**< bytes in the buffer */
    size_t pos;          /**< next byte to read */
    bool err;            /**< set once any read went out of bounds */
} smb_rd;

/** Initialise a reader over buf[0..len). */
void smb_rd_init(smb_rd *r, const void *buf, size_t len);
/** True when no read so far went out of bounds. */
static inline bool smb_rd_ok(const smb_rd *r) { return !r->err; }
/** Bytes left after the current position (0 after an error). */
size_t smb_rd_left(const smb_rd *r);
/** Move to absolute offset off; beyond the end sets the error flag. */
void smb_rd_seek(smb_rd *r, size_t off);
/** Skip n bytes. */
void smb_rd_skip(smb_rd *r, size_t n);
/** Skip to the next multiple of align (relative to base). */
void smb_rd_align(smb_rd *r, size_t align);
uint8_t smb_rd_u8(smb_rd *r);   /**< Read one byte. */
uint16_t smb_rd_u16(smb_rd *r); /**< Read a little-endian 16-bit value. */
uint32_t smb_rd_u32(smb_rd *r); /**< Read a little-endian 32-bit value. */
uint64_t smb_rd_u64(smb_rd *r); /**< Read a little-endian 64-bit value. */
uint16_t smb_rd_be16(smb_rd *r); /**< Read a big-endian 16-bit value. */
uint32_t smb_rd_be32(smb_rd *r); /**< Read a big-endian 32-bit value. */
/** Copy n bytes into dst (zero-filled on error). */
void smb_rd_bytes(smb_rd *r, void *dst, size_t n);
/** Return a pointer to the next n bytes and advance, or NULL (error set). */
const uint8_t *smb_rd_ptr(smb_rd *r, size_t n);
/**
 * A sub-reader over [off, off+n) of r's buffer (absolute offsets), as used for
 * the (offset, length) pairs of SMB2 bodies. Out of range: the sub-reader is
 * empty with its error flag set, and r's error flag is set too.
 */
smb_rd smb_rd_sub(smb_rd *r, size_t off, size_t n);

/** A bounded writer into a caller-owned or growing buffer. */
typedef struct smb_wr {
    uint8_t *buf; /**< start of the buffer */
    size_t cap;   /**< capacity */
    size_t len;   /**< bytes written (the position) */
    bool grow;    /**< buffer is malloc'd and may be reallocated */
    bool err;     /**< set when a write did not fit (or allocation failed) */
} smb_wr;

/** Writer into a fixed buffer; overflow sets the error flag. */
void smb_wr_init(smb_wr *w, void *buf, size_t cap);
/** Writer into a malloc'd buffer that grows; free with smb_wr_free. */
void smb_wr_init_grow(smb_wr *w, size_t initial);
/** Free a growing writer's buffer. */
void smb_wr_free(smb_wr *w);
/** True when every write so far fit. */
static inline bool smb_wr_ok(const smb_wr *w) { return !w->err; }
void smb_wr_u8(smb_wr *w, uint8_t v);   /**< Append one byte. */
void smb_wr_u16(smb_wr *w, uint16_t v); /**< Append little-endian 16 bits. */
void smb_wr_u32(smb_wr *w, uint32_t v); /**< Append little-endian 32 bits. */
void smb_wr_u64(smb_wr *w, uint64_t v); /**< Append little-endian 64 bits. */
void smb_wr_be16(smb_wr *w, uint16_t v); /**< Append big-endian 16 bits. */
void smb_wr_be32(smb_wr *w, uint32_t v); /**< Append big-endian 32 bits. */
/** Append n bytes from src. */
void smb_wr_bytes(smb_wr *w, const void *src, size_t n);
/** Append n zero bytes. */
void smb_wr_zero(smb_wr *w, size_t n);
/** Pad with zeros to a multiple of align. */
void smb_wr_align(smb_wr *w, size_t align);
/** Reserve n bytes and return their position (to patch later). */
size_t smb_wr_reserve(smb_wr *w, size_t n);
/** Overwrite at absolute position pos (must be inside what was written). */
void smb_wr_put_u16(smb_wr *w, size_t pos, uint16_t v);
/** Overwrite at absolute position pos (must be inside what was written). */
void smb_wr_put_u32(smb_wr *w, size_t pos, uint32_t v);

/* Plain little-endian helpers for fixed, already-bounded buffers. */
static inline uint16_t smb_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t smb_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t smb_le64(const uint8_t *p) { return smb_le32(p) | ((uint64_t)smb_le32(p + 4) << 32); }
static inline void smb_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void smb_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void smb_put64(uint8_t *p, uint64_t v) { smb_put32(p, (uint32_t)v); smb_put32(p + 4, (uint32_t)(v >> 32)); }

/* Plain big-endian helpers (the NBSS length prefix, SP800-108 counters). */
static inline uint32_t smb_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline void smb_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#endif

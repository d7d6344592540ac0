#include "common/wire.h"

#include <stdlib.h>
#include <string.h>

void smb_rd_init(smb_rd *r, const void *buf, size_t len)
{
    r->base = buf;
    r->len = buf ? len : 0;
    r->pos = 0;
    r->err = false;
}

size_t smb_rd_left(const smb_rd *r)
{
    return r->err ? 0 : r->len - r->pos;
}

/* Reserve n bytes at the current position; NULL (and the error flag) when
 * they are not all there. The single bounds check every read goes through. */
static const uint8_t *take(smb_rd *r, size_t n)
{
    if (r->err || n > r->len - r->pos) {
        r->err = true;
        return NULL;
    }
    const uint8_t *p = r->base + r->pos;
    r->pos += n;
    return p;
}

void smb_rd_seek(smb_rd *r, size_t off)
{
    if (r->err || off > r->len)
        r->err = true;
    else
        r->pos = off;
}

void smb_rd_skip(smb_rd *r, size_t n) { (void)take(r, n); }

void smb_rd_align(smb_rd *r, size_t align)
{
    size_t rem = r->pos % align;
    if (rem)
        smb_rd_skip(r, align - rem);
}

uint8_t smb_rd_u8(smb_rd *r)
{
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

uint16_t smb_rd_u16(smb_rd *r)
{
    const uint8_t *p = take(r, 2);
    return p ? smb_le16(p) : 0;
}

uint32_t smb_rd_u32(smb_rd *r)
{
    const uint8_t *p = take(r, 4);
    return p ? smb_le32(p) : 0;
}

uint64_t smb_rd_u64(smb_rd *r)
{
    const uint8_t *p = take(r, 8);
    return p ? smb_le64(p) : 0;
}

uint16_t smb_rd_be16(smb_rd *r)
{
    const uint8_t *p = take(r, 2);
    return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t smb_rd_be32(smb_rd *r)
{
    const uint8_t *p = take(r, 4);
    return p ? ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3] : 0;
}

void smb_rd_bytes(smb_rd *r, void *dst, size_t n)
{
    const uint8_t *p = take(r, n);
    if (p)
        memcpy(dst, p, n);
    else if (n)
        memset(dst, 0, n);
}

const uint8_t *smb_rd_ptr(smb_rd *r, size_t n) { return take(r, n); }

smb_rd smb_rd_sub(smb_rd *r, size_t off, size_t n)
{
    smb_rd s;
    if (r->err || off > r->len || n > r->len - off) {
        r->err = true;
        smb_rd_init(&s, NULL, 0);
        s.err = true;
        return s;
    }
    smb_rd_init(&s, r->base + off, n);
    return s;
}

void smb_wr_init(smb_wr *w, void *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->grow = false;
    w->err = false;
}

void smb_wr_init_grow(smb_wr *w, size_t initial)
{
    if (initial < 64)
        initial = 64;
    w->buf = malloc(initial);
    w->cap = w->buf ? initial : 0;
    w->len = 0;
    w->grow = true;
    w->err = w->buf == NULL;
}

void smb_wr_free(smb_wr *w)
{
    if (w->grow)
        free(w->buf);
    w->buf = NULL;
    w->cap = w->len = 0;
}

/* Room for n more bytes at the end; NULL (and the error flag) otherwise. */
static uint8_t *room(smb_wr *w, size_t n)
{
    if (w->err)
        return NULL;
    if (n > w->cap - w->len) {
        if (!w->grow || n > SIZE_MAX / 2 - w->len) {
            w->err = true;
            return NULL;
        }
        size_t cap = w->cap * 2;
        if (cap < w->len + n)
            cap = w->len + n;
        uint8_t *nb = realloc(w->buf, cap);
        if (!nb) {
            w->err = true;
            return NULL;
        }
        w->buf = nb;
        w->cap = cap;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

void smb_wr_u8(smb_wr *w, uint8_t v)
{
    uint8_t *p = room(w, 1);
    if (p)
        *p = v;
}

void smb_wr_u16(smb_wr *w, uint16_t v)
{
    uint8_t *p = room(w, 2);
    if (p)
        smb_put16(p, v);
}

void smb_wr_u32(smb_wr *w, uint32_t v)
{
    uint8_t *p = room(w, 4);
    if (p)
        smb_put32(p, v);
}

void smb_wr_u64(smb_wr *w, uint64_t v)
{
    uint8_t *p = room(w, 8);
    if (p)
        smb_put64(p, v);
}

void smb_wr_be16(smb_wr *w, uint16_t v)
{
    uint8_t *p = room(w, 2);
    if (p) {
        p[0] = (uint8_t)(v >> 8);
        p[1] = (uint8_t)v;
    }
}

void smb_wr_be32(smb_wr *w, uint32_t v)
{
    uint8_t *p = room(w, 4);
    if (p) {
        p[0] = (uint8_t)(v >> 24);
        p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);
        p[3] = (uint8_t)v;
    }
}

void smb_wr_bytes(smb_wr *w, const void *src, size_t n)
{
    uint8_t *p = room(w, n);
    if (p && n)
        memcpy(p, src, n);
}

void smb_wr_zero(smb_wr *w, size_t n)
{
    uint8_t *p = room(w, n);
    if (p && n)
        memset(p, 0, n);
}

void smb_wr_align(smb_wr *w, size_t align)
{
    size_t rem = w->len % align;
    if (rem)
        smb_wr_zero(w, align - rem);
}

size_t smb_wr_reserve(smb_wr *w, size_t n)
{
    size_t pos = w->len;
    smb_wr_zero(w, n);
    return pos;
}

void smb_wr_put_u16(smb_wr *w, size_t pos, uint16_t v)
{
    if (w->err || pos > w->len || w->len - pos < 2) {
        w->err = true;
        return;
    }
    smb_put16(w->buf + pos, v);
}

void smb_wr_put_u32(smb_wr *w, size_t pos, uint32_t v)
{
    if (w->err || pos > w->len || w->len - pos < 4) {
        w->err = true;
        return;
    }
    smb_put32(w->buf + pos, v);
}

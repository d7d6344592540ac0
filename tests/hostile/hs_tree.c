/*
 * The hostile server's share: a fixed read-only tree of good files with
 * known content, and the hostile names its listings can add.
 *
 *   good1.txt      "hello hostile world\n"
 *   good2.bin      100000 bytes, byte i = i % 251 (two READs of 64 KiB)
 *   sub/good3.txt  "third file\n"
 *   s<U+D800>x     "surrogate\n" (listed in evil-listing mode only)
 *   dup.txt        "dup!\n" (listed twice in duplicate-names mode only)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hs.h"

static const char GOOD1[] = "hello hostile world\n";
static const char GOOD3[] = "third file\n";
static const char SURROGATE[] = "surrogate\n";
static const char DUP[] = "dup!\n";
#define SURROGATE_NODE 5

const hs_node hs_nodes[] = {
    {"", true, 0, -1},
    {"good1.txt", false, sizeof GOOD1 - 1, 0},
    {"good2.bin", false, 100000, 0},
    {"sub", true, 0, 0},
    {"sub\\good3.txt", false, sizeof GOOD3 - 1, 3},
    {"", false, sizeof SURROGATE - 1, -2}, /* "s<U+D800>x": listed by evil-listing only, found by hs_lookup */
    {"dup.txt", false, sizeof DUP - 1, -2}, /* HS_DUP_NODE: listed twice by duplicate-names only */
};
const int hs_nnodes = (int)(sizeof hs_nodes / sizeof hs_nodes[0]);

uint8_t hs_file_byte(int n, uint64_t off)
{
    switch (n) {
    case 1:
        return (uint8_t)GOOD1[off];
    case 3 + 1:
        return (uint8_t)GOOD3[off];
    case SURROGATE_NODE:
        return (uint8_t)SURROGATE[off];
    case HS_DUP_NODE:
        return (uint8_t)DUP[off];
    default:
        return (uint8_t)(off % 251);
    }
}

int hs_lookup(const uint8_t *name16, size_t len)
{
    /* The one non-ASCII name: a lone high surrogate, kept by the client as WTF-8. */
    static const uint8_t SURROGATE16[6] = {'s', 0, 0x00, 0xD8, 'x', 0};
    if (len == sizeof SURROGATE16 && memcmp(name16, SURROGATE16, len) == 0)
        return SURROGATE_NODE;
    char path[256];
    size_t n = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint16_t ch = smb_le16(name16 + i);
        if (ch == 0 || ch >= 0x80 || n + 1 >= sizeof path)
            return -1;
        path[n++] = (char)(ch == '/' ? '\\' : ch);
    }
    while (n && path[n - 1] == '\\')
        n--;
    path[n] = 0;
    const char *p = path;
    while (*p == '\\')
        p++;
    for (int i = 0; i < hs_nnodes; i++)
        if (strcasecmp(hs_nodes[i].path, p) == 0)
            return i;
    return -1;
}

/* The hostile names (UTF-16 code units), listed in the root by evil-listing. */
static const uint16_t EVIL_DOTDOT[] = {'.', '.'};
static const uint16_t EVIL_UP[] = {'.', '.', '/', 'x'};
static const uint16_t EVIL_SLASH[] = {'a', '/', 'b'};
static const uint16_t EVIL_BACKSLASH[] = {'a', '\\', 'b'};
static const uint16_t EVIL_DRIVE[] = {'C', ':', 'x'};
static const uint16_t EVIL_NUL[] = {'n', 'u', 'l', 0, 'x'};
static const uint16_t EVIL_SURROGATE[] = {'s', 0xD800, 'x'};
static const uint16_t DOT[] = {'.'};

static const struct {
    const uint16_t *u;
    size_t n;
} EVIL[] = {
    {EVIL_DOTDOT, 2}, {EVIL_UP, 4}, {EVIL_SLASH, 3}, {EVIL_BACKSLASH, 3},
    {EVIL_DRIVE, 3},  {EVIL_NUL, 5}, {EVIL_SURROGATE, 3},
};

size_t hs_put_entry(smb_wr *w, const uint16_t *name, size_t units, bool dir, uint64_t size, uint64_t id)
{
    smb_wr_align(w, 8);
    size_t start = w->len;
    smb_wr_u32(w, 0); /* NextEntryOffset, patched by hs_link */
    smb_wr_u32(w, 0); /* FileIndex */
    for (int i = 0; i < 4; i++)
        smb_wr_u64(w, 133000000000000000ull);
    smb_wr_u64(w, size);                     /* EndOfFile */
    smb_wr_u64(w, (size + 4095) & ~4095ull); /* AllocationSize */
    smb_wr_u32(w, dir ? 0x10 : 0x80);
    smb_wr_u32(w, (uint32_t)(units * 2)); /* FileNameLength */
    smb_wr_u32(w, 0);                     /* EaSize */
    smb_wr_u32(w, 0);
    smb_wr_u64(w, id);
    for (size_t i = 0; i < units; i++)
        smb_wr_u16(w, name[i]);
    return start;
}

void hs_link(smb_wr *w, size_t *prev, size_t start)
{
    if (*prev != SIZE_MAX)
        smb_wr_put_u32(w, *prev, (uint32_t)(start - *prev));
    *prev = start;
}

/* An ASCII name as UTF-16 units; returns the count. */
static size_t units_of(const char *s, uint16_t *u, size_t cap)
{
    size_t n = 0;
    for (; n < cap && s[n]; n++)
        u[n] = (uint8_t)s[n];
    return n;
}

/* endless-new-names: page `page` of names never sent before (the page counter makes them new). */
static void list_new_names(smb_wr *w, uint64_t page, size_t *prev)
{
    uint16_t name[32];
    for (unsigned i = 0; i < HS_NEW_NAMES_PER_PAGE; i++) {
        char leaf[32];
        snprintf(leaf, sizeof leaf, "n%llu-%u", (unsigned long long)page, i);
        size_t n = units_of(leaf, name, 32);
        hs_link(w, prev, hs_put_entry(w, name, n, false, 1, 100000 + page * HS_NEW_NAMES_PER_PAGE + i));
    }
}

void hs_list(smb_wr *w, int dir, hs_mode mode, uint64_t page, size_t *prev)
{
    uint16_t name[64];
    hs_link(w, prev, hs_put_entry(w, DOT, 1, true, 0, 1000));
    hs_link(w, prev, hs_put_entry(w, EVIL_DOTDOT, 2, true, 0, 1001));
    if (mode == HS_ENDLESS_NEW_NAMES && page > 0) {
        list_new_names(w, page, prev);
        return;
    }
    for (int i = 0; i < hs_nnodes; i++) {
        if (hs_nodes[i].parent != dir)
            continue;
        const char *leaf = strrchr(hs_nodes[i].path, '\\');
        leaf = leaf ? leaf + 1 : hs_nodes[i].path;
        size_t n = units_of(leaf, name, 64);
        hs_link(w, prev, hs_put_entry(w, name, n, hs_nodes[i].dir, hs_nodes[i].size, (uint64_t)i + 1));
    }
    if (mode == HS_EVIL_LISTING && dir == 0)
        for (size_t i = 0; i < sizeof EVIL / sizeof EVIL[0]; i++)
            hs_link(w, prev,
                    hs_put_entry(w, EVIL[i].u, EVIL[i].n, false,
                                 EVIL[i].u == EVIL_SURROGATE ? hs_nodes[SURROGATE_NODE].size : 5, 2000 + i));
    if (mode == HS_DUPLICATE_NAMES && dir == 0) {
        /* The same name twice, the second with another size and file id. */
        size_t n = units_of(hs_nodes[HS_DUP_NODE].path, name, 64);
        hs_link(w, prev, hs_put_entry(w, name, n, false, hs_nodes[HS_DUP_NODE].size, HS_DUP_NODE + 1));
        hs_link(w, prev, hs_put_entry(w, name, n, false, hs_nodes[HS_DUP_NODE].size + 2, 3000));
    }
}

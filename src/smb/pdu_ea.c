/*
 * Extended attribute lists (FILE_FULL_EA_INFORMATION, MS-FSCC 2.4.15):
 * NextEntryOffset (4), Flags (1), EaNameLength (1), EaValueLength (2),
 * EaName with its NUL terminator, EaValue. Decoded through common's bounded
 * reader: every length and offset comes from the network.
 */
#include <stdlib.h>
#include <string.h>

#include "helpers_internal.h"

/* One entry read at the reader's position; false when it does not hold together. */
typedef struct ea_entry {
    uint32_t next;
    uint8_t flags;
    uint8_t name_len;
    uint16_t value_len;
    const uint8_t *name;
    const uint8_t *value;
} ea_entry;

static bool read_entry(smb_rd *r, ea_entry *e)
{
    e->next = smb_rd_u32(r);
    e->flags = smb_rd_u8(r);
    e->name_len = smb_rd_u8(r);
    e->value_len = smb_rd_u16(r);
    e->name = smb_rd_ptr(r, e->name_len);
    uint8_t term = smb_rd_u8(r);
    e->value = smb_rd_ptr(r, e->value_len);
    if (!smb_rd_ok(r))
        return false;
    /* A name is what a C string can hold: not empty, no NUL inside, its terminator present. */
    return e->name_len > 0 && term == 0 && !memchr(e->name, 0, e->name_len);
}

/* The entry's own bytes: what NextEntryOffset must pass. */
static size_t entry_len(const ea_entry *e)
{
    return SMB2_EA_HEADER_LEN + (size_t)e->name_len + 1 + e->value_len;
}

int smb2_ea_list_decode(const uint8_t *buf, size_t len, smb_ea_list **out)
{
    *out = NULL;
    /* First pass: check the chain, count the entries and the bytes of their names and values. */
    size_t count = 0, bytes = 0, pos = 0;
    smb_rd r;
    smb_rd_init(&r, buf, len);
    while (len > 0) {
        ea_entry e;
        smb_rd_seek(&r, pos);
        if (!read_entry(&r, &e) || ++count > SMB_EA_LIST_MAX)
            return SMB_ERR_PROTOCOL;
        bytes += (size_t)e.name_len + 1 + e.value_len;
        if (e.next == 0)
            break;
        /* Forward only, past this entry, inside the buffer: the chain ends. */
        if (e.next < entry_len(&e) || e.next >= len - pos)
            return SMB_ERR_PROTOCOL;
        pos += e.next;
    }
    /* One block: the list, its entries, then names and values (bytes <= len: no overflow). */
    size_t head = sizeof(smb_ea_list) + count * sizeof(smb_ea);
    smb_ea_list *list = malloc(head + bytes + 1);
    if (!list)
        return SMB_ERR_NO_MEMORY;
    list->count = count;
    list->eas = count ? (smb_ea *)(list + 1) : NULL;
    char *data = (char *)list + head;
    pos = 0;
    smb_rd_init(&r, buf, len);
    for (size_t i = 0; i < count; i++) {
        ea_entry e;
        smb_rd_seek(&r, pos);
        (void)read_entry(&r, &e); /* checked above */
        memcpy(data, e.name, e.name_len);
        data[e.name_len] = '\0';
        list->eas[i].name = data;
        data += e.name_len + 1;
        list->eas[i].value = e.value_len ? (const uint8_t *)data : NULL;
        if (e.value_len)
            memcpy(data, e.value, e.value_len);
        data += e.value_len;
        list->eas[i].value_len = e.value_len;
        list->eas[i].flags = e.flags;
        pos += e.next;
    }
    *out = list;
    return 0;
}

void smb_ea_list_free(smb_ea_list *list) { free(list); }

void smb2_ea_encode(smb_wr *w, const char *name, size_t name_len, const void *value, uint16_t value_len)
{
    smb_wr_u32(w, 0); /* NextEntryOffset: the only entry */
    smb_wr_u8(w, 0);  /* Flags */
    smb_wr_u8(w, (uint8_t)name_len);
    smb_wr_u16(w, value_len);
    smb_wr_bytes(w, name, name_len);
    smb_wr_u8(w, 0); /* the name's terminator */
    if (value_len)
        smb_wr_bytes(w, value, value_len);
}

bool smb2_ea_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        /* Characters Windows refuses in an EA name (FsRtlIsFatDbcsLegal's set), and controls. */
        if (c < 0x20 || c > 0x7e || strchr("\"*+,/:;<=>?[\\]|", c))
            return false;
    }
    return true;
}

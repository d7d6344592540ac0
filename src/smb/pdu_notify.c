/*
 * CHANGE_NOTIFY (MS-SMB2 2.2.35, 2.2.36) and the FILE_NOTIFY_INFORMATION
 * list its response carries (MS-FSCC 2.7.1), decoded through the bounded
 * reader: every offset and length in it is the server's.
 */
#include <stdlib.h>
#include <string.h>

#include <smbcopy/notify.h>

#include "pdu_internal.h"
#include "utf16.h"

void smb2_notify_req_encode(smb_wr *w, smb2_fileid fid, uint32_t filter, bool watch_tree, uint32_t output_len)
{
    smb_wr_u16(w, 32);                                  /* StructureSize */
    smb_wr_u16(w, watch_tree ? SMB2_WATCH_TREE : 0);    /* Flags */
    smb_wr_u32(w, output_len);                          /* OutputBufferLength */
    smb2_wr_fileid(w, fid);
    smb_wr_u32(w, filter);                              /* CompletionFilter */
    smb_wr_u32(w, 0);                                   /* Reserved */
}

int smb2_notify_rsp_decode(smb_rd *r, smb2_blob *out)
{
    size_t end = smb2_rd_body(r, 9);
    uint16_t off = smb_rd_u16(r);
    uint32_t len = smb_rd_u32(r);
    smb2_rd_buffer(r, end, off, len, out);
    return smb2_rd_result(r);
}

void smb2_notify_list_free(smb_notify_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(ev[i].name);
    free(ev);
}

/* Entries are 4-byte aligned; NextEntryOffset 0 ends the list; each entry
 * lies wholly inside the buffer, its name too. Names become UTF-8 with '/'
 * between components. */
int smb2_notify_list_decode(const uint8_t *buf, size_t len, smb_notify_event **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    smb_rd r;
    smb_rd_init(&r, buf, len);
    smb_notify_event *ev = NULL;
    size_t n = 0, cap = 0;
    size_t pos = 0;
    while (len > 0) {
        smb_rd_seek(&r, pos);
        uint32_t next = smb_rd_u32(&r);
        uint32_t action = smb_rd_u32(&r);
        uint32_t name_len = smb_rd_u32(&r);
        const uint8_t *name = smb_rd_ptr(&r, name_len);
        if (!smb_rd_ok(&r) || name_len % 2 != 0 || (next != 0 && (next % 4 != 0 || next < 12 + name_len ||
                                                                  next > len - pos)))
            goto bad;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            smb_notify_event *grown = realloc(ev, ncap * sizeof *ev);
            if (!grown)
                goto nomem;
            ev = grown;
            cap = ncap;
        }
        char *utf8 = smb_utf16le_to_utf8(name, name_len);
        if (!utf8)
            goto bad;
        for (char *p = utf8; *p; p++)
            if (*p == '\\')
                *p = '/';
        ev[n++] = (smb_notify_event){.action = action, .name = utf8};
        if (next == 0)
            break;
        pos += next;
    }
    *out = ev;
    *count = n;
    return 0;
nomem:
    smb2_notify_list_free(ev, n);
    return SMB_ERR_NO_MEMORY;
bad:
    smb2_notify_list_free(ev, n);
    return SMB_ERR_PROTOCOL;
}

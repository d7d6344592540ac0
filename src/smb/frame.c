/* Compounded responses: one message of a frame at a time (see frame.h). */
#include "frame.h"

int smb2_compound_next(const uint8_t *frame, size_t len, size_t off, smb2_hdr *h, size_t *msg_len)
{
    *msg_len = 0;
    if (off >= len)
        return SMB_ERR_PROTOCOL;
    smb_rd rd;
    smb_rd_init(&rd, frame + off, len - off);
    if (smb2_hdr_decode(&rd, h) != 0)
        return SMB_ERR_PROTOCOL;
    size_t next = h->next_command;
    if (next == 0) {
        *msg_len = len - off;
        return 0;
    }
    *msg_len = next;
    /* Each message starts 8-byte aligned and holds at least a header (MS-SMB2 2.2.1). */
    if (next < SMB2_HDR_LEN || next % 8 || next >= len - off)
        return SMB_ERR_PROTOCOL;
    return 0;
}

/*
 * Splitting a received frame into its messages. Pure functions over the
 * frame's bytes, shared by the receiver (conn.c) and the fuzz targets.
 */
#ifndef SMBCOPY_FRAME_H
#define SMBCOPY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "pdu.h"

/**
 * The message at frame[off..len) of a frame of compounded responses
 * (MS-SMB2 3.2.5.1.9, 3.3.4.1.3): decode its header into *h and set
 * *msg_len to the message's length, which is NextCommand, or the rest of
 * the frame when NextCommand is 0 (the last message). Returns 0, or
 * SMB_ERR_PROTOCOL when the header is malformed (*msg_len is then 0) or
 * NextCommand is below 64, not a multiple of 8, or does not leave a
 * following message inside the frame (*msg_len is then NextCommand).
 */
int smb2_compound_next(const uint8_t *frame, size_t len, size_t off, smb2_hdr *h, size_t *msg_len);

#endif

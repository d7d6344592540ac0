/*
 * Fuzz target: one received frame as the receiver reads it after the Direct
 * TCP transport header (MS-SMB2 2.1): an SMB2 header (2.2.1), the chain of
 * compounded messages by NextCommand (3.2.5.1.9), and each message's body
 * by its Command, an error status giving the ERROR body (2.2.2). A frame
 * starting with a transform header (2.2.41) has that header decoded.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_rsp.h"
#include "pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 4 && memcmp(data, "\xFDSMB", 4) == 0) {
        smb_rd rd;
        smb_rd_init(&rd, data, size);
        smb2_transform_hdr th;
        (void)smb2_transform_hdr_decode(&rd, &th);
        return 0;
    }
    fuzz_frame_messages(data, size);
    return 0;
}

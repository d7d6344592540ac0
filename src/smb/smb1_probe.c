#include "smb1_probe.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "transport.h"
#include "common/wire.h"

#define SMB1_COM_NEGOTIATE 0x72
#define SMB1_HDR_LEN 32

bool smb1_server_is_smb1_only(const char *host, uint16_t port, unsigned timeout_ms)
{
    int fd = smb_tcp_connect(host, port, timeout_ms, NULL);
    if (fd < 0)
        return false;
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    static const char dialects[] = "\x02NT LM 0.12\0\x02SMB 2.002\0\x02SMB 2.???";
    uint8_t msg[4 + SMB1_HDR_LEN + 3 + sizeof dialects];
    smb_wr w;
    smb_wr_init(&w, msg, sizeof msg);
    smb_wr_be32(&w, (uint32_t)(sizeof msg - 4)); /* direct TCP length (MS-SMB2 2.1) */
    smb_wr_bytes(&w, "\xFFSMB", 4);
    smb_wr_u8(&w, SMB1_COM_NEGOTIATE);
    smb_wr_u32(&w, 0);      /* Status */
    smb_wr_u8(&w, 0x18);    /* Flags: canonicalised paths, case-insensitive */
    smb_wr_u16(&w, 0xC843); /* Flags2: unicode, NT status, extended security, long names */
    smb_wr_zero(&w, 2 + 8 + 2);
    smb_wr_u16(&w, 0xFFFF); /* TID */
    smb_wr_u16(&w, 0xFEFF); /* PIDLow */
    smb_wr_zero(&w, 4);     /* UID, MID */
    smb_wr_u8(&w, 0);       /* WordCount */
    smb_wr_u16(&w, sizeof dialects);
    smb_wr_bytes(&w, dialects, sizeof dialects);

    bool smb1_only = false;
    struct iovec iov = {msg, w.len};
    uint8_t reply[4 + SMB1_HDR_LEN + 3];
    if (smb_wr_ok(&w) && smb_tcp_writev_full(fd, &iov, 1) == 0 && smb_tcp_read_full(fd, reply, sizeof reply) == 0) {
        smb_rd r;
        smb_rd_init(&r, reply, sizeof reply);
        smb_rd_skip(&r, 4);
        const uint8_t *proto = smb_rd_ptr(&r, 4);
        uint8_t cmd = smb_rd_u8(&r);
        smb_rd_seek(&r, 4 + SMB1_HDR_LEN);
        uint8_t word_count = smb_rd_u8(&r);
        uint16_t dialect_index = smb_rd_u16(&r);
        smb1_only = smb_rd_ok(&r) && memcmp(proto, "\xFFSMB", 4) == 0 && cmd == SMB1_COM_NEGOTIATE &&
                    word_count >= 1 && dialect_index == 0;
    }
    close(fd);
    return smb1_only;
}

/*
 * The server's network interfaces (FSCTL_QUERY_NETWORK_INTERFACE_INFO,
 * MS-SMB2 2.2.32.5 and 3.2.4.20.10), for choosing multichannel paths.
 * The answer is untrusted: every entry is bounds-checked, the chain of Next
 * offsets must move forward inside the buffer, and the count is capped.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "objects.h"
#include "pdu.h"

#define IFACE_ENTRY_LEN 152u /* Next .. LinkSpeed (24) + SockAddr_Storage (128) */
#define FAMILY_INET 0x0002u
#define FAMILY_INET6 0x0017u
#define IFACE_RSS_CAPABLE 0x1u
#define IFACE_RDMA_CAPABLE 0x2u

int smb2_iface_list_decode(const uint8_t *buf, size_t len, smb_iface *out, size_t max, size_t *n)
{
    *n = 0;
    smb_rd r;
    smb_rd_init(&r, buf, len);
    size_t at = 0;
    for (;;) {
        smb_rd e = smb_rd_sub(&r, at, IFACE_ENTRY_LEN);
        uint32_t next = smb_rd_u32(&e);
        uint32_t if_index = smb_rd_u32(&e);
        uint32_t cap = smb_rd_u32(&e);
        smb_rd_skip(&e, 4); /* Reserved */
        uint64_t speed = smb_rd_u64(&e);
        uint16_t family = smb_rd_u16(&e);
        uint16_t port = smb_rd_be16(&e);
        uint8_t addr[16];
        if (family == FAMILY_INET6)
            smb_rd_skip(&e, 4); /* FlowInfo */
        smb_rd_bytes(&e, addr, family == FAMILY_INET6 ? 16 : 4);
        if (!smb_rd_ok(&e) || !smb_rd_ok(&r))
            return SMB_ERR_PROTOCOL;
        (void)port; /* MS-SMB2 2.2.32.5.1: zero; the client connects to the session's port */
        if ((family == FAMILY_INET || family == FAMILY_INET6) && *n < max) {
            smb_iface *i = &out[*n];
            memset(i, 0, sizeof *i);
            i->if_index = if_index;
            i->rss = cap & IFACE_RSS_CAPABLE;
            i->rdma = cap & IFACE_RDMA_CAPABLE;
            i->link_speed = speed;
            i->ipv6 = family == FAMILY_INET6;
            if (inet_ntop(i->ipv6 ? AF_INET6 : AF_INET, addr, i->addr, sizeof i->addr))
                (*n)++;
        }
        if (next == 0)
            return 0;
        /* Forward, aligned, room for a whole entry: a loop or an overlap is malformed. */
        if (next < IFACE_ENTRY_LEN || next % 8 || next > len - at)
            return SMB_ERR_PROTOCOL;
        at += next;
    }
}

int smb_query_interfaces(smb_tree *t, smb_iface **out, size_t *n, smb_error *err)
{
    *out = NULL;
    *n = 0;
    enum { CAP = 64 * 1024, MAX = 256 };
    uint8_t *buf = malloc(CAP);
    smb_iface *list = calloc(MAX, sizeof *list);
    int rc = buf && list ? 0 : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    size_t got = 0;
    if (rc == 0)
        rc = smb_fsctl(t, NULL, SMB_FSCTL_QUERY_NETWORK_INTERFACE_INFO, NULL, 0, buf, CAP, &got, err);
    if (rc == 0 && smb2_iface_list_decode(buf, got, list, MAX, n) != 0)
        rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed network interface list from the server");
    free(buf);
    if (rc != 0 || *n == 0) {
        free(list);
        *n = 0;
        return rc;
    }
    *out = list;
    return 0;
}

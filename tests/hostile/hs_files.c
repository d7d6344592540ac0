/*
 * The hostile server's share commands: TREE_CONNECT (MS-SMB2 3.3.5.7),
 * CREATE (3.3.5.9), CLOSE (3.3.5.10), READ (3.3.5.12), QUERY_INFO
 * (3.3.5.20), QUERY_DIRECTORY (3.3.5.18) and IOCTL (3.3.5.15), over the
 * fixed read-only tree of hs_tree.c (and the store of hs_store.c), with the
 * modes' bad offsets and endless listings.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "hs.h"

#define FILETIME_2022 133000000000000000ull

bool hs_reply_status(hs_conn *c, const hs_req *req, uint32_t status)
{
    smb_wr w;
    hs_rsp_begin(&w, c, req, status);
    hs_error_body(&w);
    return hs_send(c, req, &w, false);
}

bool hs_tree_connect(hs_conn *c, const hs_req *req)
{
    smb_rd r = hs_req_at(req, 4);
    uint16_t off = smb_rd_u16(&r), len = smb_rd_u16(&r);
    smb_rd p = smb_rd_sub(&r, off, len);
    /* "\\host\share": the share is what follows the last backslash. */
    size_t start = 0;
    for (size_t i = 0; i + 1 < p.len; i += 2)
        if (smb_le16(p.base + i) == '\\')
            start = i + 2;
    char share[32] = {0};
    size_t n = 0;
    for (size_t i = start; i + 1 < p.len && n + 1 < sizeof share; i += 2)
        share[n++] = (char)smb_le16(p.base + i);
    if (!smb_rd_ok(&r) || strcasecmp(share, HS_SHARE) != 0)
        return hs_reply_status(c, req, HS_STATUS_BAD_NETWORK_NAME);
    c->tree_id = 7;
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_put32(w.buf + 36, c->tree_id);
    smb_wr_u16(&w, 16); /* StructureSize (MS-SMB2 2.2.10) */
    smb_wr_u8(&w, 1);   /* SHARE_TYPE_DISK */
    smb_wr_u8(&w, 0);
    smb_wr_u32(&w, 0);          /* ShareFlags */
    smb_wr_u32(&w, 0);          /* Capabilities */
    smb_wr_u32(&w, 0x001F01FFu); /* MaximalAccess */
    return hs_send(c, req, &w, false);
}

static smb2_fileid read_fid(smb_rd *r, hs_conn *c)
{
    smb2_fileid f = {smb_rd_u64(r), smb_rd_u64(r)};
    if (f.persistent == UINT64_MAX && f.volatile_ == UINT64_MAX)
        f = c->last_fid; /* related compound member (MS-SMB2 3.3.5.2.7.2) */
    return f;
}

static hs_open *find_open(hs_conn *c, smb2_fileid f)
{
    if (f.persistent == UINT64_MAX && f.volatile_ == UINT64_MAX)
        f = c->last_fid; /* related compound member (MS-SMB2 3.3.5.2.7.2) */
    uint64_t i = f.persistent - 1;
    if (f.persistent == 0 || i >= HS_MAX_OPENS || f.volatile_ != f.persistent + 0x100 || !c->opens[i].used)
        return NULL;
    return &c->opens[i];
}

hs_open *hs_find_open(hs_conn *c, smb_rd *r)
{
    smb2_fileid f = {smb_rd_u64(r), smb_rd_u64(r)};
    return smb_rd_ok(r) ? find_open(c, f) : NULL;
}

/* Network-open metadata of node n: 4 times, AllocationSize, EndOfFile, attributes. */
static void put_times(smb_wr *w, int n)
{
    for (int i = 0; i < 4; i++)
        smb_wr_u64(w, FILETIME_2022);
    smb_wr_u64(w, (hs_nodes[n].size + 4095) & ~4095ull);
    smb_wr_u64(w, hs_nodes[n].size);
    smb_wr_u32(w, hs_nodes[n].dir ? 0x10 : 0x80);
}

bool hs_create(hs_conn *c, const hs_req *req)
{
    smb_rd r = hs_req_at(req, 24);
    uint32_t access = smb_rd_u32(&r);
    smb_rd_skip(&r, 8); /* FileAttributes, ShareAccess */
    uint32_t disposition = smb_rd_u32(&r);
    uint32_t options = smb_rd_u32(&r);
    uint16_t off = smb_rd_u16(&r), len = smb_rd_u16(&r);
    smb_rd name = smb_rd_sub(&r, off, len);
    if (!smb_rd_ok(&r))
        return hs_reply_status(c, req, HS_STATUS_INVALID_PARAMETER);
    (void)access;
    int n = hs_lookup(name.base, name.len);
    if (n < 0 && c->store >= 0)
        return hs_store_create(c, req, name.base, name.len, disposition, options);
    uint32_t status = HS_STATUS_SUCCESS;
    if (n < 0)
        status = disposition == 1 /* FILE_OPEN */ ? HS_STATUS_NOT_FOUND : HS_STATUS_ACCESS_DENIED;
    else if (disposition == 2 /* FILE_CREATE */)
        status = HS_STATUS_COLLISION;
    else if (disposition != 1 && disposition != 3 /* FILE_OPEN_IF */)
        status = HS_STATUS_ACCESS_DENIED; /* read-only share */
    else if ((options & 0x1) && !hs_nodes[n].dir)
        status = HS_STATUS_NOT_A_DIRECTORY;
    else if ((options & 0x40) && hs_nodes[n].dir)
        status = HS_STATUS_IS_A_DIRECTORY;
    int slot = -1;
    for (int i = 0; status == HS_STATUS_SUCCESS && i < HS_MAX_OPENS && slot < 0; i++)
        if (!c->opens[i].used)
            slot = i;
    if (status == HS_STATUS_SUCCESS && slot < 0)
        status = HS_STATUS_ACCESS_DENIED;
    if (status != HS_STATUS_SUCCESS)
        return hs_reply_status(c, req, status);
    c->opens[slot] = (hs_open){.used = true, .node = n, .fd = -1};
    c->last_fid = (smb2_fileid){(uint64_t)slot + 1, (uint64_t)slot + 1 + 0x100};

    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 89); /* StructureSize (MS-SMB2 2.2.14) */
    smb_wr_u8(&w, 0);   /* OplockLevel */
    smb_wr_u8(&w, 0);
    smb_wr_u32(&w, 1); /* FILE_OPENED */
    put_times(&w, n);
    smb_wr_u32(&w, 0);
    smb_wr_u64(&w, c->last_fid.persistent);
    smb_wr_u64(&w, c->last_fid.volatile_);
    if (c->mode == HS_CREATE_CTX_OOB) {
        smb_wr_u32(&w, 64 + 88); /* CreateContextsOffset: right after the fixed part... */
        smb_wr_u32(&w, 4096);    /* ...and far longer than the frame */
    } else {
        smb_wr_u32(&w, 0);
        smb_wr_u32(&w, 0);
    }
    smb_wr_zero(&w, 8);
    return hs_send(c, req, &w, false);
}

bool hs_close(hs_conn *c, const hs_req *req)
{
    smb_rd r = hs_req_at(req, 2);
    uint16_t flags = smb_rd_u16(&r);
    smb_rd_skip(&r, 4);
    hs_open *o = find_open(c, read_fid(&r, c));
    if (!o)
        return hs_reply_status(c, req, HS_STATUS_INVALID_HANDLE);
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 60); /* StructureSize (MS-SMB2 2.2.16) */
    smb_wr_u16(&w, flags & SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB);
    smb_wr_u32(&w, 0);
    if ((flags & SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB) && o->node < 0)
        hs_store_put_times(&w, o);
    else if (flags & SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB)
        put_times(&w, o->node);
    else
        smb_wr_zero(&w, 52);
    if (o->node < 0)
        hs_store_close(c, o);
    o->used = false;
    return hs_send(c, req, &w, false);
}

/*
 * STATUS_PENDING forever: an interim response (MS-SMB2 3.3.4.2) for every
 * READ, repeated every 250 ms, never a final one. Further READs join the
 * list; other requests are not answered.
 */
static bool pending_forever(hs_conn *c, const hs_req *first)
{
    uint64_t mids[64];
    int n = 0;
    mids[n++] = first->h.message_id;
    hs_req req = *first;
    for (;;) {
        for (int i = 0; i < n; i++) {
            req.h.message_id = mids[i];
            smb_wr w;
            hs_rsp_begin(&w, c, &req, HS_STATUS_PENDING);
            smb_put32(w.buf + 16, SMB2_FLAGS_SERVER_TO_REDIR | SMB2_FLAGS_ASYNC_COMMAND);
            smb_put64(w.buf + 32, 0x5000 + mids[i]); /* AsyncId */
            hs_error_body(&w);
            if (!hs_send(c, &req, &w, false))
                return false;
        }
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 250) <= 0)
            continue;
        uint8_t *frame = NULL;
        size_t len = 0;
        if (!hs_read_frame(c->fd, &frame, &len))
            return false; /* the client gave up */
        smb_rd rd;
        smb_rd_init(&rd, frame, len);
        smb2_hdr h;
        if (smb2_hdr_decode(&rd, &h) == 0 && h.command == SMB2_READ && n < 64)
            mids[n++] = h.message_id;
        free(frame);
    }
}

bool hs_read(hs_conn *c, const hs_req *req)
{
    smb_rd r = hs_req_at(req, 4);
    uint32_t length = smb_rd_u32(&r);
    uint64_t offset = smb_rd_u64(&r);
    hs_open *o = find_open(c, read_fid(&r, c));
    if (o && o->node < 0)
        return hs_store_read(c, req, o, length, offset);
    if (!o || hs_nodes[o->node].dir)
        return hs_reply_status(c, req, o ? HS_STATUS_INVALID_PARAMETER : HS_STATUS_INVALID_HANDLE);
    uint64_t size = hs_nodes[o->node].size;
    if (offset >= size)
        return hs_reply_status(c, req, HS_STATUS_END_OF_FILE);
    if (length > HS_MAX_IO)
        length = HS_MAX_IO;
    uint32_t n = size - offset < length ? (uint32_t)(size - offset) : length;

    if (c->mode == HS_PENDING_FOREVER)
        return pending_forever(c, req);

    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 17); /* StructureSize (MS-SMB2 2.2.20) */
    smb_wr_u8(&w, 80);  /* DataOffset */
    smb_wr_u8(&w, 0);
    smb_wr_u32(&w, c->mode == HS_READ_OOB ? n + 4096 : n); /* DataLength */
    smb_wr_u32(&w, 0);
    smb_wr_u32(&w, 0);
    for (uint32_t i = 0; i < n; i++)
        smb_wr_u8(&w, hs_file_byte(o->node, offset + i));
    return hs_send(c, req, &w, false);
}

/* File information (MS-FSCC 2.4) of class cls for node n; false when not supported. */
static bool put_file_info(smb_wr *w, int n, uint8_t cls)
{
    const hs_node *nd = &hs_nodes[n];
    switch (cls) {
    case 4: /* FileBasicInformation */
        for (int i = 0; i < 4; i++)
            smb_wr_u64(w, FILETIME_2022);
        smb_wr_u32(w, nd->dir ? 0x10 : 0x80);
        smb_wr_u32(w, 0);
        return true;
    case 5: /* FileStandardInformation */
        smb_wr_u64(w, (nd->size + 4095) & ~4095ull);
        smb_wr_u64(w, nd->size);
        smb_wr_u32(w, 1);
        smb_wr_u8(w, 0);
        smb_wr_u8(w, nd->dir);
        smb_wr_u16(w, 0);
        return true;
    case 6: /* FileInternalInformation */
        smb_wr_u64(w, (uint64_t)n + 1);
        return true;
    case 34: /* FileNetworkOpenInformation */
        put_times(w, n);
        smb_wr_u32(w, 0);
        return true;
    default:
        return false;
    }
}

/*
 * bad-sd: a security descriptor query (SMB2_0_INFO_SECURITY) on a file of
 * the tree answered with a buffer that breaks MS-SMB2 2.2.38: for
 * good1.txt an OutputBufferLength 4096 bytes past the frame, for the
 * others 8 bytes more than the request's OutputBufferLength allows
 * (3.3.5.20.3).
 */
static bool bad_sd(hs_conn *c, const hs_req *req, const hs_open *o)
{
    smb_rd r = hs_req_at(req, 4);
    uint32_t asked = smb_rd_u32(&r);
    if (asked > HS_MAX_IO)
        asked = HS_MAX_IO;
    bool past = o->node == 1;
    uint32_t len = past ? 64 : asked + 8;
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 9); /* StructureSize (MS-SMB2 2.2.38) */
    smb_wr_u16(&w, 72);
    smb_wr_u32(&w, past ? len + 4096 : len);
    for (uint32_t i = 0; i < len; i++)
        smb_wr_u8(&w, (uint8_t)(i * 13 + 1));
    return hs_send(c, req, &w, false);
}

/*
 * sd-changed: the descriptor of a stored file, whatever was set on it: a
 * DACL giving Everyone (S-1-1-0) full access and owner S-1-22-1-0, in
 * self-relative form (MS-DTYP 2.4.6).
 */
static bool changed_sd(hs_conn *c, const hs_req *req)
{
    static const uint8_t sd[] = {
        1, 0, 0x04, 0x80, 48, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, /* header: DACL present */
        2, 0, 28, 0, 1, 0, 0, 0,                                           /* ACL: 28 bytes, 1 ACE */
        0, 0, 20, 0, 0xff, 0x01, 0x1f, 0x00, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, /* allow FA to S-1-1-0 */
        1, 2, 0, 0, 0, 0, 0, 22, 1, 0, 0, 0, 0, 0, 0, 0,                   /* owner S-1-22-1-0 */
    };
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 9); /* StructureSize (MS-SMB2 2.2.38) */
    smb_wr_u16(&w, 72);
    smb_wr_u32(&w, sizeof sd);
    smb_wr_bytes(&w, sd, sizeof sd);
    return hs_send(c, req, &w, false);
}

bool hs_query_info(hs_conn *c, const hs_req *req)
{
    smb_rd r = hs_req_at(req, 2);
    uint8_t type = smb_rd_u8(&r), cls = smb_rd_u8(&r);
    smb_rd_seek(&r, 64 + 24);
    hs_open *o = find_open(c, read_fid(&r, c));
    if (!o)
        return hs_reply_status(c, req, HS_STATUS_INVALID_HANDLE);
    if (o->node < 0 && type == SMB_INFO_FILE)
        return hs_store_query_info(c, req, o, cls);
    if (o->node < 0 && type == SMB_INFO_SECURITY && c->mode == HS_SD_CHANGED)
        return changed_sd(c, req);
    if (c->mode == HS_BAD_SD && type == SMB_INFO_SECURITY && o->node >= 0 && !hs_nodes[o->node].dir)
        return bad_sd(c, req, o);
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 9); /* StructureSize (MS-SMB2 2.2.38) */
    smb_wr_u16(&w, 72);
    size_t len_at = smb_wr_reserve(&w, 4);
    if (type != SMB_INFO_FILE || !put_file_info(&w, o->node, cls)) {
        smb_wr_free(&w);
        fprintf(stderr, "hostile_smbd: QUERY_INFO type %u class %u not supported\n", type, cls);
        return hs_reply_status(c, req, HS_STATUS_NOT_SUPPORTED);
    }
    smb_wr_put_u32(&w, len_at, (uint32_t)(w.len - 72));
    return hs_send(c, req, &w, false);
}

bool hs_query_directory(hs_conn *c, const hs_req *req)
{
    smb_rd r = hs_req_at(req, 2);
    uint8_t cls = smb_rd_u8(&r), flags = smb_rd_u8(&r);
    smb_rd_skip(&r, 4);
    hs_open *o = find_open(c, read_fid(&r, c));
    if (!o || (o->node >= 0 && !hs_nodes[o->node].dir) || (o->node < 0 && !o->dir))
        return hs_reply_status(c, req, o ? HS_STATUS_INVALID_PARAMETER : HS_STATUS_INVALID_HANDLE);
    if (cls != SMB2_FILE_ID_FULL_DIRECTORY_INFORMATION)
        return hs_reply_status(c, req, HS_STATUS_NOT_SUPPORTED);
    if (flags & (SMB2_RESTART_SCANS | SMB2_REOPEN)) {
        o->listed = false;
        o->pages = 0;
    }
    /* The endless modes never say STATUS_NO_MORE_FILES. */
    bool endless = c->mode == HS_ENDLESS_SAME_PAGE || c->mode == HS_ENDLESS_NEW_NAMES;
    if (o->listed && !endless)
        return hs_reply_status(c, req, HS_STATUS_NO_MORE_FILES);
    o->listed = true;
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 9); /* StructureSize (MS-SMB2 2.2.34) */
    smb_wr_u16(&w, 72);
    size_t len_at = smb_wr_reserve(&w, 4);
    size_t prev = SIZE_MAX;
    if (o->node >= 0)
        hs_list(&w, o->node, c->mode, o->pages, &prev);
    if (c->store >= 0 && (o->node < 0 || o->node == 0) && o->pages == 0)
        hs_store_list(c, o, &w, &prev);
    o->pages++;
    if (c->mode == HS_DIRENT_OOB && prev != SIZE_MAX)
        smb_wr_put_u32(&w, prev + 60, 0x10000); /* FileNameLength of the last entry: past the buffer */
    uint32_t out_len = (uint32_t)(w.len - 72);
    smb_wr_put_u32(&w, len_at, c->mode == HS_DIR_OOB ? out_len + 65536 : out_len);
    return hs_send(c, req, &w, false);
}

bool hs_ioctl(hs_conn *c, const hs_req *req)
{
    smb_rd r = hs_req_at(req, 4);
    uint32_t ctl = smb_rd_u32(&r);
    smb2_fileid fid = read_fid(&r, c);
    uint32_t in_off = smb_rd_u32(&r), in_len = smb_rd_u32(&r);
    smb_rd in = smb_rd_sub(&r, in_off, in_len);
    hs_open *o = find_open(c, fid);
    smb_wr out;
    smb_wr_init_grow(&out, 64);
    if (ctl == SMB_FSCTL_QUERY_ALLOCATED_RANGES && o) {
        /* One range: all of the file that the query covers (MS-FSCC 2.3.52). */
        uint64_t off = smb_rd_u64(&in), len = smb_rd_u64(&in);
        uint64_t size = o->node < 0 ? hs_store_size(o) : hs_nodes[o->node].size;
        if (off < size) {
            smb_wr_u64(&out, off);
            smb_wr_u64(&out, size - off < len ? size - off : len);
        }
    } else if (ctl == SMB_FSCTL_QUERY_NETWORK_INTERFACE_INFO || c->mode == HS_IOCTL_OOB) {
        /* NETWORK_INTERFACE_INFO (MS-SMB2 2.2.32.5): 127.0.0.1, 1 Gb/s. */
        smb_wr_u32(&out, 0);
        smb_wr_u32(&out, 1);
        smb_wr_u32(&out, 0);
        smb_wr_u32(&out, 0);
        smb_wr_u64(&out, 1000000000ull);
        smb_wr_u16(&out, 2); /* AF_INET */
        smb_wr_u16(&out, 0);
        smb_wr_be32(&out, 0x7f000001u);
        smb_wr_zero(&out, 120);
    } else if (c->mode == HS_REFUSE_COPYCHUNK && ctl == SMB_FSCTL_SRV_REQUEST_RESUME_KEY && o) {
        /* SRV_REQUEST_RESUME_KEY (MS-SMB2 2.2.32.3): a 24-byte key, no context. */
        smb_wr_zero(&out, 24);
        smb_wr_u32(&out, 0);
    } else if (c->mode == HS_REFUSE_COPYCHUNK && ctl == SMB_FSCTL_SRV_COPYCHUNK_WRITE) {
        smb_wr_free(&out);
        return hs_reply_status(c, req, HS_STATUS_INVALID_DEVICE_REQUEST);
    } else {
        smb_wr_free(&out);
        fprintf(stderr, "hostile_smbd: IOCTL 0x%08x not supported\n", ctl);
        return hs_reply_status(c, req, HS_STATUS_NOT_SUPPORTED);
    }
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 49); /* StructureSize (MS-SMB2 2.2.32) */
    smb_wr_u16(&w, 0);
    smb_wr_u32(&w, ctl);
    smb_wr_u64(&w, fid.persistent);
    smb_wr_u64(&w, fid.volatile_);
    smb_wr_u32(&w, 112); /* InputOffset */
    smb_wr_u32(&w, 0);
    smb_wr_u32(&w, 112);                                                          /* OutputOffset */
    smb_wr_u32(&w, c->mode == HS_IOCTL_OOB ? (uint32_t)out.len + 8192 : (uint32_t)out.len); /* OutputCount */
    smb_wr_u32(&w, 0);
    smb_wr_u32(&w, 0);
    smb_wr_bytes(&w, out.buf, out.len);
    smb_wr_free(&out);
    return hs_send(c, req, &w, false);
}

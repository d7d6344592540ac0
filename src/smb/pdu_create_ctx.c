/*
 * The data of the create contexts the library builds itself (MS-SMB2
 * 2.2.13.2: lease, durable handle requests and reconnects) and the decoding
 * of the reply contexts it knows (2.2.14.2) into smb_create_reply.
 */
#include <string.h>

#include "pdu_internal.h"

size_t smb2_lease_req_encode(uint8_t out[SMB2_LEASE_V2_LEN], int version, const uint8_t key[16], uint32_t state,
                             uint16_t epoch)
{
    smb_wr w;
    smb_wr_init(&w, out, SMB2_LEASE_V2_LEN);
    smb_wr_bytes(&w, key, 16);
    smb_wr_u32(&w, state);
    smb_wr_u32(&w, 0); /* LeaseFlags: no parent key */
    smb_wr_u64(&w, 0); /* LeaseDuration: reserved */
    if (version == 2) {
        smb_wr_zero(&w, 16); /* ParentLeaseKey */
        smb_wr_u16(&w, epoch);
        smb_wr_u16(&w, 0); /* Reserved */
    }
    return w.len;
}

size_t smb2_dhnq_encode(uint8_t out[16])
{
    memset(out, 0, 16); /* DurableRequest: reserved, zero (2.2.13.2.3) */
    return 16;
}

size_t smb2_dh2q_encode(uint8_t out[32], uint32_t timeout_ms, bool persistent, const uint8_t guid[16])
{
    smb_wr w;
    smb_wr_init(&w, out, 32);
    smb_wr_u32(&w, timeout_ms);
    smb_wr_u32(&w, persistent ? SMB2_DHANDLE_FLAG_PERSISTENT : 0);
    smb_wr_u64(&w, 0); /* Reserved */
    smb_wr_bytes(&w, guid, 16);
    return w.len;
}

size_t smb2_dhnc_encode(uint8_t out[16], smb2_fileid fid)
{
    smb_wr w;
    smb_wr_init(&w, out, 16);
    smb2_wr_fileid(&w, fid);
    return w.len;
}

size_t smb2_dh2c_encode(uint8_t out[36], smb2_fileid fid, const uint8_t guid[16], bool persistent)
{
    smb_wr w;
    smb_wr_init(&w, out, 36);
    smb2_wr_fileid(&w, fid);
    smb_wr_bytes(&w, guid, 16);
    smb_wr_u32(&w, persistent ? SMB2_DHANDLE_FLAG_PERSISTENT : 0);
    return w.len;
}

static bool tag_is(const smb2_blob *name, const char *tag)
{
    return name->len == 4 && memcmp(name->data, tag, 4) == 0;
}

/* One reply context into out: 0, or SMB_ERR_PROTOCOL for a context of a
 * known tag whose data is too short. */
static int decode_one(const smb2_blob *name, const smb2_blob *data, smb_create_reply *out)
{
    smb_rd d;
    smb_rd_init(&d, data->data, data->len);
    if (tag_is(name, "MxAc")) { /* 2.2.14.2.5 */
        out->maximal_access_status = smb_rd_u32(&d);
        out->maximal_access = smb_rd_u32(&d);
        out->has_maximal_access = smb_rd_ok(&d);
    } else if (tag_is(name, "QFid")) { /* 2.2.14.2.9 */
        out->on_disk_file_id = smb_rd_u64(&d);
        out->on_disk_volume_id = smb_rd_u64(&d);
        out->has_on_disk_id = smb_rd_ok(&d);
    } else if (tag_is(name, "RqLs")) { /* 2.2.14.2.10 (32 bytes), 2.2.14.2.11 (52) */
        smb_rd_bytes(&d, out->lease_key, 16);
        out->lease_state = smb_rd_u32(&d);
        out->lease_flags = smb_rd_u32(&d);
        smb_rd_skip(&d, 8); /* LeaseDuration */
        if (data->len >= SMB2_LEASE_V2_LEN) {
            smb_rd_bytes(&d, out->parent_lease_key, 16);
            out->lease_epoch = smb_rd_u16(&d);
        }
        out->has_lease = smb_rd_ok(&d);
    } else if (tag_is(name, "DHnQ")) { /* 2.2.14.2.3: 8 reserved bytes */
        smb_rd_skip(&d, 8);
        if (smb_rd_ok(&d))
            out->durable = SMB_DURABLE_V1;
    } else if (tag_is(name, "DH2Q")) { /* 2.2.14.2.12 */
        out->durable_timeout_ms = smb_rd_u32(&d);
        out->persistent = (smb_rd_u32(&d) & SMB2_DHANDLE_FLAG_PERSISTENT) != 0;
        if (smb_rd_ok(&d))
            out->durable = SMB_DURABLE_V2;
    } else {
        out->other_contexts++;
    }
    return smb2_rd_result(&d);
}

int smb2_create_reply_decode(const smb2_blob *contexts, smb_create_reply *out)
{
    smb_rd r;
    smb_rd_init(&r, contexts->data, contexts->len);
    smb2_blob name, data;
    int rc;
    while ((rc = smb2_create_ctx_next(&r, &name, &data)) == 1) {
        if (decode_one(&name, &data, out) != 0)
            return SMB_ERR_PROTOCOL;
    }
    return rc;
}

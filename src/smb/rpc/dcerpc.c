/*
 * Connection-oriented DCE/RPC PDUs (C706 chapter 12, MS-RPCE 2.2.2): the
 * common header, BIND / BIND_ACK / BIND_NAK, REQUEST, and RESPONSE
 * fragments put back together.
 */
#include "dcerpc.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

const dcerpc_syntax dcerpc_syntax_ndr20 = {
    .time_low = 0x8a885d04u,
    .time_mid = 0x1ceb,
    .time_hi_and_version = 0x11c9,
    .clock_seq_and_node = {0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60},
    .major = 2,
    .minor = 0,
};

/* ------------------------------------------------------------ header */

static void hdr_encode(smb_wr *w, uint8_t ptype, uint8_t flags, uint32_t call_id)
{
    smb_wr_u8(w, 5); /* rpc_vers */
    smb_wr_u8(w, 0); /* rpc_vers_minor */
    smb_wr_u8(w, ptype);
    smb_wr_u8(w, flags);
    smb_wr_u8(w, DCERPC_DREP_LE_ASCII);
    smb_wr_zero(w, 3); /* drep: IEEE floats (0), two reserved bytes */
    smb_wr_u16(w, 0);  /* frag_length, patched by the caller */
    smb_wr_u16(w, 0);  /* auth_length */
    smb_wr_u32(w, call_id);
}

int dcerpc_hdr_decode(smb_rd *r, dcerpc_hdr *h, smb_error *err)
{
    uint8_t vers = smb_rd_u8(r);
    uint8_t minor = smb_rd_u8(r);
    h->ptype = smb_rd_u8(r);
    h->flags = smb_rd_u8(r);
    uint8_t drep0 = smb_rd_u8(r);
    uint8_t drep1 = smb_rd_u8(r);
    smb_rd_skip(r, 2);
    h->frag_length = smb_rd_u16(r);
    uint16_t auth_length = smb_rd_u16(r);
    h->call_id = smb_rd_u32(r);
    if (!smb_rd_ok(r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC header cut short");
    if (vers != 5 || minor > 1)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC version %u.%u (not 5.0)", vers, minor);
    /* Only the representation asked for is decoded: a big-endian or EBCDIC
     * peer would need other readers. */
    if (drep0 != DCERPC_DREP_LE_ASCII || drep1 != 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC data representation %02x %02x (not little-endian ASCII IEEE)",
                           drep0, drep1);
    if (auth_length != 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC PDU with authentication data (auth_length %u)",
                           auth_length);
    if (h->frag_length < DCERPC_HDR_LEN)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC frag_length %u below the header's size", h->frag_length);
    return 0;
}

/* ------------------------------------------------------------ syntaxes */

static void syntax_encode(smb_wr *w, const dcerpc_syntax *s)
{
    smb_wr_u32(w, s->time_low);
    smb_wr_u16(w, s->time_mid);
    smb_wr_u16(w, s->time_hi_and_version);
    smb_wr_bytes(w, s->clock_seq_and_node, sizeof s->clock_seq_and_node);
    smb_wr_u16(w, s->major);
    smb_wr_u16(w, s->minor);
}

static void syntax_decode(smb_rd *r, dcerpc_syntax *s)
{
    s->time_low = smb_rd_u32(r);
    s->time_mid = smb_rd_u16(r);
    s->time_hi_and_version = smb_rd_u16(r);
    smb_rd_bytes(r, s->clock_seq_and_node, sizeof s->clock_seq_and_node);
    s->major = smb_rd_u16(r);
    s->minor = smb_rd_u16(r);
}

static bool syntax_equal(const dcerpc_syntax *a, const dcerpc_syntax *b)
{
    return a->time_low == b->time_low && a->time_mid == b->time_mid &&
           a->time_hi_and_version == b->time_hi_and_version &&
           memcmp(a->clock_seq_and_node, b->clock_seq_and_node, sizeof a->clock_seq_and_node) == 0 &&
           a->major == b->major && a->minor == b->minor;
}

/* ------------------------------------------------------------ bind */

void dcerpc_bind_encode(smb_wr *w, uint32_t call_id, uint16_t max_frag, const dcerpc_syntax *abstract)
{
    size_t start = w->len;
    hdr_encode(w, DCERPC_PTYPE_BIND, DCERPC_PFC_FIRST_FRAG | DCERPC_PFC_LAST_FRAG, call_id);
    smb_wr_u16(w, max_frag); /* max_xmit_frag */
    smb_wr_u16(w, max_frag); /* max_recv_frag */
    smb_wr_u32(w, 0);        /* assoc_group_id: a new group */
    smb_wr_u8(w, 1);         /* n_context_elem */
    smb_wr_zero(w, 3);       /* reserved, reserved2 */
    smb_wr_u16(w, 0);        /* p_cont_id */
    smb_wr_u8(w, 1);         /* n_transfer_syn */
    smb_wr_u8(w, 0);         /* reserved */
    syntax_encode(w, abstract);
    syntax_encode(w, &dcerpc_syntax_ndr20);
    if (smb_wr_ok(w))
        smb_wr_put_u16(w, start + 8, (uint16_t)(w->len - start));
}

static const char *bind_reason(uint16_t reason)
{
    /* p_provider_reason_t (C706 12.6.3.1) */
    switch (reason) {
    case 0: return "reason not specified";
    case 1: return "abstract syntax not supported";
    case 2: return "proposed transfer syntaxes not supported";
    case 3: return "local limit exceeded";
    default: return "unknown reason";
    }
}

static const char *nak_reason(uint16_t reason)
{
    /* p_reject_reason_t (C706 12.6.3.1) */
    switch (reason) {
    case 0: return "reason not specified";
    case 1: return "temporary congestion";
    case 2: return "local limit exceeded";
    case 3: return "called presentation address unknown";
    case 4: return "protocol version not supported";
    case 5: return "default context not supported";
    case 6: return "user data not readable";
    case 7: return "no presentation service access point available";
    default: return "unknown reason";
    }
}

/* Read one whole PDU pdu[0..len): its header, with frag_length equal to len. */
static int one_pdu(smb_rd *r, const uint8_t *pdu, size_t len, uint32_t call_id, dcerpc_hdr *h, const char *what,
                   smb_error *err)
{
    smb_rd_init(r, pdu, len);
    int rc = dcerpc_hdr_decode(r, h, err);
    if (rc != 0)
        return rc;
    if (h->frag_length != len)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC %s of %zu bytes says frag_length %u", what, len,
                           h->frag_length);
    if (h->call_id != call_id)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC %s for call %u, not %u", what, h->call_id, call_id);
    return 0;
}

/* The FAULT PDU's status (C706 12.6.4.7): after alloc_hint, p_cont_id, cancel_count and a reserved byte. */
static int fault_decode(smb_rd *r, smb_error *err)
{
    smb_rd_skip(r, 8);
    uint32_t status = smb_rd_u32(r);
    if (!smb_rd_ok(r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC FAULT cut short");
    return dcerpc_fault_error(status, err);
}

int dcerpc_bind_ack_decode(const uint8_t *pdu, size_t len, uint32_t call_id, dcerpc_bind_ack *ack, smb_error *err)
{
    smb_rd r;
    dcerpc_hdr h;
    int rc = one_pdu(&r, pdu, len, call_id, &h, "answer to BIND", err);
    if (rc != 0)
        return rc;
    if (h.ptype == DCERPC_PTYPE_FAULT)
        return fault_decode(&r, err);
    if (h.ptype == DCERPC_PTYPE_BIND_NAK) {
        uint16_t reason = smb_rd_u16(&r);
        if (!smb_rd_ok(&r))
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC BIND_NAK cut short");
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "the server refused the RPC bind (BIND_NAK: %s, %u)",
                           nak_reason(reason), reason);
    }
    if (h.ptype != DCERPC_PTYPE_BIND_ACK)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC PDU type %u in answer to BIND", h.ptype);
    ack->max_xmit_frag = smb_rd_u16(&r);
    ack->max_recv_frag = smb_rd_u16(&r);
    ack->assoc_group_id = smb_rd_u32(&r);
    /* sec_addr (port_spec_t): a counted string, then padding to 4 bytes. */
    uint16_t addr_len = smb_rd_u16(&r);
    smb_rd_skip(&r, addr_len);
    smb_rd_align(&r, 4);
    uint8_t n_results = smb_rd_u8(&r);
    smb_rd_skip(&r, 3);
    uint16_t result = smb_rd_u16(&r);
    uint16_t reason = smb_rd_u16(&r);
    dcerpc_syntax transfer;
    syntax_decode(&r, &transfer);
    if (!smb_rd_ok(&r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC BIND_ACK cut short");
    /* One context was offered: one result answers it. */
    if (n_results != 1)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC BIND_ACK with %u results for one context", n_results);
    if (result == DCERPC_RESULT_USER_REJECTION || result == DCERPC_RESULT_PROVIDER_REJECTION)
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, 0, "the server rejected the RPC interface (%s, %u)",
                           bind_reason(reason), reason);
    if (result != DCERPC_RESULT_ACCEPTANCE)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC BIND_ACK result %u", result);
    if (!syntax_equal(&transfer, &dcerpc_syntax_ndr20))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC BIND_ACK accepts a transfer syntax not offered");
    /* C706 12.6.3.1: every implementation takes fragments of 1432 bytes. */
    if (ack->max_xmit_frag < 1432 || ack->max_recv_frag < 1432)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC BIND_ACK fragment sizes %u/%u below 1432",
                           ack->max_xmit_frag, ack->max_recv_frag);
    return 0;
}

/* ------------------------------------------------------------ request */

int dcerpc_request_encode(smb_wr *w, uint32_t call_id, uint16_t opnum, const uint8_t *stub, size_t stub_len,
                          uint16_t max_frag, smb_error *err)
{
    if (stub_len > (size_t)max_frag || DCERPC_REQUEST_HDR_LEN + stub_len > max_frag)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "RPC request of %zu bytes exceeds the fragment size %u",
                           stub_len, max_frag);
    size_t start = w->len;
    hdr_encode(w, DCERPC_PTYPE_REQUEST, DCERPC_PFC_FIRST_FRAG | DCERPC_PFC_LAST_FRAG, call_id);
    smb_wr_u32(w, (uint32_t)stub_len); /* alloc_hint */
    smb_wr_u16(w, 0);                  /* p_cont_id */
    smb_wr_u16(w, opnum);
    smb_wr_bytes(w, stub, stub_len);
    if (smb_wr_ok(w))
        smb_wr_put_u16(w, start + 8, (uint16_t)(w->len - start));
    return 0;
}

/* ------------------------------------------------------------ response */

int dcerpc_stream_need(const uint8_t *buf, size_t len, size_t *need, smb_error *err)
{
    *need = 0;
    smb_rd all;
    smb_rd_init(&all, buf, len);
    size_t pos = 0;
    for (;;) {
        if (len - pos < DCERPC_HDR_LEN) {
            *need = DCERPC_HDR_LEN - (len - pos);
            break;
        }
        smb_rd r = smb_rd_sub(&all, pos, len - pos);
        dcerpc_hdr h;
        int rc = dcerpc_hdr_decode(&r, &h, err);
        if (rc != 0)
            return rc;
        if (len - pos < h.frag_length) {
            *need = h.frag_length - (len - pos);
            break;
        }
        pos += h.frag_length;
        if (h.ptype != DCERPC_PTYPE_RESPONSE || (h.flags & DCERPC_PFC_LAST_FRAG)) {
            if (pos != len)
                return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%zu bytes after the last DCE/RPC fragment", len - pos);
            return 0;
        }
    }
    if (len > DCERPC_MAX_RESPONSE || *need > DCERPC_MAX_RESPONSE - len)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC answer longer than %zu bytes", DCERPC_MAX_RESPONSE);
    return 0;
}

/* Check one RESPONSE fragment, r over exactly its bytes and just past its
 * common header h; leaves r at the stub. */
static int response_fragment(smb_rd *r, const dcerpc_hdr *h, uint32_t call_id, bool first, smb_error *err)
{
    if (h->ptype == DCERPC_PTYPE_FAULT)
        return fault_decode(r, err);
    if (h->ptype != DCERPC_PTYPE_RESPONSE)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC PDU type %u in answer to a REQUEST", h->ptype);
    if (h->call_id != call_id)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC RESPONSE for call %u, not %u", h->call_id, call_id);
    if (first != ((h->flags & DCERPC_PFC_FIRST_FRAG) != 0))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC RESPONSE fragments out of order (flags 0x%02x)",
                           h->flags);
    smb_rd_skip(r, 4); /* alloc_hint: a hint only, never trusted for a size */
    uint16_t cont_id = smb_rd_u16(r);
    smb_rd_skip(r, 2); /* cancel_count, reserved */
    if (!smb_rd_ok(r))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC RESPONSE of %u bytes, below its header", h->frag_length);
    if (cont_id != 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC RESPONSE for context %u, not 0", cont_id);
    return 0;
}

/* Walk the fragments of buf[0..len); with out non-NULL copy the stubs into
 * it. *total receives the stubs' length. */
static int walk_response(const uint8_t *buf, size_t len, uint32_t call_id, uint8_t *out, size_t *total,
                         smb_error *err)
{
    *total = 0;
    smb_rd all;
    smb_rd_init(&all, buf, len);
    size_t pos = 0;
    bool last = false;
    while (!last) {
        if (pos == len)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC answer ends without its last fragment");
        smb_rd rest = smb_rd_sub(&all, pos, len - pos);
        dcerpc_hdr h;
        int rc = dcerpc_hdr_decode(&rest, &h, err);
        if (rc != 0)
            return rc;
        if (len - pos < h.frag_length)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC fragment of %u bytes cut short at %zu",
                               h.frag_length, len - pos);
        smb_rd frag = smb_rd_sub(&all, pos, h.frag_length);
        smb_rd_seek(&frag, DCERPC_HDR_LEN);
        rc = response_fragment(&frag, &h, call_id, pos == 0, err);
        if (rc != 0)
            return rc;
        size_t n = smb_rd_left(&frag);
        const uint8_t *p = smb_rd_ptr(&frag, n);
        if (out && n)
            memcpy(out + *total, p, n);
        *total += n;
        pos += h.frag_length;
        last = (h.flags & DCERPC_PFC_LAST_FRAG) != 0;
    }
    if (pos != len)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "%zu bytes after the last DCE/RPC fragment", len - pos);
    return 0;
}

int dcerpc_response_stub(const uint8_t *buf, size_t len, uint32_t call_id, uint8_t **stub, size_t *stub_len,
                         smb_error *err)
{
    *stub = NULL;
    *stub_len = 0;
    if (len > DCERPC_MAX_RESPONSE)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "DCE/RPC answer longer than %zu bytes", DCERPC_MAX_RESPONSE);
    size_t total = 0;
    int rc = walk_response(buf, len, call_id, NULL, &total, err);
    if (rc != 0 || total == 0)
        return rc;
    /* The stubs are parts of buf: total <= len, bounded above. */
    uint8_t *out = malloc(total);
    if (!out)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    rc = walk_response(buf, len, call_id, out, &total, err);
    if (rc != 0) {
        free(out);
        return rc;
    }
    *stub = out;
    *stub_len = total;
    return 0;
}

/* ------------------------------------------------------------ faults */

int dcerpc_fault_error(uint32_t status, smb_error *err)
{
    switch (status) {
    case DCERPC_NCA_S_OP_RNG_ERROR:
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, 0,
                           "the server has no such RPC operation (FAULT nca_s_op_rng_error, 0x%08X)", status);
    case DCERPC_NCA_S_UNK_IF:
        return smb_err_set(err, SMB_ERR_UNSUPPORTED, 0,
                           "the server does not offer the RPC interface (FAULT nca_s_unk_if, 0x%08X)", status);
    case DCERPC_FAULT_ACCESS_DENIED:
        return smb_err_set(err, SMB_ERR_ACCESS, 0, "the server refused the RPC call (FAULT access denied, 0x%08X)",
                           status);
    case DCERPC_NCA_S_PROTO_ERROR:
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server saw a protocol error (FAULT nca_s_proto_error, 0x%08X)",
                           status);
    case DCERPC_FAULT_BAD_STUB_DATA:
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server could not decode the RPC request (FAULT bad stub data, 0x%08X)",
                           status);
    default:
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server failed the RPC call (FAULT 0x%08X)", status);
    }
}

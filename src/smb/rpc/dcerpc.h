/*
 * Connection-oriented DCE/RPC PDUs (C706 chapter 12, MS-RPCE 2.2.2) as a
 * client sends and receives them over a named pipe: BIND and its answer
 * (BIND_ACK, BIND_NAK), REQUEST, and the RESPONSE fragments (or a FAULT)
 * that answer it. Only what the library uses: no authentication
 * (auth_length 0), one presentation context, NDR 2.0 little-endian with
 * ASCII characters and IEEE floats (the packed drep 10 00 00 00).
 *
 * Received bytes are decoded through the bounded reader (common/wire.h)
 * only; every function that fails fills err (may be NULL) and returns a
 * negative SMB_ERR_* code.
 */
#ifndef SMBCOPY_RPC_DCERPC_H
#define SMBCOPY_RPC_DCERPC_H

#include <stddef.h>
#include <stdint.h>

#include <smbcopy/smb.h>

#include "common/wire.h"

/* The common header of every PDU (C706 12.6.3.1). */
#define DCERPC_HDR_LEN 16u
/* REQUEST and RESPONSE add alloc_hint, p_cont_id and opnum (or cancel_count). */
#define DCERPC_REQUEST_HDR_LEN 24u
#define DCERPC_RESPONSE_HDR_LEN 24u

/* PDU types (C706 12.6.4). */
#define DCERPC_PTYPE_REQUEST 0
#define DCERPC_PTYPE_RESPONSE 2
#define DCERPC_PTYPE_FAULT 3
#define DCERPC_PTYPE_BIND 11
#define DCERPC_PTYPE_BIND_ACK 12
#define DCERPC_PTYPE_BIND_NAK 13

/* pfc_flags (C706 12.6.3.1). */
#define DCERPC_PFC_FIRST_FRAG 0x01u
#define DCERPC_PFC_LAST_FRAG 0x02u

/* The packed data representation sent and accepted (C706 14.1):
 * little-endian integers, ASCII characters, IEEE floating point. */
#define DCERPC_DREP_LE_ASCII 0x10u

/* Most bytes of PDUs one answer may take, all fragments together. */
#define DCERPC_MAX_RESPONSE ((size_t)16 << 20)

/* FAULT statuses (C706 appendix E, MS-RPCE 2.2.2.11) the library names. */
#define DCERPC_NCA_S_OP_RNG_ERROR 0x1C010002u
#define DCERPC_NCA_S_UNK_IF 0x1C010003u
#define DCERPC_NCA_S_PROTO_ERROR 0x1C01000Bu
#define DCERPC_FAULT_ACCESS_DENIED 0x00000005u
#define DCERPC_FAULT_BAD_STUB_DATA 0x000006F7u

/* p_cont_def_result_t (C706 12.6.3.1) of a BIND_ACK's result. */
#define DCERPC_RESULT_ACCEPTANCE 0
#define DCERPC_RESULT_USER_REJECTION 1
#define DCERPC_RESULT_PROVIDER_REJECTION 2

/** An interface or transfer syntax: a UUID in its fields and a version (C706 12.6.3.1 p_syntax_id_t). */
typedef struct dcerpc_syntax {
    uint32_t time_low;
    uint16_t time_mid;
    uint16_t time_hi_and_version;
    uint8_t clock_seq_and_node[8];
    uint16_t major; /**< if_version: major in the low 16 bits */
    uint16_t minor;
} dcerpc_syntax;

/** The NDR 2.0 transfer syntax, 8a885d04-1ceb-11c9-9fe8-08002b104860 version 2 (C706 14). */
extern const dcerpc_syntax dcerpc_syntax_ndr20;

/** The common header of a received PDU. */
typedef struct dcerpc_hdr {
    uint8_t ptype;
    uint8_t flags;        /**< pfc_flags */
    uint16_t frag_length; /**< the whole fragment, header included */
    uint32_t call_id;
} dcerpc_hdr;

/**
 * Read the 16-byte common header at r's position. SMB_ERR_PROTOCOL when
 * it is short, not version 5.0 (5.1 is accepted: MS-RPCE 2.2.2.1), of
 * another data representation, carries authentication (auth_length not 0)
 * or has a frag_length below the header's own size.
 */
int dcerpc_hdr_decode(smb_rd *r, dcerpc_hdr *h, smb_error *err);

/**
 * Append a BIND PDU (C706 12.6.4.3) to w: call_id, max_xmit_frag and
 * max_recv_frag both max_frag, a new association group, one presentation
 * context (id 0) for the interface abstract with NDR 2.0 as its only
 * transfer syntax. Errors only as w's flag.
 */
void dcerpc_bind_encode(smb_wr *w, uint32_t call_id, uint16_t max_frag, const dcerpc_syntax *abstract);

/** What a BIND_ACK grants. */
typedef struct dcerpc_bind_ack {
    uint16_t max_xmit_frag; /**< the largest fragment the server sends */
    uint16_t max_recv_frag; /**< the largest fragment the server takes */
    uint32_t assoc_group_id;
} dcerpc_bind_ack;

/**
 * Decode the answer pdu[0..len) to the BIND of call_id: exactly one PDU.
 * A BIND_ACK (C706 12.6.4.4) whose single result accepts the context with
 * NDR 2.0 fills *ack and returns 0. A rejected context or a BIND_NAK
 * (12.6.4.5) gives SMB_ERR_UNSUPPORTED with the reason; a FAULT the error
 * of dcerpc_fault_error; anything else SMB_ERR_PROTOCOL.
 */
int dcerpc_bind_ack_decode(const uint8_t *pdu, size_t len, uint32_t call_id, dcerpc_bind_ack *ack, smb_error *err);

/**
 * Append a REQUEST PDU (C706 12.6.4.9) carrying the whole stub in one
 * fragment (first and last), context 0. SMB_ERR_INVALID_ARG, nothing
 * written, when the PDU would exceed max_frag (the server's max_recv_frag).
 */
int dcerpc_request_encode(smb_wr *w, uint32_t call_id, uint16_t opnum, const uint8_t *stub, size_t stub_len,
                          uint16_t max_frag, smb_error *err);

/**
 * How many more bytes the answer whose first buf[0..len) bytes have come
 * needs at least: 0 once it is whole (a fragment with PFC_LAST_FRAG, or a
 * PDU of another type than RESPONSE, which is never fragmented, has come
 * whole). Fragments are checked as far as they have come: their header
 * (dcerpc_hdr_decode), and no bytes after the last. SMB_ERR_PROTOCOL when
 * they are malformed or the answer would pass DCERPC_MAX_RESPONSE.
 */
int dcerpc_stream_need(const uint8_t *buf, size_t len, size_t *need, smb_error *err);

/**
 * The stub data of the answer buf[0..len) to the REQUEST of call_id: the
 * RESPONSE fragments' stubs put together (C706 12.6.4.10), first to last,
 * into *stub (malloc'd, the caller frees it; NULL when empty) and
 * *stub_len. Every fragment must be a RESPONSE of call_id, context 0, the
 * first alone with PFC_FIRST_FRAG, the last with PFC_LAST_FRAG and nothing
 * after it. A FAULT gives dcerpc_fault_error's error; anything else
 * malformed SMB_ERR_PROTOCOL. On failure *stub is NULL and *stub_len 0.
 */
int dcerpc_response_stub(const uint8_t *buf, size_t len, uint32_t call_id, uint8_t **stub, size_t *stub_len,
                         smb_error *err);

/**
 * The error a FAULT PDU's status means, err filled: SMB_ERR_UNSUPPORTED for
 * nca_s_op_rng_error and nca_s_unk_if (no such operation or interface),
 * SMB_ERR_ACCESS for ERROR_ACCESS_DENIED, SMB_ERR_PROTOCOL for the rest;
 * the message names the status.
 */
int dcerpc_fault_error(uint32_t status, smb_error *err);

#endif

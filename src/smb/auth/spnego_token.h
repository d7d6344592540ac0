/*
 * SPNEGO tokens (RFC 4178 4.2, MS-SPNG 2.2): the client's NegTokenInit in
 * its GSS-API InitialContextToken, NegTokenResp both ways, and the
 * server's NegTokenInit2 hint.
 */
#ifndef SMBCOPY_SPNEGO_TOKEN_H
#define SMBCOPY_SPNEGO_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/smb.h>

#include "common/wire.h"

/** DER contents of the SPNEGO OID 1.3.6.1.5.5.2. */
extern const uint8_t smb_spnego_oid[6];

/** negState values (RFC 4178 4.2.2); SPNEGO_NO_STATE when the field is absent. */
enum {
    SPNEGO_NO_STATE = -1,
    SPNEGO_ACCEPT_COMPLETED = 0,
    SPNEGO_ACCEPT_INCOMPLETE = 1,
    SPNEGO_REJECT = 2,
    SPNEGO_REQUEST_MIC = 3,
};

/** A piece of a parsed token (points into the parsed buffer). */
typedef struct smb_der_bytes {
    const uint8_t *p;
    size_t len;
} smb_der_bytes;

/** Most mechanism OIDs kept from a NegTokenInit. */
#define SPNEGO_MAX_OIDS 8

/** A parsed NegTokenInit or NegTokenInit2. */
typedef struct smb_negtoken_init {
    smb_der_bytes mech_types;             /**< DER of the MechTypeList SEQUENCE (tag and length included) */
    smb_der_bytes oids[SPNEGO_MAX_OIDS];  /**< OID contents, in order */
    int n_oids;                       /**< OIDs kept (at most SPNEGO_MAX_OIDS) */
    bool more_oids;                   /**< the list held more than were kept */
    bool has_token;
    smb_der_bytes token;                  /**< mechToken */
} smb_negtoken_init;

/** A parsed NegTokenResp. */
typedef struct smb_negtoken_resp {
    int neg_state; /**< SPNEGO_* or SPNEGO_NO_STATE */
    bool has_mech, has_token, has_mic;
    smb_der_bytes mech;  /**< supportedMech OID contents */
    smb_der_bytes token; /**< responseToken */
    smb_der_bytes mic;   /**< mechListMIC */
} smb_negtoken_resp;

/** Write the MechTypeList SEQUENCE OF OID from n OID contents. */
void smb_spnego_write_mech_types(smb_wr *w, const smb_der_bytes *oids, int n);

/**
 * Write InitialContextToken [APPLICATION 0] { SPNEGO OID, [0] NegTokenInit {
 * [0] mech_types (DER as written above), [2] token when token_len > 0 } }.
 */
void smb_spnego_write_init(smb_wr *w, const uint8_t *mech_types, size_t mech_types_len, const uint8_t *token,
                           size_t token_len);

/** Write [1] NegTokenResp { [2] token when token_len > 0, [3] mic when mic_len > 0 } (no negState, as clients send it). */
void smb_spnego_write_resp(smb_wr *w, const uint8_t *token, size_t token_len, const uint8_t *mic, size_t mic_len);

/**
 * Parse an InitialContextToken holding a NegTokenInit or NegTokenInit2.
 * Unknown fields are skipped. Returns 0, or SMB_ERR_PROTOCOL with err
 * filled when the DER is malformed or it is no SPNEGO NegTokenInit.
 */
int smb_spnego_parse_init(const uint8_t *in, size_t len, smb_negtoken_init *t, smb_error *err);

/**
 * Parse a NegTokenResp. Returns 0, or SMB_ERR_PROTOCOL with err filled when
 * the DER is malformed, a field has the wrong type, negState is unknown,
 * or bytes follow the token.
 */
int smb_spnego_parse_resp(const uint8_t *in, size_t len, smb_negtoken_resp *r, smb_error *err);

#endif

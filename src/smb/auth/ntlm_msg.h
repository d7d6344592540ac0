/*
 * NTLMSSP messages on the wire (MS-NLMP 2.2.1): writing NEGOTIATE and
 * AUTHENTICATE, reading CHALLENGE and its AV pairs.
 */
#ifndef SMBCOPY_NTLM_MSG_H
#define SMBCOPY_NTLM_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/smb.h>

#include "common/wire.h"

/** MessageType values (MS-NLMP 2.2.1). */
enum { NTLM_NEGOTIATE = 1, NTLM_CHALLENGE = 2, NTLM_AUTHENTICATE = 3 };

/** AvId values (MS-NLMP 2.2.2.1). */
enum {
    MSV_AV_EOL = 0,
    MSV_AV_NB_COMPUTER_NAME = 1,
    MSV_AV_NB_DOMAIN_NAME = 2,
    MSV_AV_DNS_COMPUTER_NAME = 3,
    MSV_AV_DNS_DOMAIN_NAME = 4,
    MSV_AV_DNS_TREE_NAME = 5,
    MSV_AV_FLAGS = 6,
    MSV_AV_TIMESTAMP = 7,
    MSV_AV_SINGLE_HOST = 8,
    MSV_AV_TARGET_NAME = 9,
    MSV_AV_CHANNEL_BINDINGS = 10,
};

/** MsvAvFlags bit: the AUTHENTICATE message carries a MIC (MS-NLMP 2.2.2.1). */
#define MSV_AV_FLAG_MIC 0x00000002u

/** Size of the NEGOTIATE message we send (header and Version). */
#define NTLM_NEGOTIATE_LEN 40
/** Offset and size of the MIC in AUTHENTICATE (MS-NLMP 2.2.1.3). */
#define NTLM_MIC_OFFSET 72
#define NTLM_MIC_LEN 16

/** What the client uses from a CHALLENGE message (MS-NLMP 2.2.1.2). */
typedef struct smb_ntlm_challenge {
    uint32_t flags;               /**< NegotiateFlags */
    uint8_t server_challenge[8];  /**< ServerChallenge */
    const uint8_t *target_info;   /**< TargetInfo AV pairs (points into the message), may be NULL */
    size_t target_info_len;
    bool has_timestamp;           /**< MsvAvTimestamp present */
    uint64_t timestamp;           /**< its FILETIME */
    bool has_av_flags;            /**< MsvAvFlags present */
    uint32_t av_flags;
} smb_ntlm_challenge;

/** Write a NEGOTIATE message with flags (no domain or workstation, Version when flagged). */
void smb_ntlm_write_negotiate(smb_wr *w, uint32_t flags);

/**
 * Parse a CHALLENGE message through the bounded reader. The AV pair list
 * must be well formed (every pair inside TargetInfo, ended by MsvAvEOL).
 * Returns 0, or SMB_ERR_PROTOCOL with err saying what is wrong.
 */
int smb_ntlm_parse_challenge(const uint8_t *msg, size_t len, smb_ntlm_challenge *c, smb_error *err);

/**
 * Write the client's AV pairs for the NTLMv2 blob (MS-NLMP 3.1.5.2.1): the
 * server's pairs in order without MsvAvEOL, MsvAvFlags with add_flags ORed
 * in (appended when the server sent none and add_flags is not 0),
 * MsvAvTargetName = spn16 when spn_len > 0 (replacing any from the server),
 * then MsvAvEOL.
 */
void smb_ntlm_write_client_av_pairs(smb_wr *w, const smb_ntlm_challenge *c, uint32_t add_flags,
                                    const uint8_t *spn16, size_t spn_len);

/** Pieces of an AUTHENTICATE message (MS-NLMP 2.2.1.3); strings are UTF-16LE. */
typedef struct smb_ntlm_auth_fields {
    uint32_t flags;
    const uint8_t *lm, *nt, *domain, *user, *workstation, *enc_key;
    size_t lm_len, nt_len, domain_len, user_len, workstation_len, enc_key_len;
} smb_ntlm_auth_fields;

/**
 * Write an AUTHENTICATE message: header, Version, a zeroed MIC field at
 * NTLM_MIC_OFFSET, then the payload (domain, user, workstation, LM, NT,
 * session key). Every length must fit in 16 bits or the writer's error
 * flag is set.
 */
void smb_ntlm_write_authenticate(smb_wr *w, const smb_ntlm_auth_fields *f);

#endif

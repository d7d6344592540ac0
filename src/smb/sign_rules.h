/*
 * Which requests go signed, per dialect (MS-SMB2 3.2.4.1.1 and the rules
 * of single requests): pure functions, so the rules can be tested without
 * a server.
 */
#ifndef SMBCOPY_SIGN_RULES_H
#define SMBCOPY_SIGN_RULES_H

#include <stdbool.h>
#include <stdint.h>

/**
 * True for a request signed whatever the session's signing, once the
 * session has keys (not guest or anonymous):
 *   - TREE_CONNECT on 3.1.1: a server drops an unsigned, unencrypted one
 *     from such a session (MS-SMB2 3.3.5.7);
 *   - FSCTL_VALIDATE_NEGOTIATE_INFO on 3.0 and 3.0.2 (3.2.5.5).
 * Nothing else on any dialect: on 2.0.2 and 2.1, and on 3.0 and 3.0.2
 * apart from that FSCTL, a TREE_CONNECT is signed only when the session
 * signs everything.
 */
bool smb_sign_forced(uint16_t dialect, uint16_t command, uint32_t ctl_code);

/**
 * Whether a request goes signed (MS-SMB2 3.2.4.1.1): never NEGOTIATE, never
 * an encrypted message (the AEAD tag covers it); otherwise when the session
 * signs everything (Session.SigningRequired: the server or the client
 * requires signing), or when the request is forced (smb_sign_forced) and
 * the session has keys.
 */
bool smb_sign_request(uint16_t command, bool session_signing, bool keyed, bool forced, bool encrypted);

#endif

/* Telling an SMB1-only server from a broken one. */
#ifndef SMBCOPY_SMB1_PROBE_H
#define SMBCOPY_SMB1_PROBE_H

#include <stdbool.h>
#include <stdint.h>

/**
 * Open a fresh connection and send the SMB1 multi-protocol NEGOTIATE
 * offering "NT LM 0.12", "SMB 2.002" and "SMB 2.???" (MS-SMB2 3.2.4.2.1).
 * True when the server answers in SMB1 and picks "NT LM 0.12": it speaks
 * only SMB1. Used after a server closed the connection on an SMB2
 * NEGOTIATE, which is what SMB1-only servers do.
 */
bool smb1_server_is_smb1_only(const char *host, uint16_t port, unsigned timeout_ms);

#endif

/*
 * Credit arithmetic (MS-SMB2 3.1.5.2, 3.2.4.1.5): pure functions, so the
 * rules can be tested without a server.
 */
#ifndef SMBCOPY_CREDITS_H
#define SMBCOPY_CREDITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** One credit pays for up to 64 KiB of request or response payload. */
#define SMB_CREDIT_UNIT 65536u
/** Most credits asked for in one request. */
#define SMB_CREDIT_REQUEST_MAX 8192u

/**
 * Credits a request costs: ceil(max(send_bytes, expect_bytes) / 64 KiB),
 * at least 1; always 1 on a connection without multi-credit support
 * (SMB 2.0.2, or no SMB2_GLOBAL_CAP_LARGE_MTU).
 */
uint16_t smb_credit_charge(bool multi_credit, size_t send_bytes, size_t expect_bytes);

/**
 * True for the commands whose CreditCharge follows their payload size
 * (READ, WRITE, IOCTL, QUERY_DIRECTORY, QUERY_INFO); every other request is
 * charged exactly 1 credit, however large its payload or answer (MS-SMB2
 * 3.2.4.1.5). QUERY_INFO is sized although 3.2.4.1.5 has it charged 1: the
 * server checks its charge against the OutputBufferLength (3.3.5.20), and
 * Samba refuses an answer above 64 KiB charged 1 (STATUS_INVALID_PARAMETER);
 * up to 64 KiB the charge is 1 either way.
 */
bool smb_credit_sized_command(uint16_t command);

/**
 * Largest READ or WRITE payload one request may carry: limit (the server's
 * MaxReadSize or MaxWriteSize, or our cap) and, with multi-credit, what a
 * quarter of the credits the connection holds in all (`held`: available
 * plus in flight, at least one) pays for. A server grants what it likes
 * (MS-SMB2 3.3.1.2): one that keeps a client to 32 credits can never take
 * a 4 MiB WRITE of 64, so requests are sized to what it grants, and the
 * quarter keeps several in flight. Without multi-credit every request
 * carries 64 KiB at most (3.2.4.1.5).
 */
uint32_t smb_credit_io_cap(bool multi_credit, uint32_t held, uint32_t limit);

/**
 * Most credits the client keeps available. A server may grant any number
 * with every response (MS-SMB2 3.3.1.2 leaves the policy to it); a
 * hostile one granting 65535 each time would otherwise wrap the counter.
 */
#define SMB_CREDITS_HELD_MAX 65535u

/** available + granted, capped at SMB_CREDITS_HELD_MAX. */
uint32_t smb_credit_grant(uint32_t available, uint16_t granted);

/**
 * Credits to ask for with a request of `charge`: the charge itself plus
 * what tops available + outstanding up to target, capped at
 * SMB_CREDIT_REQUEST_MAX.
 */
uint16_t smb_credit_request(uint32_t available, uint32_t outstanding, uint32_t target, uint16_t charge);

#endif

/*
 * What conn.c, conn_send.c, conn_recv.c and conn_watchdog.c share about a
 * connection's requests: the table of requests in flight, completion, the
 * rules for protecting a message, and the two threads' entry points. Only
 * these four files include it; everything else uses conn.h.
 */
#ifndef SMBCOPY_CONN_INTERNAL_H
#define SMBCOPY_CONN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"

/* ---------------------------------------------------------- the pending table
 * All four take c->lock held by the caller. */

/** Enter r (its mid set) in c's table; counts it in flight. */
void smb_conn_table_insert(smb_conn *c, smb_req *r);
/** The request in flight under mid, or NULL. Borrowed: the table keeps it. */
smb_req *smb_conn_table_find(smb_conn *c, uint64_t mid);
/** Take r out of the table (a no-op when it is not there), giving back its charge. */
void smb_conn_table_remove(smb_conn *c, smb_req *r);
/** Move c->outstanding by delta credits (atomic store: smb_route reads it unlocked). */
void smb_conn_outstanding_add(smb_conn *c, int32_t delta);

/**
 * Mark r done and wake its waiter, or run its callback (then free it when
 * its sender has detached it). Called without c->lock.
 */
void smb_req_complete(smb_conn *c, smb_req *r);

/* ---------------------------------------------------------- message protection */

/** r goes encrypted (its session encrypts; NEGOTIATE and SESSION_SETUP never do, MS-SMB2 3.2.4.1.1). */
bool smb_req_wants_encryption(const smb_req *r);
/** r's response must be signed (its session signs, or r is force_sign on a keyed session). */
bool smb_req_signs(const smb_req *r);
/** r itself is signed when sent (smb_sign_request's rules). */
bool smb_req_wants_signing(const smb_req *r);

/* ---------------------------------------------------------- threads */

/** The receiver thread (arg: the smb_conn); returns when the connection fails. */
void *smb_conn_receiver_main(void *arg);
/** The watchdog thread (arg: the smb_conn); returns once c->closing is set. */
void *smb_conn_watchdog_main(void *arg);

#endif

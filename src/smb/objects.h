/* Internal layout of sessions, trees and opens (the parent/child chain). */
#ifndef SMBCOPY_OBJECTS_H
#define SMBCOPY_OBJECTS_H

#include <pthread.h>

#include "conn.h"

struct smb_session {
    smb_session *next;        /* sibling on the connection */
    smb_conn *conn;
    uint64_t id;
    smb_sec sec;
    uint64_t nonce_ctr;       /* next encryption nonce: a counter, never reused */
    bool guest;
    bool anonymous;
    char mech[16];
    pthread_mutex_t lock;     /* protects trees */
    smb_tree *trees;
};

struct smb_tree {
    smb_tree *next;           /* sibling on the session */
    smb_session *sess;
    uint32_t id;
    smb_tree_info info;
    char *share;
    pthread_mutex_t lock;     /* protects opens */
    smb_open *opens;
    smb_sec sec;              /* the session's keys; encrypt set when the share demands it */
};

struct smb_open {
    smb_open *next;           /* sibling on the tree */
    smb_tree *tree;
    smb2_fileid fid;
    bool is_dir;
};

/** Start the receiver and watchdog threads of a connection (conn.c). */
int smb_conn_start_threads(smb_conn *c, smb_error *err);
/** Stop and join them, failing whatever is still in flight (conn.c). */
void smb_conn_stop_threads(smb_conn *c);

/** A request on a tree (session id, tree id, the session's keys). */
smb_req *smb_tree_req(smb_tree *t, uint16_t command);
/** Close every open of a tree; with send false, free them without asking the server. */
void smb_tree_close_opens(smb_tree *t, bool send);
/** Disconnect (optionally telling the server) and free a tree. */
int smb_tree_close_internal(smb_tree *t, bool send, smb_error *err);

#endif

/*
 * Change notification on a directory (MS-SMB2 3.2.4.13, CHANGE_NOTIFY):
 * the server answers when something in the directory (or below it, with
 * watch_tree) changes, with the list of changes (MS-FSCC 2.7.1).
 *
 * A watch keeps one CHANGE_NOTIFY request pending on the server at a time:
 * smb_notify_wait sends it when none is pending and waits for its answer;
 * changes between two waits are kept by the server for the open directory
 * and come with the next answer. Waiting is not bound by the connection's
 * request timeouts (a directory may stay unchanged for days); a lost
 * connection ends the wait with SMB_ERR_DISCONNECTED.
 *
 * Ownership: the watch is the caller's until smb_notify_free, which must
 * come before the directory open is closed. The events smb_notify_wait
 * fills are the caller's, freed with smb_notify_events_free.
 * Threads: one thread waits; smb_notify_cancel may come from any other.
 */
#ifndef SMBCOPY_NOTIFY_H
#define SMBCOPY_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/api.h>
#include <smbcopy/smb.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CompletionFilter (MS-SMB2 2.2.35): what counts as a change. */
#define SMB_NOTIFY_CHANGE_FILE_NAME 0x0001u   /**< a file created, deleted or renamed */
#define SMB_NOTIFY_CHANGE_DIR_NAME 0x0002u    /**< a directory created, deleted or renamed */
#define SMB_NOTIFY_CHANGE_ATTRIBUTES 0x0004u
#define SMB_NOTIFY_CHANGE_SIZE 0x0008u
#define SMB_NOTIFY_CHANGE_LAST_WRITE 0x0010u
#define SMB_NOTIFY_CHANGE_LAST_ACCESS 0x0020u
#define SMB_NOTIFY_CHANGE_CREATION 0x0040u
#define SMB_NOTIFY_CHANGE_EA 0x0080u
#define SMB_NOTIFY_CHANGE_SECURITY 0x0100u
#define SMB_NOTIFY_CHANGE_STREAM_NAME 0x0200u
#define SMB_NOTIFY_CHANGE_STREAM_SIZE 0x0400u
#define SMB_NOTIFY_CHANGE_STREAM_WRITE 0x0800u

/* Action of one change (MS-FSCC 2.7.1). */
#define SMB_NOTIFY_ACTION_ADDED 1u
#define SMB_NOTIFY_ACTION_REMOVED 2u
#define SMB_NOTIFY_ACTION_MODIFIED 3u
#define SMB_NOTIFY_ACTION_RENAMED_OLD_NAME 4u
#define SMB_NOTIFY_ACTION_RENAMED_NEW_NAME 5u
#define SMB_NOTIFY_ACTION_ADDED_STREAM 6u
#define SMB_NOTIFY_ACTION_REMOVED_STREAM 7u
#define SMB_NOTIFY_ACTION_MODIFIED_STREAM 8u

/** One change. */
typedef struct smb_notify_event {
    uint32_t action; /**< SMB_NOTIFY_ACTION_* */
    char *name;      /**< UTF-8, relative to the watched directory, '/' between components */
} smb_notify_event;

/** What one answer brought. */
typedef struct smb_notify_events {
    smb_notify_event *events; /**< count changes, in the server's order */
    size_t count;
    /**
     * More changed than the answer could hold (STATUS_NOTIFY_ENUM_DIR, or
     * an empty successful answer): count is 0, list the directory again.
     */
    bool overflowed;
} smb_notify_events;

typedef struct smb_notify smb_notify;

/**
 * A watch on dir, a directory open (smb_open_dir, or smb_create with
 * SMB_FILE_LIST_DIRECTORY access), for the changes filter names
 * (SMB_NOTIFY_CHANGE_*), in the directory itself or, with watch_tree, in
 * its whole subtree. Nothing is sent yet. NULL on failure (err filled).
 */
SMBCOPY_API smb_notify *smb_notify_new(smb_open *dir, uint32_t filter, bool watch_tree, smb_error *err);

/**
 * Wait up to timeout_ms (negative: without a bound) for the next changes.
 * 0: out (the caller's, freed with smb_notify_events_free) holds them.
 * SMB_ERR_TIMEOUT: nothing changed in time; the request stays pending on
 * the server and the next wait goes on waiting for it.
 * SMB_ERR_CANCELLED: smb_notify_cancel ended it. Any other error (a
 * closed directory, a lost connection) is the server's or the
 * connection's.
 */
SMBCOPY_API int smb_notify_wait(smb_notify *n, int timeout_ms, smb_notify_events *out, smb_error *err);

/**
 * Cancel the pending request, if any (MS-SMB2 3.2.4.24): a wait in
 * progress returns SMB_ERR_CANCELLED soon after. Safe from another thread
 * than the waiting one. 0, or the error sending the CANCEL.
 */
SMBCOPY_API int smb_notify_cancel(smb_notify *n, smb_error *err);

/** Cancel what is pending, wait for its end, free n. NULL is a no-op; never while another thread waits on n. */
SMBCOPY_API void smb_notify_free(smb_notify *n);

/** Free what smb_notify_wait put into ev (ev itself is the caller's) and zero it. */
SMBCOPY_API void smb_notify_events_free(smb_notify_events *ev);

#ifdef __cplusplus
}
#endif

#endif

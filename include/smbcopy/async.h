/*
 * Event-loop integration and asynchronous operations (like libsmb2's
 * smb2_get_fd / smb2_which_events / smb2_service and its *_async calls).
 *
 * A connection made with smb_conn_opts.event_loop set has no thread of its
 * own: the program's poll (or epoll) loop waits on smb_conn_socket() for
 * smb_conn_which_events(), and calls smb_conn_service() when the socket is
 * ready, and at least once a second (request timeouts are checked there).
 * The asynchronous calls below send one request and return at once; its
 * callback runs inside smb_conn_service when the answer has come. The
 * synchronous calls of smb.h still work on such a connection (connect,
 * session setup, tree connect, ...): they read the socket themselves
 * while they wait, so a single-threaded program may mix both. A callback
 * must not make synchronous calls on its own connection (nothing would
 * read their answer); it may start further asynchronous ones.
 *
 * On a connection with the default threads, the asynchronous calls work
 * too: their callbacks then run on the connection's receiver thread and
 * must not block.
 *
 * Every asynchronous call returns 0 when its callback will be called
 * exactly once (it may already have been, with an error, when the
 * connection failed during the call), or a negative SMB_ERR_* code when
 * it will not be called. The smb_error a callback receives is valid
 * during the call only.
 */
#ifndef SMBCOPY_ASYNC_H
#define SMBCOPY_ASYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/api.h>
#include <smbcopy/smb.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- the event loop */

/** The poll events conn waits for now (POLLIN; 0 when it is not in event-loop mode or is dead). */
SMBCOPY_API int smb_conn_which_events(const smb_conn *conn);

/**
 * Read what conn's socket holds without blocking and complete what it
 * answers (callbacks run here), then fail the connection if a request is
 * past its deadline. revents: what poll reported (informative). 0, or the
 * connection's error once it is dead (SMB_ERR_DISCONNECTED, ...).
 * SMB_ERR_INVALID_ARG for a connection not in event-loop mode.
 */
SMBCOPY_API int smb_conn_service(smb_conn *conn, int revents, smb_error *err);

/* ---------------------------------------------------------------- operations */

/**
 * A READ or WRITE finished: rc 0 with bytes moved (a READ at or past the
 * end of the file: 0), else rc and err say why.
 */
typedef void (*smb_io_done_fn)(int rc, size_t bytes, const smb_error *err, void *arg);

/**
 * One READ of len bytes (at most smb_open_max_read(op)) at offset into
 * buf, which stays the caller's and must stay valid until cb.
 */
SMBCOPY_API int smb_read_async(smb_open *op, void *buf, size_t len, uint64_t offset, smb_io_done_fn cb, void *arg,
                               smb_error *err);

/** One WRITE of len bytes (at most smb_open_max_write(op)) of buf at offset; buf must stay valid until cb. */
SMBCOPY_API int smb_write_async(smb_open *op, const void *buf, size_t len, uint64_t offset, smb_io_done_fn cb,
                                void *arg, smb_error *err);

/**
 * A CREATE finished: op (the caller's until smb_close or smb_close_async)
 * and info, or op NULL and err.
 */
typedef void (*smb_create_done_fn)(smb_open *op, const smb_file_info *info, const smb_error *err, void *arg);

/** smb_create without waiting; path and params are read during the call only (no typed contexts: smb_create_ex). */
SMBCOPY_API int smb_create_async(smb_tree *tree, const char *path, const smb_create_params *params,
                                 smb_create_done_fn cb, void *arg, smb_error *err);

/** A CLOSE finished: rc 0, or rc and err. */
typedef void (*smb_close_done_fn)(int rc, const smb_error *err, void *arg);

/**
 * Close op without waiting. op is freed before cb runs (also on failure);
 * do not use it after this call, nor start other operations on it.
 */
SMBCOPY_API int smb_close_async(smb_open *op, smb_close_done_fn cb, void *arg, smb_error *err);

/**
 * One QUERY_DIRECTORY answer: entries[0..n) (valid during the call only;
 * "." and ".." left out), end when the listing is complete (n may then be
 * 0), or rc and err.
 */
typedef void (*smb_dir_done_fn)(int rc, const smb_dirent *entries, size_t n, bool end, const smb_error *err,
                                void *arg);

/**
 * One QUERY_DIRECTORY on dir (a directory open) for pattern (NULL: "*"),
 * from the start with restart (the first call of a listing), else from
 * where the previous answer stopped: call again until end.
 */
SMBCOPY_API int smb_query_directory_async(smb_open *dir, const char *pattern, bool restart, smb_dir_done_fn cb,
                                          void *arg, smb_error *err);

#ifdef __cplusplus
}
#endif

#endif

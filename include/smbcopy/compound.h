/*
 * Compounds for library callers (MS-SMB2 3.2.4.1.4), like smbprotocol's
 * Connection.send_compound: several requests built first, sent as one
 * frame, each answered with its own status and decoded result.
 *
 *   smb_compound *c = smb_compound_new(tree, true, &err);     // related
 *   smb_compound_add_create(c, "dir/file", NULL, &err);         // 0
 *   smb_compound_add_query_info(c, NULL, SMB_INFO_FILE,         // 1
 *                               SMB_FILE_STANDARD_INFORMATION, 0, 24, &err);
 *   smb_compound_add_close(c, NULL, &err);                      // 2
 *   if (smb_compound_send(c, &err) == 0 && smb_compound_error(c, 1, &err) == 0) {
 *       size_t len;
 *       const void *out = smb_compound_output(c, 1, &len);
 *       ...
 *   }
 *   smb_compound_free(c);
 *
 * Related or unrelated. In a related compound every operation after the
 * first works on the open of the one before it: the library sends it with
 * SMB2_FLAGS_RELATED_OPERATIONS and the FileId 0xFFFFFFFFFFFFFFFF, and the
 * server uses the open the previous operation made or used. There the
 * first operation is a CREATE or names an open, and later ones pass NULL.
 * When an operation of a related compound fails, the server fails those
 * after it that use its open, with its status or STATUS_INVALID_PARAMETER
 * (MS-SMB2 3.3.5.2.7.2): each operation reports what the server said. In
 * an unrelated compound each operation stands alone (every non-CREATE one
 * names its open) and each succeeds or fails on its own.
 *
 * Limits, each refused when the operation is added (SMB_ERR_INVALID_ARG,
 * the message naming the limit; the compound stays as it was):
 * SMB_COMPOUND_MAX_OPS operations; a total credit charge (MS-SMB2
 * 3.2.4.1.5: a READ or WRITE of N bytes costs ceil(N / 64 KiB) credits,
 * a QUERY_INFO its output likewise, anything else 1) no larger than the
 * credits the connection holds; one READ, WRITE, QUERY_INFO or SET_INFO
 * within the server's MaxReadSize, MaxWriteSize or MaxTransactSize; the
 * READ data and QUERY_INFO output of the whole compound within the largest
 * frame the connection takes, and its WRITE and SET_INFO data within
 * MaxWriteSize. Signing and encryption apply as to any request.
 *
 * Opens: the open of a CREATE that succeeded is registered on the tree by
 * smb_compound_send() (disconnecting the tree closes it), unless a CLOSE of
 * the same related compound closed it. smb_compound_take_open() makes it the
 * caller's; smb_compound_free() closes one not taken. An open the caller
 * passes to smb_compound_add_close() (directly, or as the first operation
 * of a related compound ending in a CLOSE) is the compound's from then on:
 * it is closed and freed by smb_compound_send(), as smb_close() would,
 * whatever the outcome, or by smb_compound_free() when never sent. Other
 * opens passed in are borrowed and must stay open until the send returns.
 *
 * A compound is used by one thread at a time. All functions with an
 * smb_error fill it on failure.
 */
#ifndef SMBCOPY_COMPOUND_H
#define SMBCOPY_COMPOUND_H

#include <stddef.h>
#include <stdint.h>

#include <smbcopy/api.h>
#include <smbcopy/smb.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most operations in one compound. */
#define SMB_COMPOUND_MAX_OPS 16

/** smb_compound_status() of an operation that got no answer (not sent, or a local failure). */
#define SMB_COMPOUND_NO_STATUS 0xFFFFFFFFu

typedef struct smb_compound smb_compound;

/**
 * A new, empty compound of operations on tree (every open passed to it
 * must be of this tree), related or not (see the top of this file). The
 * compound is the caller's until smb_compound_free(); tree must outlive
 * it. NULL on failure (SMB_ERR_INVALID_ARG without a tree,
 * SMB_ERR_NO_MEMORY).
 */
SMBCOPY_API smb_compound *smb_compound_new(smb_tree *tree, bool related, smb_error *err);

/**
 * Add a CREATE of path with params (NULL: smb_create_params_init's
 * defaults), both read during the call only. Leases, MxAc and QFid are
 * sent as smb_create_ex() sends them; a durable handle is refused here
 * (use smb_create_ex). Returns the operation's index (0 for the first) or
 * a negative SMB_ERR_* code.
 */
SMBCOPY_API int smb_compound_add_create(smb_compound *c, const char *path, const smb_create_params *params,
                                        smb_error *err);

/**
 * Add a READ of len bytes (1 or more) at offset of op (NULL in a related
 * compound: the previous operation's open). The data is
 * smb_compound_output(). Returns the index or a negative SMB_ERR_* code.
 */
SMBCOPY_API int smb_compound_add_read(smb_compound *c, smb_open *op, uint64_t offset, uint32_t len, smb_error *err);

/**
 * Add a WRITE of buf[0..len) (len 1 or more) at offset of op (NULL: the
 * related open). buf is borrowed: it must stay valid and unchanged until
 * smb_compound_send() returns (or smb_compound_free() when never sent).
 * smb_compound_written() says how much the server took. Returns the index
 * or a negative SMB_ERR_* code.
 */
SMBCOPY_API int smb_compound_add_write(smb_compound *c, smb_open *op, uint64_t offset, const void *buf, uint32_t len,
                                       smb_error *err);

/**
 * Add a QUERY_INFO (MS-SMB2 2.2.37) of info_type (SMB_INFO_*) and
 * file_class (the information class) with additional (security
 * information bits for SMB_INFO_SECURITY, else 0), the answer at most
 * output_len bytes (1 or more), on op (NULL: the related open). The answer
 * is smb_compound_output() (also under STATUS_BUFFER_OVERFLOW: what fit).
 * Returns the index or a negative SMB_ERR_* code.
 */
SMBCOPY_API int smb_compound_add_query_info(smb_compound *c, smb_open *op, uint8_t info_type, uint8_t file_class,
                                            uint32_t additional, uint32_t output_len, smb_error *err);

/**
 * Add a SET_INFO (MS-SMB2 2.2.39) of buf[0..len) as info_type, file_class
 * and additional on op (NULL: the related open). buf is copied. Returns
 * the index or a negative SMB_ERR_* code.
 */
SMBCOPY_API int smb_compound_add_set_info(smb_compound *c, smb_open *op, uint8_t info_type, uint8_t file_class,
                                          uint32_t additional, const void *buf, uint32_t len, smb_error *err);

/** Add a FLUSH of op (NULL: the related open). Returns the index or a negative SMB_ERR_* code. */
SMBCOPY_API int smb_compound_add_flush(smb_compound *c, smb_open *op, smb_error *err);

/**
 * Add a CLOSE of op (NULL: the related open), asking for the final
 * attributes (SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB; smb_compound_close_info()).
 * An op of the caller's becomes the compound's (see the top of this file);
 * nothing may use it after this in the compound. Returns the index or a
 * negative SMB_ERR_* code.
 */
SMBCOPY_API int smb_compound_add_close(smb_compound *c, smb_open *op, smb_error *err);

/** How many operations c holds. */
SMBCOPY_API int smb_compound_count(const smb_compound *c);

/**
 * Send every operation as one frame and wait for every answer. Returns 0
 * when the frame was sent and each operation answered or failed locally
 * (each has its own status: smb_compound_error()), or a negative SMB_ERR_*
 * code when the frame could not go (an empty compound, a lost connection,
 * the credits); then every operation fails with that error. A compound is
 * sent once (again: SMB_ERR_INVALID_ARG).
 */
SMBCOPY_API int smb_compound_send(smb_compound *c, smb_error *err);

/**
 * The NTSTATUS the server answered operation i with, SMB_COMPOUND_NO_STATUS
 * when it got no answer or i is not an operation of c.
 */
SMBCOPY_API uint32_t smb_compound_status(const smb_compound *c, int i);

/**
 * Operation i's outcome as an error: 0 when it was answered with success;
 * else its code, err filled (the server's status as smb_close() and friends
 * report it, or the local failure: not sent, lost connection, a malformed
 * answer). SMB_ERR_INVALID_ARG for an index out of range.
 */
SMBCOPY_API int smb_compound_error(const smb_compound *c, int i, smb_error *err);

/**
 * The open CREATE i made, the caller's from then on (smb_close(); its
 * tree's end), with its metadata from the CREATE response in info
 * (optional; file_id 0). NULL when i is not a CREATE that succeeded, a
 * CLOSE of the same compound closed it, or it was taken already.
 */
SMBCOPY_API smb_open *smb_compound_take_open(smb_compound *c, int i, smb_file_info *info);

/**
 * The create contexts and the rest of CREATE i's response decoded into
 * reply (as smb_create_ex() gives them). 0, SMB_ERR_INVALID_ARG when i is
 * not a CREATE that succeeded, SMB_ERR_PROTOCOL for a malformed context.
 */
SMBCOPY_API int smb_compound_create_reply(const smb_compound *c, int i, smb_create_reply *reply, smb_error *err);

/**
 * The data READ i brought or the output QUERY_INFO i brought, *len bytes
 * (len optional), read through the library's bounded decoders; valid until
 * smb_compound_free(). NULL (*len 0) for another operation, or one that
 * failed or was not answered.
 */
SMBCOPY_API const void *smb_compound_output(const smb_compound *c, int i, size_t *len);

/** Bytes WRITE i wrote (its response's Count), 0 when it failed or i is not a WRITE. */
SMBCOPY_API uint32_t smb_compound_written(const smb_compound *c, int i);

/**
 * CLOSE i's final attributes into info (file_id 0). 0, or
 * SMB_ERR_INVALID_ARG when i is not a CLOSE answered with success.
 */
SMBCOPY_API int smb_compound_close_info(const smb_compound *c, int i, smb_file_info *info);

/**
 * Free c and what it holds: the opens of CREATEs not taken are closed
 * (smb_close), as is an open handed to it by smb_compound_add_close()
 * when c was never sent. Outputs become invalid. NULL is a no-op.
 */
SMBCOPY_API void smb_compound_free(smb_compound *c);

#ifdef __cplusplus
}
#endif

#endif

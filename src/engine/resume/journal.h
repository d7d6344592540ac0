/*
 * The checkpoint journal of a job: an append-only file of records, each
 * with its own length and CRC-32C, so that a crash at any instant leaves a
 * journal readable up to its last complete record. journal.c writes and
 * replays it; the engine decides what the records mean.
 *
 * Layout (little-endian):
 *   header  "SMBCOPYJ" | u32 version (2) | u32 flags (0) | job id (16 bytes)
 *   record  u32 body length | body | u32 CRC-32C of length and body
 *   body    u8 type | u16 path length | path | u64 size | u64 mtime |
 *           u64 file id | u64 offset | u64 length | u32 check |
 *           u16 temp length | temp | u64 change time
 *
 * Version 1 bodies end after temp (no change time). A version 1 journal of
 * the job is still read (its records with change time 0, unknown) and
 * rewritten as version 2 before anything is appended; a journal of a
 * version this code does not know is refused.
 */
#ifndef SMBCOPY_ENGINE_JOURNAL_H
#define SMBCOPY_ENGINE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/smb.h>

/** Record types. */
typedef enum journal_type {
    JOURNAL_FILE_DONE = 1,  /**< path copied whole (size, mtime, file id of the source) */
    JOURNAL_RANGE_DONE = 2, /**< [offset, offset+length) of path committed to temp */
    JOURNAL_FILE_STARTED = 3, /**< path is being written to temp (written before temp is made: no orphans) */
} journal_type;

/** One record; strings borrowed (valid during the replay callback or the append call). */
typedef struct journal_rec {
    journal_type type;
    const char *path;  /**< relative path of the file (source and destination) */
    uint64_t size;     /**< source size */
    uint64_t mtime;    /**< source modification time (FILETIME) */
    uint64_t file_id;  /**< source file id, 0 when unknown */
    uint64_t offset;   /**< RANGE_DONE: start of the range */
    uint64_t length;   /**< RANGE_DONE: its length */
    uint32_t check;    /**< RANGE_DONE: CRC-32C of the range's bytes, 0 when not computed */
    const char *temp;  /**< RANGE_DONE, FILE_STARTED: where the destination is being written, "" otherwise */
    uint64_t change_time; /**< source change time (FILETIME), 0 when unknown (and in version 1 journals) */
} journal_rec;

/** Called for each valid record when a journal is opened; non-zero stops (and fails the open). */
typedef int (*journal_replay_cb)(void *arg, const journal_rec *rec);

typedef struct journal journal;

/**
 * Open the journal at path for job_id: replay its records through cb (when
 * given), cut off a torn or corrupt tail, and get ready to append. A missing
 * file is created (mode 0600). A version 1 journal is replayed and rewritten
 * as version 2. A journal of another job (different id) or of another
 * format is refused with SMB_ERR_INVALID_ARG, unless fresh is set:
 * then, as for --no-resume, the file starts over empty (after replaying it
 * through cb when it is this job's, so that the caller can clean up).
 */
int journal_open(const char *path, const uint8_t job_id[16], bool fresh, journal_replay_cb cb, void *arg,
                 journal **out, smb_error *err);

/** Append rec (buffered; thread-safe). */
int journal_append(journal *j, const journal_rec *rec, smb_error *err);

/** Write what is buffered to the file (no sync): it then survives the process being killed. */
int journal_flush(journal *j, smb_error *err);

/** Write what is buffered and make it durable (fdatasync). Thread-safe. */
int journal_sync(journal *j, smb_error *err);

/** Records replayed at open, and bytes cut off a torn tail. */
void journal_replay_stats(const journal *j, uint64_t *records, uint64_t *cut_bytes);

/**
 * Sync and close; with remove (a fully successful job) delete the file.
 * Returns the first error of the final sync or removal.
 */
int journal_close(journal *j, bool remove, smb_error *err);

#endif

/*
 * What the checkpoint journal means to the engine: which files a job has
 * copied whole, and which ranges of partly copied files are committed to
 * their temporary files. Replayed from the journal when a job starts,
 * updated (in memory and in the journal) as the job goes, so that both a
 * rerun after a crash and a reconnection within the same run resume from
 * the last committed range.
 *
 * Durability: a committed range is written to the journal file at once (a
 * process killed a moment later leaves it there) and the file is synced at
 * a steady cadence (CHECKPOINT_SYNC_MS) against power loss. Files done are
 * buffered and written with the next range or sync: losing a few of them
 * costs only a look at the destination, which already holds them.
 */
#ifndef SMBCOPY_ENGINE_CHECKPOINT_H
#define SMBCOPY_ENGINE_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include <smbcopy/smb.h>

#include "engine/endpoints/endpoint.h"

/** The journal is synced (fdatasync) at most this long after a record. */
#define CHECKPOINT_SYNC_MS 1000

typedef struct checkpoint checkpoint;

/** One committed range of a temporary file. */
typedef struct cp_extent {
    uint64_t off, len;
    uint32_t check; /**< CRC-32C of its bytes; 0 when the bytes never passed through the client */
} cp_extent;

/** A partly copied file: its temporary file, the source it came from, what is committed. */
typedef struct cp_partial {
    char *temp;
    uint64_t size, mtime, file_id; /**< the source when the copy began */
    uint64_t change_time;          /**< its change time, 0 when unknown (or recorded by a version 1 journal) */
    cp_extent *ext;                /**< in the order committed */
    size_t n;
    bool stale; /**< left by a run before --no-resume: not to be resumed, its temporary file to be removed */
} cp_partial;

/** What was found in the journal when it was opened. */
typedef struct cp_stats {
    uint64_t records;    /**< valid records replayed */
    uint64_t cut_bytes;  /**< damaged or torn bytes dropped from its end */
    uint64_t files_done; /**< distinct files recorded as done */
    uint64_t partials;   /**< partly copied files recorded */
} cp_stats;

/**
 * Open (or create) the journal at path for job_id and replay it; with fresh
 * (--no-resume) it starts over empty: files done are forgotten, partial
 * copies are kept only as stale (so that their temporary files can go).
 * Errors as journal_open().
 */
int checkpoint_open(const char *path, const uint8_t job_id[16], bool fresh, checkpoint **out, smb_error *err);

/** What the replay found. */
void checkpoint_stats(const checkpoint *c, cp_stats *st);

/**
 * True when path was copied whole from a source with exactly st's size,
 * time, id and change time (the change time compared when both are known).
 * Says nothing of the destination: it is no reason to skip a file whose
 * destination may have changed since.
 */
bool checkpoint_is_done(checkpoint *c, const char *path, const ep_stat *st);

/**
 * True when the last time path was copied whole (by this job, per its
 * journal), its source was not st: a source whose size and times look the
 * same but whose change time (or id) differs was changed in place since.
 */
bool checkpoint_done_differs(checkpoint *c, const char *path, const ep_stat *st);

/** Record path as copied whole from st (forgets its partial copy). */
int checkpoint_file_done(checkpoint *c, const char *path, const ep_stat *st, smb_error *err);

/**
 * Record that path is about to be written to temp, for a copy of the
 * source st; called before temp is created, so that a run killed at any
 * moment leaves no temporary file the journal does not know of. Written
 * to the journal file at once.
 */
int checkpoint_started(checkpoint *c, const char *path, const char *temp, const ep_stat *st, smb_error *err);

/**
 * A copy of the partial record of path (free with cp_partial_clear; n is 0
 * when it was started and nothing is committed yet); false when there is none.
 */
bool checkpoint_partial(checkpoint *c, const char *path, cp_partial *out);

/** Free what checkpoint_partial() filled in. */
void cp_partial_clear(cp_partial *p);

/**
 * Record [off, off+len) of path as committed to temp, for a copy of the
 * source st. A temp or source different from the recorded one starts the
 * record over. Written to the journal file at once; synced at the cadence.
 */
int checkpoint_commit(checkpoint *c, const char *path, const char *temp, const ep_stat *st, uint64_t off,
                      uint64_t len, uint32_t check, smb_error *err);

/** True when temp is the temporary file of a partial copy the journal knows. */
bool checkpoint_temp_known(checkpoint *c, const char *temp);

/** Forget the partial copy of path (its temporary file is gone). Memory only. */
void checkpoint_forget(checkpoint *c, const char *path);

/** Sync and close; with remove (a fully successful job) delete the journal. */
int checkpoint_close(checkpoint *c, bool remove, smb_error *err);

#endif

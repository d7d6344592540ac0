/*
 * The plan of a sharded job inside the engine: what it holds, how it is
 * divided (shard_divide), and who owns a destination entry (shard_role).
 *
 * Ownership is decided by path alone, so every shard, and the finishing
 * run, decides alike without talking to the others:
 *   - a split directory (listed in the plan) straddles shards: every shard
 *     walks it; each entry of it belongs to the shard of the last cut whose
 *     key is at or before the entry's key (its name case-folded, so names
 *     differing only in case always go to one shard);
 *   - a split file (listed with its ranges) is written range by range by the
 *     shards its ranges name, into one temporary file, completed at the end;
 *   - everything else below an entry of a split directory belongs to that
 *     entry's shard, whole.
 */
#ifndef SMBCOPY_ENGINE_SHARD_PLAN_H
#define SMBCOPY_ENGINE_SHARD_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/shard.h>

/** Where a split directory's part for one shard starts. */
typedef struct shard_cut {
    char *key;      /**< case-folded name; the first cut's is "" */
    unsigned shard;
} shard_cut;

/** A directory whose entries go to several shards. */
typedef struct shard_split {
    char *path;       /**< relative to the destination root, '/'-separated ("" for the root) */
    shard_cut *cuts;  /**< by key, ascending; the first has key "" */
    size_t ncuts;
} shard_split;

/** One byte range of a split file, written by one shard. */
typedef struct shard_piece {
    uint64_t offset, length;
    unsigned shard;
} shard_piece;

/** A file split into ranges. */
typedef struct shard_file {
    char *path;          /**< relative to the destination root */
    uint64_t size, mtime;/**< the source as planned (FILETIME): a shard refuses a source that differs */
    shard_piece *pieces; /**< by offset, tiling [0, size) */
    size_t npieces;
} shard_file;

struct sc_plan {
    uint8_t id[16];
    char id_hex[33];
    uint32_t tag;          /**< names the split files' temporary names (temp_names.h), shared by the shards */
    unsigned nshards;
    char **args;           /**< the job's command-line arguments (sc_plan_set_job) */
    size_t nargs;
    char *summary_dir;     /**< or NULL */
    shard_split *splits;   /**< by path (strcmp), ascending */
    size_t nsplits;
    shard_file *files;     /**< by path (strcmp), ascending */
    size_t nfiles;
    uint64_t *shard_bytes, *shard_files; /**< per shard: what the plan gave it */
    uint64_t total_bytes, total_files;
};

/** What a shard does with an entry of a split directory. */
typedef enum shard_role {
    SHARD_MINE,   /**< the entry (and all below it) is this shard's */
    SHARD_OTHERS, /**< another shard's: left alone */
    SHARD_SPLIT,  /**< a split directory: walked (made in place when missing) */
    SHARD_RANGES, /**< a split file: write this shard's ranges of it (the finishing run: complete it) */
} shard_role;

/** The split directory at path, or NULL. */
const shard_split *shard_find_split(const sc_plan *plan, const char *path);

/** The split file at path, or NULL. */
const shard_file *shard_find_file(const sc_plan *plan, const char *path);

/** The shard that owns the entry name of split directory sp (by its cuts). */
unsigned shard_owner(const shard_split *sp, const char *name);

/**
 * The role of entry name (at rel, is_dir) of split directory sp for shard k
 * (SC_SHARD_FINISH: the finishing run, to which only split entries matter).
 * *counted: this shard counts the entry in its totals (the owner of its
 * name), so that the shards' totals add up to the tree's. *file: the split
 * file, for SHARD_RANGES.
 */
shard_role shard_role_of(const sc_plan *plan, int k, const shard_split *sp, const char *name, const char *rel,
                         bool is_dir, bool *counted, const shard_file **file);

/** True when shard k writes a range of f. */
bool shard_file_has(const shard_file *f, int k);

/* ---------------------------------------------------------- dividing (shard_divide.c) */

/** A file the planning walk found. */
typedef struct shard_item {
    char *path;         /**< relative to the destination root (owned by the caller) */
    uint64_t size, mtime;
    bool to_copy;       /**< not up to date at the destination */
} shard_item;

/**
 * What one file weighs besides its bytes when it is copied (create,
 * rename, times: a round trip or more each), and when it is only compared.
 */
#define SHARD_FILE_COST ((uint64_t)64 << 10)
#define SHARD_SKIP_COST ((uint64_t)4 << 10)

/**
 * Divide items[0..n) (any order; sorted in place) into plan->nshards shards,
 * filling plan's splits, files and loads. 0 or SMB_ERR_NO_MEMORY.
 */
int shard_divide(sc_plan *plan, shard_item *items, size_t n, smb_error *err);

/** A new empty plan of nshards with a fresh identity; NULL when out of memory. */
sc_plan *shard_plan_new(unsigned nshards);

/** The SMB_ERR_* of a failed local call's errno (a plan or report file written). */
int shard_local_error(int e);

/** Give plan the identity id (and the tag of its split files' temporary names, derived from it). */
void shard_plan_set_id(sc_plan *plan, const uint8_t id[16]);

#endif

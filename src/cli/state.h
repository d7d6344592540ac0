/*
 * A job's identity and where its state lives: the default run lock and the
 * checkpoint journal of a job sit in the state directory under
 * a name derived from the job: <id>.lock and <id>.journal.
 */
#ifndef SMBCOPY_CLI_STATE_H
#define SMBCOPY_CLI_STATE_H

#include <stddef.h>
#include <stdint.h>

#include <smbcopy/engine.h>

/**
 * The job's identity as 32 hex digits (+ NUL) in hex: a hash of name when
 * given (--job NAME), else of the sources and the destination in order,
 * each as sc_location_identity gives it (so a rerun spelled otherwise is the same
 * job: an SMB host by name or address, share and path in any case, without
 * user or password; a local path relative, through symbolic links or with
 * ".."). Returns 0, or -1 (msg says why).
 */
int cli_job_id(const char *name, const sc_location *locs, size_t nlocs, char hex[33], char *msg, size_t msglen);

/** The first 16 bytes of a job identity from its hex form (as kept in the job's journal). */
void cli_job_id_bytes(const char hex[33], uint8_t id[16]);

/**
 * The state directory, "$XDG_STATE_HOME/smbcopy" (an absolute
 * XDG_STATE_HOME), else "$HOME/.local/state/smbcopy", created (mode 0700)
 * when missing. Returns 0, or -1 (msg says why).
 */
int cli_state_dir(char *buf, size_t len, char *msg, size_t msglen);

/** mkdir -p path (new directories mode 0700). 0, or -1 (msg says why). */
int cli_make_dirs(const char *path, char *msg, size_t msglen);

/**
 * Whether path may serve as a checkpoint journal (--checkpoint FILE): it
 * does not exist, is empty, or starts like a journal (journal.h). Anything
 * else (someone's file, a directory) is refused, so that no file is ever
 * truncated or deleted for not being a journal. 0, or -1 (msg says why).
 */
int cli_journal_file_check(const char *path, char *msg, size_t msglen);

#endif

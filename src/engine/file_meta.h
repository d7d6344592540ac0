/*
 * A file's metadata beyond bytes, times and attributes: its named streams
 * and its security descriptor. Which of them a pair of endpoints moves, and
 * moving them from an open source file to the open destination file before
 * the destination is finished and renamed into place (so the final name
 * appears complete). What the destination cannot hold is reported for the
 * file (SC_EV_META_NOT_KEPT and the summary's *_not_kept counters), never
 * dropped silently; the file's data is copied all the same.
 */
#ifndef SMBCOPY_FILE_META_H
#define SMBCOPY_FILE_META_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/job_internal.h"

/** True when the pair copies named streams: the job did not turn them off and both ends can hold them. */
bool file_meta_streams(const sc_job *job, const job_pair *pair);

/** The security descriptor parts (EP_SD_*) the job asks for (sc_job_opts.acls), whatever the ends. */
uint32_t file_meta_sd_wanted(const sc_job *job);

/** The parts the pair copies: those asked for, when both ends read and write descriptors; else 0. */
uint32_t file_meta_sd_parts(const sc_job *job, const job_pair *pair);

/**
 * True when a file whose source metadata is st must be copied through open
 * files (start_copy's path) rather than whole-file reads and writes, which
 * carry no streams (but a descriptor): the file may have named streams
 * (st->streams is not EP_STREAMS_NONE) and they are copied.
 */
bool file_meta_needs_open(const sc_job *job, const job_pair *pair, const ep_stat *st);

/**
 * Copy the named streams and the security descriptor the pair moves from
 * src (open for reading) to dst (open_write's file, not finished yet).
 * rel names the file in events. Returns 0 when the file may go on (what the
 * destination could not hold, or a source stream too large to move, is
 * reported and counted), or an error that fails the file: reading the
 * source failed, or a descriptor asked for could not be written.
 */
int file_meta_copy(sc_job *job, job_pair *pair, const char *rel, ep_file *src, ep_file *dst, smb_error *err);

/**
 * Read the parts `parts` of the security descriptor of src (open for
 * reading) into *sd (the caller frees it with ep_sd_clear), as
 * file_meta_copy does, in the form read_whole gives it: a SACL the source
 * refuses (reading it needs SeSecurityPrivilege) leaves it out, the rest
 * read, and *why holds the refusal (SMB_ERR_ACCESS; code 0 otherwise) for
 * file_meta_report_sd once the copy goes on. Returns 0, or the error that
 * fails the file (err: "reading the security descriptor: ...").
 */
int file_meta_get_sd(ep *src_ep, uint32_t parts, ep_file *src, ep_sd *sd, smb_error *why, smb_error *err);

/**
 * Set sd (sd->len 0: none, nothing done) on dst (open_write's file, not
 * finished yet), as file_meta_copy does: counted as copied; a SACL the
 * destination refuses is reported and the rest set (sd->parts loses
 * EP_SD_SACL); a destination that cannot hold it (SMB_ERR_UNSUPPORTED,
 * SMB_ERR_NO_SPACE) is reported. Returns 0, or the error that fails the
 * file (err: "writing the security descriptor: ...").
 */
int file_meta_put_sd(sc_job *job, ep *dst_ep, const char *rel, ep_file *dst, ep_sd *sd, smb_error *err);
/**
 * Write streams s onto dst (dst_ep's open file, not finished yet): those
 * written counted (ep_stream.kept), what dst_ep cannot hold reported.
 * Returns 0, or the error that fails the file ("writing the named streams: ...").
 */
int file_meta_put_streams(sc_job *job, ep *dst_ep, const char *rel, ep_file *dst, ep_streams *s, smb_error *err);

/**
 * Report and count rel's descriptor from what a successful read or write
 * of it said besides its success (why: read_whole's or write_whole's err,
 * file_meta_get_sd's why), as file_meta_copy reports it. Read (written
 * false): SMB_ERR_ACCESS, the SACL not copied. Written: counted as copied,
 * SMB_ERR_ACCESS reporting the SACL not kept; SMB_ERR_UNSUPPORTED or
 * SMB_ERR_NO_SPACE: not kept at all, reported. why->code 0: nothing to
 * report (counted when written). sd: the descriptor (for the summary's
 * SDDL), or NULL.
 */
void file_meta_report_sd(sc_job *job, const char *rel, bool written, const ep_sd *sd, const smb_error *why);

/**
 * Report that rel was copied without some of its streams or descriptor:
 * counts one in *counter (the summary's streams_not_kept or sds_not_kept)
 * and notes it (job_meta_note: SC_EV_META_NOT_KEPT with the message fmt
 * makes, what and why; sd, the descriptor not kept, in SDDL in the
 * summary; NULL for streams).
 */
void file_meta_not_kept(sc_job *job, uint64_t *counter, const char *rel, const ep_sd *sd, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/**
 * The same for a directory: src_rel at the pair's source onto dst_rel at
 * its destination (opened with open_meta), shown as shown in events.
 * Nothing to do (0) when the job moves neither or an end cannot open
 * directories for them. Errors as file_meta_copy's, and the opens'.
 */
int file_meta_copy_dir(sc_job *job, job_pair *pair, const char *src_rel, const char *dst_rel, const char *shown,
                       smb_error *err);

/**
 * A file whose data is up to date (the plan skips it), or a directory that
 * was there before the job (is_dir): with --acls, its
 * security descriptor is compared with the source's (the parts the job
 * copies, as bytes) and set again when it differs, *updated then true
 * (counted in sds_copied and files_meta_updated, SC_EV_META_UPDATED sent).
 * Named streams are not compared: writing one changes the file's
 * modification time on Windows, so the plan copies such a file again.
 * Returns 0 or the error to report for the file (it stays as it was).
 */
int file_meta_refresh(sc_job *job, job_pair *pair, const char *src_rel, const char *dst_rel, bool is_dir,
                      bool *updated, smb_error *err);

#endif

/* The end-of-job report: a robocopy-style table, the failures, or one JSON object. */
#ifndef SMBCOPY_CLI_REPORT_H
#define SMBCOPY_CLI_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <smbcopy/engine.h>

/** The table (dirs, files, bytes, time and rate) and notes (dry run, interrupted, ignored). */
void cli_report_table(FILE *f, const sc_summary *s, bool dry_run, bool interrupted);

/**
 * The job in one paragraph, for a cron mail or a log: what was copied, up
 * to date, failed and deleted, time and rate, resumed files, reconnections,
 * and how it ended (exit code given). Ends with a newline.
 */
void cli_report_paragraph(FILE *f, const sc_summary *s, bool dry_run, bool interrupted, int exit_code);

/** One "FAILED path: reason" line per failure. */
void cli_report_failures(FILE *f, const sc_summary *s);

/**
 * One JSON object and a newline: files_copied, files_skipped, files_deleted,
 * files_failed, dirs_created, dirs_deleted, bytes_transferred (bytes of files
 * copied), bytes_total, bytes_server_copied, bytes_read, bytes_written,
 * files_resumed, bytes_resumed, reconnects, journal_records,
 * journal_cut_bytes, connections, channels_lost, channels_rebound, seconds,
 * interrupted, failures, then exit_code (the process's exit status) and
 * error: why the job could not run or ended early (one line, never a
 * password), null when it ran to its end. Every exit of smbcopy --json
 * prints exactly one such object, a usage error's included (the counters
 * then 0).
 */
void cli_report_json(FILE *f, const sc_summary *s, bool interrupted, int exit_code, const char *error);

/** A writer of the "shards" member of a finishing run's JSON report (its value, a JSON array). */
typedef struct cli_shard_view {
    void (*write)(FILE *f, void *arg);
    void *arg;
} cli_shard_view;

/** cli_report_json with "ranges_copied" and "shards" (shards->write's array) before exit_code. */
void cli_report_json_shards(FILE *f, const sc_summary *s, bool interrupted, int exit_code, const char *error,
                            const cli_shard_view *shards);


#endif

/* The end-of-job report for humans (a table) and for programs (JSON). */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "format.h"

#define COL 11 /* width of a table column */

static void row_label(FILE *f, const char *label)
{
    fprintf(f, "%7s :", label);
}

static void cell(FILE *f, const char *text)
{
    fprintf(f, "%*s", COL, text);
}

static void cell_u64(FILE *f, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    cell(f, buf);
}

static void cell_bytes(FILE *f, uint64_t v)
{
    char buf[24];
    cell(f, cli_format_bytes(v, buf, sizeof buf));
}

void cli_report_table(FILE *f, const sc_summary *s, bool dry_run, bool interrupted)
{
    /* Failures beyond the files' are those of directories (listing, creating). */
    uint64_t other_failed = s->nfailures > s->files_failed ? s->nfailures - s->files_failed : 0;

    fprintf(f, "%9s", "");
    static const char *const heads[] = {"Total", "Copied", "Skipped", "Failed", "Deleted"};
    static const char *const would[] = {"Total", "Would copy", "Skipped", "Failed", "Would del."};
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
        cell(f, dry_run ? would[i] : heads[i]);
    fputc('\n', f);

    row_label(f, "Dirs");
    cell_u64(f, s->dirs_total);
    cell_u64(f, s->dirs_created);
    cell(f, "-");
    cell_u64(f, other_failed);
    cell_u64(f, s->dirs_deleted);
    fputc('\n', f);

    row_label(f, "Files");
    cell_u64(f, s->files_total);
    cell_u64(f, s->files_copied);
    cell_u64(f, s->files_skipped);
    cell_u64(f, s->files_failed);
    cell_u64(f, s->files_deleted);
    fputc('\n', f);

    row_label(f, "Bytes");
    cell_bytes(f, s->bytes_total);
    cell_bytes(f, s->bytes_copied);
    cell_bytes(f, s->bytes_skipped);
    cell(f, s->files_failed ? "-" : "0");
    cell(f, "-");
    fputc('\n', f);

    char t[32], r[32];
    row_label(f, "Time");
    cell(f, cli_format_duration(s->seconds, t, sizeof t));
    fprintf(f, "   rate %s\n",
            cli_format_rate(s->seconds > 0 ? (double)s->bytes_copied / s->seconds : 0, r, sizeof r));

    if (s->bytes_server_copied) {
        char b[24];
        fprintf(f, "\n%s copied on the server (no data through this machine)\n",
                cli_format_bytes(s->bytes_server_copied, b, sizeof b));
    }
    if (s->ignored)
        fprintf(f, "%s%" PRIu64 " entr%s not copied (symbolic links, special files or refused names)\n",
                s->bytes_server_copied ? "" : "\n", s->ignored, s->ignored == 1 ? "y" : "ies");
    if (s->streams_copied || s->sds_copied) {
        char b[24];
        fprintf(f, "Copied %" PRIu64 " named stream%s (%s) and %" PRIu64 " security descriptor%s\n", s->streams_copied,
                s->streams_copied == 1 ? "" : "s", cli_format_bytes(s->stream_bytes, b, sizeof b), s->sds_copied,
                s->sds_copied == 1 ? "" : "s");
    }
    if (s->streams_not_kept)
        fprintf(f, "%" PRIu64 " file%s copied without (some of) their named streams: the destination cannot hold "
                   "them (see -v or --log)\n",
                s->streams_not_kept, s->streams_not_kept == 1 ? "" : "s");
    if (s->files_meta_updated)
        fprintf(f, "%" PRIu64 " file%s up to date got their security descriptor set again\n", s->files_meta_updated,
                s->files_meta_updated == 1 ? "" : "s");
    if (s->sds_not_kept)
        fprintf(f, "%" PRIu64 " file%s copied without (a part of) their security descriptor (see -v or --log)\n",
                s->sds_not_kept, s->sds_not_kept == 1 ? "" : "s");
    if (s->links_copied)
        fprintf(f, "Made %" PRIu64 " symbolic link%s at the destination\n", s->links_copied,
                s->links_copied == 1 ? "" : "s");
    if (s->links_not_kept)
        fprintf(f, "%" PRIu64 " symbolic link%s not kept: outside the copied tree, absolute, or an end that cannot "
                   "hold them (see -v or --log)\n",
                s->links_not_kept, s->links_not_kept == 1 ? "" : "s");
    if (s->files_resumed) {
        char b[24];
        fprintf(f, "\nResumed %" PRIu64 " partly copied file%s from the checkpoint journal (%s not copied again)\n",
                s->files_resumed, s->files_resumed == 1 ? "" : "s", cli_format_bytes(s->bytes_resumed, b, sizeof b));
    }
    if (s->journal_cut_bytes)
        fprintf(f, "The checkpoint journal was damaged at its end: %" PRIu64
                   " bytes dropped, the rest used\n", s->journal_cut_bytes);
    if (s->reconnects)
        fprintf(f, "Reconnected %u time%s after a lost connection\n", s->reconnects, s->reconnects == 1 ? "" : "s");
    if (dry_run)
        fprintf(f, "\nDry run: nothing was changed.\n");
    if (interrupted)
        fprintf(f, "\nInterrupted: the copy stopped before the end.\n");
}

void cli_report_paragraph(FILE *f, const sc_summary *s, bool dry_run, bool interrupted, int exit_code)
{
    char b[24], t[32], r[32];
    uint64_t failed = s->files_failed + (s->nfailures > s->files_failed ? s->nfailures - s->files_failed : 0);
    fprintf(f, "smbcopy: %s %" PRIu64 " of %" PRIu64 " file%s (%s)", dry_run ? "would copy" : "copied",
            s->files_copied, s->files_total, s->files_total == 1 ? "" : "s",
            cli_format_bytes(s->bytes_copied, b, sizeof b));
    fprintf(f, ", %" PRIu64 " up to date, %" PRIu64 " failed", s->files_skipped, failed);
    if (s->files_deleted || s->dirs_deleted)
        fprintf(f, ", %" PRIu64 " %s", s->files_deleted + s->dirs_deleted, dry_run ? "would be deleted" : "deleted");
    fprintf(f, ", in %s (%s)", cli_format_duration(s->seconds, t, sizeof t),
            cli_format_rate(s->seconds > 0 ? (double)s->bytes_copied / s->seconds : 0, r, sizeof r));
    if (s->files_resumed)
        fprintf(f, "; resumed %" PRIu64 " partly copied file%s from the journal (%s not copied again)",
                s->files_resumed, s->files_resumed == 1 ? "" : "s", cli_format_bytes(s->bytes_resumed, b, sizeof b));
    if (s->reconnects)
        fprintf(f, "; reconnected %u time%s", s->reconnects, s->reconnects == 1 ? "" : "s");
    if (s->journal_cut_bytes)
        fprintf(f, "; the journal's damaged end (%" PRIu64 " bytes) was dropped", s->journal_cut_bytes);
    if (interrupted)
        fputs("; interrupted before the end: a rerun carries on", f);
    else if (failed)
        fputs("; the failures are listed above", f);
    fprintf(f, "; exit %d.\n", exit_code);
}

void cli_report_failures(FILE *f, const sc_summary *s)
{
    for (size_t i = 0; i < s->nfailures; i++) {
        fputs("FAILED ", f);
        cli_fput_safe(f, s->failures[i].path ? s->failures[i].path : "");
        fputs(": ", f);
        cli_fput_safe(f, s->failures[i].message ? s->failures[i].message : "unknown error");
        fputc('\n', f);
    }
}

static void report_json(FILE *f, const sc_summary *s, bool interrupted, int exit_code, const char *error,
                        const cli_shard_view *shards);

void cli_report_json(FILE *f, const sc_summary *s, bool interrupted, int exit_code, const char *error)
{
    report_json(f, s, interrupted, exit_code, error, NULL);
}

void cli_report_json_shards(FILE *f, const sc_summary *s, bool interrupted, int exit_code, const char *error,
                            const cli_shard_view *shards)
{
    report_json(f, s, interrupted, exit_code, error, shards);
}

static void report_json(FILE *f, const sc_summary *s, bool interrupted, int exit_code, const char *error,
                        const cli_shard_view *shards)
{
    fprintf(f,
            "{\"files_copied\":%" PRIu64 ",\"files_skipped\":%" PRIu64 ",\"files_deleted\":%" PRIu64
            ",\"files_failed\":%" PRIu64 ",\"dirs_created\":%" PRIu64 ",\"dirs_deleted\":%" PRIu64
            ",\"bytes_transferred\":%" PRIu64 ",\"bytes_total\":%" PRIu64 ",\"bytes_server_copied\":%" PRIu64
            ",\"bytes_read\":%" PRIu64 ",\"bytes_written\":%" PRIu64 ",\"files_resumed\":%" PRIu64
            ",\"bytes_resumed\":%" PRIu64 ",\"reconnects\":%u,\"journal_records\":%" PRIu64
            ",\"journal_cut_bytes\":%" PRIu64 ",\"streams_copied\":%" PRIu64 ",\"stream_bytes\":%" PRIu64
            ",\"sds_copied\":%" PRIu64 ",\"streams_not_kept\":%" PRIu64 ",\"sds_not_kept\":%" PRIu64
            ",\"links_copied\":%" PRIu64 ",\"links_not_kept\":%" PRIu64
            ",\"files_meta_updated\":%" PRIu64 ",\"dfs_links_followed\":%" PRIu64
            ",\"dfs_links_unreachable\":%" PRIu64 ",\"connections\":%u,\"channels_lost\":%u,\"channels_rebound\":%u"
            ",\"seconds\":%.3f,\"interrupted\":%s,\"failures\":[",
            s->files_copied, s->files_skipped, s->files_deleted, s->files_failed, s->dirs_created,
            s->dirs_deleted, s->bytes_copied, s->bytes_total, s->bytes_server_copied, s->bytes_read,
            s->bytes_written, s->files_resumed, s->bytes_resumed, s->reconnects, s->journal_records,
            s->journal_cut_bytes, s->streams_copied, s->stream_bytes, s->sds_copied, s->streams_not_kept,
            s->sds_not_kept, s->links_copied, s->links_not_kept, s->files_meta_updated, s->dfs_links_followed,
            s->dfs_links_unreachable, s->connections, s->channels_lost, s->channels_rebound,
            s->seconds > 0 && isfinite(s->seconds) ? s->seconds : 0.0, interrupted || s->interrupted ? "true" : "false");
    for (size_t i = 0; i < s->nfailures; i++) {
        fputs(i ? ",{\"path\":" : "{\"path\":", f);
        sc_json_write_string(f, s->failures[i].path);
        fputs(",\"reason\":", f);
        sc_json_write_string(f, s->failures[i].message);
        fputc('}', f);
    }
    fputs("],\"metadata\":[", f);
    for (size_t i = 0; i < s->nmeta_notes; i++) {
        const sc_meta_note *n = &s->meta_notes[i];
        fputs(i ? ",{\"path\":" : "{\"path\":", f);
        sc_json_write_string(f, n->path);
        fputs(n->updated ? ",\"event\":\"updated\",\"reason\":" : ",\"event\":\"not kept\",\"reason\":", f);
        sc_json_write_string(f, n->message);
        fputs(",\"sddl\":", f);
        if (n->sddl)
            sc_json_write_string(f, n->sddl);
        else
            fputs("null", f);
        fputc('}', f);
    }
    fprintf(f, "],\"metadata_cut\":%s,", s->meta_notes_cut ? "true" : "false");
    if (shards) {
        fprintf(f, "\"ranges_copied\":%" PRIu64 ",\"shards\":", s->ranges_copied);
        shards->write(f, shards->arg);
        fputc(',', f);
    }
    fprintf(f, "\"exit_code\":%d,\"error\":", exit_code);
    if (error)
        sc_json_write_string(f, error);
    else
        fputs("null", f);
    fputs("}\n", f);
}

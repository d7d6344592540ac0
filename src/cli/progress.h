/*
 * Job events on the terminal: the status line (rewritten in place on
 * stderr, at most five times a second), action lines (--verbose, dry runs)
 * and the --log file. The engine calls cli_progress_event from worker
 * threads; a mutex guards the state.
 */
#ifndef SMBCOPY_CLI_PROGRESS_H
#define SMBCOPY_CLI_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <smbcopy/engine.h>

#define CLI_REDRAW_MS 200

typedef struct cli_progress_opts {
    bool status_line;   /**< draw the status line on status_out */
    bool verbose;       /**< print every action */
    bool quiet;         /**< print no action at all */
    FILE *actions_out;  /**< action lines (stdout; stderr when stdout carries JSON) */
    FILE *status_out;   /**< the status line (stderr) */
    FILE *log;          /**< --log file, or NULL */
} cli_progress_opts;

/** A file being copied now. */
typedef struct cli_inflight {
    char *path;
    uint64_t size; /**< from FILE_START */
    uint64_t done; /**< bytes so far, from FILE_PROGRESS */
} cli_inflight;

/** What the status line shows. */
typedef struct cli_status {
    uint64_t files_done;    /**< copied + skipped + failed */
    uint64_t files_total;   /**< 0: unknown */
    uint64_t bytes_copied;  /**< bytes of copied files, plus partial ones */
    uint64_t bytes_handled; /**< bytes_copied + skipped and failed files' sizes */
    uint64_t bytes_total;   /**< from SC_EV_WALK_DONE */
    bool walk_done;         /**< the walk is over and bytes_total is known */
    double rate;            /**< bytes per second (smoothed) */
} cli_status;

typedef struct cli_progress {
    cli_progress_opts o;
    pthread_mutex_t lock;
    cli_status st;
    uint64_t bytes_finished;  /**< copied files' full sizes */
    uint64_t bytes_other;     /**< skipped and failed files' sizes */
    cli_inflight *inflight;
    size_t ninflight, capinflight;
    double start, last_draw, last_sample;
    uint64_t last_sample_bytes;
    unsigned width;           /**< terminal columns (0: unknown) */
    bool line_shown;
} cli_progress;

/** Set up p (o is copied). 0, or -1 when the mutex cannot be made. */
int cli_progress_init(cli_progress *p, const cli_progress_opts *o);

/** The sc_event_cb: arg is the cli_progress. */
void cli_progress_event(const sc_event *ev, void *arg);

/** Remove the status line (before the summary is printed). */
void cli_progress_finish(cli_progress *p);

/** Free p's state (after the job). */
void cli_progress_destroy(cli_progress *p);

/**
 * The status line text: "files 120/3000  1.2 GiB/9.8 GiB  95.3 MB/s  ETA 4:05"
 * (totals and the ETA only once known). Returns buf.
 */
const char *cli_status_format(const cli_status *st, char *buf, size_t len);

#endif

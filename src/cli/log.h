/* The --log file: one tab-separated line per action, appended. */
#ifndef SMBCOPY_CLI_LOG_H
#define SMBCOPY_CLI_LOG_H

#include <stdio.h>

#include <smbcopy/engine.h>

/** Open path for appending (line-buffered). 0, or -1 with errbuf. */
int cli_log_open(const char *path, FILE **out, char *errbuf, size_t errlen);

/**
 * One line for an action event: "TIME<TAB>ACTION<TAB>PATH<TAB>SIZE-OR-REASON"
 * (ISO 8601 local time; control characters in names written as \xNN).
 * Events that are not actions (start, progress, walk done) write nothing.
 */
void cli_log_event(FILE *log, const sc_event *ev);

/** A comment line "# TIME text". */
void cli_log_note(FILE *log, const char *text);

/** The action word of an event ("copied", "skipped", "FAILED", ...), or NULL when it is not an action. */
const char *cli_event_action(const sc_event *ev);

#endif

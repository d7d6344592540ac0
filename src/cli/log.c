/* The --log file: robocopy-like action lines with an ISO 8601 time. */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "format.h"

int cli_log_open(const char *path, FILE **out, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "ae");
    if (!f) {
        snprintf(errbuf, errlen, "cannot open log file '%s': %s", path, strerror(errno));
        return -1;
    }
    setvbuf(f, NULL, _IOLBF, 0);
    *out = f;
    return 0;
}

const char *cli_event_action(const sc_event *ev)
{
    switch (ev->type) {
    case SC_EV_FILE_DONE: return "copied";
    case SC_EV_FILE_SKIPPED: return "skipped";
    case SC_EV_FILE_FAILED: return "FAILED";
    case SC_EV_DIR_CREATED: return "mkdir";
    case SC_EV_DELETED: return "deleted";
    case SC_EV_ENTRY_IGNORED: return "ignored";
    case SC_EV_DRY_RUN: return "would";
    case SC_EV_RETRY: return "retry";
    case SC_EV_META_NOT_KEPT: return "not kept";
    case SC_EV_META_UPDATED: return "updated acl";
    case SC_EV_LINK_COPIED: return "link";
    case SC_EV_RANGE_DONE: return "range";
    default: return NULL;
    }
}

static void put_time(FILE *f)
{
    char buf[40];
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", &tm))
        fputs(buf, f);
    else
        fputs("-", f);
}

void cli_log_event(FILE *log, const sc_event *ev)
{
    const char *action = cli_event_action(ev);
    if (!log || !action)
        return;
    put_time(log);
    fputc('\t', log);
    fputs(action, log);
    if (ev->type == SC_EV_DRY_RUN) {
        fputc(' ', log);
        cli_fput_safe(log, ev->message ? ev->message : "act");
    }
    fputc('\t', log);
    cli_fput_safe(log, ev->path ? ev->path : "");
    if (ev->is_dir && ev->path && *ev->path && strcmp(ev->path, ".") != 0)
        fputc('/', log);
    fputc('\t', log);
    switch (ev->type) {
    case SC_EV_FILE_DONE:
    case SC_EV_FILE_SKIPPED:
        fprintf(log, "%" PRIu64, ev->bytes);
        break;
    case SC_EV_DRY_RUN:
        if (!ev->is_dir)
            fprintf(log, "%" PRIu64, ev->bytes);
        break;
    default:
        cli_fput_safe(log, ev->message ? ev->message : "");
        break;
    }
    fputc('\n', log);
}

void cli_log_note(FILE *log, const char *text)
{
    if (!log)
        return;
    fputs("# ", log);
    put_time(log);
    fputc(' ', log);
    cli_fput_safe(log, text);
    fputc('\n', log);
}

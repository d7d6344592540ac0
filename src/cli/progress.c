/* The status line, the action lines and the log, fed by job events. */
#include "progress.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "log.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cli_progress_init(cli_progress *p, const cli_progress_opts *o)
{
    memset(p, 0, sizeof *p);
    p->o = *o;
    if (pthread_mutex_init(&p->lock, NULL) != 0)
        return -1;
    p->start = p->last_sample = now_s();
    p->last_draw = 0;
    struct winsize ws;
    if (o->status_out && ioctl(fileno(o->status_out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        p->width = ws.ws_col;
    return 0;
}

const char *cli_status_format(const cli_status *st, char *buf, size_t len)
{
    char files[48], copied[24], total[24], rate[24], eta[24] = "";
    if (st->files_total)
        snprintf(files, sizeof files, "%" PRIu64 "/%" PRIu64, st->files_done, st->files_total);
    else
        snprintf(files, sizeof files, "%" PRIu64, st->files_done);
    cli_format_bytes(st->bytes_copied, copied, sizeof copied);
    if (st->walk_done)
        cli_format_bytes(st->bytes_total, total, sizeof total);
    cli_format_rate(st->rate, rate, sizeof rate);
    if (st->walk_done && st->rate > 0) {
        uint64_t left = st->bytes_total > st->bytes_handled ? st->bytes_total - st->bytes_handled : 0;
        char clock[16];
        snprintf(eta, sizeof eta, "  ETA %s", cli_format_clock((double)left / st->rate, clock, sizeof clock));
    }
    snprintf(buf, len, "files %s  %s%s%s  %s%s", files, copied, st->walk_done ? "/" : "",
             st->walk_done ? total : "", rate, eta);
    return buf;
}

/* ---------------------------------------------------------------- files in flight */

static cli_inflight *inflight_find(cli_progress *p, const char *path)
{
    for (size_t i = 0; path && i < p->ninflight; i++)
        if (strcmp(p->inflight[i].path, path) == 0)
            return &p->inflight[i];
    return NULL;
}

static void inflight_add(cli_progress *p, const char *path, uint64_t size)
{
    if (!path || inflight_find(p, path))
        return;
    if (p->ninflight == p->capinflight) {
        size_t cap = p->capinflight ? p->capinflight * 2 : 16;
        cli_inflight *grown = realloc(p->inflight, cap * sizeof *grown);
        if (!grown)
            return; /* the bar is then a little behind; nothing else suffers */
        p->inflight = grown;
        p->capinflight = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return;
    p->inflight[p->ninflight++] = (cli_inflight){.path = copy, .size = size, .done = 0};
}

/* Forget a file; returns its partial byte count. */
static uint64_t inflight_remove(cli_progress *p, const char *path)
{
    cli_inflight *f = inflight_find(p, path);
    if (!f)
        return 0;
    uint64_t done = f->done;
    free(f->path);
    *f = p->inflight[--p->ninflight];
    return done;
}

static uint64_t inflight_bytes(const cli_progress *p)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < p->ninflight; i++)
        sum += p->inflight[i].done;
    return sum;
}

/* ---------------------------------------------------------------- drawing */

/* Recompute the shown numbers; the rate is smoothed over redraw intervals. */
static void update_status(cli_progress *p, double t)
{
    uint64_t partial = inflight_bytes(p);
    p->st.bytes_copied = p->bytes_finished + partial;
    p->st.bytes_handled = p->st.bytes_copied + p->bytes_other;
    double dt = t - p->last_sample;
    if (dt >= CLI_REDRAW_MS / 1000.0) {
        uint64_t moved = p->st.bytes_copied >= p->last_sample_bytes ? p->st.bytes_copied - p->last_sample_bytes : 0;
        double inst = (double)moved / dt;
        p->st.rate = p->st.rate > 0 ? 0.8 * p->st.rate + 0.2 * inst : inst;
        p->last_sample = t;
        p->last_sample_bytes = p->st.bytes_copied;
    } else if (p->st.rate == 0 && t - p->start >= 0.05) {
        p->st.rate = (double)p->st.bytes_copied / (t - p->start); /* no sample yet: the average */
    }
}

static void clear_line(cli_progress *p)
{
    if (p->line_shown) {
        fputs("\r\033[K", p->o.status_out);
        fflush(p->o.status_out);
        p->line_shown = false;
    }
}

static void draw(cli_progress *p, double t, bool force)
{
    if (!p->o.status_line)
        return;
    if (!force && t - p->last_draw < CLI_REDRAW_MS / 1000.0)
        return;
    update_status(p, t);
    char line[160];
    cli_status_format(&p->st, line, sizeof line);
    if (p->width > 1 && strlen(line) >= p->width)
        line[p->width - 1] = '\0'; /* never wrap: a wrapped line cannot be rewritten */
    fprintf(p->o.status_out, "\r%s\033[K", line);
    fflush(p->o.status_out);
    p->line_shown = true;
    p->last_draw = t;
}

/* An action line, above the status line. */
static void print_action(cli_progress *p, const sc_event *ev, const char *action)
{
    FILE *f = p->o.actions_out;
    if (!f)
        return;
    clear_line(p);
    if (ev->type == SC_EV_DRY_RUN) {
        char word[40];
        snprintf(word, sizeof word, "would %s", ev->message ? ev->message : "act");
        fprintf(f, "%-12s ", word);
    } else {
        fprintf(f, "%-12s ", action);
    }
    cli_fput_safe(f, ev->path ? ev->path : "");
    if (ev->is_dir && ev->path && *ev->path && strcmp(ev->path, ".") != 0)
        fputc('/', f);
    char size[24];
    switch (ev->type) {
    case SC_EV_FILE_DONE:
    case SC_EV_FILE_SKIPPED:
        fprintf(f, "  (%s)", cli_format_bytes(ev->bytes, size, sizeof size));
        break;
    case SC_EV_DRY_RUN:
        if (!ev->is_dir && ev->bytes)
            fprintf(f, "  (%s)", cli_format_bytes(ev->bytes, size, sizeof size));
        break;
    case SC_EV_FILE_FAILED:
    case SC_EV_ENTRY_IGNORED:
    case SC_EV_RETRY:
    case SC_EV_META_NOT_KEPT:
    case SC_EV_META_UPDATED:
    case SC_EV_RANGE_DONE:
        if (ev->message) {
            fputs(": ", f);
            cli_fput_safe(f, ev->message);
        }
        break;
    case SC_EV_LINK_COPIED:
        if (ev->message) {
            fputs(" -> ", f);
            cli_fput_safe(f, ev->message);
        }
        break;
    default:
        break;
    }
    fputc('\n', f);
    fflush(f);
}

/* ---------------------------------------------------------------- events */

static void count(cli_progress *p, const sc_event *ev)
{
    switch (ev->type) {
    case SC_EV_WALK_DONE: /* bytes: the source files' total size (0: not told) */
        p->st.walk_done = ev->bytes > 0;
        p->st.bytes_total = ev->bytes;
        break;
    case SC_EV_FILE_START:
        inflight_add(p, ev->path, ev->bytes);
        break;
    case SC_EV_FILE_PROGRESS: {
        /* bytes is what this event moved */
        cli_inflight *f = inflight_find(p, ev->path);
        if (f) {
            f->done += ev->bytes;
            if (f->size && f->done > f->size)
                f->done = f->size;
        }
        break;
    }
    case SC_EV_FILE_DONE:
        inflight_remove(p, ev->path);
        p->bytes_finished += ev->bytes;
        p->st.files_done++;
        break;
    case SC_EV_FILE_SKIPPED:
        p->bytes_other += ev->bytes;
        p->st.files_done++;
        break;
    case SC_EV_FILE_FAILED:
        if (ev->is_dir) /* a directory that could not be listed or made */
            break;
        inflight_remove(p, ev->path);
        p->bytes_other += ev->bytes;
        p->st.files_done++;
        break;
    default:
        break;
    }
}

void cli_progress_event(const sc_event *ev, void *arg)
{
    cli_progress *p = arg;
    if (!p || !ev)
        return;
    pthread_mutex_lock(&p->lock);
    count(p, ev);
    const char *action = cli_event_action(ev);
    if (action)
        cli_log_event(p->o.log, ev);
    bool shown = action && !p->o.quiet && (p->o.verbose || ev->type == SC_EV_DRY_RUN);
    if (shown)
        print_action(p, ev, action);
    draw(p, now_s(), shown || ev->type == SC_EV_WALK_DONE);
    pthread_mutex_unlock(&p->lock);
}

void cli_progress_finish(cli_progress *p)
{
    pthread_mutex_lock(&p->lock);
    clear_line(p);
    pthread_mutex_unlock(&p->lock);
}

void cli_progress_destroy(cli_progress *p)
{
    for (size_t i = 0; i < p->ninflight; i++)
        free(p->inflight[i].path);
    free(p->inflight);
    p->inflight = NULL;
    p->ninflight = p->capinflight = 0;
    pthread_mutex_destroy(&p->lock);
}

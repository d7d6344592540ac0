/*
 * smbcopy: copy files and trees between local paths and SMB2/3 shares.
 *
 * The flow: options, locations, credentials (and a password prompt), the
 * job with its events on the terminal, the report, the exit code.
 *
 * Signals: SIGINT and SIGTERM set `interrupted` and cancel the job whose
 * pointer is in `running_job`; these two atomic statics are the only state
 * the handler touches (sc_job_cancel is safe there). The handler may run on
 * any thread, so the job stays published until sc_job_free has joined the
 * engine's threads, and the main thread blocks the signals before freeing.
 * The handler resets itself (SA_RESETHAND): a second signal ends the process.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <smbcopy/engine.h>

#include "args.h"
#include "creds.h"
#include "exitcodes.h"
#include "listing.h"
#include "lock.h"
#include "state.h"
#include "log.h"
#include "progress.h"
#include "prompt.h"
#include "report.h"
#include "shard_cli.h"

static atomic_int interrupted;
static _Atomic(sc_job *) running_job;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&interrupted, 1);
    sc_job *job = atomic_load(&running_job);
    if (job)
        sc_job_cancel(job);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND; /* no SA_RESTART: a password prompt's read returns */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Everything a run holds, freed in one place. */
typedef struct run_state {
    const cli_options *opt;
    sc_location *locs; /* sources, then the destination */
    size_t nlocs;
    cli_creds file;     /* the -A file */
    cli_creds defaults; /* the credentials given to the job */
    FILE *log;
    cli_progress progress;
    bool progress_ready;
    sc_job *job;
    sc_summary summary;
    cli_lock lock_opt;     /* --lock FILE */
    cli_lock lock_own;     /* the job's own lock in the state directory (removed at the end) */
    bool user_from_ticket; /* the default user is the Kerberos ticket's principal */
    char error[600];       /* why the run stopped before or instead of its report ("" when it did not) */
    bool reported;         /* the report (table or JSON) was printed */
    char job_hex[33];      /* the job's identity ("" when it could not be made) */
    char state_dir[4096];  /* "" when there is no usable one */
    char state_msg[600];   /* why not */
    char journal[4200];    /* the checkpoint journal ("" for none) */
    bool warned_state;     /* the user was told there is no lock nor journal */
    const char *archive;   /* the job writes an archive of this format ("auto": from its name), or NULL */
    bool extract;          /* the job extracts its source archive */
    FILE *out;             /* the report: stdout, or stderr when the archive goes to stdout */
    const sc_plan *plan;   /* --plan: the plan this run is a shard of, or finishes */
    int shard;             /* the shard it runs, SC_SHARD_FINISH, or SC_SHARD_NONE */
    char job_name[96];     /* the job's name for its identity when it is a shard or a finish ("": --job or the locations) */
    const sc_summary *merged; /* a finish: the shards' summaries added up, merged into the report */
    int worst_shard;       /* a finish: the highest exit status of the shards (1 for one without a report) */
    const cli_shard_view *shards; /* a finish: the per-shard part of the JSON report */
} run_state;

static void run_free(run_state *r)
{
    if (r->job) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL); /* no handler on this thread while the job goes */
        sc_job_free(r->job);
        atomic_store(&running_job, NULL);
    }
    sc_summary_free(&r->summary);
    if (r->progress_ready)
        cli_progress_destroy(&r->progress);
    if (r->log)
        fclose(r->log);
    for (size_t i = 0; i < r->nlocs; i++)
        sc_location_free(&r->locs[i]);
    free(r->locs);
    cli_creds_free(&r->file);
    cli_creds_free(&r->defaults);
}

/* The run stops: one line on stderr, kept for the JSON report; returns code. */
__attribute__((format(printf, 3, 4))) static int stop_run(run_state *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    fprintf(stderr, "smbcopy: %s\n", r->error);
    return code;
}

/* Parse every location (to refuse bad ones before connecting). */
static int parse_locations(run_state *r)
{
    const cli_options *o = r->opt;
    r->locs = calloc(o->nsources + 1, sizeof *r->locs);
    if (!r->locs)
        return stop_run(r, CLI_EXIT_FAILED, "out of memory");
    bool warned = false;
    for (size_t i = 0; i <= o->nsources; i++) {
        smb_error err = {0};
        const char *s = i < o->nsources ? o->sources[i] : o->dest;
        if (sc_location_parse(s, &r->locs[i], &err) != 0)
            return stop_run(r, cli_exit_for_error(err.code), "%s", err.message);
        r->nlocs = i + 1;
        if (r->locs[i].password && !warned) {
            fprintf(stderr, "warning: a password in the URL is visible to other users of this machine until "
                            "smbcopy has started; use -A FILE or SMB_PASSWORD\n");
            warned = true;
        }
    }
    return CLI_EXIT_OK;
}

/* True when Kerberos is allowed and has credentials for v (a ticket cache or a keytab). */
static bool kerberos_can_log_on(const run_state *r, const cli_cred_view *v, const sc_location *loc)
{
    smb_creds c = {.username = v->username, .domain = v->domain, .mech = r->opt->mech,
                   .target_host = r->opt->principal_host ? r->opt->principal_host : loc->host};
    return smb_kerberos_usable(&c);
}

/*
 * No user from any source while an SMB location needs one: with Kerberos
 * allowed, the principal of the ticket cache (or of the client keytab)
 * logs on, as smbclient --use-kerberos does; --kerberos required never
 * falls back to an anonymous session. Returns an exit code.
 */
static int user_from_kerberos(run_state *r)
{
    if (r->opt->mech == SMB_AUTH_NTLM || (r->defaults.username && *r->defaults.username))
        return CLI_EXIT_OK;
    bool wanted = false;
    for (size_t i = 0; i < r->nlocs; i++)
        wanted = wanted || (r->locs[i].is_smb && !r->locs[i].user);
    if (!wanted)
        return CLI_EXIT_OK;
    char principal[512];
    smb_error kerr = {0};
    if (smb_kerberos_principal(principal, sizeof principal, &kerr) != 0) {
        if (r->opt->mech == SMB_AUTH_KERBEROS)
            return stop_run(r, CLI_EXIT_AUTH, "--kerberos required, and no user was given nor a ticket to take one from: %s",
                            kerr.message);
        return CLI_EXIT_OK; /* no ticket: an anonymous (or guest) session, as documented */
    }
    char *copy = strdup(principal);
    if (!copy)
        return stop_run(r, CLI_EXIT_FAILED, "out of memory");
    free(r->defaults.username);
    r->defaults.username = copy;
    r->user_from_ticket = true;
    if (r->opt->verbose)
        fprintf(stderr, "smbcopy: logging on as %s (the Kerberos ticket's principal)\n", principal);
    return CLI_EXIT_OK;
}

/* Default credentials from -U, -A and the environment; a prompt when due (never without a terminal). */
static int gather_credentials(run_state *r)
{
    char msg[512];
    if (r->opt->auth_file && cli_authfile_load(r->opt->auth_file, &r->file, msg, sizeof msg) != 0)
        return stop_run(r, CLI_EXIT_USAGE, "%s", msg);
    cli_cred_sources src = {
        .opt_user = r->opt->user,
        .opt_password = r->opt->user_password,
        .file = r->opt->auth_file ? &r->file : NULL,
        .env_user = getenv("SMB_USERNAME"),
        .env_password = getenv("SMB_PASSWORD"),
        .env_domain = getenv("SMB_DOMAIN"),
    };
    if (cli_creds_resolve(&src, &r->defaults) != 0)
        return stop_run(r, CLI_EXIT_FAILED, "out of memory");
    int code = user_from_kerberos(r);
    if (code != CLI_EXIT_OK)
        return code;
    for (size_t i = 0; i < r->nlocs; i++) {
        if (!cli_creds_need_password(&r->defaults, &r->locs[i]))
            continue;
        if (r->opt->mech == SMB_AUTH_KERBEROS)
            return CLI_EXIT_OK; /* Kerberos required: the ticket or keytab logs on */
        if (r->user_from_ticket && !r->locs[i].user)
            continue; /* the ticket's own principal: its ticket logs on */
        cli_cred_view v = cli_creds_for_location(&r->defaults, &r->locs[i]);
        if (!isatty(STDIN_FILENO)) {
            /* Unattended (cron): never a prompt, and no logon with an empty password. */
            if (kerberos_can_log_on(r, &v, &r->locs[i]))
                return CLI_EXIT_OK;
            return stop_run(r, CLI_EXIT_AUTH,
                            "no password for %s on %s and no terminal to ask on: give it with -A FILE or "
                            "SMB_PASSWORD, or use Kerberos (kinit, or a keytab)",
                            v.username, r->locs[i].host);
        }
        char prompt[600];
        snprintf(prompt, sizeof prompt, "Password for %s@%s: ", v.username, r->locs[i].host);
        char *pw = NULL;
        int rc = cli_prompt_password(prompt, &pw);
        /* One password answers for every location (the job has one default). */
        int set = rc == CLI_PROMPT_OK ? cli_creds_set_password(&r->defaults, pw) : 0;
        if (pw) {
            explicit_bzero(pw, strlen(pw));
            free(pw);
        }
        if (rc == CLI_PROMPT_INTERRUPTED || atomic_load(&interrupted))
            return CLI_EXIT_INTERRUPTED;
        if (set != 0)
            return stop_run(r, CLI_EXIT_FAILED, "out of memory");
        return CLI_EXIT_OK; /* no password read (no terminal, end of input): the server decides */
    }
    return CLI_EXIT_OK;
}

/* Status line, action lines and the log. */
static int start_output(run_state *r)
{
    const cli_options *o = r->opt;
    char msg[512];
    if (o->log_path && cli_log_open(o->log_path, &r->log, msg, sizeof msg) != 0)
        return stop_run(r, CLI_EXIT_USAGE, "%s", msg);
    if (r->log) {
        char line[2048], shown[512];
        size_t n = (size_t)snprintf(line, sizeof line, "smbcopy %s%s:", SMBCOPY_VERSION_STRING,
                                    o->dry_run ? " (dry run)" : "");
        for (size_t i = 0; i < r->nlocs && n < sizeof line; i++)
            n += (size_t)snprintf(line + n, sizeof line - n, "%s %s", i + 1 == r->nlocs ? " ->" : "",
                                  sc_location_display(&r->locs[i], shown, sizeof shown));
        cli_log_note(r->log, line);
    }
    bool status = o->progress == CLI_PROGRESS_ON ||
                  (o->progress == CLI_PROGRESS_AUTO && !o->quiet && isatty(STDERR_FILENO));
    cli_progress_opts po = {
        .status_line = status,
        .verbose = o->verbose,
        .quiet = o->quiet,
        .actions_out = o->json || r->out == stderr ? stderr : r->out,
        .status_out = stderr,
        .log = r->log,
    };
    if (cli_progress_init(&r->progress, &po) != 0)
        return stop_run(r, CLI_EXIT_FAILED, "cannot set up the progress display");
    r->progress_ready = true;
    return CLI_EXIT_OK;
}

static void fill_job_opts(run_state *r, sc_job_opts *jo)
{
    const cli_options *o = r->opt;
    sc_job_opts_init(jo);
    jo->sources = o->sources;
    jo->nsources = o->nsources;
    jo->dest = o->dest;
    jo->threads = o->threads;
    jo->connections = o->connections;
    jo->channels = o->multichannel_off ? 1 : o->channels;
    jo->mirror = o->mirror;
    jo->dry_run = o->dry_run;
    jo->checksum = o->checksum;
    jo->excludes = o->excludes;
    jo->nexcludes = o->nexcludes;
    jo->includes = o->includes;
    jo->nincludes = o->nincludes;
    jo->filters = (const char *const *)o->filters;
    jo->nfilters = o->nfilters;
    jo->delete_excluded = o->delete_excluded;
    jo->apply_deletions = o->incremental;
    jo->max_dir_entries = o->max_dir_entries;
    if (o->retries_given)
        jo->retries = o->retries;
    jo->temp_names = (sc_temp_names)o->temp_names;
    jo->acls = (sc_acls)o->acls;
    jo->no_streams = o->no_streams;
    jo->links = (sc_links)o->links;
    jo->creds.username = r->defaults.username;
    jo->creds.password = r->defaults.password;
    jo->creds.domain = r->defaults.domain;
    jo->creds.mech = r->opt->mech;
    jo->creds.principal_host = r->opt->principal_host;
    if (o->min_dialect)
        jo->conn.min_dialect = o->min_dialect;
    if (o->max_dialect)
        jo->conn.max_dialect = o->max_dialect;
    if (o->sign)
        jo->conn.signing = SMB_POLICY_REQUIRED;
    if (o->encrypt)
        jo->conn.encryption = SMB_POLICY_REQUIRED;
    if (o->timeout_s) /* every request, connecting and negotiating included */
        jo->conn.request_timeout_ms = jo->conn.connect_timeout_ms = o->timeout_s * 1000u;
    jo->retry_for_s = o->retry_for_s;
    jo->archive = r->archive;
    jo->extract = r->extract;
    jo->snapshot = o->snapshot;
    jo->newer_than = o->newer_than;
    jo->compress_level = o->compress_level;
    jo->read_ahead = (size_t)o->read_ahead_mib << 20;
    if (r->journal[0]) {
        jo->checkpoint = r->journal;
        cli_job_id_bytes(r->job_hex, jo->job_id);
        jo->no_resume = o->no_resume;
    }
    jo->on_event = cli_progress_event;
    jo->event_arg = &r->progress;
    jo->plan = r->plan;
    jo->shard = r->plan ? r->shard : SC_SHARD_NONE;
}

/* The end: the table or JSON, the failures, the log's last line; returns the exit code. */
static int report(run_state *r, bool stopped)
{
    const cli_options *o = r->opt;
    const sc_summary *s = &r->summary;
    if (r->merged && sc_summary_merge(&r->summary, r->merged) != 0)
        fprintf(stderr, "smbcopy: out of memory: the report lacks some of the shards' failures\n");
    int code = stopped ? CLI_EXIT_INTERRUPTED
               : (s->files_failed || s->nfailures) ? CLI_EXIT_FAILED
                                                    : CLI_EXIT_OK;
    if (r->merged && r->worst_shard > code) /* a finish exits with its shards' worst status */
        code = r->worst_shard;
    FILE *out = r->out;
    r->reported = true;
    if (o->json && r->shards) {
        cli_report_json_shards(out, s, stopped, code, NULL, r->shards);
    } else if (o->json) {
        cli_report_json(out, s, stopped, code, NULL);
    } else if (!o->quiet) {
        cli_report_table(out, s, o->dry_run, stopped);
        if (s->nfailures)
            fputc('\n', out);
        cli_report_failures(out, s);
        fputc('\n', out);
        cli_report_paragraph(out, s, o->dry_run, stopped, code);
    } else if (code != CLI_EXIT_OK) {
        /* Quiet (cron): nothing on success; otherwise the failures and one paragraph, for the mail. */
        cli_report_failures(stderr, s);
        cli_report_paragraph(stderr, s, o->dry_run, stopped, code);
    }
    fflush(out);
    if (r->log) {
        char line[256];
        snprintf(line, sizeof line,
                 "finished: %llu copied, %llu skipped, %llu failed, %llu deleted%s; exit %d",
                 (unsigned long long)s->files_copied, (unsigned long long)s->files_skipped,
                 (unsigned long long)s->files_failed, (unsigned long long)s->files_deleted,
                 stopped ? ", interrupted" : "", code);
        cli_log_note(r->log, line);
    }
    return code;
}

/*
 * Whether the job writes an archive: --archive FORMAT, a local destination
 * named like an archive (and not an existing directory), or "-" (standard
 * output; tar unless --archive says otherwise). Returns an exit code.
 */
static int choose_archive(run_state *r)
{
    const cli_options *o = r->opt;
    const sc_location *d = &r->locs[r->nlocs - 1];
    struct stat st;
    r->out = stdout;
    if (o->archive)
        r->archive = o->archive;
    else if (!d->is_smb && strcmp(o->dest, "-") == 0)
        r->archive = "tar";
    else if (!d->is_smb && sc_archive_name(d->path) && !(stat(d->path, &st) == 0 && S_ISDIR(st.st_mode)))
        r->archive = "auto";
    const sc_location *s0 = &r->locs[0];
    if (o->nsources == 1 && !s0->is_smb &&
        (o->extract || strcmp(o->sources[0], "-") == 0 || sc_archive_name(s0->path))) {
        if (r->archive)
            return stop_run(r, CLI_EXIT_USAGE, "from an archive to an archive: extract it somewhere first");
        r->extract = true;
    } else if (o->extract) {
        return stop_run(r, CLI_EXIT_USAGE, "--extract takes one local archive (or '-') as its source");
    }
    if (r->archive && d->is_smb) {
        char shown[512];
        return stop_run(r, CLI_EXIT_USAGE, "an archive is written to a local file or to standard output ('-'), not to %s",
                        sc_location_display(d, shown, sizeof shown));
    }
    if (r->archive && strcmp(o->dest, "-") == 0) {
        r->out = stderr;
        if (isatty(STDOUT_FILENO))
            return stop_run(r, CLI_EXIT_USAGE, "standard output is a terminal: not writing an archive there");
    }
    if (!r->archive && (o->snapshot || o->newer_than))
        return stop_run(r, CLI_EXIT_USAGE,
                        "--snapshot and --newer-than are for archives (a destination such as x.tar.zst)");
    if (!r->archive && (o->compress_level >= 0 || (o->read_ahead_mib && !r->extract)))
        return stop_run(r, CLI_EXIT_USAGE,
                        "--compress-level and --read-ahead are for archives (a destination such as x.tar.zst)");
    return CLI_EXIT_OK;
}

/* The job's identity and state directory, for its default lock and journal. */
static void find_job_state(run_state *r)
{
    const char *name = r->job_name[0] ? r->job_name : r->opt->job_name;
    if (cli_job_id(name, r->locs, r->nlocs, r->job_hex, r->state_msg, sizeof r->state_msg) != 0)
        r->job_hex[0] = '\0';
    else if (cli_state_dir(r->state_dir, sizeof r->state_dir, r->state_msg, sizeof r->state_msg) != 0)
        r->state_dir[0] = '\0';
}

/*
 * One run of a job at a time: --lock FILE when given, and always the job's
 * own lock in the state directory (not for a dry run, which changes
 * nothing), so that a run with --lock and one without never share the
 * job's journal and temporaries. The job's own lock file is removed when
 * the run ends. Without a usable state directory the run goes on without
 * it, with a warning.
 */
static int take_lock(run_state *r)
{
    char msg[600], path[4200];
    int rc;
    if (r->opt->lock_path && (rc = cli_lock_take(r->opt->lock_path, false, &r->lock_opt, msg, sizeof msg)) != 0)
        return stop_run(r, rc == CLI_LOCK_BUSY ? CLI_EXIT_LOCKED : CLI_EXIT_USAGE, "%s", msg);
    if (r->opt->dry_run)
        return CLI_EXIT_OK;
    if (r->job_hex[0] && r->state_dir[0]) {
        snprintf(path, sizeof path, "%s/%s.lock", r->state_dir, r->job_hex);
        rc = cli_lock_take(path, true, &r->lock_own, msg, sizeof msg);
        if (rc == CLI_LOCK_BUSY)
            return stop_run(r, CLI_EXIT_LOCKED, "%s", msg);
        if (rc == CLI_LOCK_TAKEN)
            return CLI_EXIT_OK;
        /* An unusable state directory: no lock of the job's own, nor a journal there. */
        snprintf(r->state_msg, sizeof r->state_msg, "%s", msg);
        r->state_dir[0] = '\0';
    }
    bool no_journal = !r->opt->checkpoint_path || !r->job_hex[0];
    fprintf(stderr, "warning: no run lock for this job: %s%s\n", r->state_msg,
            no_journal ? " (nor a checkpoint journal: an interrupted run starts over)" : "");
    r->warned_state = no_journal;
    return CLI_EXIT_OK;
}

/*
 * The checkpoint journal: --checkpoint FILE (refused when it exists and is
 * not a journal: nobody's file is truncated), else the job's own beside its
 * lock. None for a dry run; without a state directory the run goes on
 * without one (a rerun then starts over), with a warning. Returns an exit code.
 */
static int choose_journal(run_state *r)
{
    char msg[600];
    r->journal[0] = '\0';
    if (r->opt->dry_run || r->archive || r->extract) /* an archive is written or read whole each time */
        return CLI_EXIT_OK;
    if (r->plan && r->shard == SC_SHARD_FINISH) /* a finish starts over when run again: nothing to resume */
        return CLI_EXIT_OK;
    if (r->job_hex[0] && r->opt->checkpoint_path) {
        if (cli_journal_file_check(r->opt->checkpoint_path, msg, sizeof msg) != 0)
            return stop_run(r, CLI_EXIT_USAGE, "%s", msg);
        snprintf(r->journal, sizeof r->journal, "%s", r->opt->checkpoint_path);
    } else if (r->job_hex[0] && r->state_dir[0]) {
        snprintf(r->journal, sizeof r->journal, "%s/%s.journal", r->state_dir, r->job_hex);
    } else if (!r->warned_state) {
        fprintf(stderr, "warning: no checkpoint journal for this job (an interrupted run starts over): %s\n",
                r->state_msg);
    }
    return CLI_EXIT_OK;
}

static int run(run_state *r)
{
    int code;
    if ((code = parse_locations(r)) != CLI_EXIT_OK)
        return code;
    if ((code = choose_archive(r)) != CLI_EXIT_OK)
        return code;
    find_job_state(r);
    if ((code = take_lock(r)) != CLI_EXIT_OK)
        return code;
    if ((code = choose_journal(r)) != CLI_EXIT_OK)
        return code;
    install_signals();
    if ((code = gather_credentials(r)) != CLI_EXIT_OK)
        return code;
    if ((code = start_output(r)) != CLI_EXIT_OK)
        return code;

    sc_job_opts jo;
    fill_job_opts(r, &jo);
    smb_error err = {0};
    r->job = sc_job_new(&jo, &err);
    if (!r->job) {
        if (!err.code)
            err.code = SMB_ERR_INVALID_ARG;
        return stop_run(r, cli_exit_for_job_error(&err), "%s", err.message);
    }
    atomic_store(&running_job, r->job);
    if (atomic_load(&interrupted)) /* a signal before the job was visible to the handler */
        sc_job_cancel(r->job);
    int rc = sc_job_run(r->job, &r->summary, &err);
    cli_progress_finish(&r->progress);
    if (r->opt->verbose && r->summary.multichannel[0])
        fprintf(stderr, "smbcopy: %s\n", r->summary.multichannel);

    bool stopped = atomic_load(&interrupted) || r->summary.interrupted;
    if (rc < 0 && !(stopped && rc == SMB_ERR_CANCELLED)) {
        if (!stopped) {
            cli_log_note(r->log, err.message);
            err.code = rc;
            return stop_run(r, cli_exit_for_job_error(&err), "%s", err.message);
        }
        fprintf(stderr, "smbcopy: %s\n", err.message);
    }
    return report(r, stopped);
}

/* The location --list names, parsed into r->locs[0]; *server when it names a server alone (its IPC$ stands in). */
static int list_location(run_state *r, const char *target, bool *server)
{
    *server = false;
    r->locs = calloc(1, sizeof *r->locs);
    if (!r->locs)
        return stop_run(r, CLI_EXIT_FAILED, "out of memory");
    smb_error err = {0};
    if (sc_location_parse(target, &r->locs[0], &err) != 0) {
        size_t n = strlen(target);
        while (n && target[n - 1] == '/')
            n--;
        char *ipc = malloc(n + 6);
        if (!ipc)
            return stop_run(r, CLI_EXIT_FAILED, "out of memory");
        snprintf(ipc, n + 6, "%.*s/IPC$", (int)n, target);
        smb_error e2 = {0};
        int rc = sc_location_parse(ipc, &r->locs[0], &e2);
        free(ipc);
        if (rc != 0 || !r->locs[0].is_smb || *r->locs[0].path) {
            sc_location_free(&r->locs[0]);
            return stop_run(r, cli_exit_for_error(err.code), "%s", err.message);
        }
        *server = true;
    }
    r->nlocs = 1;
    if (r->locs[0].password)
        fprintf(stderr, "warning: a password in the URL is visible to other users of this machine until "
                        "smbcopy has started; use -A FILE or SMB_PASSWORD\n");
    return CLI_EXIT_OK;
}

/* --list: a server's shares (//HOST) or a directory's entries, as a table or JSON; returns the exit code. */
static int run_list(run_state *r)
{
    const cli_options *o = r->opt;
    bool server = false;
    int code = list_location(r, o->dest, &server);
    if (code == CLI_EXIT_OK)
        code = gather_credentials(r);
    smb_share_info *shares = NULL;
    size_t nshares = 0;
    cli_list_entries ents = {0};
    if (code == CLI_EXIT_OK) {
        sc_job_opts jo;
        fill_job_opts(r, &jo);
        smb_error err = {0};
        int rc = server ? sc_list_shares(&jo, o->dest, &shares, &nshares, &err)
                        : sc_list(&jo, o->dest, cli_list_collect, &ents, &err);
        if (rc == 0 && ents.oom) {
            rc = err.code = SMB_ERR_NO_MEMORY;
            snprintf(err.message, sizeof err.message, "out of memory");
        }
        if (rc != 0)
            code = stop_run(r, cli_exit_for_job_error(&err), "%s", err.message);
    }
    const char *why = code == CLI_EXIT_OK ? NULL : r->error;
    if (server || (code != CLI_EXIT_OK && o->json && !ents.n))
        cli_list_print_shares(r->out, shares, nshares, o->json, code, why);
    else
        cli_list_print_entries(r->out, &ents, o->json, code, why);
    fflush(r->out);
    r->reported = true;
    smb_shares_free(shares, nshares);
    cli_list_entries_free(&ents);
    return code;
}

/* --plan-out: walk the sources once and write the plan of --shards shards; returns the exit code. */
static int run_plan(run_state *r)
{
    const cli_options *o = r->opt;
    int code;
    char msg[600];
    if ((code = parse_locations(r)) != CLI_EXIT_OK || (code = gather_credentials(r)) != CLI_EXIT_OK)
        return code;
    char **args = NULL;
    size_t nargs = 0;
    if (cli_plan_job_args(o, &args, &nargs, msg, sizeof msg) != 0)
        return stop_run(r, CLI_EXIT_USAGE, "%s", msg);
    sc_job_opts jo;
    fill_job_opts(r, &jo);
    jo.on_event = NULL; /* the walk is a dry run: its actions are not this command's */
    sc_plan *plan = NULL;
    smb_error err = {0};
    int rc = sc_plan_make(&jo, o->shards, &plan, &r->summary, &err);
    if (rc == 0 && sc_plan_set_job(plan, (const char *const *)args, nargs, o->summary_dir) != 0) {
        rc = err.code = SMB_ERR_NO_MEMORY;
        snprintf(err.message, sizeof err.message, "out of memory");
    }
    if (rc == 0)
        rc = sc_plan_save(plan, o->plan_out, &err);
    cli_strings_free(args, nargs);
    if (rc != 0) {
        sc_plan_free(plan);
        return stop_run(r, rc == SMB_ERR_NO_SPACE || rc == SMB_ERR_ACCESS ? CLI_EXIT_FAILED
                                                                          : cli_exit_for_job_error(&err),
                        "%s", err.message);
    }
    if (r->summary.nfailures) {
        /* Not in the plan; each goes to the shard that owns its name, like a file made after planning. */
        fprintf(stderr, "warning: %zu entries could not be walked; the shards will meet them again:\n",
                r->summary.nfailures);
        cli_report_failures(stderr, &r->summary);
    }
    if (!o->quiet || o->json)
        cli_plan_print(r->out, plan, o->plan_out, &r->summary, o->json);
    r->reported = true;
    sc_plan_free(plan);
    return CLI_EXIT_OK;
}

/* --plan (without --finish): run this process's shard, then write its report; returns the exit code. */
static int run_shard(run_state *r)
{
    char msg[600], path[4200];
    unsigned k;
    if (cli_shard_index(r->opt, sc_plan_shards(r->plan), &k, msg, sizeof msg) != 0)
        return stop_run(r, CLI_EXIT_USAGE, "%s", msg);
    r->shard = (int)k;
    snprintf(r->job_name, sizeof r->job_name, "plan %s shard %u", sc_plan_id(r->plan), k);
    if (cli_shard_report_path(r->opt, r->plan, k, !r->opt->dry_run, path, sizeof path, msg, sizeof msg) != 0)
        return stop_run(r, CLI_EXIT_USAGE, "%s", msg);
    uint64_t started = (uint64_t)time(NULL);
    int code = run(r);
    if (r->opt->dry_run)
        return code;
    smb_error err = {0};
    if (sc_shard_report_save(r->plan, k, &r->summary, code, r->error[0] ? r->error : NULL, started, path, &err) != 0) {
        fprintf(stderr, "smbcopy: %s\n", err.message);
        if (code == CLI_EXIT_OK)
            code = CLI_EXIT_FAILED;
    }
    return code;
}

typedef struct finish_view {
    const sc_shard_report *reports;
    const char *const *why;
    unsigned n;
} finish_view;

static void write_shards(FILE *f, void *arg)
{
    const finish_view *v = arg;
    cli_shards_json(f, v->reports, v->why, v->n);
}

/*
 * --plan --finish: the shards' reports added up; when every shard
 * succeeded, the finishing run (split files moved into place, straddling
 * directories' times, --mirror deletions); the report, with the shards'
 * worst exit status. Returns the exit code.
 */
static int run_finish(run_state *r)
{
    unsigned n = sc_plan_shards(r->plan);
    sc_shard_report *reports = calloc(n, sizeof *reports);
    char **why = calloc(n, sizeof *why);
    sc_summary merged = {0};
    if (!reports || !why) {
        free(reports);
        free(why);
        return stop_run(r, CLI_EXIT_FAILED, "out of memory");
    }
    int worst = CLI_EXIT_OK;
    char failed[200] = "";
    size_t used = 0;
    for (unsigned k = 0; k < n; k++) {
        char path[4200], msg[600];
        smb_error err = {0};
        int rc = cli_shard_report_path(r->opt, r->plan, k, false, path, sizeof path, msg, sizeof msg);
        if (rc != 0)
            snprintf(err.message, sizeof err.message, "%.300s", msg);
        else
            rc = sc_shard_report_load(r->plan, k, path, &reports[k], &err);
        int status = rc != 0 ? CLI_EXIT_FAILED : reports[k].interrupted && !reports[k].exit_code
                                                      ? CLI_EXIT_INTERRUPTED
                                                      : reports[k].exit_code;
        if (rc != 0) {
            why[k] = strdup(err.message);
            sc_failure f = {.path = (char *)"", .message = err.message};
            sc_summary one = {.failures = &f, .nfailures = 1};
            sc_summary_merge(&merged, &one);
        } else {
            sc_summary_merge(&merged, reports[k].summary);
        }
        if (status != CLI_EXIT_OK && used < sizeof failed - 8)
            used += (size_t)snprintf(failed + used, sizeof failed - used, "%s%u", used ? ", " : "", k);
        worst = status > worst ? status : worst;
    }
    finish_view view = {reports, (const char *const *)why, n};
    cli_shard_view sv = {write_shards, &view};
    r->merged = &merged;
    r->worst_shard = worst;
    r->shards = &sv;
    r->shard = SC_SHARD_FINISH;
    snprintf(r->job_name, sizeof r->job_name, "plan %s finish", sc_plan_id(r->plan));
    if (!r->opt->json && !r->opt->quiet) {
        cli_shards_print(r->out, reports, (const char *const *)why, n);
        fputc('\n', r->out);
    }
    int code;
    if (worst == CLI_EXIT_OK) {
        code = run(r);
    } else {
        fprintf(stderr, "smbcopy: not finishing: shard%s %s did not succeed; split files and --mirror deletions wait "
                        "until every shard has (run %s again, then --finish)\n",
                strchr(failed, ',') ? "s" : "", failed, strchr(failed, ',') ? "them" : "it");
        code = report(r, false);
    }
    if (!r->reported && r->opt->json) { /* the finishing run could not run: the shards' report all the same */
        int shards_code = report(r, false);
        code = shards_code > code ? shards_code : code;
    }
    r->merged = NULL;
    r->shards = NULL;
    sc_summary_free(&merged);
    for (unsigned k = 0; k < n; k++) {
        sc_shard_report_free(&reports[k]);
        free(why[k]);
    }
    free(reports);
    free(why);
    return code;
}

/*
 * --plan PLAN: read the plan, then parse again its arguments followed by the
 * command line's own. *plan and *pargv (the parsed strings) are the caller's.
 */
static int load_plan(int argc, char **argv, cli_options *opt, sc_plan **plan, char ***pargv, int *pargc,
                     char *msg, size_t msglen)
{
    smb_error err = {0};
    if (sc_plan_load(opt->plan, plan, &err) != 0) {
        snprintf(msg, msglen, "%s", err.message);
        return CLI_EXIT_USAGE;
    }
    if (cli_planned_argv(*plan, argc, argv, pargv, pargc) != 0) {
        snprintf(msg, msglen, "plan %s: its job arguments have no \"--\" before the locations", opt->plan);
        return CLI_EXIT_USAGE;
    }
    cli_options_free(opt);
    char why[512];
    if (cli_parse_planned_args(*pargc, *pargv, opt, why, sizeof why) != 0) {
        snprintf(msg, msglen, "the plan's arguments with this command line's: %s", why);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* --json among the arguments (getopt_long takes any unambiguous prefix: --js, --jso). */
static bool json_asked(int argc, char **argv)
{
    for (int i = 1; i < argc && argv[i]; i++) {
        size_t n = strlen(argv[i]);
        if (strcmp(argv[i], "--") == 0)
            break;
        if (n >= 4 && strncmp(argv[i], "--json", n) == 0)
            return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    /*
     * Passwords (the command line's, the -A file's, the environment's, the
     * prompt's) live in this process until it ends: no core dump holds them
     * and no other process of the user may read its memory (ptrace,
     * /proc/PID/mem). Command-line passwords are wiped from argv by the
     * parser, so ps no longer shows them.
     */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    cli_options opt;
    char msg[512];
    if (cli_parse_args(argc, argv, &opt, msg, sizeof msg) != 0) {
        fprintf(stderr, "smbcopy: %s\nTry 'smbcopy --help' for more information.\n", msg);
        if (json_asked(argc, argv)) {
            sc_summary none = {0};
            cli_report_json(stdout, &none, false, CLI_EXIT_USAGE, msg);
        }
        return CLI_EXIT_USAGE;
    }
    if (opt.help || opt.version) {
        if (opt.help)
            fputs(cli_usage_text, stdout);
        else
        {
            char aes[160];
            printf("smbcopy %s\nencryption: %s\n", SMBCOPY_VERSION_STRING, smb_crypto_description(aes, sizeof aes));
        }
        cli_options_free(&opt);
        return CLI_EXIT_OK;
    }
    run_state r = {.opt = &opt, .lock_opt = CLI_LOCK_NONE, .lock_own = CLI_LOCK_NONE, .out = stdout,
                   .shard = SC_SHARD_NONE};
    sc_plan *plan = NULL;
    char **pargv = NULL;
    int pargc = 0, code;
    if (opt.plan && (code = load_plan(argc, argv, &opt, &plan, &pargv, &pargc, r.error, sizeof r.error)) != 0) {
        fprintf(stderr, "smbcopy: %s\n", r.error);
    } else {
        r.plan = plan;
        code = opt.list       ? run_list(&r)
               : opt.plan_out ? run_plan(&r)
               : !opt.plan    ? run(&r)
               : opt.finish_plan ? run_finish(&r)
                                 : run_shard(&r);
    }
    if (opt.json && !r.reported) {
        /* Every exit prints its one JSON object: what the job did, if anything, and why it stopped. */
        cli_report_json(r.out, &r.summary, code == CLI_EXIT_INTERRUPTED || r.summary.interrupted, code,
                        r.error[0] ? r.error : NULL);
        fflush(r.out);
    }
    run_free(&r);
    cli_lock_release(&r.lock_own);
    cli_lock_release(&r.lock_opt);
    cli_options_free(&opt);
    sc_plan_free(plan);
    cli_strings_free(pargv, (size_t)pargc);
    return code;
}

/* The command's side of sharded jobs (shard_cli.h). */
#include "shard_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "report.h"
#include "state.h"

typedef struct strv {
    char **v;
    size_t n, cap;
    bool oom;
} strv;

static void add(strv *s, const char *a)
{
    if (s->oom)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 32;
        char **grown = realloc(s->v, cap * sizeof *grown);
        if (!grown) {
            s->oom = true;
            return;
        }
        s->v = grown;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(a)))
        s->oom = true;
    else
        s->n++;
}

__attribute__((format(printf, 2, 3))) static void addf(strv *s, const char *fmt, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    add(s, buf);
}

void cli_strings_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static const char *const temp_names[] = {"auto", "dot", "plain", "inplace"};
static const char *const links[] = {"skip", "copy", "follow"};

/*
 * Location loc as the plan records it: never with a password (refused), and
 * a relative local path made absolute, so that a shard run from another
 * directory (or host) copies the same tree. -1 with msg when refused.
 */
static int add_location(strv *s, const char *loc, char *msg, size_t msglen)
{
    sc_location l;
    smb_error err = {0};
    bool parsed = sc_location_parse(loc, &l, &err) == 0;
    bool pw = parsed && l.password, relative = parsed && !l.is_smb && loc[0] != '/';
    if (parsed)
        sc_location_free(&l);
    if (pw) {
        snprintf(msg, msglen, "a password in a location is not written into a plan: give it with -A FILE or "
                              "SMB_PASSWORD when the shards run");
        return -1;
    }
    if (!relative) {
        add(s, loc);
        return 0;
    }
    char cwd[4096], abs[8192];
    if (!getcwd(cwd, sizeof cwd)) {
        snprintf(msg, msglen, "cannot make '%s' an absolute path for the plan: %s", loc, strerror(errno));
        return -1;
    }
    if ((size_t)snprintf(abs, sizeof abs, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, loc) >= sizeof abs) {
        snprintf(msg, msglen, "'%s': the absolute path is too long", loc);
        return -1;
    }
    add(s, abs);
    return 0;
}

int cli_plan_job_args(const cli_options *o, char ***args, size_t *n, char *msg, size_t msglen)
{
    strv s = {0};
    addf(&s, "--threads=%u", o->threads);
    addf(&s, "--connections=%u", o->connections);
    if (o->multichannel_off)
        add(&s, "--multichannel=off");
    else if (o->channels)
        addf(&s, "--channels=%u", o->channels);
    if (o->mirror)
        add(&s, "--mirror");
    if (o->checksum)
        add(&s, "--checksum");
    for (size_t i = 0; i < o->nfilters; i++) {
        add(&s, o->filters[i][0] == '-' ? "--exclude" : "--include");
        add(&s, o->filters[i] + 2);
    }
    if (o->delete_excluded)
        add(&s, "--delete-excluded");
    if (o->max_dir_entries)
        addf(&s, "--max-dir-entries=%" PRIu64, o->max_dir_entries);
    if (o->retries_given)
        addf(&s, "--retries=%u", o->retries);
    if (o->temp_names > 0 && (size_t)o->temp_names < sizeof temp_names / sizeof *temp_names)
        addf(&s, "--temp-name=%s", temp_names[o->temp_names]);
    if (o->acls)
        add(&s, o->acls == SC_ACLS_ALL ? "--acls=all" : "--acls=dacl");
    if (o->no_streams)
        add(&s, "--no-streams");
    if (o->links > 0 && (size_t)o->links < sizeof links / sizeof *links)
        addf(&s, "--links=%s", links[o->links]);
    if (o->sign)
        add(&s, "--sign");
    if (o->encrypt)
        add(&s, "--encrypt");
    if (o->min_dialect)
        addf(&s, "--min-protocol=%s", smb_dialect_name(o->min_dialect));
    if (o->max_dialect)
        addf(&s, "--max-protocol=%s", smb_dialect_name(o->max_dialect));
    if (o->timeout_s)
        addf(&s, "--timeout=%u", o->timeout_s);
    if (o->retry_for_given)
        addf(&s, "--retry-for=%us", o->retry_for_s);
    if (o->mech != SMB_AUTH_AUTO)
        add(&s, o->mech == SMB_AUTH_KERBEROS ? "--kerberos=required" : "--kerberos=off");
    if (o->principal_host) {
        add(&s, "--principal-host");
        add(&s, o->principal_host);
    }
    add(&s, "--");
    for (size_t i = 0; i <= o->nsources; i++) {
        if (add_location(&s, i < o->nsources ? o->sources[i] : o->dest, msg, msglen) != 0) {
            cli_strings_free(s.v, s.n);
            return -1;
        }
    }
    if (s.oom) {
        cli_strings_free(s.v, s.n);
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    *args = s.v;
    *n = s.n;
    return 0;
}

int cli_planned_argv(const sc_plan *plan, int argc, char **argv, char ***out, int *outc)
{
    size_t n;
    const char *const *job = sc_plan_job_args(plan, &n);
    size_t dash = 0;
    while (dash < n && strcmp(job[dash], "--") != 0)
        dash++;
    if (dash == n)
        return -1;
    strv s = {0};
    add(&s, argv[0]);
    for (size_t i = 0; i < dash; i++)
        add(&s, job[i]);
    for (int i = 1; i < argc; i++)
        add(&s, argv[i]);
    for (size_t i = dash; i < n; i++)
        add(&s, job[i]);
    add(&s, ""); /* argv[argc] is NULL: room for it */
    if (s.oom) {
        cli_strings_free(s.v, s.n);
        return -1;
    }
    free(s.v[s.n - 1]);
    s.v[--s.n] = NULL;
    *out = s.v;
    *outc = (int)s.n;
    return 0;
}

/* A shard number from the environment variable var, when set. 1: found; 0: not set; -1: not a number. */
static int index_from_env(const char *var, unsigned *k, char *msg, size_t msglen)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    if (errno || *end || *v < '0' || *v > '9' || x > CLI_MAX_SHARDS) {
        snprintf(msg, msglen, "%s=%.40s is not a shard number", var, v);
        return -1;
    }
    *k = (unsigned)x;
    return 1;
}

int cli_shard_index(const cli_options *o, unsigned nshards, unsigned *k, char *msg, size_t msglen)
{
    const char *from = "--shard";
    int rc = 1;
    if (o->shard >= 0) {
        *k = (unsigned)o->shard;
    } else if ((rc = index_from_env(from = "JOB_COMPLETION_INDEX", k, msg, msglen)) == 0 &&
               (rc = index_from_env(from = "SLURM_ARRAY_TASK_ID", k, msg, msglen)) == 0) {
        snprintf(msg, msglen, "which shard? give --shard K (or run it as a Kubernetes Indexed Job or a Slurm job array), "
                              "or --finish after every shard");
        return -1;
    }
    if (rc < 0)
        return -1;
    if (*k >= nshards) {
        snprintf(msg, msglen, "shard %u (from %s) is not one of the plan's %u shards (0-%u)", *k, from, nshards,
                 nshards - 1);
        return -1;
    }
    return 0;
}

int cli_shard_report_path(const cli_options *o, const sc_plan *plan, unsigned k, bool make_dir, char *out,
                          size_t outlen, char *msg, size_t msglen)
{
    char dir[4096];
    const char *d = o->summary_dir ? o->summary_dir : sc_plan_summary_dir(plan);
    if (d) {
        snprintf(dir, sizeof dir, "%s", d);
    } else {
        const char *slash = strrchr(o->plan, '/');
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else
            snprintf(dir, sizeof dir, "%.*s", slash == o->plan ? 1 : (int)(slash - o->plan), o->plan);
    }
    if (make_dir && cli_make_dirs(dir, msg, msglen) != 0)
        return -1;
    if ((size_t)snprintf(out, outlen, "%s/shard-%u.json", dir, k) >= outlen) {
        snprintf(msg, msglen, "the summary directory's path is too long");
        return -1;
    }
    return 0;
}

void cli_plan_print(FILE *f, const sc_plan *plan, const char *path, const sc_summary *walk, bool json)
{
    unsigned n = sc_plan_shards(plan);
    size_t dirs, files;
    sc_plan_counts(plan, &dirs, &files);
    struct stat st;
    long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
    if (json) {
        fputs("{\"plan\":", f);
        sc_json_write_string(f, path);
        fprintf(f, ",\"id\":\"%s\",\"shards\":%u,\"plan_bytes\":%lld,\"split_dirs\":%zu,\"split_files\":%zu,"
                   "\"files_total\":%" PRIu64 ",\"bytes_total\":%" PRIu64 ",\"walk_failures\":%zu,\"loads\":[",
                sc_plan_id(plan), n, size, dirs, files, walk->files_total, walk->bytes_total, walk->nfailures);
        for (unsigned k = 0; k < n; k++) {
            uint64_t b, c;
            sc_plan_shard_load(plan, k, &b, &c);
            fprintf(f, "%s{\"shard\":%u,\"bytes\":%" PRIu64 ",\"files\":%" PRIu64 "}", k ? "," : "", k, b, c);
        }
        fputs("]}\n", f);
        return;
    }
    char b1[32], b2[32];
    fprintf(f, "plan %s: %u shards of %" PRIu64 " files, %s to copy (%lld bytes of plan; %zu split directories, "
               "%zu split files)\n",
            path, n, walk->files_total, cli_format_bytes(walk->bytes_copied, b1, sizeof b1), size, dirs, files);
    fprintf(f, "%8s %12s %10s\n", "shard", "to copy", "files");
    for (unsigned k = 0; k < n; k++) {
        uint64_t b, c;
        sc_plan_shard_load(plan, k, &b, &c);
        fprintf(f, "%8u %12s %10" PRIu64 "\n", k, cli_format_bytes(b, b2, sizeof b2), c);
    }
}

void cli_shards_print(FILE *f, const sc_shard_report *r, const char *const *why, unsigned n)
{
    fprintf(f, "%6s %5s %9s %9s %12s %9s %12s  %s\n", "shard", "exit", "copied", "failed", "bytes", "seconds", "rate",
            "host");
    for (unsigned k = 0; k < n; k++) {
        if (why[k]) {
            fprintf(f, "%6u     -  ", k);
            cli_fput_safe(f, why[k]);
            fputc('\n', f);
            continue;
        }
        const sc_summary *s = r[k].summary;
        char b[32], rate[32];
        fprintf(f, "%6u %5d %9" PRIu64 " %9" PRIu64 " %12s %9.1f %12s  ", k, r[k].exit_code, s->files_copied,
                s->files_failed, cli_format_bytes(s->bytes_copied, b, sizeof b), s->seconds,
                cli_format_rate(s->seconds > 0 ? (double)s->bytes_copied / s->seconds : 0, rate, sizeof rate));
        cli_fput_safe(f, r[k].host);
        fputc('\n', f);
    }
}

void cli_shards_json(FILE *f, const sc_shard_report *r, const char *const *why, unsigned n)
{
    fputc('[', f);
    for (unsigned k = 0; k < n; k++) {
        fprintf(f, "%s{\"shard\":%u,", k ? "," : "", k);
        if (why[k]) {
            fputs("\"report\":null,\"why\":", f);
            sc_json_write_string(f, why[k]);
            fputc('}', f);
            continue;
        }
        const sc_summary *s = r[k].summary;
        fprintf(f, "\"exit_code\":%d,\"host\":", r[k].exit_code);
        sc_json_write_string(f, r[k].host);
        fprintf(f, ",\"files_copied\":%" PRIu64 ",\"files_failed\":%" PRIu64 ",\"bytes_transferred\":%" PRIu64
                   ",\"seconds\":%.3f,\"bytes_per_second\":%.0f,\"error\":",
                s->files_copied, s->files_failed, s->bytes_copied, s->seconds,
                s->seconds > 0 ? (double)s->bytes_copied / s->seconds : 0.0);
        if (r[k].error)
            sc_json_write_string(f, r[k].error);
        else
            fputs("null", f);
        fputc('}', f);
    }
    fputc(']', f);
}

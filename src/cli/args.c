/* Option parsing for smbcopy: getopt_long into a cli_options, errors as text. */
#include "args.h"
#include "errbuf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <smbcopy/smb.h>

/* Long-only options. */
enum {
    OPT_MIRROR = 256,
    OPT_DRY_RUN,
    OPT_CHECKSUM,
    OPT_EXCLUDE,
    OPT_INCLUDE,
    OPT_SIGN,
    OPT_ENCRYPT,
    OPT_MIN_PROTOCOL,
    OPT_MAX_PROTOCOL,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_JSON,
    OPT_LOG,
    OPT_TIMEOUT,
    OPT_VERSION,
    OPT_KERBEROS,
    OPT_PRINCIPAL_HOST,
    OPT_CONNECTIONS,
    OPT_LOCK,
    OPT_JOB,
    OPT_CHECKPOINT,
    OPT_NO_RESUME,
    OPT_RETRY_FOR,
    OPT_ARCHIVE,
    OPT_COMPRESS_LEVEL,
    OPT_READ_AHEAD,
    OPT_CHANNELS,
    OPT_MULTICHANNEL,
    OPT_EXTRACT,
    OPT_SNAPSHOT,
    OPT_NEWER_THAN,
    OPT_DELETE_EXCLUDED,
    OPT_INCREMENTAL,
    OPT_MAX_DIR_ENTRIES,
    OPT_RETRIES,
    OPT_TEMP_NAME,
    OPT_ACLS,
    OPT_NO_STREAMS,
    OPT_LINKS,
    OPT_LIST,
    OPT_PLAN_OUT,
    OPT_SHARDS,
    OPT_PLAN,
    OPT_SHARD,
    OPT_FINISH,
    OPT_SUMMARY_DIR,
};

static const struct option long_options[] = {
    {"threads", required_argument, NULL, 'j'},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"mirror", no_argument, NULL, OPT_MIRROR},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"checksum", no_argument, NULL, OPT_CHECKSUM},
    {"exclude", required_argument, NULL, OPT_EXCLUDE},
    {"include", required_argument, NULL, OPT_INCLUDE},
    {"sign", no_argument, NULL, OPT_SIGN},
    {"encrypt", no_argument, NULL, OPT_ENCRYPT},
    {"min-protocol", required_argument, NULL, OPT_MIN_PROTOCOL},
    {"max-protocol", required_argument, NULL, OPT_MAX_PROTOCOL},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"json", no_argument, NULL, OPT_JSON},
    {"log", required_argument, NULL, OPT_LOG},
    {"lock", required_argument, NULL, OPT_LOCK},
    {"job", required_argument, NULL, OPT_JOB},
    {"checkpoint", required_argument, NULL, OPT_CHECKPOINT},
    {"no-resume", no_argument, NULL, OPT_NO_RESUME},
    {"retry-for", required_argument, NULL, OPT_RETRY_FOR},
    {"archive", required_argument, NULL, OPT_ARCHIVE},
    {"compress-level", required_argument, NULL, OPT_COMPRESS_LEVEL},
    {"read-ahead", required_argument, NULL, OPT_READ_AHEAD},
    {"channels", required_argument, NULL, OPT_CHANNELS},
    {"multichannel", required_argument, NULL, OPT_MULTICHANNEL},
    {"extract", no_argument, NULL, OPT_EXTRACT},
    {"snapshot", required_argument, NULL, OPT_SNAPSHOT},
    {"newer-than", required_argument, NULL, OPT_NEWER_THAN},
    {"delete-excluded", no_argument, NULL, OPT_DELETE_EXCLUDED},
    {"incremental", no_argument, NULL, OPT_INCREMENTAL},
    {"max-dir-entries", required_argument, NULL, OPT_MAX_DIR_ENTRIES},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"temp-name", required_argument, NULL, OPT_TEMP_NAME},
    {"acls", optional_argument, NULL, OPT_ACLS},
    {"no-streams", no_argument, NULL, OPT_NO_STREAMS},
    {"list", no_argument, NULL, OPT_LIST},
    {"links", required_argument, NULL, OPT_LINKS},
    {"plan-out", required_argument, NULL, OPT_PLAN_OUT},
    {"shards", required_argument, NULL, OPT_SHARDS},
    {"plan", required_argument, NULL, OPT_PLAN},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"finish", no_argument, NULL, OPT_FINISH},
    {"summary-dir", required_argument, NULL, OPT_SUMMARY_DIR},
    {"authentication-file", required_argument, NULL, 'A'},
    {"user", required_argument, NULL, 'U'},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"kerberos", required_argument, NULL, OPT_KERBEROS},
    {"principal-host", required_argument, NULL, OPT_PRINCIPAL_HOST},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

/* Leading ':' : a missing argument is reported as ':' rather than printed. */
static const char short_options[] = ":j:qvA:U:h";

/* A whole decimal number in [min, max]. */
static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

/* A duration: a whole number of seconds, or with a unit (s, m, h), e.g. "90", "30s", "10m", "2h". */
static bool parse_duration(const char *s, unsigned long max_s, unsigned *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10), mult = 1;
    if (errno)
        return false;
    if (*end == 'm')
        mult = 60;
    else if (*end == 'h')
        mult = 3600;
    else if (*end != 's' && *end != '\0')
        return false;
    if (*end && end[1])
        return false;
    if (v > max_s / mult)
        return false;
    *out = (unsigned)(v * mult);
    return true;
}

/*
 * A point in time: "@SECONDS" since 1970, or "YYYY-MM-DD[THH:MM[:SS]]" in
 * local time ("Z" at the end: UTC; a space may replace the T). As FILETIME.
 */
static bool parse_time(const char *s, uint64_t *out)
{
    time_t t;
    if (s[0] == '@') {
        unsigned long long v;
        char *end;
        errno = 0;
        v = strtoull(s + 1, &end, 10);
        if (errno || end == s + 1 || *end || v > 32503680000ull)
            return false;
        t = (time_t)v;
    } else {
        static const char *const formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
                                              "%Y-%m-%d %H:%M", "%Y-%m-%d"};
        struct tm tm;
        const char *end = NULL;
        for (size_t i = 0; i < sizeof formats / sizeof formats[0] && !(end && (!*end || (*end == 'Z' && !end[1]))); i++) {
            memset(&tm, 0, sizeof tm);
            end = strptime(s, formats[i], &tm);
        }
        if (!end || (*end && !(*end == 'Z' && !end[1])))
            return false;
        tm.tm_isdst = -1;
        t = *end == 'Z' ? timegm(&tm) : mktime(&tm);
        if (t < 0) /* mktime's failure, (time_t)-1, included */
            return false;
    }
    *out = 116444736000000000ull + (uint64_t)t * 10000000ull;
    return true;
}

/* Append s to a growing array of strings. */
static bool push(const char ***arr, size_t *n, const char *s)
{
    const char **grown = realloc(*arr, (*n + 1) * sizeof **arr);
    if (!grown)
        return false;
    grown[(*n)++] = s;
    *arr = grown;
    return true;
}

/* Append a filter rule "<sign> pattern" (owned) in command-line order. */
static bool push_rule(cli_options *o, char sign, const char *pattern)
{
    char *rule;
    if (asprintf(&rule, "%c %s", sign, pattern) < 0)
        return false;
    char **grown = realloc(o->filters, (o->nfilters + 1) * sizeof *grown);
    if (!grown) {
        free(rule);
        return false;
    }
    grown[o->nfilters++] = rule;
    o->filters = grown;
    return true;
}

/* Overwrite n bytes of an argument in place (what ps and /proc/PID/cmdline show). */
static void scrub(char *p, size_t n)
{
    memset(p, 'X', n);
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/*
 * In an SMB location (smb://, //, \\\\), where a password may lie: from the
 * first ':' to the last '@', the span location.c hides in its messages
 * (a password may hold unencoded '@' or '/'). A local path is left alone.
 */
static void scrub_location(char *s)
{
    size_t skip = 0;
    if (strncasecmp(s, "smb://", 6) == 0)
        skip = 6;
    else if ((s[0] == '/' || s[0] == '\\') && (s[1] == '/' || s[1] == '\\'))
        skip = 2;
    char *at = skip ? strrchr(s + skip, '@') : NULL;
    char *colon = at ? memchr(s + skip, ':', (size_t)(at - (s + skip))) : NULL;
    if (colon)
        scrub(colon + 1, (size_t)(at - colon - 1));
}

/* Keep a copy of a positional argument (the job parses it later), then scrub the original. */
static const char *take_positional(cli_options *o, char *arg)
{
    char **grown = realloc(o->owned_args, (o->nowned + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    o->owned_args = grown;
    char *copy = strdup(arg);
    if (!copy)
        return NULL;
    o->owned_args[o->nowned++] = copy;
    scrub_location(arg);
    return copy;
}

/* The option as the user wrote it, for messages. */
static const char *opt_name(char **argv, int idx)
{
    return idx > 0 && argv[idx - 1] ? argv[idx - 1] : "?";
}

/* One option; 0 or -1 with errbuf. */
static int apply_option(int c, const char *arg, const char *as_written, cli_options *o, char *errbuf,
                        size_t errlen)
{
    switch (c) {
    case 'j':
        if (!parse_uint(arg, 1, CLI_MAX_THREADS, &o->threads))
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --threads (expected 1..%d)", arg,
                               CLI_MAX_THREADS);
        return 0;
    case OPT_CONNECTIONS:
        if (!parse_uint(arg, 1, CLI_MAX_CONNECTIONS, &o->connections))
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --connections (expected 1..%d)", arg,
                               CLI_MAX_CONNECTIONS);
        return 0;
    case OPT_MIRROR:
        o->mirror = true;
        return 0;
    case OPT_DRY_RUN:
        o->dry_run = true;
        return 0;
    case OPT_CHECKSUM:
        o->checksum = true;
        return 0;
    case OPT_EXCLUDE:
    case OPT_INCLUDE:
        if (!*arg)
            return errbuf_fail(errbuf, errlen, "empty pattern for %s",
                               c == OPT_EXCLUDE ? "--exclude" : "--include");
        if (!(c == OPT_EXCLUDE ? push(&o->excludes, &o->nexcludes, arg) : push(&o->includes, &o->nincludes, arg)) ||
            !push_rule(o, c == OPT_EXCLUDE ? '-' : '+', arg))
            return errbuf_fail(errbuf, errlen, "out of memory");
        return 0;
    case OPT_DELETE_EXCLUDED:
        o->delete_excluded = true;
        return 0;
    case OPT_INCREMENTAL:
        o->incremental = true;
        return 0;
    case OPT_TEMP_NAME:
        if (strcmp(arg, "auto") == 0)
            o->temp_names = SC_TEMP_AUTO;
        else if (strcmp(arg, "dot") == 0)
            o->temp_names = SC_TEMP_DOT;
        else if (strcmp(arg, "plain") == 0)
            o->temp_names = SC_TEMP_PLAIN;
        else if (strcmp(arg, "inplace") == 0)
            o->temp_names = SC_TEMP_INPLACE;
        else
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --temp-name (expected auto, dot, plain or inplace)",
                               arg);
        return 0;
    case OPT_ACLS:
        if (!arg || strcmp(arg, "dacl") == 0)
            o->acls = SC_ACLS_DACL;
        else if (strcmp(arg, "all") == 0)
            o->acls = SC_ACLS_ALL;
        else if (strcmp(arg, "none") == 0)
            o->acls = SC_ACLS_NONE;
        else
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --acls (expected dacl, all or none)", arg);
        return 0;
    case OPT_NO_STREAMS:
        o->no_streams = true;
        return 0;
    case OPT_LINKS:
        if (strcmp(arg, "skip") == 0)
            o->links = SC_LINKS_SKIP;
        else if (strcmp(arg, "copy") == 0)
            o->links = SC_LINKS_COPY;
        else if (strcmp(arg, "follow") == 0)
            o->links = SC_LINKS_FOLLOW;
        else
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --links (expected skip, copy or follow)", arg);
        return 0;
    case OPT_RETRIES:
        if (!parse_uint(arg, 0, CLI_MAX_RETRIES, &o->retries))
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --retries (expected 0..%d)", arg, CLI_MAX_RETRIES);
        o->retries_given = true;
        return 0;
    case OPT_MAX_DIR_ENTRIES: {
        unsigned long long v;
        char *end;
        errno = 0;
        v = strtoull(arg, &end, 10);
        if (errno || end == arg || *end || *arg == '-' || v < 1000 || v > 4000000000ull)
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --max-dir-entries (expected 1000..4000000000)",
                               arg);
        o->max_dir_entries = v;
        return 0;
    }
    case OPT_SIGN:
        o->sign = true;
        return 0;
    case OPT_ENCRYPT:
        o->encrypt = true;
        return 0;
    case OPT_KERBEROS:
        if (!strcmp(arg, "preferred") || !strcmp(arg, "auto"))
            o->mech = SMB_AUTH_AUTO;
        else if (!strcmp(arg, "required"))
            o->mech = SMB_AUTH_KERBEROS;
        else if (!strcmp(arg, "off"))
            o->mech = SMB_AUTH_NTLM;
        else
            return errbuf_fail(errbuf, errlen, "--kerberos takes required, preferred or off (not '%s')", arg);
        return 0;
    case OPT_PRINCIPAL_HOST:
        if (!*arg)
            return errbuf_fail(errbuf, errlen, "--principal-host needs a host name");
        o->principal_host = arg;
        return 0;
    case OPT_MIN_PROTOCOL:
    case OPT_MAX_PROTOCOL: {
        uint16_t d = smb_dialect_parse(arg);
        const char *name = c == OPT_MIN_PROTOCOL ? "--min-protocol" : "--max-protocol";
        if (!d)
            return errbuf_fail(errbuf, errlen, "unknown protocol version '%s' for %s (use 2.0.2, 2.1, 3.0, 3.0.2 or 3.1.1)",
                               arg, name);
        *(c == OPT_MIN_PROTOCOL ? &o->min_dialect : &o->max_dialect) = d;
        return 0;
    }
    case 'q':
        o->quiet = true;
        return 0;
    case 'v':
        o->verbose = true;
        return 0;
    case OPT_PROGRESS:
        o->progress = CLI_PROGRESS_ON;
        return 0;
    case OPT_NO_PROGRESS:
        o->progress = CLI_PROGRESS_OFF;
        return 0;
    case OPT_JSON:
        o->json = true;
        return 0;
    case OPT_LOG:
        if (!*arg)
            return errbuf_fail(errbuf, errlen, "empty file name for --log");
        o->log_path = arg;
        return 0;
    case OPT_LOCK:
        if (!*arg)
            return errbuf_fail(errbuf, errlen, "empty file name for --lock");
        o->lock_path = arg;
        return 0;
    case OPT_JOB:
        if (!*arg)
            return errbuf_fail(errbuf, errlen, "empty name for --job");
        o->job_name = arg;
        return 0;
    case OPT_CHECKPOINT:
        if (!*arg)
            return errbuf_fail(errbuf, errlen, "empty file name for --checkpoint");
        o->checkpoint_path = arg;
        return 0;
    case OPT_NO_RESUME:
        o->no_resume = true;
        return 0;
    case OPT_RETRY_FOR:
        if (!parse_duration(arg, CLI_MAX_RETRY_FOR_S, &o->retry_for_s))
            return errbuf_fail(errbuf, errlen,
                               "bad value '%s' for --retry-for (expected a duration such as 0, 90s, 10m or 2h, at most 7d)",
                               arg);
        o->retry_for_given = true;
        return 0;
    case OPT_ARCHIVE:
        if (!sc_archive_format_known(arg))
            return errbuf_fail(errbuf, errlen,
                               "unknown archive format '%s' (expected tar, tar.gz, tar.xz, tar.bz2 or tar.zst)", arg);
        o->archive = arg;
        return 0;
    case OPT_COMPRESS_LEVEL: {
        unsigned v;
        if (!parse_uint(arg, 0, 22, &v))
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --compress-level (expected 0..22)", arg);
        o->compress_level = (int)v;
        return 0;
    }
    case OPT_SNAPSHOT:
        if (!*arg)
            return errbuf_fail(errbuf, errlen, "empty file name for --snapshot");
        o->snapshot = arg;
        return 0;
    case OPT_NEWER_THAN:
        if (!parse_time(arg, &o->newer_than))
            return errbuf_fail(errbuf, errlen,
                               "bad time '%s' for --newer-than (expected YYYY-MM-DD[THH:MM[:SS]][Z] or @SECONDS)", arg);
        return 0;
    case OPT_EXTRACT:
        o->extract = true;
        return 0;
    case OPT_CHANNELS:
        if (!parse_uint(arg, 1, 8, &o->channels))
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --channels (expected 1..8)", arg);
        return 0;
    case OPT_MULTICHANNEL:
        if (strcmp(arg, "off") == 0)
            o->multichannel_off = true;
        else if (strcmp(arg, "auto") == 0)
            o->multichannel_off = false;
        else
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --multichannel (expected auto or off)", arg);
        return 0;
    case OPT_READ_AHEAD:
        if (!parse_uint(arg, 1, 65536, &o->read_ahead_mib))
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --read-ahead (expected 1..65536 MiB)", arg);
        return 0;
    case 'A':
        if (!*arg)
            return errbuf_fail(errbuf, errlen, "empty file name for --authentication-file");
        o->auth_file = arg;
        return 0;
    case 'U': {
        /* USER%PASSWORD, as smbclient takes it: the password kept apart and wiped from argv. */
        const char *pct = strchr(arg, '%');
        size_t n = pct ? (size_t)(pct - arg) : strlen(arg);
        if (n == 0)
            return errbuf_fail(errbuf, errlen, "empty user name for --user");
        if (!pct) {
            o->user = arg;
            return 0;
        }
        free(o->user_buf);
        wipe_free(o->user_password);
        o->user_buf = strndup(arg, n);
        o->user_password = strdup(pct + 1);
        scrub((char *)pct + 1, strlen(pct + 1));
        if (!o->user_buf || !o->user_password)
            return errbuf_fail(errbuf, errlen, "out of memory");
        o->user = o->user_buf;
        return 0;
    }
    case OPT_TIMEOUT:
        if (!parse_uint(arg, 1, CLI_MAX_TIMEOUT_S, &o->timeout_s))
            return errbuf_fail(errbuf, errlen, "bad value '%s' for --timeout (expected 1..%d seconds)", arg,
                               CLI_MAX_TIMEOUT_S);
        return 0;
    case 'h':
        o->help = true;
        return 0;
    case OPT_VERSION:
        o->version = true;
        return 0;
    case OPT_LIST:
        o->list = true;
        return 0;
    case OPT_PLAN_OUT:
        o->plan_out = arg;
        return 0;
    case OPT_SHARDS:
        if (!parse_uint(arg, 1, CLI_MAX_SHARDS, &o->shards))
            return errbuf_fail(errbuf, errlen, "--shards takes a number of shards, 1-%u (got '%s')", CLI_MAX_SHARDS, arg);
        return 0;
    case OPT_PLAN:
        o->plan = arg;
        return 0;
    case OPT_SHARD: {
        unsigned k;
        if (!parse_uint(arg, 0, CLI_MAX_SHARDS - 1, &k))
            return errbuf_fail(errbuf, errlen, "--shard takes a shard number, 0-%u (got '%s')", CLI_MAX_SHARDS - 1, arg);
        o->shard = (int)k;
        return 0;
    }
    case OPT_FINISH:
        o->finish_plan = true;
        return 0;
    case OPT_SUMMARY_DIR:
        o->summary_dir = arg;
        return 0;
    default:
        return errbuf_fail(errbuf, errlen, "unknown option '%s'", as_written);
    }
}

/* --plan-out, --shards, --plan, --shard, --finish, --summary-dir: what goes with what. */
static int check_plan_options(const cli_options *o, int npos, char *errbuf, size_t errlen)
{
    if (o->plan_out && o->plan)
        return errbuf_fail(errbuf, errlen, "--plan-out makes a plan, --plan runs one: not both");
    if (o->plan_out && !o->shards)
        return errbuf_fail(errbuf, errlen, "--plan-out needs --shards N");
    if (o->shards && !o->plan_out)
        return errbuf_fail(errbuf, errlen, "--shards goes with --plan-out");
    if ((o->shard >= 0 || o->finish_plan) && !o->plan)
        return errbuf_fail(errbuf, errlen, "%s needs --plan PLAN", o->finish_plan ? "--finish" : "--shard");
    if (o->summary_dir && !o->plan && !o->plan_out)
        return errbuf_fail(errbuf, errlen, "--summary-dir goes with --plan-out or --plan");
    if (o->shard >= 0 && o->finish_plan)
        return errbuf_fail(errbuf, errlen, "--finish runs after every shard: not with --shard");
    if ((o->plan || o->plan_out) && (o->list || o->archive || o->extract || o->snapshot))
        return errbuf_fail(errbuf, errlen, "%s cannot be used with --list or archives",
                           o->plan ? "--plan" : "--plan-out");
    if (o->plan_out && (o->dry_run || o->checkpoint_path || o->no_resume))
        return errbuf_fail(errbuf, errlen, "--plan-out only plans: not with --dry-run, --checkpoint or --no-resume");
    if (o->plan && npos != 0 && !o->plan_args)
        return errbuf_fail(errbuf, errlen, "--plan takes no SRC or DEST: they are in the plan");
    if (o->plan && !o->plan_args &&
        (o->mirror || o->nfilters || o->delete_excluded || o->checksum || o->links || o->acls || o->no_streams))
        return errbuf_fail(errbuf, errlen, "--plan: what the job copies (--mirror, filters, --checksum, --acls, "
                                           "--links, --no-streams) comes from the plan; make a new plan to change it");
    return 0;
}

/* Checks across options and the positional arguments. */
static int finish(int argc, char **argv, int first, cli_options *o, char *errbuf, size_t errlen)
{
    if (o->help || o->version)
        return 0;
    if (o->quiet && o->verbose)
        return errbuf_fail(errbuf, errlen, "--quiet and --verbose cannot be used together");
    if (o->links != SC_LINKS_SKIP && (o->archive || o->extract))
        return errbuf_fail(errbuf, errlen, "--links %s cannot be used with archives (their links are skipped)",
                           o->links == SC_LINKS_COPY ? "copy" : "follow");
    if (o->min_dialect && o->max_dialect && o->min_dialect > o->max_dialect)
        return errbuf_fail(errbuf, errlen, "--min-protocol %s is above --max-protocol %s",
                           smb_dialect_name(o->min_dialect), smb_dialect_name(o->max_dialect));
    int npos = argc - first;
    int rc = check_plan_options(o, npos, errbuf, errlen);
    if (rc)
        return rc;
    if (o->plan && npos == 0)
        return 0; /* the plan holds SRC and DEST */
    if (o->list) {
        if (npos != 1)
            return errbuf_fail(errbuf, errlen, "--list takes one location: //HOST for its shares, or a directory");
        if (o->mirror || o->archive || o->extract || o->dry_run)
            return errbuf_fail(errbuf, errlen, "--list cannot be used with --mirror, --dry-run, --archive or --extract");
        if (!(o->dest = take_positional(o, argv[first])))
            return errbuf_fail(errbuf, errlen, "out of memory");
        return 0;
    }
    if (npos == 0)
        return errbuf_fail(errbuf, errlen, "missing source and destination");
    if (npos == 1) {
        scrub_location(argv[first]); /* the message shows it */
        return errbuf_fail(errbuf, errlen, "missing destination (after '%.200s')", argv[first]);
    }
    for (int i = first; i < argc - 1; i++) {
        const char *copy = take_positional(o, argv[i]);
        if (!copy || !push(&o->sources, &o->nsources, copy))
            return errbuf_fail(errbuf, errlen, "out of memory");
    }
    if (!(o->dest = take_positional(o, argv[argc - 1])))
        return errbuf_fail(errbuf, errlen, "out of memory");
    return 0;
}

static int parse(int argc, char **argv, cli_options *out, bool planned, char *errbuf, size_t errlen);

int cli_parse_args(int argc, char **argv, cli_options *out, char *errbuf, size_t errlen)
{
    return parse(argc, argv, out, false, errbuf, errlen);
}

int cli_parse_planned_args(int argc, char **argv, cli_options *out, char *errbuf, size_t errlen)
{
    return parse(argc, argv, out, true, errbuf, errlen);
}

static int parse(int argc, char **argv, cli_options *out, bool planned, char *errbuf, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->plan_args = planned;
    out->threads = CLI_DEFAULT_THREADS;
    out->connections = SC_DEFAULT_CONNECTIONS;
    out->progress = CLI_PROGRESS_AUTO;
    out->retry_for_s = SC_DEFAULT_RETRY_FOR_S;
    out->compress_level = -1;
    out->shard = -1;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (argc < 1 || !argv)
        return errbuf_fail(errbuf, errlen, "no arguments");

    optind = 0; /* GNU: reinitialise fully, so the parser can run again */
    opterr = 0; /* report through errbuf, never on stderr */
    int c;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        int rc;
        if (c == ':')
            rc = errbuf_fail(errbuf, errlen, "option '%s' needs a value", opt_name(argv, optind));
        else if (c == '?')
            rc = optopt && optopt < 256 ? errbuf_fail(errbuf, errlen, "unknown option '-%c'", optopt)
                                        : errbuf_fail(errbuf, errlen, "unknown option '%s'", opt_name(argv, optind));
        else
            rc = apply_option(c, optarg, opt_name(argv, optind), out, errbuf, errlen);
        if (rc) {
            cli_options_free(out);
            return rc;
        }
    }
    int rc = finish(argc, argv, optind, out, errbuf, errlen);
    if (rc)
        cli_options_free(out);
    return rc;
}

void cli_options_free(cli_options *o)
{
    if (!o)
        return;
    free(o->sources);
    free(o->excludes);
    free(o->includes);
    for (size_t i = 0; i < o->nfilters; i++)
        free(o->filters[i]);
    free(o->filters);
    o->filters = NULL;
    o->nfilters = 0;
    o->sources = o->excludes = o->includes = NULL;
    o->nsources = o->nexcludes = o->nincludes = 0;
    for (size_t i = 0; i < o->nowned; i++)
        wipe_free(o->owned_args[i]);
    free(o->owned_args);
    o->owned_args = NULL;
    o->nowned = 0;
    o->dest = NULL;
    free(o->user_buf);
    wipe_free(o->user_password);
    o->user_buf = o->user_password = NULL;
    o->user = NULL;
}

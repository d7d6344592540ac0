/*
 * A shard's report file (shard.h: sc_shard_report_save, _load) and the
 * sum of several runs' summaries (sc_summary_merge):
 *
 *   {"format": "smbcopy-shard-report", "version": 1, "plan": "<id>",
 *    "shard": K, "host": H, "started": UNIX_TIME, "exit_code": C,
 *    "interrupted": B, "error": MESSAGE or null, "seconds": S,
 *    "counters": {"files_copied": N, ...},
 *    "failures": [{"path": P, "message": M}, ...]}
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <smbcopy/engine.h>

#include "common/array.h"
#include "common/error.h"
#include "engine/json/json.h"
#include "engine/shard/shard_plan.h"

/* A report holds at most this many bytes (its failures are listed, one line each). */
#define REPORT_MAX_BYTES ((size_t)256 << 20)

/* The summary's counters by name: written, read and added alike. */
typedef struct counter {
    const char *name;
    size_t off;
    bool narrow; /* an unsigned, not a uint64_t */
} counter;

#define C64(f) {#f, offsetof(sc_summary, f), false}
#define C32(f) {#f, offsetof(sc_summary, f), true}
static const counter counters[] = {
    C64(dirs_total),       C64(dirs_created),        C64(dirs_deleted),       C64(files_total),
    C64(files_copied),     C64(files_skipped),       C64(files_failed),       C64(files_deleted),
    C64(bytes_total),      C64(bytes_copied),        C64(bytes_skipped),      C64(bytes_read),
    C64(bytes_written),    C64(bytes_server_copied), C64(ignored),            C32(connections),
    C32(channels_lost),    C32(channels_rebound),    C32(reconnects),         C64(files_resumed),
    C64(bytes_resumed),    C64(journal_records),     C64(journal_cut_bytes),  C64(streams_copied),
    C64(stream_bytes),     C64(sds_copied),          C64(streams_not_kept),   C64(sds_not_kept),
    C64(files_meta_updated), C64(links_copied),      C64(links_not_kept),     C64(dfs_links_followed),
    C64(dfs_links_unreachable), C64(ranges_copied),
};

static uint64_t get_counter(const sc_summary *s, const counter *c)
{
    const char *base = (const char *)s + c->off;
    if (c->narrow) {
        unsigned v;
        memcpy(&v, base, sizeof v);
        return v;
    }
    uint64_t v;
    memcpy(&v, base, sizeof v);
    return v;
}

static void set_counter(sc_summary *s, const counter *c, uint64_t v)
{
    char *base = (char *)s + c->off;
    if (c->narrow) {
        unsigned n = v > UINT32_MAX ? UINT32_MAX : (unsigned)v;
        memcpy(base, &n, sizeof n);
    } else {
        memcpy(base, &v, sizeof v);
    }
}

static int failures_add(sc_summary *s, size_t *cap, const char *path, const char *message)
{
    if (!ARRAY_RESERVE(s->failures, *cap, s->nfailures + 1, 16))
        return SMB_ERR_NO_MEMORY;
    sc_failure *f = &s->failures[s->nfailures];
    f->path = strdup(path ? path : "");
    f->message = strdup(message ? message : "");
    if (!f->path || !f->message) {
        free(f->path);
        free(f->message);
        return SMB_ERR_NO_MEMORY;
    }
    s->nfailures++;
    return 0;
}

int sc_summary_merge(sc_summary *into, const sc_summary *from)
{
    for (size_t i = 0; i < sizeof counters / sizeof *counters; i++)
        set_counter(into, &counters[i], get_counter(into, &counters[i]) + get_counter(from, &counters[i]));
    if (from->seconds > into->seconds)
        into->seconds = from->seconds;
    into->interrupted = into->interrupted || from->interrupted;
    size_t cap = into->nfailures;
    for (size_t i = 0; i < from->nfailures; i++)
        if (failures_add(into, &cap, from->failures[i].path, from->failures[i].message) != 0)
            return SMB_ERR_NO_MEMORY;
    return 0;
}

static void write_report(FILE *f, const sc_plan *plan, unsigned k, const sc_summary *s, int exit_code,
                         const char *error, uint64_t started)
{
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    fprintf(f, "{\"format\": \"smbcopy-shard-report\", \"version\": 1, \"plan\": \"%s\", \"shard\": %u, \"host\": ",
            plan->id_hex, k);
    sc_json_write_string(f, host);
    fprintf(f, ", \"started\": %" PRIu64 ", \"exit_code\": %d, \"interrupted\": %s, \"error\": ", started, exit_code,
            s->interrupted ? "true" : "false");
    if (error)
        sc_json_write_string(f, error);
    else
        fputs("null", f);
    fprintf(f, ", \"seconds\": %.3f,\n \"counters\": {", s->seconds);
    for (size_t i = 0; i < sizeof counters / sizeof *counters; i++)
        fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", counters[i].name, get_counter(s, &counters[i]));
    fputs("},\n \"failures\": [", f);
    for (size_t i = 0; i < s->nfailures; i++) {
        fputs(i ? ",\n  {\"path\": " : "\n  {\"path\": ", f);
        sc_json_write_string(f, s->failures[i].path);
        fputs(", \"message\": ", f);
        sc_json_write_string(f, s->failures[i].message);
        fputc('}', f);
    }
    fputs("]}\n", f);
}

int sc_shard_report_save(const sc_plan *plan, unsigned k, const sc_summary *s, int exit_code, const char *error,
                         uint64_t started, const char *path, smb_error *err)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int e = errno;
    bool ok = f != NULL;
    if (f) {
        write_report(f, plan, k, s, exit_code, error, started);
        ok = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
        e = errno;
        ok = fclose(f) == 0 && ok;
        if (ok && rename(tmp, path) != 0) {
            e = errno;
            ok = false;
        }
        if (!ok)
            unlink(tmp);
    }
    free(tmp);
    if (!ok)
        return smb_err_set(err, shard_local_error(e ? e : EIO), 0, "cannot write the shard report %s: %s", path,
                           strerror(e ? e : EIO));
    return 0;
}

void sc_shard_report_free(sc_shard_report *r)
{
    if (!r)
        return;
    free(r->error);
    free(r->host);
    if (r->summary) {
        sc_summary_free(r->summary);
        free(r->summary);
    }
    memset(r, 0, sizeof *r);
}

static int damaged(smb_error *err, const char *path, const char *what)
{
    return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "shard report %.300s: %s", path, what);
}

static int read_report(const sc_plan *plan, unsigned k, const char *path, const json_value *root,
                       sc_shard_report *out, smb_error *err)
{
    const char *format = json_get_str(root, "format"), *id = json_get_str(root, "plan");
    const char *host = json_get_str(root, "host");
    const json_value *error = json_get(root, "error"), *cnt = json_get(root, "counters");
    const json_value *fails = json_get(root, "failures"), *secs = json_get(root, "seconds");
    const json_value *code = json_get(root, "exit_code");
    uint64_t version = 0, shard = 0;
    if (!format || strcmp(format, "smbcopy-shard-report") != 0 || !json_get_u64(root, "version", &version) ||
        version != 1)
        return damaged(err, path, "not a shard report of this version");
    if (!id || strcmp(id, plan->id_hex) != 0)
        return damaged(err, path, "made for another plan (an older run's? remove it, or run the shard again)");
    if (!json_get_u64(root, "shard", &shard) || shard != k)
        return damaged(err, path, "another shard's report");
    if (!code || code->type != JSON_NUMBER || code->number != (double)(int)code->number || !cnt ||
        cnt->type != JSON_OBJECT || !fails || fails->type != JSON_ARRAY || !secs || secs->type != JSON_NUMBER ||
        !json_get_u64(root, "started", &out->started) || !json_get_bool(root, "interrupted", &out->interrupted))
        return damaged(err, path, "a field is missing or of the wrong type");
    out->shard = k;
    out->exit_code = (int)code->number;
    if (!(out->summary = calloc(1, sizeof *out->summary)) || !(out->host = strdup(host ? host : "?")) ||
        (error && error->type == JSON_STRING && !(out->error = strdup(error->str))))
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    sc_summary *s = out->summary;
    s->seconds = secs->number >= 0 ? secs->number : 0;
    s->interrupted = out->interrupted;
    for (size_t i = 0; i < sizeof counters / sizeof *counters; i++) {
        uint64_t v;
        if (!json_get_u64(cnt, counters[i].name, &v))
            return damaged(err, path, "a counter is missing");
        set_counter(s, &counters[i], v);
    }
    size_t cap = 0;
    for (size_t i = 0; i < fails->len; i++) {
        const char *p = json_get_str(&fails->items[i], "path"), *m = json_get_str(&fails->items[i], "message");
        if (!p || !m)
            return damaged(err, path, "a failure without a path or a message");
        if (failures_add(s, &cap, p, m) != 0)
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    return 0;
}

int sc_shard_report_load(const sc_plan *plan, unsigned k, const char *path, sc_shard_report *out, smb_error *err)
{
    memset(out, 0, sizeof *out);
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "no report from shard %u (%.300s): it has not run, or not "
                                                      "to its end", k, path);
    char why[512];
    json_value *root = NULL;
    if (json_parse_file(path, REPORT_MAX_BYTES, &root, why, sizeof why) != 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "%s", why);
    int rc = read_report(plan, k, path, root, out, err);
    json_free(root);
    if (rc != 0)
        sc_shard_report_free(out);
    return rc;
}

/*
 * The plan file (shard.h: sc_plan_save, sc_plan_load; docs/sharding.md):
 *
 *   {"format": "smbcopy-plan", "version": 1, "id": "<32 hex>", "shards": N,
 *    "job": [ARG, ...], "summary_dir": DIR or null,
 *    "totals": {"bytes": B, "files": F},
 *    "loads": [{"bytes": B, "files": F}, ...],           one per shard
 *    "split_dirs": [{"path": P, "cuts": [[KEY, SHARD], ...]}, ...],
 *    "split_files": [{"path": P, "size": S, "mtime": T,
 *                     "ranges": [[OFFSET, LENGTH, SHARD], ...]}, ...]}
 *
 * Read back whole and checked (a damaged or edited plan is refused, never
 * half used): shard numbers below N, cuts strictly ascending from "",
 * ranges tiling each file, paths sorted and distinct.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <smbcopy/engine.h>

#include "common/error.h"
#include "engine/json/json.h"
#include "engine/shard/shard_plan.h"

/* A plan is small (subtrees, not files); this bounds what a damaged one costs to read. */
#define PLAN_MAX_BYTES ((size_t)64 << 20)

static void write_plan(FILE *f, const sc_plan *p)
{
    fprintf(f, "{\"format\": \"smbcopy-plan\", \"version\": %d, \"id\": \"%s\", \"shards\": %u,\n \"job\": [",
            SC_PLAN_VERSION, p->id_hex, p->nshards);
    for (size_t i = 0; i < p->nargs; i++) {
        fputs(i ? ", " : "", f);
        sc_json_write_string(f, p->args[i]);
    }
    fputs("],\n \"summary_dir\": ", f);
    if (p->summary_dir)
        sc_json_write_string(f, p->summary_dir);
    else
        fputs("null", f);
    fprintf(f, ",\n \"totals\": {\"bytes\": %" PRIu64 ", \"files\": %" PRIu64 "},\n \"loads\": [", p->total_bytes,
            p->total_files);
    for (unsigned k = 0; k < p->nshards; k++)
        fprintf(f, "%s{\"bytes\": %" PRIu64 ", \"files\": %" PRIu64 "}", k ? ", " : "", p->shard_bytes[k],
                p->shard_files[k]);
    fputs("],\n \"split_dirs\": [", f);
    for (size_t i = 0; i < p->nsplits; i++) {
        const shard_split *sp = &p->splits[i];
        fputs(i ? ",\n  {\"path\": " : "\n  {\"path\": ", f);
        sc_json_write_string(f, sp->path);
        fputs(", \"cuts\": [", f);
        for (size_t j = 0; j < sp->ncuts; j++) {
            fputs(j ? ", [" : "[", f);
            sc_json_write_string(f, sp->cuts[j].key);
            fprintf(f, ", %u]", sp->cuts[j].shard);
        }
        fputs("]}", f);
    }
    fputs("],\n \"split_files\": [", f);
    for (size_t i = 0; i < p->nfiles; i++) {
        const shard_file *sf = &p->files[i];
        fputs(i ? ",\n  {\"path\": " : "\n  {\"path\": ", f);
        sc_json_write_string(f, sf->path);
        fprintf(f, ", \"size\": %" PRIu64 ", \"mtime\": %" PRIu64 ", \"ranges\": [", sf->size, sf->mtime);
        for (size_t j = 0; j < sf->npieces; j++)
            fprintf(f, "%s[%" PRIu64 ", %" PRIu64 ", %u]", j ? ", " : "", sf->pieces[j].offset, sf->pieces[j].length,
                    sf->pieces[j].shard);
        fputs("]}", f);
    }
    fputs("]}\n", f);
}

int sc_plan_save(const sc_plan *p, const char *path, smb_error *err)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wx");
    if (!f) {
        int e = errno;
        free(tmp);
        return smb_err_set(err, shard_local_error(e), 0, "cannot write the plan %s: %s", path, strerror(e));
    }
    write_plan(f, p);
    bool ok = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
    int e = errno;
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) != 0) {
        e = errno;
        ok = false;
    }
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return smb_err_set(err, shard_local_error(e ? e : EIO), 0, "cannot write the plan %s: %s", path, strerror(e ? e : EIO));
    }
    free(tmp);
    return 0;
}

/* ------------------------------------------------------------------ reading */

typedef struct reader {
    const char *path;
    smb_error *err;
    bool failed;
} reader;

__attribute__((format(printf, 2, 3))) static bool bad(reader *r, const char *fmt, ...)
{
    if (r->failed)
        return false;
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    smb_err_set(r->err, SMB_ERR_INVALID_ARG, 0, "plan %.300s: %s", r->path, what);
    r->failed = true;
    return false;
}

static bool get_u64(reader *r, const json_value *o, const char *key, const char *where, uint64_t *v)
{
    return json_get_u64(o, key, v) || bad(r, "%s: \"%s\" is missing or not a whole number", where, key);
}

static bool get_shard(reader *r, const sc_plan *p, const json_value *v, const char *where, unsigned *k)
{
    if (!v || v->type != JSON_NUMBER || !v->is_uint || v->uint >= p->nshards)
        return bad(r, "%s: a shard number that is not one of 0-%u", where, p->nshards - 1);
    *k = (unsigned)v->uint;
    return true;
}

static bool read_job(reader *r, sc_plan *p, const json_value *root)
{
    const json_value *job = json_get(root, "job");
    if (!job || job->type != JSON_ARRAY)
        return bad(r, "\"job\" is missing or not a list");
    if (!(p->args = calloc(job->len ? job->len : 1, sizeof *p->args)))
        return bad(r, "out of memory");
    for (size_t i = 0; i < job->len; i++) {
        if (job->items[i].type != JSON_STRING)
            return bad(r, "\"job\": argument %zu is not a string", i);
        if (!(p->args[i] = strdup(job->items[i].str)))
            return bad(r, "out of memory");
        p->nargs = i + 1;
    }
    const json_value *dir = json_get(root, "summary_dir");
    if (dir && dir->type == JSON_STRING && !(p->summary_dir = strdup(dir->str)))
        return bad(r, "out of memory");
    if (dir && dir->type != JSON_STRING && dir->type != JSON_NULL)
        return bad(r, "\"summary_dir\" is not a string");
    return true;
}

static bool read_loads(reader *r, sc_plan *p, const json_value *root)
{
    const json_value *tot = json_get(root, "totals"), *loads = json_get(root, "loads");
    if (!tot || !get_u64(r, tot, "bytes", "totals", &p->total_bytes) ||
        !get_u64(r, tot, "files", "totals", &p->total_files))
        return bad(r, "\"totals\" is missing");
    if (!loads || loads->type != JSON_ARRAY || loads->len != p->nshards)
        return bad(r, "\"loads\" does not have one entry per shard");
    for (unsigned k = 0; k < p->nshards; k++)
        if (!get_u64(r, &loads->items[k], "bytes", "loads", &p->shard_bytes[k]) ||
            !get_u64(r, &loads->items[k], "files", "loads", &p->shard_files[k]))
            return false;
    return true;
}

static bool read_split(reader *r, sc_plan *p, const json_value *v, shard_split *sp)
{
    const char *path = json_get_str(v, "path");
    const json_value *cuts = json_get(v, "cuts");
    if (!path || !cuts || cuts->type != JSON_ARRAY || !cuts->len)
        return bad(r, "a split directory without a path or cuts");
    if (!(sp->path = strdup(path)) || !(sp->cuts = calloc(cuts->len, sizeof *sp->cuts)))
        return bad(r, "out of memory");
    for (size_t j = 0; j < cuts->len; j++) {
        const json_value *c = &cuts->items[j];
        if (c->type != JSON_ARRAY || c->len != 2 || c->items[0].type != JSON_STRING)
            return bad(r, "split directory \"%.200s\": a cut is not [NAME, SHARD]", path);
        if (!get_shard(r, p, &c->items[1], "a cut", &sp->cuts[j].shard))
            return false;
        const char *key = c->items[0].str;
        if (j == 0 ? *key != '\0' : strcmp(key, sp->cuts[j - 1].key) <= 0)
            return bad(r, "split directory \"%.200s\": cuts do not start at \"\" and ascend", path);
        if (!(sp->cuts[j].key = strdup(key)))
            return bad(r, "out of memory");
        sp->ncuts = j + 1;
    }
    return true;
}

static bool read_file(reader *r, sc_plan *p, const json_value *v, shard_file *sf)
{
    const char *path = json_get_str(v, "path");
    const json_value *ranges = json_get(v, "ranges");
    if (!path || !ranges || ranges->type != JSON_ARRAY || !ranges->len)
        return bad(r, "a split file without a path or ranges");
    if (!get_u64(r, v, "size", path, &sf->size) || !get_u64(r, v, "mtime", path, &sf->mtime))
        return false;
    if (!(sf->path = strdup(path)) || !(sf->pieces = calloc(ranges->len, sizeof *sf->pieces)))
        return bad(r, "out of memory");
    uint64_t at = 0;
    for (size_t j = 0; j < ranges->len; j++) {
        const json_value *c = &ranges->items[j];
        shard_piece *pc = &sf->pieces[j];
        if (c->type != JSON_ARRAY || c->len != 3 || !c->items[0].is_uint || !c->items[1].is_uint)
            return bad(r, "split file \"%.200s\": a range is not [OFFSET, LENGTH, SHARD]", path);
        if (!get_shard(r, p, &c->items[2], "a range", &pc->shard))
            return false;
        pc->offset = c->items[0].uint;
        pc->length = c->items[1].uint;
        if (pc->offset != at || !pc->length || pc->length > sf->size - at)
            return bad(r, "split file \"%.200s\": its ranges do not tile its %" PRIu64 " bytes", path, sf->size);
        at += pc->length;
        sf->npieces = j + 1;
    }
    if (at != sf->size)
        return bad(r, "split file \"%.200s\": its ranges do not tile its %" PRIu64 " bytes", path, sf->size);
    return true;
}

/* True when B sorts strictly after A; a missing path never does. */
static bool path_after(const char *a, const char *b)
{
    return a && b && strcmp(a, b) < 0;
}

static bool read_lists(reader *r, sc_plan *p, const json_value *root)
{
    const json_value *dirs = json_get(root, "split_dirs"), *files = json_get(root, "split_files");
    if (!dirs || dirs->type != JSON_ARRAY || !files || files->type != JSON_ARRAY)
        return bad(r, "\"split_dirs\" or \"split_files\" is missing or not a list");
    if (!(p->splits = calloc(dirs->len ? dirs->len : 1, sizeof *p->splits)) ||
        !(p->files = calloc(files->len ? files->len : 1, sizeof *p->files)))
        return bad(r, "out of memory");
    for (size_t i = 0; i < dirs->len; i++) {
        p->nsplits = i + 1;
        if (!read_split(r, p, &dirs->items[i], &p->splits[i]))
            return false;
        if (i && !path_after(p->splits[i - 1].path, p->splits[i].path))
            return bad(r, "\"split_dirs\" is not sorted by path");
    }
    for (size_t i = 0; i < files->len; i++) {
        p->nfiles = i + 1;
        if (!read_file(r, p, &files->items[i], &p->files[i]))
            return false;
        if (i && !path_after(p->files[i - 1].path, p->files[i].path))
            return bad(r, "\"split_files\" is not sorted by path");
    }
    if (!shard_find_split(p, ""))
        return bad(r, "the destination's root is not among \"split_dirs\"");
    return true;
}

int sc_plan_load(const char *path, sc_plan **out, smb_error *err)
{
    *out = NULL;
    char why[512];
    json_value *root = NULL;
    if (json_parse_file(path, PLAN_MAX_BYTES, &root, why, sizeof why) != 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "%s", why);
    reader r = {.path = path, .err = err};
    const char *format = json_get_str(root, "format"), *id = json_get_str(root, "id");
    uint64_t version = 0, shards = 0;
    sc_plan *p = NULL;
    if (!format || strcmp(format, "smbcopy-plan") != 0)
        bad(&r, "not an smbcopy plan (no \"format\": \"smbcopy-plan\")");
    else if (!json_get_u64(root, "version", &version) || version != SC_PLAN_VERSION)
        bad(&r, "version %" PRIu64 ", this smbcopy reads version %d", version, SC_PLAN_VERSION);
    else if (!json_get_u64(root, "shards", &shards) || shards < 1 || shards > SC_SHARDS_MAX)
        bad(&r, "\"shards\" is not a number of shards (1-%u)", SC_SHARDS_MAX);
    else if (!id || strlen(id) != 32 || strspn(id, "0123456789abcdef") != 32)
        bad(&r, "\"id\" is not 32 hex digits");
    else if (!(p = shard_plan_new((unsigned)shards)))
        bad(&r, "out of memory");
    if (p) {
        uint8_t raw[16];
        for (size_t i = 0; i < sizeof raw; i++) {
            char hex[3] = {id[2 * i], id[2 * i + 1], '\0'};
            raw[i] = (uint8_t)strtoul(hex, NULL, 16);
        }
        shard_plan_set_id(p, raw);
        if (read_job(&r, p, root) && read_loads(&r, p, root))
            read_lists(&r, p, root);
    }
    json_free(root);
    if (r.failed) {
        sc_plan_free(p);
        return err->code;
    }
    *out = p;
    return 0;
}

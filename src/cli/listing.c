/* smbcopy --list output (listing.h). */
#include "listing.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

static const char *share_kind(uint32_t type)
{
    switch (type & SMB_STYPE_MASK) {
    case SMB_STYPE_DISKTREE: return "disk";
    case SMB_STYPE_PRINTQ: return "printer";
    case SMB_STYPE_DEVICE: return "device";
    case SMB_STYPE_IPC: return "ipc";
    default: return "other";
    }
}

static void json_tail(FILE *f, int exit_code, const char *error)
{
    fprintf(f, "],\"exit_code\":%d,\"error\":", exit_code);
    if (error)
        sc_json_write_string(f, error);
    else
        fputs("null", f);
    fputs("}\n", f);
}

void cli_list_print_shares(FILE *f, const smb_share_info *shares, size_t n, bool json, int exit_code,
                           const char *error)
{
    if (json) {
        fputs("{\"shares\":[", f);
        for (size_t i = 0; i < n; i++) {
            fputs(i ? ",{\"name\":" : "{\"name\":", f);
            sc_json_write_string(f, shares[i].name);
            fprintf(f, ",\"type\":\"%s\",\"special\":%s,\"comment\":", share_kind(shares[i].type),
                    (shares[i].type & SMB_STYPE_SPECIAL) ? "true" : "false");
            sc_json_write_string(f, shares[i].comment);
            fputc('}', f);
        }
        json_tail(f, exit_code, error);
        return;
    }
    int w = 9; /* "Sharename" */
    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen(shares[i].name);
        w = len > w ? len : w;
    }
    fprintf(f, "%-*s  %-8s  %s\n", w, "Sharename", "Type", "Comment");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%-*s  %-8s  %s%s\n", w, shares[i].name, share_kind(shares[i].type), shares[i].comment,
                (shares[i].type & SMB_STYPE_SPECIAL) && !*shares[i].comment ? "(administrative)" : "");
}

int cli_list_collect(void *arg, const sc_list_entry *entry)
{
    cli_list_entries *e = arg;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 64;
        sc_list_entry *v = realloc(e->v, cap * sizeof *v);
        if (!v) {
            e->oom = true;
            return 1;
        }
        e->v = v;
        e->cap = cap;
    }
    char *name = strdup(entry->name);
    if (!name) {
        e->oom = true;
        return 1;
    }
    e->v[e->n] = *entry;
    e->v[e->n++].name = name;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const sc_list_entry *)a)->name, ((const sc_list_entry *)b)->name);
}

static const char *entry_type(const sc_list_entry *e)
{
    if (e->dfs_link)
        return "dfs_link";
    if (e->is_link)
        return "link";
    return e->is_dir ? "dir" : "file";
}

/* attributes as letters (MS-FSCC 2.6): R H S A, D for a directory, L for a link or DFS link. */
static void attr_letters(const sc_list_entry *e, char out[8])
{
    size_t k = 0;
    if (e->is_dir)
        out[k++] = 'D';
    if (e->attributes & SMB_ATTR_READONLY)
        out[k++] = 'R';
    if (e->attributes & SMB_ATTR_HIDDEN)
        out[k++] = 'H';
    if (e->attributes & SMB_ATTR_SYSTEM)
        out[k++] = 'S';
    if (e->attributes & SMB_ATTR_ARCHIVE)
        out[k++] = 'A';
    if (e->is_link || e->dfs_link)
        out[k++] = 'L';
    out[k] = '\0';
}

/* FILETIME as "YYYY-MM-DDTHH:MM:SSZ" (utc) or local "YYYY-MM-DD HH:MM:SS". */
static void time_text(uint64_t ft, bool utc, char *buf, size_t len)
{
    struct timespec ts = smb_filetime_to_timespec(ft);
    struct tm tm;
    time_t t = ts.tv_sec;
    if (!ft || !(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm))) {
        snprintf(buf, len, "%s", utc ? "" : "-");
        return;
    }
    strftime(buf, len, utc ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S", &tm);
}

void cli_list_print_entries(FILE *f, cli_list_entries *e, bool json, int exit_code, const char *error)
{
    if (e->n > 1)
        qsort(e->v, e->n, sizeof *e->v, by_name);
    char attrs[8], when[40];
    if (json)
        fputs("{\"entries\":[", f);
    for (size_t i = 0; i < e->n; i++) {
        const sc_list_entry *x = &e->v[i];
        attr_letters(x, attrs);
        time_text(x->mtime, json, when, sizeof when);
        if (json) {
            fputs(i ? ",{\"name\":" : "{\"name\":", f);
            sc_json_write_string(f, x->name);
            fprintf(f, ",\"type\":\"%s\",\"size\":%llu,\"mtime\":\"%s\",\"attributes\":\"%s\"}", entry_type(x),
                    (unsigned long long)x->size, when, attrs);
        } else {
            fprintf(f, "%-6s %14llu  %s  %s%s\n", attrs, (unsigned long long)x->size, when, x->name,
                    x->is_dir ? "/" : "");
        }
    }
    if (json)
        json_tail(f, exit_code, error);
}

void cli_list_entries_free(cli_list_entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        free((char *)e->v[i].name);
    free(e->v);
    memset(e, 0, sizeof *e);
}

/* Snapshot files of incremental archives (see snapshot.h). */
#include "engine/archive/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/name_table.h"

#define HEADER "smbcopy-snapshot 1\n"

/* What a snapshot holds of one path (the record of its path in a table of names). */
typedef struct snap_entry {
    bool dir;
    uint64_t size, mtime, file_id;
    bool noted; /* seen in this walk */
} snap_entry;

struct snapshot {
    name_table old, now; /* path -> snap_entry */
};

/* Add path's entry e (a path listed twice keeps its first entry); false when out of memory. */
static bool insert(name_table *t, const char *path, snap_entry e)
{
    bool added;
    snap_entry *slot = name_table_get(t, path, strlen(path), &added);
    if (slot && added)
        *slot = e;
    return slot != NULL;
}

/* Unescape src[0..n) into a new string. */
static char *unescape(const char *src, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    for (size_t i = 0; out && i < n; i++) {
        if (src[i] == '\\' && i + 1 < n) {
            char c = src[++i];
            if (c == 't')
                c = '\t';
            else if (c == 'n')
                c = '\n';
            *o++ = c;
        } else {
            *o++ = src[i];
        }
    }
    if (out)
        *o = '\0';
    return out;
}

static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '\t')
            fputs("\\t", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

int snapshot_load(const char *path, snapshot **out, smb_error *err)
{
    *out = NULL;
    snapshot *s = calloc(1, sizeof *s);
    if (!s)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    name_table_init(&s->old, sizeof(snap_entry));
    name_table_init(&s->now, sizeof(snap_entry));
    FILE *f = fopen(path, "re");
    if (!f && errno != ENOENT) {
        int rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "snapshot %s: %s", path, strerror(errno));
        free(s);
        return rc;
    }
    int rc = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    while (f && rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (lineno == 1) {
            if (strcmp(line, HEADER) != 0)
                rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "snapshot %s: not a smbcopy snapshot file", path);
            continue;
        }
        if (line[n - 1] != '\n') {
            rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "snapshot %s: line %lu is cut short", path, lineno);
            break;
        }
        line[n - 1] = '\0';
        char type = line[0];
        uint64_t v[3];
        const char *p = line + 1;
        bool ok = (type == 'F' || type == 'D') && *p == '\t';
        for (int k = 0; ok && k < 3; k++) {
            char *end;
            errno = 0;
            if (p[1] < '0' || p[1] > '9') {
                ok = false;
                break;
            }
            v[k] = strtoull(p + 1, &end, 10);
            ok = !errno && *end == '\t';
            p = end;
        }
        if (!ok || !p[1]) {
            rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "snapshot %s: line %lu is malformed", path, lineno);
            break;
        }
        p++;
        char *epath = unescape(p, strlen(p));
        snap_entry e = {.dir = type == 'D', .size = v[0], .mtime = v[1], .file_id = v[2]};
        if (!epath || !epath[0] || !insert(&s->old, epath, e))
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "snapshot %s: line %lu: out of memory or empty path", path,
                             lineno);
        free(epath);
    }
    free(line);
    if (f)
        fclose(f);
    if (rc != 0) {
        snapshot_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

bool snapshot_note(snapshot *s, const char *path, const ep_stat *st)
{
    bool dir = st->type == EP_DIR;
    snap_entry *old = name_table_find(&s->old, path, strlen(path));
    bool changed = !old || old->dir != dir ||
                   (!dir && (old->size != st->size || old->mtime != st->mtime ||
                             (old->file_id && st->file_id && old->file_id != st->file_id)));
    if (old)
        old->noted = true;
    snap_entry e = {.dir = dir, .size = dir ? 0 : st->size, .mtime = st->mtime, .file_id = st->file_id};
    (void)insert(&s->now, path, e); /* out of memory: the next snapshot lacks it, archived again next time */
    return changed;
}

int snapshot_deleted_text(snapshot *s, char **text, size_t *len, smb_error *err)
{
    *text = NULL;
    *len = 0;
    FILE *f = open_memstream(text, len);
    if (!f)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    for (const snap_entry *e = name_table_next(&s->old, NULL); e; e = name_table_next(&s->old, e)) {
        if (e->noted)
            continue;
        fputs(e->dir ? "D\t" : "F\t", f);
        put_escaped(f, name_table_name(&s->old, e, NULL));
        fputc('\n', f);
    }
    if (fclose(f) != 0)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    return 0;
}

int snapshot_save(snapshot *s, const char *path, smb_error *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    snprintf(tmp, plen + 16, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        int rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "snapshot %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(tmp);
        return rc;
    }
    fputs(HEADER, f);
    for (const snap_entry *e = name_table_next(&s->now, NULL); e; e = name_table_next(&s->now, e)) {
        fprintf(f, "%c\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t", e->dir ? 'D' : 'F', e->size, e->mtime, e->file_id);
        put_escaped(f, name_table_name(&s->now, e, NULL));
        fputc('\n', f);
    }
    int rc = 0;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = smb_err_set(err, errno == ENOSPC ? SMB_ERR_NO_SPACE : SMB_ERR_INVALID_ARG, 0, "snapshot %s: %s", tmp,
                         strerror(errno));
    if (fclose(f) != 0 && rc == 0)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "snapshot %s: %s", tmp, strerror(errno));
    if (rc == 0 && rename(tmp, path) != 0)
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "snapshot %s: %s", path, strerror(errno));
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

void snapshot_free(snapshot *s)
{
    if (!s)
        return;
    name_table_free(&s->old);
    name_table_free(&s->now);
    free(s);
}

void snapshot_parse_deleted(const char *text, size_t len, void (*cb)(void *arg, const char *path, bool is_dir),
                            void *arg)
{
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && text[j] != '\n')
            j++;
        if (j - i > 2 && (text[i] == 'D' || text[i] == 'F') && text[i + 1] == '\t') {
            char *p = unescape(text + i + 2, j - i - 2);
            if (p && p[0])
                cb(arg, p, text[i] == 'D');
            free(p);
        }
        i = j + 1;
    }
}

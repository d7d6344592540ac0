/*
 * The checkpoint journal (layout in journal.h). Records are encoded with the
 * bounded writer and decoded with the bounded reader of the wire code: a
 * journal is input like any other, and a damaged one must never be trusted
 * beyond its last record whose length and CRC check out.
 */
#include "engine/resume/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/resume/crc32c.h"
#include "common/error.h"
#include "common/wire.h"

#define MAGIC "SMBCOPYJ"
#define VERSION 2u
#define VERSION_1 1u /* bodies without the change time: still read, rewritten as VERSION */
#define HEADER_LEN 32u
#define MAX_BODY (1u << 16)  /* two paths of at most 32 KiB each and the fixed fields */
#define FLUSH_AT (64u << 10) /* buffered bytes that trigger a write */

struct journal {
    pthread_mutex_t lock;
    int fd;
    char *path;
    smb_wr buf; /* appended, not yet written */
    uint64_t replayed, cut;
};

static int sys_fail(smb_error *err, const char *what, const char *path)
{
    int e = errno;
    return smb_err_set(err, e == ENOSPC ? SMB_ERR_SERVER : SMB_ERR_INVALID_ARG, 0, "checkpoint journal %s: %s: %s",
                       path, what, strerror(e));
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Decode one record body of a journal of that version; 0 when it is well formed. */
static int decode_body(const uint8_t *body, size_t len, uint32_t version, journal_rec *rec, char *path, char *temp)
{
    smb_rd r;
    smb_rd_init(&r, body, len);
    rec->type = (journal_type)smb_rd_u8(&r);
    uint16_t plen = smb_rd_u16(&r);
    smb_rd_bytes(&r, path, plen);
    rec->size = smb_rd_u64(&r);
    rec->mtime = smb_rd_u64(&r);
    rec->file_id = smb_rd_u64(&r);
    rec->offset = smb_rd_u64(&r);
    rec->length = smb_rd_u64(&r);
    rec->check = smb_rd_u32(&r);
    uint16_t tlen = smb_rd_u16(&r);
    smb_rd_bytes(&r, temp, tlen);
    rec->change_time = version == VERSION_1 ? 0 : smb_rd_u64(&r);
    if (!smb_rd_ok(&r) || smb_rd_left(&r) != 0 || plen == 0)
        return -1;
    if (rec->type != JOURNAL_FILE_DONE && rec->type != JOURNAL_RANGE_DONE && rec->type != JOURNAL_FILE_STARTED)
        return -1;
    if (rec->type == JOURNAL_FILE_STARTED && tlen == 0)
        return -1;
    path[plen] = '\0';
    temp[tlen] = '\0';
    if (memchr(path, '\0', plen) || memchr(temp, '\0', tlen))
        return -1;
    if (rec->type == JOURNAL_RANGE_DONE && (rec->length == 0 || rec->offset > rec->size ||
                                            rec->length > rec->size - rec->offset || tlen == 0))
        return -1;
    rec->path = path;
    rec->temp = temp;
    return 0;
}

static void encode_rec(smb_wr *w, const journal_rec *rec, size_t plen, size_t tlen);

/*
 * Replay the records of data[0..len) (header excluded), written in version,
 * through cb; with up (not NULL) each one is also encoded again there in the
 * current version. Returns the length of the valid prefix in *good; -1 when
 * cb stopped.
 */
static int replay(const uint8_t *data, size_t len, uint32_t version, journal_replay_cb cb, void *arg, smb_wr *up,
                  size_t *good, uint64_t *n)
{
    char *path = malloc(MAX_BODY + 1), *temp = malloc(MAX_BODY + 1);
    int rc = path && temp ? 0 : -1;
    smb_rd r;
    smb_rd_init(&r, data, len);
    *good = 0;
    while (rc == 0 && smb_rd_left(&r) >= 8) {
        size_t at = len - smb_rd_left(&r);
        uint32_t blen = smb_rd_u32(&r);
        const uint8_t *body = blen <= MAX_BODY ? smb_rd_ptr(&r, blen) : NULL;
        uint32_t crc = smb_rd_u32(&r);
        if (!body || !smb_rd_ok(&r) || crc32c(0, data + at, 4 + (size_t)blen) != crc)
            break; /* a torn or damaged tail: everything from here is dropped */
        journal_rec rec;
        if (decode_body(body, blen, version, &rec, path, temp) != 0)
            break;
        if (cb && cb(arg, &rec) != 0)
            rc = -1;
        if (up)
            encode_rec(up, &rec, strlen(rec.path), strlen(rec.temp));
        (*n)++;
        *good = len - smb_rd_left(&r);
    }
    free(path);
    free(temp);
    return rc;
}

static void header(uint8_t out[HEADER_LEN], const uint8_t job_id[16], uint32_t version)
{
    smb_wr w;
    smb_wr_init(&w, out, HEADER_LEN);
    smb_wr_bytes(&w, MAGIC, 8);
    smb_wr_u32(&w, version);
    smb_wr_u32(&w, 0);
    smb_wr_bytes(&w, job_id, 16);
}

/* Read the whole file (bounded by its size at open). */
static uint8_t *slurp(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size > ((uint64_t)1 << 34))
        return NULL;
    size_t n = (size_t)st.st_size;
    uint8_t *p = malloc(n ? n : 1);
    size_t got = 0;
    while (p && got < n) {
        ssize_t r = pread(fd, p + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    *len = got;
    return p;
}

/*
 * Write the header and records rec[0..n) of the current version to a new
 * file beside path, make it durable and put it in path's place: a crash at
 * any moment leaves either the old journal or the new one. Returns the new
 * descriptor, or -1.
 */
static int rewrite(const char *path, const uint8_t hdr[HEADER_LEN], const uint8_t *rec, size_t n)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 9);
    if (!tmp)
        return -1;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".upgrade", 9);
    unlink(tmp); /* what an upgrade killed midway left */
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0 && (write_full(fd, hdr, HEADER_LEN) != 0 || write_full(fd, rec, n) != 0 || fsync(fd) != 0 ||
                    rename(tmp, path) != 0)) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        fd = -1;
    }
    free(tmp);
    return fd;
}

int journal_open(const char *path, const uint8_t job_id[16], bool fresh, journal_replay_cb cb, void *arg,
                 journal **out, smb_error *err)
{
    *out = NULL;
    journal *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(path))) {
        free(j);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    pthread_mutex_init(&j->lock, NULL);
    smb_wr_init_grow(&j->buf, FLUSH_AT + 1024);
    smb_wr up;
    smb_wr_init_grow(&up, 0);
    j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = 0;
    if (j->fd < 0) {
        rc = sys_fail(err, "open", path);
        goto fail;
    }
    uint8_t want[HEADER_LEN], old[HEADER_LEN];
    header(want, job_id, VERSION);
    header(old, job_id, VERSION_1);
    size_t len = 0;
    uint8_t *data = slurp(j->fd, &len);
    if (!data) {
        rc = sys_fail(err, "read", path);
        goto fail;
    }
    /* A header cut short (a crash while creating the file) counts as empty. */
    bool empty = len < HEADER_LEN && memcmp(data, want, len) == 0;
    bool ours = len >= HEADER_LEN && memcmp(data, want, HEADER_LEN) == 0;
    bool v1 = len >= HEADER_LEN && memcmp(data, old, HEADER_LEN) == 0;
    size_t keep = HEADER_LEN;
    if (!empty && !ours && !v1 && !fresh) {
        /* The version field alone differs: name it, the user may be running an older smbcopy. */
        bool other_version = len >= HEADER_LEN && memcmp(data, want, 8) == 0 && memcmp(data + 12, want + 12, 20) == 0;
        uint32_t version = other_version ? smb_le32(data + 8) : 0;
        free(data);
        if (other_version)
            rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                             "checkpoint journal %s is in format %u, which this smbcopy cannot read (it reads 1 and "
                             "%u): use the smbcopy that wrote it, or run with --no-resume",
                             path, (unsigned)version, VERSION);
        else
            rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                             "checkpoint journal %s belongs to another job or format (remove it, or run with "
                             "--no-resume)",
                             path);
        goto fail;
    }
    if (ours || v1) { /* with fresh too: the caller learns what the interrupted run left (its temporary files) */
        size_t good = 0;
        if (replay(data + HEADER_LEN, len - HEADER_LEN, v1 ? VERSION_1 : VERSION, cb, arg, v1 && !fresh ? &up : NULL,
                   &good, &j->replayed) != 0) {
            free(data);
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "checkpoint journal %s: replay stopped (out of memory)", path);
            goto fail;
        }
        keep = HEADER_LEN + good;
        j->cut = len - keep;
    }
    free(data);
    if (v1 && !fresh) {
        /* Its records in the current format, so that appends follow in one format. */
        int fd = smb_wr_ok(&up) ? rewrite(path, want, up.buf, up.len) : -1;
        if (fd < 0) {
            rc = sys_fail(err, "upgrade to format 2", path);
            goto fail;
        }
        close(j->fd);
        j->fd = fd;
        keep = HEADER_LEN + up.len;
    } else if (empty || !ours || fresh) { /* start over (new, foreign with fresh, or fresh), or cut the torn tail */
        if (ftruncate(j->fd, 0) < 0 || pwrite(j->fd, want, HEADER_LEN, 0) != HEADER_LEN) {
            rc = sys_fail(err, "write", path);
            goto fail;
        }
        keep = HEADER_LEN;
    } else if (j->cut && ftruncate(j->fd, (off_t)keep) < 0) {
        rc = sys_fail(err, "truncate", path);
        goto fail;
    }
    if (lseek(j->fd, (off_t)keep, SEEK_SET) < 0 || fdatasync(j->fd) < 0) {
        rc = sys_fail(err, "sync", path);
        goto fail;
    }
    smb_wr_free(&up);
    *out = j;
    return 0;
fail:
    if (j->fd >= 0)
        close(j->fd);
    smb_wr_free(&up);
    smb_wr_free(&j->buf);
    pthread_mutex_destroy(&j->lock);
    free(j->path);
    free(j);
    return rc;
}

/* Write the buffer out. Lock held. */
static int flush_locked(journal *j, smb_error *err)
{
    if (!j->buf.len)
        return 0;
    if (write_full(j->fd, j->buf.buf, j->buf.len) != 0)
        return sys_fail(err, "write", j->path);
    j->buf.len = 0;
    return 0;
}

/* Append rec as one record of the current version (length, body, CRC) to w. */
static void encode_rec(smb_wr *w, const journal_rec *rec, size_t plen, size_t tlen)
{
    const char *temp = rec->temp ? rec->temp : "";
    uint32_t blen = (uint32_t)(1 + 2 + plen + 5 * sizeof(uint64_t) + 4 + 2 + tlen + sizeof(uint64_t));
    size_t at = w->len;
    smb_wr_u32(w, blen);
    smb_wr_u8(w, (uint8_t)rec->type);
    smb_wr_u16(w, (uint16_t)plen);
    smb_wr_bytes(w, rec->path, plen);
    smb_wr_u64(w, rec->size);
    smb_wr_u64(w, rec->mtime);
    smb_wr_u64(w, rec->file_id);
    smb_wr_u64(w, rec->offset);
    smb_wr_u64(w, rec->length);
    smb_wr_u32(w, rec->check);
    smb_wr_u16(w, (uint16_t)tlen);
    smb_wr_bytes(w, temp, tlen);
    smb_wr_u64(w, rec->change_time);
    if (smb_wr_ok(w))
        smb_wr_u32(w, crc32c(0, w->buf + at, 4 + (size_t)blen));
}

int journal_append(journal *j, const journal_rec *rec, smb_error *err)
{
    const char *temp = rec->temp ? rec->temp : "";
    size_t plen = rec->path ? strlen(rec->path) : 0, tlen = strlen(temp);
    if (!plen || plen > MAX_BODY / 2 - 64 || tlen > MAX_BODY / 2 - 64)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "checkpoint journal: path too long or empty");
    pthread_mutex_lock(&j->lock);
    encode_rec(&j->buf, rec, plen, tlen);
    int rc = 0;
    if (!smb_wr_ok(&j->buf))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0 && j->buf.len >= FLUSH_AT)
        rc = flush_locked(j, err);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

int journal_flush(journal *j, smb_error *err)
{
    pthread_mutex_lock(&j->lock);
    int rc = flush_locked(j, err);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

int journal_sync(journal *j, smb_error *err)
{
    pthread_mutex_lock(&j->lock);
    int rc = flush_locked(j, err);
    if (rc == 0 && fdatasync(j->fd) < 0)
        rc = sys_fail(err, "sync", j->path);
    pthread_mutex_unlock(&j->lock);
    return rc;
}

void journal_replay_stats(const journal *j, uint64_t *records, uint64_t *cut_bytes)
{
    if (records)
        *records = j->replayed;
    if (cut_bytes)
        *cut_bytes = j->cut;
}

int journal_close(journal *j, bool remove, smb_error *err)
{
    if (!j)
        return 0;
    int rc = remove ? 0 : journal_sync(j, err);
    if (close(j->fd) < 0 && rc == 0 && !remove)
        rc = sys_fail(err, "close", j->path);
    if (remove && unlink(j->path) < 0 && errno != ENOENT)
        rc = sys_fail(err, "remove", j->path);
    smb_wr_free(&j->buf);
    pthread_mutex_destroy(&j->lock);
    free(j->path);
    free(j);
    return rc;
}

/*
 * The hostile server's store: with --store DIR, every path that is not in
 * the fixed tree lives in DIR, so that a client can upload (CREATE,
 * WRITE, SET_INFO, CLOSE: MS-SMB2 3.3.5.9, 3.3.5.13, 3.3.5.21) and a test
 * can compare what arrived. All connections (child processes) share it.
 * Names are confined to DIR: "." and ".." components are refused, and
 * nothing in DIR is a link (SMB cannot make one here).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hs.h"
#include "utf16.h"

/* MS-SMB2 2.2.13 CreateDisposition and CreateOptions. */
#define DISP_SUPERSEDE 0
#define DISP_OPEN 1
#define DISP_CREATE 2
#define DISP_OPEN_IF 3
#define DISP_OVERWRITE 4
#define DISP_OVERWRITE_IF 5
#define OPT_DIRECTORY 0x1u
#define OPT_NON_DIRECTORY 0x40u
#define OPT_DELETE_ON_CLOSE 0x1000u

#define FILETIME_UNIX_EPOCH 116444736000000000ull

/* The store path of a UTF-16LE share path ('\\'-separated): malloc'd, NULL when refused or the root. */
static char *store_path(const uint8_t *name16, size_t len)
{
    char *p = smb_utf16le_to_utf8(name16, len);
    if (!p)
        return NULL;
    for (char *q = p; *q; q++) {
        if (*q == '/') { /* not a separator on the wire */
            free(p);
            return NULL;
        }
        if (*q == '\\')
            *q = '/';
    }
    char *s = p;
    while (*s == '/')
        s++;
    memmove(p, s, strlen(s) + 1);
    size_t n = strlen(p);
    while (n && p[n - 1] == '/')
        p[--n] = 0;
    /* Every component non-empty, and neither "." nor "..". */
    for (const char *c = p; n && *c;) {
        size_t k = strcspn(c, "/");
        if (k == 0 || (k == 1 && c[0] == '.') || (k == 2 && c[0] == '.' && c[1] == '.')) {
            free(p);
            return NULL;
        }
        c += k + (c[k] == '/');
    }
    if (!n) {
        free(p);
        return NULL;
    }
    return p;
}

static uint64_t filetime(struct timespec t)
{
    return FILETIME_UNIX_EPOCH + (uint64_t)t.tv_sec * 10000000ull + (uint64_t)t.tv_nsec / 100u;
}

static struct timespec from_filetime(uint64_t ft)
{
    uint64_t u = ft - FILETIME_UNIX_EPOCH;
    return (struct timespec){.tv_sec = (time_t)(u / 10000000u), .tv_nsec = (long)(u % 10000000u) * 100};
}

static void put_stat_times(smb_wr *w, const struct stat *st)
{
    smb_wr_u64(w, filetime(st->st_mtim)); /* CreationTime: Linux keeps none settable */
    smb_wr_u64(w, filetime(st->st_atim));
    smb_wr_u64(w, filetime(st->st_mtim));
    smb_wr_u64(w, filetime(st->st_ctim));
    bool dir = S_ISDIR(st->st_mode);
    smb_wr_u64(w, dir ? 0 : (uint64_t)st->st_blocks * 512u);
    smb_wr_u64(w, dir ? 0 : (uint64_t)st->st_size);
    smb_wr_u32(w, dir ? 0x10 : 0x80);
}

void hs_store_put_times(smb_wr *w, const hs_open *o)
{
    struct stat st;
    if (fstat(o->fd, &st) != 0)
        memset(&st, 0, sizeof st);
    put_stat_times(w, &st);
}

/* The status for an errno of the store. */
static uint32_t status_of(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return HS_STATUS_PATH_NOT_FOUND;
    case EEXIST:
        return HS_STATUS_COLLISION;
    case ENOTEMPTY:
        return HS_STATUS_NOT_EMPTY;
    case ENOSPC:
        return HS_STATUS_DISK_FULL;
    case ENAMETOOLONG:
        return HS_STATUS_OBJECT_NAME_INVALID;
    default:
        return HS_STATUS_ACCESS_DENIED;
    }
}

/* The directory that would hold p exists (the root always does). */
static bool parent_exists(const hs_conn *c, const char *p)
{
    const char *slash = strrchr(p, '/');
    if (!slash)
        return true;
    char *parent = strndup(p, (size_t)(slash - p));
    struct stat st;
    bool ok = parent && fstatat(c->store, parent, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    free(parent);
    return ok;
}

bool hs_store_create(hs_conn *c, const hs_req *req, const uint8_t *name16, size_t len, uint32_t disposition,
                     uint32_t options)
{
    char *p = store_path(name16, len);
    if (!p)
        return hs_reply_status(c, req, HS_STATUS_OBJECT_NAME_INVALID);
    int slot = -1;
    for (int i = 0; i < HS_MAX_OPENS && slot < 0; i++)
        if (!c->opens[i].used)
            slot = i;
    struct stat st;
    bool exists = fstatat(c->store, p, &st, AT_SYMLINK_NOFOLLOW) == 0;
    bool dir = exists ? S_ISDIR(st.st_mode) : (options & OPT_DIRECTORY) != 0;
    bool overwrite = disposition == DISP_SUPERSEDE || disposition == DISP_OVERWRITE || disposition == DISP_OVERWRITE_IF;
    uint32_t status = HS_STATUS_SUCCESS, action = 1; /* FILE_OPENED */
    if (slot < 0 || (exists && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)))
        status = HS_STATUS_ACCESS_DENIED;
    else if (!exists && (disposition == DISP_OPEN || disposition == DISP_OVERWRITE))
        status = parent_exists(c, p) ? HS_STATUS_NOT_FOUND : HS_STATUS_PATH_NOT_FOUND;
    else if (exists && disposition == DISP_CREATE)
        status = HS_STATUS_COLLISION;
    else if (exists && (options & OPT_DIRECTORY) && !dir)
        status = HS_STATUS_NOT_A_DIRECTORY;
    else if (exists && (options & OPT_NON_DIRECTORY) && dir)
        status = HS_STATUS_IS_A_DIRECTORY;
    else if (exists && dir && overwrite)
        status = HS_STATUS_INVALID_PARAMETER;
    if (status == HS_STATUS_SUCCESS && !exists) {
        action = 2; /* FILE_CREATED */
        int fd = -1;
        if (dir ? mkdirat(c->store, p, 0755) != 0 : (fd = openat(c->store, p, O_RDWR | O_CREAT | O_EXCL, 0644)) < 0)
            status = status_of(errno);
        if (fd >= 0)
            close(fd);
    } else if (status == HS_STATUS_SUCCESS && overwrite) {
        action = disposition == DISP_SUPERSEDE ? 0 : 3; /* FILE_SUPERSEDED, FILE_OVERWRITTEN */
    }
    int fd = -1;
    if (status == HS_STATUS_SUCCESS) {
        fd = openat(c->store, p, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR | (action != 1 && action != 2 ? O_TRUNC : 0)) |
                                     O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            status = status_of(errno);
    }
    if (status != HS_STATUS_SUCCESS) {
        free(p);
        return hs_reply_status(c, req, status);
    }
    c->opens[slot] = (hs_open){.used = true, .node = -1, .fd = fd, .dir = dir,
                               .delete_on_close = (options & OPT_DELETE_ON_CLOSE) != 0, .spath = p};
    c->last_fid = (smb2_fileid){(uint64_t)slot + 1, (uint64_t)slot + 1 + 0x100};
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 89); /* StructureSize (MS-SMB2 2.2.14) */
    smb_wr_u8(&w, 0);   /* OplockLevel */
    smb_wr_u8(&w, 0);
    smb_wr_u32(&w, action);
    hs_store_put_times(&w, &c->opens[slot]);
    smb_wr_u32(&w, 0);
    smb_wr_u64(&w, c->last_fid.persistent);
    smb_wr_u64(&w, c->last_fid.volatile_);
    smb_wr_u32(&w, 0); /* no create contexts */
    smb_wr_u32(&w, 0);
    smb_wr_zero(&w, 8);
    return hs_send(c, req, &w, false);
}

bool hs_store_read(hs_conn *c, const hs_req *req, hs_open *o, uint32_t length, uint64_t offset)
{
    if (o->dir)
        return hs_reply_status(c, req, HS_STATUS_INVALID_PARAMETER);
    if (length > HS_MAX_IO)
        length = HS_MAX_IO;
    uint8_t *buf = malloc(length ? length : 1);
    ssize_t n = buf ? pread(o->fd, buf, length, (off_t)offset) : -1;
    if (n <= 0) {
        free(buf);
        return hs_reply_status(c, req, n == 0 ? HS_STATUS_END_OF_FILE : HS_STATUS_ACCESS_DENIED);
    }
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 17); /* StructureSize (MS-SMB2 2.2.20) */
    smb_wr_u8(&w, 80);  /* DataOffset */
    smb_wr_u8(&w, 0);
    smb_wr_u32(&w, (uint32_t)n); /* DataLength */
    smb_wr_u32(&w, 0);
    smb_wr_u32(&w, 0);
    smb_wr_bytes(&w, buf, (size_t)n);
    free(buf);
    return hs_send(c, req, &w, false);
}

/* WRITE (MS-SMB2 2.2.21): short-write takes the first half (rounded up) and says so in Count (2.2.22). */
bool hs_store_write(hs_conn *c, const hs_req *req)
{
    smb_rd r = hs_req_at(req, 2);
    uint16_t data_off = smb_rd_u16(&r);
    uint32_t length = smb_rd_u32(&r);
    uint64_t offset = smb_rd_u64(&r);
    hs_open *o = hs_find_open(c, &r);
    smb_rd all;
    smb_rd_init(&all, req->msg, req->len);
    smb_rd data = smb_rd_sub(&all, data_off, length);
    if (!o || o->node >= 0 || o->dir)
        return hs_reply_status(c, req, o ? HS_STATUS_ACCESS_DENIED : HS_STATUS_INVALID_HANDLE);
    if (!smb_rd_ok(&r) || !smb_rd_ok(&data) || length > HS_MAX_IO || offset > INT64_MAX - HS_MAX_IO)
        return hs_reply_status(c, req, HS_STATUS_INVALID_PARAMETER);
    uint32_t count = c->mode == HS_SHORT_WRITE ? length - length / 2 : length;
    for (uint32_t done = 0; done < count;) {
        ssize_t n = pwrite(o->fd, data.base + done, count - done, (off_t)(offset + done));
        if (n <= 0)
            return hs_reply_status(c, req, n < 0 ? status_of(errno) : HS_STATUS_DISK_FULL);
        done += (uint32_t)n;
    }
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 17); /* StructureSize (MS-SMB2 2.2.22) */
    smb_wr_u16(&w, 0);
    smb_wr_u32(&w, count);
    smb_wr_u32(&w, 0); /* Remaining */
    smb_wr_u32(&w, 0); /* WriteChannelInfoOffset, WriteChannelInfoLength */
    return hs_send(c, req, &w, false);
}

bool hs_store_query_info(hs_conn *c, const hs_req *req, hs_open *o, uint8_t cls)
{
    struct stat st;
    if (fstat(o->fd, &st) != 0)
        return hs_reply_status(c, req, status_of(errno));
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 9); /* StructureSize (MS-SMB2 2.2.38) */
    smb_wr_u16(&w, 72);
    size_t len_at = smb_wr_reserve(&w, 4);
    bool dir = S_ISDIR(st.st_mode);
    switch (cls) {
    case 4: /* FileBasicInformation */
        smb_wr_u64(&w, filetime(st.st_mtim));
        smb_wr_u64(&w, filetime(st.st_atim));
        smb_wr_u64(&w, filetime(st.st_mtim));
        smb_wr_u64(&w, filetime(st.st_ctim));
        smb_wr_u32(&w, dir ? 0x10 : 0x80);
        smb_wr_u32(&w, 0);
        break;
    case 5: /* FileStandardInformation */
        smb_wr_u64(&w, dir ? 0 : (uint64_t)st.st_blocks * 512u);
        smb_wr_u64(&w, dir ? 0 : (uint64_t)st.st_size);
        smb_wr_u32(&w, 1);
        smb_wr_u8(&w, o->delete_on_close);
        smb_wr_u8(&w, dir);
        smb_wr_u16(&w, 0);
        break;
    case 6: /* FileInternalInformation */
        smb_wr_u64(&w, (uint64_t)st.st_ino + 1000000u);
        break;
    case 34: /* FileNetworkOpenInformation */
        put_stat_times(&w, &st);
        smb_wr_u32(&w, 0);
        break;
    default:
        smb_wr_free(&w);
        fprintf(stderr, "hostile_smbd: QUERY_INFO class %u not supported in the store\n", cls);
        return hs_reply_status(c, req, HS_STATUS_NOT_SUPPORTED);
    }
    smb_wr_put_u32(&w, len_at, (uint32_t)(w.len - 72));
    return hs_send(c, req, &w, false);
}

/* FileRenameInformation (MS-FSCC 2.4.42.2): the new name is a full share path. */
static uint32_t store_rename(hs_conn *c, hs_open *o, smb_rd *in)
{
    bool replace = smb_rd_u8(in) != 0;
    smb_rd_skip(in, 15); /* Reserved, RootDirectory */
    uint32_t len = smb_rd_u32(in);
    const uint8_t *name = smb_rd_ptr(in, len);
    if (!smb_rd_ok(in))
        return HS_STATUS_INVALID_PARAMETER;
    char *to = store_path(name, len);
    if (!to)
        return HS_STATUS_OBJECT_NAME_INVALID;
    if (hs_lookup(name, len) >= 0) {
        free(to);
        return HS_STATUS_ACCESS_DENIED; /* over the fixed tree */
    }
    int rc = replace ? renameat(c->store, o->spath, c->store, to)
                     : renameat2(c->store, o->spath, c->store, to, RENAME_NOREPLACE);
    if (rc != 0) {
        uint32_t st = errno == EEXIST ? HS_STATUS_COLLISION : status_of(errno);
        free(to);
        return st;
    }
    free(o->spath);
    o->spath = to;
    return HS_STATUS_SUCCESS;
}

/* FileBasicInformation (MS-FSCC 2.4.7): the last access and write times (0 and -1: unchanged). */
static uint32_t store_set_times(hs_open *o, smb_rd *in)
{
    smb_rd_skip(in, 8); /* CreationTime: not kept */
    uint64_t at = smb_rd_u64(in), wt = smb_rd_u64(in);
    if (!smb_rd_ok(in))
        return HS_STATUS_INVALID_PARAMETER;
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
    if (at && at != UINT64_MAX && at >= FILETIME_UNIX_EPOCH)
        ts[0] = from_filetime(at);
    if (wt && wt != UINT64_MAX && wt >= FILETIME_UNIX_EPOCH)
        ts[1] = from_filetime(wt);
    return futimens(o->fd, ts) == 0 ? HS_STATUS_SUCCESS : status_of(errno);
}

bool hs_store_set_info(hs_conn *c, const hs_req *req)
{
    smb_rd r = hs_req_at(req, 2);
    uint8_t type = smb_rd_u8(&r), cls = smb_rd_u8(&r);
    uint32_t len = smb_rd_u32(&r);
    uint16_t off = smb_rd_u16(&r);
    smb_rd_skip(&r, 6); /* Reserved, AdditionalInformation */
    hs_open *o = hs_find_open(c, &r);
    smb_rd all;
    smb_rd_init(&all, req->msg, req->len);
    smb_rd in = smb_rd_sub(&all, off, len);
    if (!o)
        return hs_reply_status(c, req, HS_STATUS_INVALID_HANDLE);
    if (o->node >= 0 || c->store < 0)
        return hs_reply_status(c, req, HS_STATUS_ACCESS_DENIED); /* the fixed tree is read-only */
    if (smb_rd_ok(&r) && type == SMB_INFO_SECURITY) /* the store keeps no security descriptors; sd-changed says it does */
        return hs_reply_status(c, req, c->mode == HS_SD_CHANGED ? HS_STATUS_SUCCESS : HS_STATUS_NOT_SUPPORTED);
    if (!smb_rd_ok(&r) || !smb_rd_ok(&in) || type != SMB_INFO_FILE)
        return hs_reply_status(c, req, HS_STATUS_INVALID_PARAMETER);
    uint32_t status;
    switch (cls) {
    case 4:
        status = store_set_times(o, &in);
        break;
    case 10:
        status = store_rename(c, o, &in);
        break;
    case 13: /* FileDispositionInformation */
        o->delete_on_close = smb_rd_u8(&in) != 0;
        status = smb_rd_ok(&in) ? HS_STATUS_SUCCESS : HS_STATUS_INVALID_PARAMETER;
        break;
    case 19: /* FileAllocationInformation: nothing to reserve */
        status = HS_STATUS_SUCCESS;
        break;
    case 20: { /* FileEndOfFileInformation */
        uint64_t eof = smb_rd_u64(&in);
        if (!smb_rd_ok(&in) || o->dir || eof > INT64_MAX)
            status = HS_STATUS_INVALID_PARAMETER;
        else
            status = ftruncate(o->fd, (off_t)eof) == 0 ? HS_STATUS_SUCCESS : status_of(errno);
        break;
    }
    default:
        fprintf(stderr, "hostile_smbd: SET_INFO class %u not supported in the store\n", cls);
        status = HS_STATUS_NOT_SUPPORTED;
    }
    if (status != HS_STATUS_SUCCESS)
        return hs_reply_status(c, req, status);
    smb_wr w;
    hs_rsp_begin(&w, c, req, HS_STATUS_SUCCESS);
    smb_wr_u16(&w, 2); /* StructureSize (MS-SMB2 2.2.40) */
    return hs_send(c, req, &w, false);
}

void hs_store_close(hs_conn *c, hs_open *o)
{
    if (o->delete_on_close)
        unlinkat(c->store, o->spath, o->dir ? AT_REMOVEDIR : 0);
    if (o->fd >= 0)
        close(o->fd);
    free(o->spath);
    o->spath = NULL;
    o->fd = -1;
}

uint64_t hs_store_size(const hs_open *o)
{
    struct stat st;
    return fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

void hs_store_list(hs_conn *c, const hs_open *o, smb_wr *w, size_t *prev)
{
    int fd = o->node < 0 ? openat(o->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : dup(c->store);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    rewinddir(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        size_t len16 = 0;
        uint8_t *u8 = smb_utf8_to_utf16le(de->d_name, strlen(de->d_name), &len16);
        if (!u8 || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || len16 / 2 > 255) {
            free(u8);
            continue;
        }
        uint16_t name[255];
        for (size_t i = 0; i < len16 / 2; i++)
            name[i] = smb_le16(u8 + 2 * i);
        free(u8);
        bool dir = S_ISDIR(st.st_mode);
        hs_link(w, prev, hs_put_entry(w, name, len16 / 2, dir, dir ? 0 : (uint64_t)st.st_size,
                                      (uint64_t)st.st_ino + 1000000u));
    }
    closedir(d);
}

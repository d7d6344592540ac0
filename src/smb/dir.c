/*
 * Directory listings: QUERY_DIRECTORY with continuation (MS-SMB2
 * 3.2.4.17), one batch at a time, FileIdFullDirectoryInformation entries.
 *
 * A listing that never ends is stopped in two ways, in constant memory: a
 * page that repeats an earlier one (same names and FileIndex values, in
 * any order) is caught by Brent's cycle detection over page digests, and
 * a server that keeps sending new names is stopped at max_dir_entries.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include <smbcopy/ntstatus.h>
#include "objects.h"
#include "open.h"
#include "utf16.h"

/* Ask for up to this much per round trip (bounded by MaxTransactSize). */
#define DIR_BATCH (1u << 20)
/* Entries one listing may bring when smb_conn_opts.max_dir_entries is 0. */
#define DEFAULT_MAX_DIR_ENTRIES 10000000ull

struct smb_dir {
    smb_open *op;
    uint8_t *pattern;   /* UTF-16LE */
    size_t pattern_len;
    smb_req *batch;     /* response holding the current entries */
    const uint8_t *buf; /* entries inside batch */
    size_t buf_len;
    size_t pos;
    bool first;
    bool end;
    char *name;         /* the last returned name */
    uint64_t entries;   /* entries brought so far (not "." and "..") */
    uint64_t max;       /* ... and the most allowed */
    /* Brent's cycle detection over page digests: the digest kept, and when to keep a new one. */
    uint64_t kept;
    bool have_kept;
    uint64_t power, since;
};

smb_dir *smb_dir_start(smb_open *op, const char *pattern, smb_error *err)
{
    SMB_OPEN_CHECK(op);
    smb_dir *d = calloc(1, sizeof *d);
    if (!d) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    const char *p = pattern && *pattern ? pattern : "*";
    d->pattern = smb_utf8_to_utf16le(p, strlen(p), &d->pattern_len);
    if (!d->pattern) {
        free(d);
        smb_err_set(err, SMB_ERR_BAD_NAME, 0, "pattern is not valid UTF-8");
        return NULL;
    }
    d->op = op;
    d->first = true;
    d->pos = SIZE_MAX;
    uint64_t max = op->tree->sess->conn->opts.max_dir_entries;
    d->max = max ? max : DEFAULT_MAX_DIR_ENTRIES;
    d->power = 1;
    return d;
}

/* A 64-bit mix (the SplitMix64 finaliser): spreads an entry's hash before the page sums it. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/*
 * A digest of a page: each entry's FileIndex and name (FNV-1a), mixed and
 * summed, so that the same entries in another order give the same digest.
 * A malformed entry ends the digest (the listing fails on it anyway).
 */
static uint64_t page_digest(const uint8_t *buf, size_t len)
{
    uint64_t sum = 0, n = 0;
    size_t pos = 0;
    smb2_dirent de;
    while (smb2_dirent_next(buf, len, &pos, &de) == 1) {
        uint64_t h = 0xcbf29ce484222325ull;
        for (int i = 0; i < 4; i++)
            h = (h ^ ((de.file_index >> (8 * i)) & 0xff)) * 0x100000001b3ull;
        for (size_t i = 0; i < de.name_utf16.len; i++)
            h = (h ^ de.name_utf16.data[i]) * 0x100000001b3ull;
        sum += mix64(h);
        n++;
    }
    return mix64(sum ^ mix64(n));
}

/*
 * True when this page repeats one seen before in a cycle (Brent): the
 * digest kept is replaced at powers of two, so any cycle of pages, however
 * long and wherever it starts, meets its kept page again.
 */
static bool page_repeats(smb_dir *d, uint64_t digest)
{
    if (d->have_kept && digest == d->kept)
        return true;
    if (!d->have_kept || ++d->since == d->power) {
        d->kept = digest;
        d->have_kept = true;
        d->power *= 2;
        d->since = 0;
    }
    return false;
}

/* Fetch the next batch. Returns 1 with entries, 0 at the end, or an error. */
static int fetch(smb_dir *d, smb_error *err)
{
    smb_req_free(d->batch);
    d->batch = NULL;
    d->buf = NULL;
    d->buf_len = 0;
    smb_conn *c = d->op->tree->sess->conn;
    /* Charged by its size (MS-SMB2 3.2.4.1.5): no more than the credits held pay for. */
    uint32_t batch = smb_conn_request_cap(c, c->neg.max_transact < DIR_BATCH ? c->neg.max_transact : DIR_BATCH);
    smb_req *r = smb_tree_req(d->op->tree, SMB2_QUERY_DIRECTORY);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_query_dir_req q = {
        .info_class = SMB2_FILE_ID_FULL_DIRECTORY_INFORMATION,
        .flags = d->first ? SMB2_RESTART_SCANS : 0,
        .fid = d->op->fid,
        .pattern_utf16 = d->pattern,
        .pattern_len = d->pattern_len,
        .output_buffer_length = batch,
    };
    smb2_query_dir_req_encode(smb_req_body(r), &q);
    r->expect_len = q.output_buffer_length;
    bool first = d->first;
    d->first = false;
    int rc = smb_req_send(r, err);
    if (rc == 0)
        rc = smb_req_wait(r, err);
    if (rc != 0) {
        smb_req_free(r);
        return rc;
    }
    /*
     * The first query of a handle that nothing matches is answered
     * STATUS_NO_SUCH_FILE (MS-SMB2 3.3.5.18); a later one (a scan restarted),
     * STATUS_NO_MORE_FILES. Either is an empty listing.
     */
    if (r->status == SMB_STATUS_NO_MORE_FILES || (first && r->status == SMB_STATUS_NO_SUCH_FILE)) {
        smb_req_free(r);
        d->end = true;
        return 0;
    }
    if (r->status != SMB_STATUS_SUCCESS) {
        rc = smb_req_status_error(r, "list directory", err);
        smb_req_free(r);
        return rc;
    }
    smb2_blob out;
    smb_rd rd = smb_req_rsp_body(r);
    if (smb2_query_dir_rsp_decode(&rd, &out) != 0) {
        smb_req_free(r);
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed QUERY_DIRECTORY response");
    }
    d->batch = r;
    d->buf = out.data;
    d->buf_len = out.len;
    d->pos = 0;
    if (!out.len) {
        d->end = true;
        return 0;
    }
    if (page_repeats(d, page_digest(out.data, out.len))) {
        d->end = true;
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server repeated the same entries");
    }
    return 1;
}

static bool is_dot_name(const smb2_blob *n)
{
    const uint8_t *p = n->data;
    return (n->len == 2 && p[0] == '.' && p[1] == 0) ||
           (n->len == 4 && p[0] == '.' && p[1] == 0 && p[2] == '.' && p[3] == 0);
}

int smb_dir_next(smb_dir *d, smb_dirent *ent, smb_error *err)
{
    for (;;) {
        if (d->end)
            return 0;
        if (d->pos == SIZE_MAX || !d->buf) {
            int rc = fetch(d, err);
            if (rc <= 0)
                return rc;
        }
        smb2_dirent de;
        int rc = smb2_dirent_next(d->buf, d->buf_len, &d->pos, &de);
        if (rc < 0) {
            d->end = true;
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed directory listing from the server");
        }
        if (rc == 0) {
            d->pos = SIZE_MAX;
            continue;
        }
        if (is_dot_name(&de.name_utf16))
            continue;
        if (++d->entries > d->max) {
            d->end = true;
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server sent more than %llu entries",
                               (unsigned long long)d->max);
        }
        free(d->name);
        d->name = smb_utf16le_to_utf8(de.name_utf16.data, de.name_utf16.len);
        if (!d->name || !*d->name)
            return smb_err_set(err, SMB_ERR_BAD_NAME, 0,
                               "server sent a directory entry with an empty or undecodable name (skipped)");
        memset(ent, 0, sizeof *ent);
        ent->name = d->name;
        smb_file_info_from_times(&ent->info, &de.times);
        ent->info.file_id = de.file_id;
        return 1;
    }
}

void smb_dir_finish(smb_dir *d)
{
    if (!d)
        return;
    smb_req_free(d->batch);
    free(d->pattern);
    free(d->name);
    free(d);
}

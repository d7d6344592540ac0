/*
 * READ and WRITE (MS-SMB2 3.2.4.6, 3.2.4.7): asynchronous submissions and
 * the pipelined pread/pwrite built on them.
 */
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "credits.h"
#include "error.h"
#include <smbcopy/ntstatus.h>
#include "objects.h"

/* One request of an io: length bytes at offset (relative to the io's start). */
typedef struct io_part {
    smb_req *req;
    size_t at;
    size_t len;
} io_part;

/*
 * A READ or WRITE of any length: as many requests as the server's limits
 * and the credits held ask for (smb_open_max_read/smb_open_max_write), all
 * in flight at once.
 */
struct smb_io {
    bool is_read;
    smb_open *op;
    /* A WRITE from memory: a part the server takes in part is continued. */
    const uint8_t *buf;
    size_t len;
    uint64_t offset;
    io_part *parts;  /* &one_part, or allocated when the io needs more than one request */
    size_t nparts, cap;
    io_part one_part; /* the common case: no allocation beyond the io itself per transfer chunk */
};

/* Free io and its parts array. */
static void io_free(smb_io *io)
{
    if (io->parts != &io->one_part)
        free(io->parts);
    free(io);
}

/*
 * Build and send one READ into buf, or WRITE of buf (or, with fd >= 0, of
 * the file open as fd from fd_offset, sent with sendfile). NULL on error;
 * *short_of_credits when it was not sent because its charge is more than
 * the connection can get.
 */
static smb_req *send_one(smb_open *op, bool is_read, void *buf, int fd, uint64_t fd_offset, size_t len,
                         uint64_t offset, bool *short_of_credits, smb_error *err)
{
    *short_of_credits = false;
    smb_req *r = smb_tree_req(op->tree, is_read ? SMB2_READ : SMB2_WRITE);
    if (!r) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    if (is_read) {
        smb2_read_req rr = {.length = (uint32_t)len, .offset = offset, .fid = op->fid};
        smb2_read_req_encode(smb_req_body(r), &rr);
        r->read_buf = buf;
        r->read_cap = len;
        r->expect_len = (uint32_t)len;
    } else {
        smb2_write_req wr = {.length = (uint32_t)len, .offset = offset, .fid = op->fid};
        smb2_write_req_encode(smb_req_body(r), &wr);
        r->payload = buf;
        r->payload_len = len;
        r->payload_from_fd = fd >= 0;
        r->payload_fd = fd;
        r->payload_fd_off = fd_offset;
        r->charge_bytes = len;
    }
    if (smb_req_send(r, err) != 0) {
        *short_of_credits = r->credit_short;
        smb_req_free(r);
        return NULL;
    }
    return r;
}

/* Wait for r (a READ or WRITE), take its count into *n and free it. */
static int finish(smb_req *r, bool is_read, size_t *n, smb_error *err);

/* Wait for and free every part still held (after a failure to submit them all). */
static void drop_parts(smb_io *io)
{
    for (size_t i = 0; i < io->nparts; i++) {
        size_t n;
        smb_error e2;
        finish(io->parts[i].req, io->is_read, &n, &e2);
    }
    io_free(io);
}

/* Room for one more part. The first growth leaves the inline part for an
 * array sized for the whole io (whole_io parts); later ones double. */
static bool grow_parts(smb_io *io, size_t whole_io)
{
    if (io->parts != &io->one_part)
        return ARRAY_RESERVE(io->parts, io->cap, io->nparts + 1, whole_io);
    size_t cap = whole_io > io->nparts + 1 ? whole_io : io->nparts + 1;
    io_part *heap = calloc(cap, sizeof *heap);
    if (!heap)
        return false;
    heap[0] = io->one_part; /* cap was 1: the one part so far */
    io->parts = heap;
    io->cap = cap;
    return true;
}

/*
 * Start a READ into buf or a WRITE of buf (or of fd from fd_offset) of len
 * bytes at offset: split into requests of at most the open's limit, which
 * shrinks when the server grants fewer credits than a request needs.
 */
static smb_io *submit(smb_open *op, bool is_read, void *buf, int fd, uint64_t fd_offset, size_t len, uint64_t offset,
                      smb_error *err)
{
    if (!op || (!buf && fd < 0 && len)) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no buffer for a %s of %zu bytes", is_read ? "read" : "write", len);
        return NULL;
    }
    if (len > UINT64_MAX - offset) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "%s of %zu bytes at offset %llu runs past the largest offset",
                    is_read ? "read" : "write", len, (unsigned long long)offset);
        return NULL;
    }
    smb_io *io = calloc(1, sizeof *io);
    if (!io) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    *io = (smb_io){.is_read = is_read, .op = op, .buf = !is_read && fd < 0 ? buf : NULL, .len = len, .offset = offset,
                   .cap = 1};
    io->parts = &io->one_part;
    size_t chunk = is_read ? smb_open_max_read(op) : smb_open_max_write(op);
    if (chunk == 0)
        chunk = SMB_CREDIT_UNIT; /* never 0 (a negotiated size is at least one unit); keeps the loop finite */
    size_t at = 0;
    do {
        size_t n = len - at < chunk ? len - at : chunk;
        if (io->nparts == io->cap && !grow_parts(io, len / chunk + 1)) {
            smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            drop_parts(io);
            return NULL;
        }
        bool short_of_credits;
        smb_req *r = send_one(op, is_read, buf ? (uint8_t *)buf + at : NULL, fd, fd_offset + at, n, offset + at,
                              &short_of_credits, err);
        if (!r && short_of_credits && n > SMB_CREDIT_UNIT) {
            /* The server now grants fewer credits than it did: smaller requests. */
            size_t now = is_read ? smb_open_max_read(op) : smb_open_max_write(op);
            chunk = now < n ? now : n / 2;
            continue;
        }
        if (!r) {
            drop_parts(io);
            return NULL;
        }
        io->parts[io->nparts++] = (io_part){.req = r, .at = at, .len = n};
        at += n;
    } while (at < len);
    return io;
}

smb_io *smb_read_submit(smb_open *op, void *buf, size_t len, uint64_t offset, smb_error *err)
{
    SMB_OPEN_CHECK(op);
    return submit(op, true, buf, -1, 0, len, offset, err);
}

smb_io *smb_write_submit(smb_open *op, const void *buf, size_t len, uint64_t offset, smb_error *err)
{
    SMB_OPEN_CHECK(op);
    return submit(op, false, (void *)buf, -1, 0, len, offset, err);
}

bool smb_open_sends_plain(const smb_open *op)
{
    return op && !op->is_dir && !op->tree->sec.signing && !op->tree->sec.encrypt;
}

smb_io *smb_write_submit_fd(smb_open *op, int fd, uint64_t fd_offset, size_t len, uint64_t offset, smb_error *err)
{
    SMB_OPEN_CHECK(op);
    if (!smb_open_sends_plain(op) || fd < 0) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "cannot send %zu bytes of a file on this open", len);
        return NULL;
    }
    return submit(op, false, NULL, fd, fd_offset, len, offset, err);
}

int smb_io_cancel(smb_io *io, smb_error *err)
{
    if (!io)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no io");
    int rc = 0;
    for (size_t i = 0; i < io->nparts; i++) {
        int prc = smb_req_cancel(io->parts[i].req, err);
        if (rc == 0)
            rc = prc;
    }
    return rc;
}

static int finish(smb_req *r, bool is_read, size_t *n, smb_error *err)
{
    *n = 0;
    int rc = smb_req_wait(r, err);
    if (rc == 0 && r->payload_short)
        rc = smb_err_set(err, SMB_ERR_SERVER, 0, "the source file became shorter during the copy, or could not be read");
    if (rc == 0) {
        if (is_read && r->status == SMB_STATUS_END_OF_FILE) {
            *n = 0;
        } else if (r->status != SMB_STATUS_SUCCESS) {
            rc = smb_req_status_error(r, is_read ? "read" : "write", err);
        } else if (is_read) {
            *n = r->read_len;
        } else {
            uint32_t count = 0;
            smb_rd rd = smb_req_rsp_body(r);
            if (smb2_write_rsp_decode(&rd, &count) != 0 || count > r->payload_len)
                rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed WRITE response");
            else
                *n = count;
        }
    }
    smb_req_free(r);
    return rc;
}

/*
 * Wait for one part of a WRITE from memory and write what the server did
 * not take of it: a WRITE taken in part (MS-SMB2 3.3.5.13: Count below
 * Length) leaves the rest to be written at offset + Count, until every
 * byte is or the server takes none. *done receives the part's bytes.
 */
static int wait_part(smb_io *io, const io_part *p, size_t *done, smb_error *err)
{
    size_t n = 0;
    int rc = finish(p->req, io->is_read, &n, err);
    *done = n;
    while (rc == 0 && io->buf && *done < p->len) {
        if (n == 0) {
            rc = smb_err_set(err, SMB_ERR_SERVER, 0, "the server wrote 0 of the %zu bytes at offset %llu",
                             p->len - *done, (unsigned long long)(io->offset + p->at + *done));
            break;
        }
        smb_io *rest = submit(io->op, false, (void *)(io->buf + p->at + *done), -1, 0, p->len - *done,
                              io->offset + p->at + *done, err);
        if (!rest) {
            rc = err->code ? err->code : SMB_ERR_NO_MEMORY;
            break;
        }
        rc = smb_io_wait(rest, &n, err);
        *done += n;
    }
    return rc;
}

int smb_io_wait(smb_io *io, size_t *bytes, smb_error *err)
{
    if (!io)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "no io");
    smb_error local = {0};
    if (!err)
        err = &local;
    /*
     * Every part is waited for. The count is that of the parts up to the
     * first one short of its length (the end of the file for a READ; for a
     * WRITE from a file, where the caller writes the rest from there).
     */
    size_t total = 0;
    bool ended = false;
    int rc = 0;
    for (size_t i = 0; i < io->nparts; i++) {
        const io_part *p = &io->parts[i];
        size_t n = 0;
        smb_error e2 = {0};
        int prc = rc ? finish(p->req, io->is_read, &n, &e2) : wait_part(io, p, &n, err);
        if (rc || prc) {
            if (!rc)
                rc = prc;
            continue;
        }
        if (!ended)
            total += n;
        if (n < p->len)
            ended = true;
    }
    if (bytes)
        *bytes = rc == 0 ? total : 0;
    io_free(io);
    return rc;
}

/* Default number of requests kept in flight by smb_pread/smb_pwrite. */
#define DEFAULT_WINDOW 8
#define MAX_WINDOW 64

/*
 * Shared pipeline: keep up to `window` chunk-sized requests in flight, wait
 * for the oldest, refill. A short read ends the file: later chunks are
 * drained and ignored.
 */
static int pipeline(smb_open *op, bool is_read, uint8_t *buf, size_t len, uint64_t offset, unsigned window,
                    size_t *done_out, smb_error *err)
{
    smb_error local;
    if (!err)
        err = &local;
    if (!window)
        window = DEFAULT_WINDOW;
    if (window > MAX_WINDOW)
        window = MAX_WINDOW;
    size_t chunk = is_read ? smb_open_max_read(op) : smb_open_max_write(op);
    if (chunk == 0)
        chunk = SMB_CREDIT_UNIT;
    smb_io *ring[MAX_WINDOW];
    size_t ring_len[MAX_WINDOW];
    unsigned head = 0, count = 0;
    size_t submitted = 0, done = 0;
    bool eof = false;
    int rc = 0;
    while ((submitted < len && !eof && rc == 0) || count) {
        while (rc == 0 && !eof && submitted < len && count < window) {
            size_t n = len - submitted < chunk ? len - submitted : chunk;
            smb_io *io = submit(op, is_read, buf + submitted, -1, 0, n, offset + submitted, err);
            if (!io) {
                rc = err->code;
                break;
            }
            unsigned slot = (head + count) % MAX_WINDOW;
            ring[slot] = io;
            ring_len[slot] = n;
            count++;
            submitted += n;
        }
        if (!count)
            break;
        size_t got = 0;
        smb_error e2;
        int wrc = smb_io_wait(ring[head], &got, rc ? &e2 : err);
        (void)e2;
        size_t want = ring_len[head];
        head = (head + 1) % MAX_WINDOW;
        count--;
        if (rc)
            continue; /* draining after an error */
        if (wrc) {
            rc = wrc;
            continue;
        }
        if (!eof)
            done += got;
        if (got < want) {
            if (!is_read) /* smb_io_wait wrote the rest of a short WRITE: never here */
                rc = smb_err_set(err, SMB_ERR_PROTOCOL, 0, "server wrote %zu of %zu bytes", got, want);
            eof = true;
        }
    }
    if (done_out)
        *done_out = done;
    return rc;
}

int smb_pread(smb_open *op, void *buf, size_t len, uint64_t offset, unsigned window, size_t *nread, smb_error *err)
{
    return pipeline(op, true, buf, len, offset, window, nread, err);
}

int smb_pwrite(smb_open *op, const void *buf, size_t len, uint64_t offset, unsigned window, smb_error *err)
{
    return pipeline(op, false, (uint8_t *)buf, len, offset, window, NULL, err);
}

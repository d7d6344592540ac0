/*
 * Cuts frames recorded by fuzz_seed_recorder into seeds for the fuzz
 * targets, using the library's own decoders: the frame itself (frame or
 * transform), each compounded message by its Command (negotiate,
 * session_setup, tree_connect, create, query_info, ioctl, simple_rsp), the
 * QUERY_DIRECTORY output buffer (dirent), the NTLM CHALLENGE inside the
 * SESSION_SETUP token (ntlm_challenge) and, per connection, the NEGOTIATE
 * hint followed by the SESSION_SETUP tokens as length-prefixed chunks
 * (spnego). Seeds are named by a hash of their contents; of messages of the
 * same shape (command, status, length) only the first is kept, and no seed
 * is larger than MAX_SEED.
 *
 *   fuzz_seed_split RECORDING_DIR CORPUS_DIR
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <smbcopy/ntstatus.h>

#include "auth/spnego_token.h"
#include "frame.h"
#include "pdu.h"

#define MAX_SEED (20u * 1024)
#define MAX_SHAPES 8192

typedef struct splitter {
    const char *out;
    uint64_t shapes[MAX_SHAPES]; /* shapes already kept */
    size_t nshapes;
    unsigned conn;               /* connection of the chunks below */
    uint8_t chunks[MAX_SEED];    /* spnego seed being gathered */
    size_t chunks_len;
    size_t nchunks;
} splitter;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* True the first time a shape is seen. */
static bool new_shape(splitter *s, const char *target, uint64_t shape)
{
    uint64_t key = fnv(shape, target, strlen(target));
    for (size_t i = 0; i < s->nshapes; i++)
        if (s->shapes[i] == key)
            return false;
    if (s->nshapes < MAX_SHAPES)
        s->shapes[s->nshapes++] = key;
    return true;
}

static void save(splitter *s, const char *target, const uint8_t *p, size_t n)
{
    if (n == 0 || n > MAX_SEED)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->out, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "seed_split: cannot create %s: %s\n", path, strerror(errno));
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%016llx", s->out, target, (unsigned long long)fnv(0xcbf29ce484222325ull, p, n));
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n) {
        fprintf(stderr, "seed_split: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void save_shaped(splitter *s, const char *target, uint64_t shape, const uint8_t *p, size_t n)
{
    if (n <= MAX_SEED && new_shape(s, target, shape))
        save(s, target, p, n);
}

static void add_chunk(splitter *s, const uint8_t *p, size_t n)
{
    if (n > UINT16_MAX || s->chunks_len + 2 + n > sizeof s->chunks)
        return;
    s->chunks[s->chunks_len++] = (uint8_t)n;
    s->chunks[s->chunks_len++] = (uint8_t)(n >> 8);
    memcpy(s->chunks + s->chunks_len, p, n);
    s->chunks_len += n;
    s->nchunks++;
}

/* A connection's SPNEGO exchange is complete: the hint and at least one token. */
static void flush_chunks(splitter *s)
{
    if (s->nchunks >= 2)
        save_shaped(s, "spnego", s->chunks_len, s->chunks, s->chunks_len);
    s->chunks_len = 0;
    s->nchunks = 0;
}

static const char *target_of(uint16_t command)
{
    switch (command) {
    case SMB2_NEGOTIATE: return "negotiate";
    case SMB2_SESSION_SETUP: return "session_setup";
    case SMB2_TREE_CONNECT: return "tree_connect";
    case SMB2_CREATE: return "create";
    case SMB2_QUERY_INFO: return "query_info";
    case SMB2_IOCTL: return "ioctl";
    default: return "simple_rsp";
    }
}

static void split_message(splitter *s, const uint8_t *msg, size_t len, const smb2_hdr *h)
{
    uint64_t shape = ((uint64_t)h->command << 48) ^ ((uint64_t)h->status << 16) ^ len;
    bool ok = h->status == SMB_STATUS_SUCCESS || h->status == SMB_STATUS_MORE_PROCESSING_REQUIRED;
    save_shaped(s, ok ? target_of(h->command) : "simple_rsp", shape, msg, len);
    if (!ok)
        return;
    smb_rd rd;
    smb_rd_init(&rd, msg, len);
    smb_rd_seek(&rd, SMB2_HDR_LEN);
    if (h->command == SMB2_NEGOTIATE) {
        smb2_negotiate_rsp rsp;
        if (smb2_negotiate_rsp_decode(&rd, &rsp) == 0) {
            flush_chunks(s);
            add_chunk(s, rsp.security_buffer.data, rsp.security_buffer.len);
        }
    } else if (h->command == SMB2_SESSION_SETUP) {
        smb2_session_setup_rsp rsp;
        if (smb2_session_setup_rsp_decode(&rd, &rsp) != 0)
            return;
        add_chunk(s, rsp.token.data, rsp.token.len);
        smb_negtoken_resp t;
        if (smb_spnego_parse_resp(rsp.token.data, rsp.token.len, &t, NULL) == 0 && t.has_token &&
            t.token.len >= 8 && memcmp(t.token.p, "NTLMSSP", 8) == 0)
            save_shaped(s, "ntlm_challenge", t.token.len, t.token.p, t.token.len);
    } else if (h->command == SMB2_QUERY_DIRECTORY) {
        smb2_blob out;
        if (smb2_query_dir_rsp_decode(&rd, &out) == 0 && out.len)
            save_shaped(s, "dirent", out.len, out.data, out.len);
    }
}

static void split_frame(splitter *s, const uint8_t *frame, size_t len)
{
    if (len >= 4 && memcmp(frame, "\xFDSMB", 4) == 0) {
        save_shaped(s, "transform", len, frame, len);
        return;
    }
    uint64_t shape = 0;
    size_t off = 0, msg_len;
    smb2_hdr h;
    while (smb2_compound_next(frame, len, off, &h, &msg_len) == 0) {
        split_message(s, frame + off, msg_len, &h);
        shape = fnv(shape, &h.command, sizeof h.command);
        shape = fnv(shape, &h.status, sizeof h.status);
        shape = fnv(shape, &msg_len, sizeof msg_len);
        if (h.next_command == 0)
            break;
        off += msg_len;
    }
    save_shaped(s, "frame", shape, frame, len);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *p = n > 0 ? malloc((size_t)n) : NULL;
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    *len = p ? (size_t)n : 0;
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s RECORDING_DIR CORPUS_DIR\n", argv[0]);
        return 2;
    }
    static splitter s;
    s.out = argv[2];
    s.conn = UINT32_MAX;
    struct dirent **names;
    int n = scandir(argv[1], &names, NULL, alphasort); /* cCCCC-fFFFFF: connection, then frame order */
    if (n < 0) {
        fprintf(stderr, "seed_split: cannot read %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (int i = 0; i < n; i++) {
        unsigned conn, seq;
        if (sscanf(names[i]->d_name, "c%u-f%u.bin", &conn, &seq) == 2) {
            if (conn != s.conn)
                flush_chunks(&s);
            s.conn = conn;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[1], names[i]->d_name);
            size_t len;
            uint8_t *frame = slurp(path, &len);
            if (frame)
                split_frame(&s, frame, len);
            free(frame);
        }
        free(names[i]);
    }
    free(names);
    flush_chunks(&s);
    return 0;
}

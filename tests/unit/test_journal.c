/*
 * The checkpoint journal: records come back as written; a journal cut at any
 * byte replays exactly its complete records and takes appends after them; a
 * damaged record ends the replay there; another job's journal is refused
 * (or started over when asked); CRC-32C matches its published check value.
 * Format 2 records carry the source's change time; a format 1 journal is
 * still read (change times unknown) and rewritten as format 2; an unknown
 * format is refused, naming it. The checkpoint over it: a "done" record
 * whose change time differs says the source was rewritten in place.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/resume/checkpoint.h"
#include "engine/resume/crc32c.h"
#include "engine/resume/journal.h"

#define NREC 6

static const uint8_t job_a[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t job_b[16] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1};

/* What a replay saw. */
typedef struct seen {
    int n;
    journal_rec rec[64];
    char path[64][64], temp[64][64];
} seen;

static int collect(void *arg, const journal_rec *r)
{
    seen *s = arg;
    if (s->n >= 64)
        return 1;
    s->rec[s->n] = *r;
    snprintf(s->path[s->n], sizeof s->path[0], "%s", r->path);
    snprintf(s->temp[s->n], sizeof s->temp[0], "%s", r->temp);
    s->n++;
    return 0;
}

static journal_rec sample(int i, char *path, char *temp)
{
    sprintf(path, "dir %d/file-\xc3\xa9-%d.bin", i, i * 7);
    if (i % 2)
        sprintf(temp, "dir %d/.smbcopy-%016x.tmp", i, i * 977);
    else
        temp[0] = '\0';
    journal_rec r = {
        .type = i % 2 ? JOURNAL_RANGE_DONE : JOURNAL_FILE_DONE,
        .path = path,
        .size = 1000000000ull * (uint64_t)(i + 1),
        .mtime = 133000000000000000ull + (uint64_t)i,
        .file_id = 0xABCD0000ull + (uint64_t)i,
        .offset = i % 2 ? 33554432ull * (uint64_t)i : 0,
        .length = i % 2 ? 33554432ull : 0,
        .check = i % 2 ? 0xC0FFEE00u + (uint32_t)i : 0,
        .temp = temp,
        .change_time = 133100000000000000ull + 7919ull * (uint64_t)i,
    };
    return r;
}

static void check_record(const seen *s, int k)
{
    char path[64], temp[64];
    journal_rec want = sample(k, path, temp);
    assert_int_equal(s->rec[k].type, want.type);
    assert_string_equal(s->path[k], path);
    assert_string_equal(s->temp[k], temp);
    assert_true(s->rec[k].size == want.size && s->rec[k].mtime == want.mtime && s->rec[k].file_id == want.file_id);
    assert_true(s->rec[k].offset == want.offset && s->rec[k].length == want.length);
    assert_int_equal(s->rec[k].check, want.check);
    assert_true(s->rec[k].change_time == want.change_time);
}

static void tmp_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/smbcopy-journal-test-%d-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    int fd = mkstemp(buf);
    assert_true(fd >= 0);
    close(fd);
    unlink(buf);
}

/* Write NREC records to a new journal; return the file's size after each record. */
static void write_sample(const char *path, long sizes[NREC + 1])
{
    journal *j = NULL;
    smb_error err = {0};
    assert_int_equal(journal_open(path, job_a, false, NULL, NULL, &j, &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    sizes[0] = st.st_size;
    for (int i = 0; i < NREC; i++) {
        char p[64], t[64];
        journal_rec r = sample(i, p, t);
        assert_int_equal(journal_append(j, &r, &err), 0);
        assert_int_equal(journal_sync(j, &err), 0);
        assert_int_equal(stat(path, &st), 0);
        sizes[i + 1] = st.st_size;
        assert_true(sizes[i + 1] > sizes[i]);
    }
    assert_int_equal(journal_close(j, false, &err), 0);
}

static void test_crc32c_check_value(void **state)
{
    (void)state;
    /* The CRC-32C of "123456789" (RFC 3720 B.4 and every CRC catalogue). */
    assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
    /* Continuing a CRC over two pieces gives the CRC of the whole. */
    assert_int_equal(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
    /* RFC 3720 B.4: 32 bytes of zeros, of 0xFF, and an ascending series. */
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    assert_int_equal(crc32c(0, buf, sizeof buf), 0x8A9136AAu);
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(crc32c(0, buf, sizeof buf), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(crc32c(0, buf, sizeof buf), 0x46DD794Eu);
    assert_int_equal(crc32c_portable(0, buf, sizeof buf), 0x46DD794Eu);
}

/* The fast path and the table agree at every alignment and length (the fast one works in 8-byte words). */
static void test_crc32c_paths_agree(void **state)
{
    (void)state;
    uint8_t buf[300];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 131u + 7u);
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len + off <= sizeof buf; len += 13)
            assert_int_equal(crc32c(0x1234u, buf + off, len), crc32c_portable(0x1234u, buf + off, len));
}

static void test_records_round_trip(void **state)
{
    (void)state;
    char path[512];
    tmp_path(path, sizeof path);
    long sizes[NREC + 1];
    write_sample(path, sizes);
    seen *s = calloc(1, sizeof *s);
    journal *j = NULL;
    smb_error err = {0};
    assert_int_equal(journal_open(path, job_a, false, collect, s, &j, &err), 0);
    assert_int_equal(s->n, NREC);
    for (int k = 0; k < NREC; k++)
        check_record(s, k);
    uint64_t recs = 0, cut = 1;
    journal_replay_stats(j, &recs, &cut);
    assert_int_equal(recs, NREC);
    assert_int_equal(cut, 0);
    /* A fully successful job removes its journal. */
    assert_int_equal(journal_close(j, true, &err), 0);
    assert_int_equal(access(path, F_OK), -1);
    free(s);
}

/* Replace the file at path with the first n bytes of all. */
static void write_prefix(const char *path, const uint8_t *all, long n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(all, 1, (size_t)n, f), (size_t)n);
    fclose(f);
}

/* A crash can leave any prefix: each one replays its complete records only. */
static void test_every_truncation(void **state)
{
    (void)state;
    char path[512];
    tmp_path(path, sizeof path);
    long sizes[NREC + 1];
    write_sample(path, sizes);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *all = malloc((size_t)sizes[NREC]);
    assert_int_equal(fread(all, 1, (size_t)sizes[NREC], f), (size_t)sizes[NREC]);
    fclose(f);
    seen *s = calloc(1, sizeof *s);
    /* Inside the header: a journal being created; it starts over, empty. */
    for (long cut = 0; cut < sizes[0]; cut++) {
        write_prefix(path, all, cut);
        memset(s, 0, sizeof *s);
        journal *j = NULL;
        smb_error err = {0};
        assert_int_equal(journal_open(path, job_a, false, collect, s, &j, &err), 0);
        assert_int_equal(s->n, 0);
        assert_int_equal(journal_close(j, false, &err), 0);
    }
    for (long cut = sizes[0]; cut <= sizes[NREC]; cut++) {
        write_prefix(path, all, cut);
        int complete = 0;
        while (complete < NREC && sizes[complete + 1] <= cut)
            complete++;
        memset(s, 0, sizeof *s);
        journal *j = NULL;
        smb_error err = {0};
        assert_int_equal(journal_open(path, job_a, false, collect, s, &j, &err), 0);
        assert_int_equal(s->n, complete);
        uint64_t recs = 0, cutb = 0;
        journal_replay_stats(j, &recs, &cutb);
        assert_int_equal(cutb, (uint64_t)(cut - sizes[complete]));
        /* Appending after a torn tail: the new record follows the last good one. */
        char p[64], t[64];
        journal_rec r = sample(complete < NREC ? complete : 0, p, t);
        assert_int_equal(journal_append(j, &r, &err), 0);
        assert_int_equal(journal_close(j, false, &err), 0);
        memset(s, 0, sizeof *s);
        assert_int_equal(journal_open(path, job_a, false, collect, s, &j, &err), 0);
        assert_int_equal(s->n, complete + 1);
        if (complete < NREC)
            check_record(s, complete);
        assert_int_equal(journal_close(j, false, &err), 0);
    }
    unlink(path);
    free(all);
    free(s);
}

/* A damaged byte inside record 3 ends the replay before it. */
static void test_damaged_record(void **state)
{
    (void)state;
    char path[512];
    tmp_path(path, sizeof path);
    long sizes[NREC + 1];
    write_sample(path, sizes);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, sizes[3] + 9, SEEK_SET);
    int c = fgetc(f);
    fseek(f, sizes[3] + 9, SEEK_SET);
    fputc(c ^ 0x20, f);
    fclose(f);
    seen *s = calloc(1, sizeof *s);
    journal *j = NULL;
    smb_error err = {0};
    assert_int_equal(journal_open(path, job_a, false, collect, s, &j, &err), 0);
    assert_int_equal(s->n, 3);
    assert_int_equal(journal_close(j, false, &err), 0);
    unlink(path);
    free(s);
}

static void test_other_job_refused_or_fresh(void **state)
{
    (void)state;
    char path[512];
    tmp_path(path, sizeof path);
    long sizes[NREC + 1];
    write_sample(path, sizes);
    seen *s = calloc(1, sizeof *s);
    journal *j = NULL;
    smb_error err = {0};
    assert_int_equal(journal_open(path, job_b, false, collect, s, &j, &err), SMB_ERR_INVALID_ARG);
    assert_null(j);
    assert_non_null(strstr(err.message, "another job"));
    assert_int_equal(s->n, 0);
    /*
     * --no-resume: the same journal is replayed (the caller removes what the
     * interrupted run left), then starts over empty.
     */
    assert_int_equal(journal_open(path, job_a, true, collect, s, &j, &err), 0);
    assert_int_equal(s->n, NREC);
    assert_int_equal(journal_close(j, false, &err), 0);
    s->n = 0;
    assert_int_equal(journal_open(path, job_a, false, collect, s, &j, &err), 0);
    assert_int_equal(s->n, 0);
    assert_int_equal(journal_close(j, false, &err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, sizes[0]);
    unlink(path);
    free(s);
}

/* Little-endian helpers for hand-made journals. */
static size_t put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    return 2;
}
static size_t put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return 4;
}
static size_t put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return 8;
}

/* A journal of job_a in format `version` holding one format 1 RANGE_DONE record; returns its length. */
static size_t make_v1(uint8_t *buf, uint32_t version)
{
    size_t n = 0;
    memcpy(buf, "SMBCOPYJ", 8);
    n = 8;
    n += put_u32(buf + n, version);
    n += put_u32(buf + n, 0);
    memcpy(buf + n, job_a, 16);
    n += 16;
    const char *path = "old/file.bin", *temp = "old/.smbcopy-1.tmp";
    size_t at = n, plen = strlen(path), tlen = strlen(temp);
    n += 4;
    buf[n++] = JOURNAL_RANGE_DONE;
    n += put_u16(buf + n, (uint16_t)plen);
    memcpy(buf + n, path, plen);
    n += plen;
    n += put_u64(buf + n, 1000);       /* size */
    n += put_u64(buf + n, 555);        /* mtime */
    n += put_u64(buf + n, 77);         /* file id */
    n += put_u64(buf + n, 0);          /* offset */
    n += put_u64(buf + n, 100);        /* length */
    n += put_u32(buf + n, 0xABCDEFu);  /* check */
    n += put_u16(buf + n, (uint16_t)tlen);
    memcpy(buf + n, temp, tlen);
    n += tlen;
    put_u32(buf + at, (uint32_t)(n - at - 4));
    n += put_u32(buf + n, crc32c(0, buf + at, n - at));
    return n;
}

/* A format 1 journal is replayed (change time unknown), rewritten as format 2, and appends follow. */
static void test_version1_read_and_upgraded(void **state)
{
    (void)state;
    char path[512];
    tmp_path(path, sizeof path);
    uint8_t buf[256];
    size_t n = make_v1(buf, 1);
    write_prefix(path, buf, (long)n);
    seen *s = calloc(1, sizeof *s);
    journal *j = NULL;
    smb_error err = {0};
    assert_int_equal(journal_open(path, job_a, false, collect, s, &j, &err), 0);
    assert_int_equal(s->n, 1);
    assert_int_equal(s->rec[0].type, JOURNAL_RANGE_DONE);
    assert_string_equal(s->path[0], "old/file.bin");
    assert_string_equal(s->temp[0], "old/.smbcopy-1.tmp");
    assert_true(s->rec[0].size == 1000 && s->rec[0].mtime == 555 && s->rec[0].file_id == 77);
    assert_true(s->rec[0].offset == 0 && s->rec[0].length == 100 && s->rec[0].check == 0xABCDEFu);
    assert_true(s->rec[0].change_time == 0);
    char p[64], t[64];
    journal_rec r = sample(1, p, t);
    assert_int_equal(journal_append(j, &r, &err), 0);
    assert_int_equal(journal_close(j, false, &err), 0);
    /* Now format 2 on disk: both records come back, the new one with its change time. */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t hdr[12];
    assert_int_equal(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
    fclose(f);
    assert_int_equal(hdr[8], 2);
    memset(s, 0, sizeof *s);
    assert_int_equal(journal_open(path, job_a, false, collect, s, &j, &err), 0);
    assert_int_equal(s->n, 2);
    assert_string_equal(s->path[0], "old/file.bin");
    assert_true(s->rec[0].change_time == 0 && s->rec[0].check == 0xABCDEFu);
    assert_true(s->rec[1].change_time == r.change_time && s->rec[1].size == r.size);
    assert_int_equal(journal_close(j, true, &err), 0);
    free(s);
}

/* A format this code does not know is refused with its number, and --no-resume starts it over. */
static void test_unknown_version_refused(void **state)
{
    (void)state;
    char path[512];
    tmp_path(path, sizeof path);
    uint8_t buf[256];
    size_t n = make_v1(buf, 3);
    write_prefix(path, buf, (long)n);
    seen *s = calloc(1, sizeof *s);
    journal *j = NULL;
    smb_error err = {0};
    assert_int_equal(journal_open(path, job_a, false, collect, s, &j, &err), SMB_ERR_INVALID_ARG);
    assert_null(j);
    assert_non_null(strstr(err.message, "format 3"));
    assert_non_null(strstr(err.message, "--no-resume"));
    assert_int_equal(s->n, 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, (long)n); /* left as it was */
    assert_int_equal(journal_open(path, job_a, true, collect, s, &j, &err), 0);
    assert_int_equal(s->n, 0);
    assert_int_equal(journal_close(j, true, &err), 0);
    free(s);
}

/*
 * The checkpoint keeps the change time: a "done" file whose source has the
 * same size, mtime and id but another change time differs (rewritten in
 * place); an unknown change time (0, format 1) matches; a partial copy
 * comes back with the change time it was started with.
 */
static void test_checkpoint_change_time(void **state)
{
    (void)state;
    char path[512];
    tmp_path(path, sizeof path);
    checkpoint *c = NULL;
    smb_error err = {0};
    assert_int_equal(checkpoint_open(path, job_a, false, &c, &err), 0);
    ep_stat st = {.type = EP_FILE, .size = 4096, .mtime = 1000, .file_id = 9, .change_time = 2000};
    ep_stat big = {.type = EP_FILE, .size = 1 << 30, .mtime = 3000, .file_id = 10, .change_time = 4000};
    assert_false(checkpoint_done_differs(c, "a.txt", &st)); /* no record: nothing to say */
    assert_int_equal(checkpoint_file_done(c, "a.txt", &st, &err), 0);
    assert_int_equal(checkpoint_started(c, "b.bin", ".smbcopy-b.tmp", &big, &err), 0);
    assert_int_equal(checkpoint_commit(c, "b.bin", ".smbcopy-b.tmp", &big, 0, 1 << 20, 0x1234, &err), 0);
    assert_int_equal(checkpoint_close(c, false, &err), 0);
    for (int pass = 0; pass < 2; pass++) { /* as recorded, then as replayed from the file */
        assert_int_equal(checkpoint_open(path, job_a, false, &c, &err), 0);
        ep_stat same = st, rewritten = st, unknown = st, touched = st;
        rewritten.change_time = 2001;
        unknown.change_time = 0;
        touched.mtime = 1001;
        assert_true(checkpoint_is_done(c, "a.txt", &same));
        assert_false(checkpoint_done_differs(c, "a.txt", &same));
        assert_false(checkpoint_is_done(c, "a.txt", &rewritten));
        assert_true(checkpoint_done_differs(c, "a.txt", &rewritten));
        assert_true(checkpoint_is_done(c, "a.txt", &unknown));
        assert_true(checkpoint_done_differs(c, "a.txt", &touched));
        cp_partial p;
        assert_true(checkpoint_partial(c, "b.bin", &p));
        assert_true(p.change_time == 4000 && p.size == big.size && p.n == 1 && p.ext[0].check == 0x1234);
        cp_partial_clear(&p);
        /* A commit from a source with another change time starts the record over. */
        if (pass == 1) {
            ep_stat again = big;
            again.change_time = 4001;
            assert_int_equal(checkpoint_commit(c, "b.bin", ".smbcopy-b.tmp", &again, 1 << 20, 1 << 20, 0, &err), 0);
            assert_true(checkpoint_partial(c, "b.bin", &p));
            assert_true(p.change_time == 4001 && p.n == 1 && p.ext[0].off == 1 << 20);
            cp_partial_clear(&p);
        }
        assert_int_equal(checkpoint_close(c, pass == 1, &err), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_check_value),
        cmocka_unit_test(test_crc32c_paths_agree),
        cmocka_unit_test(test_records_round_trip),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_damaged_record),
        cmocka_unit_test(test_other_job_refused_or_fresh),
        cmocka_unit_test(test_version1_read_and_upgraded),
        cmocka_unit_test(test_unknown_version_refused),
        cmocka_unit_test(test_checkpoint_change_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

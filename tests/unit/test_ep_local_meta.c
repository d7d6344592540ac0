/*
 * The local endpoint's named streams and security descriptors
 * (engine/endpoints/ep_local_meta.c), through its ops on files in a
 * temporary directory: streams as Samba's vfs_streams_xattr keeps them
 * ("user.DosStream.NAME:$DATA", the bytes and a NUL), the descriptor as
 * "user.smbcopy.ntsd". Needs user extended attributes where the directory
 * is (TMPDIR, else /tmp): without them the tests fail under CI=true and are
 * skipped otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <smbcopy/security.h>

#include "engine/endpoints/endpoint.h"
#include "engine/endpoints/ep_local_meta.h"

typedef struct fixture {
    char dir[512];
    ep *e;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof fx->dir, "%s/test_ep_local_meta.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    assert_non_null(mkdtemp(fx->dir));
    smb_error err;
    fx->e = ep_local_open(fx->dir, NULL, &err);
    assert_non_null(fx->e);
    *state = fx;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fx->e->ops->free(fx->e);
    nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static void abs_path(const fixture *fx, const char *rel, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", fx->dir, rel);
}

/* The tests need user xattrs where the fixture lives: fail under CI=true without them, else skip. */
static void require_user_xattrs(const fixture *fx)
{
    char p[600];
    abs_path(fx, ".xattr-probe", p, sizeof p);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    int rc = fsetxattr(fd, "user.probe", "1", 1, 0);
    int e = errno;
    close(fd);
    unlink(p);
    if (rc == 0)
        return;
    const char *ci = getenv("CI");
    if (ci && strcmp(ci, "true") == 0)
        fail_msg("no user extended attributes in %s: %s", fx->dir, strerror(e));
    print_message("SKIPPED: no user extended attributes in %s: %s\n", fx->dir, strerror(e));
    skip();
}

/* A new file rel holding "hello", open for writing as the engine opens a destination. */
static ep_file *new_file(const fixture *fx, const char *rel)
{
    ep *e = fx->e;
    smb_error err;
    ep_stat meta = {.type = EP_FILE, .size = 5};
    ep_file *f = NULL;
    if (e->ops->open_write(e, rel, &meta, &f, &err) != 0)
        fail_msg("open_write %s: %s", rel, err.message);
    size_t n = 0;
    ep_io *io = e->ops->write_submit(f, "hello", 5, 0, &err);
    assert_non_null(io);
    assert_int_equal(e->ops->io_wait(io, &n, &err), 0);
    assert_int_equal(n, 5);
    return f;
}

static ep_file *open_read(const fixture *fx, const char *rel)
{
    smb_error err;
    ep_file *f = NULL;
    if (fx->e->ops->open_read(fx->e, rel, &f, &err) != 0)
        fail_msg("open_read %s: %s", rel, err.message);
    return f;
}

static void close_file(const fixture *fx, ep_file *f)
{
    smb_error err;
    assert_int_equal(fx->e->ops->close(f, &err), 0);
}

/* A stream of len bytes of a pattern seeded by seed (NULL data when len is 0). */
static ep_stream stream_of(const char *name, size_t len, unsigned seed)
{
    ep_stream s = {.name = strdup(name), .len = len, .data = len ? malloc(len) : NULL};
    assert_non_null(s.name);
    for (size_t i = 0; i < len; i++)
        s.data[i] = (uint8_t)(seed + i * 7 + (i >> 8));
    return s;
}

static const ep_stream *find_stream(const ep_streams *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

/* got holds a stream of want's name with want's bytes. */
static void assert_has_stream(const ep_streams *got, const ep_stream *want)
{
    const ep_stream *g = find_stream(got, want->name);
    if (!g)
        fail_msg("stream %s missing", want->name);
    assert_int_equal(g->len, want->len);
    if (want->len)
        assert_memory_equal(g->data, want->data, want->len);
    else
        assert_null(g->data);
}

/* The raw value of xattr name of file rel; its length as the result, -1 when absent. */
static ssize_t raw_xattr(const fixture *fx, const char *rel, const char *name, void *buf, size_t len)
{
    char p[600];
    abs_path(fx, rel, p, sizeof p);
    return getxattr(p, name, buf, len);
}

static void set_raw_xattr(const fixture *fx, const char *rel, const char *name, const void *v, size_t len)
{
    char p[600];
    abs_path(fx, rel, p, sizeof p);
    if (setxattr(p, name, v, len, 0) != 0)
        fail_msg("setxattr %s: %s", name, strerror(errno));
}

/* ---------------------------------------------------------------- streams */

static void test_streams_round_trip(void **state)
{
    fixture *fx = *state;
    require_user_xattrs(fx);
    ep *e = fx->e;
    smb_error err;

    ep_streams put = {.v = calloc(3, sizeof(ep_stream)), .n = 3};
    assert_non_null(put.v);
    put.v[0] = stream_of("empty", 0, 0);
    put.v[1] = stream_of("Zone.Identifier", 26, 1);
    put.v[2] = stream_of("big stream é", 3000, 2);

    ep_file *f = new_file(fx, "t.tmp");
    if (e->ops->put_streams(f, &put, &err) != 0)
        fail_msg("put_streams: %s", err.message);
    close_file(fx, f);

    /* Samba's form: the bytes and one NUL; an empty stream is the NUL alone. */
    uint8_t raw[4096];
    assert_int_equal(raw_xattr(fx, "t.tmp", "user.DosStream.empty:$DATA", raw, sizeof raw), 1);
    assert_int_equal(raw[0], 0);
    assert_int_equal(raw_xattr(fx, "t.tmp", "user.DosStream.Zone.Identifier:$DATA", raw, sizeof raw), 27);
    assert_memory_equal(raw, put.v[1].data, 26);
    assert_int_equal(raw[26], 0);

    f = open_read(fx, "t.tmp");
    ep_streams got = {0};
    if (e->ops->get_streams(f, &got, &err) != 0)
        fail_msg("get_streams: %s", err.message);
    close_file(fx, f);
    assert_int_equal(got.n, 3);
    for (size_t i = 0; i < put.n; i++)
        assert_has_stream(&got, &put.v[i]);
    assert_int_equal(ep_streams_bytes(&got), 3026);

    /* A second read into the same *out frees what it held first (no leak under valgrind). */
    f = open_read(fx, "t.tmp");
    assert_int_equal(e->ops->get_streams(f, &got, &err), 0);
    close_file(fx, f);
    assert_int_equal(got.n, 3);

    ep_streams_clear(&got);
    ep_streams_clear(&put);
}

static void test_no_streams(void **state)
{
    fixture *fx = *state;
    require_user_xattrs(fx);
    smb_error err;
    ep_file *f = new_file(fx, "plain");
    close_file(fx, f);
    set_raw_xattr(fx, "plain", "user.other", "x", 1);
    f = open_read(fx, "plain");
    ep_streams got = {0};
    assert_int_equal(fx->e->ops->get_streams(f, &got, &err), 0);
    assert_int_equal(got.n, 0);
    assert_null(got.v);
    /* fstat tells it with the rest: no stream among the xattrs. */
    ep_stat st;
    assert_int_equal(fx->e->ops->fstat(f, &st, &err), 0);
    assert_int_equal(st.streams, EP_STREAMS_NONE);
    close_file(fx, f);

    set_raw_xattr(fx, "plain", "user.DosStream.s:$DATA", "\0", 1);
    f = open_read(fx, "plain");
    assert_int_equal(fx->e->ops->fstat(f, &st, &err), 0);
    assert_int_equal(st.streams, EP_STREAMS_SOME);
    close_file(fx, f);
}

static void test_foreign_xattrs_ignored(void **state)
{
    fixture *fx = *state;
    require_user_xattrs(fx);
    smb_error err;
    ep_file *f = new_file(fx, "mixed");
    close_file(fx, f);
    set_raw_xattr(fx, "mixed", "user.DosStream.ok:$DATA", "v\0", 2);
    set_raw_xattr(fx, "mixed", "user.other", "x\0", 2);
    set_raw_xattr(fx, "mixed", "user.DOSATTRIB", "0x20", 4);
    set_raw_xattr(fx, "mixed", "user.DosStream.notdata:$FOO", "y\0", 2); /* another stream type: ':' in the name */
    set_raw_xattr(fx, "mixed", "user.DosStream.a/b:$DATA", "z\0", 2);
    set_raw_xattr(fx, "mixed", "user.DosStream.a\\b:$DATA", "z\0", 2);
    set_raw_xattr(fx, "mixed", "user.DosStream.:$DATA", "z\0", 2);
    set_raw_xattr(fx, "mixed", "user.DosStream.bad\xff:$DATA", "z\0", 2);
    set_raw_xattr(fx, "mixed", "user.DosStreamX:$DATA", "z\0", 2);

    f = open_read(fx, "mixed");
    ep_streams got = {0};
    if (fx->e->ops->get_streams(f, &got, &err) != 0)
        fail_msg("get_streams: %s", err.message);
    close_file(fx, f);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.v[0].name, "ok");
    assert_int_equal(got.v[0].len, 1);
    assert_memory_equal(got.v[0].data, "v", 1);
    ep_streams_clear(&got);
}

static void test_stream_too_large(void **state)
{
    fixture *fx = *state;
    require_user_xattrs(fx);
    ep *e = fx->e;
    smb_error err;
    ep_streams put = {.v = calloc(4, sizeof(ep_stream)), .n = 4};
    assert_non_null(put.v);
    put.v[0] = stream_of("before", 10, 3);
    put.v[1] = stream_of("huge", 70000, 4);
    put.v[2] = stream_of("after", 20, 5);
    put.v[3] = stream_of("huger", 80000, 6);

    ep_file *f = new_file(fx, "big.tmp");
    assert_int_equal(e->ops->put_streams(f, &put, &err), SMB_ERR_NO_SPACE);
    /* The first that did not fit is named. */
    assert_non_null(
        strstr(err.message, "stream huge (70000 bytes) too large for the file system's extended attributes"));
    /* Those written are marked, so that the engine counts them. */
    assert_true(put.v[0].kept && !put.v[1].kept && put.v[2].kept && !put.v[3].kept);
    uint64_t kept_bytes = 0;
    assert_int_equal(ep_streams_kept(&put, &kept_bytes), 2);
    assert_int_equal(kept_bytes, 30);
    close_file(fx, f);

    /* The others are written; the huge one is not there at all (never truncated). */
    f = open_read(fx, "big.tmp");
    ep_streams got = {0};
    assert_int_equal(e->ops->get_streams(f, &got, &err), 0);
    close_file(fx, f);
    assert_int_equal(got.n, 2);
    assert_has_stream(&got, &put.v[0]);
    assert_has_stream(&got, &put.v[2]);
    assert_null(find_stream(&got, "huge"));
    assert_null(find_stream(&got, "huger"));
    uint8_t raw[16];
    assert_int_equal(raw_xattr(fx, "big.tmp", "user.DosStream.huge:$DATA", raw, sizeof raw), -1);
    ep_streams_clear(&got);
    ep_streams_clear(&put);
}

/*
 * A stream under the 64 KiB of one xattr that the file system may still
 * refuse (ext4 keeps a file's xattrs in one block): whole or not at all.
 */
static void test_stream_over_block(void **state)
{
    fixture *fx = *state;
    require_user_xattrs(fx);
    ep *e = fx->e;
    smb_error err;
    ep_streams put = {.v = calloc(2, sizeof(ep_stream)), .n = 2};
    assert_non_null(put.v);
    put.v[0] = stream_of("mid", 60000, 8);
    put.v[1] = stream_of("after", 20, 9);

    ep_file *f = new_file(fx, "mid.tmp");
    int rc = e->ops->put_streams(f, &put, &err);
    close_file(fx, f);
    if (rc != 0) {
        assert_int_equal(rc, SMB_ERR_NO_SPACE);
        assert_non_null(strstr(err.message, "stream mid (60000 bytes) too large"));
    }
    f = open_read(fx, "mid.tmp");
    ep_streams got = {0};
    assert_int_equal(e->ops->get_streams(f, &got, &err), 0);
    close_file(fx, f);
    assert_has_stream(&got, &put.v[1]);
    if (rc == 0) {
        assert_int_equal(got.n, 2);
        assert_has_stream(&got, &put.v[0]);
    } else {
        assert_int_equal(got.n, 1);
    }
    ep_streams_clear(&got);
    ep_streams_clear(&put);
}

static void test_stream_bad_name(void **state)
{
    fixture *fx = *state;
    require_user_xattrs(fx);
    smb_error err;
    ep_streams put = {.v = calloc(2, sizeof(ep_stream)), .n = 2};
    assert_non_null(put.v);
    put.v[0] = stream_of("good", 4, 6);
    put.v[1] = stream_of("x:y", 4, 7);
    ep_file *f = new_file(fx, "bad.tmp");
    assert_int_equal(fx->e->ops->put_streams(f, &put, &err), SMB_ERR_BAD_NAME);
    assert_non_null(strstr(err.message, "x:y"));
    close_file(fx, f);
    uint8_t raw[16];
    assert_int_equal(raw_xattr(fx, "bad.tmp", "user.DosStream.good:$DATA", raw, sizeof raw), -1);
    ep_streams_clear(&put);
}

/* ---------------------------------------------------------------- security descriptors */

/* sddl as self-relative bytes. */
static uint8_t *sd_bytes(const char *sddl, size_t *len)
{
    smb_security_descriptor *sd = NULL;
    smb_error err;
    if (smb_sd_from_sddl(sddl, &sd, &err) != 0)
        fail_msg("parse %s: %s", sddl, err.message);
    uint8_t *bin = NULL;
    assert_int_equal(smb_sd_encode(sd, &bin, len, &err), 0);
    smb_sd_free(sd);
    return bin;
}

static void test_sd_none(void **state)
{
    fixture *fx = *state;
    require_user_xattrs(fx);
    smb_error err;
    ep_file *f = new_file(fx, "nosd");
    close_file(fx, f);
    f = open_read(fx, "nosd");
    ep_sd got = {0};
    assert_int_equal(fx->e->ops->get_sd(f, EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL, &got, &err), 0);
    close_file(fx, f);
    assert_int_equal(got.len, 0);
    assert_null(got.bytes);
    assert_int_equal(got.parts, 0);
}

static void test_sd_round_trip(void **state)
{
    fixture *fx = *state;
    require_user_xattrs(fx);
    ep *e = fx->e;
    smb_error err;
    const uint32_t all = EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL | EP_SD_SACL;

    size_t len = 0;
    uint8_t *bytes = sd_bytes("O:BAG:SYD:PAI(A;OICI;FA;;;BA)(A;;FR;;;WD)(D;;FW;;;S-1-5-21-1-2-3-1001)", &len);
    ep_sd put = {.bytes = bytes, .len = len, .parts = EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL};
    ep_file *f = new_file(fx, "sd.tmp");
    if (e->ops->put_sd(f, &put, &err) != 0)
        fail_msg("put_sd: %s", err.message);
    close_file(fx, f);

    uint8_t raw[4096];
    assert_int_equal(raw_xattr(fx, "sd.tmp", "user.smbcopy.ntsd", raw, sizeof raw), (ssize_t)len);
    assert_memory_equal(raw, bytes, len);

    f = open_read(fx, "sd.tmp");
    ep_sd got = {0};
    if (e->ops->get_sd(f, all, &got, &err) != 0)
        fail_msg("get_sd: %s", err.message);
    assert_int_equal(got.len, len);
    assert_memory_equal(got.bytes, bytes, len);
    assert_int_equal(got.parts, EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL); /* no SACL in it */

    /* Asked for the DACL only: the whole descriptor, parts saying the DACL. */
    assert_int_equal(e->ops->get_sd(f, EP_SD_DACL, &got, &err), 0);
    assert_int_equal(got.len, len);
    assert_memory_equal(got.bytes, bytes, len);
    assert_int_equal(got.parts, EP_SD_DACL);
    close_file(fx, f);
    ep_sd_clear(&got);

    /* Replaced by a descriptor of a DACL and a SACL, no owner or group. */
    size_t len2 = 0;
    uint8_t *bytes2 = sd_bytes("D:(A;;FA;;;SY)S:(AU;FA;FA;;;WD)", &len2);
    ep_sd put2 = {.bytes = bytes2, .len = len2, .parts = EP_SD_DACL | EP_SD_SACL};
    f = open_read(fx, "sd.tmp");
    if (e->ops->put_sd(f, &put2, &err) != 0)
        fail_msg("put_sd again: %s", err.message);
    assert_int_equal(e->ops->get_sd(f, all, &got, &err), 0);
    close_file(fx, f);
    assert_int_equal(got.len, len2);
    assert_memory_equal(got.bytes, bytes2, len2);
    assert_int_equal(got.parts, EP_SD_DACL | EP_SD_SACL);
    ep_sd_clear(&got);

    /* An empty descriptor removes the stored one. */
    ep_sd none = {0};
    f = open_read(fx, "sd.tmp");
    assert_int_equal(e->ops->put_sd(f, &none, &err), 0);
    assert_int_equal(e->ops->get_sd(f, all, &got, &err), 0);
    close_file(fx, f);
    assert_int_equal(got.len, 0);
    assert_int_equal(raw_xattr(fx, "sd.tmp", "user.smbcopy.ntsd", raw, sizeof raw), -1);

    free(bytes);
    free(bytes2);
}

static void test_sd_corrupt(void **state)
{
    fixture *fx = *state;
    require_user_xattrs(fx);
    ep *e = fx->e;
    smb_error err;
    ep_file *f = new_file(fx, "bad-sd");
    close_file(fx, f);

    /* A header without SE_SELF_RELATIVE, then one whose owner lies past the end. */
    static const uint8_t not_self_relative[20] = {0x01, 0x00, 0x04, 0x00};
    static const uint8_t owner_outside[20] = {0x01, 0x00, 0x04, 0x80, 0xF0, 0, 0, 0};
    const uint8_t *bad[] = {not_self_relative, owner_outside};
    for (size_t i = 0; i < 2; i++) {
        set_raw_xattr(fx, "bad-sd", "user.smbcopy.ntsd", bad[i], 20);
        f = open_read(fx, "bad-sd");
        ep_sd got = {0};
        assert_int_equal(e->ops->get_sd(f, EP_SD_DACL, &got, &err), SMB_ERR_PROTOCOL);
        assert_non_null(strstr(err.message, "user.smbcopy.ntsd holds no valid security descriptor"));
        assert_int_equal(got.len, 0);
        assert_null(got.bytes);

        /* Nor is such a descriptor stored: what is there stays. */
        ep_sd put = {.bytes = (uint8_t *)not_self_relative, .len = 20, .parts = EP_SD_DACL};
        assert_int_equal(e->ops->put_sd(f, &put, &err), SMB_ERR_INVALID_ARG);
        close_file(fx, f);
        uint8_t raw[64];
        assert_int_equal(raw_xattr(fx, "bad-sd", "user.smbcopy.ntsd", raw, sizeof raw), 20);
        assert_memory_equal(raw, bad[i], 20);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_streams_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_streams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_xattrs_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_over_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_bad_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sd_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sd_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sd_corrupt, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

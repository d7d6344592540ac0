/*
 * The SMB endpoint's named streams and security descriptors against the
 * fixture's Samba: streams put on a temporary file and read back on a fresh
 * open (names and bytes), read_whole telling files with streams from files
 * without, streams past SC_STREAMS_MAX_BYTES refused whole, a share without
 * streams refusing them, and a DACL with an added ACE set and read back as
 * set: on open files, and with the data in one round trip (read_whole and
 * write_whole, and the library's smb_read_file_ex and smb_write_file_ex
 * beneath them), the SACL refused as the fixture's user may not touch it.
 * Shares: "fidelity" (streams_xattr, acl_xattr), "fidelitydepot"
 * (streams_depot: streams of any size) and the main "data" share (no
 * streams module); everything under "ep-smb-meta".
 */
#include "itest_smb.h"

#include <smbcopy/security.h>

#include "engine/endpoints/endpoint.h"

#define TOP "ep-smb-meta"
#define MIB (1024u * 1024u)

static sc_location make_loc(const itest_env *env, const char *share, const char *path)
{
    sc_location loc;
    memset(&loc, 0, sizeof loc);
    loc.is_smb = true;
    loc.host = (char *)env->host;
    loc.port = (uint16_t)env->port;
    loc.share = (char *)share;
    loc.path = (char *)path;
    return loc;
}

static ep_smb_pool *new_pool(const itest_env *env)
{
    sc_credentials cr = {.username = env->user, .password = env->password, .domain = env->domain};
    ep_smb_pool *pool = ep_smb_pool_new(NULL, &cr);
    assert_non_null(pool);
    return pool;
}

/* A fixture value the fixture always writes. */
static const char *env_value(const char *key)
{
    const char *v = itest_env_value(itest_require_env(), key);
    if (!v || !*v)
        fail_msg("the fixture's environment has no %s", key);
    return v;
}

/* A fresh TOP/sub on disk in the share whose directory the fixture names by dir_key. */
static void fresh_dir(const char *dir_key, const char *sub)
{
    char path[PATH_MAX], cmd[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", env_value(dir_key), TOP);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        fail_msg("mkdir %s: %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/%s/%s", env_value(dir_key), TOP, sub);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0 || mkdir(path, 0755) != 0)
        fail_msg("cannot make fresh directory %s", path);
}

/* An endpoint on share rooted at TOP/sub. */
static ep *open_ep(ep_smb_pool *pool, const char *share, const char *sub)
{
    const itest_env *env = itest_require_env();
    char path[256];
    snprintf(path, sizeof path, "%s/%s", TOP, sub);
    sc_location loc = make_loc(env, share, path);
    smb_error err = {0};
    ep *e = ep_smb_open(pool, &loc, NULL, &err);
    if (!e)
        fail_msg("ep_smb_open(%s/%s): %s", share, path, err.message);
    return e;
}

/* Write rel holding data[0..len) through open_write, its streams s (NULL: none) put before finish. */
static void write_file(ep *e, const char *rel, const void *data, size_t len, ep_streams *s)
{
    smb_error err = {0};
    ep_file *f = NULL;
    ep_stat meta = {.type = EP_FILE, .size = len};
    IT_OK(e->ops->open_write(e, rel, &meta, &f, &err), err);
    if (len) {
        ep_io *io = e->ops->write_submit(f, data, len, 0, &err);
        if (!io)
            fail_msg("write_submit: %s", err.message);
        size_t n = 0;
        IT_OK(e->ops->io_wait(io, &n, &err), err);
        assert_int_equal(n, len);
    }
    if (s)
        IT_OK(e->ops->put_streams(f, s, &err), err);
    ep_stat got;
    IT_OK(e->ops->finish(f, &meta, &got, &err), err);
    assert_int_equal(got.size, len);
    IT_OK(e->ops->close(f, &err), err);
}

/* Streams of the given names, each of len[i] pattern bytes (seed i + 1). */
static void make_streams(ep_streams *s, const char *const *names, const size_t *lens, size_t n)
{
    s->n = n;
    s->v = calloc(n, sizeof *s->v);
    assert_non_null(s->v);
    for (size_t i = 0; i < n; i++) {
        s->v[i].name = strdup(names[i]);
        assert_non_null(s->v[i].name);
        s->v[i].len = lens[i];
        if (lens[i]) {
            s->v[i].data = malloc(lens[i]);
            assert_non_null(s->v[i].data);
            itest_pattern_fill(s->v[i].data, lens[i], i + 1, 0);
        }
    }
}

static const ep_stream *find_stream(const ep_streams *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

/* got holds exactly want's streams, byte for byte (in any order). */
static void assert_streams_equal(const ep_streams *want, const ep_streams *got)
{
    assert_int_equal(got->n, want->n);
    for (size_t i = 0; i < want->n; i++) {
        const ep_stream *g = find_stream(got, want->v[i].name);
        if (!g)
            fail_msg("stream '%s' missing", want->v[i].name);
        assert_int_equal(g->len, want->v[i].len);
        if (g->len)
            assert_memory_equal(g->data, want->v[i].data, g->len);
        else
            assert_null(g->data);
    }
}

/* The streams of rel, read through a fresh open_read. */
static int get_streams(ep *e, const char *rel, ep_streams *out, smb_error *err)
{
    ep_file *f = NULL;
    smb_error oe = {0};
    IT_OK(e->ops->open_read(e, rel, &f, &oe), oe);
    int rc = e->ops->get_streams(f, out, err);
    IT_OK(e->ops->close(f, &oe), oe);
    return rc;
}

/* ep_stat.streams as read_whole reports it for rel (whose bytes must be want[0..len)). */
static uint8_t read_whole_streams(ep *e, const char *rel, const void *want, size_t len)
{
    smb_error err = {0};
    uint8_t buf[256];
    size_t n = 0;
    ep_stat after;
    memset(&after, 0xAA, sizeof after);
    IT_OK(e->ops->read_whole(e, rel, buf, sizeof buf, &n, &after, NULL, &err), err);
    assert_int_equal(n, len);
    if (len)
        assert_memory_equal(buf, want, len);
    assert_int_equal(after.size, len);
    return after.streams;
}

/* --- streams ------------------------------------------------------------------ */

static void test_streams_roundtrip(void **state)
{
    (void)state;
    const char *share = env_value("SMBCOPY_TEST_FIDELITY_SHARE");
    fresh_dir("SMBCOPY_TEST_FIDELITY_SHARE_DIR", "streams");
    ep_smb_pool *pool = new_pool(itest_require_env());
    ep *e = open_ep(pool, share, "streams");
    assert_non_null(e->ops->get_streams);
    assert_non_null(e->ops->put_streams);

    /* streams_xattr keeps a stream in one extended attribute, at most 64 KiB. */
    static const char *const names[] = {"Zone.Identifier", "empty", "b\xc3\xa9ta \xe5\x90\x8d", "forty-k"};
    static const size_t lens[] = {26, 0, 1000, 40000};
    ep_streams want = {0};
    make_streams(&want, names, lens, 4);
    static const char body[] = "main data";
    write_file(e, "with.tmp", body, sizeof body - 1, &want);
    write_file(e, "plain.txt", body, sizeof body - 1, NULL);

    smb_error err = {0};
    ep_streams got = {0};
    IT_OK(get_streams(e, "with.tmp", &got, &err), err);
    assert_streams_equal(&want, &got);
    ep_streams_clear(&got);
    IT_OK(get_streams(e, "plain.txt", &got, &err), err);
    assert_int_equal(got.n, 0);
    assert_null(got.v);

    /* Putting again replaces a stream's bytes: a shorter one is not left with the old tail. */
    ep_file *f = NULL;
    IT_OK(e->ops->open_resume(e, "with.tmp", sizeof body - 1, &f, &err), err);
    static const char *const shorter_names[] = {"forty-k"};
    static const size_t shorter_lens[] = {7};
    ep_streams shorter = {0};
    make_streams(&shorter, shorter_names, shorter_lens, 1);
    IT_OK(e->ops->put_streams(f, &shorter, &err), err);
    /* A name get_streams could never give, and a stream past what streams_xattr
     * holds (64 KiB, STATUS_FILE_SYSTEM_LIMITATION): each left out, the others
     * kept, the first one left out reported. */
    ep_streams bad = {0};
    static const char *const bad_names[] = {"a:b", "kept", "too-big"};
    static const size_t bad_lens[] = {3, 5, 100000};
    make_streams(&bad, bad_names, bad_lens, 3);
    assert_int_equal(e->ops->put_streams(f, &bad, &err), SMB_ERR_BAD_NAME);
    assert_non_null(strstr(err.message, "a stream name must be UTF-8"));
    bad.v[0].name[1] = '-'; /* "a-b" */
    assert_int_equal(e->ops->put_streams(f, &bad, &err), SMB_ERR_NO_SPACE);
    assert_non_null(strstr(err.message, "too-big"));
    IT_OK(e->ops->close(f, &err), err);
    IT_OK(get_streams(e, "with.tmp", &got, &err), err);
    assert_int_equal(got.n, 6); /* the four, "kept" and "a-b"; nothing of "too-big" */
    assert_null(find_stream(&got, "too-big"));
    assert_non_null(find_stream(&got, "a-b"));
    const ep_stream *kept = find_stream(&got, "kept");
    assert_non_null(kept);
    assert_int_equal(kept->len, 5);
    assert_memory_equal(kept->data, bad.v[1].data, 5);
    const ep_stream *fk = find_stream(&got, "forty-k");
    assert_non_null(fk);
    assert_int_equal(fk->len, 7);
    assert_memory_equal(fk->data, shorter.v[0].data, 7);
    ep_streams_clear(&got);

    /* The stream list comes with the data of read_whole, in its one round trip. */
    assert_int_equal(read_whole_streams(e, "with.tmp", body, sizeof body - 1), EP_STREAMS_SOME);
    assert_int_equal(read_whole_streams(e, "plain.txt", body, sizeof body - 1), EP_STREAMS_NONE);
    /* stat learns nothing of streams. */
    ep_stat st;
    memset(&st, 0xAA, sizeof st);
    IT_OK(ep_stat_path(e, "with.tmp", &st, &err), err);
    assert_int_equal(st.streams, EP_STREAMS_UNKNOWN);

    ep_streams_clear(&want);
    ep_streams_clear(&shorter);
    ep_streams_clear(&bad);
    e->ops->free(e);
    ep_smb_pool_free(pool);
}

/* smb_read_file_ex with the stream count: the count, an empty file, and the call without extras. */
static void test_read_file_streams(void **state)
{
    (void)state;
    const char *share = env_value("SMBCOPY_TEST_FIDELITY_SHARE");
    fresh_dir("SMBCOPY_TEST_FIDELITY_SHARE_DIR", "count");
    ep_smb_pool *pool = new_pool(itest_require_env());
    ep *e = open_ep(pool, share, "count");
    static const char *const names[] = {"one", "two", "three"};
    static const size_t lens[] = {1, 2, 3};
    ep_streams s = {0};
    make_streams(&s, names, lens, 3);
    write_file(e, "three", NULL, 0, &s);
    write_file(e, "none", "x", 1, NULL);
    ep_streams_clear(&s);
    e->ops->free(e);
    ep_smb_pool_free(pool);

    const itest_env *env = itest_require_env();
    smb_error err = {0};
    smb_conn *conn = smb_conn_connect(env->host, (uint16_t)env->port, NULL, &err);
    assert_non_null(conn);
    smb_creds cr = {.username = env->user, .password = env->password, .domain = env->domain};
    smb_session *sess = smb_session_setup(conn, &cr, &err);
    assert_non_null(sess);
    smb_tree *tree = smb_tree_connect(sess, share, &err);
    assert_non_null(tree);
    uint8_t buf[16];
    size_t n = 99;
    smb_file_info info;
    smb_read_extras x = {.want_streams = true};
    IT_OK(smb_read_file_ex(tree, TOP "/count/three", buf, sizeof buf, &n, &info, &x, &err), err);
    assert_int_equal(n, 0); /* an empty main stream: the READ's END_OF_FILE is no failure */
    assert_int_equal(x.streams, 3);
    assert_int_equal(info.end_of_file, 0);
    assert_null(x.sd); /* no descriptor asked for */
    assert_int_equal(x.sd_err.code, 0);
    IT_OK(smb_read_file_ex(tree, TOP "/count/none", buf, sizeof buf, &n, &info, &x, &err), err);
    assert_int_equal(x.streams, 0);
    assert_int_equal(n, 1);
    /* Above the READ limit (8 MiB at most) the read goes in more round trips, and the count with it. */
    size_t big = 16 * MIB;
    uint8_t *large = malloc(big);
    assert_non_null(large);
    x.streams = 99;
    IT_OK(smb_read_file_ex(tree, TOP "/count/three", large, big, &n, &info, &x, &err), err);
    assert_int_equal(n, 0);
    assert_int_equal(x.streams, 3);
    free(large);
    assert_int_equal(smb_read_file_ex(tree, TOP "/count/missing", buf, sizeof buf, &n, &info, &x, &err),
                     SMB_ERR_NOT_FOUND);
    assert_int_equal(x.streams, -1);
    /* Without extras: smb_read_file. */
    IT_OK(smb_read_file_ex(tree, TOP "/count/none", buf, sizeof buf, &n, &info, NULL, &err), err);
    assert_int_equal(n, 1);
    assert_int_equal(buf[0], 'x');
    smb_conn_close(conn);
}

/* Streams together past SC_STREAMS_MAX_BYTES: refused whole, nothing returned. */
static void test_streams_too_large(void **state)
{
    (void)state;
    const char *share = env_value("SMBCOPY_TEST_FIDELITY_DEPOT_SHARE");
    fresh_dir("SMBCOPY_TEST_FIDELITY_DEPOT_SHARE_DIR", "large");
    ep_smb_pool *pool = new_pool(itest_require_env());
    ep *e = open_ep(pool, share, "large");
    /* Each within the limit, together one byte over it. */
    static const char *const names[] = {"half", "rest"};
    static const size_t lens[] = {SC_STREAMS_MAX_BYTES / 2, SC_STREAMS_MAX_BYTES / 2 + 1};
    ep_streams s = {0};
    make_streams(&s, names, lens, 2);
    write_file(e, "big", "x", 1, &s);
    smb_error err = {0};
    ep_streams got = {0};
    assert_int_equal(get_streams(e, "big", &got, &err), SMB_ERR_NO_SPACE);
    assert_non_null(strstr(err.message, "MiB"));
    assert_int_equal(got.n, 0);
    assert_null(got.v);
    /* One byte less: all of it comes, in several READs each. */
    ep_file *f = NULL;
    IT_OK(e->ops->open_resume(e, "big", 1, &f, &err), err);
    s.v[1].len--;
    IT_OK(e->ops->put_streams(f, &s, &err), err);
    IT_OK(e->ops->close(f, &err), err);
    IT_OK(get_streams(e, "big", &got, &err), err);
    assert_streams_equal(&s, &got);
    ep_streams_clear(&got);
    ep_streams_clear(&s);
    e->ops->free(e);
    ep_smb_pool_free(pool);
}

/* The data share has no streams module: Samba refuses stream names there. */
static void test_share_without_streams(void **state)
{
    (void)state;
    const itest_env *env = itest_require_env();
    it_fresh_dir("main", TOP);
    ep_smb_pool *pool = new_pool(env);
    char path[64];
    snprintf(path, sizeof path, "%s", TOP);
    sc_location loc = make_loc(env, env->share, path);
    smb_error err = {0};
    ep *e = ep_smb_open(pool, &loc, NULL, &err);
    assert_non_null(e);
    static const char body[] = "plain";
    write_file(e, "f.txt", body, sizeof body - 1, NULL);
    ep_file *f = NULL;
    IT_OK(e->ops->open_resume(e, "f.txt", sizeof body - 1, &f, &err), err);
    static const char *const names[] = {"s"};
    static const size_t lens[] = {3};
    ep_streams s = {0};
    make_streams(&s, names, lens, 1);
    assert_int_equal(e->ops->put_streams(f, &s, &err), SMB_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "the share keeps no named streams"));
    IT_OK(e->ops->close(f, &err), err);
    ep_streams got = {0};
    IT_OK(get_streams(e, "f.txt", &got, &err), err);
    assert_int_equal(got.n, 0);
    assert_int_equal(read_whole_streams(e, "f.txt", body, sizeof body - 1), EP_STREAMS_NONE);
    ep_streams_clear(&s);
    e->ops->free(e);
    ep_smb_pool_free(pool);
}

/* --- security descriptors ------------------------------------------------------ */

/* The DACL of sd's bytes with one more ACE: Users (S-1-5-32-545) may read. */
static void add_users_ace(const ep_sd *sd, uint8_t **out, size_t *out_len)
{
    smb_error err = {0};
    smb_security_descriptor *d = NULL;
    IT_OK(smb_sd_decode(sd->bytes, sd->len, &d, &err), err);
    assert_non_null(d->dacl);
    smb_acl *acl = d->dacl;
    smb_ace *aces = realloc(acl->aces, (acl->count + 1u) * sizeof *aces);
    assert_non_null(aces);
    acl->aces = aces;
    smb_ace *a = &aces[acl->count++];
    memset(a, 0, sizeof *a);
    a->type = SMB_ACE_ACCESS_ALLOWED;
    a->mask = 0x001200A9u; /* FILE_GENERIC_READ | FILE_GENERIC_EXECUTE (MS-DTYP 2.4.3) */
    assert_int_equal(smb_sid_from_string("S-1-5-32-545", &a->sid), 0);
    IT_OK(smb_sd_encode(d, out, out_len, &err), err);
    smb_sd_free(d);
}

/* Whether the DACL in bytes holds an allowing ACE for sid_str. */
static bool dacl_allows(const uint8_t *bytes, size_t len, const char *sid_str)
{
    smb_error err = {0};
    smb_security_descriptor *d = NULL;
    IT_OK(smb_sd_decode(bytes, len, &d, &err), err);
    bool found = false;
    for (unsigned i = 0; d->dacl && i < d->dacl->count; i++) {
        char s[SMB_SID_STRING_MAX];
        assert_int_equal(smb_sid_to_string(&d->dacl->aces[i].sid, s, sizeof s), 0);
        if (d->dacl->aces[i].type == SMB_ACE_ACCESS_ALLOWED && strcmp(s, sid_str) == 0)
            found = true;
    }
    smb_sd_free(d);
    return found;
}

static void test_sd_roundtrip(void **state)
{
    (void)state;
    const char *share = env_value("SMBCOPY_TEST_FIDELITY_SHARE");
    fresh_dir("SMBCOPY_TEST_FIDELITY_SHARE_DIR", "sd");
    ep_smb_pool *pool = new_pool(itest_require_env());
    ep *e = open_ep(pool, share, "sd");
    assert_non_null(e->ops->get_sd);
    assert_non_null(e->ops->put_sd);
    e->sd_parts = EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL;
    static const char body[] = "acl";
    write_file(e, "a.txt", body, sizeof body - 1, NULL);

    smb_error err = {0};
    ep_file *f = NULL;
    IT_OK(e->ops->open_read(e, "a.txt", &f, &err), err);
    ep_sd sd = {0};
    IT_OK(e->ops->get_sd(f, EP_SD_DACL, &sd, &err), err);
    IT_OK(e->ops->close(f, &err), err);
    assert_int_equal(sd.parts, EP_SD_DACL);
    assert_true(sd.len >= 20);
    assert_false(dacl_allows(sd.bytes, sd.len, "S-1-5-32-545"));

    uint8_t *more = NULL;
    size_t more_len = 0;
    add_users_ace(&sd, &more, &more_len);
    /* Onto a new file, as a copy does: open_write asked for WRITE_DAC. */
    ep_stat meta = {.type = EP_FILE, .size = sizeof body - 1};
    IT_OK(e->ops->open_write(e, "b.tmp", &meta, &f, &err), err);
    ep_sd put = {.bytes = more, .len = more_len, .parts = EP_SD_DACL};
    IT_OK(e->ops->put_sd(f, &put, &err), err);
    IT_OK(e->ops->close(f, &err), err);

    IT_OK(e->ops->open_read(e, "b.tmp", &f, &err), err);
    ep_sd back = {0};
    IT_OK(e->ops->get_sd(f, EP_SD_DACL, &back, &err), err);
    /* acl_xattr keeps the NT descriptor as it was set. */
    assert_int_equal(back.len, more_len);
    assert_memory_equal(back.bytes, more, more_len);
    assert_true(dacl_allows(back.bytes, back.len, "S-1-5-32-545"));
    ep_sd_clear(&back);
    /* Owner and group too, in one descriptor. */
    IT_OK(e->ops->get_sd(f, EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL, &back, &err), err);
    assert_int_equal(back.parts, EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL);
    smb_security_descriptor *d = NULL;
    IT_OK(smb_sd_decode(back.bytes, back.len, &d, &err), err);
    assert_non_null(d->owner);
    assert_non_null(d->group);
    smb_sd_free(d);

    /* Owner, group and DACL set at once (open_write asked for WRITE_OWNER too), read back as set. */
    ep_sd full = back;
    memset(&back, 0, sizeof back);
    IT_OK(e->ops->close(f, &err), err);
    IT_OK(e->ops->open_write(e, "c.tmp", &meta, &f, &err), err);
    IT_OK(e->ops->put_sd(f, &full, &err), err);
    IT_OK(e->ops->close(f, &err), err);
    IT_OK(e->ops->open_read(e, "c.tmp", &f, &err), err);
    IT_OK(e->ops->get_sd(f, EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL, &back, &err), err);
    assert_int_equal(back.len, full.len);
    assert_memory_equal(back.bytes, full.bytes, full.len);
    ep_sd_clear(&back);
    ep_sd_clear(&full);
    IT_OK(e->ops->close(f, &err), err);

    /* An open without sd_parts asks for no READ_CONTROL: the server refuses the read. */
    e->sd_parts = 0;
    IT_OK(e->ops->open_read(e, "b.tmp", &f, &err), err);
    ep_sd none = {0};
    assert_int_equal(e->ops->get_sd(f, EP_SD_DACL, &none, &err), SMB_ERR_ACCESS);
    assert_int_equal(none.len, 0);
    IT_OK(e->ops->close(f, &err), err);

    free(more);
    ep_sd_clear(&back);
    ep_sd_clear(&sd);
    e->ops->free(e);
    ep_smb_pool_free(pool);
}

/*
 * The SACL needs SeSecurityPrivilege (MS-DTYP 2.4.6), which the fixture's
 * user does not hold: opens asking for ACCESS_SYSTEM_SECURITY are refused
 * and made again without it, so the file still opens; get_sd and put_sd
 * then refuse the SACL with SMB_ERR_ACCESS, saying why, and do the rest on
 * the same open.
 */
static void test_sacl_refused(void **state)
{
    (void)state;
    const char *share = env_value("SMBCOPY_TEST_FIDELITY_SHARE");
    fresh_dir("SMBCOPY_TEST_FIDELITY_SHARE_DIR", "sacl");
    ep_smb_pool *pool = new_pool(itest_require_env());
    ep *e = open_ep(pool, share, "sacl");
    e->sd_parts = EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL | EP_SD_SACL;
    static const char body[] = "audit";
    write_file(e, "a.txt", body, sizeof body - 1, NULL);

    smb_error err = {0};
    ep_file *f = NULL;
    IT_OK(e->ops->open_read(e, "a.txt", &f, &err), err);
    ep_sd sd = {0};
    assert_int_equal(e->ops->get_sd(f, EP_SD_DACL | EP_SD_SACL, &sd, &err), SMB_ERR_ACCESS);
    assert_non_null(strstr(err.message, "reading the SACL needs SeSecurityPrivilege"));
    assert_int_equal(sd.len, 0);
    IT_OK(e->ops->get_sd(f, EP_SD_DACL, &sd, &err), err);
    IT_OK(e->ops->close(f, &err), err);

    ep_stat meta = {.type = EP_FILE, .size = sizeof body - 1};
    IT_OK(e->ops->open_write(e, "b.tmp", &meta, &f, &err), err);
    sd.parts = EP_SD_DACL | EP_SD_SACL;
    assert_int_equal(e->ops->put_sd(f, &sd, &err), SMB_ERR_ACCESS);
    assert_non_null(strstr(err.message, "SeSecurityPrivilege"));
    sd.parts = EP_SD_DACL;
    IT_OK(e->ops->put_sd(f, &sd, &err), err);
    IT_OK(e->ops->close(f, &err), err);
    ep_sd_clear(&sd);
    e->ops->free(e);
    ep_smb_pool_free(pool);
}

/* A tree on share, for the library's own calls; *conn: its connection, for smb_conn_close. */
static smb_tree *connect_tree(const char *share, smb_conn **conn_out)
{
    const itest_env *env = itest_require_env();
    smb_error err = {0};
    smb_conn *conn = smb_conn_connect(env->host, (uint16_t)env->port, NULL, &err);
    if (!conn)
        fail_msg("connect: %s", err.message);
    smb_creds cr = {.username = env->user, .password = env->password, .domain = env->domain};
    smb_session *sess = smb_session_setup(conn, &cr, &err);
    if (!sess)
        fail_msg("session setup: %s", err.message);
    smb_tree *tree = smb_tree_connect(sess, share, &err);
    if (!tree)
        fail_msg("tree connect %s: %s", share, err.message);
    *conn_out = conn;
    return tree;
}

/* a and b are the same descriptor: the same parts, SIDs and ACEs in the same order (Samba lays them out its own way). */
static void assert_sd_same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    smb_error err = {0};
    smb_security_descriptor *da = NULL, *db = NULL;
    IT_OK(smb_sd_decode(a, alen, &da, &err), err);
    IT_OK(smb_sd_decode(b, blen, &db, &err), err);
    uint8_t *ea = NULL, *eb = NULL;
    size_t ealen = 0, eblen = 0;
    IT_OK(smb_sd_encode(da, &ea, &ealen, &err), err);
    IT_OK(smb_sd_encode(db, &eb, &eblen, &err), err);
    assert_int_equal(ealen, eblen);
    assert_memory_equal(ea, eb, ealen);
    free(ea);
    free(eb);
    smb_sd_free(da);
    smb_sd_free(db);
}

/* The descriptor parts secinfo of path, read on an open with READ_CONTROL (smb_get_security). */
static void sd_on_open(smb_tree *tree, const char *path, uint32_t secinfo, uint8_t **sd, size_t *len)
{
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_READ_ATTRIBUTES | SMB_READ_CONTROL | SMB_SYNCHRONIZE;
    smb_error err = {0};
    smb_open *op = smb_create(tree, path, &p, NULL, NULL, &err);
    if (!op)
        fail_msg("open %s: %s", path, err.message);
    IT_OK(smb_get_security(op, secinfo, sd, len, &err), err);
    IT_OK(smb_close(op, NULL, &err), err);
}

/*
 * smb_read_file_ex and smb_write_file_ex with a descriptor, in their one
 * round trip: read as smb_get_security reads it, set (a DACL with an added
 * ACE, owner and group) and read back exactly (acl_xattr keeps the NT
 * descriptor as set); a SACL, which needs a privilege the fixture's user
 * lacks, refused at the CREATE; a descriptor the server refuses failing
 * the write with nothing left under either name.
 */
static void test_file_ex_sd(void **state)
{
    (void)state;
    const char *share = env_value("SMBCOPY_TEST_FIDELITY_SHARE");
    fresh_dir("SMBCOPY_TEST_FIDELITY_SHARE_DIR", "libsd");
    smb_conn *conn = NULL;
    smb_tree *tree = connect_tree(share, &conn);
    smb_error err = {0};
    static const char body[] = "descriptor and data in one round trip";
    const size_t blen = sizeof body - 1;
    smb_file_info info;
    IT_OK(smb_write_file(tree, TOP "/libsd/a.txt", body, blen, NULL, NULL, &info, &err), err);

    const uint32_t ogd = SMB_SECINFO_OWNER | SMB_SECINFO_GROUP | SMB_SECINFO_DACL;
    uint8_t buf[256];
    size_t n = 0;
    smb_read_extras x = {.want_streams = true, .secinfo = ogd};
    IT_OK(smb_read_file_ex(tree, TOP "/libsd/a.txt", buf, sizeof buf, &n, &info, &x, &err), err);
    assert_int_equal(n, blen);
    assert_memory_equal(buf, body, blen);
    assert_int_equal(info.end_of_file, blen);
    assert_int_equal(x.streams, 0);
    assert_int_equal(x.sd_err.code, 0);
    assert_non_null(x.sd);
    uint8_t *open_sd = NULL;
    size_t open_len = 0;
    sd_on_open(tree, TOP "/libsd/a.txt", ogd, &open_sd, &open_len);
    assert_int_equal(x.sd_len, open_len);
    assert_memory_equal(x.sd, open_sd, open_len);
    free(open_sd);
    assert_false(dacl_allows(x.sd, x.sd_len, "S-1-5-32-545"));

    /* Written with one more ACE, owner and group as they were; renamed into place. */
    uint8_t *more = NULL;
    size_t more_len = 0;
    ep_sd cur = {.bytes = x.sd, .len = x.sd_len, .parts = EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL};
    add_users_ace(&cur, &more, &more_len);
    smb_write_extras w = {.sd = more, .sd_len = more_len, .secinfo = ogd};
    smb_basic_info bi = {.last_write_time = 132000000000000000ull};
    IT_OK(smb_write_file_ex(tree, TOP "/libsd/.b.tmp", body, blen, &bi, TOP "/libsd/b.txt", &info, &w, &err), err);
    assert_int_equal(info.end_of_file, blen);
    assert_int_equal(info.last_write_time, bi.last_write_time);
    free(x.sd);
    x = (smb_read_extras){.secinfo = ogd};
    IT_OK(smb_read_file_ex(tree, TOP "/libsd/b.txt", buf, sizeof buf, &n, &info, &x, &err), err);
    assert_int_equal(n, blen);
    assert_memory_equal(buf, body, blen);
    assert_int_equal(x.streams, -1); /* not asked */
    assert_int_equal(x.sd_len, more_len);
    assert_sd_same(x.sd, x.sd_len, more, more_len);
    assert_true(dacl_allows(x.sd, x.sd_len, "S-1-5-32-545"));
    free(x.sd);
    /* The DACL alone, above the WRITE limit (one open, pipelined WRITEs, then the descriptor). */
    size_t big = 12 * MIB;
    uint8_t *large = malloc(big);
    assert_non_null(large);
    itest_pattern_fill(large, big, 7, 0);
    w.secinfo = SMB_SECINFO_DACL;
    IT_OK(smb_write_file_ex(tree, TOP "/libsd/.c.tmp", large, big, NULL, TOP "/libsd/c.bin", &info, &w, &err), err);
    memset(large, 0, big);
    x = (smb_read_extras){.secinfo = SMB_SECINFO_DACL};
    IT_OK(smb_read_file_ex(tree, TOP "/libsd/c.bin", large, big, &n, &info, &x, &err), err);
    assert_int_equal(n, big);
    uint8_t *want = malloc(big);
    assert_non_null(want);
    itest_pattern_fill(want, big, 7, 0);
    assert_memory_equal(large, want, big);
    free(want);
    free(large);
    assert_int_equal(x.sd_err.code, 0);
    assert_true(dacl_allows(x.sd, x.sd_len, "S-1-5-32-545"));
    free(x.sd);

    /* The SACL: the CREATE asks for ACCESS_SYSTEM_SECURITY, refused to a user without the privilege. */
    x = (smb_read_extras){.secinfo = ogd | SMB_SECINFO_SACL};
    assert_int_equal(smb_read_file_ex(tree, TOP "/libsd/b.txt", buf, sizeof buf, &n, &info, &x, &err),
                     SMB_ERR_ACCESS);
    assert_null(x.sd);
    assert_int_equal(n, 0);
    w = (smb_write_extras){.sd = more, .sd_len = more_len, .secinfo = SMB_SECINFO_DACL | SMB_SECINFO_SACL};
    assert_int_equal(smb_write_file_ex(tree, TOP "/libsd/.d.tmp", body, blen, NULL, TOP "/libsd/d.txt", &info, &w,
                                       &err),
                     SMB_ERR_ACCESS);
    assert_false(w.sd_refused); /* the CREATE was refused, not the SET_INFO */
    smb_file_info st;
    assert_int_equal(smb_stat(tree, TOP "/libsd/.d.tmp", &st, &err), SMB_ERR_NOT_FOUND);
    assert_int_equal(smb_stat(tree, TOP "/libsd/d.txt", &st, &err), SMB_ERR_NOT_FOUND);

    /*
     * A descriptor the server refuses (its DACL offset past its end): the
     * write fails, and no file without it is left under either name (Samba
     * goes on with the rename after the failed SET_INFO: the file is deleted
     * at its final name; what was there is gone with it, never left with
     * other bytes).
     */
    uint8_t bad[28] = {1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0};
    w = (smb_write_extras){.sd = bad, .sd_len = sizeof bad, .secinfo = SMB_SECINFO_DACL};
    IT_OK(smb_write_file(tree, TOP "/libsd/f.txt", "old", 3, NULL, NULL, &info, &err), err);
    static const char *const finals[] = {TOP "/libsd/e.txt", TOP "/libsd/f.txt"};
    for (int i = 0; i < 2; i++) {
        int rc = smb_write_file_ex(tree, TOP "/libsd/.e.tmp", body, blen, &bi, finals[i], &info, &w, &err);
        assert_true(rc != 0);
        if (!strstr(err.message, "set the security descriptor of '" TOP "/libsd/.e.tmp'"))
            fail_msg("unexpected error: %s", err.message);
        assert_true(w.sd_refused);
        assert_int_equal(smb_stat(tree, TOP "/libsd/.e.tmp", &st, &err), SMB_ERR_NOT_FOUND);
        rc = smb_read_file(tree, finals[i], buf, sizeof buf, &n, &info, &err);
        if (rc == 0 && (n != 3 || memcmp(buf, "old", 3) != 0))
            fail_msg("%s holds %zu bytes that are not what was there before", finals[i], n);
        if (rc != 0)
            assert_int_equal(rc, SMB_ERR_NOT_FOUND);
    }
    free(more);
    smb_conn_close(conn);
}

/* rel reads back (read_whole, no descriptor) as body[0..len). */
static void assert_body(ep *e, const char *rel, const char *body, size_t len)
{
    smb_error err = {0};
    uint8_t buf[256];
    size_t n = 0;
    ep_stat after;
    IT_OK(e->ops->read_whole(e, rel, buf, sizeof buf, &n, &after, NULL, &err), err);
    assert_int_equal(n, len);
    assert_memory_equal(buf, body, len);
}

/*
 * read_whole and write_whole with a descriptor (one round trip each): read
 * as get_sd reads it on an open file, a DACL with an added ACE (owner and
 * group as they were) written and read back; the SACL, which the fixture's
 * user may not read or set, refused with SMB_ERR_ACCESS in err while the
 * call succeeds with the data and the other parts (before and after the
 * endpoint learnt it); a descriptor the server refuses failing the write
 * with nothing left.
 */
static void test_whole_sd(void **state)
{
    (void)state;
    const char *share = env_value("SMBCOPY_TEST_FIDELITY_SHARE");
    fresh_dir("SMBCOPY_TEST_FIDELITY_SHARE_DIR", "wsd");
    ep_smb_pool *pool = new_pool(itest_require_env());
    ep *e = open_ep(pool, share, "wsd");
    const uint32_t ogd = EP_SD_OWNER | EP_SD_GROUP | EP_SD_DACL;
    e->sd_parts = ogd;
    static const char body[] = "whole file, descriptor and all";
    const size_t blen = sizeof body - 1;
    write_file(e, "a.txt", body, blen, NULL);

    smb_error err = {0};
    uint8_t buf[256];
    size_t n = 0;
    ep_stat after;
    ep_sd sd = {0};
    err.code = SMB_ERR_SERVER; /* stale: a success leaves err->code 0 */
    IT_OK(e->ops->read_whole(e, "a.txt", buf, sizeof buf, &n, &after, &sd, &err), err);
    assert_int_equal(err.code, 0);
    assert_int_equal(n, blen);
    assert_memory_equal(buf, body, blen);
    assert_int_equal(after.size, blen);
    assert_int_equal(after.streams, EP_STREAMS_NONE);
    assert_int_equal(sd.parts, ogd);
    ep_file *f = NULL;
    ep_sd on_open = {0};
    IT_OK(e->ops->open_read(e, "a.txt", &f, &err), err);
    IT_OK(e->ops->get_sd(f, ogd, &on_open, &err), err);
    IT_OK(e->ops->close(f, &err), err);
    assert_int_equal(sd.len, on_open.len);
    assert_memory_equal(sd.bytes, on_open.bytes, sd.len);
    ep_sd_clear(&on_open);

    /* Written whole with one more ACE, renamed into place, read back whole. */
    uint8_t *more = NULL;
    size_t more_len = 0;
    add_users_ace(&sd, &more, &more_len);
    ep_sd put = {.bytes = more, .len = more_len, .parts = ogd};
    ep_stat meta = {.type = EP_FILE, .size = blen, .mtime = 132500000000000000ull}, got = {0};
    IT_OK(e->ops->write_whole(e, ".b.tmp", "b.txt", body, blen, &meta, &put, &got, &err), err);
    assert_int_equal(err.code, 0);
    assert_int_equal(got.size, blen);
    assert_int_equal(got.mtime, meta.mtime);
    ep_sd back = {0};
    IT_OK(e->ops->read_whole(e, "b.txt", buf, sizeof buf, &n, &after, &back, &err), err);
    assert_int_equal(n, blen);
    assert_sd_same(back.bytes, back.len, more, more_len);
    assert_true(dacl_allows(back.bytes, back.len, "S-1-5-32-545"));
    ep_sd_clear(&back);
    ep_stat st;
    assert_int_equal(ep_stat_path(e, ".b.tmp", &st, &err), SMB_ERR_NOT_FOUND);
    /* Without a descriptor (NULL, or none): as before. */
    ep_sd none = {0};
    IT_OK(e->ops->write_whole(e, ".c.tmp", "c.txt", body, blen, &meta, &none, &got, &err), err);
    IT_OK(e->ops->write_whole(e, ".d.tmp", "d.txt", body, blen, &meta, NULL, &got, &err), err);
    assert_body(e, "c.txt", body, blen);
    assert_body(e, "d.txt", body, blen);

    /* A descriptor the server refuses: the write fails; nothing is left under either name. */
    uint8_t bad[28] = {1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0};
    ep_sd refused = {.bytes = bad, .len = sizeof bad, .parts = EP_SD_DACL};
    assert_true(e->ops->write_whole(e, ".e.tmp", "e.txt", body, blen, &meta, &refused, &got, &err) != 0);
    assert_non_null(strstr(err.message, "set the security descriptor of"));
    assert_int_equal(ep_stat_path(e, ".e.tmp", &st, &err), SMB_ERR_NOT_FOUND);
    assert_int_equal(ep_stat_path(e, "e.txt", &st, &err), SMB_ERR_NOT_FOUND);
    e->ops->free(e);

    /*
     * The SACL too, on a fresh endpoint (it has not learnt the privilege is
     * missing): the data and the other parts come, err says the SACL was
     * refused; the second time the SACL is no longer asked for, and the
     * outcome is the same.
     */
    e = open_ep(pool, share, "wsd");
    e->sd_parts = ogd | EP_SD_SACL;
    for (int i = 0; i < 2; i++) {
        memset(buf, 0, sizeof buf);
        memset(&err, 0, sizeof err);
        IT_OK(e->ops->read_whole(e, "b.txt", buf, sizeof buf, &n, &after, &back, &err), err);
        assert_int_equal(n, blen);
        assert_memory_equal(buf, body, blen);
        assert_int_equal(err.code, SMB_ERR_ACCESS);
        assert_non_null(strstr(err.message, "reading the SACL needs SeSecurityPrivilege"));
        /* The first time the server's refusal (of the CREATE's ACCESS_SYSTEM_SECURITY), then none asked. */
        if (i == 0)
            assert_int_equal(err.ntstatus, 0xC0000061u /* STATUS_PRIVILEGE_NOT_HELD */);
        else
            assert_int_equal(err.ntstatus, 0);
        assert_int_equal(back.parts, ogd);
        assert_sd_same(back.bytes, back.len, more, more_len);
        ep_sd_clear(&back);
    }
    e->ops->free(e);
    e = open_ep(pool, share, "wsd");
    e->sd_parts = ogd | EP_SD_SACL;
    put.parts = EP_SD_DACL | EP_SD_SACL;
    for (int i = 0; i < 2; i++) {
        const char *rel = i ? "g.txt" : "f.txt";
        memset(&err, 0, sizeof err);
        IT_OK(e->ops->write_whole(e, ".f.tmp", rel, body, blen, &meta, &put, &got, &err), err);
        assert_int_equal(err.code, SMB_ERR_ACCESS);
        assert_non_null(strstr(err.message, "setting the SACL needs SeSecurityPrivilege"));
        if (i == 0)
            assert_int_equal(err.ntstatus, 0xC0000061u /* STATUS_PRIVILEGE_NOT_HELD */);
        else
            assert_int_equal(err.ntstatus, 0);
        assert_body(e, rel, body, blen);
        e->sd_parts = ogd;
        IT_OK(e->ops->read_whole(e, rel, buf, sizeof buf, &n, &after, &back, &err), err);
        e->sd_parts = ogd | EP_SD_SACL;
        assert_true(dacl_allows(back.bytes, back.len, "S-1-5-32-545"));
        ep_sd_clear(&back);
    }
    free(more);
    ep_sd_clear(&sd);
    e->ops->free(e);
    ep_smb_pool_free(pool);
}

static int group_setup(void **state)
{
    (void)state;
    itest_require_env();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_streams_roundtrip),   cmocka_unit_test(test_read_file_streams),
        cmocka_unit_test(test_streams_too_large),   cmocka_unit_test(test_share_without_streams),
        cmocka_unit_test(test_sd_roundtrip),        cmocka_unit_test(test_sacl_refused),
        cmocka_unit_test(test_file_ex_sd),          cmocka_unit_test(test_whole_sd),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}

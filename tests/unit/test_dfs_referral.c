/*
 * DFS referrals (MS-DFSC): REQ_GET_DFS_REFERRAL's bytes, RESP_GET_DFS_REFERRAL
 * decoded for every entry version (hand-built from the layouts of MS-DFSC
 * 2.2.4 and 2.2.5, and as Samba 4.17 answers), malformed responses refused,
 * the rewrite of a DFS path onto a target (MS-DFSC 3.1.4.2) and the
 * referral cache.
 */
#include <pthread.h>
#include <stdio.h>

#include "pdu_test_util.h"
#include "pdu_dfs.h"
#include "utf16.h"

#include <smbcopy/dfs.h>

/* ------------------------------------------------------------ building responses */

/* One entry of a hand-built response. */
typedef struct t_entry {
    uint16_t version;
    uint16_t server_type;
    uint16_t flags;
    uint32_t ttl;
    const char *dfs_path; /* V2-4 */
    const char *alt_path; /* V2-4 */
    const char *addr;     /* the target (V1: ShareName) */
    /* NameListReferral (V3/V4 with flags 0x0002) */
    const char *special;
    const char *const *names;
    uint16_t nnames;
} t_entry;

#define NAME_LIST 0x0002u
#define TARGET_SET_BOUNDARY 0x0004u
#define HDR_R 0x1u
#define HDR_S 0x2u
#define HDR_T 0x4u

static void t_str16(smb_wr *w, const char *s)
{
    assert_true(smb_wr_utf8_as_utf16le(w, s, strlen(s), SMB_UTF8_WTF8));
    smb_wr_u16(w, 0);
}

/* Bytes of s in UTF-16LE without the NUL: PathConsumed for the path s. */
static uint16_t t_consumed(const char *s)
{
    size_t len = 0;
    uint8_t *u = smb_utf8_to_utf16le(s, strlen(s), &len);
    assert_non_null(u);
    free(u);
    return (uint16_t)len;
}

/*
 * A response with the entries' fixed parts one after the other (V1 with
 * its ShareName inline) and then every string, each offset counted from
 * the start of its entry (MS-DFSC 2.2.5.2-2.2.5.4).
 */
static void t_build(smb_wr *w, uint16_t consumed, uint32_t hflags, const t_entry *e, size_t n)
{
    smb_wr_init_grow(w, 512);
    smb_wr_u16(w, consumed);
    smb_wr_u16(w, (uint16_t)n);
    smb_wr_u32(w, hflags);
    size_t start[16], slot[16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) {
        start[i] = w->len;
        smb_wr_u16(w, e[i].version);
        size_t size_at = smb_wr_reserve(w, 2);
        smb_wr_u16(w, e[i].server_type);
        smb_wr_u16(w, e[i].flags);
        if (e[i].version == 1) {
            t_str16(w, e[i].addr);
        } else {
            if (e[i].version == 2)
                smb_wr_u32(w, 0); /* Proximity */
            smb_wr_u32(w, e[i].ttl);
            slot[i] = w->len;
            if (e[i].version >= 3 && (e[i].flags & NAME_LIST)) {
                smb_wr_u16(w, 0);           /* SpecialNameOffset, patched */
                smb_wr_u16(w, e[i].nnames); /* NumberOfExpandedNames */
                smb_wr_u16(w, 0);           /* ExpandedNameOffset, patched */
            } else {
                smb_wr_zero(w, 6); /* three offsets, patched */
                if (e[i].version >= 3)
                    smb_wr_zero(w, 16); /* ServiceSiteGuid */
            }
        }
        smb_wr_put_u16(w, size_at, (uint16_t)(w->len - start[i]));
    }
    for (size_t i = 0; i < n; i++) {
        if (e[i].version == 1)
            continue;
        if (e[i].version >= 3 && (e[i].flags & NAME_LIST)) {
            smb_wr_put_u16(w, slot[i], (uint16_t)(w->len - start[i]));
            t_str16(w, e[i].special);
            smb_wr_put_u16(w, slot[i] + 4, (uint16_t)(w->len - start[i]));
            for (uint16_t k = 0; k < e[i].nnames; k++)
                t_str16(w, e[i].names[k]);
            continue;
        }
        const char *s[3] = {e[i].dfs_path, e[i].alt_path, e[i].addr};
        for (size_t k = 0; k < 3; k++) {
            smb_wr_put_u16(w, slot[i] + 2 * k, (uint16_t)(w->len - start[i]));
            t_str16(w, s[k]);
        }
    }
    assert_true(smb_wr_ok(w));
}

/* Decode buf[0..len) (from a heap block of exactly that size) for request. */
static int t_decode(const uint8_t *buf, size_t len, const char *request, smb_dfs_referral **out)
{
    uint8_t *copy = t_exact_copy(buf, len);
    int rc = smb_dfs_referral_decode(copy, len, request, out);
    free(copy);
    return rc;
}

static void t_expect_refused(const uint8_t *buf, size_t len, const char *request)
{
    smb_dfs_referral *r = (smb_dfs_referral *)&r; /* not NULL: the decoder must clear it */
    assert_int_equal(t_decode(buf, len, request, &r), SMB_ERR_PROTOCOL);
    assert_null(r);
}

/* The whole buffer decodes; every shorter prefix of it is refused. */
static void t_truncations_refused(const uint8_t *buf, size_t len, const char *request)
{
    smb_dfs_referral *r = NULL;
    assert_int_equal(t_decode(buf, len, request, &r), 0);
    smb_dfs_referral_free(r);
    for (size_t cut = 0; cut < len; cut++)
        t_expect_refused(buf, cut, request);
}

static void t_target(const smb_dfs_referral *r, size_t i, const char *server, const char *share, const char *path)
{
    assert_true(i < r->ntargets);
    assert_string_equal(r->targets[i].server, server);
    assert_string_equal(r->targets[i].share, share);
    assert_string_equal(r->targets[i].path, path);
}

/* ------------------------------------------------------------ request, paths */

static void test_request_bytes(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 32);
    assert_int_equal(smb_dfs_referral_req_encode(&w, "\\a\\b"), 0);
    static const uint8_t want[] = {0x04, 0x00, 0x5c, 0x00, 0x61, 0x00, 0x5c, 0x00, 0x62, 0x00, 0x00, 0x00};
    assert_int_equal(w.len, sizeof want);
    assert_memory_equal(w.buf, want, sizeof want);
    smb_wr_free(&w);
    /* Not UTF-8: refused. */
    smb_wr_init_grow(&w, 32);
    assert_int_equal(smb_dfs_referral_req_encode(&w, "\\a\\\xff"), SMB_ERR_BAD_NAME);
    smb_wr_free(&w);
}

/* REQ_GET_DFS_REFERRAL_EX (MS-DFSC 2.2.3): level, flags, RequestDataLength, then RequestData (2.2.3.1). */
static void test_request_ex_bytes(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 32);
    assert_int_equal(smb_dfs_referral_req_ex_encode(&w, "\\a\\b"), 0);
    static const uint8_t want[] = {
        0x04, 0x00,             /* MaxReferralLevel 4 */
        0x00, 0x00,             /* RequestFlags: no SiteName */
        0x0a, 0x00, 0x00, 0x00, /* RequestDataLength: 2 + 8 */
        0x08, 0x00,             /* RequestFileNameLength: 8 bytes, no NUL */
        0x5c, 0x00, 0x61, 0x00, 0x5c, 0x00, 0x62, 0x00,
    };
    assert_int_equal(w.len, sizeof want);
    assert_memory_equal(w.buf, want, sizeof want);
    smb_wr_free(&w);
    smb_wr_init_grow(&w, 32);
    assert_int_equal(smb_dfs_referral_req_ex_encode(&w, "\\a\\\xff"), SMB_ERR_BAD_NAME);
    smb_wr_free(&w);
    /* A name whose length does not fit RequestFileNameLength's 16 bits: refused, not cut. */
    size_t n = 40000;
    char *big = malloc(n + 2);
    assert_non_null(big);
    big[0] = '\\';
    memset(big + 1, 'x', n);
    big[n + 1] = '\0';
    smb_wr_init_grow(&w, 32);
    assert_int_equal(smb_dfs_referral_req_ex_encode(&w, big), SMB_ERR_BAD_NAME);
    smb_wr_free(&w);
    free(big);
}

static void test_normalize(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"\\\\srv\\root\\link", "\\srv\\root\\link"},
        {"//srv/root/", "\\srv\\root"},
        {"srv\\\\root//x", "\\srv\\root\\x"},
        {"\\srv", "\\srv"},
        {"", ""},
        {"\\\\", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *n = smb_dfs_path_normalize(cases[i][0]);
        assert_non_null(n);
        assert_string_equal(n, cases[i][1]);
        free(n);
    }
    assert_int_equal(smb_dfs_prefix_covers("\\a\\b", "\\a\\b"), 4);
    assert_int_equal(smb_dfs_prefix_covers("\\a\\b", "\\A\\B\\c"), 4);
    assert_int_equal(smb_dfs_prefix_covers("\\a\\b", "\\a\\bc"), -1);
    assert_int_equal(smb_dfs_prefix_covers("\\a\\b", "\\a"), -1);
    assert_int_equal(smb_dfs_prefix_covers("", "\\a"), -1);
}

/* ------------------------------------------------------------ versions 1-4 */

/* Version 1 (MS-DFSC 2.2.5.1): the target inline, no time to live. */
static void test_v1(void **state)
{
    (void)state;
    const t_entry e[] = {{.version = 1, .server_type = 0, .addr = "\\fs1\\share\\sub\\dir"}};
    smb_wr w;
    t_build(&w, t_consumed("\\dom\\root\\link"), HDR_S, e, 1);
    /* The layout: 8-byte header, the entry's 8 fixed bytes, then 18 UTF-16 units and the NUL. */
    assert_int_equal(w.len, 8 + 8 + 2 * 19);
    assert_int_equal(smb_le16(w.buf + 10), 8 + 2 * 19);
    smb_dfs_referral *r = NULL;
    assert_int_equal(t_decode(w.buf, w.len, "\\dom\\root\\link\\a\\b", &r), 0);
    assert_string_equal(r->prefix, "\\dom\\root\\link");
    assert_int_equal(r->version, 1);
    assert_false(r->root);
    assert_true(r->storage_servers);
    assert_false(r->target_failback);
    assert_int_equal(r->ttl, SMB_DFS_DEFAULT_TTL);
    assert_int_equal(r->ntargets, 1);
    t_target(r, 0, "fs1", "share", "sub\\dir");
    assert_false(r->name_list);
    assert_string_equal(r->special_name, "");
    assert_int_equal(r->nexpanded, 0);
    assert_null(r->expanded_names);
    smb_dfs_referral_free(r);
    t_truncations_refused(w.buf, w.len, "\\dom\\root\\link\\a\\b");
    smb_wr_free(&w);
}

/* Version 2 (MS-DFSC 2.2.5.2): a root referral with two targets; the time
 * to live is the smallest of the entries'. */
static void test_v2(void **state)
{
    (void)state;
    const t_entry e[] = {
        {.version = 2, .server_type = 1, .ttl = 1800, .dfs_path = "\\srv\\root", .alt_path = "\\srv\\root",
         .addr = "\\fs2\\root"},
        {.version = 2, .server_type = 1, .ttl = 900, .dfs_path = "\\srv\\root", .alt_path = "\\srv\\root",
         .addr = "\\fs2b\\root2"},
    };
    smb_wr w;
    t_build(&w, t_consumed("\\srv\\root"), HDR_R | HDR_S | HDR_T, e, 2);
    assert_int_equal(smb_le16(w.buf + 10), 22); /* Size of a V2 entry */
    smb_dfs_referral *r = NULL;
    assert_int_equal(t_decode(w.buf, w.len, "\\srv\\root\\dir\\file.txt", &r), 0);
    assert_string_equal(r->prefix, "\\srv\\root");
    assert_int_equal(r->version, 2);
    assert_true(r->root);
    assert_true(r->storage_servers);
    assert_true(r->target_failback);
    assert_int_equal(r->ttl, 900);
    assert_int_equal(r->ntargets, 2);
    t_target(r, 0, "fs2", "root", "");
    t_target(r, 1, "fs2b", "root2", "");
    smb_dfs_referral_free(r);
    t_truncations_refused(w.buf, w.len, "\\srv\\root\\dir\\file.txt");
    smb_wr_free(&w);
}

/* Version 3 (MS-DFSC 2.2.5.3.1): a link whose target has a path. */
static void test_v3(void **state)
{
    (void)state;
    const t_entry e[] = {
        {.version = 3, .server_type = 0, .ttl = 600, .dfs_path = "\\srv\\root\\link", .alt_path = "\\srv\\root\\link",
         .addr = "\\fs3\\data\\projects\\x"},
        {.version = 3, .server_type = 0, .ttl = 300, .dfs_path = "\\srv\\root\\link", .alt_path = "\\srv\\root\\link",
         .addr = "\\fs4\\data"},
    };
    smb_wr w;
    t_build(&w, t_consumed("\\srv\\root\\link"), 0, e, 2);
    assert_int_equal(smb_le16(w.buf + 10), 34); /* Size of a V3 entry */
    smb_dfs_referral *r = NULL;
    assert_int_equal(t_decode(w.buf, w.len, "\\srv\\root\\link\\sub", &r), 0);
    assert_string_equal(r->prefix, "\\srv\\root\\link");
    assert_int_equal(r->version, 3);
    assert_false(r->root);
    assert_false(r->storage_servers);
    assert_false(r->target_failback);
    assert_int_equal(r->ttl, 300);
    assert_int_equal(r->ntargets, 2);
    t_target(r, 0, "fs3", "data", "projects\\x");
    t_target(r, 1, "fs4", "data", "");
    assert_false(r->targets[0].target_set_boundary);
    smb_dfs_referral_free(r);
    t_truncations_refused(w.buf, w.len, "\\srv\\root\\link\\sub");
    smb_wr_free(&w);
}

/* A DC referral (MS-DFSC 2.2.5.3.2, 3.2.5.3): the domain and its two DCs. */
static void test_v3_dc_referral(void **state)
{
    (void)state;
    static const char *const dcs[] = {"\\dc1.example.com", "\\dc2.example.com"};
    const t_entry e[] = {{.version = 3, .server_type = 0, .flags = NAME_LIST, .ttl = 900,
                          .special = "\\EXAMPLE.COM", .names = dcs, .nnames = 2}};
    smb_wr w;
    t_build(&w, t_consumed("\\EXAMPLE.COM"), 0, e, 1);
    assert_int_equal(smb_le16(w.buf + 10), 18); /* Size of a V3 name-list entry */
    smb_dfs_referral *r = NULL;
    assert_int_equal(t_decode(w.buf, w.len, "\\EXAMPLE.COM", &r), 0);
    assert_true(r->name_list);
    assert_string_equal(r->prefix, "\\EXAMPLE.COM");
    assert_int_equal(r->version, 3);
    assert_int_equal(r->ttl, 900);
    assert_int_equal(r->ntargets, 0);
    assert_null(r->targets);
    assert_string_equal(r->special_name, "\\EXAMPLE.COM");
    assert_int_equal(r->nexpanded, 2);
    assert_string_equal(r->expanded_names[0], "\\dc1.example.com");
    assert_string_equal(r->expanded_names[1], "\\dc2.example.com");
    smb_dfs_referral_free(r);
    t_truncations_refused(w.buf, w.len, "\\EXAMPLE.COM");
    smb_wr_free(&w);

    /* A domain referral (request ""): one entry per domain, each named in
     * SpecialName only; nothing was consumed. */
    const t_entry d[] = {
        {.version = 3, .flags = NAME_LIST, .ttl = 600, .special = "\\EXAMPLE"},
        {.version = 3, .flags = NAME_LIST, .ttl = 600, .special = "\\example.com"},
    };
    t_build(&w, 0, 0, d, 2);
    assert_int_equal(t_decode(w.buf, w.len, "", &r), 0);
    assert_true(r->name_list);
    assert_string_equal(r->prefix, "");
    assert_string_equal(r->special_name, "\\EXAMPLE");
    assert_int_equal(r->nexpanded, 2);
    assert_string_equal(r->expanded_names[0], "\\EXAMPLE");
    assert_string_equal(r->expanded_names[1], "\\example.com");
    smb_dfs_referral_free(r);
    smb_wr_free(&w);
}

/* Version 4 (MS-DFSC 2.2.5.4): two targets, the first starting a target set. */
static void test_v4_two_targets(void **state)
{
    (void)state;
    const t_entry e[] = {
        {.version = 4, .server_type = 1, .flags = TARGET_SET_BOUNDARY, .ttl = 1200, .dfs_path = "\\corp\\ns",
         .alt_path = "\\corp\\ns", .addr = "\\ns1.corp\\ns"},
        {.version = 4, .server_type = 1, .ttl = 1200, .dfs_path = "\\corp\\ns", .alt_path = "\\corp\\ns",
         .addr = "\\ns2.corp\\ns\\"},
    };
    smb_wr w;
    t_build(&w, t_consumed("\\corp\\ns"), HDR_R | HDR_S | HDR_T, e, 2);
    smb_dfs_referral *r = NULL;
    assert_int_equal(t_decode(w.buf, w.len, "\\corp\\ns\\team\\doc.txt", &r), 0);
    assert_string_equal(r->prefix, "\\corp\\ns");
    assert_int_equal(r->version, 4);
    assert_true(r->root);
    assert_true(r->storage_servers);
    assert_true(r->target_failback);
    assert_int_equal(r->ttl, 1200);
    assert_int_equal(r->ntargets, 2);
    t_target(r, 0, "ns1.corp", "ns", "");
    t_target(r, 1, "ns2.corp", "ns", ""); /* a trailing separator is no path */
    assert_true(r->targets[0].target_set_boundary);
    assert_false(r->targets[1].target_set_boundary);
    smb_dfs_referral_free(r);
    t_truncations_refused(w.buf, w.len, "\\corp\\ns\\team\\doc.txt");
    smb_wr_free(&w);
}

/* ------------------------------------------------------------ Samba 4.17 */

/* Samba 4.17's answer (host msdfs = yes, share "dfsroot" with msdfs root =
 * yes) to FSCTL_DFS_GET_REFERRALS for "\127.0.0.1\dfsroot", as captured:
 * PathConsumed 36, one V3 root entry (Size 34, TTL 600), flags R|S. */
static const uint8_t samba_root[] = {
        0x24, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x22, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x58, 0x02, 0x00, 0x00, 0x22, 0x00, 0x48, 0x00, 0x6e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x31, 0x00, 0x32, 0x00,
        0x37, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x31, 0x00, 0x5c, 0x00,
        0x64, 0x00, 0x66, 0x00, 0x73, 0x00, 0x72, 0x00, 0x6f, 0x00, 0x6f, 0x00, 0x74, 0x00, 0x00, 0x00,
        0x5c, 0x00, 0x31, 0x00, 0x32, 0x00, 0x37, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x30, 0x00,
        0x2e, 0x00, 0x31, 0x00, 0x5c, 0x00, 0x64, 0x00, 0x66, 0x00, 0x73, 0x00, 0x72, 0x00, 0x6f, 0x00,
        0x6f, 0x00, 0x74, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x31, 0x00, 0x32, 0x00, 0x37, 0x00, 0x2e, 0x00,
        0x30, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x31, 0x00, 0x5c, 0x00, 0x64, 0x00, 0x66, 0x00,
        0x73, 0x00, 0x72, 0x00, 0x6f, 0x00, 0x6f, 0x00, 0x74, 0x00, 0x00, 0x00,
};

/* Samba 4.17's answer for "\127.0.0.1\dfsroot\link\sub\file", where
 * "link" is a symbolic link to "msdfs:127.0.0.1\other,127.0.0.2\other", as
 * captured: PathConsumed 46 (the link), two V3 link entries, flags S. */
static const uint8_t samba_link[] = {
        0x2e, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03, 0x00, 0x22, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x58, 0x02, 0x00, 0x00, 0x44, 0x00, 0x74, 0x00, 0xa4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x22, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x58, 0x02, 0x00, 0x00, 0xa4, 0x00, 0xd4, 0x00, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x31, 0x00,
        0x32, 0x00, 0x37, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x31, 0x00,
        0x5c, 0x00, 0x64, 0x00, 0x66, 0x00, 0x73, 0x00, 0x72, 0x00, 0x6f, 0x00, 0x6f, 0x00, 0x74, 0x00,
        0x5c, 0x00, 0x6c, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x6b, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x31, 0x00,
        0x32, 0x00, 0x37, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x31, 0x00,
        0x5c, 0x00, 0x64, 0x00, 0x66, 0x00, 0x73, 0x00, 0x72, 0x00, 0x6f, 0x00, 0x6f, 0x00, 0x74, 0x00,
        0x5c, 0x00, 0x6c, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x6b, 0x00, 0x00, 0x00, 0x5c, 0x00, 0x31, 0x00,
        0x32, 0x00, 0x37, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x31, 0x00,
        0x5c, 0x00, 0x6f, 0x00, 0x74, 0x00, 0x68, 0x00, 0x65, 0x00, 0x72, 0x00, 0x00, 0x00, 0x5c, 0x00,
        0x31, 0x00, 0x32, 0x00, 0x37, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00,
        0x31, 0x00, 0x5c, 0x00, 0x64, 0x00, 0x66, 0x00, 0x73, 0x00, 0x72, 0x00, 0x6f, 0x00, 0x6f, 0x00,
        0x74, 0x00, 0x5c, 0x00, 0x6c, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x6b, 0x00, 0x00, 0x00, 0x5c, 0x00,
        0x31, 0x00, 0x32, 0x00, 0x37, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00,
        0x31, 0x00, 0x5c, 0x00, 0x64, 0x00, 0x66, 0x00, 0x73, 0x00, 0x72, 0x00, 0x6f, 0x00, 0x6f, 0x00,
        0x74, 0x00, 0x5c, 0x00, 0x6c, 0x00, 0x69, 0x00, 0x6e, 0x00, 0x6b, 0x00, 0x00, 0x00, 0x5c, 0x00,
        0x31, 0x00, 0x32, 0x00, 0x37, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00, 0x30, 0x00, 0x2e, 0x00,
        0x32, 0x00, 0x5c, 0x00, 0x6f, 0x00, 0x74, 0x00, 0x68, 0x00, 0x65, 0x00, 0x72, 0x00, 0x00, 0x00,
};

static void test_captured_samba(void **state)
{
    (void)state;
    smb_dfs_referral *r = NULL;
    assert_int_equal(t_decode(samba_root, sizeof samba_root, "\\127.0.0.1\\dfsroot", &r), 0);
    assert_string_equal(r->prefix, "\\127.0.0.1\\dfsroot");
    assert_int_equal(r->version, 3);
    assert_true(r->root);
    assert_true(r->storage_servers);
    assert_false(r->target_failback);
    assert_int_equal(r->ttl, 600);
    assert_int_equal(r->ntargets, 1);
    t_target(r, 0, "127.0.0.1", "dfsroot", "");
    assert_false(r->name_list);
    smb_dfs_referral_free(r);

    const char *req = "\\127.0.0.1\\dfsroot\\link\\sub\\file";
    assert_int_equal(t_decode(samba_link, sizeof samba_link, req, &r), 0);
    assert_string_equal(r->prefix, "\\127.0.0.1\\dfsroot\\link");
    assert_int_equal(r->version, 3);
    assert_false(r->root);
    assert_true(r->storage_servers);
    assert_false(r->target_failback);
    assert_int_equal(r->ttl, 600);
    assert_int_equal(r->ntargets, 2);
    t_target(r, 0, "127.0.0.1", "other", "");
    t_target(r, 1, "127.0.0.2", "other", "");
    char *server = NULL, *share = NULL, *rest = NULL;
    assert_int_equal(smb_dfs_rewrite(r, 1, req, &server, &share, &rest, NULL), 0);
    assert_string_equal(server, "127.0.0.2");
    assert_string_equal(share, "other");
    assert_string_equal(rest, "sub\\file");
    free(server);
    free(share);
    free(rest);
    smb_dfs_referral_free(r);

    t_truncations_refused(samba_root, sizeof samba_root, "\\127.0.0.1\\dfsroot");
    t_truncations_refused(samba_link, sizeof samba_link, req);
}

/* ------------------------------------------------------------ malformed */

/* A copy of the captured link answer with one 16-bit field changed. */
static void t_patched_refused(size_t at, uint16_t v)
{
    uint8_t buf[sizeof samba_link];
    memcpy(buf, samba_link, sizeof buf);
    smb_put16(buf + at, v);
    t_expect_refused(buf, sizeof buf, "\\127.0.0.1\\dfsroot\\link\\sub\\file");
}

/* Entry 1 starts at 8, entry 2 at 42; a V3 entry's offsets are at +12,
 * +14, +16 (DFSPath, DFSAlternatePath, NetworkAddress). */
static void test_bad_offsets_and_sizes(void **state)
{
    (void)state;
    size_t len = sizeof samba_link;
    t_patched_refused(8 + 16, (uint16_t)(len - 8));      /* NetworkAddress at the very end */
    t_patched_refused(8 + 16, 0xFFFF);                   /* far past the end */
    t_patched_refused(42 + 12, (uint16_t)(len - 42 + 2)); /* DFSPath past the end */
    t_patched_refused(42 + 14, 4);                       /* inside the entry's fixed fields */
    t_patched_refused(8 + 16, 0);                        /* the entry itself */
    t_patched_refused(42 + 2, 33);                       /* Size below a V3 entry's */
    t_patched_refused(42 + 2, (uint16_t)(len - 42 + 1)); /* Size past the end */
    t_patched_refused(8 + 4, 2);                         /* ServerType 2 does not exist */
    t_patched_refused(8, 5);                             /* version 5 was not asked for */
    t_patched_refused(8, 0);                             /* nor version 0 */
    /* NetworkAddress pointing at a string without a NUL before the end:
     * the last string, its NUL cut off, is covered by the truncations. */
}

static void test_mixed_versions(void **state)
{
    (void)state;
    t_patched_refused(42, 4); /* entry 1 V3, entry 2 V4 */
    t_patched_refused(42, 2);

    /* A name list beside a link entry. */
    static const char *const dcs[] = {"\\dc1"};
    const t_entry e[] = {
        {.version = 3, .ttl = 600, .dfs_path = "\\d\\r", .alt_path = "\\d\\r", .addr = "\\fs\\r"},
        {.version = 3, .flags = NAME_LIST, .ttl = 600, .special = "\\d", .names = dcs, .nnames = 1},
    };
    smb_wr w;
    t_build(&w, t_consumed("\\d\\r"), 0, e, 2);
    t_expect_refused(w.buf, w.len, "\\d\\r");
    smb_wr_free(&w);
}

static void test_referral_count(void **state)
{
    (void)state;
    t_patched_refused(2, 0); /* no referral at all */
    t_patched_refused(2, 3); /* more than there are */
    /* The cap: SMB_DFS_REFERRALS_MAX entries decode, one more is refused. */
    smb_wr w;
    smb_wr_init_grow(&w, 16 + 36 * (SMB_DFS_REFERRALS_MAX + 1));
    smb_wr_u16(&w, t_consumed("\\a\\b"));
    smb_wr_u16(&w, SMB_DFS_REFERRALS_MAX);
    smb_wr_u32(&w, 0);
    for (size_t i = 0; i <= SMB_DFS_REFERRALS_MAX; i++) {
        smb_wr_u16(&w, 1);  /* V1 */
        smb_wr_u16(&w, 18); /* Size: 8 + "\x\y" and its NUL */
        smb_wr_u16(&w, 0);
        smb_wr_u16(&w, 0);
        t_str16(&w, "\\x\\y");
    }
    smb_dfs_referral *r = NULL;
    assert_int_equal(t_decode(w.buf, w.len, "\\a\\b", &r), 0);
    assert_int_equal(r->ntargets, SMB_DFS_REFERRALS_MAX);
    t_target(r, SMB_DFS_REFERRALS_MAX - 1, "x", "y", "");
    smb_dfs_referral_free(r);
    smb_put16(w.buf + 2, SMB_DFS_REFERRALS_MAX + 1);
    t_expect_refused(w.buf, w.len, "\\a\\b");
    smb_wr_free(&w);
}

static void test_path_consumed(void **state)
{
    (void)state;
    const char *req = "\\127.0.0.1\\dfsroot\\link\\sub\\file";
    uint16_t whole = t_consumed(req);
    t_patched_refused(0, 45);            /* odd: half a UTF-16 unit */
    t_patched_refused(0, whole + 2);     /* longer than the request */
    t_patched_refused(0, 0);             /* nothing, for a link */
    /* The whole request; a trailing separator is not part of the prefix. */
    uint8_t buf[sizeof samba_link];
    memcpy(buf, samba_link, sizeof buf);
    smb_put16(buf, whole);
    smb_dfs_referral *r = NULL;
    assert_int_equal(t_decode(buf, sizeof buf, req, &r), 0);
    assert_string_equal(r->prefix, req);
    smb_dfs_referral_free(r);
    smb_put16(buf, 48);
    assert_int_equal(t_decode(buf, sizeof buf, "\\127.0.0.1\\dfsroot\\link\\", &r), 0);
    assert_string_equal(r->prefix, "\\127.0.0.1\\dfsroot\\link");
    smb_dfs_referral_free(r);
    /* Non-ASCII: PathConsumed counts UTF-16 bytes, not UTF-8 ones. */
    const t_entry e[] = {{.version = 1, .addr = "\\fs\\s"}};
    smb_wr w;
    t_build(&w, t_consumed("\\d\\caf\xc3\xa9"), 0, e, 1);
    assert_int_equal(smb_le16(w.buf), 14);
    assert_int_equal(t_decode(w.buf, w.len, "\\d\\caf\xc3\xa9\\x", &r), 0);
    assert_string_equal(r->prefix, "\\d\\caf\xc3\xa9");
    smb_dfs_referral_free(r);
    smb_wr_free(&w);
}

/* Targets must name a server and a share. */
static void test_bad_targets(void **state)
{
    (void)state;
    static const char *const bad[] = {"\\fs1", "\\fs1\\", "fs1\\share", "\\", "", "\\\\\\share"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const t_entry e[] = {{.version = 3, .ttl = 60, .dfs_path = "\\d\\r", .alt_path = "\\d\\r", .addr = bad[i]}};
        smb_wr w;
        t_build(&w, t_consumed("\\d\\r"), 0, e, 1);
        t_expect_refused(w.buf, w.len, "\\d\\r");
        smb_wr_free(&w);
    }
    /* Two leading separators are read as one. */
    const t_entry e[] = {{.version = 3, .ttl = 60, .dfs_path = "\\d\\r", .alt_path = "\\d\\r", .addr = "\\\\fs\\s\\p"}};
    smb_wr w;
    t_build(&w, t_consumed("\\d\\r"), 0, e, 1);
    smb_dfs_referral *r = NULL;
    assert_int_equal(t_decode(w.buf, w.len, "\\d\\r", &r), 0);
    t_target(r, 0, "fs", "s", "p");
    smb_dfs_referral_free(r);
    smb_wr_free(&w);
    /* A name list whose names are empty. */
    static const char *const empty[] = {""};
    const t_entry n[] = {{.version = 3, .flags = NAME_LIST, .ttl = 60, .special = "\\d", .names = empty, .nnames = 1}};
    t_build(&w, 0, 0, n, 1);
    t_expect_refused(w.buf, w.len, "\\d");
    smb_wr_free(&w);
}

/* ------------------------------------------------------------ rewrite */

static smb_dfs_target t_tgt(const char *server, const char *share, const char *path)
{
    return (smb_dfs_target){.server = (char *)server, .share = (char *)share, .path = (char *)path};
}

/* rewrite(r, i, path) must give server, share, rest. */
static void t_rewrites(const smb_dfs_referral *r, size_t i, const char *path, const char *server, const char *share,
                       const char *rest)
{
    char *sv = NULL, *sh = NULL, *re = NULL;
    smb_error err = {0};
    assert_int_equal(smb_dfs_rewrite(r, i, path, &sv, &sh, &re, &err), 0);
    assert_string_equal(sv, server);
    assert_string_equal(sh, share);
    assert_string_equal(re, rest);
    free(sv);
    free(sh);
    free(re);
}

static void t_rewrite_refused(const smb_dfs_referral *r, size_t i, const char *path)
{
    char *sv = (char *)1, *sh = (char *)1, *re = (char *)1;
    smb_error err = {0};
    assert_int_equal(smb_dfs_rewrite(r, i, path, &sv, &sh, &re, &err), SMB_ERR_INVALID_ARG);
    assert_int_equal(err.code, SMB_ERR_INVALID_ARG);
    assert_null(sv);
    assert_null(sh);
    assert_null(re);
}

static void test_rewrite(void **state)
{
    (void)state;
    smb_dfs_target root_t[] = {t_tgt("fs1", "root", ""), t_tgt("fs2", "root$", "")};
    smb_dfs_referral root = {.prefix = "\\srv\\root", .version = 3, .root = true, .ttl = 300, .targets = root_t,
                             .ntargets = 2, .special_name = ""};
    t_rewrites(&root, 0, "\\srv\\root\\dir\\f.txt", "fs1", "root", "dir\\f.txt");
    t_rewrites(&root, 1, "\\srv\\root\\dir\\f.txt", "fs2", "root$", "dir\\f.txt");
    t_rewrites(&root, 0, "\\srv\\root", "fs1", "root", "");
    t_rewrites(&root, 0, "//SRV/Root/a/", "fs1", "root", "a"); /* another case, '/' separators */

    smb_dfs_target link_t[] = {t_tgt("fs3", "data", "projects\\x")};
    smb_dfs_referral link = {.prefix = "\\srv\\root\\link", .version = 3, .ttl = 300, .targets = link_t,
                             .ntargets = 1, .special_name = ""};
    t_rewrites(&link, 0, "\\srv\\root\\link", "fs3", "data", "projects\\x");
    t_rewrites(&link, 0, "\\srv\\root\\LINK\\sub\\deeper\\file", "fs3", "data", "projects\\x\\sub\\deeper\\file");

    t_rewrite_refused(&link, 1, "\\srv\\root\\link\\a");   /* no such target */
    t_rewrite_refused(&link, 0, "\\srv\\root\\linkx\\a");  /* not covered: another component */
    t_rewrite_refused(&link, 0, "\\srv\\root");            /* shorter than the prefix */
    t_rewrite_refused(&link, 0, "\\other\\root\\link\\a");
    smb_dfs_referral names = {.prefix = "\\dom", .version = 3, .name_list = true, .special_name = "\\dom"};
    t_rewrite_refused(&names, 0, "\\dom\\x");
}

/* ------------------------------------------------------------ cache */

static uint64_t t_clock(void *ctx) { return *(const uint64_t *)ctx; }

static smb_dfs_referral t_ref(const char *prefix, uint32_t ttl, smb_dfs_target *t)
{
    return (smb_dfs_referral){.prefix = (char *)prefix, .version = 3, .ttl = ttl, .targets = t, .ntargets = 1,
                              .special_name = ""};
}

/* lookup(path) must find the referral whose first target's server is want (NULL: none). */
static void t_lookup(smb_dfs_cache *c, const char *path, const char *want)
{
    smb_dfs_referral *r = (smb_dfs_referral *)&r;
    smb_error err = {0};
    int rc = smb_dfs_cache_lookup(c, path, &r, &err);
    if (!want) {
        assert_int_equal(rc, SMB_ERR_NOT_FOUND);
        assert_int_equal(err.code, SMB_ERR_NOT_FOUND);
        assert_null(r);
        return;
    }
    assert_int_equal(rc, 0);
    assert_non_null(r);
    assert_string_equal(r->targets[0].server, want);
    smb_dfs_referral_free(r);
}

static void test_cache_longest_prefix(void **state)
{
    (void)state;
    uint64_t now = 1000;
    smb_dfs_cache *c = smb_dfs_cache_new();
    assert_non_null(c);
    smb_dfs_cache_set_clock(c, t_clock, &now);
    smb_dfs_target a = t_tgt("root-fs", "root", ""), b = t_tgt("link-fs", "data", ""), d = t_tgt("deep-fs", "d", "");
    smb_dfs_referral ra = t_ref("\\srv\\root", 600, &a), rb = t_ref("\\srv\\root\\link", 300, &b),
                     rd = t_ref("\\srv\\root\\link\\deeper", 300, &d);
    assert_int_equal(smb_dfs_cache_add(c, &rb, NULL), 0); /* the order added does not matter */
    assert_int_equal(smb_dfs_cache_add(c, &ra, NULL), 0);
    assert_int_equal(smb_dfs_cache_add(c, &rd, NULL), 0);
    t_lookup(c, "\\srv\\root", "root-fs");
    t_lookup(c, "\\srv\\root\\x", "root-fs");
    t_lookup(c, "\\srv\\root\\link", "link-fs");
    t_lookup(c, "\\srv\\root\\link\\a\\b", "link-fs");
    t_lookup(c, "\\SRV\\Root\\LINK\\a", "link-fs");      /* without case */
    t_lookup(c, "//srv/root/link/deeper/x", "deep-fs"); /* '/' separators */
    t_lookup(c, "\\srv\\root\\linkx", "root-fs");        /* component-wise */
    t_lookup(c, "\\srv\\rootx", NULL);
    t_lookup(c, "\\srv", NULL);
    t_lookup(c, "\\other\\root", NULL);
    /* A referral without a prefix is not kept. */
    smb_dfs_referral empty = t_ref("", 600, &a);
    smb_error err = {0};
    assert_int_equal(smb_dfs_cache_add(c, &empty, &err), SMB_ERR_INVALID_ARG);
    smb_dfs_cache_free(c);
    smb_dfs_cache_free(NULL);
}

static void test_cache_expiry(void **state)
{
    (void)state;
    uint64_t now = 5000;
    smb_dfs_cache *c = smb_dfs_cache_new();
    smb_dfs_cache_set_clock(c, t_clock, &now);
    smb_dfs_target a = t_tgt("root-fs", "root", ""), b = t_tgt("link-fs", "data", "");
    smb_dfs_referral ra = t_ref("\\srv\\root", 600, &a), rb = t_ref("\\srv\\root\\link", 300, &b);
    assert_int_equal(smb_dfs_cache_add(c, &ra, NULL), 0);
    assert_int_equal(smb_dfs_cache_add(c, &rb, NULL), 0);
    now = 5299;
    t_lookup(c, "\\srv\\root\\link\\f", "link-fs");
    now = 5300; /* the link's 300 s are over: the root's referral covers it */
    t_lookup(c, "\\srv\\root\\link\\f", "root-fs");
    now = 5599;
    t_lookup(c, "\\srv\\root\\x", "root-fs");
    now = 5600;
    t_lookup(c, "\\srv\\root\\x", NULL);
    /* Adding again starts the time to live again, and replaces the entry
     * with the same prefix (without case). */
    smb_dfs_target a2 = t_tgt("root-fs2", "root", "");
    smb_dfs_referral ra2 = t_ref("\\SRV\\ROOT", 600, &a2);
    assert_int_equal(smb_dfs_cache_add(c, &ra, NULL), 0);
    assert_int_equal(smb_dfs_cache_add(c, &ra2, NULL), 0);
    t_lookup(c, "\\srv\\root\\x", "root-fs2");
    now = 6199;
    t_lookup(c, "\\srv\\root\\x", "root-fs2");
    now = 6200;
    t_lookup(c, "\\srv\\root\\x", NULL);
    smb_dfs_cache_free(c);
}

/* What the cache keeps and gives out are copies: changing or freeing one
 * changes nothing in the cache. */
static void test_cache_copies(void **state)
{
    (void)state;
    smb_dfs_cache *c = smb_dfs_cache_new();
    /* The original on the heap, decoded, freed after it was added. */
    smb_wr w;
    const t_entry e[] = {{.version = 3, .ttl = 600, .dfs_path = "\\s\\r", .alt_path = "\\s\\r", .addr = "\\fs\\r\\p"}};
    t_build(&w, t_consumed("\\s\\r"), HDR_S, e, 1);
    smb_dfs_referral *orig = NULL;
    assert_int_equal(t_decode(w.buf, w.len, "\\s\\r", &orig), 0);
    smb_wr_free(&w);
    assert_int_equal(smb_dfs_cache_add(c, orig, NULL), 0);
    orig->targets[0].server[0] = 'X';
    smb_dfs_referral_free(orig);

    smb_dfs_referral *one = NULL, *two = NULL;
    assert_int_equal(smb_dfs_cache_lookup(c, "\\s\\r\\a", &one, NULL), 0);
    assert_string_equal(one->prefix, "\\s\\r");
    assert_true(one->storage_servers);
    assert_int_equal(one->ttl, 600);
    t_target(one, 0, "fs", "r", "p");
    one->targets[0].server[0] = 'Y';
    one->prefix[1] = 'Z';
    assert_int_equal(smb_dfs_cache_lookup(c, "\\s\\r\\a", &two, NULL), 0);
    assert_ptr_not_equal(one, two);
    assert_string_equal(two->prefix, "\\s\\r");
    t_target(two, 0, "fs", "r", "p");
    smb_dfs_referral_free(one);
    smb_dfs_referral_free(two);
    smb_dfs_cache_free(c);
}

/* Many threads adding and looking up at once (a data race shows under
 * the thread sanitizer; a broken list shows as a wrong answer). */
typedef struct t_worker {
    smb_dfs_cache *c;
    int id;
    int bad;
} t_worker;

static void *t_work(void *arg)
{
    t_worker *wk = arg;
    char prefix[64], server[32], path[96];
    snprintf(server, sizeof server, "fs%d", wk->id);
    snprintf(prefix, sizeof prefix, "\\srv\\root\\link%d", wk->id);
    smb_dfs_target t = t_tgt(server, "s", "");
    smb_dfs_referral r = t_ref(prefix, 600, &t);
    for (int i = 0; i < 300; i++) {
        if (smb_dfs_cache_add(wk->c, &r, NULL) != 0)
            wk->bad++;
        snprintf(path, sizeof path, "%s\\f%d", prefix, i);
        smb_dfs_referral *got = NULL;
        if (smb_dfs_cache_lookup(wk->c, path, &got, NULL) != 0 || strcmp(got->targets[0].server, server) != 0)
            wk->bad++;
        smb_dfs_referral_free(got);
    }
    return NULL;
}

static void test_cache_threads(void **state)
{
    (void)state;
    smb_dfs_cache *c = smb_dfs_cache_new();
    pthread_t th[4];
    t_worker wk[4];
    for (int i = 0; i < 4; i++) {
        wk[i] = (t_worker){.c = c, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, t_work, &wk[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(wk[i].bad, 0);
    }
    smb_dfs_cache_free(c);
}

/* The DFS path of a place inside a share (MS-DFSC 2.2.2). */
static void test_path_join(void **state)
{
    (void)state;
    char *p = smb_dfs_path_join("srv", "share", "");
    assert_string_equal(p, "\\srv\\share");
    free(p);
    p = smb_dfs_path_join("srv.example.com", "dept", "a/b\\c");
    assert_string_equal(p, "\\srv.example.com\\dept\\a\\b\\c");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_bytes),
        cmocka_unit_test(test_path_join),
        cmocka_unit_test(test_request_ex_bytes),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_v1),
        cmocka_unit_test(test_v2),
        cmocka_unit_test(test_v3),
        cmocka_unit_test(test_v3_dc_referral),
        cmocka_unit_test(test_v4_two_targets),
        cmocka_unit_test(test_captured_samba),
        cmocka_unit_test(test_bad_offsets_and_sizes),
        cmocka_unit_test(test_mixed_versions),
        cmocka_unit_test(test_referral_count),
        cmocka_unit_test(test_path_consumed),
        cmocka_unit_test(test_bad_targets),
        cmocka_unit_test(test_rewrite),
        cmocka_unit_test(test_cache_longest_prefix),
        cmocka_unit_test(test_cache_expiry),
        cmocka_unit_test(test_cache_copies),
        cmocka_unit_test(test_cache_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

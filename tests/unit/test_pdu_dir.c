/*
 * SMB2 PDUs: READ, WRITE, FLUSH, QUERY_DIRECTORY with the
 * FileIdFullDirectoryInformation iterator, QUERY_INFO, SET_INFO and the
 * file information classes.
 */
#include "pdu_test_util.h"

static const smb2_fileid k_fid = {0x0102030405060708ull, 0x1112131415161718ull};

static void check_fid(const uint8_t *p)
{
    assert_true(smb_le64(p) == k_fid.persistent);
    assert_true(smb_le64(p + 8) == k_fid.volatile_);
}

/* ================================================================ read, write, flush */

static void test_read_req(void **state)
{
    (void)state;
    smb2_read_req req = {.length = 0x100000, .offset = 0x123456789ull, .fid = k_fid, .minimum_count = 1};
    smb_wr w;
    t_wr_msg(&w);
    smb2_read_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64 + 49);
    const uint8_t *b = w.buf + 64;
    assert_int_equal(smb_le16(b), 49);
    assert_int_equal(b[2], 0x50); /* Padding */
    assert_int_equal(b[3], 0);    /* Flags */
    assert_int_equal(smb_le32(b + 4), 0x100000);
    assert_true(smb_le64(b + 8) == 0x123456789ull);
    check_fid(b + 16);
    assert_int_equal(smb_le32(b + 32), 1); /* MinimumCount */
    static const uint8_t zero[13] = {0};    /* Channel .. the Buffer byte */
    assert_memory_equal(b + 36, zero, 13);
    smb_wr_free(&w);
}

static int dec_read(smb_rd *r)
{
    smb2_read_rsp rsp;
    return smb2_read_rsp_decode_fixed(r, &rsp);
}

static void test_read_rsp(void **state)
{
    (void)state;
    uint8_t msg[64 + 16] = {0};
    static const uint8_t body[16] = {0x11, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00,
                                     0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    memcpy(msg + 64, body, 16);
    smb_rd r = t_rd_body(msg, sizeof msg);
    smb2_read_rsp rsp;
    assert_int_equal(smb2_read_rsp_decode_fixed(&r, &rsp), 0);
    assert_int_equal(rsp.data_offset, 0x50);
    assert_int_equal(rsp.data_length, 0x10000);
    assert_int_equal(rsp.data_remaining, 0x1000);
    assert_int_equal(r.pos, 0x50);
    t_truncations_fail(msg, sizeof msg, dec_read);
    t_patch16_expect(msg, sizeof msg, 64, 16, dec_read, SMB_ERR_PROTOCOL);
    msg[66] = 0x4F; /* data would overlap the fixed part */
    t_expect_decode(msg, sizeof msg, dec_read, SMB_ERR_PROTOCOL);
    msg[66] = 0;
    smb_put32(msg + 68, 0); /* no data: the offset does not matter */
    t_expect_decode(msg, sizeof msg, dec_read, 0);
}

/* The data of a whole READ response: inside the message, or refused. */
static void test_read_rsp_data(void **state)
{
    (void)state;
    uint8_t msg[64 + 16 + 5] = {0};
    static const uint8_t body[16] = {0x11, 0x00, 0x50, 0x00, 0x05, 0x00, 0x00, 0x00};
    memcpy(msg + 64, body, 16);
    memcpy(msg + 80, "hello", 5);
    smb2_read_rsp rsp;
    smb2_blob data;
    assert_int_equal(smb2_read_rsp_data(msg, sizeof msg, &rsp, &data), 0);
    assert_int_equal(data.len, 5);
    assert_ptr_equal(data.data, msg + 80);
    /* One byte more than the message holds, and an offset past its end. */
    smb_put32(msg + 68, 6);
    assert_int_equal(smb2_read_rsp_data(msg, sizeof msg, &rsp, &data), SMB_ERR_PROTOCOL);
    assert_int_equal(rsp.data_length, 6);
    assert_null(data.data);
    smb_put32(msg + 68, 5);
    msg[66] = 0x51;
    assert_int_equal(smb2_read_rsp_data(msg, sizeof msg, &rsp, &data), SMB_ERR_PROTOCOL);
    /* A message too short for the fixed part. */
    msg[66] = 0x50;
    assert_int_equal(smb2_read_rsp_data(msg, 64 + 8, &rsp, &data), SMB_ERR_PROTOCOL);
}

static void test_write_req(void **state)
{
    (void)state;
    smb2_write_req req = {.length = 5, .offset = 1ull << 40, .fid = k_fid, .flags = 0x2};
    smb_wr w;
    t_wr_msg(&w);
    smb2_write_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64 + 48);
    assert_int_equal(w.len, SMB2_WRITE_DATA_OFFSET);
    const uint8_t *b = w.buf + 64;
    assert_int_equal(smb_le16(b), 49);
    assert_int_equal(smb_le16(b + 2), SMB2_WRITE_DATA_OFFSET);
    assert_int_equal(smb_le32(b + 4), 5);
    assert_true(smb_le64(b + 8) == 1ull << 40);
    check_fid(b + 16);
    static const uint8_t zero[12] = {0};
    assert_memory_equal(b + 32, zero, 12);
    assert_int_equal(smb_le32(b + 44), 2);
    smb_wr_free(&w);

    /* An empty write still sends one Buffer byte. */
    req.length = 0;
    t_wr_msg(&w);
    smb2_write_req_encode(&w, &req);
    assert_int_equal(w.len, 64 + 49);
    assert_int_equal(w.buf[64 + 48], 0);
    smb_wr_free(&w);
}

static int dec_write(smb_rd *r)
{
    uint32_t count;
    return smb2_write_rsp_decode(r, &count);
}

static void test_write_rsp(void **state)
{
    (void)state;
    uint8_t msg[64 + 16] = {0};
    static const uint8_t body[16] = {0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00};
    memcpy(msg + 64, body, 16);
    smb_rd r = t_rd_body(msg, sizeof msg);
    uint32_t count = 0;
    assert_int_equal(smb2_write_rsp_decode(&r, &count), 0);
    assert_int_equal(count, 0x100000);
    t_truncations_fail(msg, sizeof msg, dec_write);
    t_patch16_expect(msg, sizeof msg, 64, 4, dec_write, SMB_ERR_PROTOCOL);
}

static void test_flush_req(void **state)
{
    (void)state;
    smb_wr w;
    t_wr_msg(&w);
    smb2_flush_req_encode(&w, k_fid);
    assert_int_equal(w.len, 64 + 24);
    static const uint8_t head[8] = {0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_memory_equal(w.buf + 64, head, 8);
    check_fid(w.buf + 72);
    smb_wr_free(&w);
}

/* ================================================================ query directory */

static void test_query_dir_req(void **state)
{
    (void)state;
    uint8_t pat[4];
    size_t plen = t_utf16("*", pat);
    smb2_query_dir_req req = {.info_class = SMB2_FILE_ID_FULL_DIRECTORY_INFORMATION,
                              .flags = SMB2_RESTART_SCANS,
                              .file_index = 0,
                              .fid = k_fid,
                              .pattern_utf16 = pat,
                              .pattern_len = plen,
                              .output_buffer_length = 0x10000};
    smb_wr w;
    t_wr_msg(&w);
    smb2_query_dir_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64 + 32 + 2);
    const uint8_t *b = w.buf + 64;
    assert_int_equal(smb_le16(b), 33);
    assert_int_equal(b[2], 0x26);
    assert_int_equal(b[3], SMB2_RESTART_SCANS);
    assert_int_equal(smb_le32(b + 4), 0);
    check_fid(b + 8);
    assert_int_equal(smb_le16(b + 24), 0x60); /* FileNameOffset */
    assert_int_equal(smb_le16(b + 26), 2);
    assert_int_equal(smb_le32(b + 28), 0x10000);
    assert_memory_equal(w.buf + 0x60, pat, 2);
    smb_wr_free(&w);

    req.pattern_utf16 = NULL;
    req.pattern_len = 0;
    t_wr_msg(&w);
    smb2_query_dir_req_encode(&w, &req);
    assert_int_equal(w.len, 64 + 33);
    assert_int_equal(smb_le16(w.buf + 64 + 26), 0);
    smb_wr_free(&w);
}

/* Append one FILE_ID_FULL_DIR_INFORMATION entry; returns its start so the
 * caller can set NextEntryOffset once the next entry's place is known. */
static size_t t_put_dirent(smb_wr *w, uint32_t index, const uint8_t *name, size_t nlen, uint64_t eof,
                           uint32_t attrs, uint64_t file_id)
{
    size_t start = w->len;
    smb_wr_u32(w, 0); /* NextEntryOffset, patched */
    smb_wr_u32(w, index);
    smb_wr_u64(w, 0x01D9000000000001ull); /* CreationTime */
    smb_wr_u64(w, 0x01D9000000000002ull); /* LastAccessTime */
    smb_wr_u64(w, 0x01D9000000000003ull); /* LastWriteTime */
    smb_wr_u64(w, 0x01D9000000000004ull); /* ChangeTime */
    smb_wr_u64(w, eof);
    smb_wr_u64(w, (eof + 4095) & ~4095ull); /* AllocationSize */
    smb_wr_u32(w, attrs);
    smb_wr_u32(w, (uint32_t)nlen);
    smb_wr_u32(w, 0); /* EaSize */
    smb_wr_u32(w, 0); /* Reserved */
    smb_wr_u64(w, file_id);
    smb_wr_bytes(w, name, nlen);
    return start;
}

/* "héllo😀.txt" in UTF-16LE, with a surrogate pair. */
static const uint8_t k_name3[] = {'h', 0, 0xE9, 0, 'l', 0, 'l', 0, 'o', 0, 0x3D, 0xD8, 0x00, 0xDE,
                                  '.', 0, 't',  0, 'x', 0, 't', 0};

/* A listing as Samba returns it: ".", "..", a file, then "a"; entries
 * 8-aligned, the last one unpadded. */
static void t_make_listing(smb_wr *w)
{
    static const uint8_t dot[] = {'.', 0}, dotdot[] = {'.', 0, '.', 0}, a[] = {'a', 0};
    smb_wr_init_grow(w, 512);
    size_t e0 = t_put_dirent(w, 0, dot, 2, 0, 0x10, 100);
    smb_wr_align(w, 8);
    smb_wr_put_u32(w, e0, (uint32_t)(w->len - e0));
    size_t e1 = t_put_dirent(w, 0, dotdot, 4, 0, 0x10, 5);
    smb_wr_align(w, 8);
    smb_wr_put_u32(w, e1, (uint32_t)(w->len - e1));
    size_t e2 = t_put_dirent(w, 0, k_name3, sizeof k_name3, 5000, 0x20, 0x00000001000000FFull);
    smb_wr_align(w, 8);
    smb_wr_put_u32(w, e2, (uint32_t)(w->len - e2));
    (void)t_put_dirent(w, 0, a, 2, 1, 0x80, 7);
    assert_true(smb_wr_ok(w));
}

static int dec_query_dir(smb_rd *r)
{
    smb2_blob b;
    return smb2_query_dir_rsp_decode(r, &b);
}

static void test_query_dir_rsp_listing(void **state)
{
    (void)state;
    smb_wr list;
    t_make_listing(&list);
    assert_int_equal(list.len, 88 + 88 + 104 + 82);

    smb_wr m;
    t_wr_msg(&m);
    smb_wr_u16(&m, 9);
    smb_wr_u16(&m, 0x48);
    smb_wr_u32(&m, (uint32_t)list.len);
    smb_wr_bytes(&m, list.buf, list.len);
    assert_true(smb_wr_ok(&m));

    smb_rd r = t_rd_body(m.buf, m.len);
    smb2_blob out;
    assert_int_equal(smb2_query_dir_rsp_decode(&r, &out), 0);
    assert_ptr_equal(out.data, m.buf + 0x48);
    assert_int_equal(out.len, list.len);

    size_t pos = 0;
    smb2_dirent e;
    assert_int_equal(smb2_dirent_next(out.data, out.len, &pos, &e), 1);
    assert_int_equal(e.name_utf16.len, 2);
    assert_memory_equal(e.name_utf16.data, ".\0", 2);
    assert_int_equal(e.times.attributes, 0x10);
    assert_true(e.file_id == 100);
    assert_int_equal(pos, 88);
    assert_int_equal(smb2_dirent_next(out.data, out.len, &pos, &e), 1);
    assert_int_equal(e.name_utf16.len, 4);
    assert_int_equal(smb2_dirent_next(out.data, out.len, &pos, &e), 1);
    assert_int_equal(e.name_utf16.len, sizeof k_name3);
    assert_memory_equal(e.name_utf16.data, k_name3, sizeof k_name3);
    assert_true(e.times.creation_time == 0x01D9000000000001ull);
    assert_true(e.times.last_access_time == 0x01D9000000000002ull);
    assert_true(e.times.last_write_time == 0x01D9000000000003ull);
    assert_true(e.times.change_time == 0x01D9000000000004ull);
    assert_true(e.times.end_of_file == 5000);
    assert_true(e.times.allocation_size == 8192);
    assert_int_equal(e.times.attributes, 0x20);
    assert_int_equal(e.ea_size, 0);
    assert_true(e.file_id == 0x00000001000000FFull);
    assert_int_equal(smb2_dirent_next(out.data, out.len, &pos, &e), 1);
    assert_memory_equal(e.name_utf16.data, "a\0", 2);
    assert_true(e.times.end_of_file == 1);
    assert_true(pos == SIZE_MAX);
    assert_int_equal(smb2_dirent_next(out.data, out.len, &pos, &e), 0);
    assert_int_equal(smb2_dirent_next(out.data, out.len, &pos, &e), 0);

    t_truncations_fail(m.buf, m.len, dec_query_dir);
    t_patch16_expect(m.buf, m.len, 64, 8, dec_query_dir, SMB_ERR_PROTOCOL);
    t_patch16_expect(m.buf, m.len, 66, 0x46, dec_query_dir, SMB_ERR_PROTOCOL);
    t_patch16_expect(m.buf, m.len, 66, 0x49, dec_query_dir, SMB_ERR_PROTOCOL);
    t_patch16_expect(m.buf, m.len, 66, 0xFFFF, dec_query_dir, SMB_ERR_PROTOCOL);
    t_patch32_expect(m.buf, m.len, 68, 0xFFFFFFFF, dec_query_dir, SMB_ERR_PROTOCOL);
    t_patch32_expect(m.buf, m.len, 68, (uint32_t)list.len + 1, dec_query_dir, SMB_ERR_PROTOCOL);
    smb_wr_free(&m);
    smb_wr_free(&list);
}

/* Iterate buf[0..len) (copied to an exact-size block) to the end or the
 * first error; returns 0 or the error and counts the entries. */
static int t_walk_dir(const uint8_t *buf, size_t len, int *count)
{
    uint8_t *copy = t_exact_copy(buf, len);
    size_t pos = 0;
    smb2_dirent e;
    int rc;
    *count = 0;
    while ((rc = smb2_dirent_next(copy, len, &pos, &e)) == 1) {
        (*count)++;
        assert_true(e.name_utf16.data >= copy && e.name_utf16.data + e.name_utf16.len <= copy + len);
    }
    free(copy);
    return rc;
}

static void t_dir_patch(const smb_wr *list, size_t pos, uint32_t v, int want)
{
    uint8_t *copy = t_exact_copy(list->buf, list->len);
    smb_put32(copy + pos, v);
    int count;
    assert_int_equal(t_walk_dir(copy, list->len, &count), want);
    free(copy);
}

static void test_dirent_rejects(void **state)
{
    (void)state;
    smb_wr list;
    t_make_listing(&list);
    const size_t len = list.len; /* entries at 0, 88, 176, 280 */
    int count;
    assert_int_equal(t_walk_dir(list.buf, len, &count), 0);
    assert_int_equal(count, 4);
    assert_int_equal(t_walk_dir(list.buf, 0, &count), 0);
    assert_int_equal(count, 0);
    for (size_t n = 1; n < len; n++)
        assert_int_equal(t_walk_dir(list.buf, n, &count), SMB_ERR_PROTOCOL);

    t_dir_patch(&list, 0, 81, SMB_ERR_PROTOCOL);              /* next inside this entry's name */
    t_dir_patch(&list, 0, 8, SMB_ERR_PROTOCOL);               /* next inside this entry's fixed part */
    t_dir_patch(&list, 0, (uint32_t)len, SMB_ERR_PROTOCOL);   /* next at the very end */
    t_dir_patch(&list, 0, (uint32_t)len + 8, SMB_ERR_PROTOCOL);
    t_dir_patch(&list, 0, 0xFFFFFFF8, SMB_ERR_PROTOCOL);
    t_dir_patch(&list, 176, 280 - 176 - 8, SMB_ERR_PROTOCOL); /* the name runs into the next entry */
    t_dir_patch(&list, 60, 3, SMB_ERR_PROTOCOL);              /* odd name length */
    t_dir_patch(&list, 60, 10, SMB_ERR_PROTOCOL);             /* name longer than the entry */
    t_dir_patch(&list, 60, 0xFFFFFFFE, SMB_ERR_PROTOCOL);
    t_dir_patch(&list, 280 + 60, 4, SMB_ERR_PROTOCOL);        /* last name past the buffer */
    t_dir_patch(&list, 88, 0, 0);                             /* an earlier end is fine */

    /* A position outside the buffer is refused. */
    size_t pos = len + 1;
    smb2_dirent e;
    assert_int_equal(smb2_dirent_next(list.buf, len, &pos, &e), SMB_ERR_PROTOCOL);
    smb_wr_free(&list);
}

/* ================================================================ query info, set info */

static void test_query_info_req(void **state)
{
    (void)state;
    smb2_query_info_req req = {.info_type = 1, .info_class = 34, .output_buffer_length = 56, .fid = k_fid};
    smb_wr w;
    t_wr_msg(&w);
    smb2_query_info_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64 + 41);
    const uint8_t *b = w.buf + 64;
    assert_int_equal(smb_le16(b), 41);
    assert_int_equal(b[2], 1);
    assert_int_equal(b[3], 34);
    assert_int_equal(smb_le32(b + 4), 56);
    assert_int_equal(smb_le16(b + 8), 0); /* no input: offset 0 */
    assert_int_equal(smb_le32(b + 12), 0);
    check_fid(b + 24);
    smb_wr_free(&w);

    static const uint8_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    req.info_type = 3; /* security */
    req.additional_info = 0x7;
    req.flags = 0;
    req.input = in;
    req.input_len = sizeof in;
    t_wr_msg(&w);
    smb2_query_info_req_encode(&w, &req);
    b = w.buf + 64;
    assert_int_equal(w.len, 64 + 40 + 8);
    assert_int_equal(smb_le16(b + 8), 0x68);
    assert_int_equal(smb_le32(b + 12), 8);
    assert_int_equal(smb_le32(b + 16), 7);
    assert_memory_equal(w.buf + 0x68, in, 8);
    smb_wr_free(&w);
}

static int dec_query_info(smb_rd *r)
{
    smb2_blob b;
    return smb2_query_info_rsp_decode(r, &b);
}

static void make_network_open(uint8_t *p)
{
    for (int i = 0; i < 4; i++)
        smb_put64(p + 8 * i, 0x01DA000000000000ull + (uint64_t)i);
    smb_put64(p + 32, 1 << 20);
    smb_put64(p + 40, 1000000);
    smb_put32(p + 48, 0x20);
    smb_put32(p + 52, 0);
}

static void test_query_info_rsp(void **state)
{
    (void)state;
    uint8_t msg[64 + 8 + 56] = {0};
    static const uint8_t fixed[8] = {0x09, 0x00, 0x48, 0x00, 0x38, 0x00, 0x00, 0x00};
    memcpy(msg + 64, fixed, 8);
    make_network_open(msg + 72);
    smb_rd r = t_rd_body(msg, sizeof msg);
    smb2_blob out;
    assert_int_equal(smb2_query_info_rsp_decode(&r, &out), 0);
    assert_ptr_equal(out.data, msg + 72);
    assert_int_equal(out.len, 56);
    smb2_file_times t;
    assert_int_equal(smb2_network_open_info_decode(out.data, out.len, &t), 0);
    assert_true(t.creation_time == 0x01DA000000000000ull);
    assert_true(t.last_access_time == 0x01DA000000000001ull);
    assert_true(t.last_write_time == 0x01DA000000000002ull);
    assert_true(t.change_time == 0x01DA000000000003ull);
    assert_true(t.allocation_size == 1 << 20);
    assert_true(t.end_of_file == 1000000);
    assert_int_equal(t.attributes, 0x20);

    t_truncations_fail(msg, sizeof msg, dec_query_info);
    t_patch16_expect(msg, sizeof msg, 64, 17, dec_query_info, SMB_ERR_PROTOCOL);
    t_patch16_expect(msg, sizeof msg, 66, 0x40, dec_query_info, SMB_ERR_PROTOCOL);
    t_patch32_expect(msg, sizeof msg, 68, 57, dec_query_info, SMB_ERR_PROTOCOL);
    t_patch32_expect(msg, sizeof msg, 68, 0, dec_query_info, 0);
}

static void test_set_info(void **state)
{
    (void)state;
    uint8_t name[64];
    size_t nlen = t_utf16("new\\name.txt", name);
    smb_wr info;
    smb_wr_init_grow(&info, 64);
    smb2_rename_info_encode(&info, true, name, nlen);
    assert_int_equal(info.len, 20 + nlen);

    smb2_set_info_req req = {.info_type = 1, .info_class = 10, .fid = k_fid, .buffer = info.buf,
                             .buffer_len = info.len};
    smb_wr w;
    t_wr_msg(&w);
    smb2_set_info_req_encode(&w, &req);
    assert_true(smb_wr_ok(&w));
    assert_int_equal(w.len, 64 + 32 + info.len);
    const uint8_t *b = w.buf + 64;
    assert_int_equal(smb_le16(b), 33);
    assert_int_equal(b[2], 1);
    assert_int_equal(b[3], 10);
    assert_int_equal(smb_le32(b + 4), info.len);
    assert_int_equal(smb_le16(b + 8), 0x60); /* BufferOffset */
    assert_int_equal(smb_le32(b + 12), 0);
    check_fid(b + 16);
    assert_memory_equal(w.buf + 0x60, info.buf, info.len);
    smb_wr_free(&w);
    smb_wr_free(&info);

    uint8_t rsp[66] = {0};
    rsp[64] = 2;
    smb_rd r = t_rd_body(rsp, sizeof rsp);
    assert_int_equal(smb2_set_info_rsp_decode(&r), 0);
    for (size_t n = 0; n < sizeof rsp; n++) {
        uint8_t *copy = t_exact_copy(rsp, n);
        r = t_rd_body(copy, n);
        assert_int_equal(smb2_set_info_rsp_decode(&r), SMB_ERR_PROTOCOL);
        free(copy);
    }
    rsp[64] = 3;
    r = t_rd_body(rsp, sizeof rsp);
    assert_int_equal(smb2_set_info_rsp_decode(&r), SMB_ERR_PROTOCOL);
}

/* ================================================================ info classes */

static void test_info_decoders(void **state)
{
    (void)state;
    uint8_t no[56];
    make_network_open(no);
    smb2_file_times t;
    uint64_t id, alloc, eof;
    uint32_t links;
    bool del, dir;
    for (size_t n = 0; n < 56; n++) {
        uint8_t *c = t_exact_copy(no, n);
        assert_int_equal(smb2_network_open_info_decode(c, n, &t), SMB_ERR_PROTOCOL);
        free(c);
    }

    static const uint8_t internal[8] = {0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01};
    assert_int_equal(smb2_internal_info_decode(internal, 8, &id), 0);
    assert_true(id == 0x0123456789ABCDEFull);
    assert_int_equal(smb2_internal_info_decode(internal, 7, &id), SMB_ERR_PROTOCOL);

    static const uint8_t standard[24] = {0x00, 0x20, 0, 0, 0, 0, 0, 0, 0x34, 0x12, 0, 0, 0, 0, 0, 0,
                                         0x02, 0,    0, 0, 1, 0, 0, 0};
    assert_int_equal(smb2_standard_info_decode(standard, 24, &alloc, &eof, &links, &del, &dir), 0);
    assert_true(alloc == 0x2000 && eof == 0x1234);
    assert_int_equal(links, 2);
    assert_true(del);
    assert_false(dir);
    for (size_t n = 0; n < 24; n++) {
        uint8_t *c = t_exact_copy(standard, n);
        assert_int_equal(smb2_standard_info_decode(c, n, &alloc, &eof, &links, &del, &dir), SMB_ERR_PROTOCOL);
        free(c);
    }
}

static void test_info_encoders(void **state)
{
    (void)state;
    smb_wr w;
    smb_wr_init_grow(&w, 64);
    smb2_basic_info_encode(&w, 1, 2, 3, 4, 0x21);
    assert_int_equal(w.len, 40);
    assert_int_equal(smb_le32(w.buf + 32), 0x21);
    assert_int_equal(smb_le32(w.buf + 36), 0);
    smb2_file_times t;
    assert_int_equal(smb2_basic_info_decode(w.buf, w.len, &t), 0);
    assert_true(t.creation_time == 1 && t.last_access_time == 2 && t.last_write_time == 3 && t.change_time == 4);
    assert_int_equal(t.attributes, 0x21);
    for (size_t n = 0; n < 40; n++) {
        uint8_t *c = t_exact_copy(w.buf, n);
        assert_int_equal(smb2_basic_info_decode(c, n, &t), SMB_ERR_PROTOCOL);
        free(c);
    }
    smb_wr_free(&w);

    /* Rename: ReplaceIfExists, 7 reserved, RootDirectory 0, length, name. */
    uint8_t name[4];
    size_t nlen = t_utf16("x", name);
    smb_wr_init_grow(&w, 64);
    smb2_rename_info_encode(&w, false, name, nlen);
    static const uint8_t want[24] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                     2, 0, 0, 0, 'x', 0, 0, 0};
    assert_int_equal(w.len, 24); /* padded to the structure's size */
    assert_memory_equal(w.buf, want, 24);
    smb_wr_free(&w);

    smb_wr_init_grow(&w, 64);
    smb2_rename_info_encode(&w, true, name, nlen);
    assert_int_equal(w.buf[0], 1);
    smb_wr_free(&w);

    smb_wr_init_grow(&w, 64);
    smb2_disposition_info_encode(&w, true);
    smb2_disposition_info_encode(&w, false);
    smb2_eof_info_encode(&w, 0x1122334455ull);
    static const uint8_t tail[10] = {1, 0, 0x55, 0x44, 0x33, 0x22, 0x11, 0, 0, 0};
    assert_int_equal(w.len, 10);
    assert_memory_equal(w.buf, tail, 10);
    smb_wr_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_req),
        cmocka_unit_test(test_read_rsp),
        cmocka_unit_test(test_read_rsp_data),
        cmocka_unit_test(test_write_req),
        cmocka_unit_test(test_write_rsp),
        cmocka_unit_test(test_flush_req),
        cmocka_unit_test(test_query_dir_req),
        cmocka_unit_test(test_query_dir_rsp_listing),
        cmocka_unit_test(test_dirent_rejects),
        cmocka_unit_test(test_query_info_req),
        cmocka_unit_test(test_query_info_rsp),
        cmocka_unit_test(test_set_info),
        cmocka_unit_test(test_info_decoders),
        cmocka_unit_test(test_info_encoders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

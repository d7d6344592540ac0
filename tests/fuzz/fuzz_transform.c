/*
 * Fuzz target: an encrypted frame (MS-SMB2 2.2.41 transform header, 3.2.5.1.1.1).
 * The input is decoded and its ciphertext is given to the real decryption
 * with a fixed key for each cipher (AES-128/256-CCM/GCM, MS-SMB2 3.1.4.3),
 * including the unauthenticated GCM peek of the READ fast path; forged
 * input must fail authentication. Then the bytes after the header are
 * sealed with the fixed key, as a server holding it would send them, and
 * opened again the receiver's way: the tag must verify, the plaintext must
 * come back unchanged, and the plaintext frame is split and decoded.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fuzz_rsp.h"
#include "pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fixed_key[32] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45,
                                      0x67, 0x89, 0xab, 0xcd, 0xef, 0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5,
                                      0x96, 0x87, 0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f};

/* What the receiver does with a transform message: the header's checks, then
 * decryption. expect: the plaintext a message sealed here must open to. */
static void open_as_received(const uint8_t *frame, size_t len, int cipher, const uint8_t *expect)
{
    smb_rd rd;
    smb_rd_init(&rd, frame, len);
    smb2_transform_hdr th;
    if (smb2_transform_hdr_decode(&rd, &th) != 0 || th.original_size != len - SMB2_TRANSFORM_HDR_LEN ||
        th.original_size < SMB2_HDR_LEN) {
        if (expect)
            abort();
        return;
    }
    const uint8_t *ct = frame + SMB2_TRANSFORM_HDR_LEN;
    uint8_t head[SMB2_HDR_LEN + SMB2_READ_RSP_FIXED];
    size_t peek = th.original_size < sizeof head ? th.original_size : sizeof head;
    (void)smb_gcm_peek(cipher, fixed_key, th.nonce, ct, peek, head);
    uint8_t *plain = malloc(th.original_size);
    if (!plain)
        return;
    smb_iov_mut out = {plain, th.original_size};
    /* AAD: the header from its Nonce field to its end (MS-SMB2 3.1.4.3). */
    int rc = smb_decrypt(cipher, fixed_key, th.nonce, frame + 20, 32, ct, th.original_size, &out, 1, th.signature);
    if (expect && (rc != 0 || memcmp(plain, expect, th.original_size) != 0))
        abort();
    if (rc == 0)
        fuzz_frame_messages(plain, th.original_size);
    free(plain);
}

/* Seal data[52..size) under the header fields of data[0..52) and check it opens to the same bytes. */
static void seal_and_open(const uint8_t *data, size_t size)
{
    size_t n = size - SMB2_TRANSFORM_HDR_LEN;
    if (n < SMB2_HDR_LEN || n > UINT32_MAX)
        return;
    smb_rd rd;
    smb_rd_init(&rd, data, size);
    smb2_transform_hdr th;
    if (smb2_transform_hdr_decode(&rd, &th) != 0)
        return;
    int cipher = 1 + (int)(th.session_id % 4);
    th.original_size = (uint32_t)n;
    memset(th.signature, 0, sizeof th.signature);
    uint8_t *frame = malloc(size);
    if (!frame)
        return;
    smb_wr w;
    smb_wr_init(&w, frame, SMB2_TRANSFORM_HDR_LEN);
    smb2_transform_hdr_encode(&w, &th);
    smb_iov in = {data + SMB2_TRANSFORM_HDR_LEN, n};
    if (smb_wr_ok(&w) &&
        smb_encrypt(cipher, fixed_key, th.nonce, frame + 20, 32, &in, 1, frame + SMB2_TRANSFORM_HDR_LEN,
                    frame + 4) == 0) {
        open_as_received(frame, size, cipher, data + SMB2_TRANSFORM_HDR_LEN);
    }
    free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < SMB2_TRANSFORM_HDR_LEN)
        return 0;
    for (int cipher = SMB_CIPHER_AES_128_CCM; cipher <= SMB_CIPHER_AES_256_GCM; cipher++)
        open_as_received(data, size, cipher, NULL);
    seal_and_open(data, size);
    return 0;
}

/*
 * The NTLM mechanism: an NTLMv2 client (MS-NLMP) behind smb_mech_ops.
 *
 * step(NULL) sends NEGOTIATE; step(CHALLENGE) sends AUTHENTICATE and the
 * mechanism is done. The AUTHENTICATE carries a MIC over the three messages
 * when the server sent MsvAvTimestamp (MS-NLMP 3.1.5.2.1), and SPNEGO's
 * mechListMIC is then required both ways (mic_make, mic_check).
 *
 * User names: NTOWFv2 upper-cases the user name. Windows does that with
 * its full Unicode table; here ASCII letters and the Latin-1 letters
 * U+00E0..U+00FE (except U+00F7) and U+00FF are upper-cased, other
 * characters are left alone. A user whose name holds other lower-case
 * letters must type it in upper case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "error.h"
#include "ntlm_crypto.h"
#include "ntlm_msg.h"
#include "utf16.h"
#include "common/random.h"
#include "common/wire.h"

/* What we ask for in NEGOTIATE (MS-NLMP 2.2.2.5). No SEAL: SMB does not
 * use NTLM sealing; SIGN is enough for key exchange and the mechListMIC. */
#define NTLM_CLIENT_FLAGS                                                                                        \
    (NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET | NTLMSSP_NEGOTIATE_SIGN | NTLMSSP_NEGOTIATE_NTLM |     \
     NTLMSSP_NEGOTIATE_ALWAYS_SIGN | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY | NTLMSSP_NEGOTIATE_TARGET_INFO | \
     NTLMSSP_NEGOTIATE_VERSION | NTLMSSP_NEGOTIATE_128 | NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_56)

enum ntlm_stage { NTLM_START, NTLM_SENT_NEGOTIATE, NTLM_FINISHED };

typedef struct ntlm_state {
    /* Credentials in UTF-16LE; the password is kept only as its NT hash. */
    uint8_t *user16, *domain16, *ws16, *spn16;
    size_t user_len, domain_len, ws_len, spn_len;
    uint8_t nt_hash[16];
    bool anonymous;
    int init_err;          /* a credential that could not be converted */
    const char *init_what; /* which one */
    int (*random)(void *buf, size_t n, void *arg);
    void *random_arg;
    uint64_t (*now)(void *arg);

    enum ntlm_stage stage;
    uint8_t *negotiate; /* our NEGOTIATE, for the MIC */
    size_t negotiate_len;
    uint32_t flags;      /* negotiated, as sent in AUTHENTICATE */
    bool mic_sent;       /* MsvAvFlags announced a MIC */
    uint8_t exported[16]; /* ExportedSessionKey */
    uint8_t sign_cli[16], seal_cli[16], sign_srv[16], seal_srv[16];
} ntlm_state;

/* ------------------------------------------------------------ strings */

/*
 * Strict UTF-8 to UTF-16LE (utf16.h). Returns 0 (malloc'd *out, never
 * NULL), -1 for text that is not UTF-8, or SMB_ERR_NO_MEMORY.
 */
static int utf8_to_utf16le(const char *s, uint8_t **out, size_t *out_len)
{
    size_t n = strlen(s);
    uint8_t *o = malloc(2 * n + 2); /* each byte gives at most one unit */
    if (!o)
        return SMB_ERR_NO_MEMORY;
    smb_wr w;
    smb_wr_init(&w, o, 2 * n + 2);
    if (!smb_wr_utf8_as_utf16le(&w, s, n, SMB_UTF8_STRICT)) {
        free(o);
        return -1;
    }
    *out = o;
    *out_len = w.len;
    return 0;
}

/* Upper-case UTF-16LE units in place: ASCII and Latin-1 letters only (see
 * the note at the top of the file). */
static void upper16(uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint16_t c = smb_le16(p + i);
        if ((c >= 'a' && c <= 'z') || (c >= 0xe0 && c <= 0xfe && c != 0xf7))
            c = (uint16_t)(c - 0x20);
        else if (c == 0xff)
            c = 0x178;
        smb_put16(p + i, c);
    }
}

/* Convert s (NULL = "") into *out; on failure note what failed. */
static void set_string(ntlm_state *st, const char *s, const char *what, uint8_t **out, size_t *len)
{
    if (st->init_err)
        return;
    int rc = utf8_to_utf16le(s ? s : "", out, len);
    if (rc != 0) {
        st->init_err = rc == SMB_ERR_NO_MEMORY ? rc : SMB_ERR_INVALID_ARG;
        st->init_what = what;
    }
}

/* ------------------------------------------------------------ helpers */

static int default_random(void *buf, size_t n, void *arg)
{
    (void)arg;
    return smb_random(buf, n);
}

/* Now as FILETIME: 100 ns units since 1601-01-01. */
static uint64_t filetime_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec + 11644473600ull) * 10000000ull + (uint64_t)ts.tv_nsec / 100;
}

static int out_take(smb_wr *w, smb_buf *out, smb_error *err)
{
    if (!smb_wr_ok(w)) {
        smb_wr_free(w);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory building an NTLM message");
    }
    out->data = w->buf;
    out->len = w->len;
    return 0;
}

void *smb_ntlm_new(const smb_auth_params *p)
{
    ntlm_state *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->anonymous = p->anonymous;
    st->random = p->random ? p->random : default_random;
    st->random_arg = p->random_arg;
    st->now = p->now;
    if (!st->anonymous) {
        set_string(st, p->user, "user name", &st->user16, &st->user_len);
        set_string(st, p->domain, "domain", &st->domain16, &st->domain_len);
        uint8_t *pw = NULL;
        size_t pw_len = 0;
        set_string(st, p->password, "password", &pw, &pw_len);
        if (pw) {
            smb_ntlm_nt_hash(pw, pw_len, st->nt_hash); /* NTOWFv1 (MS-NLMP 3.3.1) */
            smb_auth_wipe(pw, pw_len);
            free(pw);
        }
    }
    set_string(st, p->workstation, "workstation name", &st->ws16, &st->ws_len);
    if (p->target_host && *p->target_host) {
        /* MsvAvTargetName carries the SPN "cifs/<host>" (MS-NLMP 2.2.2.1). */
        size_t n = strlen(p->target_host) + 6;
        char *spn = malloc(n);
        if (spn) {
            snprintf(spn, n, "cifs/%s", p->target_host);
            set_string(st, spn, "target host", &st->spn16, &st->spn_len);
            free(spn);
        } else {
            st->init_err = SMB_ERR_NO_MEMORY;
        }
    }
    if (st->init_err == 0 && (!st->ws16 || (!st->anonymous && (!st->user16 || !st->domain16))))
        st->init_err = SMB_ERR_NO_MEMORY;
    return st;
}

/* ------------------------------------------------------------ the exchange */

static int ntlm_negotiate(ntlm_state *st, smb_buf *out, smb_error *err)
{
    smb_wr w;
    smb_wr_init_grow(&w, NTLM_NEGOTIATE_LEN);
    smb_ntlm_write_negotiate(&w, NTLM_CLIENT_FLAGS);
    if (out_take(&w, out, err) != 0)
        return SMB_ERR_NO_MEMORY;
    st->negotiate = malloc(out->len); // NOLINT(clang-analyzer-optin.portability.UnixAPI): NTLM_NEGOTIATE_LEN bytes
    if (!st->negotiate) {
        free(out->data);
        out->data = NULL;
        out->len = 0;
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    memcpy(st->negotiate, out->data, out->len);
    st->negotiate_len = out->len;
    st->stage = NTLM_SENT_NEGOTIATE;
    return SMB_AUTH_CONTINUE;
}

/* Responses for NTLMv2 (MS-NLMP 3.3.2): *nt and *lm malloc'd, base key out. */
static int ntlm_responses(ntlm_state *st, const smb_ntlm_challenge *c, smb_wr *nt, uint8_t lm[24],
                          uint8_t base_key[16], smb_error *err)
{
    uint8_t cc[8], key[16], proof[16];
    if (st->random(cc, 8, st->random_arg) != 0)
        return smb_err_set(err, SMB_ERR_CRYPTO, 0, "no random bytes for the NTLM client challenge");
    uint64_t t = c->has_timestamp ? c->timestamp : st->now ? st->now(st->random_arg) : filetime_now();

    /* NTLMv2_CLIENT_CHALLENGE (MS-NLMP 2.2.2.7) after a 16-byte hole for NTProofStr. */
    smb_wr_zero(nt, 16);
    smb_wr_u8(nt, 1); /* RespType */
    smb_wr_u8(nt, 1); /* HiRespType */
    smb_wr_zero(nt, 6);
    smb_wr_u64(nt, t);
    smb_wr_bytes(nt, cc, 8);
    smb_wr_zero(nt, 4);
    smb_ntlm_write_client_av_pairs(nt, c, st->mic_sent ? MSV_AV_FLAG_MIC : 0, st->spn16, st->spn_len);
    smb_wr_zero(nt, 4);
    if (!smb_wr_ok(nt))
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory building the NTLMv2 response");

    uint8_t *user = malloc(st->user_len + 1);
    if (!user)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    memcpy(user, st->user16, st->user_len);
    upper16(user, st->user_len);
    int rc = smb_ntlm_ntowfv2(st->nt_hash, user, st->user_len, st->domain16, st->domain_len, key);
    free(user);
    if (rc == 0)
        rc = smb_ntlm_v2_proof(key, c->server_challenge, nt->buf + 16, nt->len - 16, proof, base_key);
    /* With MsvAvTimestamp the LMv2 response is 24 zero bytes, as Windows
     * sends (MS-NLMP 3.1.5.2.1 says not to send LMv2 then). */
    if (rc == 0 && !c->has_timestamp)
        rc = smb_ntlm_lmv2_response(key, c->server_challenge, cc, lm);
    else
        memset(lm, 0, 24);
    if (rc == 0)
        memcpy(nt->buf, proof, 16);
    smb_auth_wipe(key, sizeof key);
    if (rc != 0)
        return smb_err_set(err, SMB_ERR_CRYPTO, 0, "HMAC-MD5 failed (is MD5 available in OpenSSL?)");
    return 0;
}

/* Keys of MS-NLMP 3.4.5 from the exported session key. */
static int ntlm_keys(ntlm_state *st)
{
    if (!(st->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY))
        return 0;
    if (smb_ntlm_sign_key(st->exported, true, st->sign_cli) || smb_ntlm_sign_key(st->exported, false, st->sign_srv) ||
        smb_ntlm_seal_key(st->exported, st->flags, true, st->seal_cli) ||
        smb_ntlm_seal_key(st->exported, st->flags, false, st->seal_srv))
        return -1;
    return 0;
}

static int ntlm_authenticate(ntlm_state *st, const uint8_t *in, size_t in_len, smb_buf *out, smb_error *err)
{
    smb_ntlm_challenge c;
    int rc = smb_ntlm_parse_challenge(in, in_len, &c, err);
    if (rc != 0)
        return rc;
    if (!(c.flags & NTLMSSP_NEGOTIATE_UNICODE))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server does not offer Unicode NTLM (OEM only)");

    /* Keep what both sides support (MS-NLMP 3.1.5.1.2); UNICODE and
     * REQUEST_TARGET stay, as in the example of MS-NLMP 4.2.4.3. */
    st->flags = (c.flags & NTLM_CLIENT_FLAGS) | NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_REQUEST_TARGET;
    if (st->anonymous)
        st->flags |= NTLMSSP_NEGOTIATE_ANONYMOUS;
    /*
     * Key exchange whenever both sides offer it, as Samba's client does.
     * MS-NLMP 3.1.5.1.2 exchanges only when SIGN or SEAL is agreed too;
     * Windows and Samba servers always agree SIGN (we ask for it), so the
     * two rules differ only for a server offering KEY_EXCH without SIGN:
     * impacket's, which then signs with the exchanged key (as Samba's
     * server would). The AUTHENTICATE says KEY_EXCH and carries the key,
     * so the server knows which key the session has.
     */
    bool key_exch = (st->flags & NTLMSSP_NEGOTIATE_KEY_EXCH) != 0;
    st->mic_sent = !st->anonymous && c.has_timestamp;

    smb_wr nt;
    smb_wr_init_grow(&nt, 256);
    uint8_t lm[24], base_key[16] = {0}, enc_key[16];
    smb_ntlm_auth_fields f = {.flags = st->flags};
    if (st->anonymous) {
        /* MS-NLMP 3.3.2 anonymous: empty NT response, LM response Z(1). */
        memset(lm, 0, sizeof lm);
        f.lm = lm;
        f.lm_len = 1;
    } else {
        rc = ntlm_responses(st, &c, &nt, lm, base_key, err);
        if (rc != 0) {
            smb_wr_free(&nt);
            return rc;
        }
        f.lm = lm;
        f.lm_len = 24;
        f.nt = nt.buf;
        f.nt_len = nt.len;
        f.domain = st->domain16;
        f.domain_len = st->domain_len;
        f.user = st->user16;
        f.user_len = st->user_len;
    }
    f.workstation = st->ws16;
    f.workstation_len = st->ws_len;

    /* KXKEY for NTLMv2 is the session base key (MS-NLMP 3.4.5.1); with key
     * exchange a random ExportedSessionKey goes out under RC4K (3.1.5.1.2). */
    if (key_exch) {
        if (st->random(st->exported, 16, st->random_arg) != 0) {
            smb_wr_free(&nt);
            return smb_err_set(err, SMB_ERR_CRYPTO, 0, "no random bytes for the NTLM session key");
        }
        smb_rc4k(base_key, st->exported, enc_key, 16);
        f.enc_key = enc_key;
        f.enc_key_len = 16;
    } else {
        memcpy(st->exported, base_key, 16);
    }
    smb_auth_wipe(base_key, sizeof base_key);

    smb_wr w;
    smb_wr_init_grow(&w, 256 + nt.len);
    smb_ntlm_write_authenticate(&w, &f);
    smb_wr_free(&nt);
    rc = out_take(&w, out, err);
    if (rc != 0)
        return rc;

    /* MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE)
     * (MS-NLMP 3.1.5.1.2). The field is always filled, as Windows and Samba
     * clients do; MsvAvFlags announces it only after MsvAvTimestamp. */
    if (!st->anonymous) {
        smb_iov iov[3] = {{st->negotiate, st->negotiate_len}, {in, in_len}, {out->data, out->len}};
        uint8_t mic[16];
        if (smb_auth_hmac_md5(st->exported, 16, iov, 3, mic) != 0)
            rc = -1;
        else
            memcpy(out->data + NTLM_MIC_OFFSET, mic, 16);
    }
    if (rc == 0)
        rc = ntlm_keys(st);
    if (rc != 0) {
        free(out->data);
        out->data = NULL;
        out->len = 0;
        return smb_err_set(err, SMB_ERR_CRYPTO, 0, "MD5/HMAC-MD5 failed (is MD5 available in OpenSSL?)");
    }
    if (st->anonymous)
        memset(st->exported, 0, 16); /* no session key for a null session */
    smb_auth_wipe(st->negotiate, st->negotiate_len);
    free(st->negotiate);
    st->negotiate = NULL;
    st->stage = NTLM_FINISHED;
    return SMB_AUTH_DONE;
}

/* ------------------------------------------------------------ smb_mech_ops */

static int ntlm_step(void *state, const uint8_t *in, size_t in_len, smb_buf *out, smb_error *err)
{
    ntlm_state *st = state;
    out->data = NULL;
    out->len = 0;
    if (st->init_err == SMB_ERR_NO_MEMORY)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (st->init_err)
        return smb_err_set(err, st->init_err, 0, "NTLM: the %s is not valid UTF-8", st->init_what);
    switch (st->stage) {
    case NTLM_START:
        return ntlm_negotiate(st, out, err);
    case NTLM_SENT_NEGOTIATE:
        if (!in || in_len == 0)
            return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server sent no NTLM CHALLENGE");
        return ntlm_authenticate(st, in, in_len, out, err);
    default:
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "NTLM: unexpected token after AUTHENTICATE");
    }
}

static int ntlm_session_key(void *state, uint8_t *key, size_t cap, size_t *len)
{
    ntlm_state *st = state;
    if (st->stage != NTLM_FINISHED || cap < 16)
        return SMB_ERR_INTERNAL;
    memcpy(key, st->exported, 16);
    *len = 16;
    return 0;
}

/* Signing is possible once finished with extended session security. */
static bool ntlm_can_sign(const ntlm_state *st)
{
    return st->stage == NTLM_FINISHED && !st->anonymous && (st->flags & NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY);
}

/* MAC with a fresh RC4 handle and sequence number 0: SPNEGO's mechListMIC
 * leaves the handle as it was (MS-SPNG 3.3.5.1). */
static int ntlm_mac0(const ntlm_state *st, bool client, const uint8_t *msg, size_t len, uint8_t sig[16])
{
    smb_rc4 rc4;
    bool kx = st->flags & NTLMSSP_NEGOTIATE_KEY_EXCH;
    if (kx)
        smb_rc4_init(&rc4, client ? st->seal_cli : st->seal_srv, 16);
    int rc = smb_ntlm_mac(client ? st->sign_cli : st->sign_srv, kx ? &rc4 : NULL, 0, msg, len, sig);
    smb_rc4_wipe(&rc4);
    return rc;
}

static int ntlm_mic_make(void *state, const uint8_t *msg, size_t len, smb_buf *mic)
{
    ntlm_state *st = state;
    mic->data = NULL;
    mic->len = 0;
    if (!ntlm_can_sign(st))
        return SMB_ERR_INTERNAL;
    uint8_t *sig = malloc(16);
    if (!sig)
        return SMB_ERR_NO_MEMORY;
    if (ntlm_mac0(st, true, msg, len, sig) != 0) {
        free(sig);
        return SMB_ERR_CRYPTO;
    }
    mic->data = sig;
    mic->len = 16;
    return 0;
}

static int ntlm_mic_check(void *state, const uint8_t *msg, size_t len, const uint8_t *mic, size_t mic_len)
{
    ntlm_state *st = state;
    uint8_t sig[16];
    if (!ntlm_can_sign(st) || mic_len != 16)
        return SMB_ERR_SIGNATURE;
    if (ntlm_mac0(st, false, msg, len, sig) != 0)
        return SMB_ERR_CRYPTO;
    return smb_auth_ct_equal(sig, mic, 16) ? 0 : SMB_ERR_SIGNATURE;
}

static bool ntlm_wants_mic(void *state)
{
    ntlm_state *st = state;
    return ntlm_can_sign(st) && st->mic_sent && (st->flags & NTLMSSP_NEGOTIATE_SIGN);
}

static bool ntlm_is_anonymous(void *state) { return ((ntlm_state *)state)->anonymous; }

static void free_wiped(uint8_t *p, size_t n)
{
    smb_auth_wipe(p, n);
    free(p);
}

static void ntlm_free(void *state)
{
    ntlm_state *st = state;
    if (!st)
        return;
    free_wiped(st->user16, st->user_len);
    free_wiped(st->domain16, st->domain_len);
    free_wiped(st->ws16, st->ws_len);
    free_wiped(st->spn16, st->spn_len);
    free_wiped(st->negotiate, st->negotiate_len);
    smb_auth_wipe(st, sizeof *st);
    free(st);
}

/* NTLMSSP: 1.3.6.1.4.1.311.2.2.10 (MS-NLMP 1.9). */
static const uint8_t NTLM_OID[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};

const smb_mech_ops smb_mech_ntlm = {
    .name = "NTLM",
    .oid = NTLM_OID,
    .oid_len = sizeof NTLM_OID,
    .step = ntlm_step,
    .session_key = ntlm_session_key,
    .mic_make = ntlm_mic_make,
    .mic_check = ntlm_mic_check,
    .wants_mic = ntlm_wants_mic,
    .is_anonymous = ntlm_is_anonymous,
    .free = ntlm_free,
};

/*
 * SPNEGO token encoding and decoding (RFC 4178 4.2, RFC 2743 3.1,
 * MS-SPNG 2.2.1).
 */
#include "spnego_token.h"

#include <string.h>

#include "asn1.h"
#include "error.h"

const uint8_t smb_spnego_oid[6] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};

void smb_spnego_write_mech_types(smb_wr *w, const smb_der_bytes *oids, int n)
{
    size_t seq = smb_asn1_begin(w, SMB_ASN1_SEQUENCE);
    for (int i = 0; i < n; i++)
        smb_asn1_put(w, SMB_ASN1_OID, oids[i].p, oids[i].len);
    smb_asn1_end(w, seq);
}

/* An optional [n] OCTET STRING field of a negTokenInit or negTokenResp; nothing when len is 0. */
static void put_octets_field(smb_wr *w, unsigned n, const uint8_t *p, size_t len)
{
    if (len == 0)
        return;
    size_t field = smb_asn1_begin(w, SMB_ASN1_CONTEXT(n));
    smb_asn1_put(w, SMB_ASN1_OCTET_STRING, p, len);
    smb_asn1_end(w, field);
}

void smb_spnego_write_init(smb_wr *w, const uint8_t *mech_types, size_t mech_types_len, const uint8_t *token,
                           size_t token_len)
{
    /* RFC 2743 3.1 framing: [APPLICATION 0] IMPLICIT SEQUENCE { thisMech, innerToken }. */
    size_t app = smb_asn1_begin(w, SMB_ASN1_APPLICATION(0));
    smb_asn1_put(w, SMB_ASN1_OID, smb_spnego_oid, sizeof smb_spnego_oid);
    size_t choice = smb_asn1_begin(w, SMB_ASN1_CONTEXT(0)); /* negTokenInit */
    size_t seq = smb_asn1_begin(w, SMB_ASN1_SEQUENCE);
    size_t f0 = smb_asn1_begin(w, SMB_ASN1_CONTEXT(0)); /* mechTypes */
    smb_wr_bytes(w, mech_types, mech_types_len);
    smb_asn1_end(w, f0);
    put_octets_field(w, 2, token, token_len); /* mechToken */
    smb_asn1_end(w, seq);
    smb_asn1_end(w, choice);
    smb_asn1_end(w, app);
}

void smb_spnego_write_resp(smb_wr *w, const uint8_t *token, size_t token_len, const uint8_t *mic, size_t mic_len)
{
    size_t choice = smb_asn1_begin(w, SMB_ASN1_CONTEXT(1)); /* negTokenResp */
    size_t seq = smb_asn1_begin(w, SMB_ASN1_SEQUENCE);
    put_octets_field(w, 2, token, token_len); /* responseToken */
    put_octets_field(w, 3, mic, mic_len);     /* mechListMIC */
    smb_asn1_end(w, seq);
    smb_asn1_end(w, choice);
}

static smb_der_bytes bytes_of(const smb_rd *c) { return (smb_der_bytes){c->base, c->len}; }

/* Read an EXPLICIT [n] field holding exactly one element of type inner. */
static bool read_explicit(smb_rd *field, uint8_t inner, smb_rd *content)
{
    bool ok = smb_asn1_expect(field, inner, content);
    if (smb_rd_left(field) != 0)
        field->err = true;
    return ok && smb_rd_ok(field);
}

int smb_spnego_parse_init(const uint8_t *in, size_t len, smb_negtoken_init *t, smb_error *err)
{
    memset(t, 0, sizeof *t);
    smb_rd r, app, oid, choice, seq, f, list;
    smb_rd_init(&r, in, len);
    if (!smb_asn1_expect(&r, SMB_ASN1_APPLICATION(0), &app) || !smb_asn1_expect(&app, SMB_ASN1_OID, &oid))
        goto bad;
    if (oid.len != sizeof smb_spnego_oid || memcmp(oid.base, smb_spnego_oid, oid.len) != 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the GSS-API token is not SPNEGO");
    if (!smb_asn1_expect(&app, SMB_ASN1_CONTEXT(0), &choice) || !smb_asn1_expect(&choice, SMB_ASN1_SEQUENCE, &seq))
        goto bad;

    /* Fields in tag order; NegTokenInit2's negHints [3] and mechListMIC are skipped. */
    while (smb_rd_ok(&seq) && smb_rd_left(&seq) > 0) {
        uint8_t tag;
        if (!smb_asn1_next(&seq, &tag, &f))
            goto bad;
        if (tag == SMB_ASN1_CONTEXT(0)) {
            size_t start = f.pos;
            if (!read_explicit(&f, SMB_ASN1_SEQUENCE, &list))
                goto bad;
            t->mech_types = (smb_der_bytes){f.base + start, f.len - start};
            while (smb_rd_left(&list) > 0) {
                smb_rd o;
                if (!smb_asn1_expect(&list, SMB_ASN1_OID, &o))
                    goto bad;
                if (t->n_oids < SPNEGO_MAX_OIDS)
                    t->oids[t->n_oids++] = bytes_of(&o);
                else
                    t->more_oids = true;
            }
            if (!smb_rd_ok(&list))
                goto bad;
        } else if (tag == SMB_ASN1_CONTEXT(2)) {
            smb_rd tok;
            if (!read_explicit(&f, SMB_ASN1_OCTET_STRING, &tok))
                goto bad;
            t->has_token = true;
            t->token = bytes_of(&tok);
        } else if ((tag & 0xe0) != 0xa0) {
            goto bad; /* only context-specific fields belong here */
        }
    }
    if (!smb_rd_ok(&seq) || smb_rd_left(&r) != 0)
        goto bad;
    return 0;
bad:
    return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed SPNEGO NegTokenInit (%zu bytes)", len);
}

int smb_spnego_parse_resp(const uint8_t *in, size_t len, smb_negtoken_resp *r, smb_error *err)
{
    memset(r, 0, sizeof *r);
    r->neg_state = SPNEGO_NO_STATE;
    smb_rd rd, choice, seq, f, c;
    smb_rd_init(&rd, in, len);
    if (smb_asn1_peek(&rd) == SMB_ASN1_APPLICATION(0))
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "the server sent a NegTokenInit where a NegTokenResp belongs");
    if (!smb_asn1_expect(&rd, SMB_ASN1_CONTEXT(1), &choice) || smb_rd_left(&rd) != 0 ||
        !smb_asn1_expect(&choice, SMB_ASN1_SEQUENCE, &seq) || smb_rd_left(&choice) != 0)
        goto bad;

    /* RFC 4178 4.2.2: each field optional, in tag order. */
    int last = -1;
    while (smb_rd_left(&seq) > 0) {
        uint8_t tag;
        if (!smb_asn1_next(&seq, &tag, &f))
            goto bad;
        int n = tag - SMB_ASN1_CONTEXT(0);
        if (n < 0 || n > 3 || n <= last)
            goto bad;
        last = n;
        switch (n) {
        case 0: {
            int32_t v;
            if (!read_explicit(&f, SMB_ASN1_ENUMERATED, &c) || !smb_asn1_get_int(&c, &v))
                goto bad;
            if (v < SPNEGO_ACCEPT_COMPLETED || v > SPNEGO_REQUEST_MIC)
                return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "SPNEGO negState %d is unknown", (int)v);
            r->neg_state = v;
            break;
        }
        case 1:
            if (!read_explicit(&f, SMB_ASN1_OID, &c))
                goto bad;
            r->has_mech = true;
            r->mech = bytes_of(&c);
            break;
        case 2:
            if (!read_explicit(&f, SMB_ASN1_OCTET_STRING, &c))
                goto bad;
            r->has_token = true;
            r->token = bytes_of(&c);
            break;
        default:
            if (!read_explicit(&f, SMB_ASN1_OCTET_STRING, &c))
                goto bad;
            r->has_mic = true;
            r->mic = bytes_of(&c);
            break;
        }
    }
    if (!smb_rd_ok(&seq))
        goto bad;
    return 0;
bad:
    return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed SPNEGO NegTokenResp (%zu bytes)", len);
}

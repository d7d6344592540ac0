/*
 * A minimal DER reader and writer (X.690) for SPNEGO tokens.
 *
 * Only what GSS-API and SPNEGO use: single-octet identifiers (tag numbers
 * up to 30), definite lengths of up to 4 length octets, nested constructed
 * types and OBJECT IDENTIFIERs. Reading goes through smb_rd: a malformed
 * element or a length that points past its enclosing element sets the
 * reader's error flag, and every element's contents are read through a
 * sub-reader that cannot see past them.
 */
#ifndef SMBCOPY_ASN1_H
#define SMBCOPY_ASN1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

/* Identifier octets (X.690 8.1.2). */
#define SMB_ASN1_BOOLEAN 0x01
#define SMB_ASN1_INTEGER 0x02
#define SMB_ASN1_BIT_STRING 0x03
#define SMB_ASN1_OCTET_STRING 0x04
#define SMB_ASN1_OID 0x06
#define SMB_ASN1_ENUMERATED 0x0a
#define SMB_ASN1_GENERAL_STRING 0x1b
#define SMB_ASN1_SEQUENCE 0x30
#define SMB_ASN1_CONSTRUCTED 0x20
/** [APPLICATION n], constructed. */
#define SMB_ASN1_APPLICATION(n) (0x60 | (n))
/** [n] context-specific, constructed (EXPLICIT tagging). */
#define SMB_ASN1_CONTEXT(n) (0xa0 | (n))

/** Deepest nesting smb_asn1_valid() accepts by default. */
#define SMB_ASN1_MAX_DEPTH 16

/* ------------------------------------------------------------ reading */

/**
 * Read the element at r's position: *tag receives its identifier octet,
 * *content a reader over its contents; r moves past the element. A
 * malformed header (high tag number form, indefinite length, more than 4
 * length octets, contents past the end of r) sets r's error flag, leaves
 * *content empty with its error flag set, and returns false.
 */
bool smb_asn1_next(smb_rd *r, uint8_t *tag, smb_rd *content);

/** Read the next element, which must carry tag; anything else sets r's error flag. */
bool smb_asn1_expect(smb_rd *r, uint8_t tag, smb_rd *content);

/**
 * For an OPTIONAL field: when the next element carries tag, read it and
 * return true; otherwise leave r where it is and return false (*content
 * is then an empty reader).
 */
bool smb_asn1_optional(smb_rd *r, uint8_t tag, smb_rd *content);

/** Identifier octet of the next element, or -1 at the end or after an error. */
int smb_asn1_peek(const smb_rd *r);

/**
 * Read all of content as a two's complement INTEGER or ENUMERATED of 1..4
 * octets into *v. Anything else sets content's error flag and returns false.
 */
bool smb_asn1_get_int(smb_rd *content, int32_t *v);

/**
 * True when p[0..len) is a sequence of well-formed elements, descending into
 * constructed ones to at most max_depth levels.
 */
bool smb_asn1_valid(const uint8_t *p, size_t len, int max_depth);

/**
 * Dotted text ("1.3.6.1.5.5.2") of OID contents into buf (always
 * NUL-terminated when cap > 0). False when the contents are malformed
 * (empty, a truncated arc, an arc over 32 bits) or buf is too small.
 */
bool smb_asn1_oid_str(const uint8_t *oid, size_t len, char *buf, size_t cap);

/* ------------------------------------------------------------ writing */

/**
 * Open a constructed element with identifier tag; returns a mark for
 * smb_asn1_end(). Elements nest: open, write contents, close.
 */
size_t smb_asn1_begin(smb_wr *w, uint8_t tag);
/** Close the element opened at mark, fixing its length (moving the contents when the length needs more octets). */
void smb_asn1_end(smb_wr *w, size_t mark);
/** Write a primitive (or preformed) element: identifier, length, data[0..len). */
void smb_asn1_put(smb_wr *w, uint8_t tag, const void *data, size_t len);
/** Write an INTEGER/ENUMERATED (by tag) holding a non-negative v in the fewest octets. */
void smb_asn1_put_uint(smb_wr *w, uint8_t tag, uint32_t v);

/**
 * Encode arcs[0..n) as OID contents into out[0..cap). Returns the length,
 * or 0 when n < 2, the first two arcs are out of range, or out is too small.
 */
size_t smb_asn1_oid_encode(const uint32_t *arcs, size_t n, uint8_t *out, size_t cap);

#endif

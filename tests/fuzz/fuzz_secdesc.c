/*
 * Fuzz target: a self-relative security descriptor (MS-DTYP 2.4.6) through
 * smb_sd_decode; one that decodes must encode, decode again to the same
 * bytes (decode(encode(x)) == x), and its SDDL (2.5.1) must read back to a
 * descriptor with the same SDDL. The input is also read as an SDDL string:
 * one that parses must write, and read back to the same string. Aborts when
 * an invariant does not hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbcopy/security.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* sd's SDDL, when it has one, must survive the text round trip: parse,
 * write, parse again and write the same string, and encode too. */
static void sddl_fixpoint(const smb_security_descriptor *sd, char **first)
{
    smb_error err;
    char *s1 = NULL;
    int rc = smb_sd_to_sddl(sd, &s1, &err);
    *first = s1;
    if (rc) {
        if (rc != SMB_ERR_UNSUPPORTED || s1)
            abort();
        return;
    }
    smb_security_descriptor *back = NULL;
    if (smb_sd_from_sddl(s1, &back, &err))
        abort();
    char *s2 = NULL;
    if (smb_sd_to_sddl(back, &s2, &err) || strcmp(s1, s2) != 0)
        abort();
    uint8_t *bin = NULL;
    size_t len = 0;
    if (smb_sd_encode(back, &bin, &len, &err))
        abort();
    free(bin);
    free(s2);
    smb_sd_free(back);
}

static void binary(const uint8_t *data, size_t size)
{
    smb_security_descriptor *sd = NULL;
    smb_error err;
    if (smb_sd_decode(data, size, &sd, &err)) {
        if (sd || err.code != SMB_ERR_PROTOCOL)
            abort();
        return;
    }
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t n1 = 0, n2 = 0;
    smb_security_descriptor *sd2 = NULL;
    if (smb_sd_encode(sd, &b1, &n1, &err) || smb_sd_decode(b1, n1, &sd2, &err) ||
        smb_sd_encode(sd2, &b2, &n2, &err) || n1 != n2 || memcmp(b1, b2, n1) != 0)
        abort();
    char *s1 = NULL, *s2 = NULL;
    sddl_fixpoint(sd, &s1);
    sddl_fixpoint(sd2, &s2);
    if ((s1 == NULL) != (s2 == NULL) || (s1 && strcmp(s1, s2) != 0))
        abort();
    free(s1);
    free(s2);
    free(b1);
    free(b2);
    smb_sd_free(sd2);
    smb_sd_free(sd);
}

static void text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return;
    memcpy(s, data, size);
    s[size] = '\0';
    smb_security_descriptor *sd = NULL;
    smb_error err;
    int rc = smb_sd_from_sddl(s, &sd, &err);
    if (rc == 0) {
        char *first = NULL;
        sddl_fixpoint(sd, &first);
        if (!first) /* what was read can be written */
            abort();
        free(first);
    } else if (sd || (rc != SMB_ERR_INVALID_ARG && rc != SMB_ERR_UNSUPPORTED)) {
        abort();
    }
    smb_sd_free(sd);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    binary(data, size);
    text(data, size);
    return 0;
}

/*
 * Extended attributes of a file: the whole list read (QUERY_INFO of
 * FileFullEaInformation, MS-SMB2 2.2.37) and one attribute set or removed
 * (SET_INFO, MS-SMB2 2.2.39); the bytes through pdu_ea.c.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "helpers_internal.h"

/* MS-ERREF 2.3.1: no EAs at all (Samba's answer for a file without any); EA support off. */
#define STATUS_NO_EAS_ON_FILE 0xC0000052u
#define STATUS_BUFFER_OVERFLOW 0x80000005u
#define STATUS_BUFFER_TOO_SMALL 0xC0000023u

/* The first answer's room (NTFS keeps at most 64 KiB of EAs per file), and the retry's. */
#define EA_FIRST ((size_t)64 * 1024)
#define EA_MAX ((size_t)1024 * 1024)

static smb_open *open_for(smb_tree *tree, const char *path, uint32_t access, smb_error *le)
{
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = access | SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    return smb_create(tree, path, &p, NULL, NULL, le);
}

int smb_get_eas(smb_tree *tree, const char *path, smb_ea_list **out, smb_error *err)
{
    if (out)
        *out = NULL;
    if (!tree || !out)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "get EAs: no tree or no output");
    char *norm = NULL;
    int rc = smb_helpers_path_norm(path, "get EAs", &norm, err);
    if (rc != 0)
        return rc;
    smb_error le = {0};
    smb_open *op = open_for(tree, norm, SMB_FILE_READ_EA, &le);
    if (!op) {
        rc = smb_err_set(err, le.code ? le.code : SMB_ERR_INTERNAL, le.ntstatus, "get EAs of '%s': %s", norm,
                         le.message);
        free(norm);
        return rc;
    }
    uint8_t *buf = NULL;
    size_t got = 0;
    for (size_t cap = EA_FIRST; cap <= EA_MAX; cap *= 16) {
        free(buf);
        if (!(buf = malloc(cap))) {
            rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
            break;
        }
        le = (smb_error){0};
        rc = smb_query_info(op, SMB_INFO_FILE, SMB2_FILE_FULL_EA_INFORMATION, 0, buf, cap, &got, &le);
        if (rc == 0 || (le.ntstatus != STATUS_BUFFER_OVERFLOW && le.ntstatus != STATUS_BUFFER_TOO_SMALL))
            break;
    }
    if (rc != 0 && le.ntstatus == STATUS_NO_EAS_ON_FILE) {
        got = 0; /* an empty list */
        rc = 0;
    } else if (rc != 0 && rc != SMB_ERR_NO_MEMORY) {
        rc = smb_err_set(err, rc, le.ntstatus, "get EAs of '%s': %s", norm, le.message);
    }
    if (rc == 0) {
        rc = smb2_ea_list_decode(buf, got, out);
        if (rc == SMB_ERR_PROTOCOL)
            smb_err_set(err, rc, 0, "get EAs of '%s': malformed FileFullEaInformation (%zu bytes)", norm, got);
        else if (rc != 0)
            smb_err_set(err, rc, 0, "out of memory");
    }
    free(buf);
    smb_close(op, NULL, NULL);
    free(norm);
    return rc;
}

int smb_set_ea(smb_tree *tree, const char *path, const char *name, const void *value, size_t len, smb_error *err)
{
    if (!tree || !name || (!value && len))
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "set EA: no tree, name or value");
    if (!smb2_ea_name_ok(name))
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                           "set EA '%.64s': a name is 1 to 255 printable ASCII characters, none of \"*+,/:;<=>?[\\]|",
                           name);
    if (len > UINT16_MAX)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "set EA '%s': a value holds at most 65535 bytes, not %zu",
                           name, len);
    char *norm = NULL;
    int rc = smb_helpers_path_norm(path, "set EA", &norm, err);
    if (rc != 0)
        return rc;
    smb_wr w;
    smb_wr_init_grow(&w, SMB2_EA_HEADER_LEN + strlen(name) + 1 + len);
    smb2_ea_encode(&w, name, strlen(name), value, (uint16_t)len);
    smb_error le = {0};
    smb_open *op = NULL;
    if (!smb_wr_ok(&w))
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    else if (!(op = open_for(tree, norm, SMB_FILE_WRITE_EA, &le)))
        rc = smb_err_set(err, le.code ? le.code : SMB_ERR_INTERNAL, le.ntstatus, "set EA '%s' of '%s': %s", name,
                         norm, le.message);
    else if ((rc = smb_set_info(op, SMB_INFO_FILE, SMB2_FILE_FULL_EA_INFORMATION, 0, w.buf, w.len, &le)) != 0)
        rc = smb_err_set(err, rc, le.ntstatus, "set EA '%s' of '%s': %s", name, norm, le.message);
    smb_close(op, NULL, NULL);
    smb_wr_free(&w);
    free(norm);
    return rc;
}

/* Security descriptors of an open: QUERY_INFO / SET_INFO with InfoType
 * SMB2_0_INFO_SECURITY (MS-SMB2 2.2.37, 2.2.39). The bytes are a
 * self-relative SECURITY_DESCRIPTOR (MS-DTYP 2.4.6), moved as they are. */
#include <stdlib.h>

#include <smbcopy/ntstatus.h>

#include "error.h"
#include "objects.h"
#include "open.h"

/* A first guess that holds almost every descriptor in one round trip. */
#define SD_FIRST_BUFFER 4096u
/* Owner and group SIDs (at most 68 bytes each, MS-DTYP 2.4.2), two ACLs
 * whose AclSize is 16 bits (MS-DTYP 2.4.5) and the 20-byte header. */
#define SD_MAX_BUFFER (20u + 2u * 68u + 2u * 0xFFFFu)

int smb_get_security(smb_open *op, uint32_t secinfo, uint8_t **sd, size_t *sd_len, smb_error *err)
{
    *sd = NULL;
    *sd_len = 0;
    size_t cap = SD_FIRST_BUFFER;
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t *buf = malloc(cap);
        if (!buf)
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        size_t got = 0;
        smb_error e = {0};
        int rc = smb_query_info(op, SMB_INFO_SECURITY, 0, secinfo, buf, cap, &got, &e);
        if (rc == 0) {
            *sd = buf;
            *sd_len = got;
            return 0;
        }
        free(buf);
        /* The server's error data names the size it needs (MS-SMB2 3.3.4.4);
         * without access to it, the one retry asks for the largest descriptor. */
        if (attempt == 0 && e.ntstatus == SMB_STATUS_BUFFER_TOO_SMALL) {
            cap = SD_MAX_BUFFER;
            continue;
        }
        if (err)
            *err = e;
        return rc;
    }
    return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "security descriptor larger than any valid one");
}

int smb_set_security(smb_open *op, uint32_t secinfo, const uint8_t *sd, size_t sd_len, smb_error *err)
{
    if (!sd || sd_len < 20)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "security descriptor shorter than its header");
    return smb_set_info(op, SMB_INFO_SECURITY, 0, secinfo, sd, sd_len, err);
}

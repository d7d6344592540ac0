/* smb_statvfs: FileFsFullSizeInformation (MS-FSCC 2.5.4) of a share, typed. */
#include <string.h>

#include "common/error.h"
#include "common/wire.h"
#include "helpers_internal.h"

/* FileFsFullSizeInformation's class (MS-FSCC 2.5): three 64-bit counts, two 32-bit sizes. */
#define FS_FULL_SIZE_INFORMATION 7

/* a * b, or UINT64_MAX when it does not fit. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

int smb_statvfs(smb_tree *tree, smb_statvfs_info *out, smb_error *err)
{
    if (!tree || !out)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "statvfs: no tree or no output");
    memset(out, 0, sizeof *out);
    smb_create_params p;
    smb_create_params_init(&p);
    p.desired_access = SMB_FILE_READ_ATTRIBUTES | SMB_SYNCHRONIZE;
    p.options = SMB_FILE_DIRECTORY_FILE;
    smb_error le = {0};
    smb_open *root = smb_create(tree, "", &p, NULL, NULL, &le);
    if (!root)
        return smb_err_set(err, le.code ? le.code : SMB_ERR_INTERNAL, le.ntstatus, "statvfs: open the share root: %s",
                           le.message);
    uint8_t buf[64];
    size_t got = 0;
    int rc = smb_query_info(root, SMB_INFO_FILESYSTEM, FS_FULL_SIZE_INFORMATION, 0, buf, sizeof buf, &got, &le);
    smb_close(root, NULL, NULL);
    if (rc != 0)
        return smb_err_set(err, rc, le.ntstatus, "statvfs: %s", le.message);
    smb_rd r;
    smb_rd_init(&r, buf, got);
    uint64_t total = smb_rd_u64(&r), caller = smb_rd_u64(&r), actual = smb_rd_u64(&r);
    uint32_t spu = smb_rd_u32(&r), bps = smb_rd_u32(&r);
    /* The counts are LARGE_INTEGERs (signed): a negative one is no size. */
    if (!smb_rd_ok(&r) || total > INT64_MAX || caller > INT64_MAX || actual > INT64_MAX)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "statvfs: malformed FileFsFullSizeInformation (%zu bytes)", got);
    out->total_units = total;
    out->caller_available_units = caller;
    out->actual_available_units = actual;
    out->sectors_per_unit = spu;
    out->bytes_per_sector = bps;
    out->unit_bytes = (uint64_t)spu * bps;
    out->total_bytes = mul_sat(total, out->unit_bytes);
    out->caller_available_bytes = mul_sat(caller, out->unit_bytes);
    out->actual_available_bytes = mul_sat(actual, out->unit_bytes);
    return 0;
}

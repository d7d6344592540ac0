/* Internal helpers shared by opens, directory listings and path calls. */
#ifndef SMBCOPY_OPEN_H
#define SMBCOPY_OPEN_H

#include "objects.h"

/** Copy CREATE/CLOSE/directory metadata into an smb_file_info (file_id untouched). */
void smb_file_info_from_times(smb_file_info *info, const smb2_file_times *t);
/** A share path as UTF-16LE wire bytes (malloc'd; an empty path gives length 0). */
uint8_t *smb_path_utf16(const char *path, size_t *len, smb_error *err);
/** Fill a CREATE request from public parameters (ctx must hold p->ncontexts entries). */
void smb_create_req_from_params(smb2_create_req *cr, const smb_create_params *p, smb2_create_ctx *ctx,
                                const uint8_t *name, size_t name_len);
/** Record a handle the server opened as a child of t. */
smb_open *smb_open_register(smb_tree *t, smb2_fileid fid, bool is_dir);
/**
 * The named $DATA streams a QUERY_INFO of FileStreamInformation (MS-FSCC
 * 2.4.44) counts, from its status and output buf[0..len) (smb2_streams_decode
 * reads it): 0 or more; 0 too for a status of SMB_ERR_UNSUPPORTED (a file
 * system without streams); -1 when not known (any other failure status,
 * STATUS_BUFFER_OVERFLOW's list cut short included, or a malformed list).
 */
int smb_streams_count(uint32_t status, const uint8_t *buf, size_t len);

#endif

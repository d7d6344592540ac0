/*
 * Named NTSTATUS values (MS-ERREF 2.3) for programs that look at
 * smb_error.ntstatus, and for the library and engine, which test these to
 * steer control flow. smb_ntstatus_name() and smb_ntstatus_to_code() (smb.h)
 * know many more; a value gets a name here when code compares against it.
 */
#ifndef SMBCOPY_NTSTATUS_H
#define SMBCOPY_NTSTATUS_H

/* Success and informational (severity 0 and 1). */
#define SMB_STATUS_SUCCESS 0x00000000u
#define SMB_STATUS_PENDING 0x00000103u
#define SMB_STATUS_NOTIFY_ENUM_DIR 0x0000010Cu /**< CHANGE_NOTIFY: more changed than the answer holds */

/* Warnings (severity 2): the response still carries data. */
#define SMB_STATUS_BUFFER_OVERFLOW 0x80000005u
#define SMB_STATUS_NO_MORE_FILES 0x80000006u

/* Errors (severity 3). */
#define SMB_STATUS_NOT_IMPLEMENTED 0xC0000002u
#define SMB_STATUS_INVALID_PARAMETER 0xC000000Du
#define SMB_STATUS_NO_SUCH_FILE 0xC000000Fu
#define SMB_STATUS_INVALID_DEVICE_REQUEST 0xC0000010u
#define SMB_STATUS_END_OF_FILE 0xC0000011u
#define SMB_STATUS_MORE_PROCESSING_REQUIRED 0xC0000016u
#define SMB_STATUS_ACCESS_DENIED 0xC0000022u
#define SMB_STATUS_BUFFER_TOO_SMALL 0xC0000023u
#define SMB_STATUS_NOT_SUPPORTED 0xC00000BBu
#define SMB_STATUS_CANCELLED 0xC0000120u
#define SMB_STATUS_BAD_NETWORK_NAME 0xC00000CCu
#define SMB_STATUS_PATH_NOT_COVERED 0xC0000257u
#define SMB_STATUS_NOT_A_REPARSE_POINT 0xC0000275u
#define SMB_STATUS_FILE_SYSTEM_LIMITATION 0xC0000427u
#define SMB_STATUS_FILE_NOT_AVAILABLE 0xC0000467u

#endif

/*
 * NTSTATUS codes (MS-ERREF 2.3.1): names, error categories and readable
 * sentences, and the error-category descriptions of smb.h.
 */
#include "error.h"

#include <stdio.h>
#include <string.h>

/* One known NTSTATUS. */
struct status_entry {
    uint32_t status;
    int code;         /* smb_err_code the status maps to */
    const char *name; /* symbolic name */
    const char *text; /* one sentence for a human */
};

/* Sorted by value (success, informational, warning, error). */
static const struct status_entry status_table[] = {
    {0x00000000u, SMB_OK, "STATUS_SUCCESS", "success"},
    {0x00000103u, SMB_OK, "STATUS_PENDING", "the operation is still in progress"},
    {0x0000010Bu, SMB_OK, "STATUS_NOTIFY_CLEANUP", "the change notification was cancelled by a close"},
    {0x0000010Cu, SMB_OK, "STATUS_NOTIFY_ENUM_DIR",
     "too many changes to report; the directory must be listed again"},
    {0x40000000u, SMB_OK, "STATUS_OBJECT_NAME_EXISTS", "the name already exists"},
    {0x80000005u, SMB_OK, "STATUS_BUFFER_OVERFLOW", "the answer did not fit and was cut short"},
    {0x80000006u, SMB_ERR_NOT_FOUND, "STATUS_NO_MORE_FILES", "no more files match"},
    {0x8000002Du, SMB_ERR_SERVER, "STATUS_STOPPED_ON_SYMLINK",
     "the path crosses a symbolic link that the server does not follow"},
    {0xC0000002u, SMB_ERR_UNSUPPORTED, "STATUS_NOT_IMPLEMENTED", "the server does not implement this operation"},
    {0xC0000003u, SMB_ERR_UNSUPPORTED, "STATUS_INVALID_INFO_CLASS",
     "the server does not support this kind of information"},
    {0xC0000004u, SMB_ERR_SERVER, "STATUS_INFO_LENGTH_MISMATCH", "the information has the wrong length"},
    {0xC0000008u, SMB_ERR_CLOSED, "STATUS_INVALID_HANDLE", "the file handle is no longer valid"},
    {0xC000000Du, SMB_ERR_SERVER, "STATUS_INVALID_PARAMETER", "the server refused a parameter of the request"},
    {0xC000000Fu, SMB_ERR_NOT_FOUND, "STATUS_NO_SUCH_FILE", "no such file or directory"},
    {0xC0000010u, SMB_ERR_UNSUPPORTED, "STATUS_INVALID_DEVICE_REQUEST",
     "the server does not support this request on this file or share"},
    {0xC0000011u, SMB_ERR_SERVER, "STATUS_END_OF_FILE", "read past the end of the file"},
    {0xC0000016u, SMB_ERR_AUTH, "STATUS_MORE_PROCESSING_REQUIRED",
     "the server expects another authentication step"},
    {0xC0000022u, SMB_ERR_ACCESS, "STATUS_ACCESS_DENIED", "access denied"},
    {0xC0000023u, SMB_ERR_SERVER, "STATUS_BUFFER_TOO_SMALL", "the answer does not fit in the buffer"},
    {0xC0000024u, SMB_ERR_SERVER, "STATUS_OBJECT_TYPE_MISMATCH", "the object is of the wrong type"},
    {0xC0000033u, SMB_ERR_BAD_NAME, "STATUS_OBJECT_NAME_INVALID", "the server refuses this file name"},
    {0xC0000034u, SMB_ERR_NOT_FOUND, "STATUS_OBJECT_NAME_NOT_FOUND", "no such file or directory"},
    {0xC0000035u, SMB_ERR_EXISTS, "STATUS_OBJECT_NAME_COLLISION", "a file or directory of that name already exists"},
    {0xC0000039u, SMB_ERR_NOT_DIR, "STATUS_OBJECT_PATH_INVALID", "a component of the path is not a directory"},
    {0xC000003Au, SMB_ERR_NOT_FOUND, "STATUS_OBJECT_PATH_NOT_FOUND", "a directory in the path does not exist"},
    {0xC000003Bu, SMB_ERR_BAD_NAME, "STATUS_OBJECT_PATH_SYNTAX_BAD", "the path is malformed"},
    {0xC0000043u, SMB_ERR_SHARING, "STATUS_SHARING_VIOLATION",
     "the file is in use by another program (sharing violation)"},
    {0xC0000044u, SMB_ERR_NO_SPACE, "STATUS_QUOTA_EXCEEDED", "quota exceeded"},
    {0xC000004Fu, SMB_ERR_UNSUPPORTED, "STATUS_EAS_NOT_SUPPORTED",
     "the server's file system does not support extended attributes"},
    {0xC0000054u, SMB_ERR_SHARING, "STATUS_FILE_LOCK_CONFLICT", "a range of the file is locked by another program"},
    {0xC0000055u, SMB_ERR_SHARING, "STATUS_LOCK_NOT_GRANTED", "the lock conflicts with a lock held by another program"},
    {0xC0000056u, SMB_ERR_SHARING, "STATUS_DELETE_PENDING", "the file is being deleted"},
    {0xC000005Eu, SMB_ERR_AUTH, "STATUS_NO_LOGON_SERVERS", "no domain controller is available to check the logon"},
    {0xC0000061u, SMB_ERR_ACCESS, "STATUS_PRIVILEGE_NOT_HELD", "the user lacks a privilege the operation needs"},
    {0xC0000064u, SMB_ERR_AUTH, "STATUS_NO_SUCH_USER",
     "logon failure: no such user (write the user as user, DOMAIN\\user or user@domain)"},
    {0xC000006Au, SMB_ERR_AUTH, "STATUS_WRONG_PASSWORD", "logon failure: wrong password"},
    {0xC000006Cu, SMB_ERR_AUTH, "STATUS_PASSWORD_RESTRICTION", "the password does not meet the password policy"},
    {0xC000006Du, SMB_ERR_AUTH, "STATUS_LOGON_FAILURE",
     "logon failure: wrong user name or password (write the user as user, DOMAIN\\user or user@domain)"},
    {0xC000006Eu, SMB_ERR_AUTH, "STATUS_ACCOUNT_RESTRICTION",
     "logon refused by an account restriction (for example a blank password)"},
    {0xC000006Fu, SMB_ERR_AUTH, "STATUS_INVALID_LOGON_HOURS", "the account may not log on at this time of day"},
    {0xC0000070u, SMB_ERR_AUTH, "STATUS_INVALID_WORKSTATION", "the account may not log on from this computer"},
    {0xC0000071u, SMB_ERR_AUTH, "STATUS_PASSWORD_EXPIRED", "the password has expired"},
    {0xC0000072u, SMB_ERR_AUTH, "STATUS_ACCOUNT_DISABLED", "the account is disabled"},
    {0xC000007Eu, SMB_ERR_SERVER, "STATUS_RANGE_NOT_LOCKED", "the range to unlock is not locked"},
    {0xC000007Fu, SMB_ERR_NO_SPACE, "STATUS_DISK_FULL", "the server's disk is full"},
    {0xC000009Au, SMB_ERR_SERVER, "STATUS_INSUFFICIENT_RESOURCES", "the server is out of resources"},
    {0xC00000A2u, SMB_ERR_ACCESS, "STATUS_MEDIA_WRITE_PROTECTED", "the server's volume is write-protected"},
    {0xC00000A5u, SMB_ERR_SERVER, "STATUS_BAD_IMPERSONATION_LEVEL", "the server refused the impersonation level"},
    {0xC00000B5u, SMB_ERR_TIMEOUT, "STATUS_IO_TIMEOUT", "the operation timed out on the server"},
    {0xC00000B6u, SMB_ERR_CLOSED, "STATUS_FILE_FORCED_CLOSED", "the file was closed by the server"},
    {0xC00000BAu, SMB_ERR_IS_DIR, "STATUS_FILE_IS_A_DIRECTORY", "it is a directory"},
    {0xC00000BBu, SMB_ERR_UNSUPPORTED, "STATUS_NOT_SUPPORTED", "the server does not support this operation"},
    {0xC00000BEu, SMB_ERR_BAD_SHARE, "STATUS_BAD_NETWORK_PATH", "the network path was not found"},
    {0xC00000BFu, SMB_ERR_SERVER, "STATUS_NETWORK_BUSY", "the server is busy"},
    {0xC00000C3u, SMB_ERR_PROTOCOL, "STATUS_INVALID_NETWORK_RESPONSE", "invalid network response"},
    {0xC00000C4u, SMB_ERR_DISCONNECTED, "STATUS_UNEXPECTED_NETWORK_ERROR", "unexpected network error"},
    {0xC00000C9u, SMB_ERR_CLOSED, "STATUS_NETWORK_NAME_DELETED", "the share connection was closed by the server"},
    {0xC00000CAu, SMB_ERR_ACCESS, "STATUS_NETWORK_ACCESS_DENIED", "network access denied"},
    {0xC00000CCu, SMB_ERR_BAD_SHARE, "STATUS_BAD_NETWORK_NAME", "share not found"},
    {0xC00000D0u, SMB_ERR_SERVER, "STATUS_REQUEST_NOT_ACCEPTED",
     "the server accepts no more connections or sessions"},
    {0xC00000D4u, SMB_ERR_SERVER, "STATUS_NOT_SAME_DEVICE", "cannot move a file to another volume"},
    {0xC00000D5u, SMB_ERR_SERVER, "STATUS_FILE_RENAMED", "the file was renamed meanwhile"},
    {0xC0000101u, SMB_ERR_NOT_EMPTY, "STATUS_DIRECTORY_NOT_EMPTY", "the directory is not empty"},
    {0xC0000103u, SMB_ERR_NOT_DIR, "STATUS_NOT_A_DIRECTORY", "not a directory"},
    {0xC0000106u, SMB_ERR_BAD_NAME, "STATUS_NAME_TOO_LONG", "the name is too long"},
    {0xC000011Fu, SMB_ERR_SERVER, "STATUS_TOO_MANY_OPENED_FILES", "too many files are open on the server"},
    {0xC0000120u, SMB_ERR_CANCELLED, "STATUS_CANCELLED", "the request was cancelled"},
    {0xC0000121u, SMB_ERR_ACCESS, "STATUS_CANNOT_DELETE", "the file cannot be deleted (it may be read-only)"},
    {0xC0000123u, SMB_ERR_NOT_FOUND, "STATUS_FILE_DELETED", "the file has been deleted"},
    {0xC0000128u, SMB_ERR_CLOSED, "STATUS_FILE_CLOSED", "the file handle was closed"},
    {0xC0000133u, SMB_ERR_AUTH, "STATUS_TIME_DIFFERENCE_AT_DC",
     "the clocks of this computer and the domain controller differ too much"},
    {0xC000015Bu, SMB_ERR_AUTH, "STATUS_LOGON_TYPE_NOT_GRANTED",
     "the account is not allowed to log on over the network"},
    {0xC0000161u, SMB_ERR_BAD_NAME, "STATUS_ILLEGAL_CHARACTER", "the name holds a character the server refuses"},
    {0xC0000184u, SMB_ERR_SERVER, "STATUS_INVALID_DEVICE_STATE", "the server's device is not ready for this request"},
    {0xC000018Bu, SMB_ERR_AUTH, "STATUS_NO_TRUST_SAM_ACCOUNT",
     "the server has no computer account in the domain"},
    {0xC000018Cu, SMB_ERR_AUTH, "STATUS_TRUSTED_DOMAIN_FAILURE",
     "the trust between the domains failed"},
    {0xC000018Du, SMB_ERR_AUTH, "STATUS_TRUSTED_RELATIONSHIP_FAILURE",
     "the trust between the server and its domain failed"},
    {0xC0000193u, SMB_ERR_AUTH, "STATUS_ACCOUNT_EXPIRED", "the account has expired"},
    {0xC000019Cu, SMB_ERR_UNSUPPORTED, "STATUS_FS_DRIVER_REQUIRED",
     "the server cannot handle this reparse point here"},
    {0xC0000203u, SMB_ERR_CLOSED, "STATUS_USER_SESSION_DELETED", "the server ended the session"},
    {0xC0000205u, SMB_ERR_SERVER, "STATUS_INSUFF_SERVER_RESOURCES", "the server is out of resources"},
    {0xC000020Cu, SMB_ERR_DISCONNECTED, "STATUS_CONNECTION_DISCONNECTED", "the connection was closed"},
    {0xC000020Du, SMB_ERR_DISCONNECTED, "STATUS_CONNECTION_RESET", "the connection was reset"},
    {0xC0000224u, SMB_ERR_AUTH, "STATUS_PASSWORD_MUST_CHANGE",
     "the password must be changed before this account can log on"},
    {0xC0000225u, SMB_ERR_NOT_FOUND, "STATUS_NOT_FOUND", "not found"},
    {0xC000022Au, SMB_ERR_SERVER, "STATUS_DUPLICATE_OBJECTID", "the object id is already in use"},
    {0xC0000234u, SMB_ERR_AUTH, "STATUS_ACCOUNT_LOCKED_OUT",
     "the account is locked out (too many failed logons)"},
    {0xC0000240u, SMB_ERR_CANCELLED, "STATUS_REQUEST_ABORTED", "the request was aborted"},
    {0xC0000241u, SMB_ERR_DISCONNECTED, "STATUS_CONNECTION_ABORTED", "the connection was aborted"},
    {0xC0000243u, SMB_ERR_SHARING, "STATUS_USER_MAPPED_FILE",
     "the file is mapped into memory by another program"},
    {0xC0000257u, SMB_ERR_UNSUPPORTED, "STATUS_PATH_NOT_COVERED",
     "the path is on another server (DFS), which is not followed"},
    {0xC0000275u, SMB_ERR_SERVER, "STATUS_NOT_A_REPARSE_POINT", "the file is not a reparse point"},
    {0xC0000279u, SMB_ERR_UNSUPPORTED, "STATUS_IO_REPARSE_TAG_NOT_HANDLED",
     "the server cannot handle this kind of reparse point"},
    {0xC000028Au, SMB_ERR_SERVER, "STATUS_ENCRYPTION_FAILED", "the server could not encrypt the file"},
    {0xC0000293u, SMB_ERR_ACCESS, "STATUS_FILE_ENCRYPTED", "the file is encrypted on the server"},
    {0xC000035Cu, SMB_ERR_CLOSED, "STATUS_NETWORK_SESSION_EXPIRED", "the session has expired"},
    {0xC0000388u, SMB_ERR_AUTH, "STATUS_DOWNGRADE_DETECTED",
     "the server detected a possible security downgrade"},
    {0xC0000427u, SMB_ERR_SERVER, "STATUS_FILE_SYSTEM_LIMITATION",
     "the server's file system cannot do this (a file system limit)"},
    {0xC0000466u, SMB_ERR_SERVER, "STATUS_SERVER_UNAVAILABLE", "the server is unavailable"},
    {0xC0000802u, SMB_ERR_NO_SPACE, "STATUS_DISK_QUOTA_EXCEEDED", "the disk quota is exceeded"},
    {0xC0000904u, SMB_ERR_NO_SPACE, "STATUS_FILE_TOO_LARGE", "the file is too large for the server's file system"},
    {0xC0000906u, SMB_ERR_ACCESS, "STATUS_VIRUS_INFECTED", "the server's virus scanner found a virus in the file"},
    {0xC0000907u, SMB_ERR_ACCESS, "STATUS_VIRUS_DELETED", "the server's virus scanner deleted the file"},
    {0xC000A000u, SMB_ERR_SIGNATURE, "STATUS_INVALID_SIGNATURE", "a message failed its signature check"},
    {0xC05D0000u, SMB_ERR_NEGOTIATE, "STATUS_SMB_NO_PREAUTH_INTEGRITY_HASH_OVERLAP",
     "no common pre-authentication integrity hash"},
    {0xC05D0001u, SMB_ERR_NEGOTIATE, "STATUS_SMB_BAD_CLUSTER_DIALECT",
     "the clustered share needs a lower SMB dialect"},
};

static const struct status_entry *status_find(uint32_t status)
{
    size_t lo = 0, hi = sizeof status_table / sizeof status_table[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (status_table[mid].status == status)
            return &status_table[mid];
        if (status_table[mid].status < status)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *smb_strerror(int code)
{
    switch (code) {
    case SMB_OK: return "success";
    case SMB_ERR_INVALID_ARG: return "invalid argument";
    case SMB_ERR_NO_MEMORY: return "out of memory";
    case SMB_ERR_CONNECT: return "cannot connect to the server";
    case SMB_ERR_DISCONNECTED: return "the connection was lost";
    case SMB_ERR_TIMEOUT: return "the server did not answer in time";
    case SMB_ERR_PROTOCOL: return "malformed or unexpected data from the server";
    case SMB_ERR_SMB1_ONLY: return "the server speaks only SMB1";
    case SMB_ERR_NEGOTIATE: return "no common SMB dialect or feature with the server";
    case SMB_ERR_AUTH: return "authentication failed";
    case SMB_ERR_SIGNATURE: return "a message failed its signature or encryption check";
    case SMB_ERR_NOT_FOUND: return "no such file or directory";
    case SMB_ERR_EXISTS: return "the name already exists";
    case SMB_ERR_ACCESS: return "access denied";
    case SMB_ERR_SHARING: return "the file is in use or locked";
    case SMB_ERR_NO_SPACE: return "no space left or quota exceeded";
    case SMB_ERR_BAD_SHARE: return "share not found";
    case SMB_ERR_NOT_EMPTY: return "the directory is not empty";
    case SMB_ERR_IS_DIR: return "it is a directory";
    case SMB_ERR_NOT_DIR: return "not a directory";
    case SMB_ERR_BAD_NAME: return "invalid name";
    case SMB_ERR_CLOSED: return "the handle, share or session was closed";
    case SMB_ERR_ENCRYPTION: return "encryption is required but not available";
    case SMB_ERR_SERVER: return "the server refused the request";
    case SMB_ERR_CANCELLED: return "the request was cancelled";
    case SMB_ERR_UNSUPPORTED: return "the server does not support the operation";
    case SMB_ERR_CRYPTO: return "a cryptographic operation failed";
    case SMB_ERR_INTERNAL: return "internal error";
    default: return "unknown error";
    }
}

const char *smb_ntstatus_name(uint32_t status, char buf[16])
{
    const struct status_entry *e = status_find(status);
    if (e)
        return e->name;
    snprintf(buf, 16, "0x%08X", (unsigned)status);
    return buf;
}

int smb_ntstatus_to_code(uint32_t status)
{
    /* Severity (top two bits): 0 success, 1 informational. */
    if ((status >> 30) < 2)
        return SMB_OK;
    const struct status_entry *e = status_find(status);
    return e ? e->code : SMB_ERR_SERVER;
}

const char *smb_ntstatus_text(uint32_t status)
{
    const struct status_entry *e = status_find(status);
    return e ? e->text : NULL;
}

/* Length of the first n bytes of s, cut back so no UTF-8 sequence is split. */
static size_t utf8_cut(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

int smb_err_status(smb_error *err, uint32_t ntstatus, const char *what)
{
    int code = smb_ntstatus_to_code(ntstatus);
    /* Reported as a failure, so never let it pass as success. */
    if (code == SMB_OK)
        code = SMB_ERR_PROTOCOL;
    if (!err)
        return code;

    char namebuf[16];
    const char *name = smb_ntstatus_name(ntstatus, namebuf);
    const char *text = smb_ntstatus_text(ntstatus);
    if (!text)
        text = smb_strerror(code);

    /* Keep the status visible: shorten `what`, not the tail. */
    char tail[sizeof err->message];
    int tl = snprintf(tail, sizeof tail, "%s (%s)", text, name);
    size_t tail_len = tl < 0 ? 0 : (size_t)tl;
    if (!what || !*what)
        return smb_err_set(err, code, ntstatus, "%s", tail);

    const size_t room = sizeof err->message - 1;
    const char *sep = ": ", *dots = "";
    size_t wlen = strlen(what);
    size_t fixed = strlen(sep) + tail_len;
    if (fixed >= room) {
        wlen = 0; /* the tail alone fills the message */
    } else if (wlen > room - fixed) {
        dots = "...";
        wlen = room - fixed > 3 ? utf8_cut(what, room - fixed - 3) : 0;
    }
    return smb_err_set(err, code, ntstatus, "%.*s%s%s%s", (int)wlen, what, dots, sep, tail);
}

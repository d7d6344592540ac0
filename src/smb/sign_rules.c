#include "sign_rules.h"

#include <smbcopy/smb.h>

#include "pdu.h"

bool smb_sign_forced(uint16_t dialect, uint16_t command, uint32_t ctl_code)
{
    if (command == SMB2_TREE_CONNECT)
        return dialect == SMB_DIALECT_3_1_1;
    if (command == SMB2_IOCTL && ctl_code == SMB_FSCTL_VALIDATE_NEGOTIATE_INFO)
        return dialect == SMB_DIALECT_3_0 || dialect == SMB_DIALECT_3_0_2;
    return false;
}

bool smb_sign_request(uint16_t command, bool session_signing, bool keyed, bool forced, bool encrypted)
{
    if (command == SMB2_NEGOTIATE || encrypted)
        return false;
    return session_signing || (forced && keyed);
}

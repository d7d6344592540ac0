#include "credits.h"

uint16_t smb_credit_charge(bool multi_credit, size_t send_bytes, size_t expect_bytes)
{
    if (!multi_credit)
        return 1;
    size_t n = send_bytes > expect_bytes ? send_bytes : expect_bytes;
    size_t credits = n / SMB_CREDIT_UNIT + (n % SMB_CREDIT_UNIT != 0);
    if (credits > UINT16_MAX)
        credits = UINT16_MAX;
    return (uint16_t)(credits ? credits : 1);
}

uint32_t smb_credit_grant(uint32_t available, uint16_t granted)
{
    uint64_t sum = (uint64_t)available + granted;
    return sum > SMB_CREDITS_HELD_MAX ? SMB_CREDITS_HELD_MAX : (uint32_t)sum;
}

uint16_t smb_credit_request(uint32_t available, uint32_t outstanding, uint32_t target, uint16_t charge)
{
    uint64_t have = (uint64_t)available + outstanding;
    uint64_t want = charge;
    if (have < target)
        want += target - have;
    return (uint16_t)(want > SMB_CREDIT_REQUEST_MAX ? SMB_CREDIT_REQUEST_MAX : want);
}

bool smb_credit_sized_command(uint16_t command)
{
    /* READ, WRITE, IOCTL, QUERY_DIRECTORY, QUERY_INFO (MS-SMB2 2.2.1.2). */
    return command == 0x0008 || command == 0x0009 || command == 0x000B || command == 0x000E || command == 0x0010;
}

uint32_t smb_credit_io_cap(bool multi_credit, uint32_t held, uint32_t limit)
{
    uint64_t cap = SMB_CREDIT_UNIT;
    if (multi_credit && held / 4 > 1)
        cap = (uint64_t)(held / 4) * SMB_CREDIT_UNIT;
    return cap < limit ? (uint32_t)cap : limit;
}

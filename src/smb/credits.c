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

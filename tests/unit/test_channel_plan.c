/*
 * Where further channels go (ep_smb_plan_channels): spread over the
 * server's interfaces by load for their worth (RSS-capable ones take up to
 * four times as many), the faster link first between equals, the first
 * connection's address counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/endpoints/ep_smb_channels.h"

static smb_iface iface(const char *addr, bool rss, uint64_t speed)
{
    smb_iface i;
    memset(&i, 0, sizeof i);
    snprintf(i.addr, sizeof i.addr, "%s", addr);
    i.rss = rss;
    i.link_speed = speed;
    return i;
}

static void test_one_rss_interface(void **state)
{
    (void)state;
    smb_iface ifs[] = {iface("10.0.0.1", true, 10000000000ull)};
    size_t plan[8];
    assert_int_equal(ep_smb_plan_channels(ifs, 1, "10.0.0.1", 4, plan), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(plan[i], 0); /* several connections to the one address */
    assert_int_equal(ep_smb_plan_channels(ifs, 1, "10.0.0.1", 1, plan), 0);
}

static void test_two_equal_interfaces(void **state)
{
    (void)state;
    smb_iface ifs[] = {iface("10.0.0.1", true, 1000), iface("10.0.0.2", true, 1000)};
    size_t plan[8];
    assert_int_equal(ep_smb_plan_channels(ifs, 2, "10.0.0.1", 4, plan), 3);
    assert_int_equal(plan[0], 1); /* the other path first */
    assert_int_equal(plan[1], 0);
    assert_int_equal(plan[2], 1);
    /* Reached by a name: no address counted, the lists order decides a tie. */
    assert_int_equal(ep_smb_plan_channels(ifs, 2, "fs1", 2, plan), 1);
    assert_int_equal(plan[0], 0);
}

static void test_rss_and_speed(void **state)
{
    (void)state;
    smb_iface ifs[] = {iface("10.0.0.1", false, 100000000000ull), iface("10.0.0.2", true, 1000000000ull),
                       iface("10.0.0.3", true, 10000000000ull)};
    size_t plan[8];
    assert_int_equal(ep_smb_plan_channels(ifs, 3, "10.0.0.9", 8, plan), 7);
    unsigned count[3] = {0};
    for (int i = 0; i < 7; i++)
        count[plan[i]]++;
    /* The faster RSS link first; the plain link gets about a quarter of an RSS one's share. */
    assert_int_equal(plan[0], 2);
    assert_true(count[1] >= 2 && count[2] >= 3);
    assert_true(count[0] <= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_rss_interface),
        cmocka_unit_test(test_two_equal_interfaces),
        cmocka_unit_test(test_rss_and_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

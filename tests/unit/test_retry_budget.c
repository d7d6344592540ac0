/* --retry-for counts only time spent disconnected (issue: connected time after a reconnect was counted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/retry_budget.h"

static void test_only_disconnected_time_counts(void **state)
{
    (void)state;
    retry_budget b;
    retry_budget_init(&b, 3.0);
    assert_false(retry_budget_connected(&b, 0.0)); /* the first connection is no reconnection */
    /* Lost at 10 s, back at 11 s: 1 s spent. */
    assert_true(retry_budget_left(&b, 10.0) > 2.99);
    assert_true(retry_budget_left(&b, 10.5) > 2.49);
    assert_true(retry_budget_connected(&b, 11.0));
    /* Nine seconds of copying later the connection blips again: 2 s are left, not none. */
    double left = retry_budget_left(&b, 20.0);
    assert_true(left > 1.99 && left < 2.01);
    assert_true(retry_budget_connected(&b, 21.0)); /* 1 s more: 2 s spent */
    /* A third loss: 1 s left at its start, gone 1 s later. */
    left = retry_budget_left(&b, 40.0);
    assert_true(left > 0.99 && left < 1.01);
    assert_true(retry_budget_left(&b, 41.0) <= 0.0);
}

static void test_a_long_outage_gives_up(void **state)
{
    (void)state;
    retry_budget b;
    retry_budget_init(&b, 300.0);
    retry_budget_connected(&b, 0.0);
    assert_true(retry_budget_left(&b, 5.0) > 299.0);
    assert_true(retry_budget_left(&b, 200.0) > 104.0); /* the same loss, still going on */
    assert_true(retry_budget_left(&b, 305.0) <= 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_disconnected_time_counts),
        cmocka_unit_test(test_a_long_outage_gives_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

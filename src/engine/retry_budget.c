/* The --retry-for budget (see retry_budget.h). */
#include "engine/retry_budget.h"

void retry_budget_init(retry_budget *b, double limit)
{
    b->limit = limit;
    b->spent = 0;
    b->lost_at = -1;
}

bool retry_budget_connected(retry_budget *b, double t)
{
    if (b->lost_at < 0)
        return false;
    if (t > b->lost_at)
        b->spent += t - b->lost_at;
    b->lost_at = -1;
    return true;
}

double retry_budget_left(retry_budget *b, double now)
{
    if (b->lost_at < 0)
        b->lost_at = now;
    return b->limit - (b->spent + (now - b->lost_at));
}

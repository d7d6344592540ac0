/*
 * The --retry-for budget: only time spent disconnected counts. A pass that
 * connects again ends the time lost (from the moment the connection was
 * lost to the moment the new one was made); the copying that follows is
 * not counted, however long it runs. Times are seconds on one monotonic
 * clock, given by the caller (so the rules can be tested without waiting).
 */
#ifndef SMBCOPY_ENGINE_RETRY_BUDGET_H
#define SMBCOPY_ENGINE_RETRY_BUDGET_H

#include <stdbool.h>

typedef struct retry_budget {
    double limit;   /* seconds disconnected allowed in all */
    double spent;   /* seconds disconnected so far, in earlier losses */
    double lost_at; /* when the current loss began, or < 0: connected */
} retry_budget;

/** A budget of limit seconds, nothing spent, connected. */
void retry_budget_init(retry_budget *b, double limit);

/**
 * A connection was made at time t. Ends the current loss, if any (its
 * time is spent): returns true then (a reconnection).
 */
bool retry_budget_connected(retry_budget *b, double t);

/**
 * The connection is lost (or still down) at time now: starts the loss if
 * none is going on, and returns the seconds left (0 or less: give up).
 */
double retry_budget_left(retry_budget *b, double now);

#endif

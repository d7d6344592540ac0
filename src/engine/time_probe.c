/* The destination's time precision (see time_probe.h). */
#include "engine/time_probe.h"

/* 2020-01-01 00:00:00.1234567 UTC: a fractional second that no coarse clock keeps. */
#define PROBE_MTIME 132223104001234567ull

bool time_probe(ep *e, const char *tmp, time_precision *p)
{
    p->window = 0;
    p->via_change_time = false;
    ep_stat meta = {.type = EP_FILE, .mtime = PROBE_MTIME}, got = {0};
    ep_file *f = NULL;
    smb_error err = {0};
    if (e->ops->open_write(e, tmp, &meta, &f, &err) != 0)
        return false;
    bool ran = e->ops->finish(f, &meta, &got, &err) == 0;
    if (ran && got.mtime != PROBE_MTIME) {
        uint64_t plain = got.mtime;
        e->mtime_via_change_time = true;
        ep_stat got2 = {0};
        bool better = e->ops->finish(f, &meta, &got2, &err) == 0 &&
                      (got2.mtime > PROBE_MTIME ? got2.mtime - PROBE_MTIME : PROBE_MTIME - got2.mtime) <
                          (plain > PROBE_MTIME ? plain - PROBE_MTIME : PROBE_MTIME - plain);
        e->mtime_via_change_time = better;
        p->via_change_time = better;
        uint64_t kept = better ? got2.mtime : plain;
        if (kept != PROBE_MTIME)
            p->window = mtime_within(kept, PROBE_MTIME, TIME_WINDOW_MAX) ? TIME_WINDOW_MAX : 0;
    }
    smb_error e2 = {0};
    e->ops->close(f, &e2);
    e->ops->unlink(e, tmp, &e2);
    return ran;
}

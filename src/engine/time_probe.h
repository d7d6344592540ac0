/*
 * How precisely a destination keeps modification times. Most keep what
 * they are given to 100 ns; FAT and some appliances keep 2 s, and some
 * servers take a file's modification time from the ChangeTime field of
 * FileBasicInformation instead of LastWriteTime (impacket's SMB server, at
 * whole seconds). The engine asks once per job, with a file of its own, and
 * then compares times within what the destination can keep (rsync's
 * --modify-window, robocopy's /FFT, learned instead of given).
 */
#ifndef SMBCOPY_ENGINE_TIME_PROBE_H
#define SMBCOPY_ENGINE_TIME_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/endpoints/endpoint.h"

/** The widest window the engine accepts (FAT's 2 s), in FILETIME units. */
#define TIME_WINDOW_MAX (2ull * 10000000ull)

/** What a probe found. */
typedef struct time_precision {
    uint64_t window;          /**< 0: times kept exactly; else modification times are kept within this */
    bool via_change_time;     /**< the modification time is set through ChangeTime too */
} time_precision;

/**
 * Create an empty temporary file named tmp (must not exist) on e, set a
 * modification time with a fractional second, read it back, and, when it
 * was not kept, try again with ChangeTime set to it too; then remove the
 * file. A probe that cannot run (the name refused, no write access) leaves
 * *p at "exact". Returns true when the probe ran.
 */
bool time_probe(ep *e, const char *tmp, time_precision *p);

/** True when times a and b are equal within window. */
static inline bool mtime_within(uint64_t a, uint64_t b, uint64_t window)
{
    return a == b || (window && (a > b ? a - b : b - a) < window);
}

#endif

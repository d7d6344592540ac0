/*
 * Pure decisions of the engine: which names are safe, which names a Windows
 * server refuses, whether a file is up to date (what filters select:
 * filter.h).
 */
#ifndef SMBCOPY_PLAN_H
#define SMBCOPY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/endpoints/endpoint.h"

/**
 * Check a name that came from a listing (untrusted): NULL when it is safe to
 * use as one path component, else why not. Refused: empty, ".", "..",
 * anything holding '/', '\\' or a NUL, and a drive prefix like "C:".
 */
const char *plan_unsafe_name(const char *name, size_t len);

/**
 * plan_unsafe_name for an entry listed by a source with capabilities
 * src_caps (EP_CAP_*): a source whose names are POSIX ones (no
 * EP_CAP_WINDOWS_NAMES: a local directory) may hold "a:b.txt", a legal
 * name there; an SMB source may not (':' names a stream). Where the name
 * goes, the destination's own rules apply (plan_windows_refuses).
 */
const char *plan_unsafe_source_name(const char *name, size_t len, unsigned src_caps);

/**
 * NULL when a Windows server accepts the name, else why not: a trailing dot
 * or space, a reserved character (< > : " | ? * or a control character), or
 * a reserved device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, also with an
 * extension).
 */
const char *plan_windows_refuses(const char *name);

/** What to do with a source file given what the destination holds. */
typedef enum plan_action {
    PLAN_COPY,   /* not at the destination */
    PLAN_UPDATE, /* there, but different size or time */
    PLAN_SKIP,   /* same size and modification time */
    PLAN_COMPARE /* same size, content to be compared (checksum mode) */
} plan_action;

/**
 * Decide for a source file src against dst (dst_exists false: nothing
 * there). Times are compared at FILETIME precision (100 ns), or within
 * window (FILETIME units) on a destination that keeps them more coarsely
 * (time_probe.h).
 */
plan_action plan_file(const ep_stat *src, bool dst_exists, const ep_stat *dst, bool checksum, uint64_t window);

#endif

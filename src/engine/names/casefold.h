/*
 * Names that differ only in case. A case-insensitive destination (every
 * Windows share, Samba's default for SMB2 clients, vfat, ext4 casefold
 * directories) holds one entry for "Report.txt" and "report.txt"; the
 * engine compares such names by their folded form and finds out whether a
 * destination folds case by asking it (case_probe).
 */
#ifndef SMBCOPY_ENGINE_CASEFOLD_H
#define SMBCOPY_ENGINE_CASEFOLD_H

#include <stdbool.h>

#include "engine/endpoints/endpoint.h"

/**
 * The folded form of a UTF-8 name: every character's simple uppercase
 * mapping (as Windows compares names, MS-FSCC 2.1.5 and the file system's
 * upcase table), malloc'd; bytes that are not valid UTF-8 are kept as they
 * are. NULL when out of memory.
 */
char *casefold_name(const char *name);

/** True when a and b are equal once folded (both UTF-8). */
bool casefold_equal(const char *a, const char *b);

/**
 * Whether directory dir of e treats names differing only in case as one
 * entry. Asked without writing when dir holds an entry whose name has a
 * letter (its name with the case swapped is looked up); otherwise, when
 * may_write, by creating an empty temporary file there, looking it up with
 * the case swapped and removing it. When neither is possible the answer is
 * the endpoint kind's usual behaviour (SMB: insensitive; local: sensitive).
 * Returns 0 with *insensitive set, or an error.
 */
int case_probe(ep *e, const char *dir, bool may_write, bool *insensitive, smb_error *err);

#endif

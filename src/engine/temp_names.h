/*
 * The names the engine gives what is not finished yet: a temporary file
 * ".smbcopy-<16 random hex digits>.tmp" beside its final name, and a staging
 * directory ".smbcopy-<16 hex digits of a hash of its name>.tmp" (derived, so
 * a rerun finds it). Copies, archives and restores all use these.
 */
#ifndef SMBCOPY_ENGINE_TEMP_NAMES_H
#define SMBCOPY_ENGINE_TEMP_NAMES_H

#include <stdbool.h>
#include <stdint.h>

/** FNV-1a (64 bits) of a string: for hash tables and derived names. */
uint64_t name_hash(const char *s);

/** A new temporary name in the directory of path ('/'-separated): malloc'd, NULL when out of memory. */
char *temp_name_beside(const char *path);

/** The staging name of directory name inside parent ("" for the root): malloc'd. */
char *stage_name_in(const char *parent, const char *name);

/** True when leaf has the form of either name. */
bool is_temp_name(const char *leaf);

#endif

/*
 * The names the engine gives what is not finished yet, beside its final
 * name:
 *   - a temporary file ".smbcopy-<tag>-<16 random hex digits>.tmp";
 *   - a staging directory ".smbcopy-<tag>-<16 hex digits of a hash of its
 *     name>.tmp" (derived, so a rerun of the same job finds it).
 * <tag> is 8 hex digits naming the job (job_tag): two jobs writing into one
 * destination never share a name, and a run removes only temporaries that
 * carry its own tag (never another job's work in progress). Tag 0 is
 * "no job" (archives, restores, library callers without a job identity).
 * The older form ".smbcopy-<16 hex digits>.tmp" is still recognised as a
 * temporary (never copied, never mirrored) but never removed.
 *
 * A server may refuse such names (Samba's veto files of names starting
 * with a dot or ending in .tmp, common on NAS: the CREATE fails with
 * STATUS_OBJECT_NAME_NOT_FOUND). The second form matches neither pattern:
 * "smbcopy-<tag>-<16 hex digits>.partial" (files and staging directories
 * alike), recognised and removed like the first. The last resort has no
 * temporary name at all: files are written under their final names
 * ("in place"), the journal marking them incomplete until done.
 */
#ifndef SMBCOPY_ENGINE_TEMP_NAMES_H
#define SMBCOPY_ENGINE_TEMP_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hash.h" /* name_hash: the FNV-1a of a name, which staging names derive from */

/** A new temporary name with tag 0 in the directory of path ('/'-separated): malloc'd, NULL when out of memory. */
char *temp_name_beside(const char *path);

/** A new temporary name with the job's tag in the directory of path: malloc'd. */
char *temp_name_tagged(const char *path, uint32_t tag);

/** A new temporary name with tag inside directory dir ("" for the root): malloc'd. */
char *temp_name_beside_in(const char *dir, uint32_t tag);

/** The staging name (tag 0) of directory name inside parent ("" for the root): malloc'd. */
char *stage_name_in(const char *parent, const char *name);

/** The staging name of directory name inside parent for the job of tag: malloc'd. */
char *stage_name_for(const char *parent, const char *name, uint32_t tag);

/** The forms of names for what is not finished, in the order tried. */
typedef enum temp_form {
    TEMP_DOT,     /**< ".smbcopy-<tag>-<hex>.tmp" */
    TEMP_PLAIN,   /**< "smbcopy-<tag>-<hex>.partial" */
    TEMP_INPLACE, /**< none: the final name */
} temp_form;

/** A new temporary name of form (TEMP_INPLACE: path itself) with tag, beside path: malloc'd. */
char *temp_name_form(const char *path, uint32_t tag, temp_form form);

/** The staging name of form of directory name inside parent: malloc'd; NULL for TEMP_INPLACE or out of memory. */
char *stage_name_form(const char *parent, const char *name, uint32_t tag, temp_form form);

/** A pattern of form's names, for messages (".smbcopy-*.tmp"). */
const char *temp_form_example(temp_form form);

/** True when leaf has the form of a temporary or staging name (any form). */
bool is_temp_name(const char *leaf);

/** True when leaf is a temporary or staging name of a tagged form (dot or plain); *tag gets its tag. */
bool temp_name_tag(const char *leaf, uint32_t *tag);

#endif

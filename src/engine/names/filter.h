/*
 * Filter rules: which entries a job copies, walks and (with --mirror)
 * may delete. Rules come in command-line order, each "+ PATTERN" (include)
 * or "- PATTERN" (exclude), with rsync's pattern semantics (rsync(1),
 * "INCLUDE/EXCLUDE PATTERN RULES"):
 *   - a leading '/' anchors the pattern at the transfer root: it must match
 *     the whole relative path;
 *   - otherwise the pattern matches at the end of the path, starting at any
 *     directory boundary: one without '/' or "**" matches the last
 *     component alone ("*.o"), "sub/foo" matches "sub/foo" and "x/sub/foo";
 *   - a trailing '/' matches only directories;
 *   - '*' matches any run of characters but '/', "**" (or more stars) any
 *     run including '/', '?' one character but '/', [...] one character of
 *     a class, never '/': ranges, [!...] or [^...] negation, [:alpha:] and
 *     the other POSIX names (ASCII); a backslash makes the next character
 *     literal (only in a pattern holding '*', '?' or '[', as in rsync);
 *   - "dir/" + "***" matches the directory dir and everything below it;
 *   - a leading "**" + "/" may also match no directory at all, so
 *     "**" + "/cache" matches "cache" at the top as well (smbcopy's choice;
 *     rsync's own matcher needs a '/' there); inside a pattern it needs one:
 *     "/foo/" + "**" + "/bar" does not match "foo/bar";
 *   - characters are UTF-8 code points ('?' matches "é"), compared exactly:
 *     case matters;
 *   - the first rule that matches decides.
 * When any include rule is given, a file that no rule matches is excluded
 * (directories are still walked): "--include '*.txt'" copies only .txt files.
 * An excluded directory is not walked, so nothing below it is copied or
 * deleted.
 *
 * Matching takes time proportional to pattern length times path length,
 * whatever the pattern (no backtracking). A set is read-only once made:
 * any number of threads may use it at once.
 */
#ifndef SMBCOPY_ENGINE_FILTER_H
#define SMBCOPY_ENGINE_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include <smbcopy/smb.h>

typedef struct filter_set filter_set;

/**
 * Compile rules[0..n) ("+ PATTERN" or "- PATTERN"). Returns a new set (free
 * with filter_free; the strings are copied), or NULL with err (a rule of
 * another form, an empty pattern, out of memory). n == 0 gives a set that
 * excludes nothing.
 */
filter_set *filter_new(const char *const *rules, size_t n, smb_error *err);

/** Free a set (NULL is fine). */
void filter_free(filter_set *f);

/**
 * True when the entry at rel (its path below the transfer root,
 * '/'-separated, no leading '/') is excluded: not copied, and not deleted
 * by --mirror unless --delete-excluded. is_dir: the entry is a directory.
 */
bool filter_excluded(const filter_set *f, const char *rel, bool is_dir);

/**
 * As filter_excluded, and also true when any directory above rel is
 * excluded: for streams of whole paths (archive entries), where no walk
 * stops at an excluded directory.
 */
bool filter_path_excluded(const filter_set *f, const char *rel, bool is_dir);

/** True when the set has any rule. */
bool filter_active(const filter_set *f);

#endif

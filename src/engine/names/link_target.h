/*
 * Whether a symbolic link's target stays inside the copied tree, as
 * --links copy decides which links it makes again at the destination.
 */
#ifndef SMBCOPY_ENGINE_LINK_TARGET_H
#define SMBCOPY_ENGINE_LINK_TARGET_H

#include <stdbool.h>

/**
 * True when target, the target of the link at link_rel ('/'-separated,
 * relative to the tree's root), names a place inside the tree: resolved
 * lexically from the link's directory ("." and empty components dropped,
 * ".." going up one), never above the root on the way. An absolute target
 * (starting with '/') and an empty one are not inside. Nothing on disk is
 * looked at: a component that is itself a link is taken as a directory.
 */
bool link_target_inside(const char *link_rel, const char *target);

/**
 * The place target names, as link_target_inside resolves it, relative to
 * the root ("" for the root itself); malloc'd (the caller frees it). NULL
 * when the target is not inside, or out of memory.
 */
char *link_target_resolve(const char *link_rel, const char *target);

#endif

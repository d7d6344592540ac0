/*
 * A local file's extra metadata (ep_meta.h) in its extended attributes
 * (Linux xattrs), behind the local endpoint's get_streams, put_streams,
 * get_sd and put_sd (endpoint.h). They work on an open file's descriptor;
 * the local endpoint opens only regular files (directories are not opened),
 * so a directory's streams and descriptor are not kept.
 *
 * Named stream NAME: the xattr "user.DosStream.NAME:$DATA", its value the
 * stream's bytes followed by one NUL byte, as Samba's vfs_streams_xattr
 * keeps them (it reads a stream's size as the value's length less one), so
 * a tree shared again by Samba with streams_xattr shows the streams again.
 *
 * Security descriptor: the self-relative bytes (MS-DTYP 2.4.6) whole, as the
 * xattr "user.smbcopy.ntsd".
 *
 * path is for messages only. Functions return 0 or a negative SMB_ERR_*
 * with err filled.
 */
#ifndef SMBCOPY_EP_LOCAL_META_H
#define SMBCOPY_EP_LOCAL_META_H

#include <stdint.h>

#include <smbcopy/smb.h>

#include "ep_meta.h"

/** The xattr name of a stream is this, the stream's name, then EP_LOCAL_STREAM_SUFFIX. */
#define EP_LOCAL_STREAM_PREFIX "user.DosStream."
#define EP_LOCAL_STREAM_SUFFIX ":$DATA"
/** The xattr holding a file's security descriptor. */
#define EP_LOCAL_SD_XATTR "user.smbcopy.ntsd"

/**
 * Whether the file open as fd has named streams (EP_STREAMS_*, endpoint.h):
 * one flistxattr. A file system without xattrs has none; another failure
 * of the call says EP_STREAMS_UNKNOWN.
 */
uint8_t ep_local_streams_state(int fd);

/**
 * The named streams of the file open as fd into *out (ep_streams_clear'd
 * first, so it must be empty or hold streams; the caller frees it with
 * ep_streams_clear). Xattrs of other names are ignored, and so are streams
 * whose name is empty, holds '/', '\\' or ':', or is not UTF-8; one removed
 * while it is read is left out. A file system without xattrs has none.
 * Streams past SC_STREAMS_MAX_BYTES together: SMB_ERR_NO_SPACE, *out empty.
 */
int ep_local_get_streams(int fd, const char *path, ep_streams *out, smb_error *err);

/**
 * Write every stream of s onto the file open as fd, replacing a stream of
 * the same name; the file's other streams stay. A stream the file system
 * cannot hold (over 64 KiB, the Linux limit of one xattr; ext4 keeps all of
 * a file's xattrs in one block) is left out, never truncated: the others
 * are written, then SMB_ERR_NO_SPACE names the first that did not fit. A
 * name get_streams would refuse: SMB_ERR_BAD_NAME, nothing written. No
 * xattrs on the file system: SMB_ERR_UNSUPPORTED.
 */
int ep_local_put_streams(int fd, const char *path, ep_streams *s, smb_error *err);

/**
 * The security descriptor of the file open as fd into *out (ep_sd_clear'd
 * first; the caller frees it with ep_sd_clear): the whole stored
 * descriptor, out->parts the EP_SD_* parts among `parts` that it has.
 * None stored (or no xattrs): out->len 0. Stored bytes that do not decode
 * as a descriptor: SMB_ERR_PROTOCOL.
 */
int ep_local_get_sd(int fd, const char *path, uint32_t parts, ep_sd *out, smb_error *err);

/**
 * Store sd's bytes as the descriptor of the file open as fd, replacing
 * one stored before. The whole descriptor is kept, whatever sd->parts says.
 * sd->len 0 removes a stored descriptor. Bytes that do not decode as a
 * descriptor: SMB_ERR_INVALID_ARG, nothing stored; too large for the file
 * system: SMB_ERR_NO_SPACE; no xattrs: SMB_ERR_UNSUPPORTED.
 */
int ep_local_put_sd(int fd, const char *path, const ep_sd *sd, smb_error *err);

#endif

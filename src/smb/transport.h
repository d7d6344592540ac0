/* TCP transport: connect with a timeout, full reads and gathered writes. */
#ifndef SMBCOPY_TRANSPORT_H
#define SMBCOPY_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <smbcopy/smb.h>

/**
 * Resolve host and connect to port within timeout_ms. Returns the socket
 * (TCP_NODELAY set, large buffers) or -1 with err filled (SMB_ERR_CONNECT).
 */
int smb_tcp_connect(const char *host, uint16_t port, unsigned timeout_ms, smb_error *err);

/** Read exactly n bytes. Returns 0, or -1 on EOF or error (errno set; 0 for EOF). */
int smb_tcp_read_full(int fd, void *buf, size_t n);

/** Write all of iov[0..n) (modified as it goes). Returns 0 or -1 (errno set). */
int smb_tcp_writev_full(int fd, struct iovec *iov, int n);

/**
 * Send len bytes of file fd from off on socket sock with sendfile (no copy
 * through user memory). Whatever the file no longer holds (it became
 * shorter) or cannot give is sent as zeros so that the frame stays whole.
 * Returns 0, 1 when zeros had to be sent, -1 on a socket error.
 */
int smb_tcp_sendfile_full(int sock, int fd, uint64_t off, size_t len);

#endif

/*
 * What the client does with the bytes of each response it receives, for
 * the fuzz targets: every function runs the library's own decoders over
 * untrusted bytes, the way the receiving code calls them, and discards the
 * results. A message is the whole SMB2 message (64-byte header first), as
 * the receiver hands it to the code waiting for it.
 */
#ifndef SMBCOPY_FUZZ_RSP_H
#define SMBCOPY_FUZZ_RSP_H

#include <stddef.h>
#include <stdint.h>

/* One decoder of a response body, by command (MS-SMB2 2.2.x). */
void fuzz_rsp_error(const uint8_t *msg, size_t len);
void fuzz_rsp_negotiate(const uint8_t *msg, size_t len);
void fuzz_rsp_session_setup(const uint8_t *msg, size_t len);
void fuzz_rsp_tree_connect(const uint8_t *msg, size_t len);
void fuzz_rsp_create(const uint8_t *msg, size_t len);
void fuzz_rsp_close(const uint8_t *msg, size_t len);
void fuzz_rsp_read(const uint8_t *msg, size_t len);
void fuzz_rsp_write(const uint8_t *msg, size_t len);
void fuzz_rsp_simple(const uint8_t *msg, size_t len);
void fuzz_rsp_set_info(const uint8_t *msg, size_t len);
void fuzz_rsp_query_dir(const uint8_t *msg, size_t len);
void fuzz_rsp_query_info(const uint8_t *msg, size_t len);
void fuzz_rsp_ioctl(const uint8_t *msg, size_t len);

/** Decode the header, then the body by its Command (an error status: the ERROR body). */
void fuzz_rsp_any(const uint8_t *msg, size_t len);
/**
 * A frame as the receiver reads it after the transport header: split into
 * its compounded messages with smb2_compound_next(), each copied into its
 * own allocation (as conn.c does) and decoded with fuzz_rsp_any().
 */
void fuzz_frame_messages(const uint8_t *frame, size_t len);

/** The entries of a FileIdFullDirectoryInformation buffer and their names, as dir.c reads them. */
void fuzz_dirents(const uint8_t *buf, size_t len);
/** The outputs of the FSCTLs the client sends: interfaces, allocated ranges, VALIDATE_NEGOTIATE_INFO. */
void fuzz_ioctl_outputs(const uint8_t *buf, size_t len);
/** The file information classes the client decodes (MS-FSCC 2.4). */
void fuzz_info_classes(const uint8_t *buf, size_t len);
/** A SPNEGO token from the server: as NegTokenInit2 hint and as NegTokenResp. */
void fuzz_spnego_token(const uint8_t *buf, size_t len);
/** An NTLM CHALLENGE message: parsed, its AV pairs rewritten, and taken by the NTLM mechanism. */
void fuzz_ntlm_challenge(const uint8_t *buf, size_t len);

#endif

/* Further channels for a pooled SMB session (multichannel), see ep_smb_channels.c. */
#ifndef SMBCOPY_ENGINE_EP_SMB_CHANNELS_H
#define SMBCOPY_ENGINE_EP_SMB_CHANNELS_H

#include <stddef.h>

#include <smbcopy/smb.h>

/**
 * Which interfaces (indexes into ifs[0..n)) the channels after the first go
 * to, for want channels in all: plan[] gets want - 1 entries (returned).
 * primary is the address the first connection names (its interface starts
 * with one channel). RSS-capable interfaces take up to 4 times the load of
 * others; ties go to RSS-capable ones, then to the faster link.
 */
size_t ep_smb_plan_channels(const smb_iface *ifs, size_t n, const char *primary, unsigned want, size_t *plan);

/**
 * Bring sess (made on host:port, with tree one of its trees) to want
 * channels: ask the server for its interfaces, plan, connect and bind each
 * channel with cr. Stops at the first failure (the session goes on with the
 * channels it has). Returns how many channels were added; note (may be NULL)
 * gets one line for verbose output ("2 channels", or why fewer).
 */
unsigned ep_smb_add_channels(smb_session *sess, smb_tree *tree, const char *host, uint16_t port, unsigned want,
                             const smb_creds *cr, char *note, size_t notelen);

#endif

/* The hostile server's modes: names, and what the client must do. */
#include <string.h>

#include "hs.h"

const hs_mode_info hs_modes[HS_MODE_COUNT] = {
    [HS_GOOD] = {"good", "a well-behaved server (the baseline): everything works"},
    [HS_SIGNED] = {"signed", "signing required, every response correctly signed: everything works", true},
    [HS_ENCRYPTED] = {"encrypted", "an encrypted session (AES-128-GCM): everything works", false, true},
    [HS_NEG_SECBUF_OOB] = {"neg-secbuf-oob",
                           "NEGOTIATE response whose security buffer lies outside the frame: malformed, refused"},
    [HS_SETUP_SECBUF_OOB] = {"setup-secbuf-oob",
                             "SESSION_SETUP response whose security buffer lies outside the frame: refused"},
    [HS_CREATE_CTX_OOB] = {"create-ctx-oob", "CREATE responses whose create contexts lie outside the frame"},
    [HS_DIR_OOB] = {"dir-oob", "QUERY_DIRECTORY output buffer longer than the frame"},
    [HS_DIRENT_OOB] = {"dirent-oob", "a directory entry whose name runs past the output buffer"},
    [HS_READ_OOB] = {"read-oob", "READ responses whose DataLength runs past the frame"},
    [HS_IOCTL_OOB] = {"ioctl-oob", "IOCTL responses whose output lies outside the frame"},
    [HS_HUGE_FRAME] = {"huge-frame", "the READ response announces a 2 MiB frame, beyond MaxTransact/MaxRead"},
    [HS_CREDITS_0] = {"credits-0", "every response grants 0 credits: the client runs dry and must say so"},
    [HS_CREDITS_65535] = {"credits-65535", "every response grants 65535 credits: the client must cope"},
    [HS_UNKNOWN_MID] = {"unknown-mid", "the TREE_CONNECT response carries a MessageId nobody asked for"},
    [HS_PENDING_FOREVER] = {"pending-forever",
                            "READ answered by STATUS_PENDING interim responses, again and again, never a final one"},
    [HS_BAD_SIGNATURE] = {"bad-signature", "signing required; the TREE_CONNECT response has a bad signature", true},
    [HS_BAD_SIGNATURE_READ] = {"bad-signature-read", "signing required; every READ response has a bad signature",
                               true},
    [HS_PLAIN_ON_ENCRYPTED] = {"plain-on-encrypted",
                               "an encrypted session whose TREE_CONNECT response comes unencrypted", false, true},
    [HS_EVIL_LISTING] = {"evil-listing",
                         "the share root also lists '..', '../x', 'a/b', 'a\\b', 'C:x', a name with a NUL and a "
                         "lone surrogate"},
    [HS_CLOSE_MID_NBSS] = {"close-mid-nbss", "the READ response stops after 2 bytes of its NetBIOS header; close"},
    [HS_CLOSE_MID_HEADER] = {"close-mid-header", "the READ response stops in the middle of its SMB2 header; close"},
    [HS_CLOSE_MID_READ] = {"close-mid-read", "the READ response stops in the middle of its data; close"},
    [HS_STALL_MID_READ] = {"stall-mid-read",
                           "the READ response stops in the middle of its data; the connection stays open"},
    [HS_SHORT_WRITE] = {"short-write",
                        "each WRITE is taken in part: the first half of the data (rounded up), answered with that "
                        "Count (needs --store)"},
    [HS_ENDLESS_SAME_PAGE] = {"endless-same-page",
                              "QUERY_DIRECTORY never ends: the same page of entries again and again"},
    [HS_ENDLESS_NEW_NAMES] = {"endless-new-names",
                              "QUERY_DIRECTORY never ends: every page brings 400 names never sent before"},
    [HS_DUPLICATE_NAMES] = {"duplicate-names",
                            "the share root lists dup.txt twice, with sizes 5 and 7 (it holds 5 bytes)"},
    [HS_REFUSE_COPYCHUNK] = {"refuse-copychunk",
                             "FSCTL_SRV_REQUEST_RESUME_KEY answered, FSCTL_SRV_COPYCHUNK_WRITE refused with "
                             "STATUS_INVALID_DEVICE_REQUEST (as impacket does): copies stream through the client"},
    [HS_BAD_LOGON_SIGNATURE] = {"bad-logon-signature",
                                "the password is taken, but the final SESSION_SETUP response has a bad signature"},
    [HS_BAD_SD] = {"bad-sd",
                   "security descriptor queries answered with a malformed buffer: good1.txt's OutputBufferLength "
                   "runs 4096 bytes past the frame, every other file's buffer is 8 bytes longer than asked"},
    [HS_SD_CHANGED] = {"sd-changed",
                       "a security descriptor set on a stored file is taken, and every one read back from it says "
                       "something else: Everyone with full access, owner S-1-22-1-0 (needs --store)"},
};

int hs_mode_find(const char *name)
{
    for (int i = 0; i < HS_MODE_COUNT; i++)
        if (strcmp(hs_modes[i].name, name) == 0)
            return i;
    return -1;
}

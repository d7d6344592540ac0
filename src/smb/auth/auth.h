/*
 * Authentication for SESSION_SETUP: SPNEGO (RFC 4178, MS-SPNG) around
 * pluggable mechanisms. NTLMv2 (MS-NLMP) is built in; Kerberos through
 * GSSAPI plugs in as another mechanism with the same interface.
 */
#ifndef SMBCOPY_AUTH_H
#define SMBCOPY_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smbcopy/smb.h>

/** A growable byte buffer owned by its holder (free with free(data)). */
typedef struct smb_buf {
    uint8_t *data;
    size_t len;
} smb_buf;

/** Result of one authentication step. */
enum smb_auth_result {
    SMB_AUTH_DONE = 0,     /**< finished on our side (out may still hold a last token to send) */
    SMB_AUTH_CONTINUE = 1, /**< send out, feed the server's answer to the next step */
};

/**
 * One security mechanism behind SPNEGO. A mechanism is a small state
 * machine: step() consumes the server's token (NULL/0 on the first call) and
 * produces the next token for the server.
 */
typedef struct smb_mech_ops {
    const char *name;       /**< "NTLM", "Kerberos" */
    const uint8_t *oid;     /**< DER contents of the mechanism OID (without tag and length) */
    size_t oid_len;
    /** Produce the next token; returns smb_auth_result or a negative SMB_ERR_* with err filled. */
    int (*step)(void *state, const uint8_t *in, size_t in_len, smb_buf *out, smb_error *err);
    /**
     * Copy the session key (after DONE) into key[0..cap); *len receives its
     * length (16 for NTLM). Returns 0 or an SMB_ERR_* code (SMB_ERR_INTERNAL
     * before DONE or when cap is too small).
     */
    int (*session_key)(void *state, uint8_t *key, size_t cap, size_t *len);
    /**
     * Sign msg for SPNEGO's mechListMIC (NTLM: 16-byte NTLMSSP signature)
     * into mic->data, malloc'd and the caller's to free. Returns 0 or an
     * SMB_ERR_* code (SMB_ERR_CRYPTO, SMB_ERR_NO_MEMORY, SMB_ERR_INTERNAL
     * before the mechanism can sign). NULL if the mech has no MIC.
     */
    int (*mic_make)(void *state, const uint8_t *msg, size_t len, smb_buf *mic);
    /** Verify the server's mechListMIC over msg; 0 when it verifies. */
    int (*mic_check)(void *state, const uint8_t *msg, size_t len, const uint8_t *mic, size_t mic_len);
    /** True when the mechanism requires the mechListMIC exchange (NTLM with a MIC in AUTHENTICATE). */
    bool (*wants_mic)(void *state);
    /** True when the logon was anonymous or mapped to guest by the mechanism. */
    bool (*is_anonymous)(void *state);
    void (*free)(void *state);
} smb_mech_ops;

/** Credentials and target for an authentication (strings borrowed for the call). */
typedef struct smb_auth_params {
    const char *user;        /**< bare user name (already split from any domain) */
    const char *domain;      /**< domain or realm, may be "" */
    const char *password;    /**< may be "" */
    const char *workstation; /**< may be NULL */
    bool anonymous;          /**< null session */
    const char *target_host; /**< server host name, for Kerberos's cifs/<host> */
    int mech_policy;         /**< smb_auth_mech_policy */
    /** Random bytes source for the client challenge and exported session key (tests pass a fixed one); NULL = smb_random. */
    int (*random)(void *buf, size_t n, void *arg);
    void *random_arg;
    /** Current time as FILETIME for NTLMv2 when the server sends none (tests fix it), called with random_arg; NULL = now. */
    uint64_t (*now)(void *arg);
} smb_auth_params;

/**
 * Split "DOMAIN\\user" or "user@domain" into user and domain (malloc'd into
 * *user and *domain; a bare "user" yields default_domain or ""). Returns 0
 * or SMB_ERR_NO_MEMORY.
 */
int smb_auth_split_user(const char *name, const char *default_domain, char **user, char **domain);

/** The NTLM mechanism's operations, and a constructor of its state. */
extern const smb_mech_ops smb_mech_ntlm;
/** New NTLM state for p (strings copied); NULL on allocation failure. */
void *smb_ntlm_new(const smb_auth_params *p);

/** The Kerberos mechanism (GSSAPI, MIT krb5). */
extern const smb_mech_ops smb_mech_krb5;
/**
 * New Kerberos state for p: the target cifs/<target_host>; credentials from
 * p's password when one is given, else the credential cache or the client
 * keytab. When no credentials can be had the state remembers why and the
 * first step fails with that message. NULL on allocation failure.
 */
void *smb_krb5_new(const smb_auth_params *p);
/** True when Kerberos credentials for p can be had now (cache, keytab or password). */
bool smb_krb5_usable(const smb_auth_params *p);

/** SPNEGO context wrapping one or more mechanisms. */
typedef struct smb_spnego smb_spnego;

/**
 * Start SPNEGO for params. The mechanisms offered follow params->mech_policy:
 * SMB_AUTH_KERBEROS offers Kerberos alone; SMB_AUTH_NTLM NTLM alone;
 * SMB_AUTH_AUTO Kerberos first when credentials for it exist (a ticket
 * cache, a client keytab, or a password with a realm), with NTLM after it
 * as the fallback, else NTLM alone. server_hint is the
 * security buffer of the NEGOTIATE response (the server's NegTokenInit with
 * its mechanism list), may be empty.
 */
smb_spnego *smb_spnego_new(const smb_auth_params *params, const uint8_t *server_hint, size_t hint_len, smb_error *err);
/** A mechanism SPNEGO may offer: its operations and the constructor of its state. */
typedef struct smb_mech_entry {
    const smb_mech_ops *ops;
    void *(*create)(const smb_auth_params *p); /**< NULL on allocation failure */
} smb_mech_entry;

/**
 * smb_spnego_new with an explicit list of mechanisms in order of preference
 * (n from 1 to 4; the first sends the optimistic token). For mechanisms
 * added later and for tests; policy is not consulted.
 */
smb_spnego *smb_spnego_new_with(const smb_auth_params *params, const smb_mech_entry *mechs, int n,
                                const uint8_t *server_hint, size_t hint_len, smb_error *err);
/**
 * One round: in is the SESSION_SETUP response's security buffer (NULL/0
 * first). out receives the token to send. Returns SMB_AUTH_CONTINUE,
 * SMB_AUTH_DONE (when the server's final token, if any, was accepted,
 * including its mechListMIC) or a negative error.
 */
int smb_spnego_step(smb_spnego *s, const uint8_t *in, size_t in_len, smb_buf *out, smb_error *err);
/**
 * The chosen mechanism's session key (after DONE) into key[0..cap), its
 * length in *len. Returns 0, SMB_ERR_INVALID_ARG without s, SMB_ERR_INTERNAL
 * before DONE, or the mechanism's error.
 */
int smb_spnego_session_key(smb_spnego *s, uint8_t *key, size_t cap, size_t *len);
/** Name of the chosen mechanism. */
const char *smb_spnego_mech_name(const smb_spnego *s);
/** Free the context (wiping keys). NULL is a no-op. */
void smb_spnego_free(smb_spnego *s);

#endif

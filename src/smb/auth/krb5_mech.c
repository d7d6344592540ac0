/*
 * Kerberos behind SPNEGO, through GSSAPI (MIT krb5): RFC 4121 tokens for
 * the service cifs/<host>, credentials from the credential cache, a client
 * keytab (KRB5_CLIENT_KTNAME) or a password, and the context's session key
 * (MS-SMB2 3.2.5.3.1 uses it exactly as NTLM's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include "auth/auth.h"
#include "error.h"

/* 1.2.840.113554.1.2.2, the Kerberos V5 GSS-API mechanism (RFC 1964). */
static const uint8_t krb5_oid_der[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02};
static gss_OID_desc krb5_oid_desc = {sizeof krb5_oid_der, (void *)krb5_oid_der};
/* GSS_C_INQ_SSPI_SESSION_KEY, 1.2.840.113554.1.2.2.5.5 (MIT). */
static const uint8_t sspi_key_oid_der[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x05, 0x05};
static gss_OID_desc sspi_key_oid = {sizeof sspi_key_oid_der, (void *)sspi_key_oid_der};

typedef struct krb_state {
    gss_ctx_id_t ctx;
    gss_cred_id_t cred;
    gss_name_t target;
    char target_text[300];
    smb_error setup_err; /* why credentials could not be had, reported at the first step */
} krb_state;

/* Append the texts of one status code (GSS or mechanism) to buf at *used. */
static void append_status(OM_uint32 code, int type, char *buf, size_t len, size_t *used)
{
    OM_uint32 m, ctx = 0;
    gss_buffer_desc s;
    do {
        if (gss_display_status(&m, code, type, type == GSS_C_MECH_CODE ? &krb5_oid_desc : GSS_C_NO_OID, &ctx, &s) !=
            GSS_S_COMPLETE)
            break;
        if (s.length == 7 && memcmp(s.value, "Success", 7) == 0) { /* an empty mechanism code */
            gss_release_buffer(&m, &s);
            continue;
        }
        int n = snprintf(buf + *used, len - *used, "%s%.*s", *used ? "; " : "", (int)s.length, (char *)s.value);
        gss_release_buffer(&m, &s);
        if (n < 0 || (size_t)n >= len - *used)
            break;
        *used += (size_t)n;
    } while (ctx);
}

/* The mechanism's text (the useful one) first, then the GSS one. */
static void status_text(OM_uint32 major, OM_uint32 minor, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    if (minor)
        append_status(minor, GSS_C_MECH_CODE, buf, len, &used);
    if (GSS_ROUTINE_ERROR(major))
        append_status(major, GSS_C_GSS_CODE, buf, len, &used);
}

/* A readable hint for the Kerberos failures sysadmins meet. */
static const char *hint_for(const char *text)
{
    if (strstr(text, "skew"))
        return " (the clocks of this host and the domain controller differ by more than 5 minutes)";
    if (strstr(text, "expired"))
        return " (the ticket has expired: run kinit again or give a password or keytab)";
    if (strstr(text, "No Kerberos credentials") || strstr(text, "No credentials cache") ||
        strstr(text, "not found (filename") || strstr(text, "No such file"))
        return " (no ticket: run kinit, set KRB5_CLIENT_KTNAME to a keytab, or give a password)";
    if (strstr(text, "Cannot contact any KDC") || strstr(text, "Cannot find KDC"))
        return " (the KDC cannot be reached: check krb5.conf and the network)";
    if (strstr(text, "not found in Kerberos database") || strstr(text, "Server not found"))
        return " (no such service principal: name the server as the domain knows it, or set its principal host)";
    if (strstr(text, "Preauthentication failed") || strstr(text, "Password incorrect"))
        return " (wrong password)";
    return "";
}

static int gss_fail(smb_error *err, const char *what, OM_uint32 major, OM_uint32 minor)
{
    char text[400];
    status_text(major, minor, text, sizeof text);
    return smb_err_set(err, SMB_ERR_AUTH, 0, "Kerberos %s: %s%s", what, text, hint_for(text));
}

/* The client principal for a password logon: user@REALM, or user in the default realm. */
static int password_cred(krb_state *k, const smb_auth_params *p, smb_error *err)
{
    char principal[512];
    if (strchr(p->user, '@') || !p->domain || !strchr(p->domain, '.'))
        snprintf(principal, sizeof principal, "%s", p->user);
    else
        snprintf(principal, sizeof principal, "%s@%s", p->user, p->domain);
    for (char *q = strchr(principal, '@'); q && *q; q++) /* realms are upper case */
        if (*q >= 'a' && *q <= 'z')
            *q = (char)(*q - 'a' + 'A');
    OM_uint32 major, minor;
    gss_buffer_desc nb = {strlen(principal), principal};
    gss_name_t name = GSS_C_NO_NAME;
    major = gss_import_name(&minor, &nb, GSS_C_NT_USER_NAME, &name);
    if (GSS_ERROR(major))
        return gss_fail(err, "user name", major, minor);
    gss_buffer_desc pw = {strlen(p->password), (void *)p->password};
    gss_OID_set_desc mechs = {1, &krb5_oid_desc};
    major = gss_acquire_cred_with_password(&minor, name, &pw, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE, &k->cred,
                                           NULL, NULL);
    gss_release_name(&minor, &name);
    if (GSS_ERROR(major)) {
        gss_fail(err, "logon with a password", major, minor);
        if (err && !strchr(err->message, '(')) {
            size_t n = strlen(err->message);
            snprintf(err->message + n, sizeof err->message - n,
                     " (a wrong password, a user the realm does not know, or a locked account)");
        }
        return SMB_ERR_AUTH;
    }
    return 0;
}

/* Credentials from the cache or the client keytab. */
static int default_cred(krb_state *k, smb_error *err)
{
    OM_uint32 major, minor;
    gss_OID_set_desc mechs = {1, &krb5_oid_desc};
    major = gss_acquire_cred(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs, GSS_C_INITIATE, &k->cred, NULL, NULL);
    if (GSS_ERROR(major))
        return gss_fail(err, "credentials", major, minor);
    /* A cache whose ticket has expired still "acquires": check the lifetime. */
    OM_uint32 lifetime = 0;
    major = gss_inquire_cred(&minor, k->cred, NULL, &lifetime, NULL, NULL);
    if (GSS_ERROR(major))
        return gss_fail(err, "credentials", major, minor);
    if (lifetime == 0)
        return smb_err_set(err, SMB_ERR_AUTH, 0,
                           "Kerberos credentials: the ticket has expired (run kinit again or give a password or keytab)");
    return 0;
}

void *smb_krb5_new(const smb_auth_params *p)
{
    krb_state *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->ctx = GSS_C_NO_CONTEXT;
    k->cred = GSS_C_NO_CREDENTIAL;
    k->target = GSS_C_NO_NAME;
    /* The service principal cifs/<host> (MS-SMB2 3.2.4.2.3). */
    snprintf(k->target_text, sizeof k->target_text, "cifs@%s", p->target_host ? p->target_host : "");
    OM_uint32 major, minor;
    gss_buffer_desc tb = {strlen(k->target_text), k->target_text};
    major = gss_import_name(&minor, &tb, GSS_C_NT_HOSTBASED_SERVICE, &k->target);
    if (GSS_ERROR(major)) {
        gss_fail(&k->setup_err, "service name", major, minor);
        return k;
    }
    bool have_password = p->password && *p->password && p->user && *p->user;
    if (have_password)
        password_cred(k, p, &k->setup_err);
    else
        default_cred(k, &k->setup_err);
    return k;
}

bool smb_krb5_usable(const smb_auth_params *p)
{
    krb_state *k = smb_krb5_new(p);
    bool ok = k && !k->setup_err.code;
    smb_mech_krb5.free(k);
    return ok;
}

bool smb_kerberos_usable(const smb_creds *creds)
{
    if (!creds || creds->mech == SMB_AUTH_NTLM || !creds->target_host)
        return false;
    char *user = NULL, *domain = NULL;
    if (smb_auth_split_user(creds->username, creds->domain, &user, &domain) != 0)
        return false;
    smb_auth_params p = {.user = user, .domain = domain, .password = creds->password,
                         .mech_policy = creds->mech, .target_host = creds->target_host};
    bool ok = smb_krb5_usable(&p);
    free(user);
    free(domain);
    return ok;
}

int smb_kerberos_principal(char *buf, size_t len, smb_error *err)
{
    krb_state k = {.ctx = GSS_C_NO_CONTEXT, .cred = GSS_C_NO_CREDENTIAL, .target = GSS_C_NO_NAME};
    OM_uint32 major, minor;
    int rc = default_cred(&k, err); /* the ticket cache, else the client keytab; an expired ticket fails */
    if (rc == 0) {
        gss_name_t name = GSS_C_NO_NAME;
        gss_buffer_desc text = {0, NULL};
        major = gss_inquire_cred(&minor, k.cred, &name, NULL, NULL, NULL);
        if (!GSS_ERROR(major))
            major = gss_display_name(&minor, name, &text, NULL);
        if (GSS_ERROR(major))
            rc = gss_fail(err, "credentials", major, minor);
        else if (text.length == 0 || text.length >= len || memchr(text.value, '\0', text.length))
            rc = smb_err_set(err, SMB_ERR_AUTH, 0, "Kerberos credentials: the principal's name is empty or too long");
        else {
            memcpy(buf, text.value, text.length);
            buf[text.length] = '\0';
        }
        gss_release_buffer(&minor, &text);
        if (name != GSS_C_NO_NAME)
            gss_release_name(&minor, &name);
    }
    if (k.cred != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&minor, &k.cred);
    return rc;
}

static int krb_step(void *state, const uint8_t *in, size_t in_len, smb_buf *out, smb_error *err)
{
    krb_state *k = state;
    if (k->setup_err.code) {
        if (err)
            *err = k->setup_err;
        return k->setup_err.code;
    }
    gss_buffer_desc ib = {in_len, (void *)in}, ob = {0, NULL};
    OM_uint32 minor, flags = 0;
    OM_uint32 major = gss_init_sec_context(
        &minor, k->cred, &k->ctx, k->target, &krb5_oid_desc,
        GSS_C_MUTUAL_FLAG | GSS_C_REPLAY_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG | GSS_C_CONF_FLAG, 0,
        GSS_C_NO_CHANNEL_BINDINGS, in_len ? &ib : GSS_C_NO_BUFFER, NULL, &ob, &flags, NULL);
    if (GSS_ERROR(major)) {
        char what[340];
        snprintf(what, sizeof what, "logon to %s", k->target_text);
        return gss_fail(err, what, major, minor);
    }
    out->data = NULL;
    out->len = 0;
    if (ob.length) {
        out->data = malloc(ob.length);
        if (!out->data) {
            gss_release_buffer(&minor, &ob);
            return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        }
        memcpy(out->data, ob.value, ob.length);
        out->len = ob.length;
    }
    gss_release_buffer(&minor, &ob);
    return major == GSS_S_COMPLETE ? SMB_AUTH_DONE : SMB_AUTH_CONTINUE;
}

static int krb_session_key(void *state, uint8_t *key, size_t cap, size_t *len)
{
    krb_state *k = state;
    OM_uint32 minor;
    gss_buffer_set_t set = GSS_C_NO_BUFFER_SET;
    OM_uint32 major = gss_inquire_sec_context_by_oid(&minor, k->ctx, &sspi_key_oid, &set);
    if (GSS_ERROR(major) || !set || set->count < 1 || set->elements[0].length > cap) {
        bool too_long = !GSS_ERROR(major) && set && set->count >= 1;
        gss_release_buffer_set(&minor, &set);
        return too_long ? SMB_ERR_INTERNAL : SMB_ERR_AUTH;
    }
    memcpy(key, set->elements[0].value, set->elements[0].length);
    *len = set->elements[0].length;
    gss_release_buffer_set(&minor, &set);
    return 0;
}

static int krb_mic_make(void *state, const uint8_t *msg, size_t len, smb_buf *mic)
{
    krb_state *k = state;
    OM_uint32 minor;
    gss_buffer_desc mb = {len, (void *)msg}, tok = {0, NULL};
    if (GSS_ERROR(gss_get_mic(&minor, k->ctx, GSS_C_QOP_DEFAULT, &mb, &tok)))
        return SMB_ERR_CRYPTO;
    mic->data = malloc(tok.length);
    if (mic->data) {
        memcpy(mic->data, tok.value, tok.length);
        mic->len = tok.length;
    }
    gss_release_buffer(&minor, &tok);
    return mic->data ? 0 : SMB_ERR_NO_MEMORY;
}

static int krb_mic_check(void *state, const uint8_t *msg, size_t len, const uint8_t *mic, size_t mic_len)
{
    krb_state *k = state;
    OM_uint32 minor;
    gss_buffer_desc mb = {len, (void *)msg}, tb = {mic_len, (void *)mic};
    return GSS_ERROR(gss_verify_mic(&minor, k->ctx, &mb, &tb, NULL)) ? -1 : 0;
}

static bool krb_wants_mic(void *state)
{
    (void)state;
    return false;
}

static bool krb_is_anonymous(void *state)
{
    (void)state;
    return false;
}

static void krb_free(void *state)
{
    krb_state *k = state;
    if (!k)
        return;
    OM_uint32 minor;
    if (k->ctx != GSS_C_NO_CONTEXT)
        gss_delete_sec_context(&minor, &k->ctx, GSS_C_NO_BUFFER);
    if (k->cred != GSS_C_NO_CREDENTIAL)
        gss_release_cred(&minor, &k->cred);
    if (k->target != GSS_C_NO_NAME)
        gss_release_name(&minor, &k->target);
    free(k);
}

const smb_mech_ops smb_mech_krb5 = {
    .name = "Kerberos",
    .oid = krb5_oid_der,
    .oid_len = sizeof krb5_oid_der,
    .step = krb_step,
    .session_key = krb_session_key,
    .mic_make = krb_mic_make,
    .mic_check = krb_mic_check,
    .wants_mic = krb_wants_mic,
    .is_anonymous = krb_is_anonymous,
    .free = krb_free,
};

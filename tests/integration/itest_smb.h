/*
 * Library-side helpers for the integration tests: a connected tree on a
 * fixture instance, and unique working directories inside its share.
 */
#ifndef SMBCOPY_ITEST_SMB_H
#define SMBCOPY_ITEST_SMB_H

#include "itest.h"

#include <smbcopy/smb.h>

/** A connection, session and tree on one fixture instance. */
typedef struct it_client {
    smb_conn *conn;
    smb_session *sess;
    smb_tree *tree;
    const char *instance; /* fixture instance name ("main", "3_1_1", ...) */
} it_client;

/** Connect to instance with the fixture's user; fail the test on any error. */
static inline void it_connect_opts(it_client *c, const char *instance, const smb_conn_opts *opts)
{
    const itest_env *env = itest_require_env();
    int port = itest_port(env, instance);
    if (port < 0)
        fail_msg("fixture has no instance '%s'", instance);
    smb_error err = {0};
    memset(c, 0, sizeof *c);
    c->instance = instance;
    c->conn = smb_conn_connect(env->host, (uint16_t)port, opts, &err);
    if (!c->conn)
        fail_msg("connect to %s:%d: %s", env->host, port, err.message);
    smb_creds cr = {.username = env->user, .password = env->password, .domain = env->domain};
    c->sess = smb_session_setup(c->conn, &cr, &err);
    if (!c->sess)
        fail_msg("session setup on %s: %s", instance, err.message);
    c->tree = smb_tree_connect(c->sess, env->share, &err);
    if (!c->tree)
        fail_msg("tree connect on %s: %s", instance, err.message);
}

static inline void it_connect(it_client *c, const char *instance) { it_connect_opts(c, instance, NULL); }

/** Close everything (closing the connection closes the session and tree). */
static inline void it_close(it_client *c)
{
    smb_conn_close(c->conn);
    memset(c, 0, sizeof *c);
}

/** Absolute on-disk path of rel in the instance's data share. */
static inline const char *it_disk_path(const char *instance, const char *rel, char *buf, size_t len)
{
    const itest_env *env = itest_require_env();
    if (!itest_share_path(env, instance, rel, buf, len))
        fail_msg("no share directory for instance '%s'", instance);
    return buf;
}

/** Create a fresh empty directory rel in the instance's share, on disk. */
static inline void it_fresh_dir(const char *instance, const char *rel)
{
    char path[PATH_MAX], cmd[PATH_MAX + 32];
    it_disk_path(instance, rel, path, sizeof path);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0 || mkdir(path, 0755) != 0)
        fail_msg("cannot make fresh directory %s", path);
}

/** Assert an smb call returned 0, printing the error otherwise. */
#define IT_OK(expr, err)                                                                                         \
    do {                                                                                                         \
        int it_rc_ = (expr);                                                                                     \
        if (it_rc_ != 0)                                                                                         \
            fail_msg("%s failed: %d %s", #expr, it_rc_, (err).message);                                          \
    } while (0)

#endif

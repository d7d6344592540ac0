/*
 * Listings without a copy (engine.h: sc_list, sc_list_shares): a
 * directory through the same endpoints a copy reads (DFS links followed
 * as a copy follows them), and a server's shares through srvsvc
 * (shares.h), each with the job options' credentials and connection
 * settings on a pool of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <smbcopy/engine.h>
#include <smbcopy/shares.h>

#include "common/error.h"
#include "engine/endpoints/endpoint.h"
#include "engine/endpoints/ep_smb.h"

typedef struct list_ctx {
    sc_list_cb cb;
    void *arg;
    uint64_t undecodable; /* entries whose name the server sent in a form that does not decode */
} list_ctx;

static void entry_of(const char *name, const ep_stat *st, sc_list_entry *out)
{
    *out = (sc_list_entry){
        .name = name,
        .is_dir = st->type == EP_DIR,
        .is_link = st->type == EP_SYMLINK,
        .dfs_link = st->dfs_link,
        .size = st->type == EP_FILE ? st->size : 0,
        .mtime = st->mtime,
        .attributes = st->attributes,
    };
}

static int list_cb(void *arg, const char *name, const ep_stat *st)
{
    list_ctx *c = arg;
    if (!name || !st) {
        c->undecodable++;
        return 0;
    }
    sc_list_entry e;
    entry_of(name, st, &e);
    return c->cb(c->arg, &e);
}

static ep_smb_pool *pool_of(const sc_job_opts *opts)
{
    ep_smb_pool *p = ep_smb_pool_new(&opts->conn, &opts->creds);
    if (p)
        ep_smb_pool_set_lanes(p, 1);
    return p;
}

int sc_list(const sc_job_opts *opts, const char *location, sc_list_cb cb, void *arg, smb_error *err)
{
    sc_location loc;
    int rc = sc_location_parse(location, &loc, err);
    if (rc != 0)
        return rc;
    ep_smb_pool *pool = loc.is_smb ? pool_of(opts) : NULL;
    ep *e = NULL;
    if (loc.is_smb && !pool)
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    else
        e = loc.is_smb ? ep_smb_open(pool, &loc, NULL, err) : ep_local_open(loc.path, NULL, err);
    if (!e && rc == 0)
        rc = err && err->code ? err->code : SMB_ERR_INTERNAL;
    ep_stat st;
    if (rc == 0)
        rc = e->ops->stat(e, "", &st, err);
    list_ctx c = {.cb = cb, .arg = arg};
    if (rc == 0 && st.type == EP_DIR) {
        rc = e->ops->list(e, "", list_cb, &c, err);
    } else if (rc == 0) { /* a file (or link) named: itself, as ls does */
        const char *name = strrchr(loc.path, '/');
        sc_list_entry one;
        entry_of(name ? name + 1 : loc.path, &st, &one);
        cb(arg, &one);
    }
    if (rc == 0 && c.undecodable)
        rc = smb_err_set(err, SMB_ERR_BAD_NAME, 0, "%llu entr%s with a name that does not decode not listed",
                         (unsigned long long)c.undecodable, c.undecodable == 1 ? "y" : "ies");
    if (e)
        e->ops->free(e);
    ep_smb_pool_free(pool);
    sc_location_free(&loc);
    return rc;
}

int sc_list_shares(const sc_job_opts *opts, const char *server, smb_share_info **shares, size_t *n, smb_error *err)
{
    *shares = NULL;
    *n = 0;
    /* "//host", "smb://user@host:port/": the server's IPC$ share (MS-SMB2 3.2.4.2.4). */
    size_t len = strlen(server);
    while (len && server[len - 1] == '/')
        len--;
    char *with_ipc = malloc(len + 6);
    if (!with_ipc)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    snprintf(with_ipc, len + 6, "%.*s/IPC$", (int)len, server);
    sc_location loc;
    int rc = sc_location_parse(with_ipc, &loc, err);
    free(with_ipc);
    if (rc != 0)
        return rc;
    if (!loc.is_smb || *loc.path) {
        sc_location_free(&loc);
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "'%s' is not a server (//host or smb://host)", server);
    }
    ep_smb_pool *pool = pool_of(opts);
    struct ep_smb_srv *srv = NULL;
    smb_tree *tree = NULL;
    if (!pool)
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    else
        rc = ep_smb_pool_tree(pool, &loc, &srv, &tree, err);
    if (rc == 0)
        rc = smb_list_shares(ep_smb_pool_session(srv), shares, n, err);
    ep_smb_pool_free(pool);
    sc_location_free(&loc);
    return rc;
}

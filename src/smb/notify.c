/*
 * Change notification (include/smbcopy/notify.h): one CHANGE_NOTIFY
 * pending at a time per watch (MS-SMB2 3.2.4.13), cancelled with CANCEL
 * (3.2.4.24), its answer decoded by pdu_notify.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <smbcopy/notify.h>
#include <smbcopy/ntstatus.h>

#include "error.h"
#include "objects.h"

/* What one answer may carry: Windows' own default buffer size; the
 * connection's MaxTransactSize caps it. */
#define NOTIFY_OUTPUT_MAX 65536u

struct smb_notify {
    smb_open *dir;
    uint32_t filter;
    bool watch_tree;
    pthread_mutex_t lock; /* protects req against smb_notify_cancel from another thread */
    smb_req *req;         /* the pending CHANGE_NOTIFY, or NULL */
};

smb_notify *smb_notify_new(smb_open *dir, uint32_t filter, bool watch_tree, smb_error *err)
{
    if (!dir || filter == 0) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "change notify: no directory or an empty filter");
        return NULL;
    }
    SMB_OPEN_CHECK(dir);
    if (!dir->is_dir) {
        smb_err_set(err, SMB_ERR_NOT_DIR, 0, "change notify: the open is not a directory");
        return NULL;
    }
    smb_notify *n = calloc(1, sizeof *n);
    if (!n) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    n->dir = dir;
    n->filter = filter;
    n->watch_tree = watch_tree;
    pthread_mutex_init(&n->lock, NULL);
    return n;
}

/* Send a CHANGE_NOTIFY when none is pending. */
static int arm(smb_notify *n, smb_error *err)
{
    if (n->req)
        return 0;
    smb_conn *c = n->dir->tree->sess->conn;
    uint32_t out_len = c->neg.max_transact < NOTIFY_OUTPUT_MAX ? c->neg.max_transact : NOTIFY_OUTPUT_MAX;
    smb_req *r = smb_tree_req(n->dir->tree, SMB2_CHANGE_NOTIFY);
    if (!r)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    smb2_notify_req_encode(smb_req_body(r), n->dir->fid, n->filter, n->watch_tree, out_len);
    r->expect_len = out_len;
    r->wait_forever = true;
    int rc = smb_req_send(r, err);
    if (rc != 0) {
        smb_req_free(r);
        return rc;
    }
    pthread_mutex_lock(&n->lock);
    n->req = r;
    pthread_mutex_unlock(&n->lock);
    return 0;
}

/* The answer of the finished request r into out. */
static int take_answer(smb_req *r, smb_notify_events *out, smb_error *err)
{
    if (r->status == SMB_STATUS_CANCELLED)
        return smb_err_set(err, SMB_ERR_CANCELLED, r->status, "change notify cancelled");
    if (r->status == SMB_STATUS_NOTIFY_ENUM_DIR) {
        out->overflowed = true; /* more changed than one answer holds (3.3.5.19) */
        return 0;
    }
    if (r->status != SMB_STATUS_SUCCESS)
        return smb_req_status_error(r, "change notify", err);
    smb_rd rd = smb_req_rsp_body(r);
    smb2_blob buf;
    if (smb2_notify_rsp_decode(&rd, &buf) != 0)
        return smb_err_set(err, SMB_ERR_PROTOCOL, 0, "malformed CHANGE_NOTIFY response");
    if (buf.len == 0) {
        out->overflowed = true; /* success with nothing: the changes did not fit */
        return 0;
    }
    int rc = smb2_notify_list_decode(buf.data, buf.len, &out->events, &out->count);
    if (rc == SMB_ERR_NO_MEMORY)
        return smb_err_set(err, rc, 0, "out of memory");
    if (rc != 0)
        return smb_err_set(err, rc, 0, "malformed change list in a CHANGE_NOTIFY response");
    return 0;
}

int smb_notify_wait(smb_notify *n, int timeout_ms, smb_notify_events *out, smb_error *err)
{
    if (!n || !out)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "change notify: no watch or no output");
    memset(out, 0, sizeof *out);
    int rc = arm(n, err);
    if (rc != 0)
        return rc;
    rc = smb_req_wait_for(n->req, timeout_ms, err);
    if (rc == SMB_ERR_TIMEOUT)
        return rc; /* still pending: the next wait goes on */
    pthread_mutex_lock(&n->lock);
    smb_req *r = n->req;
    n->req = NULL;
    pthread_mutex_unlock(&n->lock);
    if (rc == 0)
        rc = take_answer(r, out, err);
    smb_req_free(r);
    return rc;
}

int smb_notify_cancel(smb_notify *n, smb_error *err)
{
    if (!n)
        return 0;
    pthread_mutex_lock(&n->lock);
    int rc = n->req ? smb_req_cancel(n->req, err) : 0;
    pthread_mutex_unlock(&n->lock);
    return rc;
}

void smb_notify_free(smb_notify *n)
{
    if (!n)
        return;
    if (n->req) {
        smb_conn *c = n->dir->tree->sess->conn;
        pthread_mutex_lock(&c->lock);
        bool alive = !c->dead;
        pthread_mutex_unlock(&c->lock);
        /* The server answers a cancelled request at once; a dead
         * connection has failed it already. */
        if (alive)
            (void)smb_req_cancel(n->req, NULL);
        (void)smb_req_wait(n->req, NULL);
        smb_req_free(n->req);
    }
    pthread_mutex_destroy(&n->lock);
    free(n);
}

void smb_notify_events_free(smb_notify_events *ev)
{
    if (!ev)
        return;
    smb2_notify_list_free(ev->events, ev->count);
    memset(ev, 0, sizeof *ev);
}

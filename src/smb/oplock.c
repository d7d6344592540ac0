/*
 * Oplock and lease breaks (MS-SMB2 2.2.23, 3.2.5.19): the server's
 * notification (MessageId all ones, no request of ours) is queued by the
 * receiver and handled on a thread of the connection's own, which calls the
 * caller's handler when one is set and acknowledges the break (2.2.24).
 * Never on the receiver: an acknowledgement is a request whose answer the
 * receiver must be free to read.
 */
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "objects.h"
#include "pdu.h"

/* StructureSize of the two notifications (MS-SMB2 2.2.23.1, 2.2.23.2) and of the acknowledgements (2.2.24.1, 2.2.24.2). */
#define OPLOCK_BREAK_SIZE 24
#define LEASE_BREAK_SIZE 44
#define LEASE_ACK_SIZE 36
#define LEASE_BREAK_ACK_REQUIRED 0x01u

struct smb_break_item {
    struct smb_break_item *next;
    bool lease;
    uint8_t new_oplock;
    smb2_fileid fid;
    uint8_t lease_key[16];
    uint32_t current, next_state;
    bool ack_required;
};

/* Decode a notification body; false for one that is neither (it is dropped). */
static bool decode(const uint8_t *msg, size_t len, struct smb_break_item *it)
{
    smb_rd r;
    smb_rd_init(&r, msg, len);
    smb_rd_seek(&r, SMB2_HDR_LEN);
    uint16_t size = smb_rd_u16(&r);
    if (size == OPLOCK_BREAK_SIZE) {
        it->new_oplock = smb_rd_u8(&r);
        smb_rd_skip(&r, 1 + 4); /* Reserved, Reserved2 */
        it->fid.persistent = smb_rd_u64(&r);
        it->fid.volatile_ = smb_rd_u64(&r);
    } else if (size == LEASE_BREAK_SIZE) {
        it->lease = true;
        smb_rd_skip(&r, 2); /* NewEpoch */
        it->ack_required = (smb_rd_u32(&r) & LEASE_BREAK_ACK_REQUIRED) != 0;
        smb_rd_bytes(&r, it->lease_key, sizeof it->lease_key);
        it->current = smb_rd_u32(&r);
        it->next_state = smb_rd_u32(&r);
    } else {
        return false;
    }
    return smb_rd_ok(&r);
}

void smb_conn_set_break_handler(smb_conn *c, smb_break_fn fn, void *arg)
{
    pthread_mutex_lock(&c->break_lock);
    c->break_fn = fn;
    c->break_arg = arg;
    pthread_mutex_unlock(&c->break_lock);
}

/*
 * The open of c with fid and its tree (tree_life held for reading): the
 * first tree of c's sessions when the break is a lease's (any tree carries
 * a lease acknowledgement). NULL when there is none.
 */
static smb_tree *find(smb_conn *c, const struct smb_break_item *it, smb_open **op)
{
    *op = NULL;
    smb_tree *found = NULL;
    pthread_mutex_lock(&c->lock);
    for (smb_session *s = c->sessions; s && !found; s = s->next) {
        pthread_mutex_lock(&s->lock);
        for (smb_tree *t = s->trees; t && !found; t = t->next) {
            if (it->lease) {
                found = t;
                break;
            }
            pthread_mutex_lock(&t->lock);
            for (smb_open *o = t->opens; o; o = o->next) {
                if (o->fid.persistent == it->fid.persistent && o->fid.volatile_ == it->fid.volatile_) {
                    *op = o;
                    found = t;
                    break;
                }
            }
            pthread_mutex_unlock(&t->lock);
        }
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

/* Send the acknowledgement of it on t and wait for its answer (tree_life held for reading). */
static void acknowledge(smb_tree *t, smb_open *op, const struct smb_break_item *it)
{
    smb_req *r = smb_tree_req(t, SMB2_OPLOCK_BREAK);
    if (!r)
        return;
    smb_wr *w = smb_req_body(r);
    if (it->lease) {
        smb_wr_u16(w, LEASE_ACK_SIZE);
        smb_wr_u16(w, 0); /* Reserved */
        smb_wr_u32(w, 0); /* Flags */
        smb_wr_bytes(w, it->lease_key, sizeof it->lease_key);
        smb_wr_u32(w, it->next_state); /* LeaseState: what the server lets us keep */
        smb_wr_u64(w, 0);              /* LeaseDuration */
    } else {
        smb_wr_u16(w, OPLOCK_BREAK_SIZE);
        smb_wr_u8(w, it->new_oplock); /* OplockLevel: down to what the server asked */
        smb_wr_u8(w, 0);
        smb_wr_u32(w, 0);
        smb_wr_u64(w, it->fid.persistent);
        smb_wr_u64(w, it->fid.volatile_);
    }
    smb_error err = {0};
    /* A server that closed the open meanwhile refuses the acknowledgement: nothing is left to do either way. */
    int rc = smb_req_run(r, it->lease ? "acknowledge lease break" : "acknowledge oplock break", &err);
    smb_req_free(r);
    /*
     * The level lowered only on an open still on its tree, under the tree's
     * lock: the caller may have closed (freed) op while the answer came.
     */
    if (rc == 0 && op && !it->lease) {
        pthread_mutex_lock(&t->lock);
        for (smb_open *o = t->opens; o; o = o->next)
            if (o == op && o->fid.persistent == it->fid.persistent && o->fid.volatile_ == it->fid.volatile_)
                __atomic_store_n(&o->oplock_level, it->new_oplock, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&t->lock);
    }
}

static void handle(smb_conn *c, const struct smb_break_item *it)
{
    pthread_mutex_lock(&c->break_lock);
    smb_break_fn fn = c->break_fn;
    void *arg = c->break_arg;
    pthread_mutex_unlock(&c->break_lock);
    if (it->lease && !it->ack_required && !fn)
        return;
    if (fn) {
        smb_break_info b = {.lease = it->lease,
                            .new_oplock = it->new_oplock,
                            .current_lease_state = it->current,
                            .new_lease_state = it->next_state,
                            .ack_required = it->ack_required};
        memcpy(b.lease_key, it->lease_key, sizeof b.lease_key);
        pthread_rwlock_rdlock(&c->tree_life);
        smb_open *op = NULL;
        find(c, it, &op);
        pthread_rwlock_unlock(&c->tree_life);
        b.op = op;
        /* Called without the lock: the handler may close the open. */
        if (!fn(&b, arg) || (it->lease && !it->ack_required))
            return;
    }
    pthread_rwlock_rdlock(&c->tree_life);
    smb_open *op = NULL;
    smb_tree *t = find(c, it, &op);
    /* An oplock whose open is gone was given back by its close. */
    if (t && (it->lease || op))
        acknowledge(t, op, it);
    pthread_rwlock_unlock(&c->tree_life);
}

static void *break_main(void *arg)
{
    smb_conn *c = arg;
    pthread_mutex_lock(&c->break_lock);
    for (;;) {
        while (!c->break_head && !c->break_stop)
            pthread_cond_wait(&c->break_cond, &c->break_lock);
        if (c->break_stop)
            break;
        struct smb_break_item *it = c->break_head;
        c->break_head = it->next;
        if (!c->break_head)
            c->break_tail = NULL;
        pthread_mutex_unlock(&c->break_lock);
        handle(c, it);
        free(it);
        pthread_mutex_lock(&c->break_lock);
    }
    pthread_mutex_unlock(&c->break_lock);
    return NULL;
}

void smb_oplock_break_received(smb_conn *c, const uint8_t *msg, size_t len)
{
    struct smb_break_item *it = calloc(1, sizeof *it);
    if (!it)
        return;
    if (!decode(msg, len, it)) {
        free(it);
        return;
    }
    pthread_mutex_lock(&c->break_lock);
    if (!c->break_stop && !c->break_started)
        c->break_started = pthread_create(&c->break_thread, NULL, break_main, c) == 0;
    if (c->break_stop || !c->break_started) {
        pthread_mutex_unlock(&c->break_lock);
        free(it);
        return;
    }
    if (c->break_tail)
        c->break_tail->next = it;
    else
        c->break_head = it;
    c->break_tail = it;
    pthread_cond_signal(&c->break_cond);
    pthread_mutex_unlock(&c->break_lock);
}

void smb_oplock_stop(smb_conn *c)
{
    pthread_mutex_lock(&c->break_lock);
    c->break_stop = true;
    bool started = c->break_started;
    pthread_cond_broadcast(&c->break_cond);
    pthread_mutex_unlock(&c->break_lock);
    if (started)
        pthread_join(c->break_thread, NULL);
    pthread_mutex_lock(&c->break_lock);
    c->break_started = false;
    while (c->break_head) {
        struct smb_break_item *it = c->break_head;
        c->break_head = it->next;
        free(it);
    }
    c->break_tail = NULL;
    pthread_mutex_unlock(&c->break_lock);
}

/*
 * Adding channels to a pooled session (multichannel, MS-SMB2 3.2.4.2.3):
 * the server's interfaces (FSCTL_QUERY_NETWORK_INTERFACE_INFO) are ranked,
 * and each further channel goes to the address with the lowest load for
 * its worth: an RSS-capable interface takes several connections well (its
 * worth is 4), any other one (worth 1) is loaded only after the others;
 * between equals an RSS-capable one, then the faster link. The connection the session came on
 * counts against the address it names.
 */
#include "engine/endpoints/ep_smb_channels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RSS_WORTH 4u

/* The rank of interface i for one more channel: lower is better (load / worth, then speed). */
static int better(const smb_iface *a, unsigned load_a, const smb_iface *b, unsigned load_b)
{
    unsigned wa = a->rss ? RSS_WORTH : 1, wb = b->rss ? RSS_WORTH : 1;
    /* load_a / wa < load_b / wb, without division */
    unsigned long long la = (unsigned long long)load_a * wb, lb = (unsigned long long)load_b * wa;
    if (la != lb)
        return la < lb;
    if (a->rss != b->rss)
        return a->rss;
    return a->link_speed > b->link_speed;
}

size_t ep_smb_plan_channels(const smb_iface *ifs, size_t n, const char *primary, unsigned want, size_t *plan)
{
    if (!n || want <= 1)
        return 0;
    unsigned *load = calloc(n, sizeof *load);
    if (!load)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (primary && strcmp(ifs[i].addr, primary) == 0)
            load[i] = 1;
    size_t planned = 0;
    for (unsigned c = 1; c < want; c++) {
        size_t best = 0;
        for (size_t i = 1; i < n; i++)
            if (better(&ifs[i], load[i], &ifs[best], load[best]))
                best = i;
        load[best]++;
        plan[planned++] = best;
    }
    free(load);
    return planned;
}

unsigned ep_smb_add_channels(smb_session *sess, smb_tree *tree, const char *host, uint16_t port, unsigned want,
                             const smb_creds *cr, char *note, size_t notelen)
{
    if (note && notelen)
        note[0] = '\0';
    smb_error err = {0};
    smb_iface *ifs = NULL;
    size_t n = 0;
    if (smb_query_interfaces(tree, &ifs, &n, &err) != 0 || n == 0) {
        if (note)
            snprintf(note, notelen, "one channel: the server lists no network interfaces (%s)",
                     n == 0 && !err.code ? "empty list" : err.message);
        free(ifs);
        return 0;
    }
    size_t *plan = calloc(want, sizeof *plan);
    size_t planned = plan ? ep_smb_plan_channels(ifs, n, host, want, plan) : 0;
    unsigned added = 0;
    for (size_t p = 0; p < planned; p++) {
        const char *addr = ifs[plan[p]].addr;
        smb_conn_opts o;
        smb_session_channel_opts(sess, &o);
        smb_error e = {0};
        smb_conn *c = smb_conn_connect(addr, port, &o, &e);
        int rc = c ? smb_session_bind(sess, c, cr, &e) : e.code;
        if (rc != 0) {
            if (c)
                smb_conn_close(c);
            if (note)
                snprintf(note, notelen, "%u channel%s: binding a channel on %s failed: %s", added + 1,
                         added ? "s" : "", addr, e.message);
            break; /* the server refuses, or the path is down: go on with what there is */
        }
        added++;
    }
    if (note && !note[0])
        snprintf(note, notelen, "%u channels", added + 1);
    free(plan);
    free(ifs);
    return added;
}

/*
 * Jobs: options, opening the endpoints of every source and the destination,
 * applying the directory rule, running the pool, the summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "engine/archive/archive_job.h"
#include "engine/endpoints/ep_archive.h"
#include "engine/names/casefold.h"
#include "engine/endpoints/identity.h"
#include "engine/file_meta.h"
#include "engine/job_internal.h"
#include "engine/retry_budget.h"
#include "engine/names/temp_names.h"
#include "engine/time_probe.h"

void sc_job_opts_init(sc_job_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threads = 8;
    o->connections = SC_DEFAULT_CONNECTIONS;
    o->retries = 3;
    o->retry_for_s = SC_DEFAULT_RETRY_FOR_S;
    o->compress_level = -1;
    o->shard = SC_SHARD_NONE;
    smb_conn_opts_init(&o->conn);
}

static char **dup_strings(const char *const *v, size_t n)
{
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        if (!(out[i] = strdup(v[i]))) {
            for (size_t j = 0; j < i; j++)
                free(out[j]);
            free(out);
            return NULL;
        }
    return out;
}

static void free_strings(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

/* The filter rules: opts->filters as given, else the excludes then the includes. */
static filter_set *new_filter(const sc_job_opts *opts, smb_error *err)
{
    if (opts->nfilters)
        return filter_new(opts->filters, opts->nfilters, err);
    size_t n = opts->nexcludes + opts->nincludes;
    char **rules = calloc(n + 1, sizeof *rules);
    bool ok = rules != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        bool inc = i >= opts->nexcludes;
        ok = asprintf(&rules[i], "%c %s", inc ? '+' : '-',
                      inc ? opts->includes[i - opts->nexcludes] : opts->excludes[i]) >= 0;
        if (!ok)
            rules[i] = NULL;
    }
    filter_set *f = ok ? filter_new((const char *const *)rules, n, err) : NULL;
    if (!ok)
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    free_strings(rules);
    return f;
}

/*
 * The job's tag in temporary names: from its identity when it has one (a
 * rerun of the job finds its own staging directories), else from its
 * locations; never 0 (the tag of "no job").
 */
static uint32_t job_tag(const sc_job *job)
{
    static const uint8_t none[16];
    uint64_t h = name_hash("");
    if (memcmp(job->opts.job_id, none, sizeof none) != 0) {
        h = bytes_hash(h, job->opts.job_id, sizeof job->opts.job_id);
    } else {
        for (size_t i = 0; i < job->opts.nsources; i++)
            h = bytes_hash(h, job->sources[i], strlen(job->sources[i]) + 1);
        h = bytes_hash(h, job->dest, strlen(job->dest) + 1);
    }
    uint32_t tag = (uint32_t)(h ^ h >> 32);
    return tag ? tag : 1;
}

sc_job *sc_job_new(const sc_job_opts *opts, smb_error *err)
{
    if (!opts || !opts->dest || !opts->nsources) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "a job needs at least one source and a destination");
        return NULL;
    }
    if (opts->links > SC_LINKS_FOLLOW || (opts->links != SC_LINKS_SKIP && (opts->archive || opts->extract))) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "%s", opts->links > SC_LINKS_FOLLOW ? "unknown symbolic link mode"
                                                      : "archives take symbolic links only as the default does (skip)");
        return NULL;
    }
    if (opts->plan && (opts->archive || opts->extract)) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "archives are not split into shards");
        return NULL;
    }
    if (opts->plan && opts->shard != SC_SHARD_FINISH &&
        (opts->shard < 0 || (unsigned)opts->shard >= sc_plan_shards(opts->plan))) {
        smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "shard %d is not one of the plan's %u shards (0-%u)", opts->shard,
                    sc_plan_shards(opts->plan), sc_plan_shards(opts->plan) - 1);
        return NULL;
    }
    sc_job *job = calloc(1, sizeof *job);
    if (!job) {
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    job->opts = *opts;
    if (!job->opts.threads)
        job->opts.threads = 8;
    if (job->opts.threads > 256)
        job->opts.threads = 256;
    job->sources = dup_strings(opts->sources, opts->nsources);
    job->excludes = dup_strings(opts->excludes, opts->nexcludes);
    job->includes = dup_strings(opts->includes, opts->nincludes);
    job->dest = strdup(opts->dest);
    job->pairs = calloc(opts->nsources, sizeof *job->pairs);
    pthread_mutex_init(&job->lock, NULL);
    pthread_mutex_init(&job->ev_lock, NULL);
    pthread_cond_init(&job->cond, NULL);
    bufpool_init(&job->bufs, job_buffer_size(job), job_buffers_kept(job));
    atomic_init(&job->cancel, false);
    atomic_init(&job->fatal, 0);
    if (!job->sources || !job->excludes || !job->includes || !job->dest || !job->pairs) {
        sc_job_free(job);
        smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        return NULL;
    }
    if (!(job->filter = new_filter(opts, err))) {
        sc_job_free(job);
        return NULL;
    }
    job->tag = job_tag(job);
    atomic_init(&job->temp_form, opts->temp_names == SC_TEMP_PLAIN     ? TEMP_PLAIN
                                 : opts->temp_names == SC_TEMP_INPLACE ? TEMP_INPLACE
                                                                       : TEMP_DOT);
    if (opts->max_dir_entries) /* the same ceiling on SMB listings, where the library enforces it */
        job->opts.conn.max_dir_entries = opts->max_dir_entries;
    return job;
}

void sc_job_cancel(sc_job *job)
{
    if (job)
        atomic_store(&job->cancel, true);
}

/*
 * Open an endpoint for loc, rooted at root_path (NULL = the location's
 * path). follow (local only, may be NULL): the entry under it that the
 * user named, whose symbolic link is followed as cp and rsync do.
 */
static ep *open_ep_following(sc_job *job, const sc_location *loc, const char *root_path, const char *follow,
                             smb_error *err)
{
    if (!loc->is_smb)
        return ep_local_open_following(root_path ? root_path : loc->path, follow, &job->counters, err);
    sc_location l = *loc;
    if (root_path)
        l.path = (char *)root_path;
    return ep_smb_open(job->pool, &l, &job->counters, err);
}

static ep *open_ep(sc_job *job, const sc_location *loc, const char *root_path, smb_error *err)
{
    return open_ep_following(job, loc, root_path, NULL, err);
}

static void release_root(sc_job *job, dir_node *root) { job_dir_release(job, root); }

/* Queue the root of the merged walk: the directory sources srcs[0..n) and the job's root files go into the destination. */
static int queue_root(sc_job *job, job_pair *const *srcs, size_t n, const ep_stat *src_st, bool fresh, smb_error *err)
{
    if (!job->opts.plan || job->opts.shard == 0) /* the shards' totals add up to the tree's */
        job_count(job, &job->sum.dirs_total, 1);
    dir_node *root = job_dir_node_new(NULL, srcs, n, "", n ? src_st : NULL);
    if (root)
        root->fresh = fresh && !job->opts.dry_run; /* just made: nothing to list */
    task *t = calloc(1, sizeof *t);
    if (!root || !t || !(t->rel = strdup(""))) {
        free(t);
        if (root)
            release_root(job, root);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    if (!n) /* only named files: the destination's own endpoint */
        root->pair = job->root_files[0].pair;
    t->kind = TASK_DIR;
    t->pair = root->pair;
    t->dir = root;
    if (src_st)
        t->st = *src_st;
    job_push(job, t, false);
    return 0;
}

/* Queue a single source file copied to a name of its own (dst_rel inside pair->dst). */
static int plan_file_source(sc_job *job, job_pair *pair, const char *src_rel, const char *dst_rel,
                            const ep_stat *src_st, smb_error *err)
{
    dir_node *root = job_dir_node_new(NULL, &pair, 1, "", NULL);
    task *t = calloc(1, sizeof *t);
    if (!root || !t || !(t->rel = strdup(src_rel)) || !(t->dst_rel = strdup(dst_rel))) {
        if (t)
            task_free(t);
        if (root)
            release_root(job, root);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    ep_stat dst_st;
    smb_error e2 = {0};
    int rc = pair->dst->ops->stat(pair->dst, dst_rel, &dst_st, &e2);
    if (rc == 0 && dst_st.type == EP_DIR) {
        task_free(t);
        release_root(job, root);
        return smb_err_set(err, SMB_ERR_IS_DIR, 0, "destination %s/%s is a directory", pair->dst->display, dst_rel);
    }
    t->kind = TASK_FILE;
    t->pair = pair;
    t->dir = root;
    atomic_fetch_add(&root->pending, 1);
    t->st = *src_st;
    t->dst_exists = rc == 0;
    t->dst_st = dst_st;
    job_count(job, &job->sum.files_total, 1);
    job_count(job, &job->sum.bytes_total, src_st->size);
    job_push(job, t, false);
    release_root(job, root);
    return 0;
}

static void set_pair_caps(const sc_job *job, job_pair *p)
{
    p->server_copy = !p->server_copy_refused && p->src->ops == p->dst->ops && p->src->ops->server_copy && p->src->ops->same_server &&
                     p->src->ops->same_server(p->src, p->dst);
    /* Before any file is opened: opens ask for the access the descriptor parts need. */
    uint32_t parts = file_meta_sd_parts(job, p);
    p->src->sd_parts |= parts;
    p->dst->sd_parts |= parts;
    p->src->follow_links = job->opts.links == SC_LINKS_FOLLOW; /* before the first listing */
}

/*
 * Create directory path of loc and every missing parent (robocopy and
 * mkdir -p do): each component in turn from an endpoint at the share's
 * root (SMB) or at "/" or "." (local).
 */
static int make_dirs(sc_job *job, const sc_location *loc, const char *path, smb_error *err)
{
    bool abs = !loc->is_smb && path[0] == '/';
    ep *top = open_ep(job, loc, loc->is_smb ? "" : abs ? "/" : ".", err);
    if (!top)
        return err->code ? err->code : SMB_ERR_NO_MEMORY;
    char *p = strdup(path + (abs ? 1 : 0));
    int rc = p ? 0 : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    for (char *c = p; rc == 0 && c && *c;) {
        char *slash = strchr(c, '/');
        if (slash)
            *slash = '\0';
        smb_error e2 = {0};
        if (p[0] && top->ops->mkdir(top, p, &e2) != 0 && e2.code != SMB_ERR_EXISTS)
            rc = smb_err_set(err, e2.code, e2.ntstatus, "cannot create %s: %s", p, e2.message);
        if (!slash)
            break;
        *slash = '/';
        c = slash + 1;
    }
    free(p);
    top->ops->free(top);
    return rc;
}

/* Create the destination directory (with its parents) unless it exists; a dry run only says so. */
static int make_dest(sc_job *job, const sc_location *dloc, ep *dst, smb_error *err)
{
    if (job->opts.dry_run) {
        job_event(job, SC_EV_DRY_RUN, ".", 0, true, "mkdir");
        job_count(job, &job->sum.dirs_created, 1);
        return 0;
    }
    smb_error e2 = {0};
    int rc = dst->ops->mkdir(dst, "", &e2);
    if (rc != 0 && e2.code == SMB_ERR_NOT_FOUND) { /* a parent is missing */
        smb_error e3 = {0};
        if (make_dirs(job, dloc, dloc->path, &e3) == 0)
            rc = dst->ops->mkdir(dst, "", &e2);
        else
            e2 = e3;
    }
    if (rc != 0 && e2.code != SMB_ERR_EXISTS)
        return smb_err_set(err, e2.code, e2.ntstatus, "cannot create the destination %s: %s", dst->display, e2.message);
    job_count(job, &job->sum.dirs_created, 1);
    return 0;
}

/* Whether the destination folds case (asked once, at its root; see casefold.h). */
static void probe_dest_case(sc_job *job, ep *dst, bool exists)
{
    smb_error e2 = {0};
    bool fold = strcmp(dst->ops->kind, "smb") == 0;
    if (exists || !job->opts.dry_run)
        if (case_probe(dst, "", !job->opts.dry_run, &fold, &e2) != 0)
            fold = true; /* cannot tell: folding only adds collisions, never loses a file */
    job->dst_folds_case = fold;
}

/*
 * How precisely the destination keeps modification times (time_probe.h),
 * asked once with an empty file of the job's own at its root; said with -v
 * when it is not exact. Never in a dry run (nothing is written).
 */
static void probe_dest_times(sc_job *job, ep *dst)
{
    if (job->opts.dry_run)
        return;
    char *tmp = temp_name_beside_in("", job->tag);
    time_precision p = {0};
    if (tmp && time_probe(dst, tmp, &p)) {
        job->mtime_window = p.window;
        job->mtime_via_change_time = p.via_change_time;
        dst->mtime_via_change_time = p.via_change_time;
        if (p.window || p.via_change_time) {
            char msg[300];
            snprintf(msg, sizeof msg, "the destination keeps modification times %s%s%s",
                     p.window ? "only to about 2 s: times are compared within 2 s" : "",
                     p.window && p.via_change_time ? ", and " : "",
                     p.via_change_time ? "from ChangeTime: it is set too" : "");
            job_event(job, SC_EV_RETRY, ".", 0, true, msg);
        }
    }
    free(tmp);
}

/* A destination endpoint: opened like any, and told what the time probe found. */
static ep *open_dst_ep(sc_job *job, const sc_location *loc, const char *root_path, smb_error *err)
{
    ep *e = open_ep(job, loc, root_path, err);
    if (e)
        e->mtime_via_change_time = job->mtime_via_change_time;
    return e;
}

/* Split p at its last '/' into a parent ("" or "." for none) and a leaf. */
static void split_path(const char *p, bool local, char **parent, const char **leaf)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    const char *end = p + n;
    const char *slash = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '/')
            slash = q;
    if (!slash) {
        *parent = strdup(local ? "." : "");
        *leaf = p;
    } else {
        *parent = strndup(p, slash == p ? 1 : (size_t)(slash - p));
        *leaf = slash + 1;
    }
}

/* One source opened: what it is. */
typedef struct opened_src {
    ep *src;
    ep_stat st;
    bool found;
} opened_src;

/* Open source i and stat it; a missing source is a failure of the job's report, not of the job. */
static int open_source(sc_job *job, const sc_location *sloc, opened_src *o, smb_error *err)
{
    memset(o, 0, sizeof *o);
    o->src = open_ep(job, sloc, NULL, err);
    if (!o->src)
        return err->code ? err->code : SMB_ERR_NO_MEMORY;
    int rc = o->src->ops->stat(o->src, "", &o->st, err);
    if (rc == SMB_ERR_NOT_FOUND) {
        char shown[256];
        job_fail(job, sc_location_display(sloc, shown, sizeof shown), false, "source not found");
        memset(err, 0, sizeof *err);
        rc = 0;
    } else if (rc == 0 && o->st.type != EP_FILE && o->st.type != EP_DIR) {
        rc = smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "source %s is neither a file nor a directory", o->src->display);
    }
    o->found = rc == 0 && (o->st.type == EP_FILE || o->st.type == EP_DIR);
    if (!o->found) {
        o->src->ops->free(o->src);
        o->src = NULL;
    }
    return rc;
}

/* A source file into the destination directory: its endpoint at the file's parent, a root file of its name. */
static int add_root_file(sc_job *job, size_t i, const sc_location *sloc, const sc_location *dloc, const ep_stat *st,
                         smb_error *err)
{
    char *sparent = NULL;
    const char *sleaf;
    split_path(sloc->path, !sloc->is_smb, &sparent, &sleaf);
    job_pair *pair = &job->pairs[i];
    pair->src = sparent ? open_ep_following(job, sloc, sparent, sleaf, err) : NULL;
    free(sparent);
    if (pair->src && !(pair->dst = open_dst_ep(job, dloc, NULL, err))) {
        pair->src->ops->free(pair->src);
        pair->src = NULL;
    }
    if (!pair->src)
        return err->code ? err->code : SMB_ERR_NO_MEMORY;
    set_pair_caps(job, pair);
    if (filter_excluded(job->filter, sleaf, false)) {
        job_event(job, SC_EV_ENTRY_IGNORED, sleaf, 0, false, "excluded by a filter");
        return 0;
    }
    root_file *grown = realloc(job->root_files, (job->nroot_files + 1) * sizeof *grown);
    if (!grown)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    job->root_files = grown;
    root_file *f = &job->root_files[job->nroot_files];
    if (!(f->name = strdup(sleaf)))
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    f->pair = pair;
    f->st = *st;
    job->nroot_files++;
    return 0;
}

/* A single source file copied to the destination's own name: both ends rooted at their parents. */
static int plan_renamed_file(sc_job *job, const sc_location *sloc, const sc_location *dloc, const ep_stat *st,
                             smb_error *err)
{
    char *sparent = NULL, *dparent = NULL;
    const char *sleaf, *dleaf;
    split_path(sloc->path, !sloc->is_smb, &sparent, &sleaf);
    split_path(dloc->path, !dloc->is_smb, &dparent, &dleaf);
    job_pair *pair = &job->pairs[0];
    int rc = 0;
    if (filter_excluded(job->filter, sleaf, false)) {
        job_event(job, SC_EV_ENTRY_IGNORED, sleaf, 0, false, "excluded by a filter");
        goto out;
    }
    if (!sparent || !dparent) {
        rc = smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
        goto out;
    }
    pair->src = open_ep_following(job, sloc, sparent, sleaf, err);
    pair->dst = pair->src ? open_dst_ep(job, dloc, dparent, err) : NULL;
    if (!pair->dst) {
        rc = err->code ? err->code : SMB_ERR_NO_MEMORY;
        goto out;
    }
    set_pair_caps(job, pair);
    ep_stat pst;
    smb_error e2 = {0};
    if (pair->dst->ops->stat(pair->dst, "", &pst, &e2) != 0 && !job->opts.dry_run &&
        (rc = make_dirs(job, dloc, dparent, err)) != 0)
        goto out;
    probe_dest_times(job, pair->dst);
    rc = plan_file_source(job, pair, sleaf, dleaf, st, err);
out:
    free(sparent);
    free(dparent);
    return rc;
}

/*
 * Set up every source: directory sources merge into the destination
 * directory, files named on the command line join it; a single file may
 * instead go to a name of its own.
 */
static int plan_sources(sc_job *job, const sc_location *slocs, const sc_location *dloc, smb_error *err)
{
    size_t n = job->opts.nsources;
    opened_src *os = calloc(n, sizeof *os);
    job_pair **dirs = calloc(n, sizeof(job_pair *));
    ep *dst = NULL;
    int rc = os && dirs ? 0 : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    size_t ndirs = 0, nfound = 0, first_dir = n;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = open_source(job, &slocs[i], &os[i], err);
        nfound += os[i].found;
        if (rc == 0 && os[i].found && os[i].st.type == EP_DIR && first_dir == n)
            first_dir = i;
    }
    if (rc == 0 && nfound)
        dst = open_ep(job, dloc, NULL, err);
    if (rc == 0 && nfound && !dst)
        rc = err->code ? err->code : SMB_ERR_NO_MEMORY;
    ep_stat dst_st;
    smb_error e2 = {0};
    bool dst_exists = dst && dst->ops->stat(dst, "", &dst_st, &e2) == 0;
    bool into_dir = (dst_exists && dst_st.type == EP_DIR) || dloc->trailing_sep || n > 1 || first_dir < n;
    job->npairs = n;
    if (rc != 0 || !nfound)
        goto out;
    if (!into_dir) { /* one file, to the destination's own name */
        os[0].src->ops->free(os[0].src);
        os[0].src = NULL;
        rc = plan_renamed_file(job, &slocs[0], dloc, &os[0].st, err);
        goto out;
    }
    if (dst_exists && dst_st.type != EP_DIR) {
        rc = smb_err_set(err, SMB_ERR_NOT_DIR, 0, "destination %s is a file; %s", dst->display,
                         first_dir < n ? "the source is a directory" : "several sources go into a directory");
        goto out;
    }
    if (!dst_exists && (rc = make_dest(job, dloc, dst, err)) != 0)
        goto out;
    probe_dest_case(job, dst, dst_exists);
    probe_dest_times(job, dst);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!os[i].found)
            continue;
        if (os[i].st.type == EP_DIR) {
            job->pairs[i].src = os[i].src;
            os[i].src = NULL;
            if (!(job->pairs[i].dst = open_dst_ep(job, dloc, NULL, err))) {
                rc = err->code ? err->code : SMB_ERR_NO_MEMORY;
                break;
            }
            set_pair_caps(job, &job->pairs[i]);
            dirs[ndirs++] = &job->pairs[i];
        } else {
            os[i].src->ops->free(os[i].src);
            os[i].src = NULL;
            rc = add_root_file(job, i, &slocs[i], dloc, &os[i].st, err);
        }
    }
    if (rc == 0 && (ndirs || job->nroot_files))
        rc = queue_root(job, dirs, ndirs, ndirs ? &os[first_dir].st : NULL, !dst_exists, err);
out:
    for (size_t i = 0; os && i < n; i++)
        if (os[i].src)
            os[i].src->ops->free(os[i].src);
    if (dst)
        dst->ops->free(dst);
    free(os);
    free(dirs);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Open the checkpoint journal when the job has one (never for a dry run). */
static int open_checkpoint(sc_job *job, smb_error *err)
{
    if (!job->opts.checkpoint || job->opts.dry_run)
        return 0;
    int rc = checkpoint_open(job->opts.checkpoint, job->opts.job_id, job->opts.no_resume, &job->cp, err);
    if (rc == 0) {
        cp_stats st;
        checkpoint_stats(job->cp, &st);
        job->sum.journal_records = st.records;
        job->sum.journal_cut_bytes = st.cut_bytes;
    }
    return rc;
}

/* Close the journal: removed after a fully successful run, kept (synced) for the next run otherwise. */
static int close_checkpoint(sc_job *job, int rc, smb_error *err)
{
    if (!job->cp)
        return rc;
    bool success = rc == 0 && !job->sum.interrupted && !job->sum.files_failed && !job->sum.nfailures;
    smb_error e2 = {0};
    int crc = checkpoint_close(job->cp, success, &e2);
    job->cp = NULL;
    if (rc == 0 && crc != 0) {
        *err = e2;
        rc = crc;
    }
    return rc;
}

/* Run the pool over what was queued; a setup error drains the queue without copying. */
static int run_queued(sc_job *job, int rc, smb_error *err)
{
    if (rc != 0)
        job_set_fatal(job, err); /* drain what was queued without copying */
    job_run_pool(job);
    if (rc == 0 && atomic_load(&job->fatal)) {
        *err = job->fatal_err;
        rc = atomic_load(&job->fatal);
    }
    return rc;
}

/* The job's SMB session pool: its connections (lanes) and channels per server. */
static ep_smb_pool *new_pool(sc_job *job)
{
    ep_smb_pool *p = ep_smb_pool_new(&job->opts.conn, &job->opts.creds);
    if (p) {
        ep_smb_pool_set_lanes(p, job->opts.connections ? job->opts.connections : SC_DEFAULT_CONNECTIONS);
        ep_smb_pool_set_channels(p, job->opts.channels ? job->opts.channels : SC_DEFAULT_CHANNELS);
    }
    return p;
}

/* Fill the summary (shared by both entry points). */
static int summarise(sc_job *job, int rc, double t0, sc_summary *sum, smb_error *err)
{
    job->sum.seconds = now_s() - t0;
    job->sum.bytes_read = __atomic_load_n(&job->counters.bytes_read, __ATOMIC_RELAXED);
    job->sum.bytes_written = __atomic_load_n(&job->counters.bytes_written, __ATOMIC_RELAXED);
    job->sum.bytes_server_copied = __atomic_load_n(&job->counters.bytes_server_copied, __ATOMIC_RELAXED);
    job->sum.dfs_links_followed = __atomic_load_n(&job->counters.dfs_links_followed, __ATOMIC_RELAXED);
    job->sum.dfs_links_unreachable = __atomic_load_n(&job->counters.dfs_links_unreachable, __ATOMIC_RELAXED);
    job->sum.connections = job->pool ? ep_smb_pool_connections(job->pool) : 0;
    if (job->pool) {
        ep_smb_pool_multichannel_note(job->pool, job->sum.multichannel, sizeof job->sum.multichannel);
        ep_smb_pool_channel_counts(job->pool, &job->sum.channels_lost, &job->sum.channels_rebound);
    }
    job->sum.interrupted = job->sum.interrupted || (rc == 0 && atomic_load(&job->cancel));
    /* Files copied by an earlier pass were seen again (as up to date) by the last one. */
    uint64_t f = job->carried_files < job->sum.files_skipped ? job->carried_files : job->sum.files_skipped;
    uint64_t b = job->carried_bytes < job->sum.bytes_skipped ? job->carried_bytes : job->sum.bytes_skipped;
    job->sum.files_skipped -= f;
    job->sum.bytes_skipped -= b;
    rc = close_checkpoint(job, rc, err);
    if (sum) {
        *sum = job->sum;
        job->sum.failures = NULL; /* moved to the caller */
        job->sum.nfailures = 0;
        job->sum.meta_notes = NULL;
        job->sum.nmeta_notes = 0;
    }
    return rc;
}

int job_run_endpoints(sc_job *job, ep *src, ep *dst, sc_summary *sum, smb_error *err)
{
    smb_error local = {0};
    if (!err)
        err = &local;
    double t0 = now_s();
    job->pairs[0].src = src;
    job->pairs[0].dst = dst;
    job->npairs = 1;
    set_pair_caps(job, &job->pairs[0]);
    ep_stat sst, dst_st;
    smb_error e2 = {0};
    int rc = open_checkpoint(job, err);
    if (rc == 0)
        rc = src->ops->stat(src, "", &sst, err);
    if (rc == 0 && sst.type != EP_DIR)
        rc = smb_err_set(err, SMB_ERR_NOT_DIR, 0, "source is not a directory");
    bool exists = rc == 0 && dst->ops->stat(dst, "", &dst_st, &e2) == 0;
    if (rc == 0 && !exists && !job->opts.dry_run && dst->ops->mkdir(dst, "", &e2) != 0 && e2.code != SMB_ERR_EXISTS)
        rc = smb_err_set(err, e2.code, e2.ntstatus, "cannot create the destination %s: %s", dst->display, e2.message);
    if (rc == 0) {
        if (!exists)
            job_count(job, &job->sum.dirs_created, 1);
        probe_dest_case(job, dst, exists);
        probe_dest_times(job, dst);
        job_pair *p = &job->pairs[0];
        rc = queue_root(job, &p, 1, &sst, !exists, err);
    }
    rc = run_queued(job, rc, err);
    return summarise(job, rc, t0, sum, err);
}

/* The share "*" (every disk share of the server) is a source only. */
static int check_dest(const sc_location *dloc, smb_error *err)
{
    if (dloc->is_smb && strcmp(dloc->share, SC_EVERY_SHARE) == 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "//%s/%s (every share) can be a source only", dloc->host,
                           SC_EVERY_SHARE);
    return 0;
}

/* Parse every location of the job (sources and destination); on failure none is left to free. */
static int parse_locations(sc_job *job, sc_location **slocs, sc_location *dloc, smb_error *err)
{
    size_t n = job->opts.nsources;
    *slocs = calloc(n, sizeof **slocs);
    if (!*slocs)
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    int rc = sc_location_parse(job->dest, dloc, err);
    if (rc == 0 && (rc = check_dest(dloc, err)) != 0)
        sc_location_free(dloc);
    size_t i = 0;
    for (; rc == 0 && i < n; i++)
        rc = sc_location_parse(job->sources[i], &(*slocs)[i], err);
    if (rc != 0) {
        for (size_t j = 0; j + 1 < i; j++)
            sc_location_free(&(*slocs)[j]);
        if (i)
            sc_location_free(dloc);
        free(*slocs);
        *slocs = NULL;
    }
    return rc;
}

static void free_locations(sc_location *slocs, size_t n, sc_location *dloc)
{
    for (size_t i = 0; i < n; i++)
        sc_location_free(&slocs[i]);
    free(slocs);
    sc_location_free(dloc);
}

/*
 * One pass: connect, open every source and the destination, copy.
 * *connected: the setup succeeded, at *connected_at (before the copying).
 */
static int run_pass(sc_job *job, bool *connected, double *connected_at, smb_error *err)
{
    *connected = false;
    job->pool = new_pool(job);
    sc_location dloc, *slocs = NULL;
    int rc = job->pool ? parse_locations(job, &slocs, &dloc, err) : smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    if (rc == 0) {
        rc = plan_sources(job, slocs, &dloc, err);
        free_locations(slocs, job->opts.nsources, &dloc);
    }
    *connected = rc == 0;
    *connected_at = now_s();
    return run_queued(job, rc, err);
}

/* The overlap rules (identity.h), before anything is opened or written. */
static int check_overlap(sc_job *job, smb_error *err)
{
    sc_location dloc, *slocs = NULL;
    int rc = parse_locations(job, &slocs, &dloc, err);
    if (rc != 0)
        return rc;
    rc = loc_check_overlap(slocs, job->opts.nsources, &dloc, job->opts.mirror, err);
    free_locations(slocs, job->opts.nsources, &dloc);
    return rc;
}

static void free_root_files(sc_job *job)
{
    for (size_t i = 0; i < job->nroot_files; i++)
        free(job->root_files[i].name);
    free(job->root_files);
    job->root_files = NULL;
    job->nroot_files = 0;
}

/* Free the failures of s (a new pass lists its own; the metadata notes stay). */
static void free_failures(sc_summary *s)
{
    for (size_t i = 0; i < s->nfailures; i++) {
        free(s->failures[i].path);
        free(s->failures[i].message);
    }
    free(s->failures);
    s->failures = NULL;
    s->nfailures = 0;
}

/*
 * After a lost connection: close every endpoint and connection of the pass,
 * empty the queue state, and start the next pass's counts (what was copied
 * stays counted; what is seen again is counted again).
 */
static void end_pass(sc_job *job)
{
    for (size_t i = 0; i < job->npairs; i++) {
        if (job->pairs[i].src)
            job->pairs[i].src->ops->free(job->pairs[i].src);
        if (job->pairs[i].dst)
            job->pairs[i].dst->ops->free(job->pairs[i].dst);
        bool refused = job->pairs[i].server_copy_refused; /* decided once per job */
        memset(&job->pairs[i], 0, sizeof job->pairs[i]);
        job->pairs[i].server_copy_refused = refused;
    }
    job->npairs = 0;
    free_root_files(job);
    if (job->pool)
        ep_smb_pool_free(job->pool);
    job->pool = NULL;
    job->active = 0;
    job->dirs_pending = 0;
    job->walk_done_sent = false;
    memset(&job->fatal_err, 0, sizeof job->fatal_err);
    atomic_store(&job->fatal, 0);
    sc_summary *s = &job->sum;
    free_failures(s);
    job->failures_cap = 0;
    s->dirs_total = s->files_total = s->bytes_total = 0;
    s->files_skipped = s->bytes_skipped = s->files_failed = s->ignored = 0;
    job->carried_files = s->files_copied;
    job->carried_bytes = s->bytes_copied;
}

/* Sleep up to seconds, waking early when the job is cancelled. */
static void nap(sc_job *job, double seconds)
{
    double until = now_s() + seconds;
    while (!atomic_load(&job->cancel) && now_s() < until) {
        struct timespec ts = {0, 50L * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* "5m0s", "45s": for messages. */
static const char *duration(double s, char *buf, size_t len)
{
    unsigned long t = s > 0 ? (unsigned long)(s + 0.5) : 0;
    if (t >= 60)
        snprintf(buf, len, "%lum%lus", t / 60, t % 60);
    else
        snprintf(buf, len, "%lus", t);
    return buf;
}

/* An archive job: one source directory into a tar archive at dest. */
static int run_archive(sc_job *job, smb_error *err)
{
    int filter = strcmp(job->opts.archive, "auto") == 0 ? arc_filter_from_name(job->dest)
                                                         : arc_filter_from_format(job->opts.archive);
    if (filter < 0)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0,
                           strcmp(job->opts.archive, "auto") == 0
                               ? "%s does not end like an archive (.tar, .tar.gz, .tgz, .tar.xz, .tar.bz2, .tar.zst)"
                               : "unknown archive format '%s' (tar, tar.gz, tar.xz, tar.bz2, tar.zst)",
                           strcmp(job->opts.archive, "auto") == 0 ? job->dest : job->opts.archive);
    if (job->opts.nsources != 1)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "an archive is made of one source directory");
    sc_location sloc;
    int rc = sc_location_parse(job->sources[0], &sloc, err);
    if (rc != 0)
        return rc;
    job->pool = new_pool(job);
    if (!job->pool) {
        sc_location_free(&sloc);
        return smb_err_set(err, SMB_ERR_NO_MEMORY, 0, "out of memory");
    }
    ep *src = open_ep(job, &sloc, NULL, err);
    char shown[256];
    sc_location_display(&sloc, shown, sizeof shown);
    sc_location_free(&sloc);
    if (!src)
        return err->code ? err->code : SMB_ERR_NO_MEMORY;
    job->pairs[0].src = src; /* freed with the job */
    job->npairs = 1;
    ep_stat st;
    rc = src->ops->stat(src, "", &st, err);
    if (rc == SMB_ERR_NOT_FOUND)
        rc = smb_err_set(err, SMB_ERR_NOT_FOUND, 0, "source %s not found", shown);
    else if (rc == 0 && st.type != EP_DIR)
        rc = smb_err_set(err, SMB_ERR_NOT_DIR, 0, "source %s is not a directory (archives are made of directories)",
                         shown);
    /* Compression threads: one per processor (more only cost memory: each holds its own buffers). */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    arc_out_opts ao = {.filter = (arc_filter)filter, .level = job->opts.compress_level,
                       .threads = cpus > 0 && cpus < 64 ? (unsigned)cpus : 1};
    /* The archive is the pair's destination endpoint (none in a dry run: nothing is written). */
    if (rc == 0 && !job->opts.dry_run &&
        !(job->pairs[0].dst = ep_archive_create(job->dest, &ao, &job->counters, err)))
        rc = err->code ? err->code : SMB_ERR_NO_MEMORY;
    if (rc == 0)
        rc = job_archive_run(job, src, job->pairs[0].dst, job->opts.read_ahead, err);
    return rc;
}

/* A restore job: one archive extracted into the destination directory. */
static int run_restore(sc_job *job, smb_error *err)
{
    if (job->opts.nsources != 1)
        return smb_err_set(err, SMB_ERR_INVALID_ARG, 0, "one archive is extracted at a time");
    sc_location dloc;
    int rc = sc_location_parse(job->dest, &dloc, err);
    if (rc != 0)
        return rc;
    if ((rc = check_dest(&dloc, err)) != 0) {
        sc_location_free(&dloc);
        return rc;
    }
    job->pool = new_pool(job);
    ep *dst = job->pool ? open_ep(job, &dloc, NULL, err) : NULL;
    sc_location_free(&dloc);
    if (!dst)
        return err->code ? err->code : SMB_ERR_NO_MEMORY;
    job->pairs[0].dst = dst; /* freed with the job */
    job->npairs = 1;
    /* The archive is the pair's source endpoint. */
    ep *src = ep_archive_open(job->sources[0], &job->counters, err);
    if (!src)
        return err->code ? err->code : SMB_ERR_NO_MEMORY;
    job->pairs[0].src = src;
    ep_stat st;
    smb_error e2 = {0};
    bool exists = dst->ops->stat(dst, "", &st, &e2) == 0;
    if (!exists) {
        if (!job->opts.dry_run && dst->ops->mkdir(dst, "", &e2) != 0 && e2.code != SMB_ERR_EXISTS)
            return smb_err_set(err, e2.code, e2.ntstatus, "cannot create the destination %s: %s", dst->display,
                               e2.message);
        job_count(job, &job->sum.dirs_created, 1);
    } else if (st.type != EP_DIR) {
        return smb_err_set(err, SMB_ERR_NOT_DIR, 0, "destination %s is a file; an archive is extracted into a directory",
                           dst->display);
    }
    probe_dest_case(job, dst, exists);
    probe_dest_times(job, dst);
    return job_restore_run(job, src, dst, job->opts.read_ahead, err);
}

int sc_job_run(sc_job *job, sc_summary *sum, smb_error *err)
{
    smb_error local = {0};
    if (!err)
        err = &local;
    double t0 = now_s();
    if (job->opts.extract) {
        job->opts.retry_for_s = 0; /* an archive is read once: a lost connection ends it */
        return summarise(job, run_restore(job, err), t0, sum, err);
    }
    if (job->opts.archive) {
        job->opts.retry_for_s = 0; /* an archive is written in one go: a lost connection ends it */
        return summarise(job, run_archive(job, err), t0, sum, err);
    }
    int rc = check_overlap(job, err);
    if (rc == 0)
        rc = open_checkpoint(job, err);
    if (rc != 0)
        return summarise(job, rc, t0, sum, err);
    /*
     * Passes: a lost connection (server restarted, network down, session
     * expired) ends a pass; after a pause growing from 1 s to 30 s the job
     * connects again and walks the trees again. Files already done are up
     * to date, and partly copied files resume from their last committed
     * range (the journal). Time spent disconnected counts against
     * retry_for_s; a job that never connected fails at once.
     */
    double retry_for = job->opts.retry_for_s;
    retry_budget budget;
    retry_budget_init(&budget, retry_for);
    unsigned attempt = 0;
    for (unsigned pass = 0;; pass++) {
        bool connected = false;
        double connected_at = 0;
        rc = run_pass(job, &connected, &connected_at, err);
        /* Disconnected until connected_at; the copying after does not count. */
        if (connected && retry_budget_connected(&budget, connected_at)) {
            attempt = 0;
            job->sum.reconnects++;
        }
        if (!job_error_restartable(rc) || atomic_load(&job->cancel) || retry_for <= 0 || (pass == 0 && !connected))
            break;
        double left = retry_budget_left(&budget, now_s());
        char a[32], b[32];
        if (left <= 0) {
            smb_error lost = *err;
            rc = smb_err_set(err, lost.code, lost.ntstatus, "%s; gave up after trying to reconnect for %s",
                             lost.message, duration(retry_for, a, sizeof a));
            break;
        }
        double delay = (double)(1u << (attempt < 5 ? attempt : 5));
        if (delay > 30)
            delay = 30;
        if (delay > left)
            delay = left;
        attempt++;
        char msg[600];
        snprintf(msg, sizeof msg, "%s; reconnecting in %s (giving up after %s more)", err->message,
                 duration(delay, a, sizeof a), duration(left, b, sizeof b));
        job_event(job, SC_EV_RETRY, ".", 0, true, msg);
        nap(job, delay);
        if (atomic_load(&job->cancel)) {
            job->sum.interrupted = true;
            rc = 0;
            break;
        }
        end_pass(job);
        memset(err, 0, sizeof *err);
    }
    return summarise(job, rc, t0, sum, err);
}

void sc_job_free(sc_job *job)
{
    if (!job)
        return;
    for (size_t i = 0; job->pairs && i < job->opts.nsources; i++) {
        if (job->pairs[i].src)
            job->pairs[i].src->ops->free(job->pairs[i].src);
        if (job->pairs[i].dst)
            job->pairs[i].dst->ops->free(job->pairs[i].dst);
    }
    free(job->pairs);
    free_root_files(job);
    if (job->pool)
        ep_smb_pool_free(job->pool);
    free_strings(job->sources);
    free_strings(job->excludes);
    free_strings(job->includes);
    filter_free(job->filter);
    free(job->dest);
    sc_summary sum = job->sum;
    sc_summary_free(&sum);
    pthread_mutex_destroy(&job->lock);
    pthread_mutex_destroy(&job->ev_lock);
    pthread_cond_destroy(&job->cond);
    bufpool_destroy(&job->bufs);
    checkpoint_close(job->cp, false, NULL);
    free(job);
}

void sc_summary_free(sc_summary *s)
{
    free_failures(s);
    for (size_t i = 0; i < s->nmeta_notes; i++) {
        free(s->meta_notes[i].path);
        free(s->meta_notes[i].message);
        free(s->meta_notes[i].sddl);
    }
    free(s->meta_notes);
    s->meta_notes = NULL;
    s->nmeta_notes = 0;
}

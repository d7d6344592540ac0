/*
 * The worker pool: one queue of tasks in three lists. Workers take ranges
 * of large files first, then files, then directories (last in, first out,
 * so the walk goes depth-first and the queue stays small). File tasks are
 * bounded: a directory listing that finds the queue full copies the file
 * itself, so memory stays flat however large the tree.
 */
#include <stdlib.h>

#include "engine/job_internal.h"

/* Files waiting beyond this are copied by the worker that found them. */
#define FILE_QUEUE_MAX 4096

void task_free(task *t)
{
    if (!t)
        return;
    free(t->rel);
    free(t->dst_rel);
    free(t->stage_rel);
    free(t);
}

static void list_push_back(task_list *l, task *t)
{
    t->next = NULL;
    if (l->tail)
        l->tail->next = t;
    else
        l->head = t;
    l->tail = t;
    l->n++;
}

static void list_push_front(task_list *l, task *t)
{
    t->next = l->head;
    l->head = t;
    if (!l->tail)
        l->tail = t;
    l->n++;
}

static task *list_pop(task_list *l)
{
    task *t = l->head;
    if (t) {
        l->head = t->next;
        if (!l->head)
            l->tail = NULL;
        l->n--;
        t->next = NULL;
    }
    return t;
}

bool job_push(sc_job *job, task *t, bool bounded)
{
    pthread_mutex_lock(&job->lock);
    if (t->kind == TASK_FILE && bounded && job->files.n >= FILE_QUEUE_MAX) {
        pthread_mutex_unlock(&job->lock);
        return false;
    }
    if (t->kind == TASK_RANGE)
        list_push_back(&job->ranges, t);
    else if (t->kind == TASK_FILE)
        list_push_back(&job->files, t);
    else {
        list_push_front(&job->dirs, t);
        job->dirs_pending++;
    }
    pthread_cond_signal(&job->cond);
    pthread_mutex_unlock(&job->lock);
    return true;
}

static void run_task(sc_job *job, task *t)
{
    switch (t->kind) {
    case TASK_DIR:
        job_walk_dir(job, t);
        break;
    case TASK_FILE:
        job_copy_file(job, t);
        break;
    case TASK_RANGE:
        job_copy_range(job, t);
        break;
    }
}

static void *worker_main(void *arg)
{
    sc_job *job = arg;
    pthread_mutex_lock(&job->lock);
    for (;;) {
        task *t = list_pop(&job->ranges);
        if (!t)
            t = list_pop(&job->files);
        if (!t)
            t = list_pop(&job->dirs);
        if (!t) {
            if (job->active == 0)
                break;
            pthread_cond_wait(&job->cond, &job->lock);
            continue;
        }
        job->active++;
        bool is_dir = t->kind == TASK_DIR;
        pthread_mutex_unlock(&job->lock);
        /*
         * After a stop, queued directories are dropped (their nodes
         * released); a file task or a range still runs, to finish as
         * stopped through the one place a file ends (copy.c).
         */
        if (job_stopping(job) && is_dir)
            job_dir_release(job, t->dir);
        else
            run_task(job, t);
        task_free(t);
        pthread_mutex_lock(&job->lock);
        job->active--;
        if (is_dir)
            job->dirs_pending--;
        bool walk_done = job->dirs_pending == 0 && !job->walk_done_sent;
        if (walk_done)
            job->walk_done_sent = true;
        pthread_cond_broadcast(&job->cond);
        if (walk_done) {
            pthread_mutex_unlock(&job->lock);
            pthread_mutex_lock(&job->lock);
            uint64_t total = job->sum.bytes_total;
            pthread_mutex_unlock(&job->lock);
            job_event(job, SC_EV_WALK_DONE, "", total, true, NULL);
            pthread_mutex_lock(&job->lock);
        }
    }
    pthread_cond_broadcast(&job->cond);
    pthread_mutex_unlock(&job->lock);
    return NULL;
}

void job_run_pool(sc_job *job)
{
    unsigned n = job->opts.threads ? job->opts.threads : 8;
    pthread_t *th = calloc(n, sizeof *th);
    unsigned started = 0;
    for (unsigned i = 0; th && i < n; i++)
        if (pthread_create(&th[i], NULL, worker_main, job) == 0)
            started++;
    if (!started) /* no threads at all: run on this one */
        worker_main(job);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
}

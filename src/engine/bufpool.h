/* A pool of equally sized copy buffers shared by a job's workers (bufpool.c). */
#ifndef SMBCOPY_ENGINE_BUFPOOL_H
#define SMBCOPY_ENGINE_BUFPOOL_H

#include <pthread.h>
#include <stddef.h>

typedef struct bufpool_item {
    struct bufpool_item *next;
} bufpool_item;

typedef struct bufpool {
    pthread_mutex_t lock;
    size_t size;        /* every pooled buffer has this size */
    unsigned keep;      /* most buffers on the free list */
    unsigned nfree;
    bufpool_item *free;
} bufpool;

/** Buffers of size bytes (at least sizeof(void *)), at most keep kept for reuse. */
void bufpool_init(bufpool *p, size_t size, unsigned keep);
/** A buffer of at least size bytes: pooled when size <= the pool's size, else malloc'd. NULL when out of memory. */
void *bufpool_get(bufpool *p, size_t size);
/** Give back a buffer from bufpool_get of the same size (NULL is ignored). */
void bufpool_put(bufpool *p, void *buf, size_t size);
/** Free the pooled buffers (every buffer must be back). */
void bufpool_destroy(bufpool *p);

#endif

/*
 * The queue of data chunks between an archive pipeline's readers and its
 * writer: a file's bytes in order, each chunk counted against the
 * pipeline's memory bound until the writer frees it. Archiving
 * (archive_job.c) and restoring (archive_restore.c) both use it; the
 * caller's lock guards a queue.
 */
#ifndef SMBCOPY_ENGINE_CHUNK_QUEUE_H
#define SMBCOPY_ENGINE_CHUNK_QUEUE_H

#include <stddef.h>
#include <stdint.h>

/** A piece of a file's data: len bytes of data[] (room for more when allocated larger). */
typedef struct data_chunk {
    struct data_chunk *next;
    uint64_t off; /**< where in the file (0 when the pipeline does not need it) */
    size_t len;
    uint8_t data[];
} data_chunk;

/** Chunks in the order they were pushed; {0} is an empty queue. */
typedef struct chunk_queue {
    data_chunk *head, *tail;
} chunk_queue;

/**
 * A new chunk with room for `room` bytes (at least 1 allocated), next NULL,
 * off 0 and len `room`; NULL when memory runs out. Freed with free() or
 * chunk_queue_free().
 */
data_chunk *data_chunk_new(size_t room);

/** Append c (owned by the queue from now on). */
void chunk_queue_push(chunk_queue *q, data_chunk *c);

/** Take the first chunk (the caller owns it), or NULL when the queue is empty. */
data_chunk *chunk_queue_pop(chunk_queue *q);

/** Free every chunk queued and empty the queue; returns the bytes they held
 * (their len), for the caller's memory bound. */
size_t chunk_queue_free(chunk_queue *q);

#endif

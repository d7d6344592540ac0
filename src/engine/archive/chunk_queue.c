#include "engine/archive/chunk_queue.h"

#include <stdlib.h>

data_chunk *data_chunk_new(size_t room)
{
    data_chunk *c = malloc(sizeof *c + (room ? room : 1));
    if (c)
        *c = (data_chunk){.len = room};
    return c;
}

void chunk_queue_push(chunk_queue *q, data_chunk *c)
{
    c->next = NULL;
    if (q->tail)
        q->tail->next = c;
    else
        q->head = c;
    q->tail = c;
}

data_chunk *chunk_queue_pop(chunk_queue *q)
{
    data_chunk *c = q->head;
    if (c) {
        q->head = c->next;
        if (!q->head)
            q->tail = NULL;
        c->next = NULL;
    }
    return c;
}

size_t chunk_queue_free(chunk_queue *q)
{
    size_t bytes = 0;
    for (data_chunk *c; (c = chunk_queue_pop(q));) {
        bytes += c->len;
        free(c);
    }
    return bytes;
}

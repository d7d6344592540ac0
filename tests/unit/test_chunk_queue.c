/* The archive pipelines' chunk queue: order kept, bytes counted when freed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/archive/chunk_queue.h"

static data_chunk *chunk_of(const char *text)
{
    data_chunk *c = data_chunk_new(strlen(text));
    assert_non_null(c);
    memcpy(c->data, text, c->len);
    return c;
}

static void test_fifo_order(void **state)
{
    (void)state;
    chunk_queue q = {0};
    assert_null(chunk_queue_pop(&q));
    chunk_queue_push(&q, chunk_of("one"));
    chunk_queue_push(&q, chunk_of("two"));
    data_chunk *c = chunk_queue_pop(&q);
    assert_memory_equal(c->data, "one", 3);
    assert_null(c->next);
    free(c);
    chunk_queue_push(&q, chunk_of("three"));
    c = chunk_queue_pop(&q);
    assert_memory_equal(c->data, "two", 3);
    free(c);
    c = chunk_queue_pop(&q);
    assert_int_equal(c->len, 5);
    assert_memory_equal(c->data, "three", 5);
    free(c);
    assert_null(chunk_queue_pop(&q));
    assert_null(q.head);
    assert_null(q.tail);
}

static void test_free_counts_bytes(void **state)
{
    (void)state;
    chunk_queue q = {0};
    assert_int_equal(chunk_queue_free(&q), 0);
    chunk_queue_push(&q, chunk_of("abcd"));
    data_chunk *empty = data_chunk_new(0); /* a zero-length chunk is still a chunk */
    assert_non_null(empty);
    assert_int_equal(empty->len, 0);
    assert_int_equal(empty->off, 0);
    chunk_queue_push(&q, empty);
    chunk_queue_push(&q, chunk_of("efghijk"));
    assert_int_equal(chunk_queue_free(&q), 11);
    assert_null(q.head);
    assert_null(q.tail);
    chunk_queue_push(&q, chunk_of("again")); /* usable after being emptied */
    assert_int_equal(chunk_queue_free(&q), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_order),
        cmocka_unit_test(test_free_counts_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

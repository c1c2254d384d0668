/* test_traps.c: a newcomer's traps: blocking calls from a callback or a source, a pool freed twice.
 */
#include <pthread.h>

#include "tasks.h"

/* What a completion callback saw, filled on the dispatcher thread. */
typedef struct seen {
    ppool *p;
    ppool_async *slow; /* still running while the callback runs */
    ppool_iter *it;    /* likewise */
    int map, bufs, apply, wait, get, next, poll, join, terminate, own_get;
    char map_msg[300];
    int runs;
    pthread_t on; /* the thread the callback ran on */
} seen;

static void blocking_calls(ppool_async *a, void *user)
{
    seen *s = user;
    s->on = pthread_self();
    long x = 3, y;
    s->map = ppool_map(s->p, "square", &x, 1, sizeof x, &y, sizeof y);
    snprintf(s->map_msg, sizeof s->map_msg, "%s", ppool_errmsg(s->p));
    ppool_buf in = {&x, sizeof x}, out;
    s->bufs = ppool_map_bufs(s->p, "square", &in, 1, &out);
    s->apply = ppool_apply(s->p, "square", &x, sizeof x, NULL);
    s->wait = ppool_async_wait(s->slow, 30);
    s->get = ppool_async_get(s->slow, NULL, -1);
    s->poll = ppool_async_wait(s->slow, 0); /* a poll does not wait: allowed */
    size_t idx;
    s->next = ppool_iter_next(s->it, &idx, NULL, 30);
    s->join = ppool_join(s->p);
    s->terminate = ppool_terminate(s->p);
    ppool_buf mine;
    s->own_get = ppool_async_get(a, &mine, 30); /* its own result is done: allowed */
    __atomic_add_fetch(&s->runs, 1, __ATOMIC_SEQ_CST);
}

/* Every call that would wait fails at once with PPOOL_EINVAL naming the rule. */
static void callback_blocking(void)
{
    ppool *p = open_pool(4, 1); /* one worker each: slow, the imap's two, a */
    seen s = {.p = p};
    static const int later[2] = {1, 1}, first = 0; /* gates: 1 after the checks, 0 at once */
    s.slow = ppool_apply_async(p, "gate", &later[0], sizeof later[0]);
    s.it = ppool_imap(p, "gate", later, 2, sizeof later[0]);
    /* Not done when its callback is set (its gate opens after), so the
     * dispatcher runs it; one set on a finished result runs at once on the
     * caller's thread. */
    ppool_async *a = ppool_apply_async(p, "gate", &first, sizeof first);
    ppool_async_on_done(a, blocking_calls, &s);
    gate_open(0);
    ASSERT_OK(ppool_async_wait(a, 60), p);
    ASSERT_EQ(s.runs, 1);
    ASSERT_TRUE(!pthread_equal(s.on, pthread_self()));
    ASSERT_EQ(s.map, PPOOL_EINVAL);
    ASSERT_CONTAINS(s.map_msg, "ppool_map called on the pool's dispatcher thread");
    ASSERT_CONTAINS(s.map_msg, "callbacks must not block");
    ASSERT_EQ(s.bufs, PPOOL_EINVAL);
    ASSERT_EQ(s.apply, PPOOL_EINVAL);
    ASSERT_EQ(s.wait, PPOOL_EINVAL);
    ASSERT_EQ(s.get, PPOOL_EINVAL);
    ASSERT_EQ(s.poll, PPOOL_ETIMEDOUT);
    ASSERT_EQ(s.next, PPOOL_EINVAL);
    ASSERT_EQ(s.join, PPOOL_EINVAL);
    ASSERT_EQ(s.terminate, PPOOL_EINVAL);
    ASSERT_EQ(s.own_get, 0);
    /* The pool goes on: the slow work finishes, a map works. */
    gate_open(1);
    ppool_buf r;
    ASSERT_OK(ppool_async_get(s.slow, &r, 60), p);
    size_t idx;
    ASSERT_OK(ppool_iter_next(s.it, &idx, NULL, 60), p);
    check_usable(p);
    ppool_async_free(a);
    ppool_async_free(s.slow);
    ppool_iter_free(s.it);
    ppool_free(p);
}

static int frees;
static pthread_t freed_on;
static void free_in_callback(ppool_async *a, void *user)
{
    freed_on = pthread_self();
    ppool_free(user); /* does nothing: the dispatcher cannot stop itself */
    __atomic_add_fetch(&frees, 1, __ATOMIC_SEQ_CST);
}

/* ppool_free from a callback leaves the pool open (documented); nothing runs twice. */
static void callback_free(void)
{
    ppool *p = open_pool(1, 0);
    int g = 2; /* the one worker waits at gate 2: the square is not done when its callback is set */
    ppool_async *busy = ppool_apply_async(p, "gate", &g, sizeof g);
    long x = 5;
    ppool_async *a = ppool_apply_async(p, "square", &x, sizeof x);
    ppool_async_on_done(a, free_in_callback, p);
    gate_open(2);
    ASSERT_OK(ppool_async_wait(a, 60), p);
    ASSERT_EQ(frees, 1);
    ASSERT_TRUE(!pthread_equal(freed_on, pthread_self()));
    ASSERT_CONTAINS(ppool_errmsg(p), "ppool_free called on the pool's dispatcher thread");
    check_usable(p);
    ppool_async_free(busy);
    ppool_async_free(a);
    ppool_free(p);
    ASSERT_EQ(frees, 1);
    ASSERT_TRUE(h_no_children());
}

/* A source is called on the dispatcher thread too: a map from it fails. */
typedef struct src {
    ppool *p;
    long items[4];
    int k, map;
} src;
static int source_mapping(void *user, const void **item, size_t *len)
{
    src *s = user;
    if (s->k == 1) {
        long x = 2, y;
        s->map = ppool_map(s->p, "square", &x, 1, sizeof x, &y, sizeof y);
    }
    if (s->k == 4) return 0;
    *item = &s->items[s->k++];
    *len = sizeof(long);
    return 1;
}

static void source_blocking(void)
{
    ppool *p = open_pool(2, 0);
    src s = {.p = p, .items = {1, 2, 3, 4}};
    ppool_iter *it = ppool_imap_source(p, "square", source_mapping, &s, 1);
    ASSERT_TRUE(it != NULL);
    size_t idx, n = 0;
    ppool_buf r;
    while (ppool_iter_next(it, &idx, &r, 60) == 0) {
        ASSERT_EQ(*(long *)r.data, s.items[idx] * s.items[idx]);
        n++;
    }
    ASSERT_EQ(n, 4);
    ASSERT_EQ(s.map, PPOOL_EINVAL);
    ppool_iter_free(it);
    ppool_free(p);
}

/* A pool freed twice is caught without touching freed memory (ASan would
 * report it), and the calls after it fail naming the pointer. */
static void freed_twice(void)
{
    ppool *p = open_pool(1, 0);
    ppool_free(p);
    ppool_free(p);
    ASSERT_EQ(ppool_close(p), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "is not an open pool");
    ASSERT_EQ(ppool_terminate(p), PPOOL_EINVAL);
    ASSERT_EQ(ppool_join(p), PPOOL_EINVAL);
    long x = 2, y;
    ASSERT_EQ(ppool_map(p, "square", &x, 1, sizeof x, &y, sizeof y), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "freed already");
    ASSERT_TRUE(ppool_apply_async(p, "square", &x, sizeof x) == NULL);
    ASSERT_TRUE(h_no_children());
}

int main(void)
{
    tasks_register();
    RUN(callback_blocking);
    RUN(callback_free);
    RUN(source_blocking);
    RUN(freed_twice);
    return 0;
}

/* test_async.c: apply_async and map_async: many in flight, timeouts, callbacks, errors, cancel. */
#include <pthread.h>

#include "tasks.h"

static ppool *P;
static int cb_count[200];
static int cb_total;

static void on_done(ppool_async *a, void *user)
{
    __atomic_add_fetch(&cb_count[(long)user], 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&cb_total, 1, __ATOMIC_SEQ_CST);
}

static void many_in_flight(void)
{
    enum { N = 200 };
    ppool_async *a[N];
    long x[N];
    for (long i = 0; i < N; i++) {
        x[i] = i;
        a[i] = ppool_apply_async(P, "square", &x[i], sizeof x[i]);
        ASSERT_NOT_NULL(a[i]);
        ppool_async_on_done(a[i], on_done, (void *)i);
        x[i] = -1; /* the argument was copied */
    }
    for (long i = N - 1; i >= 0; i--) {
        ppool_buf r;
        ASSERT_OK(ppool_async_get(a[i], &r, -1), P);
        ASSERT_EQ(r.len, sizeof(long));
        ASSERT_EQ(*(long *)r.data, i * i);
        ASSERT_EQ(ppool_async_ready(a[i]), 1);
        ASSERT_NULL(ppool_async_error(a[i]));
    }
    /* as in Python, a result is done only once its callback has returned: exactly once */
    for (int i = 0; i < N; i++) ASSERT_EQ(cb_count[i], 1);
    /* a callback set after completion runs at once, exactly once; a second one is ignored */
    ppool_async_on_done(a[0], on_done, (void *)0);
    ppool_async_on_done(a[1], on_done, (void *)1);
    ppool_async_on_done(a[1], on_done, (void *)1);
    ASSERT_EQ(cb_count[0], 1); /* already had one */
    ASSERT_EQ(cb_count[1], 1);
    for (int i = 0; i < N; i++) ppool_async_free(a[i]);
    usleep(100000);
    ASSERT_EQ(cb_total, N);
}

/* A callback may read its result and free it (fire and forget). */
static long fired_value;
static void get_and_free(ppool_async *a, void *user)
{
    ppool_buf r;
    if (ppool_async_get(a, &r, 0) == 0) fired_value = *(long *)r.data;
    ppool_async_free(a);
    __atomic_add_fetch((int *)user, 1, __ATOMIC_SEQ_CST);
}

static void fire_and_forget(void)
{
    static int fired;
    double secs = 0.05;
    ppool_async *slow = ppool_apply_async(P, "sleep", &secs, sizeof secs);
    long x = 11;
    ppool_async *a = ppool_apply_async(P, "square", &x, sizeof x);
    ppool_async_on_done(a, get_and_free, &fired);
    ASSERT_OK(ppool_async_wait(slow, -1), P);
    for (int i = 0; i < 5000 && !__atomic_load_n(&fired, __ATOMIC_SEQ_CST); i++) usleep(1000);
    ASSERT_EQ(fired, 1);
    ASSERT_EQ(fired_value, 121);
    ppool_async_free(slow);
}

static void timeout_then_result(void)
{
    double secs = 1.0; /* far longer than the 0.01 s timeout, even on a loaded machine */
    ppool_async *a = ppool_apply_async(P, "sleep", &secs, sizeof secs);
    ASSERT_NOT_NULL(a);
    ppool_buf r;
    ASSERT_EQ(ppool_async_get(a, &r, 0.01), PPOOL_ETIMEDOUT);
    ASSERT_NULL(r.data);
    ASSERT_EQ(ppool_async_wait(a, 0.0), PPOOL_ETIMEDOUT);
    ASSERT_EQ(ppool_async_ready(a), 0);
    ASSERT_OK(ppool_async_wait(a, 30), P);
    ASSERT_OK(ppool_async_get(a, &r, 0), P);
    ASSERT_EQ(r.len, sizeof(int));
    ASSERT_GT(*(int *)r.data, 0);
    ppool_async_free(a);
}

static void errors(void)
{
    long x = 51;
    ppool_async *a = ppool_apply_async(P, "fail17", &x, sizeof x);
    ASSERT_NOT_NULL(a);
    ASSERT_EQ(ppool_async_get(a, NULL, -1), PPOOL_ETASK);
    ASSERT_CONTAINS(ppool_async_error(a), "got 51");
    ASSERT_CONTAINS(ppool_errmsg(P), "got 51");
    ppool_async_free(a);
    ASSERT_NULL(ppool_apply_async(P, "nope", &x, sizeof x));
    ASSERT_CONTAINS(ppool_errmsg(P), "'nope'");
    ASSERT_NULL(ppool_apply_async(NULL, "square", &x, sizeof x));
    ASSERT_NULL(ppool_map_async(P, "square", NULL, 3, sizeof x, &x, sizeof x));
    ASSERT_EQ(ppool_async_get(NULL, NULL, 0), PPOOL_EINVAL);
    ASSERT_EQ(ppool_async_wait(NULL, 0), PPOOL_EINVAL);
    ASSERT_EQ(ppool_async_ready(NULL), 0);
    ppool_async_free(NULL);
}

static void map_async(void)
{
    enum { N = 5000 };
    static long in[N], out[N];
    for (long i = 0; i < N; i++) in[i] = i;
    ppool_async *a = ppool_map_async(P, "square", in, N, sizeof in[0], out, sizeof out[0]);
    ASSERT_NOT_NULL(a);
    ppool_buf r;
    ASSERT_OK(ppool_async_get(a, &r, -1), P);
    ASSERT_EQ(r.len, 0);
    for (long i = 0; i < N; i++) ASSERT_EQ(out[i], i * i);
    ppool_async_free(a);
    /* failed item of a map_async */
    a = ppool_map_async(P, "fail17", in, 100, sizeof in[0], out, sizeof out[0]);
    ASSERT_EQ(ppool_async_get(a, NULL, -1), PPOOL_ETASK);
    ASSERT_CONTAINS(ppool_async_error(a), "item 17");
    size_t idx[8];
    int st[8];
    ASSERT_EQ(ppool_async_failed(a, idx, st, 8), 5); /* 17, 34, 51, 68, 85 */
    for (int k = 0; k < 5; k++) ASSERT_EQ(idx[k], 17 * (k + 1));
    ASSERT_EQ(st[4], PPOOL_ETASK);
    ppool_async_free(a);
    /* zero items: done at once */
    a = ppool_map_async(P, "square", in, 0, sizeof in[0], out, sizeof out[0]);
    ASSERT_EQ(ppool_async_ready(a), 1);
    ppool_async_free(a);
}

/* Freeing before completion cancels what was not dispatched; the pool goes on. */
static void cancel(void)
{
    double secs = 0.2;
    ppool_async *a[20];
    for (int i = 0; i < 20; i++) a[i] = ppool_apply_async(P, "sleep", &secs, sizeof secs);
    for (int i = 0; i < 20; i++) ppool_async_free(a[i]);
    check_usable(P);
}

int main(void)
{
    tasks_register();
    P = open_pool(2, 0);
    RUN(many_in_flight);
    RUN(fire_and_forget);
    RUN(timeout_then_result);
    RUN(errors);
    RUN(map_async);
    RUN(cancel);
    ppool_free(P);
    ASSERT_TRUE(h_no_children());
    return 0;
}

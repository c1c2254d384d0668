/* test_pools.c: several pools, one after another and at the same time, each with its own options.
 */
#include <pthread.h>

#include "tasks.h"

static void check_square(ppool *p, long n)
{
    long *in = malloc((size_t)n * sizeof *in), *out = malloc((size_t)n * sizeof *out);
    for (long i = 0; i < n; i++) in[i] = i - n / 2;
    ASSERT_OK(ppool_map(p, "square", in, (size_t)n, sizeof *in, out, sizeof *out), p);
    for (long i = 0; i < n; i++) ASSERT_EQ(out[i], in[i] * in[i]);
    free(in);
    free(out);
}

static void sequential(void)
{
    for (int round = 0; round < 5; round++) {
        ppool *p = open_pool(1 + round % 3, (size_t)round);
        ASSERT_EQ(ppool_size(p), 1 + round % 3);
        check_square(p, 1000 + round);
        ppool_close(p);
        ASSERT_OK(ppool_join(p), p);
        ppool_free(p);
    }
    ASSERT_TRUE(h_no_children());
}

static void *use_pool(void *arg)
{
    check_square(arg, 30000);
    return NULL;
}

static void concurrent(void)
{
    ppool *a = open_pool(1, 0), *b = open_pool(3, 7), *c = open_pool(2, 1);
    ASSERT_EQ(ppool_size(a), 1);
    ASSERT_EQ(ppool_size(b), 3);
    pthread_t t[3];
    pthread_create(&t[0], NULL, use_pool, a);
    pthread_create(&t[1], NULL, use_pool, b);
    pthread_create(&t[2], NULL, use_pool, c);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    /* a pool freed while others live takes its workers with it */
    long in[3] = {0, 1, 2};
    int pids[3];
    ASSERT_OK(ppool_map(b, "getpid", in, 3, sizeof in[0], pids, sizeof pids[0]), b);
    ppool_free(b);
    for (int i = 0; i < 3; i++) ASSERT_TRUE(h_pid_gone(pids[i]));
    check_square(a, 500);
    check_square(c, 500);
    ppool_free(a);
    ppool_free(c);
    ASSERT_TRUE(h_no_children());
}

/* A pool opened from a thread that then exits keeps working. */
static void *opener(void *out)
{
    *(ppool **)out = open_pool(2, 0);
    return NULL;
}

static void opened_in_a_thread(void)
{
    ppool *p = NULL;
    pthread_t t;
    pthread_create(&t, NULL, opener, &p);
    pthread_join(t, NULL);
    usleep(100000);
    check_square(p, 2000);
    ppool_free(p);
    ASSERT_TRUE(h_no_children());
}

int main(void)
{
    tasks_register();
    RUN(sequential);
    RUN(concurrent);
    RUN(opened_in_a_thread);
    return 0;
}

/* test_lifecycle.c: close, join, terminate and free: no new work, prompt stops, no process left. */
#include <pthread.h>

#include "tasks.h"

/* The pids of a pool's workers (as many as its size), via tasks. */
static void worker_pids(ppool *p, int *pids)
{
    int n = ppool_size(p);
    long in[64] = {0};
    for (int i = 0; i < n; i++) in[i] = i;
    for (int i = 0; i < 64; i++) SH->pids[i] = 0;
    ASSERT_OK(ppool_map(p, "record_pid", in, (size_t)n, sizeof in[0], in, sizeof in[0]), p);
    for (int i = 0; i < n; i++) pids[i] = SH->pids[i];
}

static void close_join(void)
{
    ppool *p = open_pool(2, 0);
    long x = 3, out;
    ASSERT_EQ(ppool_join(p), PPOOL_EINVAL); /* not closed yet */
    ppool_async *a = ppool_apply_async(p, "square", &x, sizeof x);
    ASSERT_OK(ppool_close(p), p);
    ASSERT_EQ(ppool_map(p, "square", &x, 1, sizeof x, &out, sizeof out), PPOOL_ECLOSED);
    ASSERT_EQ(ppool_apply(p, "square", &x, sizeof x, NULL), PPOOL_ECLOSED);
    ASSERT_NULL(ppool_apply_async(p, "square", &x, sizeof x));
    ASSERT_CONTAINS(ppool_errmsg(p), "closed");
    ASSERT_NULL(ppool_imap(p, "square", &x, 1, sizeof x));
    ASSERT_OK(ppool_join(p), p); /* outstanding work finishes */
    ppool_buf r;
    ASSERT_OK(ppool_async_get(a, &r, 0), p);
    ASSERT_EQ(*(long *)r.data, 9);
    ppool_async_free(a);
    ASSERT_OK(ppool_join(p), p);
    ppool_free(p);
    ASSERT_TRUE(h_no_children());
}

static void terminate_busy(void)
{
    ppool *p = open_pool(2, 1);
    int pids[2];
    worker_pids(p, pids);
    double five = 5.0;
    ppool_async *a[6];
    SH->started = 0;
    for (int i = 0; i < 6; i++) a[i] = ppool_apply_async(p, "sleep", &five, sizeof five);
    while (SH->started < 2) usleep(1000); /* both workers are busy on 5 s tasks */
    double t0 = h_now();
    ASSERT_OK(ppool_terminate(p), p);
    double took = h_now() - t0;
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ(ppool_async_ready(a[i]), 1);
        ASSERT_EQ(ppool_async_get(a[i], NULL, 0), PPOOL_ECLOSED); /* failed, not timed out */
        ASSERT_CONTAINS(ppool_async_error(a[i]), "terminated");
    }
    for (int i = 0; i < 2; i++) ASSERT_TRUE(h_pid_gone(pids[i]));
    long x = 2;
    ASSERT_EQ(ppool_apply(p, "square", &x, sizeof x, NULL), PPOOL_ECLOSED);
    ASSERT_OK(ppool_join(p), p); /* join after terminate is fine */
    for (int i = 0; i < 6; i++) ppool_async_free(a[i]);
    ppool_free(p);
    ASSERT_TRUE(h_no_children());
    fprintf(stderr, "   terminate took %.3f s (informational)\n", took);
}

/* A map terminated midway: every item not done is listed as failed
 * (PPOOL_ECLOSED) with its output zeroed; the others hold their result. */
static void terminate_lists_undone(void)
{
    ppool *p = open_pool(2, 1);
    enum { N = 40 };
    double d[N];
    int out[N];
    for (int i = 0; i < N; i++) d[i] = i < 8 ? 0.02 : 30; /* never all done before terminate */
    memset(out, 0xff, sizeof out);
    SH->started = 0;
    ppool_async *a = ppool_map_async(p, "sleep", d, N, sizeof d[0], out, sizeof out[0]);
    while (SH->started < 6) usleep(1000);
    ASSERT_OK(ppool_terminate(p), p);
    ASSERT_EQ(ppool_async_get(a, NULL, 0), PPOOL_ECLOSED);
    size_t idx[N];
    int st[N];
    size_t failed = ppool_async_failed(a, idx, st, N);
    ASSERT_GT(failed, 0);
    ASSERT_LT(failed, N);
    char is_failed[N] = {0};
    for (size_t k = 0; k < failed; k++) {
        ASSERT_EQ(st[k], PPOOL_ECLOSED);
        if (k) ASSERT_LT(idx[k - 1], idx[k]);
        is_failed[idx[k]] = 1;
    }
    for (int i = 0; i < N; i++) {
        if (is_failed[i])
            ASSERT_EQ(out[i], 0);
        else
            ASSERT_GT(out[i], 0); /* a worker's pid: nothing lost between the two */
    }
    ppool_async_free(a);
    ppool_free(p);
}

/* ppool_free of a pool with work in flight: it returns, nothing is left. */
static void free_open_pool(void)
{
    ppool *p = open_pool(2, 1);
    int pids[2];
    worker_pids(p, pids);
    double five = 5.0;
    SH->started = 0;
    ppool_async *a = ppool_apply_async(p, "sleep", &five, sizeof five);
    ppool_async *b = ppool_apply_async(p, "sleep", &five, sizeof five);
    while (SH->started < 2) usleep(1000);
    ppool_free(p);
    for (int i = 0; i < 2; i++) ASSERT_TRUE(h_pid_gone(pids[i]));
    ASSERT_TRUE(h_no_children());
    /* handles outlive the pool and report why */
    ASSERT_EQ(ppool_async_get(a, NULL, 0), PPOOL_ECLOSED);
    ppool_async_free(a);
    ppool_async_free(b);
    ppool_free(NULL);
    ASSERT_EQ(ppool_close(NULL), PPOOL_EINVAL);
    ASSERT_EQ(ppool_join(NULL), PPOOL_EINVAL);
    ASSERT_EQ(ppool_terminate(NULL), PPOOL_EINVAL);
    ASSERT_EQ(ppool_size(NULL), PPOOL_EINVAL);
    ASSERT_EQ(ppool_open(NULL, NULL), PPOOL_EINVAL);
}

/* An iterator whose pool is terminated ends with ECLOSED, then EDONE. */
static void iter_terminated(void)
{
    ppool *p = open_pool(1, 1);
    double secs[3] = {5, 5, 5};
    SH->started = 0;
    ppool_iter *it = ppool_imap(p, "sleep", secs, 3, sizeof secs[0]);
    while (SH->started < 1) usleep(1000);
    ppool_terminate(p);
    size_t idx;
    ppool_buf r;
    ASSERT_EQ(ppool_iter_next(it, &idx, &r, 5), PPOOL_ECLOSED);
    ASSERT_EQ(ppool_iter_next(it, &idx, &r, 5), PPOOL_EDONE);
    ppool_iter_free(it);
    ppool_free(p);
}

/* A child the application forks holds copies of every descriptor: join and
 * free must still end the workers (Shutdown frames, and the server's QUIT). */
static void app_forked_child(void)
{
    ppool *p = open_pool(2, 1);
    int pids[2];
    worker_pids(p, pids);
    pid_t child = fork();
    if (child == 0) {
        sleep_s(3);
        _exit(0);
    }
    ASSERT_OK(ppool_close(p), p);
    ASSERT_OK(ppool_join(p), p);
    ppool_free(p);
    for (int i = 0; i < 2; i++) ASSERT_TRUE(h_pid_gone(pids[i]));
    kill(child, SIGKILL);
    ASSERT_EQ(waitpid(child, NULL, 0), child);
    ASSERT_TRUE(h_no_children());
}

/* ppool_free from one thread while another is blocked in ppool_map: the map
 * fails with PPOOL_ECLOSED and nothing is used after it is freed. */
static ppool *shared_pool;
static int map_rc = 1;
static void *long_map(void *arg)
{
    double secs[4] = {5, 5, 5, 5};
    int out[4];
    map_rc = ppool_map(shared_pool, "sleep", secs, 4, sizeof secs[0], out, sizeof out[0]);
    return NULL;
}

static void free_during_map(void)
{
    shared_pool = open_pool(2, 1);
    SH->started = 0;
    pthread_t t;
    ASSERT_EQ(pthread_create(&t, NULL, long_map, NULL), 0);
    while (SH->started < 2) usleep(1000);
    ppool_free(shared_pool);
    pthread_join(t, NULL);
    ASSERT_EQ(map_rc, PPOOL_ECLOSED);
    ASSERT_TRUE(h_no_children());
}

int main(void)
{
    tasks_register();
    RUN(close_join);
    RUN(terminate_busy);
    RUN(terminate_lists_undone);
    RUN(free_open_pool);
    RUN(iter_terminated);
    RUN(app_forked_child);
    RUN(free_during_map);
    return 0;
}

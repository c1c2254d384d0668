/* test_lost.c: under mpirun --enable-recovery, a worker rank that dies mid-map is detected by its
 * silence, its items re-run on the other ranks, and the map finishes with exact results. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <ppool.h>

#include "harness.h"

/* long -> long; the last rank kills itself at its 20th item */
static int square_or_die(ppool_task *t, const void *arg, size_t len)
{
    static int runs;
    long x = *(const long *)arg, r = x * x;
    const char *rank = getenv("OMPI_COMM_WORLD_RANK"), *size = getenv("OMPI_COMM_WORLD_SIZE");
    if (++runs == 20 && rank && size && atoi(rank) == atoi(size) - 1) raise(SIGKILL);
    usleep(1000);
    return ppool_task_return(t, &r, sizeof r);
}

static void slow_callback(ppool_async *a, void *user)
{
    sleep(4); /* the dispatcher is away for longer than the loss limit */
}

/* A master away in a long callback loses no rank (its own absence is no rank's silence). */
static void master_away(ppool *p)
{
    long x = 3, r[1];
    ppool_async *a = ppool_apply_async(p, "square_or_die", &x, sizeof x);
    ppool_async_on_done(a, slow_callback, NULL);
    ASSERT_OK(ppool_async_wait(a, -1), p);
    ppool_async_free(a);
    ASSERT_OK(ppool_map(p, "square_or_die", &x, 1, sizeof x, r, sizeof r[0]), p);
    ASSERT_EQ(r[0], 9);
}

int main(void)
{
    setenv("PPOOL_LOST_AFTER", "3", 1); /* seconds of silence (6 missed beats): lost */
    ASSERT_OK(ppool_register("square_or_die", square_or_die), NULL);
    ppool_opts o = PPOOL_OPTS_INIT;
    o.chunksize = 1;
    o.retries = 1;
    ppool *p;
    int rc = ppool_open(&p, &o);
    if (rc == PPOOL_WORKER) return 0;
    ASSERT_OK(rc, NULL);
    master_away(p);
    ASSERT_EQ(ppool_size(p), 3);
    enum { N = 600 };
    long in[N], out[N];
    for (long i = 0; i < N; i++) in[i] = i;
    ASSERT_OK(ppool_map(p, "square_or_die", in, N, sizeof in[0], out, sizeof out[0]), p);
    for (long i = 0; i < N; i++) ASSERT_EQ(out[i], i * i);
    ppool_free(p);
    printf("test_lost: ok\n");
    return 0;
}

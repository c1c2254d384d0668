/* test_many.c: one map over 32 worker ranks (33 processes, oversubscribed) gives exact results,
 * and every worker rank takes part. */
#include <stdio.h>
#include <unistd.h>

#include <ppool.h>

#include "harness.h"

static int who(ppool_task *t, const void *arg, size_t len)
{
    long x = *(const long *)arg, r[2] = {x * x + 1, getpid()};
    return ppool_task_return(t, r, sizeof r);
}

int main(void)
{
    ASSERT_OK(ppool_register("who", who), NULL);
    ppool_opts o = PPOOL_OPTS_INIT;
    o.chunksize = 4; /* small chunks, so every rank gets some */
    ppool *p;
    int rc = ppool_open(&p, &o);
    if (rc == PPOOL_WORKER) return 0;
    ASSERT_OK(rc, NULL);
    ASSERT_STREQ(ppool_transport(p), "mpi");
    int n = ppool_size(p);
    enum { N = 20000 };
    static long in[N], out[N][2];
    for (long i = 0; i < N; i++) in[i] = i;
    ASSERT_OK(ppool_map(p, "who", in, N, sizeof in[0], out, sizeof out[0]), p);
    int pids[64], npids = 0;
    for (long i = 0; i < N; i++) {
        ASSERT_EQ(out[i][0], i * i + 1);
        int k = 0;
        while (k < npids && pids[k] != out[i][1]) k++;
        if (k == npids && npids < 64) pids[npids++] = (int)out[i][1];
    }
    printf("test_many: %d worker ranks, %d took part\n", n, npids);
    ASSERT_EQ(npids, n);
    ppool_free(p);
    return 0;
}

/* test_comm.c: ppool_open_comm on a 3-rank sub-communicator of 5 ranks; MPI goes on after. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include <ppool_mpi.h>

#include "harness.h"

static int square(ppool_task *t, const void *arg, size_t len)
{
    long x = *(const long *)arg, r = x * x;
    return ppool_task_return(t, &r, sizeof r);
}

/* Maps 1000 squares on the pool; the master checks every one. */
static void use_pool(MPI_Comm sub, int workers)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = workers;
    ppool *p;
    int rc = ppool_open_comm(&p, sub, &o);
    if (rc == PPOOL_WORKER) return;
    ASSERT_OK(rc, NULL);
    ASSERT_STREQ(ppool_transport(p), "mpi");
    ASSERT_EQ(ppool_size(p), workers ? workers : 2);
    long in[1000], out[1000];
    for (long i = 0; i < 1000; i++) in[i] = i;
    ASSERT_OK(ppool_map(p, "square", in, 1000, sizeof in[0], out, sizeof out[0]), p);
    for (long i = 0; i < 1000; i++) ASSERT_EQ(out[i], i * i);
    ppool_free(p);
}

int main(int argc, char **argv)
{
    int level, rank, size;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &level);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != 5) {
        fprintf(stderr, "run with 5 ranks\n");
        return 1;
    }
    ASSERT_OK(ppool_register("square", square), NULL);
    ASSERT_EQ(ppool_open_comm(NULL, MPI_COMM_WORLD, NULL), PPOOL_EINVAL);
    ppool *none;
    ASSERT_EQ(ppool_open_comm(&none, MPI_COMM_NULL, NULL), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "MPI_COMM_NULL");
    MPI_Comm sub; /* ranks 1, 2, 3 (ppool's master is sub's rank 0: world rank 1) */
    MPI_Comm_split(MPI_COMM_WORLD, rank >= 1 && rank <= 3 ? 0 : MPI_UNDEFINED, rank, &sub);
    if (sub != MPI_COMM_NULL) {
        use_pool(sub, 0); /* two pools in sequence on the same ranks */
        use_pool(sub, 1);
        /* the application's own communicator still works */
        int one = 1, n = 0;
        ASSERT_EQ(MPI_Allreduce(&one, &n, 1, MPI_INT, MPI_SUM, sub), MPI_SUCCESS);
        ASSERT_EQ(n, 3);
        MPI_Comm_free(&sub);
    }
    int r = rank, sum = 0;
    ASSERT_EQ(MPI_Allreduce(&r, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), MPI_SUCCESS);
    ASSERT_EQ(sum, 0 + 1 + 2 + 3 + 4);
    int fin = 0;
    MPI_Finalized(&fin);
    ASSERT_EQ(fin, 0); /* ppool never finalises what the application initialised */
    MPI_Finalize();
    if (rank == 0) printf("test_comm: ok\n");
    return 0;
}

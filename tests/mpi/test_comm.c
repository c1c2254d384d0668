/* test_comm.c: ppool_open_comm on a 3-rank sub-communicator of 5 ranks; MPI goes on after. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include <ppool_mpi.h>

#include "harness.h"
#include "sub_of_five.h"

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
    on_sub_of_five(rank, use_pool); /* workers = 0, then 1 */
    int fin = 0;
    MPI_Finalized(&fin);
    ASSERT_EQ(fin, 0); /* ppool never finalises what the application initialised */
    MPI_Finalize();
    if (rank == 0) printf("test_comm: ok\n");
    return 0;
}

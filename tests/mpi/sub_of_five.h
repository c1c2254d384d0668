/* sub_of_five.h: the MPI application around a pool on a sub-communicator: world ranks 1-3 of 5. */
#ifndef PPOOL_TEST_SUB_OF_FIVE_H
#define PPOOL_TEST_SUB_OF_FIVE_H

#include <mpi.h>

#include "harness.h"

/* Splits ranks 1, 2, 3 off MPI_COMM_WORLD (ppool's master: world rank 1), calls use(sub, 0) and
 * use(sub, 1) there (two pools in sequence on the same ranks), then checks that the application's
 * own communicators still work: an Allreduce on sub and one on MPI_COMM_WORLD. */
static void on_sub_of_five(int rank, void (*use)(MPI_Comm sub, int which))
{
    MPI_Comm sub;
    MPI_Comm_split(MPI_COMM_WORLD, rank >= 1 && rank <= 3 ? 0 : MPI_UNDEFINED, rank, &sub);
    if (sub != MPI_COMM_NULL) {
        use(sub, 0);
        use(sub, 1);
        int one = 1, n = 0;
        ASSERT_EQ(MPI_Allreduce(&one, &n, 1, MPI_INT, MPI_SUM, sub), MPI_SUCCESS);
        ASSERT_EQ(n, 3);
        MPI_Comm_free(&sub);
    }
    int r = rank, sum = 0;
    ASSERT_EQ(MPI_Allreduce(&r, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), MPI_SUCCESS);
    ASSERT_EQ(sum, 0 + 1 + 2 + 3 + 4);
}

#endif

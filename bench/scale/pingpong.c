/* pingpong.c: one-way MPI message time by size, to calibrate bench/scale/cluster.xml against this
 * machine. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

/* usage: mpirun -n 2 pingpong (or smpirun ... -np 2). One line per size: the one-way time. */
int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, peer;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    peer = 1 - rank;
    static const int sizes[] = {8, 256, 10240, 65536};
    char *b = calloc(1, 65536);
    for (int s = 0; s < 4 && b; s++) {
        int n = 2000, sz = sizes[s];
        double t = 0;
        for (int round = 0; round < 2; round++) { /* the first warms up */
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            for (int i = 0; i < n; i++) {
                if (rank == 0) MPI_Send(b, sz, MPI_BYTE, peer, 0, MPI_COMM_WORLD);
                MPI_Recv(b, sz, MPI_BYTE, peer, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                if (rank == 1) MPI_Send(b, sz, MPI_BYTE, peer, 0, MPI_COMM_WORLD);
            }
            t = (MPI_Wtime() - t0) / n / 2;
        }
        if (rank == 0) printf("pingpong bytes=%d one_way_us=%.2f\n", sz, t * 1e6);
    }
    free(b);
    MPI_Finalize();
    return 0;
}

/* open_comm.c: ppool_open_comm, the MPI face of ppool_open (built only with the MPI transport). */
#include "ppool_impl.h"
#include "ppool_mpi.h"

int ppool_open_comm(ppool **pool, MPI_Comm comm, const ppool_opts *opts)
{
    if (comm == MPI_COMM_NULL)
        return ppool__fail(NULL, PPOOL_EINVAL, "ppool_open_comm: comm is MPI_COMM_NULL");
    /* The communicator reaches the transport as an opaque place. */
    return ppool__open_top(pool, opts, "mpi", &comm);
}

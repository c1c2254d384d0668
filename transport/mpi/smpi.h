/* smpi.h: what the MPI transport needs under SimGrid's SMPI (PPOOL_SMPI builds only). */
#ifndef PPOOL_SMPI_H
#define PPOOL_SMPI_H

#include <mpi.h>

/* SMPI 3.32 aborts on MPI_Improbe and MPI_Mrecv ("Not yet implemented").
 * Its ranks are single-threaded actors, so an Iprobe and then a Recv of the
 * probed source and tag take the same message. */
typedef struct ppool__smpi_msg {
    int src, tag;
    MPI_Comm comm;
} ppool__smpi_msg;

static inline int ppool__smpi_improbe(int src, int tag, MPI_Comm c, int *flag, ppool__smpi_msg *m,
                                      MPI_Status *st)
{
    MPI_Status tmp;
    if (st == MPI_STATUS_IGNORE) st = &tmp;
    int rc = MPI_Iprobe(src, tag, c, flag, st);
    if (rc == MPI_SUCCESS && *flag) *m = (ppool__smpi_msg){st->MPI_SOURCE, st->MPI_TAG, c};
    return rc;
}

static inline int ppool__smpi_mrecv(void *b, int n, MPI_Datatype d, ppool__smpi_msg *m,
                                    MPI_Status *st)
{
    return MPI_Recv(b, n, d, m->src, m->tag, m->comm, st);
}

#define MPI_Message ppool__smpi_msg
#define MPI_Improbe ppool__smpi_improbe
#define MPI_Mrecv   ppool__smpi_mrecv

/* A simulated rank spins for this long (a simulated nap) between polls. */
#define PPOOL__SMPI_SPIN_NAP_US 10

#endif

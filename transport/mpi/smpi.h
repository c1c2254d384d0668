/* smpi.h: what the MPI transport needs under SimGrid's SMPI (PPOOL_SMPI builds only). */
#ifndef PPOOL_SMPI_H
#define PPOOL_SMPI_H

#include <mpi.h>
#include <stdlib.h>
#include <time.h>

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

/* What one message costs the CPU of the rank that sends or receives it, in
 * simulated seconds: PPOOL_SMPI_MSG_US (default 1 us, calibrated against
 * this machine: docs/scale.md), since ppool's own CPU time is not simulated.
 * A simulated nap, not smpi_execute: a rank is alone on its simulated host,
 * so both cost it the same simulated time, and SimGrid 3.32 searches a rank's
 * list of activities at each execution's end (not at a nap's). */
static inline void ppool__smpi_msg_cost(void)
{
    static double us = -1;
    if (us < 0) {
        const char *v = getenv("PPOOL_SMPI_MSG_US");
        us = v && *v ? atof(v) : 1.0;
        if (us < 0) us = 0;
    }
    if (us <= 0) return;
    struct timespec ts = {(time_t)(us * 1e-6), (long)(us * 1e3) % 1000000000L};
    smpi_nanosleep(&ts, NULL);
}

static inline int ppool__smpi_mrecv(void *b, int n, MPI_Datatype d, ppool__smpi_msg *m,
                                    MPI_Status *st)
{
    ppool__smpi_msg_cost();
    return MPI_Recv(b, n, d, m->src, m->tag, m->comm, st);
}

static inline int ppool__smpi_isend(const void *b, int n, MPI_Datatype d, int to, int tag,
                                    MPI_Comm c, MPI_Request *q)
{
    ppool__smpi_msg_cost();
    return MPI_Isend(b, n, d, to, tag, c, q);
}

static inline int ppool__smpi_send(const void *b, int n, MPI_Datatype d, int to, int tag,
                                   MPI_Comm c)
{
    ppool__smpi_msg_cost();
    return MPI_Send(b, n, d, to, tag, c);
}
#define MPI_Isend ppool__smpi_isend
#define MPI_Send  ppool__smpi_send

#define MPI_Message ppool__smpi_msg
#define MPI_Improbe ppool__smpi_improbe
#define MPI_Mrecv   ppool__smpi_mrecv

/* A simulated rank spins for this long (a simulated nap) between polls. */
#define PPOOL__SMPI_SPIN_NAP_US 10

#endif

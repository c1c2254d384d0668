/* sends.c: MPI sends in flight (the master's, a rank's results): owned or borrowed, reaped with
 * MPI_Testsome. */
#include <stdlib.h>

#include "mpi_impl.h"
#include "ppool.h"

static int grow(ppool__mpi_sends *o)
{
    if (o->n < o->cap) return 0;
    int cap = o->cap ? 2 * o->cap : 64;
    MPI_Request *r = realloc(o->req, sizeof *r * (size_t)cap);
    if (r) o->req = r;
    ppool__mpi_send *s = r ? realloc(o->s, sizeof *s * (size_t)cap) : NULL;
    if (s) o->s = s;
    int *x = s ? realloc(o->idx, sizeof *x * (size_t)cap) : NULL;
    if (x) o->idx = x;
    if (!x) return PPOOL_ENOMEM;
    o->cap = cap;
    return 0;
}

/* Starts an Isend; `own` says whether buf is freed when it completes. */
static int start(ppool__mpi_sends *o, MPI_Comm comm, int rank, const void *buf, int count,
                 MPI_Datatype type, int tag, int own)
{
    if (grow(o) || MPI_Isend(buf, count, type, rank, tag, comm, &o->req[o->n]) != MPI_SUCCESS) {
        if (own) free((void *)buf);
        return PPOOL_ETRANSPORT;
    }
    o->s[o->n++] = (ppool__mpi_send){.buf = own ? (void *)buf : NULL, .rank = rank, .lent = !own};
    return 0;
}

int ppool__mpi_isend(ppool__mpi_sends *o, MPI_Comm comm, int rank, void *buf, int count,
                     MPI_Datatype type, int tag)
{
    return start(o, comm, rank, buf, count, type, tag, 1);
}

int ppool__mpi_lend(ppool__mpi_sends *o, MPI_Comm comm, int rank, const void *buf, int count,
                    int tag)
{
    return start(o, comm, rank, buf, count, MPI_BYTE, tag, 0);
}

/* Drops entry i (its request is done or let go of), keeping the order of the others. */
static void drop(ppool__mpi_sends *o, int keep_buf)
{
    int k = 0;
    for (int i = 0; i < o->n; i++) {
        if (o->req[i] == MPI_REQUEST_NULL) {
            if (!keep_buf) free(o->s[i].buf);
            continue;
        }
        o->req[k] = o->req[i];
        o->s[k++] = o->s[i];
    }
    o->n = k;
}

void ppool__mpi_reap(ppool__mpi_sends *o)
{
    int done = 0;
    if (o->n == 0 ||
        MPI_Testsome(o->n, o->req, &done, o->idx, MPI_STATUSES_IGNORE) != MPI_SUCCESS ||
        done == MPI_UNDEFINED || done == 0)
        return;
    drop(o, 0);
}

int ppool__mpi_lent_to(const ppool__mpi_sends *o, int rank)
{
    for (int i = 0; i < o->n; i++)
        if (o->s[i].lent && (rank < 0 || o->s[i].rank == rank)) return o->s[i].rank;
    return 0;
}

void ppool__mpi_let_go(ppool__mpi_sends *o, int rank)
{
    for (int i = 0; i < o->n; i++)
        if (rank < 0 || o->s[i].rank == rank) MPI_Request_free(&o->req[i]);
    drop(o, 1); /* a request let go of may still read its buffer: that buffer is kept */
}

void ppool__mpi_settle(ppool__mpi_sends *o)
{
    ppool__mpi_reap(o);
    ppool__mpi_let_go(o, -1); /* to ranks that left without taking them: never complete */
    free(o->req);
    free(o->s);
    free(o->idx);
    *o = (ppool__mpi_sends){0};
}

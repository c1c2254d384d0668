/* ppool_mpi.h: ppool's MPI entry points, installed only when the MPI transport is built. */
#ifndef PPOOL_MPI_H
#define PPOOL_MPI_H

#include <mpi.h>

#include "ppool.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @addtogroup ppool
 *  @{ */

/** Opens a pool on the ranks of `comm` (collective over it): rank 0 of comm
 *  is the master and gets the pool (returns 0), the others serve as workers
 *  until the master frees it and then return PPOOL_WORKER. The pool works on
 *  its own duplicate of comm, so the application goes on using comm (and
 *  every other communicator) normally before and after. MPI is initialised
 *  only if it is not yet (then ppool finalises it at exit), and needs
 *  MPI_THREAD_FUNNELED or higher: below MPI_THREAD_MULTIPLE the pool has no
 *  dispatcher thread and progresses only inside calls to it, on the calling
 *  thread (callbacks too). opts.workers (0: all) may use fewer
 *  ranks than comm has. @return 0, PPOOL_WORKER, or a negative error
 *  (ppool_errmsg(NULL) says why). */
PPOOL_API int ppool_open_comm(ppool **pool, MPI_Comm comm, const ppool_opts *opts);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* PPOOL_MPI_H */

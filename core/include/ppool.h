/* ppool.h: the one public header of ppool, a process pool for C (never includes <mpi.h>). */
#ifndef PPOOL_H
#define PPOOL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @defgroup ppool ppool: a process pool for C
 *  Python's multiprocessing.Pool for C programs: the same program runs on
 *  forked local workers or, under mpirun, with one MPI rank per worker.
 *  @{ */

/** Version of this header (ppool_version() gives the library's). */
#define PPOOL_VERSION_MAJOR  0
#define PPOOL_VERSION_MINOR  1
#define PPOOL_VERSION_PATCH  0
#define PPOOL_VERSION_STRING "0.1.0"

#if defined(_WIN32)
#define PPOOL_API
#else
#define PPOOL_API __attribute__((visibility("default")))
#endif

/** Every error code, with its message. 0 (or a count >= 0) is success; a
 *  negative value is one of these. The table generates the enum and
 *  ppool_strerror(). */
#define PPOOL_ERRNO_MAP(XX)                                                                        \
    XX(EINVAL, -1, "invalid argument")                                                             \
    XX(ENOMEM, -2, "out of memory")                                                                \
    XX(ETASK, -3, "task failed")                                                                   \
    XX(EWORKER, -4, "worker died")                                                                 \
    XX(ETIMEDOUT, -5, "timed out")                                                                 \
    XX(ECLOSED, -6, "pool is closed")                                                              \
    XX(ENOFUNC, -7, "no such registered function")                                                 \
    XX(EPROTO, -8, "protocol error: bad frame")                                                    \
    XX(ETRANSPORT, -9, "transport error")                                                          \
    XX(EDONE, -10, "no more results")                                                              \
    XX(ESYS, -11, "system call failed")

/** Error codes (negative). */
enum ppool_errno {
#define PPOOL__ERR_ENUM(name, val, msg) PPOOL_##name = (val),
    PPOOL_ERRNO_MAP(PPOOL__ERR_ENUM)
#undef PPOOL__ERR_ENUM
};

/** ppool_open() returns this on a process that served as a worker (MPI ranks > 0). */
#define PPOOL_WORKER 1

/** Flags for ppool_opts.flags. */
#define PPOOL_PROGRESS 0x1u /**< draw a progress bar of long maps on stderr */
#define PPOOL_STATS    0x2u /**< print per-worker statistics on stderr at ppool_free() */
#define PPOOL_NO_RETRIES                                                                           \
    0x4u /**< an item whose worker died fails at once (PPOOL_EWORKER) instead of re-running */

typedef struct ppool ppool;             /**< a pool (opaque) */
typedef struct ppool_async ppool_async; /**< an asynchronous result, like AsyncResult */
typedef struct ppool_iter ppool_iter;   /**< an iterator over results, like imap's */
typedef struct ppool_task ppool_task;   /**< handed to task functions */
typedef struct ppool_buf {
    void *data;
    size_t len;
} ppool_buf; /**< a byte buffer */

/** A task function runs in a worker on one item. It returns 0 on success
 *  (the result is what it passed to ppool_task_return(), empty if nothing),
 *  or a negative value to fail the item (see ppool_task_fail()). */
typedef int (*ppool_fn)(ppool_task *task, const void *arg, size_t len);

/** Sets the result of the running item (copied; a later call replaces it).
 *  @return 0, or PPOOL_EINVAL / PPOOL_ENOMEM. */
PPOOL_API int ppool_task_return(ppool_task *task, const void *data, size_t len);

/** Fails the running item with a printf-style message; returns PPOOL_ETASK
 *  so a task can `return ppool_task_fail(t, "bad %d", x);`. */
PPOOL_API int ppool_task_fail(ppool_task *task, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Index of the running item within its map (0 for apply). */
PPOOL_API size_t ppool_task_index(const ppool_task *task);

/** Registers a task function under a name, in every process, before
 *  ppool_open() (a pool's workers know the names registered before it was
 *  opened). @return 0, or PPOOL_EINVAL (NULL or too long a name, NULL fn, a
 *  name already registered, or a pool open in this process: register
 *  between pools, not while one is open). Thread-safe. */
PPOOL_API int ppool_register(const char *name, ppool_fn fn);

/** Options of ppool_open(). A zero field means the default; fields are only
 *  ever appended. */
typedef struct ppool_opts {
    int workers;           /**< 0: PPOOL_WORKERS, else usable cores (local) / MPI size-1 */
    const char *transport; /**< NULL|"auto", "local", "mpi" (or PPOOL_TRANSPORT) */
    const char *bind;      /**< NULL|"auto", "core", "pu", "numa", "none" (or PPOOL_BIND) */
    size_t chunksize;      /**< items per chunk, honoured exactly; 0: PPOOL_CHUNKSIZE or adaptive */
    const char *initializer; /**< registered function run once per worker before its tasks */
    const void *initarg;     /**< its argument (copied at open) */
    size_t initarg_len;
    unsigned maxtasksperchild; /**< items a worker runs before it is replaced; 0: unlimited */
    unsigned retries;          /**< re-runs of an item whose worker died; 0: PPOOL_RETRIES, else 3
                                    (none: PPOOL_RETRIES=0 or the flag PPOOL_NO_RETRIES) */
    double task_timeout;       /**< seconds one item may run (the master's deadline): then it fails
                                    PPOOL_ETIMEDOUT and a local worker is killed and replaced; 0: none */
    unsigned flags;            /**< PPOOL_PROGRESS, PPOOL_STATS, PPOOL_NO_RETRIES */
    /* appended after 0.1.0 */
    const char *start;   /**< how local workers start: NULL|"auto"|"fork" (a fork server forked at
                              open: fastest, inherits the program's state then) or "spawn" (each
                              worker runs the program again, which serves when it reaches
                              ppool_open and gets PPOOL_WORKER); or PPOOL_START */
    const char *journal; /**< a file where the master records every finished item (or
                              PPOOL_JOURNAL): run again with the same journal, every call takes
                              the items found there (same function, same input bytes) from it
                              and runs only the rest; failed items run again
                              (PPOOL_JOURNAL_FAILED=keep: they stay failed). NULL: none */
} ppool_opts;
#define PPOOL_OPTS_INIT                                                                            \
    {                                                                                              \
        0                                                                                          \
    }

/** Opens a pool. NULL opts means all defaults.
 *  @return 0 on the master (*pool set), PPOOL_WORKER on a process that served
 *  as a worker (MPI ranks > 0, spawned workers), or a negative error
 *  (ppool_errmsg(NULL) says why). */
PPOOL_API int ppool_open(ppool **pool, const ppool_opts *opts);
/** Number of workers. */
PPOOL_API int ppool_size(const ppool *pool);
/** "local" or "mpi". */
PPOOL_API const char *ppool_transport(const ppool *pool);

/** Runs fn on each of n items of in_size bytes at `in`; item i's result,
 *  exactly out_size bytes, lands at out + i*out_size. Blocks until all are
 *  done. A failed item's out_size bytes are zeroed; ppool_map_failed() lists
 *  every failed item. @return 0, or the error of the lowest failed item
 *  (PPOOL_ETASK, PPOOL_EWORKER, PPOOL_ETIMEDOUT...) with ppool_errmsg()
 *  naming it. */
PPOOL_API int ppool_map(ppool *p, const char *fn, const void *in, size_t n, size_t in_size,
                        void *out, size_t out_size);
/** Like ppool_map() over variable-sized items; out[i] gets a malloc'd result
 *  owned by the caller (ppool_buf_free), {NULL,0} for a failed item. */
PPOOL_API int ppool_map_bufs(ppool *p, const char *fn, const ppool_buf *in, size_t n,
                             ppool_buf *out);
/** Every failed item of the last ppool_map() or ppool_map_bufs() the calling
 *  thread made on p: writes the first `cap` of them, lowest index first, to
 *  index[] and their error codes to status[] (either may be NULL).
 *  @return how many items failed (0 after a map that succeeded). */
PPOOL_API size_t ppool_map_failed(const ppool *p, size_t *index, int *status, size_t cap);
/** The same for a ppool_map_async() result (so far, or all once it is done). */
PPOOL_API size_t ppool_async_failed(const ppool_async *a, size_t *index, int *status, size_t cap);

/** Runs fn once on arg; *out (may be NULL) gets a result owned by the caller. */
PPOOL_API int ppool_apply(ppool *p, const char *fn, const void *arg, size_t len, ppool_buf *out);
/** Asynchronous apply; arg is copied. NULL on error (ppool_errmsg says why). */
PPOOL_API ppool_async *ppool_apply_async(ppool *p, const char *fn, const void *arg, size_t len);
/** Asynchronous map; `in` and `out` must stay valid until the result is done
 *  or freed. NULL on error. */
PPOOL_API ppool_async *ppool_map_async(ppool *p, const char *fn, const void *in, size_t n,
                                       size_t in_size, void *out, size_t out_size);
/** Results in input order, as they become ready; `in` stays valid until the
 *  iterator is freed. NULL on error. */
PPOOL_API ppool_iter *ppool_imap(ppool *p, const char *fn, const void *in, size_t n,
                                 size_t in_size);
/** Results in completion order, each index once. NULL on error. */
PPOOL_API ppool_iter *ppool_imap_unordered(ppool *p, const char *fn, const void *in, size_t n,
                                           size_t in_size);
/** Next result. *result belongs to the iterator until the next call.
 *  @return 0, the item's error (with *index set; the iteration goes on),
 *  PPOOL_EDONE at the end, or PPOOL_ETIMEDOUT (negative timeout: forever). */
PPOOL_API int ppool_iter_next(ppool_iter *it, size_t *index, ppool_buf *result, double timeout);
/** Frees an iterator; work not yet dispatched is cancelled. NULL is fine. */
PPOOL_API void ppool_iter_free(ppool_iter *it);

/** @return 0 when done, PPOOL_ETIMEDOUT, or PPOOL_EINVAL. */
PPOOL_API int ppool_async_wait(ppool_async *a, double timeout);
/** @return 1 when done, 0 if not. */
PPOOL_API int ppool_async_ready(const ppool_async *a);
/** Waits, then returns the status; *result (may be NULL) belongs to the
 *  async result (valid until ppool_async_free). For map_async, the results
 *  are in the caller's `out` and *result is empty. */
PPOOL_API int ppool_async_get(ppool_async *a, ppool_buf *result, double timeout);
/** Message of a failed result, NULL if none. */
PPOOL_API const char *ppool_async_error(const ppool_async *a);
/** Runs cb exactly once when the result is done: on the pool's dispatcher
 *  thread, or at once on the caller's thread if it already is. cb must not
 *  block; it may call ppool_async_get() and ppool_async_free() and submit
 *  asynchronous work. On the dispatcher thread, the calls that would wait
 *  (ppool_map, ppool_map_bufs, ppool_apply, ppool_async_wait/get and
 *  ppool_iter_next on unfinished work with a timeout other than 0,
 *  ppool_join, ppool_terminate) fail at once with PPOOL_EINVAL, and
 *  ppool_free does nothing. */
PPOOL_API void ppool_async_on_done(ppool_async *a, void (*cb)(ppool_async *, void *), void *user);
/** Frees an async result; work not yet dispatched is cancelled. NULL is fine. */
PPOOL_API void ppool_async_free(ppool_async *a);

/** No new work; outstanding work goes on. */
PPOOL_API int ppool_close(ppool *p);
/** After ppool_close(): waits for outstanding work, stops the workers. */
PPOOL_API int ppool_join(ppool *p);
/** Stops workers now (local: SIGKILL; MPI: ranks are not waited for); outstanding work fails
 *  with PPOOL_ECLOSED. */
PPOOL_API int ppool_terminate(ppool *p);
/** Terminates if still running and releases the pool. NULL is fine. A
 *  pool freed already is ignored (caught while its memory is not reused:
 *  any other use of a freed pool is undefined). From a completion callback
 *  (the pool's dispatcher thread) it does nothing and the pool stays open. */
PPOOL_API void ppool_free(ppool *p);

/** Message of an error code. */
PPOOL_API const char *ppool_strerror(int err);
/** Name of an error code ("PPOOL_ETASK"). */
PPOOL_API const char *ppool_errname(int err);
/** Detail of the last failure on this pool seen by the calling thread (or
 *  of the last ppool_open/register failure when p is NULL); "" if none. */
PPOOL_API const char *ppool_errmsg(const ppool *p);
/** Usable cores: hwloc, affinity and cgroup (cpuset and CPU quota) aware. */
PPOOL_API int ppool_cpu_count(void);
/** Frees a buffer's data and empties it. NULL is fine. */
PPOOL_API void ppool_buf_free(ppool_buf *b);
/** "0.1.0". */
PPOOL_API const char *ppool_version(void);

/** Per-call chunk size, as multiprocessing's `chunksize` argument: each of
 *  these is the call without the suffix, sending `chunksize` items per chunk
 *  for this call only (honoured exactly; 0: the pool's ppool_opts.chunksize,
 *  PPOOL_CHUNKSIZE or adaptive). One pool may run `ppool_map_chunked(...,
 *  100)` beside `ppool_imap_chunked(..., 1)`. */
PPOOL_API int ppool_map_chunked(ppool *p, const char *fn, const void *in, size_t n, size_t in_size,
                                void *out, size_t out_size, size_t chunksize);
/** ppool_map_bufs() with a per-call chunk size (see ppool_map_chunked()). */
PPOOL_API int ppool_map_bufs_chunked(ppool *p, const char *fn, const ppool_buf *in, size_t n,
                                     ppool_buf *out, size_t chunksize);
/** ppool_map_async() with a per-call chunk size (see ppool_map_chunked()). */
PPOOL_API ppool_async *ppool_map_async_chunked(ppool *p, const char *fn, const void *in, size_t n,
                                               size_t in_size, void *out, size_t out_size,
                                               size_t chunksize);
/** ppool_imap() with a per-call chunk size (see ppool_map_chunked()). */
PPOOL_API ppool_iter *ppool_imap_chunked(ppool *p, const char *fn, const void *in, size_t n,
                                         size_t in_size, size_t chunksize);
/** ppool_imap_unordered() with a per-call chunk size (see ppool_map_chunked()). */
PPOOL_API ppool_iter *ppool_imap_unordered_chunked(ppool *p, const char *fn, const void *in,
                                                   size_t n, size_t in_size, size_t chunksize);

/** Streaming input: returns 1 with an item, 0 at the end, < 0 on error; the
 *  item's bytes stay valid until the following call. Called on the pool's
 *  dispatcher thread, only as workers need items; it must not call ppool. */
typedef int (*ppool_source)(void *user, const void **item, size_t *len);
/** imap over a source: memory stays bounded whatever the input's size. */
PPOOL_API ppool_iter *ppool_imap_source(ppool *p, const char *fn, ppool_source next, void *user,
                                        int ordered);

/** @} */

#ifdef __cplusplus
}
#endif
#endif /* PPOOL_H */

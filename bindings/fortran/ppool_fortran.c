/* ppool_fortran.c: the Fortran binding's C shims: what iso_c_binding cannot call or build. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <ppool.h>

/* ppool_task_fail() is variadic, which Fortran cannot call portably: the
 * message comes as len bytes (not NUL-terminated) and is passed through "%.*s". */
int ppool_f_task_fail(ppool_task *task, const char *msg, size_t len)
{
    if (!msg) msg = "", len = 0;
    return ppool_task_fail(task, "%.*s", len > INT_MAX ? INT_MAX : (int)len, msg);
}

/* The binding's own failures (an output array too small for a map, a type it
 * does not map) have no place in the library's per-thread message: they are
 * noted here, for this thread and this pool, until its next call on a pool. */
static __thread const ppool *note_pool;
static __thread char note[256];
static __thread int noted;

/* Notes msg (len bytes) as this thread's last failure on p; returns err. */
int ppool_f_note(const ppool *p, int err, const char *msg, size_t len)
{
    snprintf(note, sizeof note, "%.*s", len > INT_MAX ? INT_MAX : (int)len, msg ? msg : "");
    note_pool = p;
    noted = 1;
    return err;
}

/* Opens a pool from scalar options (strings NUL-terminated or NULL), so the
 * Fortran side never mirrors the layout of ppool_opts. Counts must be >= 0. */
int ppool_f_open(ppool **pool, int workers, const char *transport, const char *bind,
                 long long chunksize, const char *initializer, const void *initarg,
                 size_t initarg_len, int maxtasksperchild, int retries, double task_timeout,
                 int flags, const char *start)
{
    if (chunksize < 0 || maxtasksperchild < 0 || retries < 0) {
        const char m[] = "chunksize, maxtasksperchild and retries must not be negative";
        return ppool_f_note(NULL, PPOOL_EINVAL, m, sizeof m - 1);
    }
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = workers;
    o.transport = transport;
    o.bind = bind;
    o.chunksize = (size_t)chunksize;
    o.initializer = initializer;
    o.initarg = initarg;
    o.initarg_len = initarg_len;
    o.maxtasksperchild = (unsigned)maxtasksperchild;
    o.retries = (unsigned)retries;
    o.task_timeout = task_timeout;
    o.flags = (unsigned)flags;
    o.start = start;
    return ppool_open(pool, &o);
}

/* Forgets the note: every call of the binding on a pool starts with this. */
void ppool_f_forget(void)
{
    noted = 0;
}

/* The note where this thread's last failure on p was the binding's, else ppool_errmsg(p). */
const char *ppool_f_errmsg(const ppool *p)
{
    return noted && note_pool == p ? note : ppool_errmsg(p);
}

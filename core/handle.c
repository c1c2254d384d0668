/* handle.c: what every call on a pool shares: submission checks, new jobs, handles. */
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "ppool_impl.h"

ppool__job *ppool__job_open(ppool *p, int kind, const char *fn, int *rc)
{
    if (!p) {
        *rc = ppool__fail(NULL, PPOOL_EINVAL, "NULL pool");
        return NULL;
    }
    ppool__job *j = calloc(1, sizeof *j);
    if (!j) {
        *rc = ppool__fail(p, PPOOL_ENOMEM, "out of memory for a job");
        return NULL;
    }
    pthread_mutex_lock(&p->mu);
    *rc = ppool__check_submit(p, fn);
    if (*rc) {
        pthread_mutex_unlock(&p->mu);
        free(j);
        return NULL;
    }
    j->pool = p;
    j->kind = kind;
    j->refs = 2; /* the caller's handle and the scheduler */
    ppool__strlcpy(j->fn, fn, sizeof j->fn);
    j->chunksize = p->o.chunksize;
    j->err_index = SIZE_MAX;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cond, &ca);
    pthread_condattr_destroy(&ca);
    return j;
}

ppool__job *ppool__handle_submit(ppool__job *j)
{
    ppool *p = j->pool;
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
    ppool__job_submit(p, j);
    pthread_mutex_unlock(&p->mu);
    return j;
}

void ppool__handle_release(ppool__job *j)
{
    ppool *p = j->pool;
    if (ppool__foreign(p, "free")) return; /* the parent's: left alone */
    pthread_mutex_lock(&p->mu);
    int lent = j->inflight > 0;
    ppool__job_abandon(j); /* first: nothing more of it is sent */
    /* The caller may free its input once this returns: nothing may borrow it. */
    if (lent) ppool__flush_borrowed(p);
    ppool__job_unref(j);
    pthread_mutex_unlock(&p->mu);
    ppool__pool_unref(p);
}

int ppool__check_submit(ppool *p, const char *fn)
{
    if (!fn) return ppool__fail(p, PPOOL_EINVAL, "NULL function name");
    if (p->broken[0])
        return ppool__fail(p, PPOOL_ETRANSPORT, "'%s': the pool cannot work: %s", fn, p->broken);
    if (p->state != POOL_OPEN)
        return ppool__fail(p, PPOOL_ECLOSED, "'%s': the pool is closed to new work", fn);
    if (!ppool__alive(p))
        return ppool__fail(p, PPOOL_EWORKER, "'%s': no worker is left in this pool (%s)", fn,
                           p->errmsg);
    if (!ppool__registry_find(&p->reg, fn))
        return ppool__fail(
            p, PPOOL_ENOFUNC,
            "'%s' is not registered (register it in every process before ppool_open)", fn);
    return 0;
}

int ppool__check_array(const ppool *p, const char *fn, const void *in, size_t n, size_t in_size,
                       const void *out, size_t out_size)
{
    if (ppool__check_pool(p, fn ? fn : "submit")) return PPOOL_EINVAL;
    if (!fn) return ppool__fail(p, PPOOL_EINVAL, "NULL function name");
    if (n && !in) return ppool__fail(p, PPOOL_EINVAL, "'%s': NULL input for %zu items", fn, n);
    if (n && out_size && !out)
        return ppool__fail(p, PPOOL_EINVAL, "'%s': NULL output for %zu items of %zu bytes", fn, n,
                           out_size);
    if ((in_size && n > SIZE_MAX / in_size) || (out_size && n > SIZE_MAX / out_size))
        return ppool__fail(p, PPOOL_EINVAL, "'%s': %zu items overflow the address space", fn, n);
    return n ? ppool__check_item_size(p, fn, 0, in_size) : 0;
}

int ppool__check_item_size(const ppool *p, const char *fn, size_t index, size_t len)
{
    if (len <= PPOOL__MAX_ITEM) return 0;
    return ppool__fail(p, PPOOL_EINVAL,
                       "'%s': item %zu has %zu bytes, over the %u-byte limit of an item (half "
                       "the 1 GiB frame limit)",
                       fn, index, len, PPOOL__MAX_ITEM);
}

int ppool__check_arg(const ppool *p, const char *fn, const void *arg, size_t len)
{
    return ppool__check_array(p, fn, arg, len ? 1 : 0, len, NULL, 0);
}

/* Before sleeping on the condition, a waiter watches j->finished for up to
 * PPOOL__WAIT_SPIN with p->mu released: a result that comes within
 * microseconds (a short apply) then costs no futex wake-up. */
static void spin_for(ppool *p, ppool__job *j)
{
    pthread_mutex_unlock(&p->mu);
    double until = ppool__now() + PPOOL__WAIT_SPIN;
    while (!__atomic_load_n(&j->finished, __ATOMIC_ACQUIRE) && ppool__now() < until) sched_yield();
    pthread_mutex_lock(&p->mu);
}

int ppool__job_wait(ppool__job *j)
{
    ppool *p = j->pool;
    if (!j->finished) spin_for(p, j);
    while (!j->finished) ppool__cond_wait(p, &j->cond, -1);
    int rc = j->status;
    if (rc) ppool__fail(p, rc, "%s", j->err ? j->err : ppool_strerror(rc));
    return rc;
}

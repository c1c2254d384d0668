/* async.c: asynchronous results: apply_async, map_async, wait, ready, get, callbacks. */
#include <stdlib.h>
#include <string.h>

#include "ppool_impl.h"

#define JOB(a) ((ppool__job *)(a))

ppool_async *ppool_apply_async(ppool *p, const char *fn, const void *arg, size_t len)
{
    if (ppool__check_arg(p, fn, arg, len)) return NULL;
    void *copy = malloc(len ? len : 1);
    if (!copy) {
        ppool__fail(p, PPOOL_ENOMEM, "'%s': out of memory copying a %zu-byte argument", fn, len);
        return NULL;
    }
    if (len) memcpy(copy, arg, len);
    int rc;
    ppool__job *j = ppool__job_open(p, JOB_APPLY, fn, &rc);
    if (!j) {
        free(copy);
        return NULL;
    }
    j->arg = copy;
    j->arg_len = len;
    j->n = 1;
    return (ppool_async *)ppool__handle_submit(j);
}

ppool_async *ppool_map_async(ppool *p, const char *fn, const void *in, size_t n, size_t in_size,
                             void *out, size_t out_size)
{
    return ppool_map_async_chunked(p, fn, in, n, in_size, out, out_size, 0);
}

ppool_async *ppool_map_async_chunked(ppool *p, const char *fn, const void *in, size_t n,
                                     size_t in_size, void *out, size_t out_size, size_t chunksize)
{
    if (ppool__check_array(p, fn, in, n, in_size, out, out_size)) return NULL;
    int rc;
    ppool__job *j = ppool__job_open(p, JOB_MAP, fn, &rc);
    if (!j) return NULL;
    j->in = in;
    j->in_size = in_size;
    j->n = n;
    j->out = out;
    j->out_size = out_size;
    if (chunksize) j->chunksize = chunksize;
    return (ppool_async *)ppool__handle_submit(j);
}

/* Waits under the lock for the job to finish; 0, PPOOL_ETIMEDOUT, or
 * PPOOL_EINVAL on the dispatcher thread (it would wait for itself). */
static int wait_locked(ppool__job *j, double timeout, const char *what)
{
    if (!ppool__job_done(j) && timeout != 0 && ppool__on_dispatcher(j->pool, what))
        return PPOOL_EINVAL;
    double deadline = ppool__deadline(timeout);
    while (!ppool__job_done(j))
        if (ppool__cond_wait(j->pool, &j->cond, deadline) == PPOOL_ETIMEDOUT && !ppool__job_done(j))
            return ppool__fail(j->pool, PPOOL_ETIMEDOUT, "'%s': not done within %g s", j->fn,
                               timeout);
    return 0;
}

int ppool_async_wait(ppool_async *a, double timeout)
{
    if (!a) return ppool__fail(NULL, PPOOL_EINVAL, "ppool_async_wait: NULL result");
    ppool__job *j = JOB(a);
    if (ppool__foreign(j->pool, "ppool_async_wait") ||
        ppool__check_timeout(j->pool, "ppool_async_wait", timeout))
        return PPOOL_EINVAL;
    pthread_mutex_lock(&j->pool->mu);
    int rc = wait_locked(j, timeout, "ppool_async_wait");
    pthread_mutex_unlock(&j->pool->mu);
    return rc;
}

int ppool_async_ready(const ppool_async *a)
{
    if (!a) return 0;
    ppool__job *j = JOB(a);
    if (ppool__foreign(j->pool, "ppool_async_ready")) return 0;
    ppool *p = j->pool;
    pthread_mutex_lock(&p->mu);
    int r = ppool__job_done(j);
    if (!r && p->drive && !p->driving && !p->stopping) {
        p->drive(p, ppool__now()); /* inline: a poll is a pass that does not wait */
        r = ppool__job_done(j);
    }
    pthread_mutex_unlock(&p->mu);
    return r;
}

int ppool_async_get(ppool_async *a, ppool_buf *result, double timeout)
{
    if (result) *result = (ppool_buf){0};
    if (!a) return ppool__fail(NULL, PPOOL_EINVAL, "ppool_async_get: NULL result");
    ppool__job *j = JOB(a);
    if (ppool__foreign(j->pool, "ppool_async_get") ||
        ppool__check_timeout(j->pool, "ppool_async_get", timeout))
        return PPOOL_EINVAL;
    pthread_mutex_lock(&j->pool->mu);
    int rc = wait_locked(j, timeout, "ppool_async_get");
    if (rc == 0) {
        rc = j->status;
        if (rc)
            ppool__fail(j->pool, rc, "%s", j->err ? j->err : ppool_strerror(rc));
        else if (result)
            *result = j->result;
    }
    pthread_mutex_unlock(&j->pool->mu);
    return rc;
}

const char *ppool_async_error(const ppool_async *a)
{
    if (!a) return NULL;
    ppool__job *j = JOB(a);
    if (ppool__foreign(j->pool, "ppool_async_error")) return ppool_errmsg(j->pool);
    pthread_mutex_lock(&j->pool->mu);
    const char *e = j->finished && j->status ? (j->err ? j->err : ppool_strerror(j->status)) : NULL;
    pthread_mutex_unlock(&j->pool->mu);
    return e;
}

void ppool_async_on_done(ppool_async *a, void (*cb)(ppool_async *, void *), void *user)
{
    if (!a || !cb) return;
    ppool__job *j = JOB(a);
    if (ppool__foreign(j->pool, "ppool_async_on_done")) return;
    pthread_mutex_lock(&j->pool->mu);
    if (j->cb_state != 0) { /* one callback per result */
        pthread_mutex_unlock(&j->pool->mu);
        return;
    }
    j->cb = cb;
    j->cb_user = user;
    int now = j->finished;
    j->cb_state = now ? 2 : 1;
    pthread_mutex_unlock(&j->pool->mu);
    if (now) cb(a, user);
}

size_t ppool_async_failed(const ppool_async *a, size_t *index, int *status, size_t cap)
{
    ppool__job *j = JOB(a);
    if (!j || ppool__foreign(j->pool, "ppool_async_failed")) return 0;
    pthread_mutex_lock(&j->pool->mu);
    size_t n = ppool__failed_report(j, index, status, cap);
    pthread_mutex_unlock(&j->pool->mu);
    return n;
}

void ppool_async_free(ppool_async *a)
{
    if (a) ppool__handle_release(JOB(a));
}

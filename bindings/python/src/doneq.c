/* doneq.c: the queue of finished results that ppool's dispatcher hands to a Python thread. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "ext.h"

void ppx_doneq_init(ppx_doneq *q)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cv, &ca);
    pthread_condattr_destroy(&ca);
    q->head = q->tail = NULL;
}

void ppx_doneq_push(ppx_doneq *q, ppx_done *d)
{
    d->next = NULL;
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = d;
    else
        q->head = d;
    q->tail = d;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

void ppx_doneq_on_done(ppool_async *a, void *user)
{
    ppx_done *d = user;
    d->a = a;
    ppx_doneq_push(d->q, d);
}

/* The absolute CLOCK_MONOTONIC time `timeout` seconds from now. */
static struct timespec deadline_in(double timeout)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double whole = floor(timeout);
    ts.tv_sec += (time_t)whole;
    ts.tv_nsec += (long)((timeout - whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

ppx_done *ppx_doneq_take(ppx_doneq *q, double timeout)
{
    struct timespec until = deadline_in(timeout < 0 ? 0 : timeout);
    pthread_mutex_lock(&q->mu);
    int rc = 0;
    while (!q->head && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&q->cv, &q->mu, &until);
    ppx_done *all = q->head;
    q->head = q->tail = NULL;
    pthread_mutex_unlock(&q->mu);
    return all;
}

void ppx_doneq_clear(ppx_doneq *q)
{
    ppx_done *d = ppx_doneq_take(q, 0);
    while (d) {
        ppx_done *next = d->next;
        PyThreadState *ts = PyEval_SaveThread(); /* it takes the pool's lock */
        ppool_async_free(d->a);
        PyEval_RestoreThread(ts);
        Py_XDECREF(d->obj);
        PyMem_RawFree(d);
        d = next;
    }
}

/* job.c: a job's life on the scheduler: queue, completion, callbacks, waits, failing them all. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ppool_impl.h"

void ppool__job_submit(ppool *p, ppool__job *j)
{
    j->id = ++p->next_id;
    j->prev = p->jobs_tail;
    if (p->jobs_tail)
        p->jobs_tail->nextjob = j;
    else
        p->jobs = j;
    p->jobs_tail = j;
    if (ppool__job_complete(j))
        ppool__job_finish(p, j); /* nothing to do: n == 0 */
    else
        p->T->wake(p->tst);
}

void ppool__slot_free(ppool__slot *s)
{
    ppool_buf_free(&s->buf);
    free(s->err);
    s->err = NULL;
    s->state = 0;
}

void ppool__job_unref(ppool__job *j)
{
    if (--j->refs > 0) return;
    while (j->retry) {
        ppool__chunk *c = j->retry;
        j->retry = c->next;
        free(c);
    }
    if (j->slots)
        for (size_t i = 0; i < j->window; i++) ppool__slot_free(&j->slots[i]);
    if (j->src_items)
        for (size_t i = 0; i < j->window; i++) free(j->src_items[i]);
    free(j->src_items);
    free(j->src_lens);
    free(j->slots);
    free(j->fifo);
    ppool__slot_free(&j->cur);
    free(j->arg);
    ppool_buf_free(&j->result);
    free(j->err);
    free(j->fails);
    pthread_cond_destroy(&j->cond);
    free(j);
}

static void unlink_job(ppool *p, ppool__job *j)
{
    if (p->rr == j) p->rr = j->nextjob;
    if (j->prev)
        j->prev->nextjob = j->nextjob;
    else
        p->jobs = j->nextjob;
    if (j->nextjob)
        j->nextjob->prev = j->prev;
    else
        p->jobs_tail = j->prev;
    j->prev = j->nextjob = NULL;
}

/* Finishes a job whose items are all accounted for: wakes waiters, queues
 * its callback, drops the scheduler's reference. Under p->mu. */
void ppool__job_finish(ppool *p, ppool__job *j)
{
    if (j->finished) return;
    __atomic_store_n(&j->finished, 1, __ATOMIC_RELEASE); /* a caller may spin on it unlocked */
    unlink_job(p, j);
    pthread_cond_broadcast(&j->cond);
    pthread_cond_broadcast(&p->idle);
    if (j->cb_state == 1 && !j->user_gone) {
        if (p->ncallbacks == p->capcallbacks) {
            size_t cap = p->capcallbacks ? p->capcallbacks * 2 : 16;
            ppool__job **c = realloc(p->callbacks, cap * sizeof *c);
            if (c) {
                p->callbacks = c;
                p->capcallbacks = cap;
            }
        }
        if (p->ncallbacks < p->capcallbacks) {
            j->cb_state = 2;
            j->cb_pending = 1;
            j->refs++;
            p->callbacks[p->ncallbacks++] = j;
        }
    }
    ppool__job_unref(j);
}

int ppool__job_complete(const ppool__job *j)
{
    if (j->inflight || j->retry) return 0;
    if (j->user_gone) return 1;
    if (j->kind == JOB_SOURCE && !j->src_end) return 0;
    return j->done >= j->n;
}

void ppool__job_abandon(ppool__job *j)
{
    ppool *p = j->pool;
    j->user_gone = 1;
    while (j->retry) {
        ppool__chunk *c = j->retry;
        j->retry = c->next;
        free(c);
    }
    if (!j->finished && ppool__job_complete(j)) ppool__job_finish(p, j);
}

/* Records an item's failure; the lowest index is the job's error. */

double ppool__deadline(double timeout)
{
    /* Negative, infinite or too large to count (over 30 years): forever. */
    return timeout < 0 || !(timeout < 1e9) ? -1 : ppool__now() + timeout;
}

int ppool__check_timeout(const ppool *p, const char *what, double timeout)
{
    if (!isnan(timeout)) return 0;
    return ppool__fail(p, PPOOL_EINVAL,
                       "%s: timeout is NaN (use a negative timeout to wait forever)", what);
}

int ppool__cond_wait(ppool *p, pthread_cond_t *c, double deadline)
{
    if (p->drive && !p->driving && !p->stopping) return p->drive(p, deadline);
    if (deadline < 0) {
        pthread_cond_wait(c, &p->mu);
        return 0;
    }
    /* Condition variables use CLOCK_MONOTONIC (pool.c), like ppool__now. */
    double now = ppool__now();
    if (now >= deadline) return PPOOL_ETIMEDOUT;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double d = deadline - now;
    ts.tv_sec += (time_t)d;
    ts.tv_nsec += (long)((d - floor(d)) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int r = pthread_cond_timedwait(c, &p->mu, &ts);
    return r == ETIMEDOUT ? PPOOL_ETIMEDOUT : 0;
}

void ppool__fail_all(ppool *p, int err, const char *why)
{
    for (ppool__job *j = p->jobs, *nx; j; j = nx) {
        nx = j->nextjob;
        /* What was not done yet failed: the re-queued, then the never sent. */
        for (ppool__chunk *c = j->retry; c && !j->finished; c = c->next)
            ppool__failed_add(j, c->first, c->count, err);
        if (!j->finished && j->next < j->n && j->kind != JOB_SOURCE)
            ppool__failed_add(j, j->next, j->n - j->next, err);
        if (!j->status || err == PPOOL_ECLOSED) {
            free(j->err);
            j->err = NULL;
            if (asprintf(&j->err, "%s (%s)", ppool_strerror(err), why) < 0) j->err = NULL;
            j->status = err;
            j->err_index = j->kind == JOB_APPLY ? 0 : j->done;
        }
        j->aborted = err;
        j->src_end = 1;
        ppool__job_finish(p, j);
    }
}

/* ---------- progress and the loop ---------- */

/* Draws the progress bar of the maps in flight on stderr; `final` closes
 * the line at 100% once they are all done. */

void ppool__run_callbacks(ppool *p)
{
    /* In completion order; callbacks queued meanwhile are run too. */
    for (size_t i = 0; i < p->ncallbacks; i++) {
        ppool__job *j = p->callbacks[i];
        j->cb_thread = pthread_self();
        pthread_mutex_unlock(&p->mu);
        j->cb((ppool_async *)j, j->cb_user);
        pthread_mutex_lock(&p->mu);
        j->cb_pending = 0;
        pthread_cond_broadcast(&j->cond);
        ppool__job_unref(j);
    }
    p->ncallbacks = 0;
}

/* iter.c: iterators over results: imap (ordered), imap_unordered and imap_source, with a bounded
 * window. */
#include <stdlib.h>
#include <string.h>

#include "ppool_impl.h"

#define JOB(it) ((ppool__job *)(it))

/* Opens an iterator job; window slots are allocated before the lock is taken. */
static ppool__job *iter_open(ppool *p, const char *fn, int kind, int ordered, size_t n)
{
    size_t window = n < PPOOL__ITER_WINDOW ? (n ? n : 1) : PPOOL__ITER_WINDOW;
    ppool__slot *slots = calloc(window, sizeof *slots);
    size_t *fifo = ordered ? NULL : calloc(window, sizeof *fifo);
    char **items = kind == JOB_SOURCE ? calloc(window, sizeof *items) : NULL;
    size_t *lens = kind == JOB_SOURCE ? calloc(window, sizeof *lens) : NULL;
    int rc;
    ppool__job *j = NULL;
    if (!slots || (!ordered && !fifo) || (kind == JOB_SOURCE && (!items || !lens)))
        ppool__fail(p, PPOOL_ENOMEM, "'%s': out of memory for an iterator window", fn);
    else
        j = ppool__job_open(p, kind, fn, &rc);
    if (!j) {
        free(slots);
        free(fifo);
        free(items);
        free(lens);
        return NULL;
    }
    j->ordered = ordered;
    j->window = window;
    j->slots = slots;
    j->fifo = fifo;
    j->src_items = items;
    j->src_lens = lens;
    j->n = n;
    return j;
}

static ppool_iter *imap(ppool *p, const char *fn, const void *in, size_t n, size_t in_size,
                        int ordered, size_t chunksize)
{
    if (ppool__check_array(p, fn, in, n, in_size, NULL, 0)) return NULL;
    ppool__job *j = iter_open(p, fn, JOB_ITER, ordered, n);
    if (!j) return NULL;
    j->in = in;
    j->in_size = in_size;
    if (chunksize) j->chunksize = chunksize;
    return (ppool_iter *)ppool__handle_submit(j);
}

ppool_iter *ppool_imap(ppool *p, const char *fn, const void *in, size_t n, size_t in_size)
{
    return imap(p, fn, in, n, in_size, 1, 0);
}

ppool_iter *ppool_imap_unordered(ppool *p, const char *fn, const void *in, size_t n, size_t in_size)
{
    return imap(p, fn, in, n, in_size, 0, 0);
}

ppool_iter *ppool_imap_chunked(ppool *p, const char *fn, const void *in, size_t n, size_t in_size,
                               size_t chunksize)
{
    return imap(p, fn, in, n, in_size, 1, chunksize);
}

ppool_iter *ppool_imap_unordered_chunked(ppool *p, const char *fn, const void *in, size_t n,
                                         size_t in_size, size_t chunksize)
{
    return imap(p, fn, in, n, in_size, 0, chunksize);
}

ppool_iter *ppool_imap_source(ppool *p, const char *fn, ppool_source next, void *user, int ordered)
{
    if (ppool__check_array(p, fn, NULL, 0, 0, NULL, 0)) return NULL;
    if (!next) {
        ppool__fail(p, PPOOL_EINVAL, "'%s': NULL source function", fn);
        return NULL;
    }
    ppool__job *j = iter_open(p, fn, JOB_SOURCE, ordered, SIZE_MAX);
    if (!j) return NULL;
    j->window = PPOOL__ITER_WINDOW;
    j->src = next;
    j->src_user = user;
    return (ppool_iter *)ppool__handle_submit(j);
}

ppool__job *ppool__relay_job(ppool *p, const char *fn, const void *in, size_t in_size,
                             ppool_source next, void *user, size_t n, size_t chunksize)
{
    if (ppool__check_array(p, fn, in, in ? n : 0, in_size, NULL, 0)) return NULL;
    ppool__job *j = iter_open(p, fn, in ? JOB_ITER : JOB_SOURCE, 0, n);
    if (!j) return NULL;
    j->in = in;
    j->in_size = in_size;
    j->src = next;
    j->src_user = user;
    if (!in) j->n = SIZE_MAX; /* until the source ends */
    j->chunksize = chunksize;
    j->per_item = p->sub_per_item; /* chunks of one job: sized at once, not one item first */
    return ppool__handle_submit(j);
}

void ppool__relay_cut(ppool__job *j, size_t n)
{
    if (j->kind == JOB_ITER) j->n = n; /* a source's own end stops it (relay.c next_item) */
    if (!j->finished && ppool__job_complete(j)) ppool__job_finish(j->pool, j);
}

/* The next ready slot and its index, or NULL. */
static ppool__slot *next_ready(ppool__job *j, size_t *index)
{
    if (j->ordered) {
        if (j->yielded >= j->n) return NULL;
        ppool__slot *s = &j->slots[j->yielded % j->window];
        *index = j->yielded;
        return s->state == 1 ? s : NULL;
    }
    if (!j->fifo_count) return NULL;
    *index = j->fifo[j->fifo_head];
    return &j->slots[*index % j->window];
}

int ppool_iter_next(ppool_iter *it, size_t *index, ppool_buf *result, double timeout)
{
    if (result) *result = (ppool_buf){0};
    if (!it) return ppool__fail(NULL, PPOOL_EINVAL, "ppool_iter_next: NULL iterator");
    ppool__job *j = JOB(it);
    ppool *p = j->pool;
    if (ppool__foreign(p, "ppool_iter_next") || ppool__check_timeout(p, "ppool_iter_next", timeout))
        return PPOOL_EINVAL;
    double deadline = ppool__deadline(timeout);
    size_t idx = 0;
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    ppool_buf_free(&j->cur.buf); /* the previous result is the iterator's to release */
    free(j->cur.err);
    j->cur.err = NULL;
    for (;;) {
        ppool__slot *s = next_ready(j, &idx);
        if (s) {
            j->cur = *s;
            *s = (ppool__slot){0};
            if (!j->ordered) {
                j->fifo_head = (j->fifo_head + 1) % j->window;
                j->fifo_count--;
            }
            j->yielded++;
            if (j->window_blocked) { /* the window has room again */
                j->window_blocked = 0;
                p->T->wake(p->tst);
            }
            rc = j->cur.status;
            if (rc)
                ppool__fail(p, rc, "%s", j->cur.err ? j->cur.err : ppool_strerror(rc));
            else if (result)
                *result = j->cur.buf;
            break;
        }
        if (j->finished) {
            /* A source's error, then a pool that stopped, are reported once each. */
            idx = j->yielded;
            if (j->src_big) {
                rc = ppool__check_item_size(p, j->fn, j->n, j->src_big);
                j->src_big = 0;
                j->src_err = 0;
            } else if (j->src_err) {
                rc = ppool__fail(p, j->src_err, "'%s': the source failed (%d) after %zu items",
                                 j->fn, j->src_err, j->n);
                j->src_err = 0;
            } else if (j->aborted) {
                rc = ppool__fail(p, j->aborted, "%s", j->err ? j->err : ppool_strerror(j->aborted));
                j->aborted = 0;
            } else {
                rc = PPOOL_EDONE;
            }
            break;
        }
        if (timeout != 0 && (rc = ppool__on_dispatcher(p, "ppool_iter_next")) != 0) {
            idx = j->yielded;
            break;
        }
        if (ppool__cond_wait(p, &j->cond, deadline) == PPOOL_ETIMEDOUT && !next_ready(j, &idx) &&
            !j->finished) {
            rc = ppool__fail(p, PPOOL_ETIMEDOUT, "'%s': no result within %g s", j->fn, timeout);
            idx = j->yielded;
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (index) *index = idx;
    return rc;
}

void ppool_iter_free(ppool_iter *it)
{
    if (it) ppool__handle_release(JOB(it));
}

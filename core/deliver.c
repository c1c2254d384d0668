/* deliver.c: item outcomes: results into the caller's output, errors, requeues, chunks landing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppool_impl.h"

static void record_error(ppool__job *j, size_t index, int status, const char *msg)
{
    if (j->status && index >= j->err_index) return;
    char *e = NULL;
    if (j->kind == JOB_APPLY) {
        if (asprintf(&e, "apply (%s): %s", j->fn, msg) < 0) e = NULL;
    } else if (asprintf(&e, "item %zu (%s): %s", index, j->fn, msg) < 0) {
        e = NULL;
    }
    free(j->err);
    j->err = e;
    j->status = status;
    j->err_index = index;
}

/* Delivers one item's outcome into the job's output. Under p->mu. */
void ppool__deliver(ppool__job *j, size_t index, int status, const char *data, size_t len,
                    const char *msg)
{
    if (j->user_gone || j->finished) return;
    char buf[160];
    if (j->kind == JOB_MAP && !j->out)
        len = 0; /* out == NULL: results are not wanted */
    else if (status == 0 && j->kind == JOB_MAP && len != j->out_size) {
        snprintf(buf, sizeof buf, "result is %zu bytes, expected out_size %zu", len, j->out_size);
        status = PPOOL_ETASK;
        msg = buf;
    }
    if (status) {
        record_error(j, index, status, msg ? msg : ppool_strerror(status));
        ppool__failed_add(j, index, 1, status);
    }
    switch (j->kind) {
    case JOB_MAP:
        if (status == 0 && len) memcpy(j->out + index * j->out_size, data, len);
        break;
    case JOB_BUFS:
    case JOB_APPLY: {
        ppool_buf *b = j->kind == JOB_BUFS ? &j->outb[index] : &j->result;
        b->data = NULL;
        b->len = 0;
        if (status == 0 && len) {
            b->data = malloc(len);
            if (!b->data) {
                record_error(j, index, PPOOL_ENOMEM, "out of memory for the result");
                break;
            }
            memcpy(b->data, data, len);
            b->len = len;
        }
        break;
    }
    default: { /* iterators */
        ppool__slot *s = &j->slots[index % j->window];
        ppool__slot_free(s);
        s->state = 1;
        s->status = status;
        if (status == 0 && len) {
            s->buf.data = malloc(len);
            if (s->buf.data) {
                memcpy(s->buf.data, data, len);
                s->buf.len = len;
            } else {
                s->status = PPOOL_ENOMEM;
            }
        }
        if (s->status) {
            char *e = NULL;
            const char *m = status ? (msg ? msg : ppool_strerror(status)) : "out of memory";
            if (j->pool->sub) /* the master above names the item */
                e = strdup(m);
            else if (asprintf(&e, "item %zu (%s): %s", index, j->fn, m) < 0)
                e = NULL;
            s->err = e;
        }
        if (!j->ordered) j->fifo[(j->fifo_head + j->fifo_count++) % j->window] = index;
        if (j->src_items) {
            free(j->src_items[index % j->window]);
            j->src_items[index % j->window] = NULL;
        }
        break;
    }
    }
}

/* Accounts for `count` items of a chunk that left flight. */
void ppool__land(ppool *p, ppool__job *j, size_t count)
{
    j->inflight -= count;
    j->done += count;
    if (j->kind >= JOB_ITER) pthread_cond_broadcast(&j->cond);
    if (ppool__job_complete(j)) ppool__job_finish(p, j);
}

/* ---------- chunks ---------- */

void ppool__drop_inflight(ppool *p, int status)
{
    for (int i = 0; i < p->nworkers; i++) {
        ppool__wslot *ws = &p->w[i];
        while (ws->head) {
            ppool__chunk *c = ws->head;
            ws->head = c->next;
            ppool__job *j = c->job;
            if (!c->expired && !j->finished && !j->user_gone)
                ppool__failed_add(j, c->first, c->count, status);
            free(c->keys);
            free(c);
            ppool__job_unref(j);
        }
        ws->tail = NULL;
        ws->ninflight = 0;
    }
}

void ppool__chunk_unlink(ppool__wslot *ws, ppool__chunk *c, ppool__chunk *prev)
{
    if (prev)
        prev->next = c->next;
    else if ((ws->head = c->next) != NULL)
        ws->head->started = ppool__now(); /* the worker begins the next one now */
    if (ws->tail == c) ws->tail = prev;
    if (!c->handed) ws->ninflight -= c->weight;
}

void ppool__chunk_done(ppool *p, ppool__chunk *c)
{
    ppool__job *j = c->job;
    free(c->keys);
    free(c);
    ppool__job_unref(j); /* the chunk's reference; the scheduler still holds one if unfinished */
    (void)p;
}

/* Fails items of a chunk with one status and message. */
void ppool__fail_chunk(ppool *p, ppool__chunk *c, int status, const char *msg)
{
    ppool__job *j = c->job;
    for (size_t i = 0; i < c->count; i++) ppool__deliver(j, c->first + i, status, NULL, 0, msg);
    ppool__land(p, j, c->count);
}

void ppool__requeue(ppool__job *j, size_t first, size_t count, unsigned tries)
{
    j->inflight -= count;
    if (j->user_gone) {
        j->done += count;
        return;
    }
    ppool__chunk *c = calloc(1, sizeof *c);
    if (!c) { /* never lose items: fail them */
        for (size_t i = 0; i < count; i++)
            ppool__deliver(j, first + i, PPOOL_ENOMEM, NULL, 0,
                           "out of memory re-queueing the item");
        j->done += count;
        return;
    }
    c->job = j;
    c->first = first;
    c->count = count;
    c->tries = tries;
    c->next = j->retry;
    j->retry = c;
}

/* The item a dead worker was running, from the shared word it kept; 0 with
 * *index set if it is in chunk c, -1 if unknown. */

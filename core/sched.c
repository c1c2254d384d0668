/* sched.c: the dispatcher thread: credits, adaptive chunks, result delivery, worker failures. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "ppool.pb-c.h"
#include "ppool_impl.h"

/* ---------- jobs ---------- */

static int job_complete(const ppool__job *j);
static void finish_job(ppool *p, ppool__job *j);
static void requeue(ppool__job *j, size_t first, size_t count, unsigned tries);
static void fail_chunk(ppool *p, ppool__chunk *c, int status, const char *msg);
static void chunk_done(ppool *p, ppool__chunk *c);

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

void ppool__job_submit(ppool *p, ppool__job *j)
{
    j->id = ++p->next_id;
    j->prev = p->jobs_tail;
    if (p->jobs_tail)
        p->jobs_tail->nextjob = j;
    else
        p->jobs = j;
    p->jobs_tail = j;
    if (job_complete(j))
        finish_job(p, j); /* nothing to do: n == 0 */
    else
        p->T->wake(p->tst);
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
    pthread_mutex_lock(&p->mu);
    ppool__job_abandon(j);
    ppool__job_unref(j);
    pthread_mutex_unlock(&p->mu);
    ppool__pool_unref(p);
}

static void free_slot(ppool__slot *s)
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
        for (size_t i = 0; i < j->window; i++) free_slot(&j->slots[i]);
    if (j->src_items)
        for (size_t i = 0; i < j->window; i++) free(j->src_items[i]);
    free(j->src_items);
    free(j->src_lens);
    free(j->slots);
    free(j->fifo);
    free_slot(&j->cur);
    free(j->arg);
    ppool_buf_free(&j->result);
    free(j->err);
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
static void finish_job(ppool *p, ppool__job *j)
{
    if (j->finished) return;
    j->finished = 1;
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

static int job_complete(const ppool__job *j)
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
    if (!j->finished && job_complete(j)) finish_job(p, j);
}

/* Records an item's failure; the lowest index is the job's error. */
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
static void deliver(ppool__job *j, size_t index, int status, const char *data, size_t len,
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
    if (status) record_error(j, index, status, msg ? msg : ppool_strerror(status));
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
        free_slot(s);
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
            if (asprintf(&e, "item %zu (%s): %s", index, j->fn,
                         status ? (msg ? msg : ppool_strerror(status)) : "out of memory") < 0)
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
static void land(ppool *p, ppool__job *j, size_t count)
{
    j->inflight -= count;
    j->done += count;
    if (j->kind >= JOB_ITER) pthread_cond_broadcast(&j->cond);
    if (job_complete(j)) finish_job(p, j);
}

/* ---------- chunks ---------- */

static size_t fresh_avail(const ppool__job *j)
{
    if (j->user_gone || j->finished) return 0;
    size_t win = SIZE_MAX;
    if (j->kind >= JOB_ITER) win = j->window - (j->next - j->yielded);
    if (j->kind == JOB_SOURCE) return j->src_end && j->next >= j->src_pulled ? 0 : win;
    size_t left = j->n - j->next;
    return left < win ? left : win;
}

static size_t chunk_len(ppool *p, ppool__job *j, size_t avail)
{
    if (j->kind == JOB_APPLY) return 1;
    if (j->chunksize) return j->chunksize < avail ? j->chunksize : avail;
    size_t remaining = j->kind == JOB_SOURCE ? j->window : j->n - j->next;
    /* Guided: never more than remaining / (2 x workers), so the tail stays even. */
    size_t cap = remaining / (2 * (size_t)p->nworkers);
    if (j->kind >= JOB_ITER) {
        size_t wcap = j->window / (2 * (size_t)p->nworkers * PPOOL__CREDITS);
        if (wcap < cap) cap = wcap;
    }
    if (cap < 1) cap = 1;
    size_t want = 1;
    if (j->per_item > 0) {
        double w = PPOOL__TARGET_CHUNK_SECONDS / j->per_item;
        want = w >= (double)cap ? cap : (w < 1 ? 1 : (size_t)w);
    }
    if (want > cap) want = cap;
    return want < avail ? want : avail;
}

/* Item i's bytes for jobs with a known input. */
static const char *item_at(const ppool__job *j, size_t i, size_t *len)
{
    switch (j->kind) {
    case JOB_BUFS:
        *len = j->inb[i].len;
        return j->inb[i].data;
    case JOB_APPLY:
        *len = j->arg_len;
        return j->arg;
    case JOB_SOURCE:
        *len = j->src_lens[i % j->window];
        return j->src_items[i % j->window];
    default:
        *len = j->in_size;
        return j->in + i * j->in_size;
    }
}

/* Consecutive free window slots from index `from`, at most `want`. A slot is
 * reserved from dispatch (or pull) until the reader takes its result, so an
 * unordered reader that lags on one item bounds the window too. */
static size_t free_run(const ppool__job *j, size_t from, size_t want)
{
    size_t k = 0;
    while (k < want && k < j->window && j->slots[(from + k) % j->window].state == 0) k++;
    return k;
}

/* Makes sure `want` items from j->next on are pulled from the source (copied,
 * kept until their results land); returns how many are available. */
static size_t pull_source(ppool__job *j, size_t want)
{
    size_t extra = want > j->src_pulled - j->next ? want - (j->src_pulled - j->next) : 0;
    extra = free_run(j, j->src_pulled, extra);
    while (extra-- && !j->src_end) {
        const void *item = NULL;
        size_t len = 0;
        int r = j->src(j->src_user, &item, &len);
        char *copy = r > 0 ? malloc(len ? len : 1) : NULL;
        if (r <= 0 || !copy || (len && !item)) {
            free(copy);
            j->src_end = 1;
            j->src_err = r < 0 ? r : (r == 0 ? 0 : (copy ? PPOOL_EINVAL : PPOOL_ENOMEM));
            j->n = j->src_pulled;
            break;
        }
        if (len) memcpy(copy, item, len);
        size_t slot = j->src_pulled % j->window;
        free(j->src_items[slot]);
        j->src_items[slot] = copy;
        j->src_lens[slot] = len;
        j->slots[slot].state = 2;
        j->src_pulled++;
    }
    size_t have = j->src_pulled - j->next;
    return have < want ? have : want;
}

/* Packs and sends a Task for items [first, first+count) of j to worker w. */
static int send_chunk(ppool *p, int w, ppool__job *j, size_t first, size_t count)
{
    Ppool__Task t = PPOOL__TASK__INIT;
    t.job = j->id;
    t.fn = j->fn;
    t.first = first;
    t.count = (uint32_t)count;
    const char *bulk;
    size_t bulk_len = 0;
    char *joined = NULL;
    uint64_t *lens = NULL;
    if (j->kind == JOB_MAP || j->kind == JOB_ITER) {
        t.uniform = 1;
        t.item_size = j->in_size;
        bulk = j->in + first * j->in_size;
        bulk_len = count * j->in_size;
    } else {
        lens = malloc(count * sizeof *lens);
        for (size_t i = 0; lens && i < count; i++) {
            size_t l;
            item_at(j, first + i, &l);
            lens[i] = l;
            bulk_len = PPOOL__ALIGN_UP(bulk_len) + l; /* each item starts aligned */
        }
        joined = lens ? malloc(bulk_len ? bulk_len : 1) : NULL;
        if (!joined) {
            free(lens);
            return PPOOL_ENOMEM;
        }
        size_t off = 0;
        for (size_t i = 0; i < count; i++) {
            size_t l, pad = PPOOL__ALIGN_UP(off) - off;
            const char *d = item_at(j, first + i, &l);
            memset(joined + off, 0, pad);
            off += pad;
            if (l) memcpy(joined + off, d, l);
            off += l;
        }
        t.n_lens = count;
        t.lens = lens;
        bulk = joined;
    }
    t.bulk_len = bulk_len;
    Ppool__Frame f = PPOOL__FRAME__INIT;
    f.msg_case = PPOOL__FRAME__MSG_TASK;
    f.task = &t;
    void *frame;
    size_t flen;
    int rc = ppool__frame_pack(&f, bulk, bulk_len, &frame, &flen);
    free(joined);
    free(lens);
    if (rc) return rc;
    return p->T->send(p->tst, w, frame, flen);
}

/* Items that fit PPOOL__CHUNK_BYTES from `first`, at least one. */
static size_t fit_bytes(const ppool__job *j, size_t first, size_t count)
{
    if (j->kind == JOB_MAP || j->kind == JOB_ITER) {
        if (!j->in_size) return count;
        size_t k = PPOOL__CHUNK_BYTES / j->in_size;
        return k < 1 ? 1 : (k < count ? k : count);
    }
    size_t bytes = 0, k = 0;
    while (k < count) {
        size_t l;
        item_at(j, first + k, &l);
        if (k && bytes + l > PPOOL__CHUNK_BYTES) break;
        bytes += l;
        k++;
    }
    return k;
}

/* Gives worker w one chunk if any job has work. Returns 1 if it did. */
static int dispatch_one(ppool *p, int w)
{
    ppool__wslot *ws = &p->w[w];
    size_t allowance = SIZE_MAX;
    if (p->o.maxtasksperchild) {
        if (ws->assigned >= p->o.maxtasksperchild) return 0;
        allowance = p->o.maxtasksperchild - ws->assigned;
    }
    ppool__job *start = p->rr ? p->rr : p->jobs;
    ppool__job *j = start;
    for (int wrapped = 0; j || !wrapped;) {
        if (!j) {
            if (wrapped) break;
            wrapped = 1;
            j = p->jobs;
            if (!j) break;
            continue;
        }
        if (wrapped && j == start) break;
        size_t first = 0, count = 0;
        unsigned tries = 0;
        if (j->retry && !j->user_gone) {
            ppool__chunk *c = j->retry;
            first = c->first;
            count = c->count < allowance ? c->count : allowance;
            tries = c->tries;
            if (count < c->count) {
                c->first += count;
                c->count -= count;
            } else {
                j->retry = c->next;
                free(c);
            }
        } else {
            size_t avail = fresh_avail(j);
            if (avail && j->kind == JOB_SOURCE) {
                size_t want = chunk_len(p, j, avail);
                if (want > allowance) want = allowance;
                avail = pull_source(j, want);
                if (!avail && job_complete(j)) {
                    ppool__job *nx = j->nextjob;
                    finish_job(p, j);
                    j = nx;
                    continue;
                }
            }
            if (avail) {
                first = j->next;
                count = chunk_len(p, j, avail);
                if (count > allowance) count = allowance;
                count = fit_bytes(j, first, count);
                if (j->kind == JOB_ITER) {
                    count = free_run(j, first, count);
                    for (size_t k = 0; k < count; k++) j->slots[(first + k) % j->window].state = 2;
                }
                j->next += count;
            }
            if (!count && j->kind >= JOB_ITER && !j->src_end) j->window_blocked = 1;
        }
        if (!count) {
            j = j->nextjob;
            continue;
        }
        ppool__chunk *c = calloc(1, sizeof *c);
        if (!c) { /* give the items back */
            requeue(j, first, count, tries);
            j->inflight += count; /* requeue counted them out of flight */
            return 0;
        }
        c->job = j;
        c->first = first;
        c->count = count;
        c->tries = tries;
        j->inflight += count;
        j->refs++; /* the chunk's */
        if (ws->tail)
            ws->tail->next = c;
        else
            ws->head = c;
        ws->tail = c;
        ws->ninflight++;
        ws->assigned += count;
        p->rr = j->nextjob; /* the next worker starts at the next job: fairness */
        int rc = send_chunk(p, w, j, first, count);
        if (rc == PPOOL_EWORKER) {
            ppool__debug("send to worker %d failed; its death will requeue the chunk", w);
        } else if (rc) { /* the frame could not be built: fail the items, not the worker */
            ws->tail = NULL;
            for (ppool__chunk **pp = &ws->head; *pp; pp = &(*pp)->next) {
                if (*pp == c) {
                    *pp = NULL;
                    break;
                }
                ws->tail = *pp;
            }
            ws->ninflight--;
            ws->assigned -= count;
            fail_chunk(p, c, rc, "the task frame could not be built (out of memory?)");
            chunk_done(p, c);
        }
        return 1;
    }
    return 0;
}

/* Hands out chunks while workers have credits and jobs have work: idle
 * workers first, then second credits, so no worker queues work while
 * another sits idle. */
static void dispatch(ppool *p)
{
    if (p->state == POOL_DOWN) return;
    for (int progress = 1; progress;) {
        progress = 0;
        for (int level = 0; level < PPOOL__CREDITS && !progress; level++)
            for (int w = 0; w < p->nworkers; w++)
                if (p->w[w].state == W_READY && p->w[w].ninflight == level)
                    progress |= dispatch_one(p, w);
    }
}

/* ---------- events ---------- */

static void chunk_done(ppool *p, ppool__chunk *c)
{
    ppool__job *j = c->job;
    free(c);
    ppool__job_unref(j); /* the chunk's reference; the scheduler still holds one if unfinished */
    (void)p;
}

/* Fails items of a chunk with one status and message. */
static void fail_chunk(ppool *p, ppool__chunk *c, int status, const char *msg)
{
    ppool__job *j = c->job;
    for (size_t i = 0; i < c->count; i++) deliver(j, c->first + i, status, NULL, 0, msg);
    land(p, j, c->count);
}

static void requeue(ppool__job *j, size_t first, size_t count, unsigned tries)
{
    j->inflight -= count;
    if (j->user_gone) {
        j->done += count;
        return;
    }
    ppool__chunk *c = calloc(1, sizeof *c);
    if (!c) { /* never lose items: fail them */
        for (size_t i = 0; i < count; i++)
            deliver(j, first + i, PPOOL_ENOMEM, NULL, 0, "out of memory re-queueing the item");
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
static int culprit(ppool *p, int w, const ppool__chunk *c, size_t *index)
{
    volatile uint64_t *cur = p->wctx.current;
    if (!cur) return -1;
    uint64_t job = __atomic_load_n(&cur[2 * w], __ATOMIC_RELAXED);
    uint64_t at = __atomic_load_n(&cur[2 * w + 1], __ATOMIC_ACQUIRE);
    if (!at || job != c->job->id || at - 1 < c->first || at - 1 >= c->first + c->count) return -1;
    *index = (size_t)(at - 1);
    return 0;
}

static void describe_death(char *buf, size_t n, int w, int pid, int status)
{
    if (status >= 0 && WIFSIGNALED(status))
        snprintf(buf, n, "worker %d (pid %d) died with signal %d (%s)", w, pid, WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else if (status >= 0 && WIFEXITED(status))
        snprintf(buf, n, "worker %d (pid %d) exited with status %d", w, pid, WEXITSTATUS(status));
    else
        snprintf(buf, n, "worker %d (pid %d) was lost", w, pid);
}

int ppool__alive(const ppool *p)
{
    int alive = 0;
    for (int i = 0; i < p->nworkers; i++) alive += p->w[i].state != W_GONE;
    return alive;
}

/* Gives a slot up for good; with no slot left, outstanding work fails. */
static void give_up(ppool *p, int w, const char *why)
{
    p->w[w].state = W_GONE;
    if (!ppool__alive(p)) ppool__fail_all(p, PPOOL_EWORKER, why);
}

/* Starts a fresh process in slot w; gives the slot up if that fails. */
static void replace_worker(ppool *p, int w, const char *why)
{
    ppool__wslot *ws = &p->w[w];
    ws->assigned = 0;
    ppool__debug("worker %d: starting a fresh process", w);
    if (p->T->respawn(p->tst, w) == 0) {
        ws->state = W_STARTING;
        ws->spawns++;
    } else {
        give_up(p, w, why);
    }
}

/* A single item whose worker died running it: timed out, out of retries, or
 * re-run. */
static void judge_single(ppool *p, ppool__chunk *c, int timed_out, const char *why)
{
    if (timed_out) {
        char m[300];
        snprintf(m, sizeof m, "timed out after %g s (%s)", p->o.task_timeout, why);
        fail_chunk(p, c, PPOOL_ETIMEDOUT, m);
    } else if (c->tries + 1 > p->o.retries) {
        fail_chunk(p, c, PPOOL_EWORKER, why);
    } else {
        requeue(c->job, c->first, c->count, c->tries + 1);
    }
}

static void handle_death(ppool *p, const ppool__event *ev)
{
    ppool__wslot *ws = &p->w[ev->worker];
    char why[200];
    describe_death(why, sizeof why, ev->worker, ev->pid, ev->status);
    ppool__debug("%s", why);
    int was_starting = ws->state == W_STARTING;
    int timed_out = p->o.task_timeout > 0 && ev->status >= 0 && WIFSIGNALED(ev->status) &&
                    WTERMSIG(ev->status) == SIGALRM;
    ppool__chunk *c = ws->head;
    ws->head = ws->tail = NULL;
    ws->ninflight = 0;
    ws->deaths++;
    for (int running = 1; c; running = 0) {
        ppool__chunk *next = c->next;
        ppool__job *j = c->job;
        size_t bad;
        if (!running) {
            requeue(j, c->first, c->count, c->tries);
        } else if (c->count > 1 && culprit(p, ev->worker, c, &bad) == 0) {
            /* Known culprit: the others go back unblamed, it is judged alone. */
            if (bad + 1 < c->first + c->count)
                requeue(j, bad + 1, c->first + c->count - bad - 1, 0);
            if (bad > c->first) requeue(j, c->first, bad - c->first, 0);
            c->first = bad;
            c->count = 1;
            judge_single(p, c, timed_out, why);
        } else if (c->count > 1) {
            /* Bisect: the culprit is isolated in log2(count) deaths, innocents are not blamed. */
            size_t half = c->count / 2;
            requeue(j, c->first + half, c->count - half, 0);
            requeue(j, c->first, half, 0);
        } else {
            judge_single(p, c, timed_out, why);
        }
        if (job_complete(j) && !j->finished) finish_job(p, j);
        chunk_done(p, c);
        c = next;
    }
    if (ws->state == W_READY) p->nready--;
    ws->state = W_DOWN;
    ws->assigned = 0;
    if (p->state == POOL_DOWN || p->stopping) return;
    ws->fails = was_starting ? ws->fails + 1 : 0;
    if (ws->fails >= 3 || !(p->T->caps & PPOOL__CAN_RESPAWN)) {
        snprintf(p->errmsg, sizeof p->errmsg, "%s while starting; slot given up", why);
        give_up(p, ev->worker, why);
    } else {
        replace_worker(p, ev->worker, why);
    }
}

/* Checks a Hello and marks the worker ready; < 0 with a message otherwise. */
static int handle_hello(ppool *p, int w, const Ppool__Hello *h, char *err, size_t errlen)
{
    ppool__wslot *ws = &p->w[w];
    if (h->version != PPOOL__PROTO_VERSION) {
        snprintf(err, errlen, "worker %d speaks protocol %u, the master %d", w, h->version,
                 PPOOL__PROTO_VERSION);
        return PPOOL_EPROTO;
    }
    if (h->digest != p->reg.digest) {
        snprintf(err, errlen,
                 "worker %d registered other functions than the master (digest %016llx, master "
                 "%016llx): register the same names in every process before ppool_open",
                 w, (unsigned long long)h->digest, (unsigned long long)p->reg.digest);
        return PPOOL_EPROTO;
    }
    if (h->init_status) {
        snprintf(err, errlen, "initializer '%s' failed in worker %d: %s", p->initializer, w,
                 h->init_error ? h->init_error : "");
        return h->init_status == PPOOL_ENOFUNC ? PPOOL_ENOFUNC : PPOOL_ETASK;
    }
    ws->pid = h->pid;
    ppool__strlcpy(ws->host, h->host ? h->host : "", sizeof ws->host);
    ppool__strlcpy(ws->cpuset, h->cpuset ? h->cpuset : "", sizeof ws->cpuset);
    ppool__debug("worker %d ready: pid %d on %s, cpuset %s", w, ws->pid, ws->host,
                 ws->cpuset[0] ? ws->cpuset : "(unbound)");
    ws->state = W_READY;
    ws->fails = 0;
    ws->assigned = 0;
    p->nready++;
    return 0;
}

void ppool__send_shutdown(ppool *p, int w)
{
    Ppool__Shutdown sd = PPOOL__SHUTDOWN__INIT;
    Ppool__Frame f = PPOOL__FRAME__INIT;
    f.msg_case = PPOOL__FRAME__MSG_SHUTDOWN;
    f.shutdown = &sd;
    void *frame;
    size_t len;
    if (ppool__frame_pack(&f, NULL, 0, &frame, &len) == 0) p->T->send(p->tst, w, frame, len);
}

/* Checks a Result against the chunk at the head of w's flight and delivers it. */
static int handle_result(ppool *p, int w, const Ppool__Result *r, const char *bulk, size_t bulk_len)
{
    ppool__wslot *ws = &p->w[w];
    ppool__chunk *c = ws->head;
    if (!c || c->job->id != r->job || c->first != r->first || c->count != r->count)
        return PPOOL_EPROTO;
    if ((r->n_status && r->n_status != r->count) || (!r->uniform && r->n_lens != r->count))
        return PPOOL_EPROTO;
    size_t nerr = 0, total = 0;
    for (size_t i = 0; i < r->n_status; i++) nerr += r->status[i] != 0;
    if (nerr != r->n_errors) return PPOOL_EPROTO;
    for (size_t i = 0; i < r->count; i++) {
        uint64_t l = r->uniform ? r->item_size : r->lens[i];
        if (l > bulk_len - total) return PPOOL_EPROTO;
        total += l;
    }
    if (total != bulk_len) return PPOOL_EPROTO;
    ws->head = c->next;
    if (!ws->head) ws->tail = NULL;
    ws->ninflight--;
    ppool__job *j = c->job;
    if (j->kind == JOB_MAP && j->out && r->uniform && !r->n_status && r->item_size == j->out_size &&
        !j->user_gone && !j->finished) {
        /* The common case, every item done with the right size: one copy. */
        if (bulk_len) memcpy(j->out + c->first * j->out_size, bulk, bulk_len);
    } else {
        size_t off = 0, e = 0;
        for (size_t i = 0; i < r->count; i++) {
            size_t l = r->uniform ? r->item_size : r->lens[i];
            int st = r->n_status ? r->status[i] : 0;
            deliver(j, c->first + i, st, bulk + off, l, st ? r->errors[e++] : NULL);
            off += l;
        }
    }
    if (r->count) {
        double x = r->busy / r->count;
        j->per_item = j->per_item > 0 ? 0.7 * j->per_item + 0.3 * x : x;
    }
    ws->items += r->count;
    ws->chunks++;
    ws->busy += r->busy;
    land(p, j, c->count);
    chunk_done(p, c);
    if (p->o.maxtasksperchild && ws->assigned >= p->o.maxtasksperchild && !ws->ninflight &&
        ws->state == W_READY && p->state != POOL_DOWN && !p->stopping) {
        /* Retire: the worker leaves on Shutdown (or EOF); a fresh one takes the slot. */
        ppool__send_shutdown(p, w);
        ws->state = W_DOWN;
        p->nready--;
        replace_worker(p, w, "its replacement could not be started");
    }
    return 0;
}

/* Handles one frame from worker w (consumes it). Under p->mu. */
static int handle_frame(ppool *p, int w, void *frame, size_t len, char *err, size_t errlen)
{
    Ppool__Frame *m;
    const void *bulk;
    size_t bulk_len;
    int rc = ppool__frame_unpack(frame, len, &m, &bulk, &bulk_len, err, errlen);
    if (rc == 0) {
        if (m->msg_case == PPOOL__FRAME__MSG_HELLO && p->w[w].state == W_STARTING)
            rc = handle_hello(p, w, m->hello, err, errlen);
        else if (m->msg_case == PPOOL__FRAME__MSG_RESULT && p->w[w].state == W_READY)
            rc = handle_result(p, w, m->result, bulk, bulk_len);
        else
            rc = PPOOL_EPROTO;
        if (rc == PPOOL_EPROTO && !err[0])
            snprintf(err, errlen, "worker %d sent an unexpected or inconsistent frame", w);
    }
    ppool__frame_release(m);
    free(frame);
    return rc;
}

int ppool__wait_hellos(ppool *p, double timeout)
{
    double deadline = ppool__now() + timeout;
    char err[400] = "";
    while (p->nready < p->nworkers) {
        double left = deadline - ppool__now();
        if (left <= 0)
            return ppool__fail(NULL, PPOOL_ETIMEDOUT,
                               "workers did not start within %g s (%d of %d ready)", timeout,
                               p->nready, p->nworkers);
        ppool__event ev;
        int rc = p->T->recv(p->tst, &ev, left);
        if (rc) return ppool__fail(NULL, rc, "transport failed while workers started");
        if (ev.kind == PPOOL__EV_DEAD) {
            char why[200];
            describe_death(why, sizeof why, ev.worker, ev.pid, ev.status);
            return ppool__fail(NULL, PPOOL_EWORKER, "%s during start-up", why);
        }
        if (ev.kind != PPOOL__EV_FRAME) continue;
        err[0] = 0;
        rc = handle_frame(p, ev.worker, ev.frame, ev.len, err, sizeof err);
        if (rc) return ppool__fail(NULL, rc, "%s", err);
    }
    return 0;
}

/* ---------- waiting ---------- */

double ppool__deadline(double timeout)
{
    return timeout < 0 || isnan(timeout) ? -1 : ppool__now() + timeout;
}

int ppool__cond_wait(ppool *p, pthread_cond_t *c, double deadline)
{
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
        if (!j->status || err == PPOOL_ECLOSED) {
            free(j->err);
            j->err = NULL;
            if (asprintf(&j->err, "%s (%s)", ppool_strerror(err), why) < 0) j->err = NULL;
            j->status = err;
            j->err_index = j->kind == JOB_APPLY ? 0 : j->done;
        }
        j->aborted = err;
        j->src_end = 1;
        finish_job(p, j);
    }
}

/* ---------- progress and the loop ---------- */

/* Draws the progress bar of the maps in flight on stderr; `final` closes
 * the line at 100% once they are all done. */
static void draw_progress(ppool *p, int final)
{
    size_t done = 0, total = 0;
    for (ppool__job *j = p->jobs; j; j = j->nextjob)
        if (j->n != SIZE_MAX && j->kind != JOB_APPLY) {
            done += j->done;
            total += j->n;
        }
    if (final) {
        if (!p->progress_drawn) return;
        done = total = p->progress_total; /* what the last line showed has finished */
    } else if (total == 0) {
        return;
    }
    int width = 40, fill = (int)((double)done / (double)total * width);
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "\rppool [%s] %3d%% %zu/%zu items%s", bar,
            (int)(100.0 * (double)done / (double)total), done, total, final ? "\n" : "");
    fflush(stderr);
    p->progress_drawn = !final;
    p->progress_total = total;
}

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

void *ppool__dispatcher(void *arg)
{
    ppool *p = arg;
    char err[400];
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        dispatch(p);
        ppool__run_callbacks(p);
        if (p->stopping) break;
        double timeout = -1;
        if (p->o.flags & PPOOL_PROGRESS) {
            if (p->jobs) {
                double now = ppool__now();
                if (now - p->progress_at >= 0.1) {
                    draw_progress(p, 0);
                    p->progress_at = now;
                }
                timeout = 0.1;
            } else if (p->progress_drawn) {
                draw_progress(p, 1);
            }
        }
        pthread_mutex_unlock(&p->mu);
        ppool__event ev;
        int rc = p->T->recv(p->tst, &ev, timeout);
        pthread_mutex_lock(&p->mu);
        if (rc) {
            ppool__fail(p, rc, "transport '%s' failed: outstanding work is lost", p->T->name);
            ppool__fail_all(p, PPOOL_ETRANSPORT, "the transport failed");
            for (int i = 0; i < p->nworkers; i++) p->w[i].state = W_GONE;
            p->state = POOL_DOWN;
            /* Nothing more can come: sleep until the pool is shut down, never spin. */
            while (!p->stopping) pthread_cond_wait(&p->idle, &p->mu);
            continue;
        }
        if (ev.kind == PPOOL__EV_FRAME) {
            err[0] = 0;
            rc = handle_frame(p, ev.worker, ev.frame, ev.len, err, sizeof err);
            if (rc) {
                /* A worker that breaks the protocol is killed; its death requeues its work. */
                ppool__fail(p, rc, "%s", err);
                if (p->w[ev.worker].state == W_STARTING)
                    p->w[ev.worker].fails = 3; /* give up the slot */
                p->T->kill(p->tst, ev.worker);
            }
        } else if (ev.kind == PPOOL__EV_DEAD) {
            handle_death(p, &ev);
        }
    }
    ppool__run_callbacks(p);
    if (p->progress_drawn && p->jobs) { /* stopped with maps unfinished: just end the line */
        fputc('\n', stderr);
        p->progress_drawn = 0;
    }
    if (p->progress_drawn) draw_progress(p, 1);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

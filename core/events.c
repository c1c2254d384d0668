/* events.c: what workers tell the master: Hellos, Results, deaths and their items' fate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ppool.pb-c.h"
#include "ppool_impl.h"

/* The item a dead worker was running, as its transport saw it; 0 with
 * *index set if it is in chunk c, -1 if unknown. */
static int culprit(ppool *p, int w, const ppool__chunk *c, size_t *index)
{
    uint64_t job, at;
    if (!p->T->culprit || p->T->culprit(p->tst, w, &job, &at) != 0) return -1;
    if (!at || job != c->job->id || at - 1 < c->first || at - 1 >= c->first + c->count) return -1;
    *index = (size_t)(at - 1);
    return 0;
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
        ws->born = ppool__now();
        if (!(p->T->caps & PPOOL__INHERITS)) ppool__send_init(p, w); /* waits for the process */
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
        snprintf(m, sizeof m, "timed out after %g s (%s, killed at the deadline)",
                 p->o.task_timeout, why);
        ppool__fail_chunk(p, c, PPOOL_ETIMEDOUT, m);
    } else if (c->tries + 1 > p->o.retries) {
        ppool__fail_chunk(p, c, PPOOL_EWORKER, why);
    } else {
        ppool__requeue(c->job, c->first, c->count, c->tries + 1);
    }
}

void ppool__handle_death(ppool *p, const ppool__event *ev)
{
    ppool__wslot *ws = &p->w[ev->worker];
    const char *why = ev->why;
    ppool__debug("%s", why);
    int was_starting = ws->state == W_STARTING;
    int timed_out = ws->timed_out; /* the master killed it at its item's deadline */
    ppool__chunk *c = ws->head;
    ws->head = ws->tail = NULL;
    ws->ninflight = 0;
    ws->deaths++;
    ws->timed_out = ws->stuck = 0;
    ppool__steal_forget(p, ev->worker);
    for (int running = 1; c; running = 0) {
        ppool__chunk *next = c->next;
        ppool__job *j = c->job;
        size_t bad;
        if (c->expired) {
            /* its items were failed or re-queued at the deadline */
        } else if (!running) {
            ppool__requeue(j, c->first, c->count, c->tries);
        } else if (c->count > 1 && culprit(p, ev->worker, c, &bad) == 0) {
            /* Known culprit: the others go back unblamed, it is judged alone. */
            if (bad + 1 < c->first + c->count)
                ppool__requeue(j, bad + 1, c->first + c->count - bad - 1, 0);
            if (bad > c->first) ppool__requeue(j, c->first, bad - c->first, 0);
            c->first = bad;
            c->count = 1;
            judge_single(p, c, timed_out, why);
        } else if (timed_out && c->count > 1) {
            ppool__fail_chunk(p, c, PPOOL_ETIMEDOUT, "timed out (the running item is unknown)");
        } else if (c->count > 1) {
            /* Bisect: the culprit is isolated in log2(count) deaths, innocents are not blamed. */
            size_t half = c->count / 2;
            ppool__requeue(j, c->first + half, c->count - half, 0);
            ppool__requeue(j, c->first, half, 0);
        } else {
            judge_single(p, c, timed_out, why);
        }
        if (ppool__job_complete(j) && !j->finished) ppool__job_finish(p, j);
        ppool__chunk_done(p, c);
        c = next;
    }
    if (ws->state == W_READY) p->nready--;
    ws->state = W_DOWN;
    ws->assigned = 0;
    if (p->state == POOL_DOWN || p->stopping) return;
    ws->fails = was_starting ? ws->fails + 1 : 0;
    if (ws->fails >= 3 || !(p->T->caps & PPOOL__CAN_RESPAWN)) {
        ppool__fail(p, PPOOL_EWORKER, "%s%s; slot given up", why,
                    was_starting ? " while starting" : "");
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
        snprintf(err, errlen, "initializer '%s' failed in worker %d: %s",
                 p->initializer ? p->initializer : "", w, h->init_error ? h->init_error : "");
        return h->init_status == PPOOL_ENOFUNC ? PPOOL_ENOFUNC : PPOOL_ETASK;
    }
    ws->pid = h->pid;
    ppool__strlcpy(ws->host, h->host ? h->host : "", sizeof ws->host);
    ppool__strlcpy(ws->cpuset, h->cpuset ? h->cpuset : "", sizeof ws->cpuset);
    ppool__debug("worker %d ready: pid %d on %s, cpuset %s", w, ws->pid, ws->host,
                 ws->cpuset[0] ? ws->cpuset : "(unbound)");
    ws->capacity = h->capacity ? (int)h->capacity : 1;
    if (ws->capacity > 1)
        ppool__debug("worker %d is a sub-master of %d workers (pid %d on %s)", w, ws->capacity,
                     ws->pid, ws->host);
    ws->state = W_READY;
    ws->fails = 0;
    ws->assigned = 0;
    ppool__steal_forget(p, w);
    p->nready++;
    return 0;
}

/* Packs a small control frame and queues it for worker w. */
static void send_control(ppool *p, int w, Ppool__Frame *f)
{
    void *frame;
    size_t len;
    if (ppool__frame_pack(f, NULL, 0, &frame, &len) == 0) p->T->send(p->tst, w, frame, len);
}

void ppool__send_shutdown(ppool *p, int w)
{
    Ppool__Shutdown sd = PPOOL__SHUTDOWN__INIT;
    Ppool__Frame f = PPOOL__FRAME__INIT;
    f.msg_case = PPOOL__FRAME__MSG_SHUTDOWN;
    f.shutdown = &sd;
    send_control(p, w, &f);
}

void ppool__send_init(ppool *p, int w)
{
    Ppool__Init in = PPOOL__INIT__INIT;
    in.fn = p->initializer ? p->initializer : "";
    in.arg.data = p->initarg;
    in.arg.len = p->o.initarg_len;
    in.worker = (uint32_t)w;
    in.cpuset = p->cpusets && w < p->nplanned && p->cpusets[w] ? p->cpusets[w] : "";
    in.task_timeout = p->o.task_timeout; /* for a sub-master's pool */
    in.retries = p->o.retries;
    in.flags = p->o.flags;
    Ppool__Frame f = PPOOL__FRAME__INIT;
    f.msg_case = PPOOL__FRAME__MSG_INIT;
    f.init = &in;
    send_control(p, w, &f);
}

/* Fails chunk c at its deadline on a worker that cannot be killed: its
 * items fail now, the chunks queued behind it go to other workers, and the
 * worker gets no more work until it has answered for all of them. */
static void expire(ppool *p, ppool__wslot *ws, ppool__chunk *c)
{
    if (p->borrowed && p->T->flush) p->T->flush(p->tst, (int)(ws - p->w)); /* input freed soon */
    char m[200];
    snprintf(m, sizeof m,
             "timed out after %g s (worker %d still runs it; it gets no more work "
             "until it answers)",
             p->o.task_timeout, (int)(ws - p->w));
    ppool__fail_chunk(p, c, PPOOL_ETIMEDOUT, m);
    c->expired = 1;
    for (ppool__chunk *q = c->next; q; q = q->next)
        if (!q->expired) {
            ppool__requeue(q->job, q->first, q->count, q->tries);
            q->expired = 1;
        }
    ws->stuck = 1;
}

/* A worker that can take work now or soon: ready and not held. */
static int free_worker(const ppool *p)
{
    for (int i = 0; i < p->nworkers; i++)
        if (p->w[i].state != W_GONE && !(p->w[i].state == W_READY && p->w[i].stuck)) return 1;
    return 0;
}

/* A replacement whose initializer runs past task_timeout is killed (its
 * death counts as a failed start); the time it is due, or -1. */
static double check_start(ppool *p, int w, double now)
{
    ppool__wslot *ws = &p->w[w];
    double due = ws->born + p->o.task_timeout + PPOOL__START_GRACE;
    if (ws->state != W_STARTING || ws->timed_out || !(p->T->caps & PPOOL__CAN_KILL)) return -1;
    if (now < due) return due;
    ppool__debug("worker %d: no Hello within task_timeout: its initializer is killed", w);
    ws->timed_out = 1;
    p->T->kill(p->tst, w);
    return -1;
}

double ppool__check_deadlines(ppool *p)
{
    if (p->o.task_timeout <= 0) return -1;
    double now = ppool__now(), next = -1;
    for (int i = 0; i < p->nworkers; i++) {
        ppool__wslot *ws = &p->w[i];
        ppool__chunk *c = ws->head;
        double start_due = check_start(p, i, now);
        if (start_due >= 0 && (next < 0 || start_due < next)) next = start_due;
        /* A sub-master's pool keeps its items' deadlines itself. */
        if (ws->state != W_READY || !c || c->expired || ws->timed_out || ws->capacity > 1) continue;
        double due = c->started + p->o.task_timeout * (double)c->count;
        if (now < due) {
            if (next < 0 || due < next) next = due;
        } else if (p->T->caps & PPOOL__CAN_KILL) {
            ws->timed_out = 1; /* its death fails the item with PPOOL_ETIMEDOUT */
            p->T->kill(p->tst, i);
        } else {
            expire(p, ws, c);
        }
    }
    if (!(p->T->caps & PPOOL__CAN_KILL) && p->jobs && !free_worker(p))
        ppool__fail_all(p, PPOOL_ETIMEDOUT,
                        "every worker is held by an item past its deadline: none is left to run "
                        "the rest");
    return next;
}

/* With a journal: records each item's outcome, as delivered (the chunk's
 * keys were taken at dispatch). */
static void journal_result(ppool *p, const ppool__chunk *c, const Ppool__Result *r,
                           const char *bulk)
{
    size_t off = 0, e = 0;
    for (size_t i = 0; i < r->count; i++) {
        size_t l = r->uniform ? r->item_size : r->lens[i];
        int st = r->n_status ? r->status[i] : 0;
        ppool__journal_add(p->journal, &c->keys[i], st, bulk + off, l, st ? r->errors[e++] : NULL);
        off += l;
    }
}

/* The chunk in flight to ws that r answers, or NULL: the oldest (a worker
 * runs its chunks in order), or any one of a sub-master's (it answers each
 * when its items are in); *prev is the one before it. */
static ppool__chunk *answered(ppool__wslot *ws, const Ppool__Result *r, ppool__chunk **prev)
{
    *prev = NULL;
    for (ppool__chunk *c = ws->head; c; *prev = c, c = c->next) {
        if (c->job->id == r->job && c->first == r->first && c->count == r->count) return c;
        if (ws->capacity <= 1) break;
    }
    return NULL;
}

/* Checks a Result against the chunk in w's flight it answers and delivers it. */
static int handle_result(ppool *p, int w, const Ppool__Result *r, const char *bulk, size_t bulk_len)
{
    ppool__wslot *ws = &p->w[w];
    ppool__chunk *prev, *c = answered(ws, r, &prev);
    if (!c) return PPOOL_EPROTO;
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
    ppool__chunk_unlink(ws, c, prev);
    if (c->expired) { /* answered after its deadline: its items were settled then */
        ws->stuck = ws->ninflight > 0;
        ppool__chunk_done(p, c);
        return 0;
    }
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
            ppool__deliver(j, c->first + i, st, bulk + off, l, st ? r->errors[e++] : NULL);
            off += l;
        }
    }
    if (p->journal && c->keys) journal_result(p, c, r, bulk);
    if (r->count) {
        double x = r->busy / r->count;
        j->per_item = j->per_item > 0 ? 0.7 * j->per_item + 0.3 * x : x;
        if (p->sub) p->sub_per_item = j->per_item;
    }
    double busy = r->busy / c->weight; /* per block: a frame of blocks is not a slow block */
    p->chunk_busy = p->chunk_busy > 0 ? 0.9 * p->chunk_busy + 0.1 * busy : busy;
    ws->items += r->count;
    ws->chunks += (size_t)c->weight; /* blocks, as the caller chunked them */
    ws->busy += r->busy;
    ppool__land(p, j, c->count);
    ppool__chunk_done(p, c);
    if (p->o.maxtasksperchild && ws->assigned >= p->o.maxtasksperchild && !ws->head &&
        ws->state == W_READY && p->state != POOL_DOWN && !p->stopping &&
        (p->T->caps & PPOOL__CAN_RESPAWN)) {
        /* Retire: the worker leaves on Shutdown (or EOF); a fresh one takes the slot. */
        ppool__send_shutdown(p, w);
        ws->state = W_DOWN;
        p->nready--;
        replace_worker(p, w, "its replacement could not be started");
    }
    return 0;
}

/* Sub-master w handed out chunk (job, first) whole below it: the chunk
 * gives back its credit, so the group gets more before a slow item of it
 * is done. */
static int handle_started(ppool *p, int w, const Ppool__Started *s, char *err, size_t errlen)
{
    ppool__wslot *ws = &p->w[w];
    for (ppool__chunk *c = ws->head; c && ws->capacity > 1; c = c->next)
        if (c->job->id == s->job && c->first == s->first && !c->handed) {
            c->handed = 1;
            ws->ninflight -= c->weight;
            return 0;
        }
    snprintf(err, errlen, "worker %d started chunk %llu of job %llu, not one it holds", w,
             (unsigned long long)s->first, (unsigned long long)s->job);
    return PPOOL_EPROTO;
}

/* Handles one frame from worker w (consumes it). Under p->mu. */
int ppool__handle_frame(ppool *p, int w, void *frame, size_t len, char *err, size_t errlen)
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
        else if (m->msg_case == PPOOL__FRAME__MSG_GIVEN && p->w[w].state == W_READY)
            rc = ppool__handle_given(p, w, m->given, err, errlen);
        else if (m->msg_case == PPOOL__FRAME__MSG_STARTED && p->w[w].state == W_READY)
            rc = handle_started(p, w, m->started, err, errlen);
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
    int init_due = p->initializer && p->o.task_timeout > 0; /* the initializer's deadline */
    if (init_due) timeout = p->o.task_timeout + PPOOL__START_GRACE;
    double deadline = ppool__now() + timeout;
    char err[400] = "";
    while (p->nready < p->nworkers) {
        double left = deadline - ppool__now();
        if (left <= 0 && init_due)
            return ppool__fail(NULL, PPOOL_ETIMEDOUT,
                               "initializer '%s' ran past task_timeout (%g s): %d of %d workers "
                               "ready",
                               p->initializer, p->o.task_timeout, p->nready, p->nworkers);
        if (left <= 0)
            return ppool__fail(NULL, PPOOL_ETIMEDOUT,
                               "workers did not start within %g s (%d of %d ready)", timeout,
                               p->nready, p->nworkers);
        ppool__event ev;
        int rc = p->T->recv(p->tst, &ev, left);
        if (rc) return ppool__fail(NULL, rc, "transport failed while workers started");
        if (ev.kind == PPOOL__EV_DEAD)
            return ppool__fail(NULL, PPOOL_EWORKER, "%s during start-up", ev.why);
        if (ev.kind != PPOOL__EV_FRAME) continue;
        err[0] = 0;
        rc = ppool__handle_frame(p, ev.worker, ev.frame, ev.len, err, sizeof err);
        if (rc) return ppool__fail(NULL, rc, "%s", err);
    }
    return 0;
}

/* ---------- waiting ---------- */

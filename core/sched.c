/* sched.c: the dispatcher thread: hand out work, wait for an event, handle it, run callbacks. */
#include <stdio.h>

#include "ppool_impl.h"

/* Draws the progress bar when due: every 0.1 s once maps have been in
 * flight for PPOOL__PROGRESS_DELAY; how long the loop may sleep for it (-1: forever). */
static double progress_tick(ppool *p)
{
    if (!p->progress_shown) return -1;
    if (!p->jobs) {
        if (p->progress_drawn) ppool__draw_progress(p, 1);
        p->progress_since = 0;
        return -1;
    }
    double now = ppool__now();
    if (p->progress_since == 0) p->progress_since = now;
    if (now - p->progress_since < PPOOL__PROGRESS_DELAY)
        return p->progress_since + PPOOL__PROGRESS_DELAY - now;
    if (now - p->progress_at >= 0.1) {
        ppool__draw_progress(p, 0);
        p->progress_at = now;
    }
    return 0.1;
}

/* How long recv() may block: until the next deadline or progress tick, and
 * never over PPOOL__MAX_NAP, so a transport whose descriptors someone closed
 * under it (its wake-ups lost) is found broken instead of waited on forever. */
static double sleep_for(ppool *p)
{
    double timeout = progress_tick(p);
    if (timeout < 0 || timeout > PPOOL__MAX_NAP) timeout = PPOOL__MAX_NAP;
    double journal = p->journal ? ppool__journal_tick(p->journal, ppool__now(), 0) : -1;
    if (journal >= 0 && journal < timeout) timeout = journal; /* records go out in time */
    double due = ppool__check_deadlines(p);
    if (due >= 0) {
        double left = due - ppool__now();
        if (left < 0) left = 0;
        if (timeout < 0 || left < timeout) timeout = left;
    }
    return timeout;
}

/* The transport failed: every job fails, new work is refused; the loop
 * then does nothing more until the pool is shut down (which still closes
 * the transport). */
static void transport_failed(ppool *p, int rc)
{
    snprintf(p->broken, sizeof p->broken, "transport '%s' failed (%s)", p->T->name,
             ppool_strerror(rc));
    ppool__fail(p, PPOOL_ETRANSPORT, "%s: outstanding work is lost", p->broken);
    ppool__drop_inflight(p, PPOOL_ETRANSPORT);
    ppool__fail_all(p, PPOOL_ETRANSPORT, p->broken);
    for (int i = 0; i < p->nworkers; i++) p->w[i].state = W_GONE;
    if (p->state == POOL_OPEN) p->state = POOL_CLOSED;
    p->flush_done = p->flush_asked; /* nothing is sent any more */
    pthread_cond_broadcast(&p->idle);
}

static void handle_event(ppool *p, ppool__event *ev)
{
    if (ev->kind == PPOOL__EV_FRAME) {
        char err[400] = "";
        int rc = ppool__handle_frame(p, ev->worker, ev->frame, ev->len, err, sizeof err);
        if (rc) {
            /* A worker that breaks the protocol is stopped; its death requeues its work. */
            ppool__fail(p, rc, "%s", err);
            if (p->w[ev->worker].state == W_STARTING)
                p->w[ev->worker].fails = 3; /* give up the slot */
            p->T->kill(p->tst, ev->worker);
        }
    } else if (ev->kind == PPOOL__EV_DEAD) {
        ppool__handle_death(p, ev);
    }
}

void ppool__flush_borrowed(ppool *p)
{
    if (!p->borrowed || !p->T->flush || p->state == POOL_DOWN) return;
    if (p->closing) { /* the closing thread flushes: its close returns when nothing borrows */
        while (p->state != POOL_DOWN) pthread_cond_wait(&p->idle, &p->mu);
        return;
    }
    if (!p->thread_started || pthread_equal(p->thread, pthread_self())) {
        while (p->driving && !ppool__is_dispatcher(p)) /* inline: the driver's pass ends */
            pthread_cond_wait(&p->idle, &p->mu);
        p->T->flush(p->tst, -1);
        return;
    }
    unsigned want = ++p->flush_asked;
    p->T->wake(p->tst);
    while (p->flush_done < want && p->state != POOL_DOWN) pthread_cond_wait(&p->idle, &p->mu);
}

/* Runs a flush a caller asked for. */
static void flush_if_asked(ppool *p)
{
    if (p->flush_done == p->flush_asked) return;
    p->T->flush(p->tst, -1);
    p->flush_done = p->flush_asked;
    pthread_cond_broadcast(&p->idle);
}

/* One pass of the loop (mu held): hand out work, run callbacks, wait for an
 * event (at most `cap` seconds when cap >= 0) and handle what came. */
static void pass(ppool *p, double cap)
{
    flush_if_asked(p);
    ppool__dispatch(p);
    ppool__steal(p);
    ppool__run_callbacks(p);
    if (p->stopping || p->broken[0]) return;
    double timeout = sleep_for(p);
    if (cap >= 0 && (timeout < 0 || cap < timeout)) timeout = cap;
    pthread_mutex_unlock(&p->mu);
    ppool__event ev;
    int rc = p->T->recv(p->tst, &ev, timeout);
    pthread_mutex_lock(&p->mu);
    /* Then what else has arrived, before handing out work again: the
     * dispatch after a burst of results is one pass, not one per result. */
    for (int more = 0; rc == 0 && ev.kind != PPOOL__EV_NONE; more++) {
        handle_event(p, &ev);
        if (more == PPOOL__EVENT_BURST) break;
        pthread_mutex_unlock(&p->mu);
        rc = p->T->recv(p->tst, &ev, 0);
        pthread_mutex_lock(&p->mu);
    }
    if (rc) transport_failed(p, rc);
}

/* What the loop does last: flushes, callbacks, the progress line's end. */
static void last_duties(ppool *p)
{
    flush_if_asked(p);
    ppool__run_callbacks(p);
    if (p->progress_drawn && p->jobs) { /* stopped with maps unfinished: just end the line */
        fputc('\n', stderr);
        p->progress_drawn = 0;
    }
    if (p->progress_drawn) ppool__draw_progress(p, 1);
}

void *ppool__dispatcher(void *arg)
{
    ppool *p = arg;
    ppool__dispatcher_thread(p);
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        if (p->broken[0]) {
            p->flush_done = p->flush_asked;
            pthread_cond_broadcast(&p->idle);
            pthread_cond_wait(&p->idle, &p->mu); /* never spin */
            continue;
        }
        pass(p, -1);
    }
    last_duties(p);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Wakes every waiter of p: one of them may have to drive next. */
static void wake_waiters(ppool *p)
{
    pthread_cond_broadcast(&p->idle);
    for (ppool__job *j = p->jobs; j; j = j->nextjob) pthread_cond_broadcast(&j->cond);
}

int ppool__drive(ppool *p, double deadline)
{
    double now = ppool__now();
    p->driving = 1;
    const ppool *was = ppool__dispatcher_swap(p); /* its callbacks and sources must not block */
    pass(p, deadline < 0 ? -1 : (deadline > now ? deadline - now : 0));
    ppool__dispatcher_swap(was);
    p->driving = 0;
    wake_waiters(p);
    return deadline >= 0 && ppool__now() >= deadline ? PPOOL_ETIMEDOUT : 0;
}

void ppool__drive_last(ppool *p)
{
    const ppool *was = ppool__dispatcher_swap(p);
    last_duties(p);
    ppool__dispatcher_swap(was);
}

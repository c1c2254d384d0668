/* sched.c: the dispatcher thread: hand out work, wait for an event, handle it, run callbacks. */
#include <stdio.h>

#include "ppool_impl.h"

void *ppool__dispatcher(void *arg)
{
    ppool *p = arg;
    char err[400];
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        ppool__dispatch(p);
        ppool__run_callbacks(p);
        if (p->stopping) break;
        double timeout = -1;
        if (p->o.flags & PPOOL_PROGRESS) {
            if (p->jobs) {
                double now = ppool__now();
                if (now - p->progress_at >= 0.1) {
                    ppool__draw_progress(p, 0);
                    p->progress_at = now;
                }
                timeout = 0.1;
            } else if (p->progress_drawn) {
                ppool__draw_progress(p, 1);
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
            rc = ppool__handle_frame(p, ev.worker, ev.frame, ev.len, err, sizeof err);
            if (rc) {
                /* A worker that breaks the protocol is killed; its death requeues its work. */
                ppool__fail(p, rc, "%s", err);
                if (p->w[ev.worker].state == W_STARTING)
                    p->w[ev.worker].fails = 3; /* give up the slot */
                p->T->kill(p->tst, ev.worker);
            }
        } else if (ev.kind == PPOOL__EV_DEAD) {
            ppool__handle_death(p, &ev);
        }
    }
    ppool__run_callbacks(p);
    if (p->progress_drawn && p->jobs) { /* stopped with maps unfinished: just end the line */
        fputc('\n', stderr);
        p->progress_drawn = 0;
    }
    if (p->progress_drawn) ppool__draw_progress(p, 1);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* evq.c: a transport's queue of events made but not reported yet (deaths, frames read ahead). */
#include <stdlib.h>

#include "ppool.h"
#include "transport.h"

struct ppool__evq_item {
    ppool__event ev;
    struct ppool__evq_item *next;
};

int ppool__evq_push(ppool__evq *q, const ppool__event *ev)
{
    struct ppool__evq_item *e = malloc(sizeof *e);
    if (!e) return PPOOL_ENOMEM;
    e->ev = *ev;
    e->next = NULL;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    return 0;
}

int ppool__evq_pop(ppool__evq *q, ppool__event *ev)
{
    struct ppool__evq_item *e = q->head;
    if (!e) return 0;
    *ev = e->ev;
    q->head = e->next;
    if (!q->head) q->tail = NULL;
    free(e);
    return 1;
}

void ppool__evq_clear(ppool__evq *q)
{
    ppool__event ev;
    while (ppool__evq_pop(q, &ev))
        if (ev.kind == PPOOL__EV_FRAME) free(ev.frame);
}

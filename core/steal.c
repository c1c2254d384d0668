/* steal.c: work moving between sub-masters: a group that ran dry gets a share of a loaded one's
 * unstarted items, through rank 0 (which alone tracks every item). */
#include <stdio.h>

#include "ppool.pb-c.h"
#include "ppool_impl.h"

/* Items in flight to slot ws in chunks not yet handed out whole below it. */
static size_t held(const ppool__wslot *ws)
{
    size_t n = 0;
    for (const ppool__chunk *c = ws->head; c; c = c->next) n += c->handed ? 0 : c->count;
    return n;
}

/* A sub-master that may take or give work now. */
static int relay_up(const ppool__wslot *ws)
{
    return ws->state == W_READY && ws->capacity > 1 && !ws->stuck;
}

/* The sub-master to ask for thief t: the one holding the most items in
 * flight whose share for t is at least one item, not asked already and not
 * drained; -1 when none. */
static int victim(const ppool *p, int t)
{
    int best = -1;
    size_t most = 0, tc = (size_t)p->w[t].capacity;
    for (int v = 0; v < p->nworkers; v++) {
        const ppool__wslot *vs = &p->w[v];
        if (v == t || !relay_up(vs) || vs->asked || vs->drained) continue;
        size_t h = held(vs);
        if (h > most && h * tc / (tc + (size_t)vs->capacity) >= 1) {
            best = v;
            most = h;
        }
    }
    return best;
}

static void send_steal(ppool *p, int v, int capacity)
{
    Ppool__Steal st = PPOOL__STEAL__INIT;
    st.capacity = (uint32_t)capacity;
    Ppool__Frame f = PPOOL__FRAME__INIT;
    f.msg_case = PPOOL__FRAME__MSG_STEAL;
    f.steal = &st;
    void *frame;
    size_t len;
    if (ppool__frame_pack(&f, NULL, 0, &frame, &len) == 0 && p->T->send(p->tst, v, frame, len) == 0)
        p->w[v].asked = 1;
    p->w[v].fed = 0;
}

void ppool__steal(ppool *p)
{
    if (p->capacity == p->nworkers || p->state == POOL_DOWN || p->stopping) return;
    for (int t = 0; t < p->nworkers; t++) {
        ppool__wslot *ts = &p->w[t];
        if (!relay_up(ts) || ts->ninflight || ts->waits_on) continue;
        if (p->o.maxtasksperchild && ts->assigned >= p->o.maxtasksperchild) continue;
        int v = victim(p, t);
        if (v < 0) return; /* nobody to ask for this one: nor, groups being alike, for the next */
        send_steal(p, v, ts->capacity);
        if (p->w[v].asked) {
            ts->waits_on = v + 1;
            ppool__debug("sub-master %d ran dry: asking sub-master %d for work", t, v);
        }
    }
}

void ppool__steal_forget(ppool *p, int w)
{
    p->w[w].asked = p->w[w].drained = p->w[w].waits_on = p->w[w].fed = 0;
    for (int t = 0; t < p->nworkers; t++)
        if (p->w[t].waits_on == w + 1) p->w[t].waits_on = 0;
}

/* The chunk in flight to ws whose tail is [first, first+count), or NULL;
 * *prev is the one before it. */
static ppool__chunk *tail_of(ppool__wslot *ws, const Ppool__Range *r, ppool__chunk **prev)
{
    *prev = NULL;
    for (ppool__chunk *c = ws->head; c; *prev = c, c = c->next)
        if (c->job->id == r->job && !c->expired && r->count && r->count <= c->count &&
            r->first >= c->first && r->first - c->first == c->count - r->count)
            return c;
    return NULL;
}

int ppool__handle_given(ppool *p, int w, const Ppool__Given *g, char *err, size_t errlen)
{
    ppool__wslot *ws = &p->w[w];
    if (!ws->asked) {
        snprintf(err, errlen, "sub-master %d gave back work it was not asked for", w);
        return PPOOL_EPROTO;
    }
    int fed = ws->fed; /* a chunk went to it after the Steal: that one may be given */
    ppool__steal_forget(p, w);
    ws->drained = g->n_ranges == 0 && !fed;
    for (size_t i = 0; i < g->n_ranges; i++) {
        const Ppool__Range *r = g->ranges[i];
        ppool__chunk *prev, *c = tail_of(ws, r, &prev);
        if (!c) {
            snprintf(err, errlen, "sub-master %d gave back items %llu..+%u, not a chunk's tail", w,
                     (unsigned long long)r->first, r->count);
            return PPOOL_EPROTO;
        }
        ppool__job *j = c->job;
        ppool__requeue(j, r->first, r->count, c->tries);
        if (!j->finished && ppool__job_complete(j)) /* its handle is gone: the items count done */
            ppool__job_finish(p, j);
        c->count -= r->count;
        ws->assigned -= r->count;
        ws->given += r->count;
        if (c->count) continue;
        ppool__chunk_unlink(ws, c, prev); /* given back whole: it leaves the flight */
        ppool__chunk_done(p, c);
    }
    ppool__debug("sub-master %d gave back %zu range(s)", w, g->n_ranges);
    return 0;
}

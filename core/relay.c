/* relay.c: a sub-master: a worker to the master above that runs each chunk it gets on its own
 * group. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ppool.pb-c.h"
#include "ppool_impl.h"

/* A chunk from the master above, running as one job on the group's pool. */
typedef struct rchunk {
    void *frame; /* a copy of its Task frame: the items are read where they lie */
    Ppool__Frame *msg;
    const char *bulk;
    size_t bulk_len;
    size_t n;           /* its items: the Task's, less a tail given back (relay_steal) */
    size_t pulled, off; /* the source's next item and its offset in bulk (non-uniform items) */
    ppool__job *job;    /* NULL when it could not start: every item failed with `status` */
    int status;
    char *why;
    ppool_buf *res; /* per item, in index order */
    int32_t *st;
    char **err;
    char *have; /* per item: its outcome came */
    size_t got; /* items with an outcome */
    int told;   /* a Started went up: every item was handed out below */
    struct rchunk *next;
} rchunk;

struct ppool__relay {
    ppool__registry reg; /* taken at Init: its digest goes up in the Hello */
    const void *where;   /* the group (transport-specific), from below() */
    ppool *pool;         /* the group's pool, opened at Init */
    rchunk *head, *tail;
};

/* The source of a chunk of variable-sized items: the next one in its bulk. */
static int next_item(void *user, const void **item, size_t *len)
{
    rchunk *c = user;
    const Ppool__Task *t = c->msg->task;
    if (c->pulled >= c->n) return 0;
    size_t off = PPOOL__ALIGN_UP(c->off), l = t->lens[c->pulled];
    if (off > c->bulk_len || l > c->bulk_len - off) return PPOOL_EPROTO;
    *item = c->bulk + off;
    *len = l;
    c->off = off + l;
    c->pulled++;
    return 1;
}

static void chunk_free(rchunk *c)
{
    if (c->job) ppool__handle_release(c->job);
    for (size_t i = 0; c->res && i < c->msg->task->count; i++) {
        free(c->res[i].data);
        free(c->err[i]);
    }
    free(c->res);
    free(c->st);
    free(c->err);
    free(c->have);
    free(c->why);
    ppool__frame_release(c->msg);
    free(c->frame);
    free(c);
}

/* Starts a Task (its frame copied) as a job on the group's pool; a chunk
 * that cannot start still answers, every item failed. */
static int relay_task(ppool__relay *r, const void *frame, size_t len)
{
    rchunk *c = calloc(1, sizeof *c);
    char err[200];
    if (!c || !(c->frame = malloc(len))) {
        free(c);
        return PPOOL_ENOMEM;
    }
    memcpy(c->frame, frame, len);
    int rc = ppool__frame_unpack(c->frame, len, &c->msg, (const void **)&c->bulk, &c->bulk_len, err,
                                 sizeof err);
    if (rc) {
        free(c->frame);
        free(c);
        return rc;
    }
    const Ppool__Task *t = c->msg->task;
    size_t n = c->n = t->count;
    c->res = calloc(n ? n : 1, sizeof *c->res);
    c->st = calloc(n ? n : 1, sizeof *c->st);
    c->err = calloc(n ? n : 1, sizeof *c->err);
    c->have = calloc(n ? n : 1, 1);
    if (!c->res || !c->st || !c->err || !c->have || (!t->uniform && t->n_lens != n) ||
        (t->uniform && t->item_size * n != c->bulk_len)) {
        chunk_free(c);
        return PPOOL_EPROTO;
    }
    c->job = ppool__relay_job(r->pool, t->fn, t->uniform ? c->bulk : NULL, t->item_size,
                              t->uniform ? NULL : next_item, c, n, t->chunksize);
    if (!c->job) {
        c->status = PPOOL_ETRANSPORT;
        c->why = strdup(ppool_errmsg(r->pool));
    }
    if (r->tail)
        r->tail->next = c;
    else
        r->head = c;
    r->tail = c;
    return 0;
}

/* Takes the outcomes c's job has (r->pool->mu held); the items it never
 * ran, once it finished (the pool stopped under it), fail with its error. */
static void collect(rchunk *c)
{
    ppool__job *j = c->job;
    size_t n = c->n;
    while (j && j->fifo_count) {
        size_t i = j->fifo[j->fifo_head];
        j->fifo_head = (j->fifo_head + 1) % j->window;
        j->fifo_count--;
        ppool__slot *s = &j->slots[i % j->window];
        c->res[i] = s->buf;
        c->st[i] = s->status;
        c->err[i] = s->err;
        c->have[i] = 1;
        *s = (ppool__slot){0};
        j->yielded++;
        c->got++;
    }
    if (j) j->window_blocked = 0; /* no wake(): this thread drives the pool's next pass itself */
    if (c->got == n || (j && !j->finished)) return;
    int status = j ? (j->aborted ? j->aborted : PPOOL_ECLOSED) : c->status;
    const char *why = j ? j->err : c->why;
    for (size_t i = 0; i < n; i++)
        if (!c->have[i]) {
            c->st[i] = status;
            c->err[i] = strdup(why ? why : ppool_strerror(status));
        }
    c->got = n;
}

/* Items of c not yet handed to the group's workers (its tail from there). */
static size_t unstarted(const rchunk *c)
{
    const ppool__job *j = c->job;
    if (!j || j->finished) return 0;
    size_t begun = j->kind == JOB_SOURCE ? c->pulled : j->next;
    return c->n > begun ? c->n - begun : 0;
}

/* Packs chunk c's Result for the master above. */
static int pack_result(rchunk *c, double busy, void **out, size_t *out_len)
{
    const Ppool__Task *t = c->msg->task;
    size_t n = c->n, total = 0, nerr = 0;
    uint64_t *lens = malloc((n ? n : 1) * sizeof *lens);
    char **errs = malloc((n ? n : 1) * sizeof *errs);
    char *bulk = NULL;
    int rc = lens && errs ? 0 : PPOOL_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) total += lens[i] = c->st[i] ? 0 : c->res[i].len;
    if (rc == 0 && !(bulk = malloc(total ? total : 1))) rc = PPOOL_ENOMEM;
    for (size_t i = 0, off = 0; rc == 0 && i < n; off += lens[i], i++) {
        if (lens[i]) memcpy(bulk + off, c->res[i].data, lens[i]);
        if (c->st[i]) errs[nerr++] = c->err[i] ? c->err[i] : (char *)ppool_strerror(c->st[i]);
    }
    if (rc == 0) {
        Ppool__Result res = PPOOL__RESULT__INIT;
        res.job = t->job;
        res.first = t->first;
        res.count = (uint32_t)n;
        if (nerr) {
            res.n_status = n;
            res.status = c->st;
            res.n_errors = nerr;
            res.errors = errs;
        }
        res.n_lens = n;
        res.lens = lens;
        res.busy = busy;
        res.bulk_len = total;
        Ppool__Frame f = PPOOL__FRAME__INIT;
        f.msg_case = PPOOL__FRAME__MSG_RESULT;
        f.result = &res;
        rc = ppool__frame_pack(&f, bulk, total, out, out_len);
    }
    free(bulk);
    free(lens);
    free(errs);
    return rc;
}

/* How many items c keeps when `give` of its unstarted ones would go: an
 * explicit chunksize's blocks stay whole (the kept part ends on a block). */
static size_t kept(const rchunk *c, size_t give)
{
    size_t u = unstarted(c), cs = c->msg->task->chunksize;
    size_t keep = c->n - (u < give ? u : give);
    if (cs > 1 && keep % cs) keep += cs - keep % cs;
    return keep < c->n ? keep : c->n;
}

/* Cuts up to `give` unstarted items off the chunks, the newest tail first,
 * into rg (one range a chunk); a chunk cut to nothing leaves the list for
 * *gone (freed by the caller, outside the lock). Under the group pool's
 * lock; returns the ranges. */
static size_t cut_tails(ppool__relay *r, size_t nc, rchunk **v, size_t give, Ppool__Range *rg,
                        rchunk **gone)
{
    size_t nr = 0;
    for (size_t i = nc; i-- > 0 && give;) {
        rchunk *c = v[i];
        size_t m = c->n - kept(c, give);
        if (!m) continue;
        give -= m;
        c->n -= m;
        ppool__relay_cut(c->job, c->n);
        rg[nr] = (Ppool__Range)PPOOL__RANGE__INIT;
        rg[nr].job = c->msg->task->job;
        rg[nr].first = c->msg->task->first + c->n;
        rg[nr++].count = (uint32_t)m;
    }
    rchunk **pp = &r->head;
    for (r->tail = NULL; *pp;) {
        rchunk *c = *pp;
        if (c->n == 0) {
            *pp = c->next;
            c->next = *gone;
            *gone = c;
            continue;
        }
        r->tail = c;
        pp = &c->next;
    }
    return nr;
}

/* Answers a Steal for a group of st->capacity workers: the share of the
 * items not started here that such a group would run beside this one's,
 * given back (a Given frame; no range when there is none). */
static int relay_steal(ppool__relay *r, const Ppool__Steal *st, void **out, size_t *out_len)
{
    size_t nc = 0, nr = 0, idle = 0;
    rchunk *gone = NULL;
    for (rchunk *c = r->head; c; c = c->next) nc++;
    rchunk **v = malloc((nc ? nc : 1) * sizeof *v);
    Ppool__Range *rg = malloc((nc ? nc : 1) * sizeof *rg);
    Ppool__Range **rp = malloc((nc ? nc : 1) * sizeof *rp);
    int rc = v && rg && rp ? 0 : PPOOL_ENOMEM;
    if (rc == 0 && r->pool && nc) {
        ppool *p = r->pool;
        pthread_mutex_lock(&p->mu);
        size_t k = 0;
        for (rchunk *c = r->head; c; c = c->next) {
            collect(c);
            idle += unstarted(v[k++] = c);
        }
        size_t own = (size_t)p->capacity, tc = st->capacity;
        nr = cut_tails(r, nc, v, idle * tc / (tc + own), rg, &gone);
        pthread_mutex_unlock(&p->mu);
    }
    while (gone) {
        rchunk *c = gone;
        gone = c->next;
        chunk_free(c);
    }
    for (size_t i = 0; i < nr; i++) rp[i] = &rg[i];
    if (rc == 0) {
        Ppool__Given g = PPOOL__GIVEN__INIT;
        g.n_ranges = nr;
        g.ranges = rp;
        Ppool__Frame f = PPOOL__FRAME__INIT;
        f.msg_case = PPOOL__FRAME__MSG_GIVEN;
        f.given = &g;
        rc = ppool__frame_pack(&f, NULL, 0, out, out_len);
    }
    free(v);
    free(rg);
    free(rp);
    return rc;
}

/* Opens the group's pool with the options above, and answers the Hello:
 * its capacity is the group's workers, or the failure. */
static int relay_init(ppool__relay *r, const Ppool__Init *in, void **out, size_t *out_len)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.initializer = in->fn && in->fn[0] ? in->fn : NULL;
    o.initarg = in->arg.data;
    o.initarg_len = in->arg.len;
    o.task_timeout = in->task_timeout;
    o.retries = in->retries;
    o.flags = (in->flags & ~PPOOL_PROGRESS) | PPOOL__SUB | (in->retries ? 0 : PPOOL_NO_RETRIES);
    int rc = r->pool ? PPOOL_EPROTO : 0;
    if (rc == 0) {
        ppool__registry_release(&r->reg);
        rc = ppool__registry_snapshot(&r->reg);
    }
    if (rc == 0) rc = ppool__open_on(&r->pool, &o, "mpi", r->where, NULL);
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    Ppool__Hello h = PPOOL__HELLO__INIT;
    h.version = PPOOL__PROTO_VERSION;
    h.worker = in->worker;
    h.pid = (int32_t)getpid();
    h.host = host;
    h.cpuset = "";
    h.digest = r->reg.digest;
    h.init_status = rc;
    h.init_error = rc ? (char *)ppool_errmsg(NULL) : "";
    h.capacity = rc ? 1 : (uint32_t)ppool_size(r->pool);
    Ppool__Frame f = PPOOL__FRAME__INIT;
    f.msg_case = PPOOL__FRAME__MSG_HELLO;
    f.hello = &h;
    return ppool__frame_pack(&f, NULL, 0, out, out_len);
}

/* Ends the group's pool: its workers are let go, the chunks not answered dropped. */
static void relay_end(ppool__relay *r)
{
    while (r->head) {
        rchunk *c = r->head;
        r->head = c->next;
        chunk_free(c);
    }
    r->tail = NULL;
    if (r->pool) {
        ppool_close(r->pool);
        ppool_join(r->pool);
        ppool_free(r->pool);
    }
    r->pool = NULL;
}

static int relay_run(void *ctx, const void *frame, size_t len, void **out, size_t *out_len)
{
    ppool__relay *r = ctx;
    Ppool__Frame *m;
    const void *bulk;
    size_t bulk_len;
    char err[256];
    *out = NULL;
    *out_len = 0;
    int rc = ppool__frame_unpack(frame, len, &m, &bulk, &bulk_len, err, sizeof err);
    if (rc) return rc;
    switch (m->msg_case) {
    case PPOOL__FRAME__MSG_TASK:
        rc = r->pool ? relay_task(r, frame, len) : PPOOL_EPROTO;
        break;
    case PPOOL__FRAME__MSG_INIT:
        rc = relay_init(r, m->init, out, out_len);
        break;
    case PPOOL__FRAME__MSG_STEAL:
        rc = relay_steal(r, m->steal, out, out_len);
        break;
    case PPOOL__FRAME__MSG_SHUTDOWN:
        relay_end(r);
        rc = 1;
        break;
    default:
        rc = PPOOL_EPROTO;
    }
    ppool__frame_release(m);
    return rc;
}

/* The oldest chunk with every outcome in (collected first), or NULL; *prev
 * is the one before it. *handed is the oldest one handed out whole below
 * and not told yet, if any. */
static rchunk *answered(ppool__relay *r, rchunk **prev, rchunk **handed)
{
    *prev = *handed = NULL;
    for (rchunk *q = r->head; q; *prev = q, q = q->next) {
        collect(q);
        if (q->got == q->n) return q;
        if (!*handed && !q->told && q->job && !unstarted(q)) *handed = q;
    }
    return NULL;
}

/* Tells the master above that chunk c was handed out whole below. */
static int tell_started(rchunk *c, void **out, size_t *out_len)
{
    Ppool__Started s = PPOOL__STARTED__INIT;
    s.job = c->msg->task->job;
    s.first = c->msg->task->first;
    Ppool__Frame f = PPOOL__FRAME__INIT;
    f.msg_case = PPOOL__FRAME__MSG_STARTED;
    f.started = &s;
    c->told = 1;
    int rc = ppool__frame_pack(&f, NULL, 0, out, out_len);
    return rc ? rc : 1;
}

/* Drives the group's pool until a chunk is answered or handed out whole, or
 * the nap ends: the first one whose items are all in goes up, whatever its
 * age (a chunk held by a slow item does not hold the ones after it); else a
 * Started for one whose items all went below (its credit: the group gets
 * more work while its slow items run). */
static int relay_poll(void *ctx, double timeout, void **out, size_t *out_len)
{
    ppool__relay *r = ctx;
    *out = NULL;
    if (!r->pool) return 2; /* nothing below yet: the transport naps */
    ppool *p = r->pool;
    double deadline = ppool__now() + timeout;
    pthread_mutex_lock(&p->mu);
    rchunk *c, *prev, *handed;
    while (!(c = answered(r, &prev, &handed)) && !handed && p->state != POOL_DOWN &&
           ppool__cond_wait(p, &p->idle, deadline) != PPOOL_ETIMEDOUT) {
    }
    double busy = c && c->job ? c->job->per_item * (double)c->n : 0;
    pthread_mutex_unlock(&p->mu);
    if (!c && handed) return tell_started(handed, out, out_len);
    if (!c) return p->state == POOL_DOWN ? PPOOL_ECLOSED : 0;
    if (prev)
        prev->next = c->next;
    else
        r->head = c->next;
    if (r->tail == c) r->tail = prev;
    int rc = pack_result(c, busy, out, out_len);
    chunk_free(c);
    return rc ? rc : 1;
}

static void relay_below(void *ctx, const void *where)
{
    ppool__relay *r = ctx;
    if (!where) relay_end(r);
    r->where = where;
}

int ppool__relay_new(ppool__worker_ops *ops)
{
    ppool__relay *r = calloc(1, sizeof *r);
    if (!r) return PPOOL_ENOMEM;
    *ops =
        (ppool__worker_ops){.ctx = r, .run = relay_run, .below = relay_below, .poll = relay_poll};
    return 0;
}

void ppool__relay_free(ppool__worker_ops *ops)
{
    if (!ops->ctx) return;
    ppool__relay *r = ops->ctx;
    relay_end(r);
    ppool__registry_release(&r->reg);
    free(r);
    ops->ctx = NULL;
}

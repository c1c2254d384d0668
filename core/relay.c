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
    size_t pulled, off; /* the source's next item and its offset in bulk (non-uniform items) */
    ppool__job *job;    /* NULL when it could not start: every item failed with `status` */
    int status;
    char *why;
    ppool_buf *res; /* per item, in index order */
    int32_t *st;
    char **err;
    char *have; /* per item: its outcome came */
    size_t got; /* items with an outcome */
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
    if (c->pulled >= t->count) return 0;
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
    size_t n = t->count;
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
    size_t n = c->msg->task->count;
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

/* Packs chunk c's Result for the master above. */
static int pack_result(rchunk *c, double busy, void **out, size_t *out_len)
{
    const Ppool__Task *t = c->msg->task;
    size_t n = t->count, total = 0, nerr = 0;
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
        res.count = t->count;
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

/* Drives the group's pool until the oldest chunk is answered or the nap
 * ends: chunks are answered in the order they came, as the master expects. */
static int relay_poll(void *ctx, double timeout, void **out, size_t *out_len)
{
    ppool__relay *r = ctx;
    *out = NULL;
    if (!r->pool) return 2; /* nothing below yet: the transport naps */
    ppool *p = r->pool;
    double deadline = ppool__now() + timeout;
    pthread_mutex_lock(&p->mu);
    rchunk *c = r->head;
    for (;;) {
        for (rchunk *q = r->head; q; q = q->next) collect(q);
        if ((c && c->got == c->msg->task->count) || p->state == POOL_DOWN ||
            ppool__cond_wait(p, c && c->job ? &c->job->cond : &p->idle, deadline) ==
                PPOOL_ETIMEDOUT)
            break;
    }
    double busy = c && c->job ? c->job->per_item * (double)c->msg->task->count : 0;
    pthread_mutex_unlock(&p->mu);
    if (!c || c->got < c->msg->task->count) return p->state == POOL_DOWN ? PPOOL_ECLOSED : 0;
    r->head = c->next;
    if (!r->head) r->tail = NULL;
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

/* dispatch.c: handing out work: credits, adaptive chunk sizes, streaming sources, Task frames. */
#include <stdlib.h>
#include <string.h>

#include "ppool.pb-c.h"
#include "ppool_impl.h"

static size_t fresh_avail(const ppool__job *j)
{
    if (j->user_gone || j->finished) return 0;
    size_t win = SIZE_MAX;
    if (j->kind >= JOB_ITER) win = j->window - (j->next - j->yielded);
    if (j->kind == JOB_SOURCE) return j->src_end && j->next >= j->src_pulled ? 0 : win;
    size_t left = j->n - j->next;
    return left < win ? left : win;
}

/* Chunks a worker may hold: two (one running, one waiting), or more when
 * chunks are so short that a round trip would leave the worker idle. */
static int credits(const ppool *p)
{
    int fine = p->chunk_busy > 0 && p->chunk_busy < PPOOL__FINE_CHUNK_SECONDS;
    return fine ? PPOOL__CREDITS_FINE : PPOOL__CREDITS;
}

/* ... and a sub-master, whose chunks feed its whole group, PPOOL__CREDITS_RELAY. */
static int slot_credits(const ppool *p, const ppool__wslot *ws)
{
    return ws->capacity > 1 ? PPOOL__CREDITS_RELAY : credits(p);
}

/* A sub-master's next chunk of j: its group's share (capacity workers'
 * chunks, each sized as a worker's would be), at most avail. */
static size_t relay_len(const ppool *p, const ppool__job *j, const ppool__wslot *ws, size_t avail)
{
    size_t k = (size_t)ws->capacity, total = (size_t)p->capacity;
    size_t remaining = j->kind == JOB_SOURCE ? j->window : j->n - j->next;
    size_t want;
    if (j->chunksize) { /* whole blocks, a share of what is left that keeps the tail even */
        size_t blocks = remaining / j->chunksize * k / (2 * total);
        want = j->chunksize * (blocks < 1 ? 1 : (blocks < k ? blocks : k));
    } else {
        size_t cap = remaining * k / (2 * total), each = 1;
        if (j->per_item > 0 && p->o.task_timeout <= 0) {
            double w = PPOOL__TARGET_CHUNK_SECONDS / j->per_item;
            each = w < 1 ? 1 : (w > 1e9 ? 1000000000 : (size_t)w);
        }
        want = each * k;
        if (want > cap) want = cap < 1 ? 1 : cap;
    }
    return want < avail ? want : avail;
}

/* Large contiguous items go as they lie (send_bulk, borrowed), one chunk at a time per worker. */
static int lends(const ppool *p, const ppool__job *j)
{
    return p->T->send_bulk && !(p->T->caps & PPOOL__BULK_COPIES) &&
           (j->kind == JOB_MAP || j->kind == JOB_ITER) && j->in_size >= PPOOL__BORROW_BYTES;
}

/* How many of j's explicit blocks worker ws takes in one frame: one, or,
 * when a block takes microseconds (measured) and no deadline needs each
 * block's own start, as many as its spare credits allow (at most
 * PPOOL__COALESCE_MAX, PPOOL__FINE_CHUNK_SECONDS of work, and a share of
 * what is left that keeps the tail even), so a block does not cost a
 * message. Blocks stay whole and in order; they are those the worker's
 * credits would take one by one. */
static size_t blocks_for(const ppool *p, const ppool__job *j, const ppool__wslot *ws)
{
    if (!j->chunksize || j->kind == JOB_APPLY || p->o.task_timeout > 0 || j->per_item <= 0 ||
        lends(p, j))
        return 1;
    double block = j->per_item * (double)j->chunksize;
    int spare = credits(p) - ws->ninflight;
    if (block >= PPOOL__FINE_CHUNK_SECONDS || spare <= 1) return 1;
    size_t m = spare < PPOOL__COALESCE_MAX ? (size_t)spare : PPOOL__COALESCE_MAX;
    double by_time = PPOOL__FINE_CHUNK_SECONDS / block;
    if (by_time < (double)m) m = by_time < 1 ? 1 : (size_t)by_time;
    if (j->kind != JOB_SOURCE) { /* the tail stays even: at most a share of what is left */
        size_t share = (j->n - j->next) / j->chunksize / (2 * (size_t)p->nworkers);
        if (share < m) m = share < 1 ? 1 : share;
    }
    return m;
}

/* Items in worker ws's next chunk of j, at most avail. */
static size_t chunk_len(ppool *p, ppool__job *j, const ppool__wslot *ws, size_t avail)
{
    if (j->kind == JOB_APPLY) return 1;
    if (ws->capacity > 1) return relay_len(p, j, ws, avail);
    if (j->chunksize) {
        size_t want = j->chunksize * blocks_for(p, j, ws);
        return want < avail ? want : avail;
    }
    if (p->o.task_timeout > 0) return 1; /* each item's deadline is its own */
    size_t remaining = j->kind == JOB_SOURCE ? j->window : j->n - j->next;
    /* Guided: never more than remaining / (2 x workers), so the tail stays even. */
    size_t cap = remaining / (2 * (size_t)p->nworkers);
    if (j->kind >= JOB_ITER && !p->sub) { /* a sub-master's window is the chunk itself */
        size_t wcap = j->window / (2 * (size_t)p->nworkers * PPOOL__CREDITS);
        if (wcap < cap) cap = wcap;
    }
    if (cap < 1) cap = 1;
    size_t want = 1;
    if (j->per_item > 0) {
        int here = p->here >= 0 && ws == &p->w[p->here];
        double w = (here ? PPOOL__HERE_CHUNK_SECONDS : PPOOL__TARGET_CHUNK_SECONDS) / j->per_item;
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
        int big = r > 0 && len > PPOOL__MAX_ITEM; /* over the limit: the source's error */
        char *copy = r > 0 && !big ? malloc(len ? len : 1) : NULL;
        if (r <= 0 || !copy || (len && !item)) {
            free(copy);
            if (big) j->src_big = len;
            j->src_end = 1;
            j->src_err = r < 0 ? r : (r == 0 ? 0 : (copy || big ? PPOOL_EINVAL : PPOOL_ENOMEM));
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
    t.chunksize = j->chunksize;
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
    /* The bulk goes unpacked: copied once by the transport to where the
     * worker reads it, or lent as it lies to an idle worker that takes it at
     * once, never queued behind a running chunk, which could hold the
     * caller's items past its call (MPI cannot cancel a send). */
    int copies = (p->T->caps & PPOOL__BULK_COPIES) && p->T->send_bulk;
    int lent = lends(p, j) && p->w[w].ninflight == 1; /* lends: not a copying transport */
    if ((copies && bulk_len >= PPOOL__BORROW_BYTES) || lent) {
        int rc = ppool__frame_pack_head(&f, bulk_len, &frame, &flen);
        p->borrowed |= rc == 0 && lent;
        if (rc == 0) rc = p->T->send_bulk(p->tst, w, frame, flen, bulk, bulk_len);
        free(joined);
        free(lens);
        return rc;
    }
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

/* With a journal: each item's key for [*first, +*count), and, for fresh
 * items (`serve`), those an earlier run recorded are delivered from the
 * journal: the leading ones at once, the chunk cut before the next one (the
 * rest given back). Returns the keys of the chunk that is left (NULL when
 * out of memory: it is then not recorded); *served says how many landed. */
static ppool__jkey *journal_trim(ppool *p, ppool__job *j, size_t *first, size_t *count, int serve,
                                 size_t *served)
{
    size_t f = *first, n = *count, fresh = 0;
    *served = 0;
    ppool__jkey *keys = malloc(n * sizeof *keys);
    if (!keys) return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *d = item_at(j, f + i, &len);
        keys[fresh] = ppool__journal_key(j->fn, d, len);
        const ppool__jentry *e = serve ? ppool__journal_find(p->journal, &keys[fresh]) : NULL;
        if (!e) {
            fresh++;
            continue;
        }
        if (fresh) break; /* the chunk ends before it: it is served next time */
        ppool__deliver(j, f + i, e->status, e->data, e->len, e->err[0] ? e->err : NULL);
        (*served)++;
    }
    size_t back = n - *served - fresh; /* items given back to the job */
    j->next -= back;
    for (size_t k = 0; j->kind == JOB_ITER && k < back; k++)
        j->slots[(j->next + k) % j->window].state = 0;
    *first = f + *served;
    *count = fresh;
    return keys;
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
    ppool__job *start = p->rr && !p->sub ? p->rr : p->jobs; /* a sub-master: oldest first */
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
        if (lends(p, j) && ws->ninflight) { /* large items: to idle workers only */
            j = j->nextjob;
            continue;
        }
        size_t first = 0, count = 0;
        unsigned tries = 0;
        int fresh = 0;
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
                size_t want = chunk_len(p, j, ws, avail);
                if (want > allowance) want = allowance;
                avail = pull_source(j, want);
                if (!avail && ppool__job_complete(j)) {
                    ppool__job *nx = j->nextjob;
                    ppool__job_finish(p, j);
                    j = nx;
                    continue;
                }
            }
            if (avail) {
                first = j->next;
                count = chunk_len(p, j, ws, avail);
                if (count > allowance) count = allowance;
                count = fit_bytes(j, first, count);
                if (j->kind == JOB_ITER) {
                    count = free_run(j, first, count);
                    for (size_t k = 0; k < count; k++) j->slots[(first + k) % j->window].state = 2;
                }
                j->next += count;
                fresh = 1;
            }
            if (!count && j->kind >= JOB_ITER && !j->src_end) j->window_blocked = 1;
        }
        ppool__jkey *keys = NULL;
        if (count && p->journal) {
            size_t served;
            keys = journal_trim(p, j, &first, &count, fresh, &served);
            if (served) { /* they land now; the job may finish with them */
                j->inflight += served;
                ppool__land(p, j, served);
                if (!count) {
                    free(keys);
                    return 1;
                }
            }
        }
        if (!count) {
            j = j->nextjob;
            continue;
        }
        ppool__chunk *c = calloc(1, sizeof *c);
        if (!c) { /* give the items back */
            free(keys);
            ppool__requeue(j, first, count, tries);
            j->inflight += count; /* requeue counted them out of flight */
            return 0;
        }
        c->job = j;
        c->first = first;
        c->count = count;
        c->tries = tries;
        c->weight = j->chunksize && ws->capacity <= 1 ? (int)(1 + (count - 1) / j->chunksize) : 1;
        if (c->weight > PPOOL__COALESCE_MAX) c->weight = PPOOL__COALESCE_MAX; /* a retried run */
        c->keys = keys;
        j->inflight += count;
        j->refs++; /* the chunk's */
        if (ws->tail) {
            ws->tail->next = c;
        } else {
            ws->head = c;
            c->started = ppool__now(); /* an idle worker begins it at once */
        }
        ws->tail = c;
        ws->ninflight += c->weight;
        ws->assigned += count;
        ws->drained = 0; /* it may have something to give again */
        ws->fed = 1;
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
            ws->ninflight -= c->weight;
            ws->assigned -= count;
            ppool__fail_chunk(p, c, rc, "out of memory for the task frame");
            ppool__chunk_done(p, c);
        }
        return 1;
    }
    return 0;
}

/* Hands out chunks while workers have credits and jobs have work: idle
 * workers first, then second credits, so no worker queues work while
 * another sits idle. */
void ppool__dispatch(ppool *p)
{
    if (p->state == POOL_DOWN) return;
    for (int progress = 1; progress;) {
        progress = 0;
        int most = credits(p) > PPOOL__CREDITS_RELAY ? credits(p) : PPOOL__CREDITS_RELAY;
        for (int level = 0; level < most && !progress; level++)
            for (int w = 0; w < p->nworkers; w++)
                if (p->w[w].state == W_READY && !p->w[w].stuck && p->w[w].ninflight == level &&
                    level < slot_credits(p, &p->w[w]))
                    progress |= dispatch_one(p, w);
    }
}

/* ---------- events ---------- */

/* worker.c: the worker side: binding, initializer, Hello, and running task chunks. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ppool.pb-c.h"
#include "ppool_impl.h"

struct ppool_task {
    size_t index;
    char *buf; /* results of the chunk so far */
    size_t len, cap;
    size_t item_start; /* where the running item's result begins */
    int failed;
    char err[PPOOL__ERRMSG];
};

static int reserve(ppool_task *t, size_t more)
{
    if (t->len + more <= t->cap) return 0;
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->len + more) cap *= 2;
    char *b = realloc(t->buf, cap);
    if (!b) return PPOOL_ENOMEM;
    t->buf = b;
    t->cap = cap;
    return 0;
}

int ppool_task_return(ppool_task *t, const void *data, size_t len)
{
    if (!t || (!data && len)) return PPOOL_EINVAL;
    t->len = t->item_start; /* a later call replaces the result */
    if (reserve(t, len)) return PPOOL_ENOMEM;
    if (len) memcpy(t->buf + t->len, data, len);
    t->len += len;
    return 0;
}

int ppool_task_fail(ppool_task *t, const char *fmt, ...)
{
    if (!t) return PPOOL_EINVAL;
    t->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt ? fmt : "failed", ap);
    va_end(ap);
    return PPOOL_ETASK;
}

size_t ppool_task_index(const ppool_task *t)
{
    return t ? t->index : 0;
}

/* Runs fn on one item; fills st (0 or error) and err; result bytes are
 * appended to t->buf. */
static int run_item(ppool_task *t, ppool_fn fn, size_t index, const void *arg, size_t len,
                    char *err, size_t errlen)
{
    t->index = index;
    t->item_start = t->len;
    t->failed = 0;
    t->err[0] = 0;
    int rc = fn(t, arg, len);
    if (rc >= 0 && !t->failed && t->len > PPOOL__MAX_FRAME / 2) {
        size_t total = t->len;
        t->len = t->item_start;
        snprintf(err, errlen, "the chunk's results reach %zu bytes, over the %u-byte limit", total,
                 PPOOL__MAX_FRAME / 2);
        return PPOOL_ETASK;
    }
    if (rc >= 0 && !t->failed) return 0;
    t->len = t->item_start;
    if (t->failed) {
        ppool__strlcpy(err, t->err, errlen);
        return PPOOL_ETASK;
    }
    snprintf(err, errlen, "returned %d", rc);
    return PPOOL_ETASK; /* a negative return is a task failure, whatever its value */
}

/* Binds, runs the initializer and packs the Hello of worker `worker`. */
static int hello(ppool__wctx *c, int worker, const char *bind_to, void **out, size_t *out_len)
{
    c->worker = worker;
    /* Chunks come and go in the same sizes: keep freed memory in the heap
     * rather than mapping fresh (zeroed, faulting) pages for every chunk. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
    if (bind_to && bind_to[0]) (void)ppool__topo_bind(bind_to); /* best effort: reported in Hello */
    Ppool__Hello h = PPOOL__HELLO__INIT;
    char host[64] = "", ierr[PPOOL__ERRMSG] = "";
    gethostname(host, sizeof host - 1);
    char *cpuset = ppool__topo_current();
    h.version = PPOOL__PROTO_VERSION;
    h.worker = (uint32_t)worker;
    h.pid = (int32_t)getpid();
    h.host = host;
    h.cpuset = cpuset ? cpuset : "";
    h.digest = c->reg->digest;
    if (c->init_fn) {
        ppool_fn fn = ppool__registry_find(c->reg, c->init_fn);
        if (!fn) {
            h.init_status = PPOOL_ENOFUNC;
            snprintf(ierr, sizeof ierr, "initializer '%s' is not registered", c->init_fn);
        } else {
            ppool_task t = {0};
            h.init_status = run_item(&t, fn, 0, c->initarg, c->initarg_len, ierr, sizeof ierr);
            free(t.buf);
        }
        h.init_error = ierr;
    }
    Ppool__Frame f = PPOOL__FRAME__INIT;
    f.msg_case = PPOOL__FRAME__MSG_HELLO;
    f.hello = &h;
    int rc = ppool__frame_pack(&f, NULL, 0, out, out_len);
    free(cpuset);
    return rc;
}

static int worker_start(void *vctx, int worker, volatile uint64_t *current, void **out,
                        size_t *out_len)
{
    ppool__wctx *c = vctx;
    c->current = current;
    if (current) __atomic_store_n(&current[1], 0, __ATOMIC_RELEASE);
    return hello(c, worker, c->cpusets ? c->cpusets[worker] : NULL, out, out_len);
}

static void worker_attach(void *vctx, volatile uint64_t *current)
{
    ppool__wctx *c = vctx;
    c->current = current;
    if (current) __atomic_store_n(&current[1], 0, __ATOMIC_RELEASE);
}

/* An Init from a master that shares no memory with this worker: its
 * initializer and argument, answered with the Hello. */
static int run_init(ppool__wctx *c, const Ppool__Init *in, void **out, size_t *out_len)
{
    c->init_fn = in->fn && in->fn[0] ? in->fn : NULL;
    c->initarg = in->arg.data;
    c->initarg_len = in->arg.len;
    int rc = hello(c, (int)in->worker, in->cpuset, out, out_len);
    c->init_fn = NULL; /* they point into the frame */
    c->initarg = NULL;
    c->initarg_len = 0;
    return rc;
}

/* Records item i's failure; the status and error arrays appear at the first. */
static int note_failure(size_t count, size_t i, int st, const char *err, int32_t **status,
                        char ***errs, size_t *nerr)
{
    if (!*status) {
        *status = calloc(count, sizeof **status);
        *errs = calloc(count, sizeof **errs);
        if (!*status || !*errs) return PPOOL_ENOMEM;
    }
    (*status)[i] = st;
    (*errs)[*nerr] = strdup(err);
    return (*errs)[(*nerr)++] ? 0 : PPOOL_ENOMEM;
}

/* Runs a Task and packs its Result. Per-item arrays are only built when
 * needed: statuses at the first failure, sizes at the first size that
 * differs from the others. */
static int run_task(ppool__wctx *c, const Ppool__Task *tk, const char *bulk, size_t bulk_len,
                    void **out, size_t *out_len)
{
    size_t count = tk->count;
    if ((!tk->uniform && tk->n_lens != count) || (tk->uniform && tk->item_size * count != bulk_len))
        return PPOOL_EPROTO;
    ppool_fn fn = ppool__registry_find(c->reg, tk->fn);
    ppool_task t = {0};
    int32_t *status = NULL;
    char **errs = NULL;
    uint64_t *lens = NULL, size0 = 0;
    size_t nerr = 0, off = 0;
    int rc = 0;
    double t0 = ppool__now();
    for (size_t i = 0; rc == 0 && i < count; i++) {
        size_t len = tk->uniform ? tk->item_size : tk->lens[i];
        if (!tk->uniform) off = PPOOL__ALIGN_UP(off); /* variable items start aligned */
        if (off > bulk_len || len > bulk_len - off) {
            rc = PPOOL_EPROTO;
            break;
        }
        char err[PPOOL__ERRMSG];
        size_t before = t.len;
        int st;
        if (!fn) {
            st = PPOOL_ENOFUNC;
            snprintf(err, sizeof err, "function '%s' is not registered in this worker", tk->fn);
        } else {
            if (c->current) {
                __atomic_store_n(&c->current[0], tk->job, __ATOMIC_RELAXED);
                __atomic_store_n(&c->current[1], tk->first + i + 1, __ATOMIC_RELEASE);
            }
            st = run_item(&t, fn, tk->first + i, bulk + off, len, err, sizeof err);
        }
        if (st) rc = note_failure(count, i, st, err, &status, &errs, &nerr);
        uint64_t size = t.len - before;
        if (i == 0) size0 = size;
        if (!lens && size != size0) {
            lens = malloc(count * sizeof *lens);
            for (size_t k = 0; lens && k < i; k++) lens[k] = size0;
            if (!lens) rc = PPOOL_ENOMEM;
        }
        if (lens) lens[i] = size;
        off += len;
    }
    double busy = ppool__now() - t0;
    if (c->current) __atomic_store_n(&c->current[1], 0, __ATOMIC_RELEASE);
    if (rc == 0) {
        Ppool__Result r = PPOOL__RESULT__INIT;
        r.job = tk->job;
        r.first = tk->first;
        r.count = (uint32_t)count;
        if (nerr) {
            r.n_status = count;
            r.status = status;
            r.n_errors = nerr;
            r.errors = errs;
        }
        r.uniform = lens == NULL;
        if (r.uniform) {
            r.item_size = size0;
        } else {
            r.n_lens = count;
            r.lens = lens;
        }
        r.busy = busy;
        r.bulk_len = t.len;
        Ppool__Frame f = PPOOL__FRAME__INIT;
        f.msg_case = PPOOL__FRAME__MSG_RESULT;
        f.result = &r;
        rc = ppool__frame_pack(&f, t.buf, t.len, out, out_len);
    }
    for (size_t i = 0; errs && i < nerr; i++) free(errs[i]);
    free(errs);
    free(status);
    free(lens);
    free(t.buf);
    return rc;
}

static int worker_run(void *vctx, const void *frame, size_t len, void **out, size_t *out_len)
{
    ppool__wctx *c = vctx;
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
        rc = run_task(c, m->task, bulk, bulk_len, out, out_len);
        break;
    case PPOOL__FRAME__MSG_INIT:
        rc = run_init(c, m->init, out, out_len);
        break;
    case PPOOL__FRAME__MSG_SHUTDOWN:
        rc = 1;
        break;
    default:
        rc = PPOOL_EPROTO;
    }
    ppool__frame_release(m);
    return rc;
}

const ppool__worker_ops ppool__worker_ops_template = {
    .ctx = NULL,
    .start = worker_start,
    .run = worker_run,
    .attach = worker_attach,
};

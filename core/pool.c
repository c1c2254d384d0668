/* pool.c: a pool's life: options and environment, open, close, join, terminate, free. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "ppool_impl.h"

#define PPOOL__MAX_WORKERS 4096

/* A positive integer from the environment: 0 if unset, < 0 if malformed. */
static long env_positive(const char *name, const char **raw)
{
    const char *v = getenv(name);
    *raw = v;
    if (!v || !*v) return 0;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || x <= 0) return -1;
    return x;
}

static int env_true(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0 && strcasecmp(v, "no") != 0 &&
           strcasecmp(v, "false") != 0;
}

/* Resolves options: code beats environment beats default. */
static int resolve(ppool *p, const ppool_opts *in)
{
    ppool_opts o = in ? *in : (ppool_opts)PPOOL_OPTS_INIT;
    const char *raw;
    if (o.workers < 0 || o.workers > PPOOL__MAX_WORKERS)
        return ppool__fail(NULL, PPOOL_EINVAL, "workers = %d is outside 0..%d", o.workers,
                           PPOOL__MAX_WORKERS);
    if (o.workers == 0) {
        long w = env_positive("PPOOL_WORKERS", &raw);
        if (w < 0 || w > PPOOL__MAX_WORKERS)
            return ppool__fail(NULL, PPOOL_EINVAL, "PPOOL_WORKERS='%s' is not a count in 1..%d",
                               raw, PPOOL__MAX_WORKERS);
        o.workers = w ? (int)w : ppool_cpu_count();
    }
    if (!o.transport || !*o.transport) o.transport = getenv("PPOOL_TRANSPORT");
    if (!o.transport || !*o.transport) o.transport = "auto";
    if (strcmp(o.transport, "auto") == 0 || strcmp(o.transport, "local") == 0) {
        p->T = &ppool__local_transport;
    } else if (strcmp(o.transport, "mpi") == 0) {
        return ppool__fail(
            NULL, PPOOL_ETRANSPORT,
            "transport 'mpi' is not built into this ppool (configure with MPI found)");
    } else {
        return ppool__fail(NULL, PPOOL_EINVAL, "transport '%s' is not one of auto, local, mpi",
                           o.transport);
    }
    ppool__strlcpy(p->transport_name, p->T->name, sizeof p->transport_name);
    o.transport = p->transport_name;
    if (!o.bind || !*o.bind) o.bind = getenv("PPOOL_BIND");
    if (o.chunksize == 0) {
        long c = env_positive("PPOOL_CHUNKSIZE", &raw);
        if (c < 0)
            return ppool__fail(NULL, PPOOL_EINVAL, "PPOOL_CHUNKSIZE='%s' is not a positive count",
                               raw);
        o.chunksize = (size_t)c;
    }
    if (o.task_timeout < 0 || isnan(o.task_timeout) || isinf(o.task_timeout))
        return ppool__fail(NULL, PPOOL_EINVAL,
                           "task_timeout = %g must be 0 (none) or positive seconds",
                           o.task_timeout);
    if (env_true("PPOOL_PROGRESS")) o.flags |= PPOOL_PROGRESS;
    if (o.initarg_len && !o.initarg)
        return ppool__fail(NULL, PPOOL_EINVAL, "initarg is NULL but initarg_len is %zu",
                           o.initarg_len);
    if (o.initializer) {
        if (!ppool__registry_find(&p->reg, o.initializer))
            return ppool__fail(NULL, PPOOL_ENOFUNC, "initializer '%s' is not registered",
                               o.initializer);
        p->initializer = strdup(o.initializer);
        if (!p->initializer) return ppool__fail(NULL, PPOOL_ENOMEM, "out of memory");
        o.initializer = p->initializer;
    }
    if (o.initarg_len) {
        p->initarg = malloc(o.initarg_len);
        if (!p->initarg) return ppool__fail(NULL, PPOOL_ENOMEM, "out of memory for initarg");
        memcpy(p->initarg, o.initarg, o.initarg_len);
    }
    o.initarg = p->initarg;
    char err[256] = "";
    int rc = ppool__topo_plan(o.bind, o.workers, &p->cpusets, err, sizeof err);
    if (rc) return ppool__fail(NULL, rc, "%s", err);
    o.bind = NULL; /* the plan holds it; the caller's string is not kept */
    p->o = o;
    p->nworkers = o.workers;
    return 0;
}

/* Releases what the pool owns; the last reference does it. */
static void destroy(ppool *p)
{
    if (p->tst) {
        free(p->tst);
    }
    ppool__topo_plan_free(p->cpusets, p->nworkers);
    ppool__registry_release(&p->reg);
    free(p->initializer);
    free(p->initarg);
    free(p->w);
    free(p->callbacks);
    if (p->wctx.current) munmap((void *)p->wctx.current, p->current_len);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void ppool__pool_unref(ppool *p)
{
    if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) destroy(p);
}

/* Asks every ready worker to leave its serve loop. */
static void say_shutdown(ppool *p)
{
    for (int i = 0; i < p->nworkers; i++)
        if (p->w[i].state == W_READY) ppool__send_shutdown(p, i);
}

/* Stops the dispatcher thread (if any) and closes the transport. */
static void shut_down(ppool *p, int now)
{
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->idle);
    pthread_mutex_unlock(&p->mu);
    if (p->thread_started) {
        p->T->wake(p->tst);
        pthread_join(p->thread, NULL);
        p->thread_started = 0;
    }
    if (p->tst) {
        if (now)
            p->T->kill(p->tst, -1);
        else
            say_shutdown(p);
        p->T->close(p->tst);
    }
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nworkers; i++) {
        ppool__wslot *ws = &p->w[i];
        while (ws->head) {
            ppool__chunk *c = ws->head;
            ws->head = c->next;
            ppool__job *j = c->job;
            free(c);
            ppool__job_unref(j);
        }
        ws->tail = NULL;
        ws->ninflight = 0;
        if (ws->state != W_GONE) ws->state = W_DOWN;
    }
    p->state = POOL_DOWN;
    pthread_mutex_unlock(&p->mu);
}

int ppool_open(ppool **pool, const ppool_opts *opts)
{
    if (!pool) return ppool__fail(NULL, PPOOL_EINVAL, "ppool_open: NULL pool pointer");
    *pool = NULL;
    ppool *p = calloc(1, sizeof *p);
    if (!p) return ppool__fail(NULL, PPOOL_ENOMEM, "out of memory for the pool");
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->idle, &ca);
    pthread_condattr_destroy(&ca);
    p->refs = 1;
    int rc = ppool__registry_snapshot(&p->reg);
    if (rc) {
        destroy(p);
        return ppool__fail(NULL, rc, "out of memory copying the registry");
    }
    rc = resolve(p, opts);
    if (rc) {
        destroy(p);
        return rc;
    }
    p->w = calloc((size_t)p->nworkers, sizeof *p->w);
    p->tst = calloc(1, p->T->state_size);
    if (!p->w || !p->tst) {
        destroy(p);
        return ppool__fail(NULL, PPOOL_ENOMEM, "out of memory for %d workers", p->nworkers);
    }
    p->current_len = 2 * sizeof(uint64_t) * (size_t)p->nworkers;
    void *cur =
        mmap(NULL, p->current_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    p->wctx = (ppool__wctx){.reg = &p->reg,
                            .cpusets = p->cpusets,
                            .init_fn = p->initializer,
                            .initarg = p->initarg,
                            .initarg_len = p->o.initarg_len,
                            .task_timeout = p->o.task_timeout,
                            .current = cur == MAP_FAILED ? NULL : cur};
    p->wops = ppool__worker_ops_template;
    p->wops.ctx = &p->wctx;
    for (int i = 0; i < p->nworkers; i++) p->w[i].state = W_STARTING;
    ppool__topen to = {.workers = p->nworkers, .wops = &p->wops, .max_frame = PPOOL__MAX_FRAME};
    char err[256] = "";
    rc = p->T->open(p->tst, &to, err, sizeof err);
    if (rc == 0)
        rc = ppool__wait_hellos(p, 60.0);
    else
        ppool__fail(NULL, rc, "%s", err);
    if (rc == 0) {
        for (int i = 0; i < p->nworkers; i++) p->w[i].spawns = 1;
        p->state = POOL_OPEN; /* before the dispatcher thread reads it */
        if (pthread_create(&p->thread, NULL, ppool__dispatcher, p) != 0)
            rc = ppool__fail(NULL, PPOOL_ESYS, "cannot start the dispatcher thread");
        else
            p->thread_started = 1;
    }
    if (rc) {
        char keep[PPOOL__ERRMSG];
        ppool__strlcpy(keep, ppool_errmsg(NULL), sizeof keep);
        shut_down(p, 1);
        destroy(p);
        return ppool__fail(NULL, rc, "%s", keep);
    }
    ppool__debug(
        "pool open: %d workers, transport %s, chunksize %zu%s, retries %u, task_timeout %g",
        p->nworkers, p->transport_name, p->o.chunksize, p->o.chunksize ? "" : " (adaptive)",
        p->o.retries, p->o.task_timeout);
    *pool = p;
    return 0;
}

int ppool_size(const ppool *p)
{
    return p ? p->nworkers : PPOOL_EINVAL;
}

const char *ppool_transport(const ppool *p)
{
    return p ? p->transport_name : NULL;
}

int ppool_close(ppool *p)
{
    if (!p) return ppool__fail(NULL, PPOOL_EINVAL, "ppool_close: NULL pool");
    pthread_mutex_lock(&p->mu);
    if (p->state == POOL_OPEN) p->state = POOL_CLOSED;
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int ppool_join(ppool *p)
{
    if (!p) return ppool__fail(NULL, PPOOL_EINVAL, "ppool_join: NULL pool");
    pthread_mutex_lock(&p->mu);
    if (p->state == POOL_OPEN) {
        pthread_mutex_unlock(&p->mu);
        return ppool__fail(p, PPOOL_EINVAL,
                           "ppool_join: call ppool_close or ppool_terminate first");
    }
    while (p->state == POOL_CLOSED && p->jobs) ppool__cond_wait(p, &p->idle, -1);
    int down = p->state == POOL_DOWN;
    pthread_mutex_unlock(&p->mu);
    if (!down) shut_down(p, 0);
    return 0;
}

int ppool_terminate(ppool *p)
{
    if (!p) return ppool__fail(NULL, PPOOL_EINVAL, "ppool_terminate: NULL pool");
    pthread_mutex_lock(&p->mu);
    int down = p->state == POOL_DOWN;
    if (!down) {
        p->state = POOL_CLOSED;
        p->stopping = 1;
    }
    pthread_mutex_unlock(&p->mu);
    if (down) return 0;
    /* Kill first, so no result of a dying worker lands after the jobs failed. */
    shut_down(p, 1);
    pthread_mutex_lock(&p->mu);
    ppool__fail_all(p, PPOOL_ECLOSED, "the pool was terminated");
    pthread_mutex_unlock(&p->mu);
    /* Callbacks of jobs failed here run on this thread. */
    pthread_mutex_lock(&p->mu);
    ppool__run_callbacks(p);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void ppool_free(ppool *p)
{
    if (!p) return;
    ppool_terminate(p);
    if (p->o.flags & PPOOL_STATS) ppool__print_stats(p);
    ppool__pool_unref(p);
}

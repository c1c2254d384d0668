/* pool.c: a pool's life: options and environment, open, close, join, terminate, free. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A count >= 0 from the environment: -1 if unset, -2 if malformed. */
static long env_count(const char *name, const char **raw)
{
    const char *v = getenv(name);
    *raw = v;
    if (!v || !*v) return -1;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || x < 0 || x > 1000000) return -2;
    return x;
}

/* retries: code (non-zero), else PPOOL_RETRIES (0 allowed: none), else the
 * default; PPOOL_NO_RETRIES in flags means none. */
static int resolve_retries(ppool_opts *o)
{
    const char *raw;
    if (o->flags & PPOOL_NO_RETRIES) {
        o->retries = 0;
        return 0;
    }
    if (o->retries) return 0;
    long r = env_count("PPOOL_RETRIES", &raw);
    if (r == -2)
        return ppool__fail(NULL, PPOOL_EINVAL, "PPOOL_RETRIES='%s' is not a count in 0..1000000",
                           raw);
    o->retries = r >= 0 ? (unsigned)r : PPOOL__DEFAULT_RETRIES;
    return 0;
}

/* The start method: code, else PPOOL_START, else fork; "spawn" picks the
 * transport's spawning variant (a transport without one ignores it). */
static int resolve_start(ppool *p, ppool_opts *o)
{
    const char *s = o->start && *o->start ? o->start : getenv("PPOOL_START");
    if (!s || !*s || strcmp(s, "auto") == 0 || strcmp(s, "fork") == 0) return 0;
    if (strcmp(s, "spawn") != 0)
        return ppool__fail(NULL, PPOOL_EINVAL, "start '%s' is not one of auto, fork, spawn", s);
    if (p->T->spawn)
        p->T = p->T->spawn;
    else
        ppool__debug("start 'spawn' ignored: transport '%s' starts its own workers", p->T->name);
    return 0;
}

/* PPOOL_PROGRESS: unset or 0, 1 (the bar on a terminal), or force (also
 * into a file or pipe); the flag PPOOL_PROGRESS is as 1. */
static int resolve_progress(ppool *p, ppool_opts *o)
{
    const char *v = getenv("PPOOL_PROGRESS");
    int force = v && strcmp(v, "force") == 0;
    if (v && *v && !force && strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
        return ppool__fail(NULL, PPOOL_EINVAL, "PPOOL_PROGRESS='%s' is not 0, 1 or force", v);
    if (force || (v && strcmp(v, "1") == 0)) o->flags |= PPOOL_PROGRESS;
    p->progress_shown = (o->flags & PPOOL_PROGRESS) && (force || isatty(2));
    return 0;
}

/* PPOOL_DISPATCH: "thread" (default) or "inline" (no dispatcher thread:
 * calls to the pool drive it; a transport may require it). */
static int resolve_dispatch(ppool *p)
{
    const char *v = getenv("PPOOL_DISPATCH");
    if (!v || !*v || strcmp(v, "thread") == 0) return 0;
    if (strcmp(v, "inline") != 0)
        return ppool__fail(NULL, PPOOL_EINVAL, "PPOOL_DISPATCH='%s' is not thread or inline", v);
    p->inline_progress = 1;
    return 0;
}

/* Under a launcher of several processes, "auto" in a build without the MPI
 * transport would run one whole pool per process: refused, naming the
 * variable seen, unless the caller asked for "local" (one pool per rank). */
static int refuse_launcher(const char *asked)
{
    char var[96];
    if (strcmp(asked, "auto") != 0 || !ppool__launched(var, sizeof var)) return 0;
    return ppool__fail(NULL, PPOOL_ETRANSPORT,
                       "started by an MPI launcher (%s), but this ppool is built without the MPI "
                       "transport (built: %s): each process would run its own whole pool. Rebuild "
                       "with MPI, or ask for one local pool per rank on purpose with transport = "
                       "\"local\" (PPOOL_TRANSPORT=local)",
                       var, ppool__transports_built());
}

/* Checks and copies the initializer and its argument into the pool. */
static int keep_initializer(ppool *p, ppool_opts *o)
{
    if (o->initarg_len && !o->initarg)
        return ppool__fail(NULL, PPOOL_EINVAL, "initarg is NULL but initarg_len is %zu",
                           o->initarg_len);
    if (o->initializer) {
        /* Where workers run their own copy of the program (MPI), each
         * checks its own registry and says so in its Hello: a rank that
         * returned here would leave the others waiting for it. */
        if ((p->T->caps & PPOOL__INHERITS) && !ppool__registry_find(&p->reg, o->initializer))
            return ppool__fail(NULL, PPOOL_ENOFUNC, "initializer '%s' is not registered",
                               o->initializer);
        p->initializer = strdup(o->initializer);
        if (!p->initializer) return ppool__fail(NULL, PPOOL_ENOMEM, "out of memory");
        o->initializer = p->initializer;
    }
    if (o->initarg_len) {
        p->initarg = malloc(o->initarg_len);
        if (!p->initarg) return ppool__fail(NULL, PPOOL_ENOMEM, "out of memory for initarg");
        memcpy(p->initarg, o->initarg, o->initarg_len);
    }
    o->initarg = p->initarg;
    return 0;
}

/* A sub-master's pool on its group (PPOOL__SUB): its options come from the
 * master above (Init), none from the environment; MPI, driven inline. */
static int resolve_sub(ppool *p, ppool_opts o)
{
    p->sub = p->inline_progress = 1;
    p->T = ppool__transport_find("mpi");
    if (!p->T) return ppool__fail(NULL, PPOOL_ETRANSPORT, "no MPI transport for a sub-master");
    ppool__strlcpy(p->transport_name, p->T->name, sizeof p->transport_name);
    o.transport = p->transport_name;
    o.flags &= ~PPOOL__SUB;
    o.workers = 0;
    o.chunksize = 0; /* each chunk says its own */
    o.maxtasksperchild = 0;
    o.journal = NULL; /* the master above keeps it */
    if (o.flags & PPOOL_NO_RETRIES) o.retries = 0;
    int rc = keep_initializer(p, &o);
    p->o = o;
    return rc;
}

/* Resolves options: code beats environment beats default. */
static int resolve(ppool *p, const ppool_opts *in)
{
    ppool_opts o = *in;
    const char *raw;
    if (o.flags & PPOOL__SUB) return resolve_sub(p, o);
    if (o.workers < 0 || o.workers > PPOOL__MAX_WORKERS)
        return ppool__fail(NULL, PPOOL_EINVAL, "workers = %d is outside 0..%d", o.workers,
                           PPOOL__MAX_WORKERS);
    if (o.workers == 0) { /* PPOOL_WORKERS=0, as workers = 0, means the default */
        long w = env_count("PPOOL_WORKERS", &raw);
        if (w == -2 || w > PPOOL__MAX_WORKERS)
            return ppool__fail(NULL, PPOOL_EINVAL, "PPOOL_WORKERS='%s' is not a count in 0..%d",
                               raw, PPOOL__MAX_WORKERS);
        o.workers = w > 0 ? (int)w : 0; /* still 0: the transport's default */
    }
    if (!o.transport || !*o.transport) o.transport = getenv("PPOOL_TRANSPORT");
    if (!o.transport || !*o.transport) o.transport = "auto";
    p->T = ppool__transport_find(o.transport);
    if (!p->T && (strcmp(o.transport, "mpi") == 0 || strcmp(o.transport, "local") == 0))
        return ppool__fail(NULL, PPOOL_ETRANSPORT,
                           "transport '%s' is not built into this ppool (built: %s; configure "
                           "with MPI found for mpi)",
                           o.transport, ppool__transports_built());
    if (!p->T)
        return ppool__fail(NULL, PPOOL_EINVAL, "transport '%s' is not one of auto, local, mpi",
                           o.transport);
    if ((p->T->caps & PPOOL__CAN_PIN) && refuse_launcher(o.transport)) return PPOOL_ETRANSPORT;
    if (resolve_start(p, &o)) return PPOOL_EINVAL;
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
    if (resolve_progress(p, &o) || resolve_dispatch(p)) return PPOOL_EINVAL;
    if (resolve_retries(&o)) return PPOOL_EINVAL;
    if (!o.journal || !*o.journal) o.journal = getenv("PPOOL_JOURNAL");
    if (o.journal && *o.journal && !(o.journal = p->journal_path = strdup(o.journal)))
        return ppool__fail(NULL, PPOOL_ENOMEM, "out of memory");
    int rc = keep_initializer(p, &o);
    if (rc) return rc;
    if (o.maxtasksperchild && !(p->T->caps & PPOOL__CAN_RESPAWN)) {
        ppool__debug("maxtasksperchild ignored: transport '%s' cannot replace workers", p->T->name);
        o.maxtasksperchild = 0;
    }
    if (p->T->caps & PPOOL__CAN_PIN) { /* elsewhere the launcher placed the workers */
        if (o.workers == 0) o.workers = ppool_cpu_count();
        char err[256] = "";
        rc = ppool__topo_plan(o.bind, o.workers, &p->cpusets, err, sizeof err);
        if (rc) return ppool__fail(NULL, rc, "%s", err);
        p->nplanned = o.workers;
    }
    p->o = o; /* p->nworkers is set once the transport has started them */
    return 0;
}

/* Releases what the pool owns; the last reference does it. */
static void destroy(ppool *p)
{
    if (p->tst) {
        free(p->tst);
    }
    ppool__topo_plan_free(p->cpusets, p->nplanned);
    ppool__registry_release(&p->reg);
    ppool__journal_close(p->journal);
    free(p->journal_path);
    free(p->initializer);
    free(p->initarg);
    free(p->w);
    free(p->callbacks);
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
    if (p->closing) { /* another thread shuts it down: wait for it */
        while (p->state != POOL_DOWN) pthread_cond_wait(&p->idle, &p->mu);
        pthread_mutex_unlock(&p->mu);
        return;
    }
    p->closing = 1;
    p->stopping = 1;
    pthread_cond_broadcast(&p->idle);
    if (p->inline_progress) { /* the caller driving ends its pass, then the loop's last duties */
        p->T->wake(p->tst);
        while (p->driving) pthread_cond_wait(&p->idle, &p->mu);
        if (p->state == POOL_OPEN || p->state == POOL_CLOSED) ppool__drive_last(p);
    }
    pthread_mutex_unlock(&p->mu);
    if (p->thread_started) {
        p->T->wake(p->tst);
        pthread_join(p->thread, NULL);
        p->thread_started = 0;
    }
    if (p->tst) {
        if (now && (p->T->caps & PPOOL__CAN_KILL)) {
            p->T->kill(p->tst, -1);
        } else {
            /* Workers that cannot be killed are told to leave; those still
             * busy (terminated, or timed out) are not waited for. */
            say_shutdown(p);
            for (int i = 0; i < p->nworkers; i++)
                if (p->w[i].head && !(p->T->caps & PPOOL__CAN_KILL)) p->T->kill(p->tst, i);
        }
        p->T->close(p->tst);
    }
    pthread_mutex_lock(&p->mu);
    ppool__journal_close(p->journal); /* what was recorded goes out */
    p->journal = NULL;
    ppool__drop_inflight(p, PPOOL_ECLOSED);
    for (int i = 0; i < p->nworkers; i++)
        if (p->w[i].state != W_GONE) p->w[i].state = W_DOWN;
    p->state = POOL_DOWN;
    pthread_cond_broadcast(&p->idle); /* a caller waiting for a flush: the transport is closed */
    pthread_mutex_unlock(&p->mu);
}

/* Starts the transport and waits for every worker's Hello. 0 on the
 * master, PPOOL_WORKER where this process served, or < 0 (errmsg set). */
static int start_workers(ppool *p, const void *where, const ppool__worker_ops *relay)
{
    p->wctx = (ppool__wctx){.reg = &p->reg,
                            .cpusets = p->cpusets,
                            .init_fn = p->initializer,
                            .initarg = p->initarg,
                            .initarg_len = p->o.initarg_len};
    p->wops = ppool__worker_ops_template;
    p->wops.ctx = &p->wctx;
    ppool__topen to = {.workers = p->o.workers,
                       .where = where,
                       .wops = &p->wops,
                       .max_frame = PPOOL__MAX_FRAME,
                       .inline_progress = p->inline_progress,
                       .use_clock = ppool__clock_from,
                       .relay = p->sub ? NULL : relay,
                       .sub = p->sub};
    char err[400] = "";
    int rc = p->T->open(p->tst, &to, err, sizeof err);
    if (rc) return rc == PPOOL_WORKER ? rc : ppool__fail(NULL, rc, "%s", err);
    p->nworkers = p->o.workers = to.workers;
    p->here = to.here - 1;
    p->inline_progress = to.inline_progress;
    p->w = calloc((size_t)p->nworkers, sizeof *p->w);
    if (!p->w) return ppool__fail(NULL, PPOOL_ENOMEM, "out of memory for %d workers", p->nworkers);
    for (int i = 0; i < p->nworkers; i++) {
        p->w[i].state = W_STARTING;
        if (!(p->T->caps & PPOOL__INHERITS)) ppool__send_init(p, i);
    }
    rc = ppool__wait_hellos(p, PPOOL__START_SECONDS);
    for (int i = 0; i < p->nworkers; i++) p->capacity += p->w[i].capacity;
    return rc;
}

/* Allocates a pool with its options resolved; NULL with errmsg set. */
static ppool *create(const ppool_opts *opts, const char *transport, int *rc)
{
    ppool *p = calloc(1, sizeof *p);
    if (!p) {
        *rc = ppool__fail(NULL, PPOOL_ENOMEM, "out of memory for the pool");
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->idle, &ca);
    pthread_condattr_destroy(&ca);
    p->refs = 1;
    p->owner = ppool__self();
    ppool_opts o = opts ? *opts : (ppool_opts)PPOOL_OPTS_INIT;
    if (transport) o.transport = transport;
    *rc = ppool__registry_snapshot(&p->reg);
    if (*rc) *rc = ppool__fail(NULL, *rc, "out of memory copying the registry");
    if (*rc == 0) *rc = resolve(p, &o);
    if (*rc == 0) {
        p->tst = calloc(1, p->T->state_size);
        if (!p->tst) *rc = ppool__fail(NULL, PPOOL_ENOMEM, "out of memory for the transport");
    }
    if (*rc) {
        destroy(p);
        return NULL;
    }
    return p;
}

/* A process a transport re-executed to be a worker (start method "spawn")
 * serves here, whatever its own options say: PPOOL_WORKER once done. */
static int serve_if_spawned(void)
{
    ppool__registry reg;
    if (ppool__registry_snapshot(&reg)) return ppool__fail(NULL, PPOOL_ENOMEM, "out of memory");
    ppool__wctx c = {.reg = &reg};
    ppool__worker_ops w = ppool__worker_ops_template;
    w.ctx = &c;
    int rc = ppool__transport_serve_spawned(&w, PPOOL__MAX_FRAME);
    ppool__registry_release(&reg);
    return rc;
}

int ppool__open_on(ppool **pool, const ppool_opts *opts, const char *transport, const void *where,
                   const ppool__worker_ops *relay)
{
    if (!pool) return ppool__fail(NULL, PPOOL_EINVAL, "ppool_open: NULL pool pointer");
    *pool = NULL;
    int rc = serve_if_spawned();
    if (rc) return rc;
    ppool *p = create(opts, transport, &rc);
    if (!p) return rc;
    rc = start_workers(p, where, relay);
    if (rc == 0 && p->journal_path) rc = ppool__journal_open(p->journal_path, &p->journal);
    if (rc == 0) {
        for (int i = 0; i < p->nworkers; i++) p->w[i].spawns = 1;
        p->state = POOL_OPEN; /* before the dispatcher thread reads it */
        if (p->inline_progress) {
            p->drive = ppool__drive;
            ppool__debug("no dispatcher thread: work progresses inside calls to the pool");
        } else if (pthread_create(&p->thread, NULL, ppool__dispatcher, p) != 0)
            rc = ppool__fail(NULL, PPOOL_ESYS, "cannot start the dispatcher thread");
        else
            p->thread_started = 1;
    }
    if (rc == 0) rc = ppool__live_add(p);
    if (rc) {
        char keep[PPOOL__ERRMSG];
        ppool__strlcpy(keep, ppool_errmsg(NULL), sizeof keep);
        shut_down(p, 1);
        destroy(p);
        return rc == PPOOL_WORKER ? rc : ppool__fail(NULL, rc, "%s", keep);
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
    return p ? p->capacity : PPOOL_EINVAL;
}

const char *ppool_transport(const ppool *p)
{
    return p ? p->transport_name : NULL;
}

int ppool_close(ppool *p)
{
    if (ppool__check_pool(p, "ppool_close")) return PPOOL_EINVAL;
    pthread_mutex_lock(&p->mu);
    if (p->state == POOL_OPEN) p->state = POOL_CLOSED;
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int ppool_join(ppool *p)
{
    if (ppool__check_pool(p, "ppool_join") || ppool__on_dispatcher(p, "ppool_join"))
        return PPOOL_EINVAL;
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

/* Stops the workers now and fails outstanding work; callbacks of the jobs
 * failed here run on this thread (holding a reference: one may free the pool). */
static void terminate(ppool *p)
{
    pthread_mutex_lock(&p->mu);
    int down = p->state == POOL_DOWN;
    if (!down) {
        p->state = POOL_CLOSED;
        p->stopping = 1;
    }
    pthread_mutex_unlock(&p->mu);
    if (down) return;
    /* Kill first, so no result of a dying worker lands after the jobs failed. */
    shut_down(p, 1);
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_lock(&p->mu);
    ppool__fail_all(p, PPOOL_ECLOSED, "the pool was terminated");
    ppool__run_callbacks(p);
    pthread_mutex_unlock(&p->mu);
    ppool__pool_unref(p);
}

int ppool_terminate(ppool *p)
{
    if (ppool__check_pool(p, "ppool_terminate") || ppool__on_dispatcher(p, "ppool_terminate"))
        return PPOOL_EINVAL;
    terminate(p);
    return 0;
}

/* From a callback on the dispatcher thread, ppool_free does nothing (the
 * pool stays open, ppool_errmsg says why): that thread cannot stop itself. */
void ppool_free(ppool *p)
{
    if (!p || ppool__check_pool(p, "ppool_free") || ppool__on_dispatcher(p, "ppool_free"))
        return; /* a child leaves the parent's pool be; a pool freed twice is left alone */
    ppool__live_remove(p);
    terminate(p);
    if (p->o.flags & PPOOL_STATS) ppool__print_stats(p);
    ppool__pool_unref(p);
}

/* consumer.c: a user's program built against the installed ppool: the behaviour list end to end,
 * run plainly (forked workers) and unchanged under mpirun (rank 0 the master, the others workers).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ppool.h>

static ppool *P;
static int on_mpi; /* the master's pools run on MPI ranks */
static int served; /* this process is an MPI worker rank */
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "consumer: %s failed at line %d: %s\n", #c, __LINE__,                  \
                    ppool_errmsg(P));                                                              \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static long init_seen, init_runs;

static int cube(ppool_task *t, const void *arg, size_t len)
{
    long x = *(const long *)arg;
    if (x < 0) return ppool_task_fail(t, "negative %ld", x);
    long r = x * x * x;
    return ppool_task_return(t, &r, sizeof r);
}
static int upper(ppool_task *t, const void *arg, size_t len)
{
    char *s = malloc(len + 1);
    for (size_t i = 0; i < len; i++) s[i] = (char)(((const char *)arg)[i] & ~0x20);
    int rc = ppool_task_return(t, s, len);
    free(s);
    return rc;
}
static int nothing(ppool_task *t, const void *arg, size_t len)
{
    return 0;
}
static int too_big(ppool_task *t, const void *arg, size_t len)
{
    char b[12] = {0};
    return ppool_task_return(t, b, sizeof b);
}
static int nap(ppool_task *t, const void *arg, size_t len)
{
    double s = *(const double *)arg;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
    int pid = getpid();
    return ppool_task_return(t, &pid, sizeof pid);
}
static int init(ppool_task *t, const void *arg, size_t len)
{
    init_seen = *(const long *)arg;
    init_runs++;
    return 0;
}
static int probe(ppool_task *t, const void *arg, size_t len)
{
    long r[3] = {init_seen, init_runs, getpid()};
    return ppool_task_return(t, r, sizeof r);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *mapper(void *arg)
{
    long k = (long)arg, n = 40000;
    long *in = malloc((size_t)n * sizeof *in), *out = malloc((size_t)n * sizeof *out);
    for (long i = 0; i < n; i++) in[i] = (i + k) % 1000;
    CHECK(ppool_map(P, "cube", in, (size_t)n, sizeof *in, out, sizeof *out) == 0);
    for (long i = 0; i < n; i++) CHECK(out[i] == in[i] * in[i] * in[i]);
    free(in);
    free(out);
    return NULL;
}

static int calls;
static void on_done(ppool_async *a, void *user)
{
    __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
}

static void maps_and_errors(void)
{
    long one = 1, out1;
    CHECK(ppool_map(P, "cube", &one, 0, sizeof one, &out1, sizeof out1) == 0);
    for (size_t n = 100000; n <= 2000000; n += 1900000) {
        long *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
        for (size_t i = 0; i < n; i++) in[i] = (long)(i % 1000);
        CHECK(ppool_map(P, "cube", in, n, sizeof *in, out, sizeof *out) == 0);
        for (size_t i = 0; i < n; i++) CHECK(out[i] == in[i] * in[i] * in[i]);
        in[77] = -1;
        CHECK(ppool_map(P, "cube", in, n, sizeof *in, out, sizeof *out) == PPOOL_ETASK);
        CHECK(strstr(ppool_errmsg(P), "77") && strstr(ppool_errmsg(P), "negative -1"));
        free(in);
        free(out);
    }
    CHECK(ppool_map(P, "nope", &one, 1, sizeof one, &out1, sizeof out1) == PPOOL_ENOFUNC);
    CHECK(ppool_apply(P, "nope", &one, sizeof one, NULL) == PPOOL_ENOFUNC);
    CHECK(ppool_map(P, "too_big", &one, 1, sizeof one, &out1, sizeof out1) < 0);
    CHECK(ppool_map(NULL, "cube", &one, 1, sizeof one, &out1, sizeof out1) == PPOOL_EINVAL);
    CHECK(ppool_map(P, NULL, &one, 1, sizeof one, &out1, sizeof out1) == PPOOL_EINVAL);
    CHECK(ppool_map(P, "cube", NULL, 1, sizeof one, &out1, sizeof out1) == PPOOL_EINVAL);
    CHECK(ppool_register("cube", cube) < 0);
    ppool_buf words[2] = {{"hello", 5}, {"", 0}}, up[2];
    CHECK(ppool_map_bufs(P, "upper", words, 2, up) == 0);
    CHECK(up[0].len == 5 && memcmp(up[0].data, "HELLO", 5) == 0 && up[1].len == 0);
    ppool_buf_free(&up[0]);
    ppool_buf_free(&up[1]);
    ppool_buf r;
    CHECK(ppool_apply(P, "cube", &one, sizeof one, &r) == 0 && *(long *)r.data == 1);
    ppool_buf_free(&r);
    CHECK(ppool_apply(P, "nothing", NULL, 0, &r) == 0 && r.len == 0);
}

static void threads_and_async(void)
{
    pthread_t t[4];
    for (long k = 0; k < 4; k++) pthread_create(&t[k], NULL, mapper, (void *)k);
    for (int k = 0; k < 4; k++) pthread_join(t[k], NULL);
    ppool_async *a[200];
    long x[200];
    for (long i = 0; i < 200; i++) {
        x[i] = i;
        CHECK((a[i] = ppool_apply_async(P, "cube", &x[i], sizeof x[i])) != NULL);
        ppool_async_on_done(a[i], on_done, NULL);
    }
    for (long i = 0; i < 200; i++) {
        ppool_buf r;
        CHECK(ppool_async_get(a[i], &r, -1) == 0 && *(long *)r.data == i * i * i);
        ppool_async_free(a[i]);
    }
    CHECK(calls == 200);
    double half = 0.5;
    ppool_async *s = ppool_apply_async(P, "nap", &half, sizeof half);
    CHECK(ppool_async_get(s, NULL, 0.01) == PPOOL_ETIMEDOUT);
    CHECK(ppool_async_get(s, NULL, -1) == 0);
    ppool_async_free(s);
}

static void iterators(void)
{
    long in[100];
    for (long i = 0; i < 100; i++) in[i] = i == 50 ? -5 : i;
    ppool_iter *it = ppool_imap(P, "cube", in, 100, sizeof *in);
    size_t idx, n = 0;
    ppool_buf r;
    int rc;
    while ((rc = ppool_iter_next(it, &idx, &r, -1)) != PPOOL_EDONE) {
        CHECK(idx == n);
        if (idx == 50)
            CHECK(rc == PPOOL_ETASK);
        else
            CHECK(rc == 0 && *(long *)r.data == in[n] * in[n] * in[n]);
        n++;
    }
    CHECK(n == 100);
    ppool_iter_free(it);
    char seen[100] = {0};
    it = ppool_imap_unordered(P, "nothing", in, 100, sizeof *in);
    for (n = 0; (rc = ppool_iter_next(it, &idx, &r, -1)) != PPOOL_EDONE; n++) {
        CHECK(rc == 0 && idx < 100 && !seen[idx] && r.len == 0);
        seen[idx] = 1;
    }
    CHECK(n == 100);
    ppool_iter_free(it);
    double half = 0.5;
    it = ppool_imap(P, "nap", &half, 1, sizeof half);
    CHECK(ppool_iter_next(it, &idx, &r, 0.01) == PPOOL_ETIMEDOUT);
    CHECK(ppool_iter_next(it, &idx, &r, -1) == 0 && idx == 0);
    ppool_iter_free(it);
}

/* Every process calls ppool_open at the same points (SPMD): 1 where this
 * process served as an MPI worker and the master's section is skipped. */
static int open_pool(ppool **p, const ppool_opts *o)
{
    int rc = ppool_open(p, o);
    if (rc == PPOOL_WORKER) return served = 1;
    if (rc != 0) fprintf(stderr, "consumer: ppool_open: %s\n", ppool_errmsg(NULL));
    CHECK(rc == 0);
    on_mpi = strcmp(ppool_transport(*p), "mpi") == 0;
    return 0;
}

/* The launcher's process count (mpirun, srun), or NULL when started plainly. */
static const char *launched(void)
{
    const char *n = getenv("OMPI_COMM_WORLD_SIZE");
    return n ? n : getenv("SLURM_STEP_NUM_TASKS");
}

/* The default size: usable cores, or under a launcher one worker per rank but the master's. */
static int default_size(void)
{
    return on_mpi && launched() ? atoi(launched()) - 1 : ppool_cpu_count();
}

/* A streaming source of 5000 longs (0..4999); counts how far ahead the pool pulled. */
typedef struct {
    long next, x;
} counter;
static int count_up(void *user, const void **item, size_t *len)
{
    counter *c = user;
    if (c->next == 5000) return 0;
    c->x = c->next;
    __atomic_store_n(&c->next, c->x + 1, __ATOMIC_RELAXED);
    *item = &c->x;
    *len = sizeof c->x;
    return 1;
}

static void streaming(void)
{
    counter c = {0, 0};
    ppool_iter *it = ppool_imap_source(P, "cube", count_up, &c, 1);
    CHECK(it != NULL);
    size_t idx;
    ppool_buf r;
    long got = 0;
    while (ppool_iter_next(it, &idx, &r, -1) == 0) {
        CHECK((long)idx == got && *(long *)r.data == got * got * got);
        /* bounded: pulled only as workers need items (the dispatcher pulls meanwhile) */
        CHECK(__atomic_load_n(&c.next, __ATOMIC_RELAXED) - got <= 16384 + 1);
        got++;
    }
    CHECK(got == 5000);
    ppool_iter_free(it);
}

/* task_timeout: the item past its deadline fails with PPOOL_ETIMEDOUT naming it; the rest are done.
 */
static void timeouts(void)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.task_timeout = 2; /* 200 times a nap's 10 ms: no slowed run times one out */
    ppool *q;
    if (open_pool(&q, &o)) return;
    double naps[6] = {0.01, 5.0, 0.01, 0.01, 0.01, 0.01};
    int pids[6] = {0};
    P = q;
    CHECK(ppool_map(q, "nap", naps, 6, sizeof naps[0], pids, sizeof pids[0]) == PPOOL_ETIMEDOUT);
    CHECK(strstr(ppool_errmsg(q), "item 1") && strstr(ppool_errmsg(q), "timed out"));
    for (int i = 0; i < 6; i++) CHECK(i == 1 || pids[i] > 0);
    double quick = 0.01; /* the pool goes on (MPI: on the rank that is not held) */
    CHECK(ppool_apply(q, "nap", &quick, sizeof quick, NULL) == 0);
    P = NULL;
    ppool_free(q);
}

static void init_and_maxtasks(void)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    long arg = 31337;
    o.workers = 2;
    o.chunksize = 1;
    o.maxtasksperchild = 5;
    o.initializer = "init";
    o.initarg = &arg;
    o.initarg_len = sizeof arg;
    ppool *q;
    if (open_pool(&q, &o)) return;
    long in[20] = {0}, out[20][3];
    CHECK(ppool_map(q, "probe", in, 20, sizeof in[0], out, sizeof out[0]) == 0);
    int distinct = 0;
    for (int i = 0; i < 20; i++) {
        CHECK(out[i][0] == 31337 && out[i][1] == 1); /* the initializer ran once, with its arg */
        if (on_mpi) continue; /* MPI ranks are not replaced: maxtasksperchild does not apply */
        int same = 0, first = 1;
        for (int k = 0; k < 20; k++) {
            same += out[k][2] == out[i][2];
            if (k < i && out[k][2] == out[i][2]) first = 0;
        }
        CHECK(same <= 5);
        distinct += first;
    }
    CHECK(on_mpi || distinct >= 4);
    ppool_free(q);
}

static void lifecycle(void)
{
    ppool *q, *r2;
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.chunksize = 1;
    if (open_pool(&q, &o)) {
        open_pool(&r2, &o); /* a worker rank serves the second pool next */
        return;
    }
    o.workers = 1;
    if (!on_mpi) CHECK(open_pool(&r2, &o) == 0); /* two pools at once (MPI: ranks serve one) */
    double five = 5;
    ppool_async *a[4];
    for (int i = 0; i < 4; i++) a[i] = ppool_apply_async(q, "nap", &five, sizeof five);
    usleep(200000);
    double t0 = now();
    CHECK(ppool_terminate(q) == 0);
    printf("consumer: terminate took %.3f s (informational; ctest asserts no time)\n", now() - t0);
    for (int i = 0; i < 4; i++) {
        int rc = ppool_async_get(a[i], NULL, 1);
        CHECK(rc < 0 && rc != PPOOL_ETIMEDOUT);
        ppool_async_free(a[i]);
    }
    ppool_free(q);
    if (on_mpi) CHECK(open_pool(&r2, &o) == 0);
    long x = 3;
    ppool_buf r;
    CHECK(ppool_apply(r2, "cube", &x, sizeof x, &r) == 0 && *(long *)r.data == 27);
    ppool_buf_free(&r);
    CHECK(ppool_close(r2) == 0);
    CHECK(ppool_apply(r2, "cube", &x, sizeof x, NULL) == PPOOL_ECLOSED);
    CHECK(ppool_join(r2) == 0);
    ppool_free(r2);
    CHECK(waitpid(-1, NULL, WNOHANG) < 0); /* no process left */
}

int main(void)
{
    CHECK(ppool_register("cube", cube) == 0);
    CHECK(ppool_register("upper", upper) == 0);
    CHECK(ppool_register("nothing", nothing) == 0);
    CHECK(ppool_register("too_big", too_big) == 0);
    CHECK(ppool_register("nap", nap) == 0);
    CHECK(ppool_register("init", init) == 0);
    CHECK(ppool_register("probe", probe) == 0);
    if (!open_pool(&P, NULL)) {
        CHECK(ppool_size(P) == default_size());
        CHECK(strcmp(ppool_transport(P), launched() ? "mpi" : "local") == 0);
        maps_and_errors();
        threads_and_async();
        iterators();
        streaming();
        CHECK(ppool_close(P) == 0);
        CHECK(ppool_join(P) == 0);
        ppool_free(P);
        P = NULL;
    }
    init_and_maxtasks();
    timeouts();
    lifecycle();
    if (!served) printf("consumer: ppool %s ok%s\n", ppool_version(), on_mpi ? " on mpi" : "");
    return 0;
}

/* squares.c: the demo: CPU-bound and sleeping tasks on a pool, their speed-ups side by side; the
 * same binary runs plainly (forked workers) and under mpirun (one rank per worker). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ppool.h>

#define SLEEP_MS    10
#define SPIN_ROUNDS 10000000L /* some 20 ms of arithmetic on a core of the 2020s */
#define MAX_ITEMS   256

typedef struct {
    long value;     /* the square, or the checksum of the arithmetic */
    double seconds; /* what the task took: CPU time if it computes, wall time if it sleeps */
} answer;

static double seconds_of(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A sleeping task, I/O-like: squares a number after SLEEP_MS of sleep. */
static int compute_square(ppool_task *t, const void *arg, size_t len)
{
    if (len != sizeof(long)) return ppool_task_fail(t, "expected a long, got %zu bytes", len);
    double t0 = seconds_of(CLOCK_MONOTONIC);
    struct timespec nap = {0, SLEEP_MS * 1000 * 1000};
    nanosleep(&nap, NULL);
    long n = *(const long *)arg;
    answer a = {n * n, seconds_of(CLOCK_MONOTONIC) - t0};
    return ppool_task_return(t, &a, sizeof a);
}

/* A CPU-bound task: SPIN_ROUNDS rounds of xorshift from a seed; its CPU time is its cost. */
static int spin(ppool_task *t, const void *arg, size_t len)
{
    if (len != sizeof(long)) return ppool_task_fail(t, "expected a long, got %zu bytes", len);
    double t0 = seconds_of(CLOCK_THREAD_CPUTIME_ID);
    uint64_t x = (uint64_t) * (const long *)arg + 88172645463325252ull;
    for (long i = 0; i < SPIN_ROUNDS; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    answer a = {(long)(x & 0xffff), seconds_of(CLOCK_THREAD_CPUTIME_ID) - t0};
    return ppool_task_return(t, &a, sizeof a);
}

/* Maps fn over 1..n on pool into out and prints wall time, serial time (the tasks' own seconds
 * summed) and speed-up, after label. 0, or 1 with the error printed. */
static int timed_map(ppool *pool, const char *fn, long n, answer *out, const char *label)
{
    long in[MAX_ITEMS];
    for (long i = 0; i < n; i++) in[i] = i + 1;
    double t0 = seconds_of(CLOCK_MONOTONIC);
    int rc = ppool_map(pool, fn, in, (size_t)n, sizeof in[0], out, sizeof out[0]);
    double wall = seconds_of(CLOCK_MONOTONIC) - t0, serial = 0;
    if (rc != 0) {
        fprintf(stderr, "ppool_map: %s: %s\n", ppool_strerror(rc), ppool_errmsg(pool));
        return 1;
    }
    for (long i = 0; i < n; i++) serial += out[i].seconds;
    printf("  %s\n    wall %.3f s, serial %.3f s: speed-up %.2fx\n", label, wall, serial,
           serial / wall);
    return 0;
}

/* The CPU-bound map, then the sleeping one, 4 items per worker each, on pool. 0 or 1. */
static int run_both(ppool *pool)
{
    int workers = ppool_size(pool), cores = ppool_cpu_count();
    long n = 4L * workers > MAX_ITEMS ? MAX_ITEMS : 4L * workers;
    answer out[MAX_ITEMS];
    char label[200];
    snprintf(label, sizeof label,
             "CPU-bound tasks (%ld x %.0fM rounds of arithmetic: speed-up bounded by the %d usable "
             "core%s)",
             n, SPIN_ROUNDS / 1e6, cores, cores == 1 ? "" : "s");
    if (timed_map(pool, "spin", n, out, label)) return 1;
    snprintf(label, sizeof label,
             "sleeping tasks (%ld x %d ms each, I/O-like: speed-up limited by workers, not cores)",
             n, SLEEP_MS);
    if (timed_map(pool, "compute_square", n, out, label)) return 1;
    printf("    squares of 1..%ld:", n);
    for (long i = 0; i < n; i++)
        if (i < 8 || i == n - 1) printf("%s %ld", i == n - 1 && n > 9 ? " ..." : "", out[i].value);
    printf("\n\n");
    return 0;
}

/* Opens a pool of `workers` (0: the default) and runs both maps on it. 0 on the master, 1 on
 * error, PPOOL_WORKER on an MPI rank that served it. *mpi is set when the pool is on MPI. */
static int demo_pool(int workers, const char *why, int *mpi)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = workers;
    ppool *pool;
    int rc = ppool_open(&pool, &o);
    if (rc == PPOOL_WORKER) return rc;
    if (rc != 0) {
        fprintf(stderr, "ppool_open: %s: %s\n", ppool_strerror(rc), ppool_errmsg(NULL));
        return 1;
    }
    static int said;
    if (!said++)
        printf("ppool %s: %d usable core%s here (ppool_cpu_count())\n\n", ppool_version(),
               ppool_cpu_count(), ppool_cpu_count() == 1 ? "" : "s");
    int n = ppool_size(pool);
    *mpi = strcmp(ppool_transport(pool), "mpi") == 0;
    printf("pool of %d %s worker%s (%s)\n", n, ppool_transport(pool), n == 1 ? "" : "s",
           *mpi ? "one per MPI rank but the master's" : why);
    rc = run_both(pool);
    ppool_close(pool);
    ppool_join(pool);
    ppool_free(pool);
    return rc;
}

int main(void)
{
    if (ppool_register("compute_square", compute_square) || ppool_register("spin", spin)) return 1;
    int cores = ppool_cpu_count(), mpi = 0;
    /* Every process opens the first pool; worker ranks serve it, then leave. */
    int rc = demo_pool(
        0, getenv("PPOOL_WORKERS") ? "PPOOL_WORKERS" : "the default: one per usable core", &mpi);
    if (rc) return rc == PPOOL_WORKER ? 0 : 1;
    if (mpi) return 0; /* ranks are as many as the launch made: no second pool */
    /* Locally, more workers than cores: sleeping tasks gain, CPU-bound ones do not. */
    int many = 4 * cores > 64 ? 64 : 4 * cores;
    return demo_pool(many, "4 per usable core", &mpi);
}

/* ppool_bench.c: ppool's side of the workloads (W1, W1c1, W2, W3, W4, idle); master prints. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ppool.h>

#define MIB ((size_t)1 << 20)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* W1: x*x on a long. */
static int square(ppool_task *t, const void *arg, size_t len)
{
    long x = *(const long *)arg, r = x * x;
    return ppool_task_return(t, &r, sizeof r);
}

/* W2, W3: burns `ms` milliseconds of CPU (spins on the clock, like the Python peer). */
static int spin(ppool_task *t, const void *arg, size_t len)
{
    double until = now() + *(const double *)arg * 1e-3;
    while (now() < until) {
    }
    return 0;
}

/* W4: the sum of the item's 64-bit words, an 8-byte result. */
static uint64_t sum64(const void *p, size_t len)
{
    const uint64_t *w = p;
    uint64_t s = 0;
    for (size_t i = 0; i < len / sizeof *w; i++) s += w[i];
    return s;
}

static int checksum(ppool_task *t, const void *arg, size_t len)
{
    uint64_t s = sum64(arg, len);
    return ppool_task_return(t, &s, sizeof s);
}

/* W4's item i: distinct 1 MiB, word k is splitmix64's finaliser of (i, k), as in peers/c_mpi.c. */
static void fill_w4(uint64_t *w, size_t i, size_t words)
{
    for (size_t k = 0; k < words; k++) {
        uint64_t z = ((uint64_t)i << 20 | k) * 0x9e3779b97f4a7c15u;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        w[k] = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    }
}

/* 0: this process is the master and *p is the pool; PPOOL_WORKER: an MPI rank that has served. */
static int open_pool(ppool **p, int workers, size_t chunksize)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = workers;
    o.chunksize = chunksize;
    int rc = ppool_open(p, &o);
    if (rc < 0) {
        fprintf(stderr, "ppool_open: %s: %s\n", ppool_strerror(rc), ppool_errmsg(NULL));
        exit(1);
    }
    return rc;
}

/* W1 (adaptive chunks) and W1c1 (chunksize 1: one task per message). */
static void bench_w1(ppool *p, const char *label, size_t n)
{
    long *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++) in[i] = (long)i;
    double t0 = now();
    int rc = ppool_map(p, "square", in, n, sizeof *in, out, sizeof *out);
    double dt = now() - t0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (out[i] != in[i] * in[i]) rc = -1;
    printf("ppool %s workers=%d tasks=%zu transport=%s seconds=%.4f tasks_per_s=%.0f ok=%d\n",
           label, ppool_size(p), n, ppool_transport(p), dt, (double)n / dt, rc == 0);
    free(in);
    free(out);
}

/* W2: 1 ms each. W3: skewed, item i costs 2 ms * i / n (1 ms on average). */
static void bench_spin(ppool *p, int skew, size_t n)
{
    double *in = malloc(n * sizeof *in), total = 0;
    for (size_t i = 0; i < n; i++) total += in[i] = skew ? 2.0 * (double)i / (double)n : 1.0;
    double t0 = now();
    int rc = ppool_map(p, "spin", in, n, sizeof *in, NULL, 0);
    double dt = now() - t0, ideal = total * 1e-3 / ppool_size(p);
    printf("ppool W%c workers=%d tasks=%zu transport=%s seconds=%.4f ideal=%.4f efficiency=%.3f "
           "ok=%d\n",
           skew ? '3' : '2', ppool_size(p), n, ppool_transport(p), dt, ideal, ideal / dt, rc == 0);
    free(in);
}

/* W4: n distinct 1 MiB inputs, 8-byte checksums back. */
static void bench_w4(ppool *p, size_t n)
{
    char *in = malloc(n * MIB);
    uint64_t *out = calloc(n, sizeof *out), *want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++) {
        fill_w4((uint64_t *)(in + i * MIB), i, MIB / 8);
        want[i] = sum64(in + i * MIB, MIB);
    }
    double t0 = now();
    int rc = ppool_map(p, "checksum", in, n, MIB, out, sizeof *out);
    double dt = now() - t0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (out[i] != want[i]) rc = -1;
    printf("ppool W4 workers=%d tasks=%zu transport=%s seconds=%.4f item_bytes=%zu mb_per_s=%.1f "
           "items_per_s=%.1f ok=%d\n",
           ppool_size(p), n, ppool_transport(p), dt, MIB, (double)(n * MIB) / dt * 1e-6,
           (double)n / dt, rc == 0);
    free(in);
    free(out);
    free(want);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Apply latency: n round trips of one tiny task, one after the other; p50 and p99. */
static void bench_apply(ppool *p, size_t n)
{
    double *lat = malloc(n * sizeof *lat);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        long x = (long)i;
        ppool_buf r;
        double t0 = now();
        rc = ppool_apply(p, "square", &x, sizeof x, &r);
        lat[i] = now() - t0;
        if (rc == 0 && *(long *)r.data != x * x) rc = -1;
        ppool_buf_free(&r);
    }
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("ppool apply workers=%d tasks=%zu transport=%s p50_us=%.1f p99_us=%.1f ok=%d\n",
           ppool_size(p), n, ppool_transport(p), lat[n / 2] * 1e6, lat[n * 99 / 100] * 1e6,
           rc == 0);
    free(lat);
}

/* The pool sits idle for `secs` seconds (2 by default). */
static void bench_idle(ppool *p, size_t secs)
{
    double c0 = cpu_seconds(), t0 = now();
    struct timespec idle = {(time_t)(secs ? secs : 2), 0};
    nanosleep(&idle, NULL);
    double cpu = cpu_seconds() - c0, wall = now() - t0;
    printf("ppool idle workers=%d transport=%s wall=%.3f master_cpu_seconds=%.5f cpu_share=%.4f\n",
           ppool_size(p), ppool_transport(p), wall, cpu, cpu / wall);
}

/* Runs one workload on the master; 2 on an unknown name. */
static int bench(ppool *p, const char *what, size_t n)
{
    if (strcmp(what, "w1") == 0 || strcmp(what, "w1c1") == 0)
        bench_w1(p, what[2] ? "W1c1" : "W1", n ? n : 200000);
    else if (strcmp(what, "w2") == 0 || strcmp(what, "w3") == 0)
        bench_spin(p, what[1] == '3', n ? n : 2000);
    else if (strcmp(what, "w4") == 0)
        bench_w4(p, n ? n : 2000);
    else if (strcmp(what, "apply") == 0)
        bench_apply(p, n ? n : 5000);
    else if (strcmp(what, "idle") == 0)
        bench_idle(p, n);
    else
        return 2;
    return 0;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "w1";
    int workers = argc > 2 ? atoi(argv[2]) : 2;
    size_t n = argc > 3 ? (size_t)atol(argv[3]) : 0;
    ppool_register("square", square);
    ppool_register("spin", spin);
    ppool_register("checksum", checksum);
    ppool *p;
    /* Under mpirun, ranks > 0 serve as workers inside ppool_open and leave quietly (idle: with
     * the CPU they used meanwhile). */
    double c0 = cpu_seconds(), t0 = now();
    if (open_pool(&p, workers, strcmp(what, "w1c1") == 0 ? 1 : 0) == PPOOL_WORKER) {
        if (strcmp(what, "idle") == 0)
            printf("ppool idle-worker-rank wall=%.3f cpu_seconds=%.5f cpu_share=%.4f\n", now() - t0,
                   cpu_seconds() - c0, (cpu_seconds() - c0) / (now() - t0));
        return 0;
    }
    int rc = bench(p, what, n);
    if (rc) fprintf(stderr, "usage: ppool-bench w1|w1c1|w2|w3|w4|apply|idle [workers] [tasks]\n");
    ppool_free(p);
    return rc;
}

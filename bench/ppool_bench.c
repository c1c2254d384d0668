/* ppool_bench.c: ppool's side of the bench workloads (W1-W4, apply, idle, startup, mem); master
 * prints. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ppool.h>

#include "workloads.h"

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

static int checksum(ppool_task *t, const void *arg, size_t len)
{
    uint64_t s = bench_sum64(arg, len);
    return ppool_task_return(t, &s, sizeof s);
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

/* The costs in ms of W2 (1 ms each), W3 (imbalanced, workloads.h) or W3ramp; returns their sum. */
static double spin_costs(const char *label, double *ms, size_t n)
{
    if (strcmp(label, "W3") == 0) return bench_w3_costs(ms, n);
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += ms[i] = strcmp(label, "W2") == 0 ? 1.0 : bench_w3ramp_ms(i, n);
    return total;
}

/* W2, W3, W3ramp: n tasks that spin; efficiency = (sum of task times / workers) / wall. */
static void bench_spin(ppool *p, const char *label, size_t n)
{
    double *in = malloc(n * sizeof *in), total = spin_costs(label, in, n);
    double t0 = now();
    int rc = ppool_map(p, "spin", in, n, sizeof *in, NULL, 0);
    double dt = now() - t0, ideal = total * 1e-3 / ppool_size(p);
    printf("ppool %s workers=%d tasks=%zu transport=%s seconds=%.4f ideal=%.4f efficiency=%.3f "
           "ok=%d\n",
           label, ppool_size(p), n, ppool_transport(p), dt, ideal, ideal / dt, rc == 0);
    free(in);
}

/* W4: n distinct 1 MiB inputs, 8-byte checksums back. */
static void bench_w4(ppool *p, size_t n)
{
    char *in = malloc(n * MIB);
    uint64_t *out = calloc(n, sizeof *out), *want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++) {
        bench_fill_w4((uint64_t *)(in + i * MIB), i, MIB / 8);
        want[i] = bench_sum64(in + i * MIB, MIB);
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
    printf("ppool idle workers=%d transport=%s wall=%.3f master_cpu_seconds=%.5f cpu_share=%.5f\n",
           ppool_size(p), ppool_transport(p), wall, cpu, cpu / wall);
}

/* One start-up: open, a map of 4 squares, close, join, free; its seconds (-1 on a wrong result). */
static double startup_once(int workers)
{
    long in[4] = {1, 2, 3, 4}, out[4] = {0};
    double t0 = now();
    ppool *p;
    if (open_pool(&p, workers, 0) == PPOOL_WORKER) exit(0);
    int rc = ppool_map(p, "square", in, 4, sizeof *in, out, sizeof *out);
    if (rc == 0) rc = ppool_close(p);
    if (rc == 0) rc = ppool_join(p);
    ppool_free(p);
    double dt = now() - t0;
    return rc == 0 && out[3] == 16 ? dt : -1;
}

/* Start-up: n pools one after the other (10 by default), timed from before open to after free. */
static void bench_startup(int workers, size_t n)
{
    n = n ? n : 10;
    double *t = malloc(n * sizeof *t);
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        if ((t[i] = startup_once(workers)) < 0) ok = 0;
    qsort(t, n, sizeof *t, cmp_double);
    printf("ppool startup workers=%d runs=%zu transport=local p50_ms=%.2f min_ms=%.2f max_ms=%.2f "
           "ok=%d\n",
           workers, n, t[n / 2] * 1e3, t[0] * 1e3, t[n - 1] * 1e3, ok);
    free(t);
}

/* The master's peak resident set so far, in KiB (Linux's ru_maxrss). */
static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void print_mem(ppool *p, const char *label, size_t n, double dt, long base, int ok)
{
    long peak = peak_rss_kb();
    printf("ppool %s workers=%d tasks=%zu transport=%s input_mb=%.1f seconds=%.3f tasks_per_s=%.0f "
           "base_rss_kb=%ld peak_rss_kb=%ld extra_kb=%ld ok=%d\n",
           label, ppool_size(p), n, ppool_transport(p), (double)(n * sizeof(long)) / 1e6, dt,
           (double)n / dt, base, peak, peak - base, ok);
}

/* Memory, map: n longs squared by ppool_map; the master's peak RSS beyond its own (touched) input
 * and output arrays. */
static void bench_mem_map(ppool *p, size_t n)
{
    long *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++) in[i] = (long)i, out[i] = 0;
    long base = peak_rss_kb();
    double t0 = now();
    int rc = ppool_map(p, "square", in, n, sizeof *in, out, sizeof *out);
    double dt = now() - t0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (out[i] != in[i] * in[i]) rc = -1;
    print_mem(p, "mem-map", n, dt, base, rc == 0);
    free(in);
    free(out);
}

/* A source of n longs 0, 1, 2 ... made on the fly: no input array anywhere. */
struct counter {
    long next, n, item;
};

static int count_next(void *user, const void **item, size_t *len)
{
    struct counter *c = user;
    if (c->next >= c->n) return 0;
    c->item = c->next++;
    *item = &c->item; /* valid until the next call */
    *len = sizeof c->item;
    return 1;
}

/* Memory, stream: ppool_imap_source over n items generated on the fly, results taken in order and
 * checked; the master's peak RSS beyond where it started. */
static void bench_mem_source(ppool *p, size_t n)
{
    struct counter c = {0, (long)n, 0};
    long base = peak_rss_kb(), want = 0;
    double t0 = now();
    ppool_iter *it = ppool_imap_source(p, "square", count_next, &c, 1);
    size_t idx;
    ppool_buf r;
    int rc, ok = it != NULL;
    while (ok && (rc = ppool_iter_next(it, &idx, &r, -1)) == 0) {
        ok = idx == (size_t)want && r.len == sizeof want && *(long *)r.data == want * want;
        want++;
    }
    ok = ok && rc == PPOOL_EDONE && want == (long)n;
    double dt = now() - t0;
    ppool_iter_free(it);
    print_mem(p, "mem-source", n, dt, base, ok);
}

/* Runs one workload on the master; 2 on an unknown name. */
static int bench(ppool *p, const char *what, size_t n)
{
    if (strcmp(what, "w1") == 0 || strcmp(what, "w1c1") == 0)
        bench_w1(p, what[2] ? "W1c1" : "W1", n ? n : 200000);
    else if (strcmp(what, "w2") == 0)
        bench_spin(p, "W2", n ? n : 2000);
    else if (strcmp(what, "w3") == 0)
        bench_spin(p, "W3", n ? n : 2000);
    else if (strcmp(what, "w3ramp") == 0)
        bench_spin(p, "W3ramp", n ? n : 2000);
    else if (strcmp(what, "w4") == 0)
        bench_w4(p, n ? n : 2000);
    else if (strcmp(what, "apply") == 0)
        bench_apply(p, n ? n : 5000);
    else if (strcmp(what, "idle") == 0)
        bench_idle(p, n);
    else if (strcmp(what, "mem-map") == 0)
        bench_mem_map(p, n ? n : 10000000);
    else if (strcmp(what, "mem-source") == 0)
        bench_mem_source(p, n ? n : 20000000);
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
    if (strcmp(what, "startup") == 0) { /* opens its own pools */
        bench_startup(workers, n);
        return 0;
    }
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
    if (rc)
        fprintf(stderr, "usage: ppool-bench w1|w1c1|w2|w3|w3ramp|w4|apply|idle|startup|mem-map|"
                        "mem-source [workers] [tasks]\n");
    ppool_free(p);
    return rc;
}

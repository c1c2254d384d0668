/* ppool_bench.c: ppool's side of the workloads: W1 (tiny tasks), W2 (1 ms tasks), idle master CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ppool.h>

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

/* W2: burns `ms` milliseconds of CPU (spins on the clock, like the Python peer). */
static int spin(ppool_task *t, const void *arg, size_t len)
{
    double until = now() + *(const double *)arg * 1e-3;
    while (now() < until) {
    }
    return 0;
}

static ppool *open_pool(int workers)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = workers;
    ppool *p;
    int rc = ppool_open(&p, &o);
    if (rc) {
        fprintf(stderr, "ppool_open: %s: %s\n", ppool_strerror(rc), ppool_errmsg(NULL));
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "w1";
    int workers = argc > 2 ? atoi(argv[2]) : 2;
    ppool_register("square", square);
    ppool_register("spin", spin);
    ppool *p = open_pool(workers);
    if (strcmp(what, "w1") == 0) {
        size_t n = argc > 3 ? (size_t)atol(argv[3]) : 200000;
        long *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
        for (size_t i = 0; i < n; i++) in[i] = (long)i;
        double t0 = now();
        int rc = ppool_map(p, "square", in, n, sizeof *in, out, sizeof *out);
        double dt = now() - t0;
        for (size_t i = 0; rc == 0 && i < n; i++)
            if (out[i] != in[i] * in[i]) rc = -1;
        printf("ppool W1 workers=%d tasks=%zu seconds=%.4f tasks_per_s=%.0f ok=%d\n", workers, n,
               dt, (double)n / dt, rc == 0);
    } else if (strcmp(what, "w2") == 0 || strcmp(what, "w3") == 0) {
        /* W2: 1 ms each. W3: skewed, item i costs 2 ms * i / n (1 ms on average). */
        int skew = what[1] == '3';
        size_t n = argc > 3 ? (size_t)atol(argv[3]) : 2000;
        double *in = malloc(n * sizeof *in), total = 0;
        for (size_t i = 0; i < n; i++) total += in[i] = skew ? 2.0 * (double)i / (double)n : 1.0;
        double t0 = now();
        int rc = ppool_map(p, "spin", in, n, sizeof *in, NULL, 0);
        double dt = now() - t0, ideal = total * 1e-3 / workers;
        printf("ppool W%c workers=%d tasks=%zu seconds=%.4f ideal=%.4f efficiency=%.3f ok=%d\n",
               what[1], workers, n, dt, ideal, ideal / dt, rc == 0);
    } else if (strcmp(what, "idle") == 0) {
        double c0 = cpu_seconds(), t0 = now();
        struct timespec two = {2, 0};
        nanosleep(&two, NULL);
        printf("ppool idle workers=%d wall=%.3f master_cpu_seconds=%.5f\n", workers, now() - t0,
               cpu_seconds() - c0);
    } else {
        fprintf(stderr, "usage: ppool-bench w1|w2|w3|idle [workers] [tasks]\n");
        ppool_free(p);
        return 2;
    }
    ppool_free(p);
    return 0;
}

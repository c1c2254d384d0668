/* omp_dynamic.c: the shared-memory upper bound: OpenMP schedule(dynamic) on W1, W2 and W3. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../workloads.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* W1 (dynamic, 1024: chunks as a programmer would tune them) and W1c1 (dynamic, 1). */
static void run_w1(const char *label, int workers, long n)
{
    long *in = malloc((size_t)n * sizeof *in), *out = malloc((size_t)n * sizeof *out);
    long chunk = strcmp(label, "W1c1") == 0 ? 1 : 1024;
    for (long i = 0; i < n; i++) in[i] = i;
    double t0 = now();
#pragma omp parallel for schedule(dynamic, chunk)
    for (long i = 0; i < n; i++) out[i] = in[i] * in[i];
    double dt = now() - t0;
    int ok = 1;
    for (long i = 0; i < n; i++) ok &= out[i] == i * i;
    printf("openmp-dynamic %s workers=%d tasks=%ld transport=threads chunksize=%ld seconds=%.4f "
           "tasks_per_s=%.0f ok=%d\n",
           label, workers, n, chunk, dt, (double)n / dt, ok);
    free(in);
    free(out);
}

/* W2 (1 ms each), W3 (imbalanced, workloads.h) and W3ramp, schedule(dynamic, 1). */
static void run_spin(const char *label, int workers, long n)
{
    double *ms = malloc((size_t)n * sizeof *ms), total = 0;
    if (strcmp(label, "W3") == 0)
        total = bench_w3_costs(ms, (size_t)n);
    else
        for (long i = 0; i < n; i++)
            total += ms[i] = strcmp(label, "W2") == 0 ? 1.0 : bench_w3ramp_ms((size_t)i, (size_t)n);
    double t0 = now();
#pragma omp parallel for schedule(dynamic, 1)
    for (long i = 0; i < n; i++) {
        double until = now() + 1e-3 * ms[i];
        while (now() < until) {
        }
    }
    double dt = now() - t0, ideal = total * 1e-3 / workers;
    printf("openmp-dynamic %s workers=%d tasks=%ld transport=threads chunksize=1 seconds=%.4f "
           "ideal=%.4f efficiency=%.3f ok=1\n",
           label, workers, n, dt, ideal, ideal / dt);
    free(ms);
}

int main(int argc, char **argv)
{
    static const char *const names[][2] = {
        {"w1", "W1"}, {"w1c1", "W1c1"}, {"w2", "W2"}, {"w3", "W3"}, {"w3ramp", "W3ramp"}};
    const char *what = argc > 1 ? argv[1] : "w1", *label = NULL;
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (strcmp(what, names[k][0]) == 0) label = names[k][1];
    int workers = argc > 2 ? atoi(argv[2]) : 2;
    if (!label || workers < 1) {
        fprintf(stderr, "usage: peer-omp-dynamic w1|w1c1|w2|w3|w3ramp [workers] [n]\n");
        return 2;
    }
    omp_set_num_threads(workers);
    if (label[1] == '1')
        run_w1(label, workers, argc > 3 ? atol(argv[3]) : 200000);
    else
        run_spin(label, workers, argc > 3 ? atol(argv[3]) : 2000);
    return 0;
}

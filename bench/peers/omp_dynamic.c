/* omp_dynamic.c: the shared-memory upper bound: OpenMP schedule(dynamic) on W1, W2 and W3. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "w1";
    int workers = argc > 2 ? atoi(argv[2]) : 2;
    omp_set_num_threads(workers);
    if (strcmp(what, "w1") == 0) {
        long n = argc > 3 ? atol(argv[3]) : 200000;
        long *in = malloc((size_t)n * sizeof *in), *out = malloc((size_t)n * sizeof *out);
        for (long i = 0; i < n; i++) in[i] = i;
        double t0 = now();
#pragma omp parallel for schedule(dynamic, 1024)
        for (long i = 0; i < n; i++) out[i] = in[i] * in[i];
        double dt = now() - t0;
        printf("openmp-dynamic W1 workers=%d tasks=%ld seconds=%.4f tasks_per_s=%.0f ok=%d\n",
               workers, n, dt, (double)n / dt, out[n - 1] == (n - 1) * (n - 1));
    } else {
        int skew = strcmp(what, "w3") == 0; /* item i costs 2 ms * i / n */
        long n = argc > 3 ? atol(argv[3]) : 2000;
        double total = 0;
        for (long i = 0; i < n; i++) total += skew ? 2.0 * (double)i / (double)n : 1.0;
        double t0 = now();
#pragma omp parallel for schedule(dynamic, 1)
        for (long i = 0; i < n; i++) {
            double until = now() + 1e-3 * (skew ? 2.0 * (double)i / (double)n : 1.0);
            while (now() < until) {
            }
        }
        double dt = now() - t0, ideal = total * 1e-3 / workers;
        printf("openmp-dynamic W%c workers=%d tasks=%ld seconds=%.4f ideal=%.4f efficiency=%.3f "
               "ok=1\n",
               what[1], workers, n, dt, ideal, ideal / dt);
    }
    return 0;
}

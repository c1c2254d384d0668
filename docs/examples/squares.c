/* squares.c: the demo: compute_square over 1..8 on the default pool, then 1..16 on 2 workers; the
 * same binary runs plainly (forked workers) and under mpirun (one rank per worker). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <ppool.h>

typedef struct {
    long square;
    double seconds; /* what this task took: the serial time is their sum */
} answer;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A task: square a number after a short simulated job (0.1 s). */
static int compute_square(ppool_task *t, const void *arg, size_t len)
{
    if (len != sizeof(long)) return ppool_task_fail(t, "expected a long, got %zu bytes", len);
    double t0 = now();
    struct timespec job = {0, 100 * 1000 * 1000};
    nanosleep(&job, NULL);
    long n = *(const long *)arg;
    answer a = {n * n, now() - t0};
    return ppool_task_return(t, &a, sizeof a);
}

static int run(int workers, long upto)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = workers;
    ppool *pool;
    int rc = ppool_open(&pool, &o);
    if (rc == PPOOL_WORKER) return 0; /* an MPI rank that served the pool: go on to the next */
    if (rc != 0) {
        fprintf(stderr, "ppool_open: %s: %s\n", ppool_strerror(rc), ppool_errmsg(NULL));
        return 1;
    }
    printf("ppool %s: %d usable cores here\n", ppool_version(), ppool_cpu_count());
    long in[64];
    answer out[64];
    for (long i = 0; i < upto; i++) in[i] = i + 1;
    double t0 = now();
    rc = ppool_map(pool, "compute_square", in, (size_t)upto, sizeof in[0], out, sizeof out[0]);
    double wall = now() - t0;
    if (rc != 0) {
        fprintf(stderr, "ppool_map: %s: %s\n", ppool_strerror(rc), ppool_errmsg(pool));
        ppool_free(pool);
        return 1;
    }
    double serial = 0;
    for (long i = 0; i < upto; i++) {
        printf("%ld squared is %ld\n", in[i], out[i].square);
        serial += out[i].seconds;
    }
    printf("-- %ld tasks on %d %s workers: wall %.3f s, serial %.3f s, speed-up %.2fx\n\n", upto,
           ppool_size(pool), ppool_transport(pool), wall, serial, serial / wall);
    ppool_close(pool);
    ppool_join(pool);
    ppool_free(pool);
    return 0;
}

int main(void)
{
    if (ppool_register("compute_square", compute_square) != 0) return 1;
    if (run(0, 8)) return 1; /* 0: one worker per usable core, or per MPI rank but the first */
    return run(2, 16);
}

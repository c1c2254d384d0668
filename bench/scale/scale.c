/* scale.c: ppool's own code on a simulated cluster (SimGrid SMPI): one map of simulated tasks. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../workloads.h"
#include "ppool.h"

/* A task of *arg ms that sleeps: simulated time under SMPI (its host runs nothing else); a real
 * nap in the real build (the calibration's), so oversubscribed cores do not distort it. */
static int task(ppool_task *t, const void *arg, size_t len)
{
#ifdef PPOOL_SMPI
    smpi_usleep((useconds_t)(*(const double *)arg * 1e3));
#else
    double s = *(const double *)arg * 1e-3;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
#endif
    long one = 1;
    return ppool_task_return(t, &one, sizeof one);
}

/* usage: smpirun ... ppool-scale w2|w3|sleep10 ITEMS_PER_WORKER (or mpirun ... ppool-scale-real,
 * the calibration's). One line: the map's time (simulated under SMPI), the ideal (sum of task times
 * / workers) and their ratio. */
int main(int argc, char **argv)
{
    int level;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &level);
    const char *wl = argc > 1 ? argv[1] : "w2";
    long per = argc > 2 ? atol(argv[2]) : 10;
    if (ppool_register("task", task)) return 1;
    ppool_opts o = PPOOL_OPTS_INIT;
    o.transport = "mpi";
    if (getenv("SCALE_STATS")) o.flags |= PPOOL_STATS; /* each master's table at the end */
    ppool *p;
    int rc = ppool_open(&p, &o);
    if (rc == PPOOL_WORKER) {
        MPI_Finalize();
        return 0;
    }
    if (rc) {
        fprintf(stderr, "ppool_open: %s\n", ppool_errmsg(NULL));
        MPI_Finalize();
        return 1;
    }
    int workers = ppool_size(p);
    size_t n = (size_t)per * (size_t)workers;
    double *in = malloc(n * sizeof *in), total = 0;
    long *out = malloc(n * sizeof *out);
    if (strcmp(wl, "sleep10") == 0) { /* the calibration's: 10 ms naps */
        for (size_t i = 0; i < n; i++) total += in[i] = 10.0;
    } else if (strcmp(wl, "w3") == 0) {
        total = bench_w3_costs(in, n); /* 10% of 10 ms, 90% of 0.2 ms, seeded order */
    } else {
        for (size_t i = 0; i < n; i++) total += in[i] = 1.0;
    }
    /* A first map of one task a worker: every rank has been reached once (connections made,
     * out of its longest naps), so the map timed is one on a pool in use. */
    rc = ppool_map(p, "task", in, (size_t)workers, sizeof *in, out, sizeof *out);
    double t0 = MPI_Wtime();
    if (rc == 0) rc = ppool_map(p, "task", in, n, sizeof *in, out, sizeof *out);
    double t1 = MPI_Wtime(), ideal = total * 1e-3 / workers;
    int ok = rc == 0;
    for (size_t i = 0; ok && i < n; i++) ok = out[i] == 1;
    const char *h = getenv("PPOOL_HIERARCHY"), *k = getenv("PPOOL_NODE_SIZE");
    printf("ppool-scale %s workers=%d tasks=%zu hierarchy=%s node_size=%s sim_seconds=%.6f "
           "ideal=%.6f efficiency=%.3f ok=%d\n",
           wl, workers, n, h && *h ? h : "auto", k && *k ? k : "-", t1 - t0, ideal,
           ideal / (t1 - t0), ok);
    ppool_free(p);
    free(in);
    free(out);
    MPI_Finalize();
    return ok ? 0 : 1;
}

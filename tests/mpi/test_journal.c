/* test_journal.c (MPI): `prog JOURNAL COUNTER kill` maps 6,000 items of 1 ms and SIGKILLs its own
 * master after 3,000 results (mpirun ends the job); `prog JOURNAL COUNTER` runs them all again with
 * the journal and checks every result. Each run of a task appends one byte to COUNTER. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ppool.h>

#include "harness.h"

enum { M = 6000 };
static const char *counter;

/* double ms -> sleeps that long, counted in COUNTER; returns round(ms * 1e7) - 1e7: its index */
static int counted_ms(ppool_task *t, const void *arg, size_t len)
{
    double ms = *(const double *)arg;
    int fd = open(counter, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) {
        (void)!write(fd, "x", 1);
        close(fd);
    }
    struct timespec d = {0, (long)(ms * 1e6)};
    nanosleep(&d, NULL);
    long i = (long)((ms - 1) * 1e7 + 0.5);
    return ppool_task_return(t, &i, sizeof i);
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    counter = argv[2];
    int kill_half = argc > 3 && strcmp(argv[3], "kill") == 0;
    ASSERT_OK(ppool_register("counted_ms", counted_ms), NULL);
    ppool_opts o = PPOOL_OPTS_INIT;
    o.journal = argv[1];
    ppool *p;
    int rc = ppool_open(&p, &o);
    if (rc == PPOOL_WORKER) return 0;
    ASSERT_OK(rc, NULL);
    ASSERT_STREQ(ppool_transport(p), "mpi");
    static double ms[M];
    for (int i = 0; i < M; i++) ms[i] = 1 + i * 1e-7; /* distinct items */
    if (kill_half) {
        ppool_iter *it = ppool_imap_unordered(p, "counted_ms", ms, M, sizeof ms[0]);
        size_t idx;
        for (int got = 0; ppool_iter_next(it, &idx, NULL, -1) == 0;)
            if (++got == M / 2) raise(SIGKILL); /* the batch job's wall time is up */
        return 3;
    }
    static long out[M];
    ASSERT_OK(ppool_map(p, "counted_ms", ms, M, sizeof ms[0], out, sizeof out[0]), p);
    for (long i = 0; i < M; i++) ASSERT_EQ(out[i], i);
    ppool_free(p);
    printf("test_journal: ok\n");
    return 0;
}

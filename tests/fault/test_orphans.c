/* test_orphans.c: a master killed with SIGKILL leaves no process behind (EOF, fork server,
 * PDEATHSIG). */
#include <sys/prctl.h>

#include "tasks.h"

/* Reaps descendants (this test is their subreaper) until none is left, for at
 * most `limit` seconds; 1 if none is left. A bounded wait, not a timing assertion. */
static int reap_all(double limit)
{
    double t0 = h_now();
    while (h_now() - t0 < limit) {
        pid_t r = waitpid(-1, NULL, WNOHANG);
        if (r < 0 && errno == ECHILD) return 1;
        if (r == 0) usleep(2000);
    }
    return 0;
}

int main(void)
{
    tasks_register();
    /* Orphaned descendants come to this process, so it can see every one end. */
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    for (int busy = 0; busy < 2; busy++) {
        for (int i = 0; i < 64; i++) SH->pids[i] = 0;
        SH->started = 0;
        pid_t master = fork();
        if (master == 0) {
            /* The master: a pool of 3; record the workers' pids; then idle or busy. */
            ppool *p = open_pool(3, 1);
            long in[3] = {0, 1, 2};
            ASSERT_OK(ppool_map(p, "record_pid", in, 3, sizeof in[0], in, sizeof in[0]), p);
            SH->started = 1;
            if (busy) {
                double secs[3] = {30, 30, 30};
                int out[3];
                ppool_map(p, "sleep", secs, 3, sizeof secs[0], out, sizeof out[0]);
            }
            for (;;) pause();
        }
        while (!SH->started) usleep(1000);
        if (busy) usleep(200000); /* let them start their 30 s tasks */
        for (int i = 0; i < 3; i++) ASSERT_GT(SH->pids[i], 0);
        double t0 = h_now();
        kill(master, SIGKILL);
        /* the master, its fork server and its workers all end */
        if (!reap_all(20)) H_FAIL("processes outlived their killed master (busy=%d)", busy);
        for (int i = 0; i < 3; i++) ASSERT_TRUE(h_pid_gone(SH->pids[i]));
        fprintf(stderr, "   busy=%d: all gone %.3f s after the master was killed (informational)\n",
                busy, h_now() - t0);
    }
    return 0;
}

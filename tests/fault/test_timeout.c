/* test_timeout.c: task_timeout is the master's deadline: it kills and replaces a worker whose item
 * runs too long, also a stopped one, and a task raising SIGALRM is no timeout. */
#include "tasks.h"

int main(void)
{
    tasks_register();
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.task_timeout = 3.0; /* 300 times the 10 ms items: no slowed run times one out */
    ppool *p;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    double secs[6] = {0.01, 10.0, 0.01, 0.01, 0.01, 0.01};
    int pids[6];
    ASSERT_EQ(ppool_map(p, "sleep", secs, 6, sizeof secs[0], pids, sizeof pids[0]),
              PPOOL_ETIMEDOUT);
    ASSERT_CONTAINS(ppool_errmsg(p), "item 1");
    ASSERT_CONTAINS(ppool_errmsg(p), "timed out after 3 s");
    for (int i = 0; i < 6; i++)
        if (i != 1) ASSERT_GT(pids[i], 0);
    /* the pool goes on with a fresh worker */
    check_usable(p);
    /* a worker stopped by SIGSTOP cannot run a timer: the master's deadline holds */
    long x[4] = {0, 1, 3, 4}, y[4];
    ASSERT_EQ(ppool_map(p, "signal_self", x, 4, sizeof x[0], y, sizeof y[0]), PPOOL_ETIMEDOUT);
    ASSERT_CONTAINS(ppool_errmsg(p), "item 1");
    ASSERT_EQ(y[3], 4);
    /* SIGALRM raised by the task itself is a death, not a timeout */
    x[1] = 2;
    ASSERT_EQ(ppool_map(p, "signal_self", x, 4, sizeof x[0], y, sizeof y[0]), PPOOL_EWORKER);
    ASSERT_CONTAINS(ppool_errmsg(p), "signal 14");
    check_usable(p);
    ppool_free(p);
    ASSERT_TRUE(h_no_children());
    return 0;
}

/* test_env.c: configuration precedence: code beats environment beats default; bad values are named.
 */
#include "tasks.h"

static void workers(void)
{
    setenv("PPOOL_WORKERS", "3", 1);
    ppool *p = open_pool(0, 0);
    ASSERT_EQ(ppool_size(p), 3);
    ppool_free(p);
    p = open_pool(1, 0); /* code wins */
    ASSERT_EQ(ppool_size(p), 1);
    ppool_free(p);
    setenv("PPOOL_WORKERS", "three", 1);
    ASSERT_EQ(ppool_open(&p, NULL), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "PPOOL_WORKERS='three'");
    unsetenv("PPOOL_WORKERS");
    ASSERT_OK(ppool_open(&p, NULL), NULL);
    ASSERT_EQ(ppool_size(p), ppool_cpu_count());
    ppool_free(p);
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = -2;
    ASSERT_EQ(ppool_open(&p, &o), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "-2");
}

static void transport_and_bind(void)
{
    ppool *p;
    setenv("PPOOL_TRANSPORT", "carrier-pigeon", 1);
    ASSERT_EQ(ppool_open(&p, NULL), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "carrier-pigeon");
    ppool_opts o = PPOOL_OPTS_INIT;
    o.transport = "local"; /* code wins */
    o.workers = 1;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    ASSERT_STREQ(ppool_transport(p), "local");
    ppool_free(p);
    /* outside mpirun (or without the MPI transport) asking for it is a clear error, no fallback */
    setenv("PPOOL_TRANSPORT", "mpi", 1);
    ASSERT_EQ(ppool_open(&p, NULL), PPOOL_ETRANSPORT);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "transport 'mpi'"); /* not built, or no launcher */
    unsetenv("PPOOL_TRANSPORT");
    setenv("PPOOL_BIND", "sockets", 1);
    ASSERT_EQ(ppool_open(&p, NULL), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "'sockets'");
    o.bind = "none";
    ASSERT_OK(ppool_open(&p, &o), NULL);
    ppool_free(p);
    unsetenv("PPOOL_BIND");
    o.task_timeout = -1;
    ASSERT_EQ(ppool_open(&p, &o), PPOOL_EINVAL);
}

static void chunksize(void)
{
    setenv("PPOOL_CHUNKSIZE", "25", 1);
    ppool *p = open_pool(2, 0);
    enum { N = 500 };
    long in[N];
    int pid[N];
    ASSERT_OK(ppool_map(p, "getpid", in, N, sizeof in[0], pid, sizeof pid[0]), p);
    for (int b = 0; b < N; b += 25)
        for (int i = b; i < b + 25; i++) ASSERT_EQ(pid[i], pid[b]);
    ppool_free(p);
    setenv("PPOOL_CHUNKSIZE", "-4", 1);
    ASSERT_EQ(ppool_open(&p, NULL), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "PPOOL_CHUNKSIZE");
    unsetenv("PPOOL_CHUNKSIZE");
}

static void progress_bar(void)
{
    /* PPOOL_PROGRESS draws on stderr; the map still gives exact results */
    setenv("PPOOL_PROGRESS", "1", 1);
    ppool *p = open_pool(2, 1);
    double secs[6] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
    int out[6];
    ASSERT_OK(ppool_map(p, "sleep", secs, 6, sizeof secs[0], out, sizeof out[0]), p);
    ppool_free(p);
    unsetenv("PPOOL_PROGRESS");
}

int main(void)
{
    tasks_register();
    RUN(workers);
    RUN(transport_and_bind);
    RUN(chunksize);
    RUN(progress_bar);
    ASSERT_TRUE(h_no_children());
    return 0;
}

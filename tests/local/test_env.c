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
    setenv("PPOOL_WORKERS", "0", 1); /* 0 means the default, as workers = 0 does */
    ASSERT_OK(ppool_open(&p, NULL), NULL);
    ASSERT_EQ(ppool_size(p), ppool_cpu_count());
    ppool_free(p);
    setenv("PPOOL_WORKERS", "-1", 1);
    ASSERT_EQ(ppool_open(&p, NULL), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "PPOOL_WORKERS='-1'");
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

/* Maps `secs` (n sleeping items) on a pool opened under PPOOL_PROGRESS=value
 * (flags as given), stderr captured (a file, not a terminal); returns it. */
static char *progress_output(const char *value, unsigned flags, const double *secs, int n)
{
    setenv("PPOOL_PROGRESS", value, 1);
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.chunksize = 1;
    o.flags = flags;
    ppool *p;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    unsetenv("PPOOL_PROGRESS");
    int out[16];
    h_capture_begin();
    int rc = ppool_map(p, "sleep", secs, (size_t)n, sizeof secs[0], out, sizeof out[0]);
    ppool_free(p);
    char *err = h_capture_end();
    ASSERT_EQ(rc, 0);
    return err;
}

static void progress_bar(void)
{
    double slow[8] = {0.6, 0.6, 0.6, 0.6,
                      0.6, 0.6, 0.6, 0.6}; /* 2.4 s on 2 workers: 1.4 s past the bar's delay */
    double quick[8] = {0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01};
    char *err = progress_output("force", 0, slow, 8); /* forced: drawn into a file too */
    ASSERT_CONTAINS(err, "100% 8/8 items");
    free(err);
    err = progress_output("1", 0, slow, 8); /* asked for, but stderr is no terminal */
    ASSERT_STREQ(err, "");
    free(err);
    err = progress_output("0", PPOOL_PROGRESS, slow, 8); /* the flag: the same rule */
    ASSERT_STREQ(err, "");
    free(err);
    err = progress_output("force", 0, quick, 8); /* done before the bar's delay: none */
    ASSERT_STREQ(err, "");
    free(err);
    static const char *const bad[] = {"yes", "2", "true", "forced"};
    for (int i = 0; i < 4; i++) { /* as strict as PPOOL_WORKERS */
        setenv("PPOOL_PROGRESS", bad[i], 1);
        ppool *p;
        ASSERT_EQ(ppool_open(&p, NULL), PPOOL_EINVAL);
        ASSERT_CONTAINS(ppool_errmsg(NULL), "PPOOL_PROGRESS");
        ASSERT_CONTAINS(ppool_errmsg(NULL), bad[i]);
    }
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

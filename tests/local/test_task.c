/* test_task.c: the task side (index, return, fail, negative returns); stats and progress output. */
#include "tasks.h"

/* -> its index; also checks ppool_task_return's own errors and that a later call replaces */
static int t_index(ppool_task *t, const void *a, size_t n)
{
    size_t i = ppool_task_index(t);
    if (ppool_task_return(t, NULL, 3) != PPOOL_EINVAL)
        return ppool_task_fail(t, "NULL data accepted");
    if (ppool_task_return(NULL, &i, sizeof i) != PPOOL_EINVAL)
        return ppool_task_fail(t, "NULL task");
    if (ppool_task_fail(NULL, "x") != PPOOL_EINVAL) return ppool_task_fail(t, "NULL task in fail");
    char junk[100] = {0};
    ppool_task_return(t, junk, sizeof junk); /* replaced below */
    return ppool_task_return(t, &i, sizeof i);
}

/* returns -1 without a message on odd items */
static int t_minus_one(ppool_task *t, const void *a, size_t n)
{
    long x = *(const long *)a;
    if (x % 2) return -1;
    return ppool_task_return(t, &x, sizeof x);
}

static ppool *P;

static void index_and_return(void)
{
    enum { N = 1000 };
    static long in[N];
    size_t out[N];
    ASSERT_OK(ppool_map(P, "index", in, N, sizeof in[0], out, sizeof out[0]), P);
    for (size_t i = 0; i < N; i++) ASSERT_EQ(out[i], i);
    ppool_buf r;
    ASSERT_OK(ppool_apply(P, "index", NULL, 0, &r), P);
    ASSERT_EQ(r.len, sizeof(size_t));
    ASSERT_EQ(*(size_t *)r.data, 0);
    ppool_buf_free(&r);
}

static void negative_return(void)
{
    long in[4] = {0, 2, 3, 4}, out[4];
    /* -1 is a task failure, not PPOOL_EINVAL */
    ASSERT_EQ(ppool_map(P, "minus_one", in, 4, sizeof in[0], out, sizeof out[0]), PPOOL_ETASK);
    ASSERT_CONTAINS(ppool_errmsg(P), "item 2 (minus_one): returned -1");
}

static void stats_and_progress(void)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.chunksize = 1;
    o.flags = PPOOL_STATS | PPOOL_PROGRESS;
    ppool *p;
    setenv("PPOOL_PROGRESS", "force", 1); /* stderr is a file here */
    ASSERT_OK(ppool_open(&p, &o), NULL);
    unsetenv("PPOOL_PROGRESS");
    double secs[8] = {0.6, 0.6, 0.6, 0.6,
                      0.6, 0.6, 0.6, 0.6}; /* 2.4 s: 1.4 s past the bar's delay */
    int pids[8];
    h_capture_begin();
    int rc = ppool_map(p, "sleep", secs, 8, sizeof secs[0], pids, sizeof pids[0]);
    ppool_free(p);
    char *err = h_capture_end();
    ASSERT_EQ(rc, 0);
    ASSERT_CONTAINS(err, "ppool [");        /* the progress bar */
    ASSERT_CONTAINS(err, "100% 8/8 items"); /* closed at the end */
    ASSERT_CONTAINS(err, "ppool stats: 2 workers");
    char line[64];
    snprintf(line, sizeof line, "%d", pids[0]); /* a worker's pid is in the table */
    ASSERT_CONTAINS(err, line);
    free(err);
    /* without the flags, nothing is printed */
    double shortsecs[8] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
    memcpy(secs, shortsecs, sizeof secs);
    o.flags = 0;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    h_capture_begin();
    rc = ppool_map(p, "sleep", secs, 8, sizeof secs[0], pids, sizeof pids[0]);
    long bad = 17;
    ppool_apply(p, "fail17", &bad, sizeof bad, NULL);
    ppool_free(p);
    err = h_capture_end();
    ASSERT_EQ(rc, 0);
    ASSERT_STREQ(err, "");
    free(err);
}

int main(void)
{
    unsetenv("PPOOL_DEBUG");
    unsetenv("PPOOL_PROGRESS");
    tasks_register();
    ASSERT_OK(ppool_register("index", t_index), NULL);
    ASSERT_OK(ppool_register("minus_one", t_minus_one), NULL);
    P = open_pool(2, 0);
    RUN(index_and_return);
    RUN(negative_return);
    RUN(stats_and_progress);
    ppool_free(P);
    return 0;
}

/* test_kill_worker.c: workers that crash, exit or are killed: detected, replaced, items re-run or
 * failed. */
#include "tasks.h"

static void segfault_fails_the_item(void)
{
    ppool *p = open_pool(2, 0);
    enum { N = 1000 };
    static long in[N], out[N];
    for (long i = 0; i < N; i++) in[i] = i;
    ASSERT_EQ(ppool_map(p, "crash13", in, N, sizeof in[0], out, sizeof out[0]), PPOOL_EWORKER);
    ASSERT_CONTAINS(ppool_errmsg(p), "item 13");
    ASSERT_CONTAINS(ppool_errmsg(p), "signal 11");
    for (long i = 0; i < N; i++)
        if (i != 13) ASSERT_EQ(out[i], i); /* nothing else is lost */
    /* the pool replaced the worker and goes on */
    ASSERT_EQ(ppool_size(p), 2);
    long sq[100], r[100];
    for (long i = 0; i < 100; i++) sq[i] = i;
    ASSERT_OK(ppool_map(p, "square", sq, 100, sizeof sq[0], r, sizeof r[0]), p);
    ASSERT_EQ(r[99], 99 * 99);
    /* an iterator reports the dead item and goes on */
    ppool_iter *it = ppool_imap(p, "crash13", in, 20, sizeof in[0]);
    size_t idx;
    ppool_buf b;
    int rc, ok = 0;
    while ((rc = ppool_iter_next(it, &idx, &b, -1)) != PPOOL_EDONE) {
        if (rc) {
            ASSERT_EQ(rc, PPOOL_EWORKER);
            ASSERT_EQ(idx, 13);
        } else {
            ok++;
        }
    }
    ASSERT_EQ(ok, 19);
    ppool_iter_free(it);
    ppool_free(p);
}

static void exit_is_reported(void)
{
    ppool *p = open_pool(2, 1);
    long in[10], out[10];
    for (long i = 0; i < 10; i++) in[i] = i;
    ASSERT_EQ(ppool_map(p, "exit5", in, 10, sizeof in[0], out, sizeof out[0]), PPOOL_EWORKER);
    ASSERT_CONTAINS(ppool_errmsg(p), "item 5");
    ASSERT_CONTAINS(ppool_errmsg(p), "exited with status 3");
    ppool_free(p);
}

/* Maps crash_first (every item kills its worker once) and returns the map's code. */
static int map_crash_first(ppool *p)
{
    long in[30], out[30];
    for (long i = 0; i < 30; i++) in[i] = i;
    memset((void *)SH->crash_once, 0, sizeof SH->crash_once);
    int rc = ppool_map(p, "crash_first", in, 30, sizeof in[0], out, sizeof out[0]);
    for (long i = 0; rc == 0 && i < 30; i++) ASSERT_EQ(out[i], i);
    return rc;
}

static void retries_rerun(void)
{
    /* by default an item whose worker died is re-run: each runs twice and succeeds */
    ppool *p = open_pool(2, 0);
    ASSERT_OK(map_crash_first(p), p);
    ppool_free(p);
    /* asked for none, by flag or environment, the same items fail with EWORKER */
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.flags = PPOOL_NO_RETRIES;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    ASSERT_EQ(map_crash_first(p), PPOOL_EWORKER);
    ASSERT_CONTAINS(ppool_errmsg(p), "signal 9");
    ppool_free(p);
    setenv("PPOOL_RETRIES", "0", 1);
    p = open_pool(2, 0);
    unsetenv("PPOOL_RETRIES");
    ASSERT_EQ(map_crash_first(p), PPOOL_EWORKER);
    ppool_free(p);
    /* a count in code beats the environment */
    setenv("PPOOL_RETRIES", "0", 1);
    o.flags = 0;
    o.retries = 1;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    unsetenv("PPOOL_RETRIES");
    ASSERT_OK(map_crash_first(p), p);
    ppool_free(p);
    setenv("PPOOL_RETRIES", "many", 1);
    ASSERT_EQ(ppool_open(&p, NULL), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "PPOOL_RETRIES");
    unsetenv("PPOOL_RETRIES");
}

/* With default options, one of two workers SIGKILLed in the middle of a map of
 * 1 ms items: exact results, and two live workers afterwards, one of them new. */
static void default_kill_mid_map(void)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    ppool *p;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    enum { N = 2000 };
    static long in[N], out[N];
    for (long i = 0; i < N; i++) in[i] = i;
    SH->started = 0;
    SH->pids[0] = 0;
    ppool_async *a = ppool_map_async(p, "slow_square", in, N, sizeof in[0], out, sizeof out[0]);
    ASSERT_TRUE(a != NULL);
    while (__atomic_load_n(&SH->started, __ATOMIC_SEQ_CST) < N / 4) usleep(1000);
    int victim = SH->pids[0];
    ASSERT_TRUE(victim > 0);
    kill(victim, SIGKILL);
    ASSERT_OK(ppool_async_get(a, NULL, -1), p);
    ppool_async_free(a);
    for (long i = 0; i < N; i++) ASSERT_EQ(out[i], i * i);
    /* killed busy, nearly always; killed idle (a stalled test), it is reaped soon after */
    for (int i = 0; i < 10000 && !h_pid_gone(victim); i++) usleep(1000);
    ASSERT_TRUE(h_pid_gone(victim));
    ASSERT_EQ(ppool_size(p), 2);
    int pids[64];
    long tiny[64];
    for (int i = 0; i < 64; i++) tiny[i] = i;
    ASSERT_OK(ppool_map(p, "slow_getpid", tiny, 64, sizeof tiny[0], pids, sizeof pids[0]), p);
    int other = -1;
    for (int i = 0; i < 64; i++) {
        ASSERT_NE(pids[i], victim);
        if (pids[i] != pids[0] && other < 0) other = pids[i];
    }
    ASSERT_TRUE(other > 0); /* two workers answered */
    ASSERT_EQ(kill(pids[0], 0), 0);
    ASSERT_EQ(kill(other, 0), 0);
    ppool_free(p);
}

/* Someone else kills a busy worker: the item is re-run elsewhere. */
static void external_kill(void)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.retries = 1;
    o.chunksize = 1;
    ppool *p;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    for (int i = 0; i < 64; i++) SH->pids[i] = 0;
    long in[4] = {0, 1, 2, 3};
    ppool_async *a = ppool_map_async(p, "hold_first", in, 4, sizeof in[0], in, sizeof in[0]);
    while (!SH->pids[0]) usleep(1000); /* item 0's first run: it holds until killed */
    int victim = SH->pids[0];
    kill(victim, SIGKILL);
    ASSERT_OK(ppool_async_get(a, NULL, 60), p);
    for (long i = 0; i < 4; i++) ASSERT_EQ(in[i], i);
    ASSERT_NE(SH->pids[0], victim); /* item 0 ran again in another process */
    ASSERT_TRUE(h_pid_gone(victim));
    ppool_async_free(a);
    ppool_free(p);
    ASSERT_TRUE(h_no_children());
}

/* Replacements that cannot start are given up; when none is left, work fails, never hangs. */
static void no_worker_left(void)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.chunksize = 1;
    o.flags = PPOOL_NO_RETRIES; /* a re-run of item 13 would kill the last worker */
    o.initializer = "init_two";
    SH->init_calls = 0;
    ppool *p;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    long in[20], out[20];
    for (long i = 0; i < 20; i++) in[i] = i;
    /* item 13 kills one worker; its replacement fails to initialise: one worker is left */
    ASSERT_EQ(ppool_map(p, "crash13", in, 20, sizeof in[0], out, sizeof out[0]), PPOOL_EWORKER);
    ASSERT_OK(ppool_map(p, "square", in, 20, sizeof in[0], out, sizeof out[0]), p);
    ASSERT_EQ(out[19], 361);
    /* the last worker dies too: this map and later ones fail at once */
    ASSERT_EQ(ppool_map(p, "crash13", in, 20, sizeof in[0], out, sizeof out[0]), PPOOL_EWORKER);
    ASSERT_EQ(ppool_map(p, "square", in, 20, sizeof in[0], out, sizeof out[0]), PPOOL_EWORKER);
    ASSERT_CONTAINS(ppool_errmsg(p), "no worker is left");
    ASSERT_NULL(ppool_apply_async(p, "square", in, sizeof in[0]));
    ppool_free(p);
}

/* Total deaths in a PPOOL_STATS table. */
static int deaths_in(const char *stats)
{
    int total = 0;
    const char *line = strstr(stats, "cpuset\n");
    for (line = line ? strchr(line, '\n') : NULL; line && line[1]; line = strchr(line + 1, '\n')) {
        int w, pid, spawns, deaths;
        size_t items, chunks;
        double busy;
        if (sscanf(line + 1, "%d %d %zu %zu %lf %d %d", &w, &pid, &items, &chunks, &busy, &spawns,
                   &deaths) == 7)
            total += deaths;
    }
    return total;
}

/* A crash in a big chunk costs one death: the master knows which item ran. */
static void culprit_in_big_chunk(void)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.chunksize = 100;
    o.flags = PPOOL_STATS | PPOOL_NO_RETRIES;
    ppool *p;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    enum { N = 400 };
    static long in[N], out[N];
    for (long i = 0; i < N; i++) in[i] = i;
    ASSERT_EQ(ppool_map(p, "crash13", in, N, sizeof in[0], out, sizeof out[0]), PPOOL_EWORKER);
    ASSERT_CONTAINS(ppool_errmsg(p), "item 13");
    for (long i = 0; i < N; i++)
        if (i != 13) ASSERT_EQ(out[i], i);
    h_capture_begin();
    ppool_free(p);
    char *stats = h_capture_end();
    ASSERT_EQ(deaths_in(stats), 1);
    free(stats);
}

int main(void)
{
    tasks_register();
    RUN(segfault_fails_the_item);
    RUN(exit_is_reported);
    RUN(culprit_in_big_chunk);
    RUN(retries_rerun);
    RUN(external_kill);
    RUN(default_kill_mid_map);
    RUN(no_worker_left);
    ASSERT_TRUE(h_no_children());
    return 0;
}

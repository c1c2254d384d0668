/* test_journal.c: opts.journal: a run again takes finished items from the journal, for every job
 * kind; a master killed halfway resumes; a torn last record is cut off; damage is PPOOL_EPROTO. */
#include <fcntl.h>
#include <sys/stat.h>

#include "tasks.h"

static volatile long *RUNS; /* task executions, counted across every process */

/* long -> long: x*x, counted; fails item 17 when asked to (x == -17) */
static int t_counted(ppool_task *t, const void *a, size_t n)
{
    __atomic_add_fetch(RUNS, 1, __ATOMIC_SEQ_CST);
    long x = n == sizeof x ? *(const long *)a : (long)n, r = x * x;
    if (x == -17) return ppool_task_fail(t, "seventeen");
    return ppool_task_return(t, &r, sizeof r);
}

/* double ms -> spins that long, counted; returns the index */
static int t_counted_ms(ppool_task *t, const void *a, size_t n)
{
    __atomic_add_fetch(RUNS, 1, __ATOMIC_SEQ_CST);
    sleep_s(*(const double *)a * 1e-3);
    long i = (long)ppool_task_index(t);
    return ppool_task_return(t, &i, sizeof i);
}

static char path[256];

static ppool *open_journal(int workers)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = workers;
    o.journal = path;
    ppool *p = NULL;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    return p;
}

static long runs_of(void (*body)(ppool *))
{
    long before = *RUNS;
    ppool *p = open_journal(2);
    body(p);
    ppool_free(p);
    return *RUNS - before;
}

enum { N = 300 };
static long in[N];

static void map_body(ppool *p)
{
    long out[N];
    ASSERT_OK(ppool_map(p, "counted", in, N, sizeof in[0], out, sizeof out[0]), p);
    for (int i = 0; i < N; i++) ASSERT_EQ(out[i], in[i] * in[i]);
}

static void bufs_body(ppool *p)
{
    ppool_buf b[N], out[N];
    for (int i = 0; i < N; i++) b[i] = (ppool_buf){&in[i], sizeof in[i]};
    ASSERT_OK(ppool_map_bufs(p, "counted", b, N, out), p);
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(*(long *)out[i].data, in[i] * in[i]);
        ppool_buf_free(&out[i]);
    }
}

static void async_body(ppool *p)
{
    long x = 12345, out[N];
    ppool_buf r;
    ASSERT_OK(ppool_apply(p, "counted", &x, sizeof x, &r), p);
    ASSERT_EQ(*(long *)r.data, x * x);
    ppool_buf_free(&r);
    ppool_async *a = ppool_apply_async(p, "counted", &x, sizeof x);
    ASSERT_OK(ppool_async_get(a, &r, -1), p);
    ASSERT_EQ(*(long *)r.data, x * x);
    ppool_async_free(a);
    a = ppool_map_async(p, "counted", in, N, sizeof in[0], out, sizeof out[0]);
    ASSERT_OK(ppool_async_wait(a, -1), p);
    for (int i = 0; i < N; i++) ASSERT_EQ(out[i], in[i] * in[i]);
    ppool_async_free(a);
}

static void drain(ppool *p, ppool_iter *it)
{
    size_t idx, got = 0;
    ppool_buf r;
    ASSERT_TRUE(it != NULL);
    for (int rc; (rc = ppool_iter_next(it, &idx, &r, -1)) != PPOOL_EDONE; got++) {
        ASSERT_OK(rc, p);
        ASSERT_EQ(*(long *)r.data, in[idx] * in[idx]);
    }
    ASSERT_EQ(got, N);
    ppool_iter_free(it);
}

static int next_item(void *user, const void **item, size_t *len)
{
    size_t *k = user;
    if (*k == N) return 0;
    *item = &in[(*k)++];
    *len = sizeof(long);
    return 1;
}

static void iter_body(ppool *p)
{
    drain(p, ppool_imap(p, "counted", in, N, sizeof in[0]));
    drain(p, ppool_imap_unordered(p, "counted", in, N, sizeof in[0]));
    size_t k = 0;
    drain(p, ppool_imap_source(p, "counted", next_item, &k, 1));
}

/* Every job kind: the second run takes every item from the journal; a
 * changed input runs again. */
static void every_kind(void)
{
    void (*bodies[])(ppool *) = {map_body, bufs_body, async_body, iter_body};
    for (int b = 0; b < 4; b++) {
        unlink(path);
        for (int i = 0; i < N; i++) in[i] = i + 1000 * b;
        ASSERT_TRUE(runs_of(bodies[b]) > 0);
        ASSERT_EQ(runs_of(bodies[b]), 0); /* all from the journal */
        in[7] += 100000;                  /* a changed item runs again */
        long again = runs_of(bodies[b]);
        ASSERT_TRUE(again >= 1 && again <= 4); /* once per call that holds it */
    }
}

/* Failed items run again by default; PPOOL_JOURNAL_FAILED=keep keeps them failed. */
static void failed_items(void)
{
    unlink(path);
    for (int i = 0; i < N; i++) in[i] = i == 17 ? -17 : i;
    long out[N];
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 2) setenv("PPOOL_JOURNAL_FAILED", "keep", 1);
        long before = *RUNS;
        ppool *p = open_journal(2);
        ASSERT_EQ(ppool_map(p, "counted", in, N, sizeof in[0], out, sizeof out[0]), PPOOL_ETASK);
        ASSERT_CONTAINS(ppool_errmsg(p), "item 17 (counted): seventeen");
        ppool_free(p);
        long runs = *RUNS - before;
        ASSERT_EQ(runs, pass == 0 ? N : (pass == 1 ? 1 : 0));
    }
    unsetenv("PPOOL_JOURNAL_FAILED");
}

static off_t file_size(void)
{
    struct stat sb;
    ASSERT_EQ(stat(path, &sb), 0);
    return sb.st_size;
}

/* A journal cut inside its last record: ignored past the cut, and cut back. */
static void torn_tail(void)
{
    unlink(path);
    for (int i = 0; i < N; i++) in[i] = i;
    runs_of(map_body);
    off_t size = file_size();
    ASSERT_EQ(truncate(path, size - 5), 0);
    long again = runs_of(map_body);
    ASSERT_TRUE(again >= 1 && again <= 2); /* the torn record's item, nothing else */
    ASSERT_EQ(runs_of(map_body), 0);
}

/* Damage before the end, or a file that is no journal: a clear error at open. */
static void damaged(void)
{
    unlink(path);
    for (int i = 0; i < N; i++) in[i] = i;
    runs_of(map_body);
    int fd = open(path, O_RDWR);
    ASSERT_TRUE(fd >= 0);
    unsigned char c;
    off_t at = file_size() / 2;
    ASSERT_EQ(pread(fd, &c, 1, at), 1);
    c ^= 0x5a;
    ASSERT_EQ(pwrite(fd, &c, 1, at), 1);
    close(fd);
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 1;
    o.journal = path;
    ppool *p;
    ASSERT_EQ(ppool_open(&p, &o), PPOOL_EPROTO);
    ASSERT_CONTAINS(ppool_errmsg(NULL), path);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "offset");
    ASSERT_TRUE(p == NULL);
    fd = open(path, O_WRONLY | O_TRUNC);
    ASSERT_EQ(write(fd, "hello, world: not a journal\n", 28), 28);
    close(fd);
    ASSERT_EQ(ppool_open(&p, &o), PPOOL_EPROTO);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "not a ppool journal");
    setenv("PPOOL_JOURNAL", path, 1); /* the environment names it too */
    ASSERT_EQ(ppool_open(&p, NULL), PPOOL_EPROTO);
    unsetenv("PPOOL_JOURNAL");
    ASSERT_TRUE(h_no_children());
}

/* A master SIGKILLed halfway through 6,000 items of 1 ms: run again, only
 * what had not finished (plus what was in flight or not written) runs. */
static void killed_master(void)
{
    enum { M = 6000 };
    static double ms[M];
    for (int i = 0; i < M; i++) ms[i] = 1 + i * 1e-7; /* distinct items: an item is its bytes */
    unlink(path);
    *RUNS = 0;
    pid_t kid = fork();
    if (kid == 0) {
        ppool *p = open_journal(2);
        static long out[M];
        ppool_map(p, "counted_ms", ms, M, sizeof ms[0], out, sizeof out[0]);
        _exit(3); /* not reached in time */
    }
    while (*RUNS < M / 2) sleep_s(0.01);
    kill(kid, SIGKILL);
    waitpid(kid, NULL, 0);
    sleep_s(0.3); /* its orphaned workers notice and leave */
    long first = *RUNS;
    ppool *p = open_journal(2);
    static long out[M];
    ASSERT_OK(ppool_map(p, "counted_ms", ms, M, sizeof ms[0], out, sizeof out[0]), p);
    ppool_free(p);
    for (long i = 0; i < M; i++) ASSERT_EQ(out[i], i);
    long second = *RUNS - first;
    printf("killed at %ld runs; the second run ran %ld\n", first, second);
    ASSERT_TRUE(second >= M - first);       /* every item ran at least once */
    ASSERT_TRUE(second <= M - first + 800); /* in flight, and 0.2 s not written */
    ASSERT_TRUE(second < M);
}

int main(void)
{
    tasks_register();
    RUNS = mmap(NULL, sizeof *RUNS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_TRUE(RUNS != MAP_FAILED);
    ASSERT_OK(ppool_register("counted", t_counted), NULL);
    ASSERT_OK(ppool_register("counted_ms", t_counted_ms), NULL);
    snprintf(path, sizeof path, "/tmp/ppool-journal-test.%d", (int)getpid());
    RUN(every_kind);
    RUN(failed_items);
    RUN(torn_tail);
    RUN(damaged);
    RUN(killed_master);
    unlink(path);
    ASSERT_TRUE(h_no_children());
    return 0;
}

/* test_spawn.c: the start method "spawn": workers run this program again and serve from its
 * ppool_open, so they inherit no thread's lock; replacements, initializers and timeouts hold. */
#include <pthread.h>
#include <signal.h>

#include "harness.h"
#include "ppool.h"

static pthread_mutex_t busy_lock = PTHREAD_MUTEX_INITIALIZER;
static long token; /* this process's pid, set in main before ppool_open */
static long init_seen;

/* An application thread that holds its own mutex nearly all the time. */
static void *churn(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&busy_lock);
        usleep(2000);
        pthread_mutex_unlock(&busy_lock);
        usleep(20);
    }
    return NULL;
}

/* long x -> {x*x, token, init_seen}, taking the application's mutex. */
static int t_locked(ppool_task *t, const void *a, size_t n)
{
    long x = *(const long *)a;
    pthread_mutex_lock(&busy_lock);
    long r[3] = {x * x, token, init_seen};
    pthread_mutex_unlock(&busy_lock);
    return ppool_task_return(t, r, sizeof r);
}

static int t_init(ppool_task *t, const void *a, size_t n)
{
    init_seen = n == sizeof(long) ? *(const long *)a : -1;
    return 0;
}

static int t_pid(ppool_task *t, const void *a, size_t n)
{
    int pid = getpid();
    usleep(2000);
    return ppool_task_return(t, &pid, sizeof pid);
}

static int t_hang(ppool_task *t, const void *a, size_t n)
{
    if (*(const long *)a == 3)
        for (;;) pause();
    return ppool_task_return(t, a, n);
}

static void map_locked(ppool *p)
{
    enum { N = 200 };
    long in[N], out[N][3];
    for (long i = 0; i < N; i++) in[i] = i;
    ASSERT_OK(ppool_map(p, "locked", in, N, sizeof in[0], out, sizeof out[0]), p);
    for (long i = 0; i < N; i++) {
        ASSERT_EQ(out[i][0], i * i);
        ASSERT_NE(out[i][1], token); /* main ran again in the worker: its own pid */
        ASSERT_EQ(out[i][2], 77);    /* the master's initializer argument */
    }
}

/* A killed spawned worker is replaced by another spawned one; nothing is lost. */
static void replaced(ppool *p)
{
    int pids[64];
    long in[64];
    for (int i = 0; i < 64; i++) in[i] = i;
    ASSERT_OK(ppool_map(p, "pid", in, 64, sizeof in[0], pids, sizeof pids[0]), p);
    kill(pids[0], SIGKILL);
    map_locked(p);
    ASSERT_TRUE(h_pid_gone(pids[0]));
}

int main(void)
{
    token = getpid();
    ppool_register("locked", t_locked);
    ppool_register("init", t_init);
    ppool_register("pid", t_pid);
    ppool_register("hang", t_hang);
    pthread_t th;
    pthread_create(&th, NULL, churn, NULL);
    pthread_detach(th);
    usleep(10000); /* the thread holds its mutex now, nearly always */
    long seventy_seven = 77;
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.start = "spawn";
    o.initializer = "init";
    o.initarg = &seventy_seven;
    o.initarg_len = sizeof seventy_seven;
    o.task_timeout = 5; /* sanitized, re-executed workers start slowly */
    ppool *p;
    int rc = ppool_open(&p, &o);
    if (rc == PPOOL_WORKER) return 0; /* a spawned worker, done serving */
    ASSERT_OK(rc, NULL);
    ASSERT_STREQ(ppool_transport(p), "local");
    map_locked(p);
    replaced(p);
    /* a task past task_timeout: its spawned worker is killed and replaced */
    long in[6] = {0, 1, 2, 3, 4, 5}, out[6];
    ASSERT_EQ(ppool_map(p, "hang", in, 6, sizeof in[0], out, sizeof out[0]), PPOOL_ETIMEDOUT);
    size_t idx;
    ASSERT_EQ(ppool_map_failed(p, &idx, NULL, 1), 1);
    ASSERT_EQ(idx, 3);
    map_locked(p);
    ppool_free(p);
    /* PPOOL_START=spawn does the same from the environment; a bad value is refused */
    setenv("PPOOL_START", "spawn", 1);
    o.start = NULL;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    map_locked(p);
    ppool_free(p);
    setenv("PPOOL_START", "exec", 1);
    ASSERT_EQ(ppool_open(&p, &o), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "exec");
    ASSERT_TRUE(h_no_children());
    return 0;
}

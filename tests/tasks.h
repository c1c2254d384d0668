/* tasks.h: task functions the tests share (static, registered by tasks_register()). */
#ifndef PPOOL_TEST_TASKS_H
#define PPOOL_TEST_TASKS_H

#include <stdint.h>
#include <time.h>

#include "harness.h"
#include "ppool.h"

/* Memory shared with every worker, set up by tasks_register() before any pool. */
typedef struct shared_state {
    volatile int init_calls;     /* initializer runs, all workers */
    volatile int crash_once[64]; /* crash_first: items that have crashed once */
    volatile int pids[64];       /* record_pid: pid per item */
    volatile int started;        /* sleepers that began */
    volatile int gates[8];       /* gate: the test opens gate g by setting gates[g] */
    volatile int held;           /* hold_first: item 0's first run has begun */
} shared_state;
static shared_state *SH;
static long init_value;    /* set by the initializer in each worker */
static int init_runs_here; /* initializer runs in this process */

static void sleep_s(double s)
{
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&t, &t) != 0) {
    }
}

/* long -> long: x*x */
static int t_square(ppool_task *t, const void *a, size_t n)
{
    if (n != sizeof(long)) return ppool_task_fail(t, "want a long, got %zu bytes", n);
    long x = *(const long *)a, r = x * x;
    return ppool_task_return(t, &r, sizeof r);
}
/* int -> int: x*x (4-byte items, for the large maps) */
static int t_square32(ppool_task *t, const void *a, size_t n)
{
    int x = *(const int *)a, r = x * x;
    return ppool_task_return(t, &r, sizeof r);
}
/* anything -> int pid */
static int t_getpid(ppool_task *t, const void *a, size_t n)
{
    int pid = getpid();
    return ppool_task_return(t, &pid, sizeof pid);
}
/* long -> long, fails on multiples of 17 (but not 0) */
static int t_fail17(ppool_task *t, const void *a, size_t n)
{
    long x = *(const long *)a;
    if (x && x % 17 == 0) return ppool_task_fail(t, "no multiples of 17 (got %ld)", x);
    return ppool_task_return(t, &x, sizeof x);
}
/* returns a result one byte too long */
static int t_wrongsize(ppool_task *t, const void *a, size_t n)
{
    char b[9] = {0};
    return ppool_task_return(t, b, sizeof b);
}
/* bytes -> the same bytes reversed (variable sizes, empty allowed) */
static int t_reverse(ppool_task *t, const void *a, size_t n)
{
    char *b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) b[i] = ((const char *)a)[n - 1 - i];
    int rc = ppool_task_return(t, b, n);
    free(b);
    return rc;
}
/* fails unless its argument is 16-byte aligned */
static int t_aligned(ppool_task *t, const void *a, size_t n)
{
    if ((uintptr_t)a % 16) return ppool_task_fail(t, "argument at %p is not 16-byte aligned", a);
    return 0;
}
/* returns nothing: an empty result */
static int t_empty(ppool_task *t, const void *a, size_t n)
{
    return 0;
}
/* double seconds -> sleeps, returns its pid */
static int t_sleep(ppool_task *t, const void *a, size_t n)
{
    if (SH) __atomic_add_fetch(&SH->started, 1, __ATOMIC_SEQ_CST);
    sleep_s(*(const double *)a);
    int pid = getpid();
    return ppool_task_return(t, &pid, sizeof pid);
}
/* int g -> its pid, once the test has opened gate g (gate_open), or after 60 s: a result that
 * cannot be done before the test says so, whatever the machine's speed */
static int t_gate(ppool_task *t, const void *a, size_t n)
{
    int g = *(const int *)a;
    for (int i = 0; i < 60000 && !__atomic_load_n(&SH->gates[g], __ATOMIC_SEQ_CST); i++)
        sleep_s(0.001);
    int pid = getpid();
    return ppool_task_return(t, &pid, sizeof pid);
}
static void gate_open(int g)
{
    __atomic_store_n(&SH->gates[g], 1, __ATOMIC_SEQ_CST);
}
/* long i (< 64) -> i, recording its pid in SH->pids[i]; the first run of item 0 then sleeps 60 s,
 * so a kill aimed at it always finds it running */
static int t_hold_first(ppool_task *t, const void *a, size_t n)
{
    long x = *(const long *)a;
    int hold = x == 0 && !__atomic_exchange_n(&SH->held, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&SH->pids[x], getpid(), __ATOMIC_SEQ_CST);
    if (hold) sleep_s(60);
    return ppool_task_return(t, &x, sizeof x);
}
/* long -> long, SIGSEGV on 13 */
static int t_crash13(ppool_task *t, const void *a, size_t n)
{
    long x = *(const long *)a;
    if (x == 13) raise(SIGSEGV);
    return ppool_task_return(t, &x, sizeof x);
}
/* long -> long: stops its own process (SIGSTOP) on 1, or raises SIGALRM on 2 */
static int t_signal_self(ppool_task *t, const void *a, size_t n)
{
    long x = *(const long *)a;
    if (x == 1) raise(SIGSTOP);
    if (x == 2) raise(SIGALRM);
    return ppool_task_return(t, &x, sizeof x);
}
/* long -> long, exits the worker with status 3 on 5 */
static int t_exit5(ppool_task *t, const void *a, size_t n)
{
    long x = *(const long *)a;
    if (x == 5) _exit(3);
    return ppool_task_return(t, &x, sizeof x);
}
/* long i (< 64) -> i, but kills its worker the first time it sees i */
static int t_crash_first(ppool_task *t, const void *a, size_t n)
{
    long x = *(const long *)a;
    if (!__atomic_exchange_n(&SH->crash_once[x], 1, __ATOMIC_SEQ_CST)) raise(SIGKILL);
    return ppool_task_return(t, &x, sizeof x);
}
/* long i (< 64) -> records its pid in SH->pids[i], sleeps 0.2 s, returns i */
static int t_record_pid(ppool_task *t, const void *a, size_t n)
{
    long x = *(const long *)a;
    SH->pids[x] = getpid();
    sleep_s(0.2);
    return ppool_task_return(t, &x, sizeof x);
}
/* long -> long x*x after 1 ms; counts started items, records its pid at pids[0] */
static int t_slow_square(ppool_task *t, const void *a, size_t n)
{
    long x = *(const long *)a, r = x * x;
    __atomic_add_fetch(&SH->started, 1, __ATOMIC_SEQ_CST);
    SH->pids[0] = getpid();
    sleep_s(0.001);
    return ppool_task_return(t, &r, sizeof r);
}
/* anything -> int pid, after 5 ms (so both workers take items) */
static int t_slow_getpid(ppool_task *t, const void *a, size_t n)
{
    sleep_s(0.005);
    int pid = getpid();
    return ppool_task_return(t, &pid, sizeof pid);
}
/* initializer: reads a long from initarg */
static int t_init(ppool_task *t, const void *a, size_t n)
{
    if (n != sizeof(long)) return ppool_task_fail(t, "initarg must be a long, got %zu bytes", n);
    init_value = *(const long *)a;
    init_runs_here++;
    __atomic_add_fetch(&SH->init_calls, 1, __ATOMIC_SEQ_CST);
    return 0;
}
/* initializer that always fails */
static int t_init_fail(ppool_task *t, const void *a, size_t n)
{
    return ppool_task_fail(t, "cannot initialise (on purpose)");
}
/* initializer that works for the first two workers only */
static int t_init_two(ppool_task *t, const void *a, size_t n)
{
    if (__atomic_add_fetch(&SH->init_calls, 1, __ATOMIC_SEQ_CST) > 2)
        return ppool_task_fail(t, "no more workers (on purpose)");
    return 0;
}
/* -> {init_value, init_runs_here, pid} */
static int t_init_state(ppool_task *t, const void *a, size_t n)
{
    long r[3] = {init_value, init_runs_here, getpid()};
    return ppool_task_return(t, r, sizeof r);
}

static void tasks_register(void)
{
    SH = h_shared(sizeof *SH);
    static const struct {
        const char *name;
        ppool_fn fn;
    } all[] = {{"square", t_square},
               {"square32", t_square32},
               {"getpid", t_getpid},
               {"fail17", t_fail17},
               {"wrongsize", t_wrongsize},
               {"reverse", t_reverse},
               {"empty", t_empty},
               {"aligned", t_aligned},
               {"sleep", t_sleep},
               {"crash13", t_crash13},
               {"exit5", t_exit5},
               {"crash_first", t_crash_first},
               {"record_pid", t_record_pid},
               {"gate", t_gate},
               {"hold_first", t_hold_first},
               {"init", t_init},
               {"init_fail", t_init_fail},
               {"init_two", t_init_two},
               {"init_state", t_init_state},
               {"signal_self", t_signal_self},
               {"slow_square", t_slow_square},
               {"slow_getpid", t_slow_getpid}};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (ppool_register(all[i].name, all[i].fn) != 0) H_FAIL("register %s", all[i].name);
}

/* Opens a pool with `workers` workers (0: default) and chunksize; fails the test on error. */
static ppool *open_pool(int workers, size_t chunksize)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = workers;
    o.chunksize = chunksize;
    ppool *p = NULL;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    return p;
}

/* The pool still works: one apply of "square" gives the right answer. */
static void check_usable(ppool *p)
{
    long x = 9;
    ppool_buf r = {0};
    ASSERT_OK(ppool_apply(p, "square", &x, sizeof x, &r), p);
    ASSERT_EQ(r.len, sizeof x);
    ASSERT_EQ(*(long *)r.data, 81);
    ppool_buf_free(&r);
}

#endif

/* test_hostile.c: what a hostile host program does to a pool: forks, kills, limits, junk, exits.
 * Each case runs in its own process under a deadline, so a hang fails the case instead of the
 * run, and nothing it started may outlive it. */
#include <dirent.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "tasks.h"

/* A process's state, parent and session from /proc/pid/stat; 0, or -1 if it is gone. */
static int proc_stat(int pid, char *st, int *ppid, int *sess)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = 0;
    char *rp = strrchr(buf, ')');
    int grp;
    return rp && sscanf(rp + 2, "%c %d %d %d", st, ppid, &grp, sess) == 4 ? 0 : -1;
}

/* Live pids of session sid, other than `except`; how many there are. */
static int session_members(int sid, int except, int *pids, int cap)
{
    DIR *d = opendir("/proc");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        int pid = atoi(e->d_name);
        if (pid <= 0 || pid == except) continue;
        char st;
        int ppid, sess;
        if (proc_stat(pid, &st, &ppid, &sess) == 0 && sess == sid && st != 'Z') {
            if (n < cap) pids[n] = pid;
            n++;
        }
    }
    if (d) closedir(d);
    return n;
}

static void kill_session(int sid)
{
    int pids[256];
    int n = session_members(sid, -1, pids, 256);
    for (int i = 0; i < n && i < 256; i++) kill(pids[i], SIGKILL);
    kill(sid, SIGKILL);
    waitpid(sid, NULL, 0);
}

static int failures;

#define CASE_FAIL(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "FAIL ");                                                                  \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        failures++;                                                                                \
        return;                                                                                    \
    } while (0)

/* Runs fn in a child (its own session) within `secs`; fails on a hang, a crash, or a
 * process of the session still alive 3 s after the child ended. */
static void isolated(const char *name, void (*fn)(void), double secs)
{
    fflush(NULL);
    pid_t c = fork();
    if (c == 0) {
        setsid();
        fn();
        fflush(NULL);
        _exit(0);
    }
    int st = 0;
    double t0 = h_now();
    while (waitpid(c, &st, WNOHANG) == 0) {
        if (h_now() - t0 > secs) {
            kill_session(c);
            waitpid(c, &st, 0);
            CASE_FAIL("%s: no answer within %g s", name, secs);
        }
        usleep(2000);
    }
    int left[8], n = 0;
    for (double t1 = h_now(); h_now() - t1 < 3.0; usleep(20000))
        if ((n = session_members(c, -1, left, 8)) == 0) break;
    if (n) {
        kill_session(c);
        CASE_FAIL("%s: %d process(es) outlived it (pid %d...)", name, n, left[0]);
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        CASE_FAIL("%s: ended with status 0x%x", name, (unsigned)st);
    fprintf(stderr, "ok   %s (%.2f s)\n", name, h_now() - t0);
}

static void map_squares(ppool *p, int n)
{
    long in[256], out[256];
    for (long i = 0; i < n; i++) in[i] = i;
    ASSERT_OK(ppool_map(p, "square", in, (size_t)n, sizeof in[0], out, sizeof out[0]), p);
    for (long i = 0; i < n; i++) ASSERT_EQ(out[i], i * i);
}

/* A child forked after open: every call fails at once, the parent's pool is untouched. */
static void forked_child(void)
{
    ppool *p = open_pool(2, 0);
    pid_t c = fork();
    if (c == 0) {
        long x = 3, y;
        ASSERT_EQ(ppool_map(p, "square", &x, 1, sizeof x, &y, sizeof y), PPOOL_EINVAL);
        ASSERT_CONTAINS(ppool_errmsg(p), "opened by pid");
        ASSERT_NULL(ppool_apply_async(p, "square", &x, sizeof x));
        ASSERT_EQ(ppool_close(p), PPOOL_EINVAL);
        ASSERT_EQ(ppool_join(p), PPOOL_EINVAL);
        ASSERT_EQ(ppool_terminate(p), PPOOL_EINVAL);
        ppool_free(p);
        _exit(0);
    }
    int st;
    waitpid(c, &st, 0);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    map_squares(p, 100);
    ppool_free(p);
}

/* The fork server's pid: the child of this process that is not `except`. */
static int fork_server(void)
{
    int pids[8];
    int n = session_members(getsid(0), getpid(), pids, 8);
    for (int i = 0; i < n && i < 8; i++) {
        char st;
        int ppid, sess;
        if (proc_stat(pids[i], &st, &ppid, &sess) == 0 && ppid == getpid()) return pids[i];
    }
    return -1;
}

/* The fork server killed, idle: the next map fails, free returns. */
static void forksrv_killed_idle(void)
{
    ppool *p = open_pool(2, 0);
    map_squares(p, 10);
    int srv = fork_server();
    ASSERT_TRUE(srv > 0);
    kill(srv, SIGKILL);
    usleep(100000);
    long in[50], out[50];
    for (long i = 0; i < 50; i++) in[i] = i;
    int rc = ppool_map(p, "square", in, 50, sizeof in[0], out, sizeof out[0]);
    ASSERT_TRUE(rc == 0 || rc == PPOOL_ETRANSPORT || rc == PPOOL_EWORKER);
    ppool_free(p);
}

/* The fork server killed during a map: the map ends (results or an error), free returns. */
static void forksrv_killed_busy(void)
{
    ppool *p = open_pool(2, 1);
    double d[20];
    for (int i = 0; i < 20; i++) d[i] = 0.05;
    int pids[20];
    ppool_async *a = ppool_map_async(p, "sleep", d, 20, sizeof d[0], pids, sizeof pids[0]);
    usleep(120000);
    int srv = fork_server();
    ASSERT_TRUE(srv > 0);
    kill(srv, SIGKILL);
    ASSERT_EQ(ppool_async_wait(a, -1), 0);
    int rc = ppool_async_get(a, NULL, 0);
    ASSERT_TRUE(rc == 0 || rc == PPOOL_ETRANSPORT || rc == PPOOL_EWORKER);
    fprintf(stderr, "busy kill: %s\n", rc ? ppool_errmsg(p) : "all done");
    ppool_async_free(a);
    ppool_free(p);
}

static ppool *shared_pool;

static void *map_later(void *arg)
{
    usleep(200000); /* the opening thread has exited by now */
    map_squares(shared_pool, 200);
    ppool_free(shared_pool);
    exit(0);
}

/* The main thread opens the pool and exits; another thread maps and frees. */
static void opener_thread_exits(void)
{
    shared_pool = open_pool(2, 0);
    pthread_t t;
    pthread_create(&t, NULL, map_later, NULL);
    pthread_exit(NULL);
}

/* Descriptors nearly exhausted: open fails cleanly or works, for every margin. */
static void few_descriptors(void)
{
    struct rlimit old;
    getrlimit(RLIMIT_NOFILE, &old);
    for (int spare = 0; spare <= 10; spare++) {
        /* exactly `spare` descriptors free: fill every other one below the limit */
        struct rlimit r = {256, old.rlim_max};
        setrlimit(RLIMIT_NOFILE, &r);
        int fill[256], n = 0, fd;
        while (n < 256 && (fd = open("/dev/null", O_RDONLY)) >= 0) fill[n++] = fd;
        for (int k = 0; k < spare && n; k++) close(fill[--n]);
        ppool_opts o = PPOOL_OPTS_INIT;
        o.workers = 3;
        ppool *p = NULL;
        int rc = ppool_open(&p, &o);
        while (n) close(fill[--n]);
        setrlimit(RLIMIT_NOFILE, &old);
        if (rc == 0) {
            map_squares(p, 50);
            ppool_free(p);
        } else {
            ASSERT_TRUE(rc < 0);
            ASSERT_TRUE(ppool_errmsg(NULL)[0] != 0);
        }
    }
}

/* The fork server can fork no replacement (RLIMIT_NPROC): the pool goes on
 * with the other worker, no item is lost, free returns. Needs an
 * unprivileged uid (root ignores the limit). */
static void no_replacement(void)
{
    if (getuid() == 0 && setuid(65534) != 0) _exit(0); /* cannot drop: nothing to show */
    ppool *p = open_pool(2, 1);
    struct rlimit r = {1, 1};
    ASSERT_EQ(prlimit(fork_server(), RLIMIT_NPROC, &r, NULL), 0);
    enum { N = 40 };
    long in[N], out[N];
    for (long i = 0; i < N; i++) in[i] = i;
    for (int i = 0; i < N; i++) SH->crash_once[i] = i != 13; /* item 13 kills its worker once */
    ASSERT_OK(ppool_map(p, "crash_first", in, N, sizeof in[0], out, sizeof out[0]), p);
    for (long i = 0; i < N; i++) ASSERT_EQ(out[i], i);
    map_squares(p, 100);
    ppool_free(p);
}

/* More workers than the machine: opens, maps and frees. */
static void thousand_workers(void)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 1000;
    ppool *p;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    ASSERT_EQ(ppool_size(p), 1000);
    static int in[20000], out[20000];
    for (int i = 0; i < 20000; i++) in[i] = i;
    ASSERT_OK(ppool_map(p, "square32", in, 20000, sizeof in[0], out, sizeof out[0]), p);
    for (int i = 0; i < 20000; i++) ASSERT_EQ(out[i], i * i);
    ppool_free(p);
}

/* Writes a plausible frame header and junk into every inherited descriptor. */
static int t_junk(ppool_task *t, const void *a, size_t n)
{
    long x = *(const long *)a;
    if (x == 7) {
        unsigned char junk[16] = {0x00, 0x00, 0x10, 0x00, 'j', 'u', 'n', 'k'}; /* 1 MiB */
        for (int fd = 3; fd < 64; fd++) (void)!write(fd, junk, sizeof junk);
    }
    return ppool_task_return(t, &x, sizeof x);
}

static void junk_frames(void)
{
    ppool *p = open_pool(2, 1);
    enum { N = 40 };
    long in[N], out[N];
    for (long i = 0; i < N; i++) in[i] = i;
    memset(out, 0xff, sizeof out);
    int rc = ppool_map(p, "junk", in, N, sizeof in[0], out, sizeof out[0]);
    ASSERT_TRUE(rc == 0 || rc == PPOOL_EWORKER || rc == PPOOL_EPROTO);
    for (long i = 0; i < N; i++)
        if (i != 7) ASSERT_EQ(out[i], i);
    map_squares(p, 100);
    ppool_free(p);
}

/* Timeouts too large to count mean forever; NaN is refused. */
static void huge_timeouts(void)
{
    ppool *p = open_pool(2, 0);
    double big[] = {INFINITY, DBL_MAX, 1e300, 1e12};
    for (int i = 0; i < 4; i++) {
        long x = 5;
        ppool_async *a = ppool_apply_async(p, "square", &x, sizeof x);
        ASSERT_EQ(ppool_async_wait(a, big[i]), 0);
        ppool_buf b;
        ASSERT_EQ(ppool_async_get(a, &b, big[i]), 0);
        ASSERT_EQ(*(long *)b.data, 25);
        ASSERT_EQ(ppool_async_wait(a, NAN), PPOOL_EINVAL);
        ASSERT_CONTAINS(ppool_errmsg(p), "NaN");
        ppool_async_free(a);
        ppool_iter *it = ppool_imap(p, "square", &x, 1, sizeof x);
        size_t idx;
        ASSERT_EQ(ppool_iter_next(it, &idx, &b, NAN), PPOOL_EINVAL);
        ASSERT_EQ(ppool_iter_next(it, &idx, &b, big[i]), 0);
        ASSERT_EQ(ppool_iter_next(it, &idx, &b, big[i]), PPOOL_EDONE);
        ppool_iter_free(it);
    }
    ppool_free(p);
}

static void *errmsg_elsewhere(void *out)
{
    *(const char **)out = ppool_errmsg(NULL);
    return NULL;
}

/* ppool_errmsg(NULL) is this thread's: empty on a thread that never failed. */
static void errmsg_per_thread(void)
{
    ppool *p;
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = -3;
    ASSERT_EQ(ppool_open(&p, &o), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "workers");
    const char *other = NULL;
    pthread_t t;
    pthread_create(&t, NULL, errmsg_elsewhere, &other);
    pthread_join(t, NULL);
    ASSERT_STREQ(other, "");
}

/* Items over the limit are refused up front, naming the limit. */
static void oversized_item(void)
{
    ppool *p = open_pool(1, 0);
    size_t big = (size_t)3 << 29; /* 1.5 GiB, never touched */
    char *mem = malloc(big);
    ASSERT_NOT_NULL(mem);
    ppool_buf r;
    ASSERT_EQ(ppool_apply(p, "empty", mem, big, &r), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(p), "1 GiB frame limit");
    ASSERT_EQ(ppool_map(p, "empty", mem, 1, big, NULL, 0), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(p), "item 0");
    ppool_buf in = {mem, big};
    ppool_buf out;
    ASSERT_EQ(ppool_map_bufs(p, "empty", &in, 1, &out), PPOOL_EINVAL);
    free(mem);
    ppool_free(p);
}

/* An initializer that never ends fails the open at task_timeout, cleanly. */
static void initializer_hangs(void)
{
    double forever = 1000;
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.initializer = "sleep";
    o.initarg = &forever;
    o.initarg_len = sizeof forever;
    o.task_timeout = 0.5;
    ppool *p = NULL;
    /* within the case's 30 s, so not the 60 s start-up limit */
    ASSERT_EQ(ppool_open(&p, &o), PPOOL_ETIMEDOUT);
    ASSERT_NULL(p);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "task_timeout");
}

/* A task that leaves children behind, one of them in a session of its own. */
static int t_spawner(ppool_task *t, const void *a, size_t n)
{
    for (int k = 0; k < 2; k++) {
        pid_t c = fork();
        if (c == 0) {
            if (k) setsid();
            for (;;) pause();
        }
        if (k == 0)
            SH->pids[1] = c;
        else
            SH->pids[2] = c;
    }
    return 0;
}

/* What tasks start ends with the pool: after join and free, none is left. */
static void task_children_end(void)
{
    ppool *p = open_pool(2, 0);
    long x = 1;
    ppool_buf r;
    ASSERT_OK(ppool_apply(p, "spawner", &x, sizeof x, &r), p);
    ASSERT_TRUE(SH->pids[1] > 0 && SH->pids[2] > 0);
    ASSERT_EQ(kill(SH->pids[1], 0), 0);
    ppool_close(p);
    ppool_join(p);
    ppool_free(p);
    ASSERT_TRUE(h_pid_gone(SH->pids[1]));
    ASSERT_TRUE(h_pid_gone(SH->pids[2])); /* even the one that left for its own session */
}

static void *open_elsewhere(void *arg)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    ASSERT_OK(ppool_open((ppool **)arg, &o), NULL);
    return NULL;
}

/* The master, which opened its pool on another thread and forked a helper
 * (holding copies of the pool's descriptors), is SIGKILLed: the fork server
 * and the workers end anyway. */
static void master_killed_with_helper(void)
{
    volatile int *pids = SH->pids; /* [3]: the master, [4]: its helper */
    pid_t m = fork();
    if (m == 0) {
        ppool *p;
        pthread_t t;
        pthread_create(&t, NULL, open_elsewhere, &p);
        pthread_join(t, NULL);
        map_squares(p, 20);
        pid_t helper = fork();
        if (helper == 0) {
            for (;;) pause();
        }
        pids[4] = helper;
        pids[3] = getpid();
        for (;;) pause();
    }
    while (!pids[3]) usleep(1000);
    int members[16];
    int before = session_members(getsid(0), getpid(), members, 16);
    ASSERT_GE(before, 5); /* master, helper, fork server, two workers */
    kill(m, SIGKILL);
    waitpid(m, NULL, 0);
    int left = 0;
    for (double t0 = h_now(); h_now() - t0 < 3.0; usleep(20000))
        if ((left = session_members(getsid(0), getpid(), members, 16)) == 1) break;
    ASSERT_EQ(left, 1); /* only the helper, which is the user's */
    ASSERT_EQ(members[0], pids[4]);
    kill(pids[4], SIGKILL);
}

/* A task that prints, in a program that closed stdin and stdout before
 * opening: its output must not land in a pool socket. */
static int t_print(ppool_task *t, const void *a, size_t n)
{
    printf("a task's line\n");
    fflush(stdout);
    return ppool_task_return(t, a, n);
}

static void closed_std_fds(void)
{
    close(0);
    close(1);
    ppool *p = open_pool(2, 1);
    long in[20], out[20];
    for (long i = 0; i < 20; i++) in[i] = i;
    ASSERT_OK(ppool_map(p, "print", in, 20, sizeof in[0], out, sizeof out[0]), p);
    for (long i = 0; i < 20; i++) ASSERT_EQ(out[i], i);
    ppool_free(p);
}

/* The program closes every descriptor, the pool's too: calls fail, none hangs or spins. */
static void closed_pool_fds(void)
{
    ppool *p = open_pool(2, 0);
    map_squares(p, 10);
    for (int fd = 3; fd < 1024; fd++) close(fd);
    long in[10], out[10];
    for (long i = 0; i < 10; i++) in[i] = i;
    int rc = ppool_map(p, "square", in, 10, sizeof in[0], out, sizeof out[0]);
    ASSERT_TRUE(rc == PPOOL_ETRANSPORT || rc == PPOOL_EWORKER);
    ppool_free(p);
}

int main(void)
{
    tasks_register();
    ppool_register("junk", t_junk);
    ppool_register("spawner", t_spawner);
    ppool_register("print", t_print);
    isolated("forked_child", forked_child, 30);
    isolated("forksrv_killed_idle", forksrv_killed_idle, 30);
    isolated("forksrv_killed_busy", forksrv_killed_busy, 30);
    isolated("opener_thread_exits", opener_thread_exits, 30);
    isolated("few_descriptors", few_descriptors, 60);
    isolated("no_replacement", no_replacement, 30);
    isolated("junk_frames", junk_frames, 30);
    isolated("huge_timeouts", huge_timeouts, 30);
    isolated("errmsg_per_thread", errmsg_per_thread, 30);
    isolated("oversized_item", oversized_item, 30);
    isolated("initializer_hangs", initializer_hangs, 30);
    isolated("closed_std_fds", closed_std_fds, 30);
    isolated("closed_pool_fds", closed_pool_fds, 30);
    isolated("task_children_end", task_children_end, 30);
    isolated("master_killed_with_helper", master_killed_with_helper, 30);
    isolated("thousand_workers", thousand_workers, 120);
    return failures ? 1 : 0;
}

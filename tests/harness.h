/* harness.h: the tests' small harness: asserts that print both operands, skips (exit 77), process
 * checks. */
#ifndef PPOOL_HARNESS_H
#define PPOOL_HARNESS_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define H_FAIL(...)                                                                                \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__);                                    \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        exit(1);                                                                                   \
    } while (0)

/* Integer comparison: prints both operands. */
#define ASSERT_CMP(a, op, b)                                                                       \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (!(a_ op b_)) H_FAIL("%s %s %s (%lld vs %lld)", #a, #op, #b, a_, b_);                   \
    } while (0)
#define ASSERT_EQ(a, b) ASSERT_CMP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_CMP(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_CMP(a, <, b)
#define ASSERT_LE(a, b) ASSERT_CMP(a, <=, b)
#define ASSERT_GE(a, b) ASSERT_CMP(a, >=, b)
#define ASSERT_GT(a, b) ASSERT_CMP(a, >, b)
#define ASSERT_TRUE(c)                                                                             \
    do {                                                                                           \
        if (!(c)) H_FAIL("%s is false", #c);                                                       \
    } while (0)
#define ASSERT_NULL(p)     ASSERT_TRUE((p) == NULL)
#define ASSERT_NOT_NULL(p) ASSERT_TRUE((p) != NULL)
#define ASSERT_STREQ(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                                     \
            H_FAIL("%s == %s (\"%s\" vs \"%s\")", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    } while (0)
/* Substring: the message names what it should. */
#define ASSERT_CONTAINS(hay, needle)                                                               \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_))                                                                \
            H_FAIL("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_);                      \
    } while (0)
/* A ppool call that must succeed; prints the pool's message if not. */
#define ASSERT_OK(call, pool)                                                                      \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != 0)                                                                              \
            H_FAIL("%s returned %d (%s): %s", #call, rc_, ppool_strerror(rc_),                     \
                   ppool_errmsg(pool));                                                            \
    } while (0)

#define SKIP(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "SKIP: ");                                                                 \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        exit(77);                                                                                  \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        fprintf(stderr, "-- %s\n", #fn);                                                           \
        fn();                                                                                      \
    } while (0)

/* Memory shared with workers forked later (they inherit the mapping). */
static inline void *h_shared(size_t size)
{
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) H_FAIL("mmap shared: %s", strerror(errno));
    memset(m, 0, size);
    return m;
}

/* 1 if no process has this pid any more (zombies count as present), or, with
 * zombie_ok, if it is only a zombie (dead, waiting for whoever reaps it). */
static inline int h_pid_state_gone(int pid, int zombie_ok)
{
    if (pid <= 0) return 1;
    if (kill(pid, 0) != 0 && errno == ESRCH) return 1;
    char path[64], state = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    if (fscanf(f, "%*d %*s %c", &state) != 1) state = 0;
    fclose(f);
    return zombie_ok && (state == 'Z' || state == 'X');
}

static inline int h_pid_gone(int pid)
{
    return h_pid_state_gone(pid, 0);
}

/* 1 if this process has no child left (none alive, none unreaped). */
static inline int h_no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static inline double h_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Captures what this process writes to stderr between begin and end. */
static int h_saved_stderr = -1;
static FILE *h_capture;
static inline void h_capture_begin(void)
{
    fflush(stderr);
    h_capture = tmpfile();
    if (!h_capture) H_FAIL("tmpfile");
    h_saved_stderr = dup(2);
    dup2(fileno(h_capture), 2);
}
/* Returns the captured text (malloc'd) and restores stderr. */
static inline char *h_capture_end(void)
{
    fflush(stderr);
    dup2(h_saved_stderr, 2);
    close(h_saved_stderr);
    long n = ftell(h_capture);
    char *s = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    rewind(h_capture);
    if (n > 0 && fread(s, 1, (size_t)n, h_capture) != (size_t)n) H_FAIL("fread");
    fclose(h_capture);
    return s;
}

#endif

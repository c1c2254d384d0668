/* c_pipes.c: the hand-written peer: fork + pipes, fixed chunks handed to idle workers. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../workloads.h"

enum { MAXW = 64 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void io(int fd, void *buf, size_t len, int rd)
{
    char *p = buf;
    while (len) {
        ssize_t r = rd ? read(fd, p, len) : write(fd, p, len);
        if (r <= 0) exit(rd ? 0 : 1);
        p += r;
        len -= (size_t)r;
    }
}

/* The workload: W1/W1c1 square item values; W2, W3, W3ramp spin cost_ms[item] (set before the
 * workers fork, so they share it). */
static const char *label;
static double *cost_ms, total_ms;

static void make_costs(long n)
{
    cost_ms = malloc((size_t)n * sizeof *cost_ms);
    total_ms = 0;
    if (strcmp(label, "W3") == 0) {
        total_ms = bench_w3_costs(cost_ms, (size_t)n);
        return;
    }
    for (long i = 0; i < n; i++)
        total_ms += cost_ms[i] =
            strcmp(label, "W2") == 0 ? 1.0 : bench_w3ramp_ms((size_t)i, (size_t)n);
}

static void run_item(long *x)
{
    if (!cost_ms) {
        *x = *x * *x;
        return;
    }
    double until = now() + 1e-3 * cost_ms[*x];
    while (now() < until) {
    }
}

/* A chunk on the wire: {first, count} then count longs; results come back the same way. */
static void worker(int in, int out)
{
    long hdr[2], *buf = NULL;
    size_t cap = 0;
    for (;;) {
        io(in, hdr, sizeof hdr, 1);
        if ((size_t)hdr[1] > cap) buf = realloc(buf, (cap = (size_t)hdr[1]) * sizeof *buf);
        io(in, buf, (size_t)hdr[1] * sizeof *buf, 1);
        for (long i = 0; i < hdr[1]; i++) run_item(&buf[i]);
        io(out, hdr, sizeof hdr, 0);
        io(out, buf, (size_t)hdr[1] * sizeof *buf, 0);
    }
}

static int to[MAXW][2], from[MAXW][2];
static pid_t pid[MAXW];

static int start_workers(int nw)
{
    for (int w = 0; w < nw; w++) {
        if (pipe(to[w]) || pipe(from[w])) return -1;
        if ((pid[w] = fork()) == 0) {
            for (int k = 0; k < w; k++) { /* the master's ends for earlier workers */
                close(to[k][1]);
                close(from[k][0]);
            }
            close(to[w][1]);
            close(from[w][0]);
            worker(to[w][0], from[w][1]);
        }
        close(to[w][0]);
        close(from[w][1]);
    }
    return 0;
}

/* The master: a chunk to each idle worker, then poll for results; returns the wall time. */
static double master(int nw, long *in, long *out, long n, long chunk)
{
    double t0 = now();
    long next = 0, done = 0;
    int busy[MAXW] = {0};
    while (done < n) {
        for (int w = 0; w < nw; w++)
            if (!busy[w] && next < n) {
                long hdr[2] = {next, next + chunk > n ? n - next : chunk};
                io(to[w][1], hdr, sizeof hdr, 0);
                io(to[w][1], in + next, (size_t)hdr[1] * sizeof *in, 0);
                next += hdr[1];
                busy[w] = 1;
            }
        struct pollfd pf[MAXW];
        for (int w = 0; w < nw; w++) pf[w] = (struct pollfd){.fd = from[w][0], .events = POLLIN};
        poll(pf, (nfds_t)nw, -1);
        for (int w = 0; w < nw; w++)
            if (pf[w].revents & POLLIN) {
                long hdr[2];
                io(from[w][0], hdr, sizeof hdr, 1);
                io(from[w][0], out + hdr[0], (size_t)hdr[1] * sizeof *out, 1);
                done += hdr[1];
                busy[w] = 0;
            }
    }
    return now() - t0;
}

static void report(int nw, long n, long chunk, double dt, const long *out)
{
    printf("c-pipes %s workers=%d tasks=%ld transport=pipes chunksize=%ld seconds=%.4f ", label, nw,
           n, chunk, dt);
    if (cost_ms) {
        double ideal = total_ms * 1e-3 / nw;
        printf("ideal=%.4f efficiency=%.3f ok=1\n", ideal, ideal / dt);
    } else {
        int ok = 1;
        for (long i = 0; i < n; i++) ok &= out[i] == i * i;
        printf("tasks_per_s=%.0f ok=%d\n", (double)n / dt, ok);
    }
}

int main(int argc, char **argv)
{
    static const char *const names[][2] = {
        {"w1", "W1"}, {"w1c1", "W1c1"}, {"w2", "W2"}, {"w3", "W3"}, {"w3ramp", "W3ramp"}};
    const char *what = argc > 1 ? argv[1] : "w1";
    for (size_t k = 0; k < sizeof names / sizeof *names; k++)
        if (strcmp(what, names[k][0]) == 0) label = names[k][1];
    int nw = argc > 2 ? atoi(argv[2]) : 2;
    if (!label || nw < 1 || nw > MAXW) {
        fprintf(stderr, "usage: peer-c-pipes w1|w1c1|w2|w3|w3ramp [workers] [n] [chunk]\n");
        return 2;
    }
    int spins = label[1] != '1';
    long n = argc > 3 ? atol(argv[3]) : (spins ? 2000 : 200000);
    /* tuned by hand, per workload: 5000 items for W1, 1 for W1c1 and the spins */
    long chunk = argc > 4 ? atol(argv[4]) : (strcmp(label, "W1") == 0 ? 5000 : 1);
    if (spins) make_costs(n);
    if (start_workers(nw)) return 1;
    long *in = malloc((size_t)n * sizeof *in), *out = malloc((size_t)n * sizeof *out);
    for (long i = 0; i < n; i++) in[i] = i;
    double dt = master(nw, in, out, n, chunk);
    for (int w = 0; w < nw; w++) {
        close(to[w][1]);
        waitpid(pid[w], NULL, 0);
    }
    report(nw, n, chunk, dt, out);
    return 0;
}

/* c_pipes.c: the hand-written peer: fork + pipes, a master that hands fixed chunks to idle workers.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* A chunk on the wire: {first, count} then count longs; results come back the same way. */
static long n_items; /* W3: item i costs 2 ms * i / n */

static void worker(int in, int out, int w2)
{
    long hdr[2], *buf = NULL;
    size_t cap = 0;
    for (;;) {
        io(in, hdr, sizeof hdr, 1);
        if ((size_t)hdr[1] > cap) buf = realloc(buf, (cap = (size_t)hdr[1]) * sizeof *buf);
        io(in, buf, (size_t)hdr[1] * sizeof *buf, 1);
        for (long i = 0; i < hdr[1]; i++) {
            if (w2) {
                double ms = w2 == 3 ? 2.0 * (double)buf[i] / (double)n_items : 1.0;
                double until = now() + 1e-3 * ms;
                while (now() < until) {
                }
            } else {
                buf[i] = buf[i] * buf[i];
            }
        }
        io(out, hdr, sizeof hdr, 0);
        io(out, buf, (size_t)hdr[1] * sizeof *buf, 0);
    }
}

int main(int argc, char **argv)
{
    int w2 = argc > 1 && strcmp(argv[1], "w2") == 0
                 ? 2
                 : (argc > 1 && strcmp(argv[1], "w3") == 0 ? 3 : 0);
    int nw = argc > 2 ? atoi(argv[2]) : 2;
    long n = argc > 3 ? atol(argv[3]) : (w2 ? 2000 : 200000);
    n_items = n;
    long chunk = argc > 4 ? atol(argv[4]) : (w2 ? 1 : 5000); /* tuned by hand, per workload */
    int to[64][2], from[64][2];
    pid_t pid[64];
    for (int w = 0; w < nw; w++) {
        if (pipe(to[w]) || pipe(from[w])) return 1;
        if ((pid[w] = fork()) == 0) {
            for (int k = 0; k < w; k++) { /* the master's ends for earlier workers */
                close(to[k][1]);
                close(from[k][0]);
            }
            close(to[w][1]);
            close(from[w][0]);
            worker(to[w][0], from[w][1], w2);
        }
        close(to[w][0]);
        close(from[w][1]);
    }
    long *in = malloc((size_t)n * sizeof *in), *out = malloc((size_t)n * sizeof *out);
    for (long i = 0; i < n; i++) in[i] = i;
    double t0 = now();
    long next = 0, done = 0;
    int busy[64] = {0};
    while (done < n) {
        for (int w = 0; w < nw; w++)
            if (!busy[w] && next < n) {
                long hdr[2] = {next, next + chunk > n ? n - next : chunk};
                io(to[w][1], hdr, sizeof hdr, 0);
                io(to[w][1], in + next, (size_t)hdr[1] * sizeof *in, 0);
                next += hdr[1];
                busy[w] = 1;
            }
        struct pollfd pf[64];
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
    double dt = now() - t0;
    for (int w = 0; w < nw; w++) {
        close(to[w][1]);
        waitpid(pid[w], NULL, 0);
    }
    if (w2) {
        double total = 0;
        for (long i = 0; i < n; i++) total += w2 == 3 ? 2.0 * (double)i / (double)n : 1.0;
        double ideal = total * 1e-3 / nw;
        printf("c-pipes W%d workers=%d tasks=%ld seconds=%.4f ideal=%.4f efficiency=%.3f ok=1\n",
               w2, nw, n, dt, ideal, ideal / dt);
    } else {
        printf("c-pipes W1 workers=%d tasks=%ld seconds=%.4f tasks_per_s=%.0f ok=%d\n", nw, n, dt,
               (double)n / dt, out[n - 1] == (n - 1) * (n - 1));
    }
    return 0;
}

/* c_mpi.c: the hand-written MPI peer: rank 0 hands single tasks to worker ranks (W1c1, W2-W4). */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../workloads.h"

enum { TAG_TASK = 1, TAG_STOP = 2, MAXW = 256, MAXD = 2, MIB = 1 << 20 };

/* One workload: item i is `size` bytes at in + i * size; every result is one long. */
struct job {
    int kind; /* 1: x*x on a long, 3: spin ms (a double: W2, W3, W3ramp), 4: checksum of 1 MiB */
    const char *label;
    long n;
    size_t size;
    char *in;
    long *out, *want;
    double ideal; /* W2, W3: sum of task times / workers */
};

/* A task in flight: its item and the send that carries it (from the input array, no copy). */
struct slot {
    long idx;
    MPI_Request req;
};

static void spin(double ms)
{
    double until = MPI_Wtime() + ms * 1e-3;
    while (MPI_Wtime() < until) {
    }
}

static long compute(int kind, const void *buf, size_t len)
{
    if (kind == 1) return *(const long *)buf * *(const long *)buf;
    if (kind == 3) {
        spin(*(const double *)buf);
        return 1;
    }
    return (long)bench_sum64(buf, len);
}

/* Worker ranks: receive a task, run it, send the result back, until the master says stop. */
static void worker(int kind, size_t cap)
{
    char *buf = malloc(cap);
    for (;;) {
        MPI_Status st;
        MPI_Recv(buf, (int)cap, MPI_BYTE, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        if (st.MPI_TAG == TAG_STOP) break;
        int len;
        MPI_Get_count(&st, MPI_BYTE, &len);
        long r = compute(kind, buf, (size_t)len);
        MPI_Send(&r, 1, MPI_LONG, 0, TAG_TASK, MPI_COMM_WORLD);
    }
    free(buf);
}

static void post(const struct job *j, int w, long idx, struct slot *s)
{
    s->idx = idx;
    MPI_Isend(j->in + (size_t)idx * j->size, (int)j->size, MPI_BYTE, w, TAG_TASK, MPI_COMM_WORLD,
              &s->req);
}

/* Items [first, first + n) with `depth` tasks in flight per worker; returns the wall time. A
 * worker answers in order, so a result from w is for the oldest of w's slots. */
static double master(const struct job *j, int nw, int depth, long first, long n)
{
    static struct slot slot[MAXW + 1][MAXD];
    int head[MAXW + 1] = {0};
    long next = first, end = first + n, done = 0;
    double t0 = MPI_Wtime();
    for (int d = 0; d < depth; d++)
        for (int w = 1; w <= nw && next < end; w++) post(j, w, next++, &slot[w][d]);
    while (done < n) {
        long r;
        MPI_Status st;
        MPI_Recv(&r, 1, MPI_LONG, MPI_ANY_SOURCE, TAG_TASK, MPI_COMM_WORLD, &st);
        int w = st.MPI_SOURCE;
        struct slot *s = &slot[w][head[w]];
        MPI_Wait(&s->req, MPI_STATUS_IGNORE);
        j->out[s->idx] = r;
        done++;
        if (next < end) post(j, w, next++, s);
        head[w] = (head[w] + 1) % depth;
    }
    return MPI_Wtime() - t0;
}

/* Inputs and the results they must give. */
static void make_inputs(struct job *j, int nw)
{
    j->in = malloc((size_t)j->n * j->size);
    j->out = calloc((size_t)j->n, sizeof *j->out);
    j->want = malloc((size_t)j->n * sizeof *j->want);
    double total = 0;
    if (strcmp(j->label, "3") == 0) total = bench_w3_costs((double *)j->in, (size_t)j->n);
    for (long i = 0; i < j->n; i++) {
        char *item = j->in + (size_t)i * j->size;
        if (j->kind == 1) *(long *)item = i;
        if (j->kind == 3 && strcmp(j->label, "3") != 0)
            total += *(double *)item =
                strcmp(j->label, "2") == 0 ? 1.0 : bench_w3ramp_ms((size_t)i, (size_t)j->n);
        if (j->kind == 4) bench_fill_w4((uint64_t *)item, (size_t)i, j->size / 8);
        j->want[i] = j->kind == 3 ? 1 : compute(j->kind, item, j->size);
    }
    j->ideal = total * 1e-3 / nw;
}

static int check(const struct job *j)
{
    for (long i = 0; i < j->n; i++)
        if (j->out[i] != j->want[i]) return 0;
    return 1;
}

static void report(const struct job *j, int nw, int depth, double dt)
{
    printf("c-mpi W%s workers=%d tasks=%ld transport=mpi inflight=%d%s seconds=%.4f ", j->label, nw,
           j->n, depth, j->kind == 1 ? " chunksize=1" : "", dt);
    if (j->kind == 1) printf("tasks_per_s=%.0f", (double)j->n / dt);
    if (j->kind == 3) printf("ideal=%.4f efficiency=%.3f", j->ideal, j->ideal / dt);
    if (j->kind == 4)
        printf("item_bytes=%zu mb_per_s=%.1f items_per_s=%.1f", j->size,
               (double)j->n * (double)j->size / dt * 1e-6, (double)j->n / dt);
    printf(" ok=%d\n", check(j));
    fflush(stdout);
}

/* Rank 0: a warm-up task per worker, then the whole workload with 1 and with 2 tasks in flight. */
static void run_master(struct job *j, int nw)
{
    make_inputs(j, nw);
    master(j, nw, 1, 0, j->n < nw ? j->n : nw);
    for (int depth = 1; depth <= MAXD; depth++) {
        memset(j->out, 0, (size_t)j->n * sizeof *j->out);
        report(j, nw, depth, master(j, nw, depth, 0, j->n));
    }
    for (int w = 1; w <= nw; w++) MPI_Send(NULL, 0, MPI_BYTE, w, TAG_STOP, MPI_COMM_WORLD);
}

static int parse(struct job *j, int argc, char **argv)
{
    static const struct {
        const char *arg, *label;
        int kind;
        long n;
        size_t size;
    } w[] = {{"w1", "1c1", 1, 200000, sizeof(long)},
             {"w2", "2", 3, 2000, sizeof(double)},
             {"w3", "3", 3, 2000, sizeof(double)},
             {"w3ramp", "3ramp", 3, 2000, sizeof(double)},
             {"w4", "4", 4, 2000, MIB}};
    for (size_t k = 0; argc > 1 && k < sizeof w / sizeof *w; k++)
        if (strcmp(argv[1], w[k].arg) == 0) {
            *j = (struct job){.kind = w[k].kind, .label = w[k].label, .size = w[k].size};
            j->n = argc > 2 ? atol(argv[2]) : w[k].n;
            return j->n > 0;
        }
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    struct job j = {0};
    if (!parse(&j, argc, argv) || size < 2 || size > MAXW + 1) {
        if (rank == 0)
            fprintf(stderr, "usage: mpirun -n 1+WORKERS peer-c-mpi w1|w2|w3|w3ramp|w4 [n]\n");
        MPI_Finalize();
        return 2;
    }
    if (rank == 0)
        run_master(&j, size - 1);
    else
        worker(j.kind, j.size);
    MPI_Finalize();
    return 0;
}

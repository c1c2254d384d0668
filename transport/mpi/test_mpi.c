/* test_mpi.c: the MPI transport through its ops table, under mpirun -n 3: frames both ways (batched
 * and alone, in order), a given-up rank, release of every rank (PPOOL_WORKER), MPI usable
 * afterwards. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mpi_impl.h"
#include "ppool.h"
#include "transport.h"

/* The worker side: answers every frame with it reversed; "bad" is a broken frame. */
static int t_start(void *ctx, int worker, volatile uint64_t *current, void **out, size_t *len)
{
    return -1; /* never called: MPI workers start from a frame */
}

static int t_run(void *ctx, const void *frame, size_t len, void **out, size_t *out_len)
{
    if (len == 3 && memcmp(frame, "bad", 3) == 0) return -1;
    char *r = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) r[i] = ((const char *)frame)[len - 1 - i];
    *out = r;
    *out_len = len;
    return 0;
}

static const ppool__worker_ops wops = {.ctx = NULL, .start = t_start, .run = t_run};

static ppool__event next_event(const ppool__transport *T, void *st)
{
    ppool__event ev;
    for (int i = 0; i < 1000; i++) {
        ASSERT_EQ(T->recv(st, &ev, 0.01), 0);
        if (ev.kind != PPOOL__EV_NONE) return ev;
    }
    H_FAIL("no event within 10 s");
    return ev;
}

static void send_str(const ppool__transport *T, void *st, int w, const char *s)
{
    char *f = malloc(strlen(s));
    memcpy(f, s, strlen(s));
    ASSERT_EQ(T->send(st, w, f, strlen(s)), 0);
}

static void expect_frame(const ppool__transport *T, void *st, int w, const char *want)
{
    ppool__event ev = next_event(T, st);
    ASSERT_EQ(ev.kind, PPOOL__EV_FRAME);
    ASSERT_EQ(ev.worker, w);
    ASSERT_EQ(ev.len, strlen(want));
    ASSERT_TRUE(memcmp(ev.frame, want, ev.len) == 0);
    free(ev.frame);
}

/* Counts the frames a split hands on, checking each is "f<i>". */
static int count_frame(void *user, void *frame, size_t len)
{
    int *n = user;
    char want[16];
    snprintf(want, sizeof want, "f%d", (*n)++);
    ASSERT_EQ(len, strlen(want));
    ASSERT_TRUE(memcmp(frame, want, len) == 0);
    free(frame);
    return 0;
}

/* Batches: packed and split back; every malformed length is refused. */
static void batch_split(void)
{
    ppool__mpi_batch b = {0};
    for (int i = 0; i < 20; i++) {
        char f[16];
        snprintf(f, sizeof f, "f%d", i);
        ASSERT_EQ(ppool__mpi_batch_add(&b, f, strlen(f)), 0);
    }
    ASSERT_EQ(b.count, 20);
    size_t len;
    unsigned char *m = ppool__mpi_batch_take(&b, &len);
    ASSERT_EQ(b.count, 0);
    int n = 0;
    ASSERT_EQ(ppool__mpi_batch_split(m, len, count_frame, &n), 0);
    ASSERT_EQ(n, 20);
    n = 0; /* cut short: the frames before the cut are handed on */
    ASSERT_EQ(ppool__mpi_batch_split(m, len - 1, count_frame, &n), PPOOL_EPROTO);
    ASSERT_EQ(n, 19);
    m[0] = 0xff; /* a length past the end */
    n = 0;
    ASSERT_EQ(ppool__mpi_batch_split(m, len, count_frame, &n), PPOOL_EPROTO);
    ASSERT_EQ(n, 0);
    memset(m, 0, 4); /* a zero length */
    ASSERT_EQ(ppool__mpi_batch_split(m, len, count_frame, &n), PPOOL_EPROTO);
    ASSERT_EQ(ppool__mpi_batch_split(m, 3, count_frame, &n), PPOOL_EPROTO); /* a torn length */
    free(m);
}

/* Many small frames in a row (sent as batches) and a large one after them
 * (sent alone): every answer comes back, in order. */
static void many_small_then_large(const ppool__transport *T, void *st)
{
    char f[16], want[16];
    for (int i = 0; i < 200; i++) {
        snprintf(f, sizeof f, "%03d", i);
        send_str(T, st, 0, f);
    }
    char *big = malloc(10000);
    memset(big, 'x', 10000);
    big[0] = 'a';
    ASSERT_EQ(T->send(st, 0, big, 10000), 0);
    for (int i = 0; i < 200; i++) {
        snprintf(f, sizeof f, "%03d", i);
        for (int k = 0; k < 3; k++) want[k] = f[2 - k];
        want[3] = 0;
        expect_frame(T, st, 0, want);
    }
    ppool__event ev = next_event(T, st);
    ASSERT_EQ(ev.len, 10000);
    ASSERT_EQ(((char *)ev.frame)[9999], 'a');
    free(ev.frame);
}

/* The clock the transport hands the core (use_clock). */
static double (*given)(void);
static void take_clock(double (*fn)(void))
{
    given = fn;
}

int main(void)
{
    batch_split();
    const ppool__transport *T = ppool__transport_find("auto");
    ASSERT_TRUE(T != NULL);
    ASSERT_TRUE(strcmp(T->name, "mpi") == 0); /* auto picks MPI under mpirun */
    ASSERT_EQ(T->caps & (PPOOL__CAN_KILL | PPOOL__CAN_RESPAWN | PPOOL__INHERITS), 0u);
    void *st = calloc(1, T->state_size);
    ppool__topen o = {.workers = 0, .wops = &wops, .max_frame = 1 << 20, .use_clock = take_clock};
    char err[256] = "";
    int rc = T->open(st, &o, err, sizeof err);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    ASSERT_TRUE(given != NULL); /* every rank's scheduler reads MPI's clock */
    double w = MPI_Wtime(), g = given();
    ASSERT_TRUE(g >= w && g - w < 0.01);
    if (rank > 0) { /* served until released */
        ASSERT_EQ(rc, PPOOL_WORKER);
    } else {
        ASSERT_EQ(rc, 0);
        ASSERT_EQ(o.workers, 2); /* default: size - 1 */
        send_str(T, st, 0, "abc");
        expect_frame(T, st, 0, "cba");
        send_str(T, st, 1, "hello");
        expect_frame(T, st, 1, "olleh");
        many_small_then_large(T, st);
        /* a frame the worker cannot read: it is given up, reported dead */
        send_str(T, st, 1, "bad");
        ppool__event ev = next_event(T, st);
        ASSERT_EQ(ev.kind, PPOOL__EV_DEAD);
        ASSERT_EQ(ev.worker, 1);
        ASSERT_CONTAINS(ev.why, "rank 2");
        ASSERT_EQ(T->send(st, 1, malloc(1), 1), PPOOL_EWORKER);
        /* wake() ends a blocked recv */
        T->wake(st);
        ASSERT_EQ(T->recv(st, &ev, -1), 0);
        ASSERT_EQ(ev.kind, PPOOL__EV_NONE);
    }
    T->close(st);
    free(st);
    /* the application's MPI goes on */
    int one = 1, sum = 0;
    ASSERT_EQ(MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), MPI_SUCCESS);
    ASSERT_EQ(sum, 3);
    return 0;
}

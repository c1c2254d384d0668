/* test_mpi.c: the MPI transport through its ops table, under mpirun -n 3: Init/Hello, frames both
 * ways, a given-up rank, release of every rank (PPOOL_WORKER), and MPI usable afterwards. */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
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

int main(void)
{
    const ppool__transport *T = ppool__transport_find("auto");
    ASSERT_TRUE(T != NULL);
    ASSERT_TRUE(strcmp(T->name, "mpi") == 0); /* auto picks MPI under mpirun */
    ASSERT_EQ(T->caps & (PPOOL__CAN_KILL | PPOOL__CAN_RESPAWN | PPOOL__INHERITS), 0u);
    void *st = calloc(1, T->state_size);
    ppool__topen o = {.workers = 0, .wops = &wops, .max_frame = 1 << 20};
    char err[256] = "";
    int rc = T->open(st, &o, err, sizeof err);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank > 0) { /* served until released */
        ASSERT_EQ(rc, PPOOL_WORKER);
    } else {
        ASSERT_EQ(rc, 0);
        ASSERT_EQ(o.workers, 2); /* default: size - 1 */
        send_str(T, st, 0, "abc");
        expect_frame(T, st, 0, "cba");
        send_str(T, st, 1, "hello");
        expect_frame(T, st, 1, "olleh");
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

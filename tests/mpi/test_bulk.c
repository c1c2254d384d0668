/* test_bulk.c: large items go as they lie (borrowed) on MPI: exact results, and the caller's
 * memory is never read after a freed async map, a terminate or a timeout lets it go. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ppool.h>

#include "harness.h"

enum { ITEM = 256 << 10 };

/* An item's 64-bit sum; sleeps first when asked (the item's first word: bit 0 20 ms, bit 1 200 ms
 * more). An
 * item whose bytes were poisoned (the caller had let them go) ends the whole run. */
static int sum(ppool_task *t, const void *arg, size_t len)
{
    const uint64_t *w = arg;
    uint64_t s = 0;
    if (w[0] == UINT64_MAX && w[len / 8 - 1] == UINT64_MAX) {
        fprintf(stderr, "test_bulk: a task read memory its caller had let go\n");
        abort();
    }
    if (w[0] & 3) {
        struct timespec ts = {0, (w[0] & 2 ? 220 : 20) * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < len / 8; i++) s += w[i];
    return ppool_task_return(t, &s, sizeof s);
}

/* n items; slow: the low bits of each first word (see sum) */
static char *items(size_t n, int slow)
{
    char *in = malloc(n * ITEM);
    for (size_t i = 0; i < n * ITEM / 8; i++) ((uint64_t *)in)[i] = i * 2654435761u;
    for (size_t i = 0; i < n; i++) ((uint64_t *)(in + i * ITEM))[0] = 4 * i + (uint64_t)slow;
    return in;
}

static uint64_t want(const char *item)
{
    uint64_t s = 0;
    for (size_t i = 0; i < ITEM / 8; i++) s += ((const uint64_t *)item)[i];
    return s;
}

int main(void)
{
    ASSERT_OK(ppool_register("sum", sum), NULL);
    ppool *p;
    int rc = ppool_open(&p, NULL);
    if (rc == PPOOL_WORKER) goto second;
    ASSERT_OK(rc, NULL);
    size_t n = 300;
    char *in = items(n, 0);
    uint64_t *out = calloc(n, sizeof *out);
    ASSERT_OK(ppool_map(p, "sum", in, n, ITEM, out, sizeof *out), p);
    for (size_t i = 0; i < n; i++) ASSERT_EQ(out[i], want(in + i * ITEM));
    /* a map_async freed while its items are in flight: its input may go at once */
    char *slow = items(40, 1);
    uint64_t *sout = calloc(40, sizeof *sout);
    ppool_async *a = ppool_map_async(p, "sum", slow, 40, ITEM, sout, sizeof *sout);
    ASSERT_TRUE(a != NULL);
    struct timespec ts = {0, 30 * 1000 * 1000};
    nanosleep(&ts, NULL);
    ppool_async_free(a);
    memset(slow, 0xff, 40 * ITEM);
    free(slow);
    free(sout); /* results of the freed map are discarded, never written */
    memset(out, 0, n * sizeof *out);
    ASSERT_OK(ppool_map(p, "sum", in, n, ITEM, out, sizeof *out), p);
    for (size_t i = 0; i < n; i++) ASSERT_EQ(out[i], want(in + i * ITEM));
    /* terminate with large items in flight (40 x 0.22 s: never all done first) */
    slow = items(40, 3);
    sout = calloc(40, sizeof *sout);
    a = ppool_map_async(p, "sum", slow, 40, ITEM, sout, sizeof *sout);
    nanosleep(&ts, NULL);
    ASSERT_OK(ppool_terminate(p), p);
    ASSERT_EQ(ppool_async_get(a, NULL, 5), PPOOL_ECLOSED);
    ppool_async_free(a);
    ppool_free(p);
    memset(slow, 0xff, 40 * ITEM);
    free(slow);
    free(sout);
    free(in);
    free(out);
second: /* a timeout with large items, on a pool opened after all that */
    ppool_opts o = PPOOL_OPTS_INIT;
    o.task_timeout = 0.005; /* every slow item (20 ms) times out */
    rc = ppool_open(&p, &o);
    if (rc == PPOOL_WORKER) return 0;
    ASSERT_OK(rc, NULL);
    slow = items(6, 1);
    sout = calloc(6, sizeof *sout);
    ASSERT_EQ(ppool_map(p, "sum", slow, 6, ITEM, sout, sizeof *sout), PPOOL_ETIMEDOUT);
    ASSERT_CONTAINS(ppool_errmsg(p), "timed out");
    memset(slow, 0xff, 6 * ITEM);
    free(slow);
    free(sout);
    ppool_free(p);
    printf("test_bulk: ok (%s)\n", getenv("OMPI_COMM_WORLD_SIZE") ? "mpi" : "local");
    return 0;
}

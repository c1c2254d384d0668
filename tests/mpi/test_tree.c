/* test_tree.c: a hierarchy of masters (PPOOL_HIERARCHY=on PPOOL_NODE_SIZE=4, 17 ranks): rank 0
 * feeds 4 sub-masters only, they feed the other ranks and work too; results, item errors and
 * explicit chunks are those of the flat pool; a slow group gives work back to the idle ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ppool.h>

#include "harness.h"

static int who(ppool_task *t, const void *arg, size_t len)
{
    long x = *(const long *)arg, r[2] = {x * 3 + 1, getpid()};
    if (x == 777) return ppool_task_fail(t, "seven hundred and seventy-seven");
    return ppool_task_return(t, r, sizeof r);
}

/* Slow in the first group (ranks 1-4: its items take 30 ms), instant elsewhere. */
static int slow_first(ppool_task *t, const void *arg, size_t len)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK");
    if (!r) r = getenv("PMIX_RANK");
    int rank = r ? atoi(r) : 0;
    if (rank >= 1 && rank <= 4) usleep(30000);
    long x[2] = {*(const long *)arg * 5 - 2, getpid()};
    return ppool_task_return(t, x, sizeof x);
}

/* Rank 0's PPOOL_STATS table, printed at ppool_free, read back from a file. */
static char *stats_of(ppool *p)
{
    fflush(stderr);
    int keep = dup(2);
    FILE *f = tmpfile();
    ASSERT_NOT_NULL(f);
    dup2(fileno(f), 2);
    ppool_free(p);
    fflush(stderr);
    dup2(keep, 2);
    close(keep);
    static char buf[1 << 14];
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* Rows of the table: each a sub-master with `behind` workers; their items summed. */
static int sub_masters(const char *stats, int *behind_total, size_t *items_total,
                       size_t *given_total)
{
    int rows = 0;
    const char *line = strstr(stats, "cpuset\n");
    for (line = line ? strchr(line, '\n') : NULL; line && line[1]; line = strchr(line + 1, '\n')) {
        int w, pid, spawns, deaths, behind;
        size_t items, chunks, given;
        double busy;
        if (sscanf(line + 1, "%d %d %zu %zu %lf %d %d %d %zu", &w, &pid, &items, &chunks, &busy,
                   &spawns, &deaths, &behind, &given) != 9)
            break;
        rows++;
        *behind_total += behind;
        *items_total += items;
        *given_total += given;
    }
    return rows;
}

enum { N = 6000, CHUNK = 5, SLOW = 400 };
static long in[N], out[N][2];

int main(void)
{
    ASSERT_OK(ppool_register("who", who), NULL);
    ASSERT_OK(ppool_register("slow_first", slow_first), NULL);
    ppool_opts o = PPOOL_OPTS_INIT;
    o.flags = PPOOL_STATS;
    ppool *p;
    int rc = ppool_open(&p, &o);
    if (rc == PPOOL_WORKER) return 0;
    ASSERT_OK(rc, NULL);
    ASSERT_EQ(ppool_size(p), 16); /* every rank but 0 runs tasks, sub-masters too */
    for (long i = 0; i < N; i++) in[i] = i;

    /* An item's failure names its own index, as in the flat pool. */
    rc = ppool_map(p, "who", in, N, sizeof in[0], out, sizeof out[0]);
    ASSERT_EQ(rc, PPOOL_ETASK);
    ASSERT_CONTAINS(ppool_errmsg(p), "item 777");
    ASSERT_CONTAINS(ppool_errmsg(p), "seven hundred");
    in[777] = 778;

    /* Adaptive chunks: every rank took part, through the 4 sub-masters. */
    ASSERT_OK(ppool_map(p, "who", in, N, sizeof in[0], out, sizeof out[0]), p);
    int pids[64], npids = 0;
    for (long i = 0; i < N; i++) {
        ASSERT_EQ(out[i][0], in[i] * 3 + 1);
        int k = 0;
        while (k < npids && pids[k] != out[i][1]) k++;
        if (k == npids && npids < 64) pids[npids++] = (int)out[i][1];
    }
    ASSERT_EQ(npids, 16);

    /* An explicit chunksize is kept below: each block of CHUNK items ran in one process. */
    ppool_iter *it = ppool_imap_chunked(p, "who", in, N, sizeof in[0], CHUNK);
    ASSERT_NOT_NULL(it);
    size_t idx;
    ppool_buf b;
    for (size_t want = 0; (rc = ppool_iter_next(it, &idx, &b, -1)) != PPOOL_EDONE; want++) {
        ASSERT_OK(rc, p);
        ASSERT_EQ(idx, want); /* ordered */
        memcpy(out[idx], b.data, sizeof out[idx]);
    }
    ppool_iter_free(it);
    for (long i = 0; i < N; i++) ASSERT_EQ(out[i][1], out[i - i % CHUNK][1]);

    /* One group is slow: the others run dry while it still holds items it has not started, and
     * it gives some back (the "given" column); each item still has its one right result, in a
     * map, in an unordered iterator, and with explicit chunks (still whole). */
    static long got[SLOW][2];
    ASSERT_OK(ppool_map(p, "slow_first", in, SLOW, sizeof in[0], got, sizeof got[0]), p);
    for (long i = 0; i < SLOW; i++) ASSERT_EQ(got[i][0], in[i] * 5 - 2);
    ASSERT_OK(ppool_map_chunked(p, "slow_first", in, SLOW, sizeof in[0], got, sizeof got[0], CHUNK),
              p);
    for (long i = 0; i < SLOW; i++) {
        ASSERT_EQ(got[i][0], in[i] * 5 - 2);
        ASSERT_EQ(got[i][1], got[i - i % CHUNK][1]);
    }
    it = ppool_imap_unordered(p, "slow_first", in, SLOW, sizeof in[0]);
    ASSERT_NOT_NULL(it);
    static char seen[SLOW];
    size_t nseen = 0;
    while ((rc = ppool_iter_next(it, &idx, &b, -1)) != PPOOL_EDONE) {
        ASSERT_OK(rc, p);
        ASSERT_TRUE(idx < SLOW && !seen[idx]);
        seen[idx] = 1;
        nseen++;
        ASSERT_EQ(((const long *)b.data)[0], in[idx] * 5 - 2);
    }
    ppool_iter_free(it);
    ASSERT_EQ(nseen, (size_t)SLOW);

    /* Rank 0 dispatched to the sub-masters only: 4 rows, 16 workers behind them. */
    int behind = 0;
    size_t items = 0, given = 0;
    int rows = sub_masters(stats_of(p), &behind, &items, &given);
    ASSERT_EQ(rows, 4);
    ASSERT_EQ(behind, 16);
    /* three maps, the failed item's result among them, and the slow ones: each item once */
    ASSERT_EQ(items, (size_t)3 * N + 3 * SLOW);
    ASSERT_GT(given, 0);
    printf("test_tree: ok (%d sub-masters, %d workers behind them, %zu items, %zu given back)\n",
           rows, behind, items, given);
    return 0;
}

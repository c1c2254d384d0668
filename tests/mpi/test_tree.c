/* test_tree.c: a hierarchy of masters (PPOOL_HIERARCHY=on PPOOL_NODE_SIZE=4, 17 ranks): rank 0
 * feeds 4 sub-masters only, they feed the other ranks and work too; results, item errors and
 * explicit chunks are those of the flat pool. */
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
static int sub_masters(const char *stats, int *behind_total, size_t *items_total)
{
    int rows = 0;
    const char *line = strstr(stats, "cpuset\n");
    for (line = line ? strchr(line, '\n') : NULL; line && line[1]; line = strchr(line + 1, '\n')) {
        int w, pid, spawns, deaths, behind;
        size_t items, chunks;
        double busy;
        if (sscanf(line + 1, "%d %d %zu %zu %lf %d %d %d", &w, &pid, &items, &chunks, &busy,
                   &spawns, &deaths, &behind) != 8)
            break;
        rows++;
        *behind_total += behind;
        *items_total += items;
    }
    return rows;
}

enum { N = 6000, CHUNK = 5 };
static long in[N], out[N][2];

int main(void)
{
    ASSERT_OK(ppool_register("who", who), NULL);
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

    /* Rank 0 dispatched to the sub-masters only: 4 rows, 16 workers behind them. */
    int behind = 0;
    size_t items = 0;
    int rows = sub_masters(stats_of(p), &behind, &items);
    ASSERT_EQ(rows, 4);
    ASSERT_EQ(behind, 16);
    ASSERT_EQ(items, (size_t)3 * N); /* three maps, the failed item's result among them */
    printf("test_tree: ok (%d sub-masters, %d workers behind them, %zu items)\n", rows, behind,
           items);
    return 0;
}

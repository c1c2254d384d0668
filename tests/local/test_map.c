/* test_map.c: ppool_map, ppool_map_bufs and ppool_apply: results, sizes, errors, chunksize. */
#include "tasks.h"

static ppool *P;

static void map_zero_items(void)
{
    long in = 1, out = 0;
    ASSERT_OK(ppool_map(P, "square", &in, 0, sizeof in, &out, sizeof out), P);
    ASSERT_OK(ppool_map(P, "square", NULL, 0, sizeof in, NULL, sizeof out), P);
    ASSERT_EQ(out, 0);
}

static void map_exact(size_t n)
{
    int *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        in[i] = (int)(i % 40000);
        out[i] = -1;
    }
    ASSERT_OK(ppool_map(P, "square32", in, n, sizeof *in, out, sizeof *out), P);
    for (size_t i = 0; i < n; i++)
        if (out[i] != in[i] * in[i]) H_FAIL("item %zu: %d != %d", i, out[i], in[i] * in[i]);
    free(in);
    free(out);
}

static void map_100k(void)
{
    map_exact(100000);
}

static void map_2m(void)
{
    map_exact(2000000);
}

static void map_bad_input(void)
{
    long in[4] = {1, 2, 3, 4}, out[4];
    ASSERT_EQ(ppool_map(NULL, "square", in, 4, sizeof in[0], out, sizeof out[0]), PPOOL_EINVAL);
    ASSERT_EQ(ppool_map(P, NULL, in, 4, sizeof in[0], out, sizeof out[0]), PPOOL_EINVAL);
    ASSERT_EQ(ppool_map(P, "square", NULL, 4, sizeof in[0], out, sizeof out[0]), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(P), "NULL input");
    ASSERT_EQ(ppool_map(P, "square", in, 4, sizeof in[0], NULL, sizeof out[0]), PPOOL_EINVAL);
    ASSERT_EQ(ppool_map(P, "no_such_fn", in, 4, sizeof in[0], out, sizeof out[0]), PPOOL_ENOFUNC);
    ASSERT_CONTAINS(ppool_errmsg(P), "no_such_fn");
    ASSERT_EQ(ppool_apply(P, "no_such_fn", in, sizeof in[0], NULL), PPOOL_ENOFUNC);
    ASSERT_EQ(ppool_apply(NULL, "square", in, sizeof in[0], NULL), PPOOL_EINVAL);
    ASSERT_EQ(ppool_apply(P, NULL, in, sizeof in[0], NULL), PPOOL_EINVAL);
    ASSERT_EQ(ppool_apply(P, "square", NULL, 8, NULL), PPOOL_EINVAL);
    ppool_buf bin[2] = {{NULL, 3}, {"ab", 2}}, bout[2];
    ASSERT_EQ(ppool_map_bufs(P, "reverse", bin, 2, bout), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(P), "item 0");
    ASSERT_EQ(ppool_map_bufs(P, "reverse", bin, 2, NULL), PPOOL_EINVAL);
    /* still usable */
    ASSERT_OK(ppool_map(P, "square", in, 4, sizeof in[0], out, sizeof out[0]), P);
    ASSERT_EQ(out[3], 16);
}

static void map_task_fail(void)
{
    long in[40], out[40];
    for (int i = 0; i < 40; i++) in[i] = i;
    int rc = ppool_map(P, "fail17", in, 40, sizeof in[0], out, sizeof out[0]);
    ASSERT_EQ(rc, PPOOL_ETASK);
    /* the lowest failed index is reported, with the task's message */
    ASSERT_CONTAINS(ppool_errmsg(P), "item 17");
    ASSERT_CONTAINS(ppool_errmsg(P), "fail17");
    ASSERT_CONTAINS(ppool_errmsg(P), "no multiples of 17 (got 17)");
    for (int i = 0; i < 40; i++)
        if (i % 17) ASSERT_EQ(out[i], i); /* the others are there */
    /* every failed item is listed, lowest first, and its output zeroed */
    size_t idx[4];
    int st[4];
    ASSERT_EQ(ppool_map_failed(P, idx, st, 4), 2);
    ASSERT_EQ(idx[0], 17);
    ASSERT_EQ(idx[1], 34);
    ASSERT_EQ(st[0], PPOOL_ETASK);
    ASSERT_EQ(st[1], PPOOL_ETASK);
    ASSERT_EQ(out[17], 0);
    ASSERT_EQ(out[34], 0);
    ASSERT_EQ(ppool_map_failed(P, idx, NULL, 1), 2); /* cap bounds the list, not the count */
    ASSERT_OK(ppool_map(P, "square", in, 40, sizeof in[0], out, sizeof out[0]), P);
    ASSERT_EQ(out[39], 39 * 39);
    ASSERT_EQ(ppool_map_failed(P, idx, st, 4), 0); /* the last map succeeded */
}

static void map_wrong_size(void)
{
    long in[3] = {1, 2, 3}, out[3];
    ASSERT_EQ(ppool_map(P, "wrongsize", in, 3, sizeof in[0], out, sizeof out[0]), PPOOL_ETASK);
    ASSERT_CONTAINS(ppool_errmsg(P), "item 0");
    ASSERT_CONTAINS(ppool_errmsg(P), "9 bytes");
    ASSERT_OK(ppool_map(P, "square", in, 3, sizeof in[0], out, sizeof out[0]), P);
}

static void map_bufs_variable(void)
{
    enum { N = 300 };
    ppool_buf in[N], out[N];
    char *data[N];
    for (int i = 0; i < N; i++) {
        size_t len = (size_t)(i * 37 % 1000); /* includes 0-byte items */
        data[i] = malloc(len + 1);
        for (size_t k = 0; k < len; k++) data[i][k] = (char)('a' + (i + k) % 26);
        in[i] = (ppool_buf){data[i], len};
    }
    ASSERT_OK(ppool_map_bufs(P, "reverse", in, N, out), P);
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(out[i].len, in[i].len);
        for (size_t k = 0; k < in[i].len; k++)
            ASSERT_EQ(((char *)out[i].data)[k], data[i][in[i].len - 1 - k]);
        ppool_buf_free(&out[i]);
        ASSERT_NULL(out[i].data);
        free(data[i]);
    }
}

static void apply_basic(void)
{
    long x = 12;
    ppool_buf r = {0};
    ASSERT_OK(ppool_apply(P, "square", &x, sizeof x, &r), P);
    ASSERT_EQ(r.len, sizeof(long));
    ASSERT_EQ(*(long *)r.data, 144);
    ppool_buf_free(&r);
    ASSERT_OK(ppool_apply(P, "empty", NULL, 0, &r), P);
    ASSERT_EQ(r.len, 0);
    ASSERT_OK(ppool_apply(P, "square", &x, sizeof x, NULL), P); /* result not wanted */
    long bad = 34;
    ASSERT_EQ(ppool_apply(P, "fail17", &bad, sizeof bad, &r), PPOOL_ETASK);
    ASSERT_CONTAINS(ppool_errmsg(P), "got 34");
    ASSERT_NULL(r.data);
    ppool_buf_free(NULL);
}

/* An explicit chunksize is honoured exactly: aligned blocks run in one process. */
static void map_chunksize(void)
{
    ppool *q = open_pool(2, 10);
    enum { N = 200 };
    long in[N];
    int pid[N];
    for (int i = 0; i < N; i++) in[i] = i;
    ASSERT_OK(ppool_map(q, "getpid", in, N, sizeof in[0], pid, sizeof pid[0]), q);
    int distinct_blocks = 0;
    for (int b = 0; b < N; b += 10) {
        for (int i = b; i < b + 10; i++) ASSERT_EQ(pid[i], pid[b]);
        distinct_blocks += b > 0 && pid[b] != pid[b - 10];
    }
    (void)distinct_blocks; /* which worker gets a block is the scheduler's business */
    {
    }
    ppool_free(q);
}

/* Items reach tasks aligned, whatever their sizes, so tasks may cast them. */
static void aligned_items(void)
{
    enum { N = 100 };
    double in[N][2] = {{0}};
    ASSERT_OK(ppool_map(P, "aligned", in, N, sizeof in[0], NULL, 0), P);
    ppool_buf b[N];
    char data[N * 7];
    for (int i = 0; i < N; i++) b[i] = (ppool_buf){data + i * 7, (size_t)(i % 7)};
    ppool_buf out[N];
    ASSERT_OK(ppool_map_bufs(P, "aligned", b, N, out), P);
    /* large ones of odd sizes too, which travel through the workers' rings */
    enum { M = 64 };
    static char big[M * 70001];
    ppool_buf lb[M], lout[M];
    for (int i = 0; i < M; i++)
        lb[i] = (ppool_buf){big + (size_t)i * 70001, 65537 + (size_t)i * 61};
    ASSERT_OK(ppool_map_bufs(P, "aligned", lb, M, lout), P);
}

/* Registering while a pool is open is refused, naming ppool_open; between
 * pools it works, and a pool opened later knows the name. */
static void register_after_open(void)
{
    ASSERT_EQ(ppool_register("late", t_square), PPOOL_EINVAL);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "ppool_register('late') after ppool_open");
    long x = 3;
    ASSERT_EQ(ppool_apply(P, "late", &x, sizeof x, NULL), PPOOL_ENOFUNC);
    ppool_free(P);
    ASSERT_OK(ppool_register("late", t_square), NULL); /* no pool open now */
    P = open_pool(0, 0);
    ppool_buf r;
    ASSERT_OK(ppool_apply(P, "late", &x, sizeof x, &r), P);
    ASSERT_EQ(*(long *)r.data, 9);
    ppool_buf_free(&r);
}

/* Chunks a pool sent, from its PPOOL_STATS table (printed at ppool_free). */
static size_t chunks_in_stats(const char *table)
{
    size_t total = 0;
    const char *line = strstr(table, "cpuset\n");
    for (line = line ? strchr(line, '\n') : NULL; line && line[1]; line = strchr(line + 1, '\n')) {
        int worker, pid;
        size_t items, chunks;
        if (sscanf(line + 1, " %d %d %zu %zu", &worker, &pid, &items, &chunks) == 4)
            total += chunks;
    }
    return total;
}

/* Runs one call of `kind` over 200 items with a per-call chunk size `c` on a
 * pool whose own chunk size is 25; returns the chunks it sent. */
static size_t chunks_of(int kind, size_t c)
{
    enum { N = 200 };
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.chunksize = 25;
    o.flags = PPOOL_STATS;
    ppool *p;
    ASSERT_OK(ppool_open(&p, &o), NULL);
    static long in[N], out[N];
    static ppool_buf bin[N], bout[N];
    for (int i = 0; i < N; i++) {
        in[i] = i;
        bin[i] = (ppool_buf){&in[i], sizeof in[i]};
    }
    size_t idx, got = 0;
    ppool_iter *it = NULL;
    if (kind == 0)
        ASSERT_OK(ppool_map_chunked(p, "square", in, N, sizeof in[0], out, sizeof out[0], c), p);
    if (kind == 1) ASSERT_OK(ppool_map_bufs_chunked(p, "square", bin, N, bout, c), p);
    if (kind == 2) {
        ppool_async *a =
            ppool_map_async_chunked(p, "square", in, N, sizeof in[0], out, sizeof out[0], c);
        ASSERT_OK(ppool_async_wait(a, -1), p);
        ppool_async_free(a);
    }
    if (kind == 3) it = ppool_imap_chunked(p, "square", in, N, sizeof in[0], c);
    if (kind == 4) it = ppool_imap_unordered_chunked(p, "square", in, N, sizeof in[0], c);
    for (ppool_buf r; it && ppool_iter_next(it, &idx, &r, -1) == 0; got++)
        out[idx] = *(long *)r.data;
    ppool_iter_free(it);
    for (int i = 0; i < N; i++) ASSERT_EQ(kind == 1 ? *(long *)bout[i].data : out[i], (long)i * i);
    for (int i = 0; kind == 1 && i < N; i++) ppool_buf_free(&bout[i]);
    h_capture_begin();
    ppool_free(p);
    char *table = h_capture_end();
    size_t n = chunks_in_stats(table);
    free(table);
    return n;
}

/* A chunk size per call beside the pool's (multiprocessing's chunksize argument). */
static void per_call_chunksize(void)
{
    for (int kind = 0; kind < 5; kind++) {
        ASSERT_EQ(chunks_of(kind, 40), 5);  /* 200 / 40 */
        ASSERT_EQ(chunks_of(kind, 1), 200); /* one item each */
        ASSERT_EQ(chunks_of(kind, 0), 8);   /* the pool's 25 */
    }
}

/* Microsecond blocks travel several to a frame; each stays whole, a failed
 * item fails alone, and PPOOL_STATS counts the blocks asked for. */
static void fine_blocks(void)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.workers = 2;
    o.flags = PPOOL_STATS;
    ppool *q;
    ASSERT_OK(ppool_open(&q, &o), NULL);
    enum { N = 30000, C = 3 };
    static long in[N], out[N];
    static int pid[N];
    for (int i = 0; i < N; i++) in[i] = i;
    ASSERT_OK(ppool_map_chunked(q, "getpid", in, N, sizeof in[0], pid, sizeof pid[0], C), q);
    for (int b = 0; b < N; b += C)
        for (int i = b; i < b + C && i < N; i++) ASSERT_EQ(pid[i], pid[b]);
    ASSERT_EQ(ppool_map_chunked(q, "fail17", in, N, sizeof in[0], out, sizeof out[0], 1),
              PPOOL_ETASK);
    size_t nfail = ppool_map_failed(q, NULL, NULL, 0), want = (N - 1) / 17;
    ASSERT_EQ(nfail, want);
    for (int i = 0; i < N; i++) ASSERT_EQ(out[i], i && i % 17 == 0 ? 0 : (long)i);
    h_capture_begin();
    ppool_free(q);
    char *table = h_capture_end();
    ASSERT_EQ(chunks_in_stats(table), (size_t)(N + C - 1) / C + N); /* 10,000 + 30,000 */
    free(table);
}

int main(void)
{
    tasks_register();
    P = open_pool(0, 0);
    ASSERT_EQ(ppool_size(P), ppool_cpu_count());
    ASSERT_STREQ(ppool_transport(P), "local");
    RUN(map_zero_items);
    RUN(map_100k);
    RUN(map_2m);
    RUN(map_bad_input);
    RUN(map_task_fail);
    RUN(map_wrong_size);
    RUN(map_bufs_variable);
    RUN(apply_basic);
    RUN(map_chunksize);
    RUN(aligned_items);
    RUN(register_after_open);
    RUN(per_call_chunksize);
    RUN(fine_blocks);
    ppool_close(P);
    ASSERT_OK(ppool_join(P), P);
    ppool_free(P);
    ASSERT_TRUE(h_no_children());
    return 0;
}

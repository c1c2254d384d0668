/* test_iter.c: imap order, imap_unordered coverage, failed items, timeouts, and bounded streaming.
 */
#include "tasks.h"

static ppool *P;

static void imap_ordered(void)
{
    enum { N = 20000 };
    static long in[N];
    for (long i = 0; i < N; i++) in[i] = i;
    ppool_iter *it = ppool_imap(P, "square", in, N, sizeof in[0]);
    ASSERT_NOT_NULL(it);
    size_t idx;
    ppool_buf r;
    for (long i = 0; i < N; i++) {
        ASSERT_OK(ppool_iter_next(it, &idx, &r, -1), P);
        ASSERT_EQ(idx, i);
        ASSERT_EQ(*(long *)r.data, i * i);
    }
    ASSERT_EQ(ppool_iter_next(it, &idx, &r, -1), PPOOL_EDONE);
    ASSERT_EQ(ppool_iter_next(it, &idx, &r, 0), PPOOL_EDONE);
    ppool_iter_free(it);
}

static void imap_unordered(void)
{
    enum { N = 5000 };
    static long in[N];
    static char seen[N];
    for (long i = 0; i < N; i++) in[i] = i;
    ppool_iter *it = ppool_imap_unordered(P, "square", in, N, sizeof in[0]);
    size_t idx;
    ppool_buf r;
    int rc, count = 0;
    while ((rc = ppool_iter_next(it, &idx, &r, -1)) != PPOOL_EDONE) {
        ASSERT_OK(rc, P);
        ASSERT_LT(idx, N);
        ASSERT_EQ(seen[idx], 0);
        seen[idx] = 1;
        ASSERT_EQ(*(long *)r.data, (long)idx * (long)idx);
        count++;
    }
    ASSERT_EQ(count, N);
    ppool_iter_free(it);
}

static void failed_items_go_on(void)
{
    long in[60];
    for (long i = 0; i < 60; i++) in[i] = i;
    for (int ordered = 0; ordered < 2; ordered++) {
        ppool_iter *it = ordered ? ppool_imap(P, "fail17", in, 60, sizeof in[0])
                                 : ppool_imap_unordered(P, "fail17", in, 60, sizeof in[0]);
        size_t idx;
        ppool_buf r;
        int rc, ok = 0, failed = 0;
        while ((rc = ppool_iter_next(it, &idx, &r, -1)) != PPOOL_EDONE) {
            if (rc == 0) {
                ok++;
                ASSERT_EQ(*(long *)r.data, (long)idx);
            } else {
                ASSERT_EQ(rc, PPOOL_ETASK);
                ASSERT_EQ(idx % 17, 0);
                ASSERT_NE(idx, 0);
                char want[32];
                snprintf(want, sizeof want, "item %zu", idx);
                ASSERT_CONTAINS(ppool_errmsg(P), want);
                failed++;
            }
        }
        ASSERT_EQ(failed, 3); /* 17, 34, 51 */
        ASSERT_EQ(ok, 57);
        ppool_iter_free(it);
    }
}

static void timeout_and_empty(void)
{
    double secs[2] = {1.0, 0.0}; /* far longer than the 0.01 s timeout */
    ppool_iter *it = ppool_imap(P, "sleep", secs, 2, sizeof secs[0]);
    size_t idx = 99;
    ppool_buf r;
    ASSERT_EQ(ppool_iter_next(it, &idx, &r, 0.01), PPOOL_ETIMEDOUT);
    ASSERT_OK(ppool_iter_next(it, &idx, &r, 30), P);
    ASSERT_EQ(idx, 0);
    ASSERT_OK(ppool_iter_next(it, &idx, &r, 30), P);
    ASSERT_EQ(idx, 1);
    ASSERT_EQ(ppool_iter_next(it, &idx, &r, 30), PPOOL_EDONE);
    ppool_iter_free(it);
    long in[3] = {1, 2, 3};
    it = ppool_imap(P, "empty", in, 3, sizeof in[0]);
    for (int i = 0; i < 3; i++) {
        ASSERT_OK(ppool_iter_next(it, &idx, &r, -1), P);
        ASSERT_EQ(r.len, 0);
    }
    ASSERT_EQ(ppool_iter_next(it, &idx, &r, -1), PPOOL_EDONE);
    ppool_iter_free(it);
    it = ppool_imap(P, "square", in, 0, sizeof in[0]);
    ASSERT_EQ(ppool_iter_next(it, &idx, &r, -1), PPOOL_EDONE);
    ppool_iter_free(it);
    ASSERT_NULL(ppool_imap(P, "square", NULL, 3, sizeof in[0]));
    ASSERT_NULL(ppool_imap(P, "missing", in, 3, sizeof in[0]));
    ASSERT_EQ(ppool_iter_next(NULL, &idx, &r, 0), PPOOL_EINVAL);
    ppool_iter_free(NULL);
}

/* Streaming: a source of 300,000 items is pulled only as far as the window allows. */
typedef struct {
    long next, end, pulled;
    long max_ahead;
    long consumed;
    long item;
} src_state;

static int source(void *user, const void **item, size_t *len)
{
    src_state *s = user;
    if (s->next >= s->end) return 0;
    s->item = s->next++;
    s->pulled++;
    long ahead = s->pulled - __atomic_load_n(&s->consumed, __ATOMIC_SEQ_CST);
    if (ahead > s->max_ahead) s->max_ahead = ahead;
    *item = &s->item;
    *len = sizeof s->item;
    return 1;
}

static void streaming_bounded(void)
{
    for (int ordered = 0; ordered < 2; ordered++) {
        src_state s = {.end = 300000};
        ppool_iter *it = ppool_imap_source(P, "square", source, &s, ordered);
        ASSERT_NOT_NULL(it);
        size_t idx;
        ppool_buf r;
        int rc;
        long sum_ok = 0;
        while ((rc = ppool_iter_next(it, &idx, &r, -1)) != PPOOL_EDONE) {
            ASSERT_OK(rc, P);
            if (ordered) ASSERT_EQ(idx, s.consumed);
            ASSERT_EQ(*(long *)r.data, (long)idx * (long)idx);
            __atomic_add_fetch(&s.consumed, 1, __ATOMIC_SEQ_CST);
            sum_ok += (long)idx;
        }
        ASSERT_EQ(s.consumed, 300000);
        ASSERT_EQ(sum_ok, 300000L * 299999L / 2);
        /* never more than the window (16384) ahead of the reader */
        ASSERT_LE(s.max_ahead, 16384 + 1);
        ppool_iter_free(it);
    }
}

static int bad_source(void *user, const void **item, size_t *len)
{
    long *n = user;
    if (*n == 5) return -42;
    static long v;
    v = (*n)++;
    *item = &v;
    *len = sizeof v;
    return 1;
}

static void source_error(void)
{
    long n = 0;
    ppool_iter *it = ppool_imap_source(P, "square", bad_source, &n, 1);
    size_t idx;
    ppool_buf r;
    for (int i = 0; i < 5; i++) ASSERT_OK(ppool_iter_next(it, &idx, &r, -1), P);
    ASSERT_EQ(ppool_iter_next(it, &idx, &r, -1), -42);
    ASSERT_EQ(idx, 5);
    ASSERT_CONTAINS(ppool_errmsg(P), "source failed");
    ASSERT_EQ(ppool_iter_next(it, &idx, &r, -1), PPOOL_EDONE);
    ppool_iter_free(it);
    ASSERT_NULL(ppool_imap_source(P, "square", NULL, NULL, 1));
}

/* Freeing an iterator half-way leaves the pool usable. */
static void free_early(void)
{
    enum { N = 100000 };
    static long in[N];
    ppool_iter *it = ppool_imap(P, "square", in, N, sizeof in[0]);
    size_t idx;
    ppool_buf r;
    ASSERT_OK(ppool_iter_next(it, &idx, &r, -1), P);
    ppool_iter_free(it);
    check_usable(P);
}

int main(void)
{
    tasks_register();
    P = open_pool(2, 0);
    RUN(imap_ordered);
    RUN(imap_unordered);
    RUN(failed_items_go_on);
    RUN(timeout_and_empty);
    RUN(streaming_bounded);
    RUN(source_error);
    RUN(free_early);
    ppool_free(P);
    ASSERT_TRUE(h_no_children());
    return 0;
}

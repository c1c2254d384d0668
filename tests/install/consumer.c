/* consumer.c: a user's program built against the installed ppool: the contract end to end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ppool.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "consumer: %s failed at line %d: %s\n", #c, __LINE__,                  \
                    ppool_errmsg(p));                                                              \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static int cube(ppool_task *t, const void *arg, size_t len)
{
    long x = *(const long *)arg;
    if (x < 0) return ppool_task_fail(t, "negative %ld", x);
    long r = x * x * x;
    return ppool_task_return(t, &r, sizeof r);
}

static int upper(ppool_task *t, const void *arg, size_t len)
{
    char *s = malloc(len + 1);
    for (size_t i = 0; i < len; i++) s[i] = (char)(((const char *)arg)[i] & ~0x20);
    int rc = ppool_task_return(t, s, len);
    free(s);
    return rc;
}

int main(void)
{
    ppool *p = NULL;
    CHECK(ppool_register("cube", cube) == 0);
    CHECK(ppool_register("upper", upper) == 0);
    CHECK(ppool_register("cube", cube) != 0);
    CHECK(ppool_open(&p, NULL) == 0);
    CHECK(ppool_size(p) == ppool_cpu_count());
    enum { N = 100000 };
    long *in = malloc(N * sizeof *in), *out = malloc(N * sizeof *out);
    for (long i = 0; i < N; i++) in[i] = i % 1000;
    CHECK(ppool_map(p, "cube", in, N, sizeof *in, out, sizeof *out) == 0);
    for (long i = 0; i < N; i++) CHECK(out[i] == in[i] * in[i] * in[i]);
    in[77] = -1;
    CHECK(ppool_map(p, "cube", in, N, sizeof *in, out, sizeof *out) == PPOOL_ETASK);
    CHECK(strstr(ppool_errmsg(p), "77") != NULL);
    CHECK(ppool_map(p, "nope", in, N, sizeof *in, out, sizeof *out) == PPOOL_ENOFUNC);
    in[77] = 77;
    ppool_buf words[2] = {{"hello", 5}, {"", 0}}, up[2];
    CHECK(ppool_map_bufs(p, "upper", words, 2, up) == 0);
    CHECK(up[0].len == 5 && memcmp(up[0].data, "HELLO", 5) == 0 && up[1].len == 0);
    ppool_buf_free(&up[0]);
    ppool_buf_free(&up[1]);
    long x = 4;
    ppool_async *a = ppool_apply_async(p, "cube", &x, sizeof x);
    ppool_buf r;
    CHECK(ppool_async_get(a, &r, -1) == 0 && *(long *)r.data == 64);
    ppool_async_free(a);
    ppool_iter *it = ppool_imap(p, "cube", in, 100, sizeof *in);
    size_t idx, n = 0;
    int rc;
    while ((rc = ppool_iter_next(it, &idx, &r, -1)) != PPOOL_EDONE) {
        CHECK(rc == 0 && idx == n && *(long *)r.data == in[n] * in[n] * in[n]);
        n++;
    }
    CHECK(n == 100);
    ppool_iter_free(it);
    CHECK(ppool_close(p) == 0);
    CHECK(ppool_apply(p, "cube", &x, sizeof x, NULL) == PPOOL_ECLOSED);
    CHECK(ppool_join(p) == 0);
    ppool_free(p);
    free(in);
    free(out);
    printf("consumer: ppool %s ok\n", ppool_version());
    return 0;
}

/* test_threads.c: four threads mapping on one pool at once all get exact results. */
#include <pthread.h>

#include "tasks.h"

static ppool *P;

static void *mapper(void *arg)
{
    long k = (long)arg;
    size_t n = 50000 + (size_t)k * 7919;
    long *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < n; i++) in[i] = (long)i * (k + 1) + round;
        int rc = ppool_map(P, "square", in, n, sizeof *in, out, sizeof *out);
        if (rc) H_FAIL("thread %ld: %s: %s", k, ppool_strerror(rc), ppool_errmsg(P));
        for (size_t i = 0; i < n; i++)
            if (out[i] != in[i] * in[i]) H_FAIL("thread %ld item %zu: %ld", k, i, out[i]);
    }
    free(in);
    free(out);
    return NULL;
}

int main(void)
{
    tasks_register();
    P = open_pool(2, 0);
    pthread_t t[4];
    for (long k = 0; k < 4; k++) ASSERT_EQ(pthread_create(&t[k], NULL, mapper, (void *)k), 0);
    for (int k = 0; k < 4; k++) pthread_join(t[k], NULL);
    ppool_free(P);
    ASSERT_TRUE(h_no_children());
    return 0;
}

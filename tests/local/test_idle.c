/* test_idle.c: an idle pool's master does not spin: its CPU time over 2 s idle stays near zero. */
#include <sys/resource.h>

#include "tasks.h"

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

int main(void)
{
    tasks_register();
    ppool *p = open_pool(2, 0);
    long x = 3;
    ASSERT_OK(ppool_apply(p, "square", &x, sizeof x, NULL), p);
    double c0 = cpu_seconds();
    sleep_s(2.0);
    double used = cpu_seconds() - c0;
    fprintf(stderr, "master CPU while idle for 2 s: %.4f s\n", used);
    /* A spinning dispatcher would burn ~2 s; a blocked one burns ~0. CPU time, not wall time. */
    ASSERT_LT(used * 1000, 100);
    ppool_free(p);
    return 0;
}

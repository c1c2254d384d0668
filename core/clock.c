/* clock.c: the one clock the scheduler reads: CLOCK_MONOTONIC, or the transport's (MPI_Wtime). */
#include <math.h>
#include <time.h>

#include "ppool_impl.h"

static double (*source)(void); /* the transport's clock, once one was given; NULL: monotonic */
static double offset;          /* source() + offset continues the monotonic clock's count */

static double monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double ppool__now(void)
{
    double (*f)(void) = __atomic_load_n(&source, __ATOMIC_ACQUIRE);
    double t = f ? f() : -1;
    return t >= 0 ? t + offset : monotonic();
}

void ppool__clock_from(double (*fn)(void))
{
    static int taken;
    if (!fn || __atomic_exchange_n(&taken, 1, __ATOMIC_ACQ_REL)) return; /* the first one stays */
    double t = fn();
    if (!(t >= 0) || !isfinite(t)) return;
    offset = monotonic() - t; /* deadlines already counted stay right */
    __atomic_store_n(&source, fn, __ATOMIC_RELEASE);
}

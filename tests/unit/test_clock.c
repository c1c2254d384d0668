/* test_clock.c: the scheduler's one clock: monotonic until a transport gives its own, which then
 * drives it from where the monotonic count stood; the first one given stays. */
#include <unistd.h>

#include "harness.h"
#include "ppool_impl.h"

static double fake_t = 1000.0; /* a transport's clock, moved by hand */
static double fake(void)
{
    return fake_t;
}

static double other(void)
{
    return 5.0;
}

int main(void)
{
    double a = ppool__now();
    usleep(2000);
    double b = ppool__now();
    ASSERT_TRUE(b - a >= 0.002 && b - a < 1.0); /* monotonic seconds */
    ppool__clock_from(NULL);                    /* nothing given: nothing changes */
    ppool__clock_from(fake);
    double c = ppool__now();
    ASSERT_TRUE(c >= b && c - b < 1.0); /* the count goes on from where it stood */
    fake_t += 5.0;
    ASSERT_TRUE(ppool__now() - c > 4.999 && ppool__now() - c < 5.001); /* the source drives it */
    usleep(2000);
    ASSERT_TRUE(ppool__now() - c < 5.001); /* ... alone */
    ppool__clock_from(other);              /* the first one stays */
    ASSERT_TRUE(ppool__now() - c > 4.999 && ppool__now() - c < 5.001);
    fake_t = -1; /* it cannot tell (MPI finalised): the monotonic clock answers */
    double d = ppool__now();
    ASSERT_TRUE(d >= b && d - b < 1.0);
    return 0;
}

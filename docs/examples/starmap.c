/* starmap.c: the guide's starmap: ppool_map over argument structs, with the seeds' compute_power.
 */
#include <math.h>
#include <stdio.h>

#include <ppool.h>

typedef struct {
    double base;
    int exponent;
} power_args; /* one item: what Python's starmap would unpack */

static int compute_power(ppool_task *t, const void *arg, size_t len)
{
    const power_args *a = arg;
    if (len != sizeof *a) return ppool_task_fail(t, "expected power_args, got %zu bytes", len);
    double r = pow(a->base, a->exponent);
    return ppool_task_return(t, &r, sizeof r);
}

int main(void)
{
    ppool_register("compute_power", compute_power);
    ppool *pool;
    int rc = ppool_open(&pool, NULL);
    if (rc) return rc == PPOOL_WORKER ? 0 : 1; /* under mpirun, a rank that served the pool */
    power_args in[6];
    double out[6];
    for (int i = 0; i < 6; i++) in[i] = (power_args){i + 1.0, i % 3 + 1};
    rc = ppool_map(pool, "compute_power", in, 6, sizeof in[0], out, sizeof out[0]);
    for (int i = 0; rc == 0 && i < 6; i++)
        printf("%g ** %d = %g\n", in[i].base, in[i].exponent, out[i]);
    ppool_free(pool);
    return rc == 0 ? 0 : 1;
}

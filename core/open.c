/* open.c: ppool_open: a pool, flat or the top of a hierarchy of masters (sub-masters serve in
 * here). */
#include "ppool_impl.h"

int ppool__open_top(ppool **pool, const ppool_opts *opts, const char *transport, const void *where)
{
    ppool__worker_ops relay = {0};
    if (ppool__relay_new(&relay)) return ppool__fail(NULL, PPOOL_ENOMEM, "out of memory");
    int rc = ppool__open_on(pool, opts, transport, where, &relay);
    ppool__relay_free(&relay);
    return rc;
}

int ppool_open(ppool **pool, const ppool_opts *opts)
{
    return ppool__open_top(pool, opts, NULL, NULL);
}

/* pool_size.c: opens a default pool and prints "pool size N transport T" (ppoolrun's tests). */
#include <stdio.h>

#include <ppool.h>

int main(void)
{
    ppool *p;
    int rc = ppool_open(&p, NULL);
    if (rc == PPOOL_WORKER) return 0; /* an MPI rank that served the master's pool */
    if (rc < 0) {
        fprintf(stderr, "pool_size: ppool_open: %s: %s\n", ppool_strerror(rc), ppool_errmsg(NULL));
        return 1;
    }
    printf("pool size %d transport %s\n", ppool_size(p), ppool_transport(p));
    ppool_free(p);
    return 0;
}

/* ppoolrun.c: reports what a default pool would be here (cores, workers, binding); launch modes
 * come later. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ppool.h>

int main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: ppoolrun [--info]\n"
               "  --info   print the ppool version, the usable cores and the default pool here\n"
               "Environment: PPOOL_WORKERS, PPOOL_TRANSPORT, PPOOL_BIND, PPOOL_CHUNKSIZE,\n"
               "PPOOL_PROGRESS, PPOOL_DEBUG (see docs/guide.md).\n");
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--info") != 0) {
        fprintf(stderr, "ppoolrun: unknown argument '%s' (try --help)\n", argv[1]);
        return 2;
    }
    printf("ppool %s\nusable cores: %d\n", ppool_version(), ppool_cpu_count());
    ppool_opts o = PPOOL_OPTS_INIT;
    o.flags = PPOOL_STATS; /* the stats table lists each worker's pid and cpuset */
    ppool *p;
    int rc = ppool_open(&p, &o);
    if (rc) {
        fprintf(stderr, "ppoolrun: ppool_open: %s: %s\n", ppool_strerror(rc), ppool_errmsg(NULL));
        return 1;
    }
    printf("default pool: %d workers, transport %s\n", ppool_size(p), ppool_transport(p));
    fflush(stdout);
    ppool_free(p);
    return 0;
}

/* transport.c: the table of transports built into this library, and the choice for "auto". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"

extern const ppool__transport ppool__local_transport;
#ifdef PPOOL_HAVE_MPI
extern const ppool__transport ppool__mpi_transport;
#endif

/* In the order "auto" asks them; local, always usable, comes last. */
static const ppool__transport *const table[] = {
#ifdef PPOOL_HAVE_MPI
    &ppool__mpi_transport,
#endif
    &ppool__local_transport,
};
#define NTABLE (sizeof table / sizeof table[0])

const ppool__transport *ppool__transport_find(const char *name)
{
    int any = strcmp(name, "auto") == 0;
    for (size_t i = 0; i < NTABLE; i++)
        if (any ? table[i]->detect() : strcmp(table[i]->name, name) == 0) return table[i];
    return NULL;
}

int ppool__transport_serve_spawned(const ppool__worker_ops *wops, size_t max_frame)
{
    for (size_t i = 0; i < NTABLE; i++) {
        const ppool__transport *t = table[i]->spawn ? table[i]->spawn : table[i];
        int rc = t->spawned ? t->spawned(wops, max_frame) : 0;
        if (rc) return rc;
    }
    return 0;
}

/* A launcher's count of processes in the environment, 0 if none says; *var
 * names the variable. */
static long env_size(const char **var)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE",
                                       "SLURM_STEP_NUM_TASKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        *var = vars[i];
        if (v && *v) return strtol(v, NULL, 10);
    }
    return 0;
}

int ppool__launched(char *var, size_t len)
{
    const char *name;
    long size = env_size(&name);
    if (!size) {
        static const char *const ranks[] = {"PMIX_RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK"};
        for (size_t i = 0; i < sizeof ranks / sizeof ranks[0] && !size; i++)
            if (getenv(ranks[i])) {
                name = ranks[i];
                size = -1; /* a rank, of an unknown count */
            }
    }
    if (size == 0 || size == 1) return 0;
    if (var) snprintf(var, len, "%s=%s", name, getenv(name));
    return 1;
}

const char *ppool__transports_built(void)
{
#ifdef PPOOL_HAVE_MPI
    return "local, mpi";
#else
    return "local";
#endif
}

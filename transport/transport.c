/* transport.c: the table of transports built into this library, and the choice for "auto". */
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

const char *ppool__transports_built(void)
{
#ifdef PPOOL_HAVE_MPI
    return "local, mpi";
#else
    return "local";
#endif
}

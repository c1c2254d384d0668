/* tree.c: the MPI transport's hierarchy of masters: which ranks form a group, and its
 * communicators. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_impl.h"
#include "ppool.h"

/* PPOOL_HIERARCHY: 0 off, 1 on, 2 auto (unset); -1 when malformed. */
static int tree_mode(void)
{
    const char *v = getenv("PPOOL_HIERARCHY");
    if (!v || !*v || strcmp(v, "auto") == 0) return 2;
    if (strcmp(v, "on") == 0) return 1;
    if (strcmp(v, "off") == 0) return 0;
    return -1;
}

/* PPOOL_NODE_SIZE: 0 unset, K >= 2, -1 when malformed. */
static long node_size(void)
{
    const char *v = getenv("PPOOL_NODE_SIZE");
    if (!v || !*v) return 0;
    char *end;
    long k = strtol(v, &end, 10);
    return *end || k < 2 || k > 1000000 ? -1 : k;
}

/* Every rank's group key (rank 0: -1): ranks 1.. taken k at a time, or, with
 * k = 0, by shared-memory node (the key is the node's lowest rank but 0). */
static int group_keys(MPI_Comm comm, int rank, int size, long k, int *keys)
{
    if (k) {
        for (int r = 0; r < size; r++) keys[r] = r == 0 ? -1 : (int)((r - 1) / k);
        return 0;
    }
    MPI_Comm node;
    if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) != MPI_SUCCESS)
        return PPOOL_ETRANSPORT;
    int me = rank == 0 ? INT_MAX : rank, low = INT_MAX;
    int rc = MPI_Allreduce(&me, &low, 1, MPI_INT, MPI_MIN, node);
    MPI_Comm_free(&node);
    if (rank == 0) low = -1;
    if (rc == MPI_SUCCESS) rc = MPI_Allgather(&low, 1, MPI_INT, keys, 1, MPI_INT, comm);
    return rc == MPI_SUCCESS ? 0 : PPOOL_ETRANSPORT;
}

/* A rank alone in its group joins its neighbour's (a sub-master needs a
 * worker); keys are below size. Fills lead[key] with each group's lowest
 * rank (its sub-master) and returns how many groups there are. O(size):
 * under a simulator every rank runs it in one process. */
static int fold_singles(int size, int *keys, int *lead)
{
    int *count = calloc((size_t)size, sizeof *count), groups = 0;
    if (!count) return -1;
    for (int r = 1; r < size; r++) count[keys[r]]++;
    for (int r = 1; r < size && size > 2; r++)
        if (count[keys[r]] == 1) {
            count[keys[r]]--;
            keys[r] = keys[r > 1 ? r - 1 : r + 1];
            count[keys[r]]++;
        }
    for (int r = 0; r < size; r++) lead[r] = 0;
    for (int r = 1; r < size; r++)
        if (!lead[keys[r]]) {
            lead[keys[r]] = r;
            groups++;
        }
    free(count);
    return groups;
}

/* Whether to build one: on, or auto with enough ranks on several nodes. */
static int wanted(int mode, int size, int groups)
{
    if (size < 3) return 0; /* a sub-master and a worker, besides rank 0 */
    return mode == 1 || (mode == 2 && size - 1 >= PPOOL__MPI_TREE_AUTO && groups >= 2);
}

int ppool__mpi_tree_build(MPI_Comm comm, ppool__mpi_tree *t, char *err, size_t errlen)
{
    *t = (ppool__mpi_tree){.role = PPOOL__TREE_FLAT, .up = MPI_COMM_NULL, .group = MPI_COMM_NULL};
    int mode = tree_mode();
    long k = node_size();
    if (mode < 0 || k < 0) {
        snprintf(err, errlen, "%s='%s' is not %s", mode < 0 ? "PPOOL_HIERARCHY" : "PPOOL_NODE_SIZE",
                 getenv(mode < 0 ? "PPOOL_HIERARCHY" : "PPOOL_NODE_SIZE"),
                 mode < 0 ? "on, off or auto" : "a count of 2 or more ranks");
        return PPOOL_EINVAL;
    }
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (mode == 0 || size < 3 || (mode == 2 && size - 1 < PPOOL__MPI_TREE_AUTO)) return 0;
    int *keys = malloc((size_t)size * sizeof *keys), *lead = malloc((size_t)size * sizeof *lead);
    int rc = keys && lead ? group_keys(comm, rank, size, k, keys) : PPOOL_ENOMEM;
    int groups = rc ? 0 : fold_singles(size, keys, lead);
    int key = rank > 0 && groups > 0 ? keys[rank] : 0;
    int first = rank > 0 && groups > 0 && lead[key] == rank;
    free(keys);
    free(lead);
    if (rc == 0 && groups < 0) rc = PPOOL_ENOMEM;
    if (rc || !wanted(mode, size, groups)) {
        if (rc)
            snprintf(err, errlen, "%s",
                     rc == PPOOL_ENOMEM ? "out of memory for the groups"
                                        : "could not find which ranks share a node");
        return rc;
    }
    /* Collective on comm, in the same order on every rank. */
    if (MPI_Comm_split(comm, rank == 0 ? MPI_UNDEFINED : key, rank, &t->group) != MPI_SUCCESS ||
        MPI_Comm_split(comm, rank == 0 || first ? 0 : MPI_UNDEFINED, rank, &t->up) != MPI_SUCCESS) {
        ppool__mpi_tree_free(t);
        snprintf(err, errlen, "MPI_Comm_split for the hierarchy of masters failed");
        return PPOOL_ETRANSPORT;
    }
    t->role = rank == 0 ? PPOOL__TREE_TOP : (first ? PPOOL__TREE_SUB : PPOOL__TREE_LEAF);
    t->groups = groups;
    return 0;
}

void ppool__mpi_tree_free(ppool__mpi_tree *t)
{
    if (t->up != MPI_COMM_NULL) MPI_Comm_free(&t->up);
    if (t->group != MPI_COMM_NULL) MPI_Comm_free(&t->group);
}

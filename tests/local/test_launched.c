/* test_launched.c: a ppool built without the MPI transport, started by a launcher of several
 * processes: "auto" is refused naming the variable seen (not one whole pool per rank), "local"
 * works. */
#include "tasks.h"

/* Opens a default pool with `transport` under the environment set; returns the code. */
static int open_default(const char *transport)
{
    ppool_opts o = PPOOL_OPTS_INIT;
    o.transport = transport;
    ppool *p = NULL;
    int rc = ppool_open(&p, &o);
    if (rc == 0) {
        check_usable(p);
        ppool_free(p);
    }
    return rc;
}

static void clear_launcher(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE",
                                       "OMPI_COMM_WORLD_RANK",
                                       "PMIX_RANK",
                                       "PMIX_SIZE",
                                       "PMI_SIZE",
                                       "PMI_RANK",
                                       "SLURM_STEP_NUM_TASKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) unsetenv(vars[i]);
}

/* In-process: each launcher's variables, as mpirun and srun set them. */
static void refused_under_launchers(void)
{
    clear_launcher();
    unsetenv("PPOOL_TRANSPORT");
    ASSERT_OK(open_default(NULL), NULL); /* no launcher: a local pool */
    setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
    ASSERT_EQ(open_default(NULL), PPOOL_ETRANSPORT);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "OMPI_COMM_WORLD_SIZE=3");
    ASSERT_CONTAINS(ppool_errmsg(NULL), "without the MPI transport");
    ASSERT_CONTAINS(ppool_errmsg(NULL), "transport = \"local\"");
    ASSERT_EQ(open_default("auto"), PPOOL_ETRANSPORT);
    ASSERT_OK(open_default("local"), NULL); /* one pool per rank, on purpose */
    setenv("PPOOL_TRANSPORT", "local", 1);
    ASSERT_OK(open_default(NULL), NULL);
    unsetenv("PPOOL_TRANSPORT");
    clear_launcher();
    setenv("PMIX_RANK", "0", 1); /* srun --mpi=pmix: no OMPI_* variables, no count */
    ASSERT_EQ(open_default(NULL), PPOOL_ETRANSPORT);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "PMIX_RANK=0");
    clear_launcher();
    setenv("SLURM_STEP_NUM_TASKS", "4", 1);
    ASSERT_EQ(open_default(NULL), PPOOL_ETRANSPORT);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "SLURM_STEP_NUM_TASKS=4");
    setenv("SLURM_STEP_NUM_TASKS", "1", 1); /* srun -n 1: one process, its own pool */
    ASSERT_OK(open_default(NULL), NULL);
    clear_launcher();
}

/* Under a real launcher (argument "launched"): refused on every rank, then a local pool each. */
static void refused_under_mpirun(void)
{
    ASSERT_EQ(open_default(NULL), PPOOL_ETRANSPORT);
    ASSERT_CONTAINS(ppool_errmsg(NULL), "OMPI_COMM_WORLD_SIZE=");
    ASSERT_OK(open_default("local"), NULL);
    printf("test_launched: refused and local on rank %s\n", getenv("OMPI_COMM_WORLD_RANK"));
}

int main(int argc, char **argv)
{
    tasks_register();
    if (argc > 1 && strcmp(argv[1], "launched") == 0)
        RUN(refused_under_mpirun);
    else
        RUN(refused_under_launchers);
    return 0;
}

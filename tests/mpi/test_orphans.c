/* test_orphans.c: mpirun SIGKILLed mid-map: every rank notices its launcher is gone and ends itself
 * (exit 70), the master napping and the workers busy in a task alike; none is left behind. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tasks.h"

#define RANKS       3
#define ORPHAN_EXIT 70 /* PPOOL__MPI_ORPHAN_EXIT */

/* A rank: a pool over MPI, then a map of long tasks that the kill interrupts. */
static int rank_main(void)
{
    tasks_register();
    ppool_opts o = PPOOL_OPTS_INIT;
    o.transport = "mpi";
    ppool *p;
    int rc = ppool_open(&p, &o);
    if (rc == PPOOL_WORKER) return 0;
    ASSERT_OK(rc, NULL);
    enum { N = 40 };
    double in[N];
    int out[N];
    for (int i = 0; i < N; i++) in[i] = 0.25;
    printf("started\n");
    fflush(stdout);
    ppool_map(p, "sleep", in, N, sizeof in[0], out, sizeof out[0]); /* ~5 s: killed before */
    ppool_free(p);
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The harness: subreaper of mpirun's ranks; argv: mpirun, its -n flag, more flags... */
int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--harness") != 0) return rank_main();
    if (argc < 4) SKIP("usage: test_orphans --harness MPIEXEC NPFLAG [PREFLAGS...]");
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    char ranks[8], self[4096];
    snprintf(ranks, sizeof ranks, "%d", RANKS);
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    ASSERT_TRUE(sl > 0);
    self[sl] = 0;
    char **args = calloc((size_t)argc + 4, sizeof *args);
    int k = 0;
    args[k++] = argv[2];
    args[k++] = argv[3];
    args[k++] = ranks;
    for (int i = 4; i < argc; i++) args[k++] = argv[i];
    args[k++] = self;
    pid_t launcher = fork();
    if (launcher == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 1);
        execvp(args[0], args);
        _exit(127);
    }
    close(pipefd[1]);
    free(args);
    char buf[64] = "";
    ssize_t got = read(pipefd[0], buf, sizeof buf - 1); /* "started": the map runs */
    ASSERT_TRUE(got > 0 && strstr(buf, "started") != NULL);
    usleep(300 * 1000); /* workers are inside a task, the master waits */
    ASSERT_EQ(kill(launcher, SIGKILL), 0);
    int orphans = 0, others = 0, st;
    double until = now() + 20;
    for (;;) {
        pid_t w = waitpid(-1, &st, WNOHANG);
        if (w < 0 && errno == ECHILD) break; /* nobody left */
        if (w == launcher) {
            ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        } else if (w > 0) {
            if (WIFEXITED(st) && WEXITSTATUS(st) == ORPHAN_EXIT) {
                orphans++;
            } else {
                others++;
                printf("pid %d: %s %d\n", (int)w, WIFEXITED(st) ? "exit" : "signal",
                       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            }
        } else if (now() > until) {
            H_FAIL("processes still alive 20 s after mpirun was killed");
        } else {
            usleep(10 * 1000);
        }
    }
    printf("mpirun killed: %d ranks ended themselves (exit %d), %d otherwise\n", orphans,
           ORPHAN_EXIT, others);
    ASSERT_EQ(orphans, RANKS); /* before Open MPI's own detection took them */
    printf("test_orphans: ok\n");
    return 0;
}

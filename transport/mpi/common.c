/* common.c: what both sides of the MPI transport share: the clock, the naps, control words, frames.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpi_impl.h"
#include "ppool.h"

double ppool__mpi_now(void)
{
    return MPI_Wtime();
}

double ppool__mpi_clock(void)
{
    int up = 0, down = 0;
    MPI_Initialized(&up);
    if (up) MPI_Finalized(&down);
    return up && !down ? MPI_Wtime() : -1;
}

static pid_t launcher; /* this rank's parent when MPI came up under a launcher; 0: not watched */

void ppool__mpi_watch_launcher(void)
{
    if (!launcher && ppool__launched(NULL, 0)) launcher = getppid();
}

void ppool__mpi_check_launcher(void)
{
    if (launcher <= 1 || getppid() == launcher) return;
    char line[160];
    int n = snprintf(line, sizeof line,
                     "ppool: pid %d: its MPI launcher (pid %d) is gone; the job was killed, "
                     "this rank ends\n",
                     (int)getpid(), (int)launcher);
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL); /* stderr may be a pipe to the dead launcher */
    if (n > 0 && write(STDERR_FILENO, line, strlen(line)) < 0) {
        /* stderr went with the launcher: nothing more to say */
    }
    _exit(PPOOL__MPI_ORPHAN_EXIT);
}

double ppool__mpi_nap(double idle, double cap)
{
    if (idle < PPOOL__MPI_SPIN) return 0;
    double s = idle / 8;
    if (s < 20e-6) s = 20e-6;
    double most = idle < PPOOL__MPI_DEEP_IDLE ? PPOOL__MPI_MAX_SLEEP : PPOOL__MPI_DEEP_SLEEP;
    if (s > most) s = most;
    if (cap >= 0 && s > cap) s = cap;
    return s;
}

void ppool__mpi_backoff(double idle, double cap, int fd)
{
    double s = ppool__mpi_nap(idle, cap);
#ifdef PPOOL_SMPI /* ppoll and sched_yield are not simulated: naps are smpi_usleep */
    if (s <= 0) {
        smpi_usleep(PPOOL__SMPI_SPIN_NAP_US);
        return;
    }
#endif
    if (s <= 0 && idle < PPOOL__MPI_SPIN) {
        sched_yield(); /* spin politely: other ranks may share this core */
        return;
    }
    ppool__mpi_check_launcher();
#ifdef PPOOL_SMPI /* at least 1 us: a nap of 0 would let simulated time stand still */
    smpi_usleep(s < 1e-6 ? 1 : (useconds_t)(s * 1e6 + 0.5));
    return;
#endif
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(s * 1e9)};
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    ppoll(&pf, fd >= 0 ? 1 : 0, &ts, NULL);
}

double ppool__mpi_lost_after(void)
{
    const char *v = getenv("PPOOL_LOST_AFTER");
    double x = v && *v ? strtod(v, NULL) : 0;
    return x > 0 ? x : 10.0;
}

int ppool__mpi_ctl(MPI_Comm comm, int rank, int word)
{
    return MPI_Send(&word, 1, MPI_INT, rank, PPOOL__TAG_CTL, comm) == MPI_SUCCESS
               ? 0
               : PPOOL_ETRANSPORT;
}

/* Receives a matched frame into a malloc'd buffer; PPOOL_EPROTO when it is
 * over max (the message is received and dropped). */
int ppool__mpi_take(MPI_Message *msg, MPI_Status *st, size_t max, void **frame, size_t *len)
{
    int count = 0;
    MPI_Get_count(st, MPI_BYTE, &count);
    int over = count < 0 || (size_t)count > max;
    char *buf = malloc(count > 0 && !over ? (size_t)count : 1);
    if (!buf) return PPOOL_ENOMEM;
    if (over) {
        char dummy;
        MPI_Mrecv(&dummy, 0, MPI_BYTE, msg, MPI_STATUS_IGNORE); /* truncates: dropped */
        free(buf);
        return PPOOL_EPROTO;
    }
    if (MPI_Mrecv(buf, count, MPI_BYTE, msg, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        free(buf);
        return PPOOL_ETRANSPORT;
    }
    *frame = buf;
    *len = (size_t)count;
    return 0;
}
